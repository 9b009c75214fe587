"""The target editor's writes (etl/targets.py), checked against a catalog handed in.

The catalog here is literal (etl never imports indicators): `copertura` at every level,
`quota` a percentage computed for the ambito only. The territory is the project's
reference data (sub-ambiti SA1 to SA6), loaded by the warehouse itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from core import warehouse
from etl import targets
from etl.targets import remove_target, save_plan_rows, set_target
from tests.conftest import write_csv


@dataclass(frozen=True)
class Entry:
    livelli: tuple[str, ...]
    unita: str


CATALOG = {
    "copertura": Entry(("comune", "sub_ambito", "ambito"), "per 100 residenti"),
    "quota": Entry(("ambito",), "%"),
}


@pytest.fixture
def con(tmp_path: Path):
    with warehouse.writer(tmp_path / "w.duckdb") as c:
        yield c


def _rows(con):
    return con.execute("SELECT indicatore, territorio, anno, tipo, valore FROM obiettivi ORDER BY ALL").fetchall()


def test_set_target_writes_and_replaces(con):
    set_target(con, "copertura", "SA1", 2027, "TARGET", 2.5, catalog=CATALOG)
    set_target(con, "copertura", "SA1", 2027, "target", 3, catalog=CATALOG)  # same key: replaced
    set_target(con, "copertura", "AMBITO", 2024, "BASELINE", 1.5, catalog=CATALOG)
    set_target(con, "quota", "AMBITO", 2025, "TARGET", 100, catalog=CATALOG)  # 100% is allowed
    assert _rows(con) == [
        ("copertura", "AMBITO", 2024, "BASELINE", 1.5),
        ("copertura", "SA1", 2027, "TARGET", 3.0),
        ("quota", "AMBITO", 2025, "TARGET", 100.0),
    ]
    assert remove_target(con, "copertura", "SA1", 2027, "TARGET", catalog=CATALOG) == 1
    assert remove_target(con, "copertura", "SA1", 2027, "TARGET", catalog=CATALOG) == 0
    assert len(_rows(con)) == 2


def test_a_comune_of_the_ambito_can_have_its_own_target(con):
    """Contract §6: obiettivi.territorio may be a comune's ISTAT code (its own target)."""
    set_target(con, "copertura", "019035", 2024, "BASELINE", 1.2, catalog=CATALOG)
    set_target(con, "copertura", "019035", 2027, "TARGET", 1.8, catalog=CATALOG)
    assert _rows(con) == [("copertura", "019035", 2024, "BASELINE", 1.2), ("copertura", "019035", 2027, "TARGET", 1.8)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("inesistente", "SA1", 2027, "TARGET", 1.0), "Indicatore sconosciuto: «inesistente»"),
        (("copertura", "SA9", 2027, "TARGET", 1.0), r"Territorio sconosciuto: «SA9».*\(SA1, SA2, SA3, SA4, SA5, SA6\)"),
        (("copertura", "019036", 2027, "TARGET", 1.0), "Territorio sconosciuto: «019036».*codice ISTAT"),  # Cremona
        (("quota", "019035", 2027, "TARGET", 1.0), "non è calcolato a livello di comune"),
        (("quota", "SA1", 2027, "TARGET", 1.0), "non è calcolato a livello di sub-ambito"),
        (("copertura", "SA1", 2023, "BASELINE", 1.0), "Anno non valido: 2023.*dal 2024 al 2027"),
        (("copertura", "SA1", 2028, "TARGET", 1.0), "Anno non valido"),
        (("copertura", "SA1", True, "TARGET", 1.0), "Anno non valido"),
        (("copertura", "SA1", 2025, "BASELINE", 1.0), "baseline si riferisce solo al 2024, non al 2025"),
        (("copertura", "SA1", 2024, "TARGET", 1.0), "anni del piano 2025, 2026, 2027, non il 2024"),
        (("copertura", "SA1", 2027, "OBIETTIVO", 1.0), "Tipo non valido: «OBIETTIVO»"),
        (("copertura", "SA1", 2027, "TARGET", float("nan")), "Valore non valido"),
        (("copertura", "SA1", 2027, "TARGET", float("inf")), "Valore non valido"),
        (("copertura", "SA1", 2027, "TARGET", "12"), "Valore non valido"),
        (("copertura", "SA1", 2027, "TARGET", None), "Valore non valido: vuoto"),
        (("copertura", "SA1", 2027, "TARGET", -1.0), "negativi"),
        (("quota", "AMBITO", 2027, "TARGET", 100.5), "percentuale non può superare 100"),
    ],
)
def test_set_target_rejects_with_the_reason_and_writes_nothing(con, args, message):
    with pytest.raises(ValueError, match=message):
        set_target(con, *args, catalog=CATALOG)
    assert _rows(con) == []


