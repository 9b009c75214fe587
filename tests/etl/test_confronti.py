"""Outside comparisons (issue 15, item 4): the `confronti` table, loaded from a file like the others,
rejected row by row with Italian reasons, read apart and never in the ambito's own numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.settings import REPO_ROOT
from etl.loader import load_files
from indicators import comparisons
from indicators.catalog import indicator_ids
from tests.conftest import PRESTAZIONI_HEADER, make_cf, prestazione, write_csv

HEADER = ["indicatore", "territorio", "anno", "valore", "fonte", "nota"]
SAD = "anziani_sad_copertura_65"
EXAMPLE = REPO_ROOT / "docs" / "esempi" / "confronti.csv"


def etl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def real_warehouse(tmp_path: Path) -> Path:
    """A scratch real warehouse (`etl init`): the demo warehouse refuses real loads."""
    db = tmp_path / "reale.duckdb"
    r = etl("init", "--db", str(db))
    assert r.returncode == 0, r.stderr
    return db


def stored(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_confronti_file_is_recognised_loaded_and_bad_rows_rejected_with_italian_reasons(tmp_path):
    db = real_warehouse(tmp_path)
    rows = [
        [SAD, "Provincia di Cremona", "2022", "2,4", "ISTAT, tavola X", ""],  # 2: Italian decimal
        [SAD, "Lombardia", "2022", "1.9", "ISTAT, tavola X", "definizione ISTAT"],  # 3: English decimal
        ["giovani_adm_minori_1000", "Italia", "2021", "1.234,5", "ISTAT", ""],  # 4: thousands and decimals
        ["indicatore_inventato", "Italia", "2022", "1", "ISTAT", ""],  # 5
        [SAD, "Italia", "22", "1", "ISTAT", ""],  # 6
        [SAD, "Italia", "2020", "uno virgola due", "ISTAT", ""],  # 7
        [SAD, "Italia", "2019", "1", "", ""],  # 8
        [SAD, "AMBITO", "2022", "1", "ISTAT", ""],  # 9
        [SAD, "SA2", "2022", "1", "ISTAT", ""],  # 10
        [SAD, "Crema", "2022", "1", "ISTAT", ""],  # 11: a comune of the ambito
        [SAD, "019035", "2022", "1", "ISTAT", ""],  # 12: the same, by ISTAT code
        [SAD, "", "2022", "1", "ISTAT", ""],  # 13
        [SAD, "Italia", "2018", "-3", "ISTAT", ""],  # 14
        [SAD, "Cremona", "2022", "3", "ISTAT", ""],  # 15: a comune outside the ambito is an outside territory
    ]
    path = write_csv(tmp_path / "confronti_istat.csv", HEADER, rows, sep=";")
    r = etl("load", str(path), "--db", str(db), "--json")  # no --table: inferred from the headers
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["table"], out["status"], out["rows_read"], out["rows_loaded"], out["rows_rejected"]) == (
        "confronti",
        "loaded",
        14,
        4,
        10,
    )
    reasons = stored(db, "SELECT riga, colonna, motivo FROM scarti ORDER BY riga")
    own = (
        "territorio dell'ambito: i valori dell'ambito, dei sub-ambiti e dei comuni sono calcolati dai dati caricati; "
        "nei confronti vanno territori esterni (es. Provincia di Cremona, Lombardia, Italia)"
    )
    assert reasons == [
        (5, "indicatore", "indicatore sconosciuto (non presente nel catalogo degli indicatori)"),
        (6, "anno", "anno non valido: indicare l'anno a quattro cifre (da 1990 a 2100)"),
        (7, "valore", "numero non valido (esempi accettati: 1234,5 1.234,5 1234.5)"),
        (8, "fonte", "valore obbligatorio mancante"),
        (9, "territorio", own),
        (10, "territorio", own),
        (11, "territorio", own),
        (12, "territorio", own),
        (13, "territorio", "valore obbligatorio mancante"),
        (14, "valore", "valore negativo non ammesso"),
    ]
    loaded = stored(db, "SELECT indicatore, territorio, anno, valore, fonte, nota FROM confronti ORDER BY rowid")
    assert loaded == [
        (SAD, "Provincia di Cremona", 2022, 2.4, "ISTAT, tavola X", None),
        (SAD, "Lombardia", 2022, 1.9, "ISTAT, tavola X", "definizione ISTAT"),
        ("giovani_adm_minori_1000", "Italia", 2021, 1234.5, "ISTAT", None),
        (SAD, "Cremona", 2022, 3.0, "ISTAT", None),
    ]
    # a new file with the same key replaces the value (the office corrects a figure)
    again = write_csv(tmp_path / "correzione.csv", HEADER, [[SAD, "Lombardia", "2022", "2,0", "ISTAT, tavola Y", ""]])
    r = etl("load", str(again), "--db", str(db), "--json")
    assert json.loads(r.stdout)["rows_loaded"] == 1
    sql = f"SELECT valore, fonte FROM confronti WHERE territorio = 'Lombardia' AND indicatore = '{SAD}'"
    assert stored(db, sql) == [(2.0, "ISTAT, tavola Y")]


def test_the_contract_example_file_loads_whole_and_says_it_is_an_example(tmp_path):
    db = real_warehouse(tmp_path)
    r = etl("load", str(EXAMPLE), "--db", str(db), "--json")
    out = json.loads(r.stdout)
    assert out["table"] == "confronti" and out["rows_rejected"] == 0 and out["rows_loaded"] == out["rows_read"] >= 3
    rows = stored(db, "SELECT fonte, nota, territorio FROM confronti")
    assert {f for f, _, _ in rows} == {"esempio — sostituire con il dato ufficiale"}
    assert all(n.startswith("VALORE DI ESEMPIO") for _, n, _ in rows)
    assert {"Provincia di Cremona", "Lombardia", "Italia"} <= {t for _, _, t in rows}


def test_comparisons_are_not_in_compute_output(tmp_path):
    """The tidy indicator table (and with it disclosure, targets and status) is the same with or without them."""
    db = real_warehouse(tmp_path)
    records = [prestazione(str(i), cf=make_cf(year=1940 + i, letters="BNCLRA"), comune="019035") for i in range(6)]
    assert etl("load", str(write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, records)), "--db", str(db)).returncode == 0

    def compute(*extra: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "indicators", "compute", "--db", str(db), "--format", "json", *extra],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    before = compute(), compute("--public")
    path = write_csv(
        tmp_path / "c.csv",
        HEADER,
        [[SAD, "Lombardia", "2025", "987,6", "ISTAT", ""], [SAD, "Italia", "2025", "876,5", "ISTAT", ""]],
    )
    assert json.loads(etl("load", str(path), "--db", str(db), "--json").stdout)["rows_loaded"] == 2
    after = compute(), compute("--public")
    assert after == before
    rows = json.loads(after[0])
    assert rows and not [r for r in rows if r["territorio"] in ("Lombardia", "Italia") or r["valore"] in (987.6, 876.5)]


def test_unknown_indicator_is_checked_only_against_the_catalog_handed_in(tmp_path, db_path):
    rows = [[SAD, "Italia", "2022", "1", "ISTAT", ""], ["non_nel_catalogo", "Italia", "2022", "1", "ISTAT", ""]]
    path = write_csv(tmp_path / "c.csv", HEADER, rows)
    (result,) = load_files([path], db=db_path, indicator_ids=indicator_ids())
    assert (result.table, result.rows_loaded, result.rows_rejected) == ("confronti", 1, 1)


# --- reading them apart: the latest value per territory, beside the ambito's -------------------------


def outside_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=comparisons.SCHEMA, orient="row")


OUTSIDE = outside_frame(
    [
        (SAD, "Provincia di Cremona", 2021, 2.0, "ISTAT", None),
        (SAD, "Provincia di Cremona", 2022, 2.5, "ISTAT", None),
        (SAD, "Lombardia", 2022, 1.76, "ISTAT", "utenti su 65+"),
        (SAD, "Italia", 2026, 9.0, "ISTAT", None),  # later than the year shown: left out
        ("giovani_adm_minori_1000", "Italia", 2022, 4.0, "INPS", None),
    ]
)


def test_latest_takes_each_territorys_newest_value_up_to_the_year_in_load_order():
    got = comparisons.latest(OUTSIDE, SAD, 2025)
    assert got.select("territorio", "anno", "valore").rows() == [
        ("Provincia di Cremona", 2022, 2.5),
        ("Lombardia", 2022, 1.76),
    ]
    earlier = comparisons.latest(OUTSIDE, SAD, 2021)
    assert earlier.select("territorio", "anno").rows() == [("Provincia di Cremona", 2021)]
    assert comparisons.latest(OUTSIDE, "lavoro_tirocini_assunzione", 2025).is_empty()


def test_beside_puts_the_own_values_first_with_suppression_then_the_outside_ones_with_source():
    table = pl.DataFrame(
        {
            "indicatore": [SAD, SAD, SAD],
            "territorio": ["AMBITO", "SA2", "AMBITO"],
            "anno": [2025, 2025, 2024],
            "valore": [3.24, None, 1.0],
            "soppresso": [False, True, False],
            "parziale": [True, False, False],
        }
    )
    shown = comparisons.beside(
        OUTSIDE, table, SAD, "per 100 residenti 65+", 2025, [("SA2", "Sub-ambito SA2"), ("AMBITO", "Ambito Cremasco")]
    )
    assert shown.rows() == [
        ("Sub-ambito SA2", "2025", "n.p.", comparisons.OWN_SOURCE),
        ("Ambito Cremasco", "2025 (da inizio anno)", "3,2 per 100 residenti 65+", comparisons.OWN_SOURCE),
        ("Provincia di Cremona", "2022", "2,5 per 100 residenti 65+", "ISTAT"),
        ("Lombardia", "2022", "1,8 per 100 residenti 65+", "ISTAT — utenti su 65+"),
    ]
    # no comparison loaded for the indicator: nothing (the own values are shown elsewhere)
    assert comparisons.beside(OUTSIDE, table, "lavoro_tirocini_assunzione", "%", 2025, [("AMBITO", "A")]).is_empty()


def test_note_text_names_values_years_and_sources():
    note = comparisons.note_text(OUTSIDE, SAD, "per 100 residenti 65+", 2025)
    assert note == (
        "Confronto con altri territori, in per 100 residenti 65+ (valori di altre fonti, non calcolati da questo "
        "strumento): Provincia di Cremona 2,5 (2022); Lombardia 1,8 (2022). Fonte: ISTAT."
    )
    assert comparisons.note_text(OUTSIDE, "lavoro_tirocini_assunzione", "%", 2025) is None


def test_a_warehouse_older_than_the_table_has_no_comparisons():
    con = duckdb.connect(":memory:")
    try:
        assert comparisons.outside_values(con).is_empty()
    finally:
        con.close()


@pytest.mark.parametrize("value", ["1,5", "1.5", "1.500,0"])
def test_valore_in_italian_or_english_format(value, tmp_path, db_path):
    path = write_csv(tmp_path / "c.csv", HEADER, [[SAD, "Italia", "2022", value, "ISTAT", ""]], sep=";")
    (result,) = load_files([path], db=db_path, indicator_ids=indicator_ids())
    assert result.rows_rejected == 0
    expected = {"1,5": 1.5, "1.5": 1.5, "1.500,0": 1500.0}[value]
    assert stored(db_path, "SELECT valore FROM confronti") == [(expected,)]