def test_the_catalog_handed_in_decides_which_indicators_exist(con):
    with pytest.raises(ValueError, match="Indicatore sconosciuto: «copertura»"):
        set_target(con, "copertura", "AMBITO", 2027, "TARGET", 1.0, catalog={"quota": CATALOG["quota"]})
    assert targets.check_target(con, "copertura", "AMBITO", 2027, "target", None, catalog=CATALOG) == "TARGET"


def test_save_plan_rows_writes_all_or_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    edited = pl.DataFrame(
        {"anno": [2024, 2025, 2027], "tipo": ["BASELINE", "TARGET", "TARGET"], "valore": ["1,5", None, "1.234,5"]}
    )
    assert save_plan_rows(db, "copertura", "SA2", edited, catalog=CATALOG) == []
    bad = pl.DataFrame({"anno": [2024, 2027], "tipo": ["BASELINE", "TARGET"], "valore": ["2", "dodici"]})
    errors = save_plan_rows(db, "copertura", "SA2", bad, catalog=CATALOG)
    assert errors == ["2027 TARGET: Valore non valido: «dodici». Serve un numero (per esempio 12,5)."]
    cleared = pl.DataFrame({"anno": [2027], "tipo": ["TARGET"], "valore": [""]})  # empty: the target is removed
    assert save_plan_rows(db, "copertura", "SA2", cleared, catalog=CATALOG) == []
    with warehouse.reader(db) as con:
        assert _rows(con) == [("copertura", "SA2", 2024, "BASELINE", 1.5)]


OBIETTIVI_HEADER = ["indicatore", "territorio", "anno", "tipo", "valore"]


def test_the_loader_checks_the_indicator_of_an_obiettivi_file_against_the_ids_handed_in(db_path, tmp_path):
    """The same rule for a file as for the editor: an indicator outside the catalog is rejected with its reason."""
    from etl.loader import load_files
    from etl.validate import MSG_INDICATORE

    f = write_csv(
        tmp_path / "o.csv",
        OBIETTIVI_HEADER,
        [["copertura", "SA1", "2027", "TARGET", "2"], ["inesistente", "SA1", "2027", "TARGET", "2"]],
    )
    [res] = load_files([f], table="obiettivi", db=db_path, indicator_ids=CATALOG)
    assert (res.rows_loaded, res.rows_rejected) == (1, 1)
    with warehouse.reader(db_path) as con:
        assert con.execute("SELECT colonna, motivo FROM scarti").fetchall() == [("indicatore", MSG_INDICATORE)]
        assert _rows(con) == [("copertura", "SA1", 2027, "TARGET", 2.0)]


def test_the_cli_hands_the_catalog_ids_to_the_loader(tmp_path):
    """`python -m etl load` (a composition root) checks an obiettivi file against the real catalog."""
    import subprocess
    import sys

    from core.settings import REPO_ROOT

    db = tmp_path / "w.duckdb"
    f = write_csv(
        tmp_path / "o.csv",
        OBIETTIVI_HEADER,
        [["anziani_sad_copertura_65", "SA1", "2027", "TARGET", "2"], ["copertura", "SA1", "2027", "TARGET", "2"]],
    )
    r = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(f), "--db", str(db), "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert '"rows_loaded": 1' in r.stdout and '"rows_rejected": 1' in r.stdout, r.stdout + r.stderr
    with warehouse.reader(db) as con:
        assert _rows(con) == [("anziani_sad_copertura_65", "SA1", 2027, "TARGET", 2.0)]


def test_an_obiettivi_file_may_name_a_comune_by_istat_code_or_name(db_path, tmp_path):
    """A comune's own target in a file: «19035» and «Crema» are stored as 019035; a comune outside the
    ambito (Cremona) is rejected with the reason."""
    from etl.loader import load_files
    from etl.validate import MSG_TERRITORIO

    f = write_csv(
        tmp_path / "o.csv",
        OBIETTIVI_HEADER,
        [
            ["copertura", "19035", "2024", "BASELINE", "1,2"],
            ["copertura", "Crema", "2027", "TARGET", "1,8"],
            ["copertura", "Cremona", "2027", "TARGET", "2"],
            ["copertura", "sa1", "2027", "TARGET", "2"],
        ],
    )
    [res] = load_files([f], table="obiettivi", db=db_path, indicator_ids=CATALOG)
    assert (res.rows_loaded, res.rows_rejected) == (3, 1)
    with warehouse.reader(db_path) as con:
        assert con.execute("SELECT colonna, motivo, valore FROM scarti").fetchall() == [
            ("territorio", MSG_TERRITORIO, "Cremona")
        ]
        assert _rows(con) == [
            ("copertura", "019035", 2024, "BASELINE", 1.2),
            ("copertura", "019035", 2027, "TARGET", 1.8),
            ("copertura", "SA1", 2027, "TARGET", 2.0),
        ]
