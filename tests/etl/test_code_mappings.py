"""Code mappings and the waiting queue: a record coded by another system is loaded when its code is
mapped, held (stored pseudonymised, counted nowhere) when it is not, and released into the indicators
when the mapping arrives, by file or by the dashboard's form, in one transaction."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from core.settings import DATA_DIR, REPO_ROOT
from etl import held, validate
from etl.codifiche import MappingRefused, remove_mapping, save_mapping
from etl.loader import load_files
from tests.conftest import kill_9_when, make_cf, write_csv

HEADER = [
    "id_prestazione",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "sistema_codifica",
    "codice_intervento",
    "data_inizio",
]
CODIFICHE_HEADER = ["sistema", "codice", "intervento", "descrizione"]
# persons aged 65+ in 2025 (born 1940-1950): they count in anziani_sad_copertura_65 once their SAD is known
OLD = [make_cf(letters, 1940 + i, 3, 10 + i) for i, letters in enumerate(("BNCGNN", "VRDLCU", "RSSMRA", "GLLPLA"))]


COUNTS = "SELECT (SELECT count(*) FROM prestazioni), (SELECT count(*) FROM prestazioni_in_attesa)"


def row(id_, cf, sistema="", codice="", intervento="", comune="Crema", inizio="2025-03-01") -> list[str]:
    return [id_, cf, comune, intervento, sistema, codice, inizio]


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env or os.environ.copy(),
        timeout=300,
    )


def _query(db_path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _mappings(tmp_path, rows, name="codifiche.csv"):
    return write_csv(tmp_path / name, CODIFICHE_HEADER, rows)


def _sad_65_persons(db_path, territorio="019035", anno=2025) -> float:
    """The numerator of anziani_sad_copertura_65 (persons 65+ with SAD) for Crema in 2025, as the engine says."""
    from core import warehouse
    from indicators import api

    with warehouse.reader(db_path) as con:
        table = api.indicator_table(con, audience="ufficio")
    cell = table.filter(
        (pl.col("indicatore") == "anziani_sad_copertura_65")
        & (pl.col("territorio") == territorio)
        & (pl.col("anno") == anno)
    )
    return cell["numeratore"][0] if cell.height else 0.0


def test_a_mapped_an_unmapped_and_a_bad_row_are_loaded_held_and_rejected(tmp_path, db_path):
    _mappings(tmp_path, [["CARTELLA", "DOM-01", "SAD", "assistenza domiciliare"]])
    out = _cli("load", "--json", str(tmp_path / "codifiche.csv"), "--db", str(db_path))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["table"] == "codifiche"  # inferred from the columns
    rows = [
        row("1", OLD[0], "cartella", "dom-01"),  # mapped (codes compared upper-cased)
        row("2", OLD[1], "CARTELLA", "ALT-01"),  # no mapping yet: held
        row("3", OLD[2], "CARTELLA", "ALT-01", comune="Atlantide"),  # unmapped but bad: rejected, not held
    ]
    f = write_csv(tmp_path / "p.csv", HEADER, rows)
    out = _cli("load", "--json", str(f), "--db", str(db_path))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {k: result[k] for k in ("status", "rows_read", "rows_loaded", "rows_rejected", "rows_held")} == {
        "status": "loaded",
        "rows_read": 3,
        "rows_loaded": 1,
        "rows_rejected": 1,
        "rows_held": 1,
    }
    assert _query(db_path, "SELECT id_prestazione, intervento, area FROM prestazioni") == [("1", "SAD", "anziani")]
    [(rid, persona, codice, riga)] = _query(
        db_path, "SELECT id_prestazione, persona_id, codice_intervento, riga FROM prestazioni_in_attesa"
    )
    assert (rid, codice, riga, len(persona)) == ("2", "ALT-01", 3, 64)  # pseudonymised like a loaded row
    assert _query(db_path, "SELECT riga, colonna, motivo FROM scarti") == [
        (4, "comune_residenza", validate.MSG_COMUNE_UNKNOWN)
    ]
    status = json.loads(_cli("status", "--json", "--db", str(db_path)).stdout)
    assert status["in_attesa"] == 1 and status["tables"]["codifiche"] == 1
    [batch] = [b for b in status["batches"] if b["tabella"] == "prestazioni"]
    assert batch["rows_held"] == 1


def test_mapping_the_held_code_by_file_releases_exactly_those_rows_into_the_indicators(tmp_path, db_path):
    rows = [
        row("1", OLD[0], intervento="SAD"),
        row("2", OLD[1], "CARTELLA", "DOM-ANZ"),
        row("3", OLD[2], "CARTELLA", "DOM-ANZ"),
        row("4", OLD[3], "CARTELLA", "ALTRO-99"),  # another code: stays held
    ]
    [res] = load_files([write_csv(tmp_path / "p.csv", HEADER, rows)], db=db_path)
    assert (res.rows_loaded, res.rows_held) == (1, 3)
    assert _sad_65_persons(db_path) == 1  # held rows count in no indicator
    [res] = load_files([_mappings(tmp_path, [["cartella", "dom-anz", "sad", ""]])], db=db_path)
    assert (res.status, res.rows_loaded, res.rows_released, res.rows_released_rejected) == ("loaded", 1, 2, 0)
    assert "ora caricate 2, scartate 0" in res.summary_it()
    assert sorted(_query(db_path, "SELECT id_prestazione, intervento FROM prestazioni")) == [
        ("1", "SAD"),
        ("2", "SAD"),
        ("3", "SAD"),
    ]
    assert _query(db_path, "SELECT id_prestazione FROM prestazioni_in_attesa") == [("4",)]
    assert _sad_65_persons(db_path) == 3
    assert json.loads(_cli("status", "--json", "--db", str(db_path)).stdout)["in_attesa"] == 1


def test_mapping_from_the_form_releases_in_the_same_way(tmp_path, db_path):
    load_files(
        [
            write_csv(
                tmp_path / "p.csv", HEADER, [row("1", OLD[0], "CARTELLA", "X1"), row("2", OLD[1], "CARTELLA", "X1")]
            )
        ],
        db=db_path,
    )
    result = save_mapping(" cartella ", "x1", "SAD", "Assistenza domiciliare", db=db_path, user="ufficio@example.it")
    assert (result.status, result.rows_released, result.rows_released_rejected) == ("loaded", 2, 0)
    assert _query(db_path, "SELECT sistema, codice, intervento, descrizione FROM codifiche") == [
        ("CARTELLA", "X1", "SAD", "Assistenza domiciliare")
    ]
    assert _query(db_path, "SELECT count(*) FROM prestazioni_in_attesa") == [(0,)]
    assert _sad_65_persons(db_path) == 2
    [(tabella, utente, read, loaded)] = _query(
        db_path, "SELECT tabella, utente, rows_read, rows_loaded FROM caricamenti WHERE tabella = 'codifiche'"
    )
    assert (tabella, utente, read, loaded) == ("codifiche", "ufficio@example.it", 1, 1)
    # a later record with the same code is loaded directly; removing the mapping keeps what was loaded
    remove_mapping("CARTELLA", "X1", db=db_path)
    [res] = load_files([write_csv(tmp_path / "q.csv", HEADER, [row("3", OLD[2], "CARTELLA", "X1")])], db=db_path)
    assert (res.rows_loaded, res.rows_held) == (0, 1)
    assert _query(db_path, "SELECT count(*) FROM prestazioni") == [(2,)]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("CARTELLA", "X1", "NON_ESISTE"), validate.MSG_INTERVENTO),
        (("CARTELLA", "", "SAD"), validate.MSG_REQUIRED),
        (("CARTELLA", "RSSMRA85T10D142X", "SAD"), validate.MSG_CODE_PERSON),
    ],
)
def test_the_form_refuses_a_bad_mapping_and_changes_nothing(tmp_path, db_path, args, reason):
    load_files([write_csv(tmp_path / "p.csv", HEADER, [row("1", OLD[0], "CARTELLA", "X1")])], db=db_path)
    with pytest.raises(MappingRefused) as refused:
        save_mapping(*args, db=db_path)
    assert reason in str(refused.value)
    assert _query(db_path, "SELECT count(*) FROM codifiche") == [(0,)]
    assert _query(db_path, "SELECT count(*) FROM prestazioni_in_attesa") == [(1,)]


def test_a_held_row_whose_comune_left_the_ambito_is_rejected_at_release(tmp_path, db_path, monkeypatch):
    load_files(
        [
            write_csv(
                tmp_path / "p.csv",
                HEADER,
                [row("1", OLD[0], "CARTELLA", "X1", comune="Dovera"), row("2", OLD[1], "CARTELLA", "X1")],
            )
        ],
        db=db_path,
    )
    # the ambito is configuration: a new version of it without Dovera (019041)
    ambito = tmp_path / "ambito"
    shutil.copytree(DATA_DIR / "ambito", ambito)
    for name in ("comuni.csv", "sub_ambiti.csv"):
        lines = (ambito / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (ambito / name).write_text("".join(x for x in lines if not x.startswith(("019041", "19041"))), "utf-8")
    monkeypatch.setenv("PDZ_AMBITO_DIR", str(ambito))
    [res] = load_files([_mappings(tmp_path, [["CARTELLA", "X1", "SAD", ""]])], db=db_path)
    assert (res.rows_released, res.rows_released_rejected) == (1, 1)
    assert _query(db_path, "SELECT id_prestazione FROM prestazioni") == [("2",)]
    [(batch, file, riga, colonna, motivo)] = _query(db_path, "SELECT batch_id, file, riga, colonna, motivo FROM scarti")
    assert (batch, file, riga, colonna, motivo) == (res.batch_id, "p.csv", 2, "comune_residenza", held.MSG_COMUNE_LEFT)
    assert _query(db_path, "SELECT count(*) FROM prestazioni_in_attesa") == [(0,)]  # nothing lost, nothing left


def test_a_newer_version_of_a_record_replaces_the_one_waiting_and_a_released_one_replaces_the_loaded(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", HEADER, [row("1", OLD[0], "CARTELLA", "X1")])], db=db_path)
    [res] = load_files([write_csv(tmp_path / "b.csv", HEADER, [row("1", OLD[0], intervento="SAD")])], db=db_path)
    assert res.rows_loaded == 1
    assert _query(db_path, "SELECT count(*) FROM prestazioni_in_attesa") == [(0,)]  # superseded, not released later
    # the other way round: a loaded record, then a newer version of it waiting for its code
    load_files(
        [write_csv(tmp_path / "c.csv", HEADER, [row("1", OLD[0], "CARTELLA", "Y2", inizio="2025-04-01")])], db=db_path
    )
    assert _query(db_path, "SELECT intervento, data_inizio::VARCHAR FROM prestazioni") == [("SAD", "2025-03-01")]
    save_mapping("CARTELLA", "Y2", "PASTI_DOMICILIO", db=db_path)
    assert _query(db_path, "SELECT intervento, data_inizio::VARCHAR FROM prestazioni") == [
        ("PASTI_DOMICILIO", "2025-04-01")
    ]


def test_coded_columns_checked_row_by_row(tmp_path, db_path):
    rows = [
        row("1", OLD[0], "CARTELLA", ""),  # a system without a code
        row("2", OLD[1], "", "X1"),  # a code without its system
        row("3", OLD[2]),  # neither an intervento nor a code
        row("4", OLD[3], "CARTELLA", "X1", intervento="NON_ESISTE"),  # an intervento, wrong: the code does not save it
        row("5", make_cf("NRIGPP", 1960), "CARTELLA", "X1", intervento="SAD"),  # intervento given: it wins
    ]
    [res] = load_files([write_csv(tmp_path / "p.csv", HEADER, rows)], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected, res.rows_held) == (5, 1, 4, 0)
    assert _query(db_path, "SELECT riga, colonna, motivo FROM scarti ORDER BY riga") == [
        (2, "codice_intervento", validate.MSG_CODE_MISSING),
        (3, "sistema_codifica", validate.MSG_SYSTEM_MISSING),
        (4, "intervento", validate.MSG_INTERVENTO_MISSING),
        (5, "intervento", validate.MSG_INTERVENTO),
    ]


def test_a_file_with_neither_intervento_nor_codes_is_refused_whole(tmp_path, db_path):
    f = write_csv(
        tmp_path / "p.csv",
        ["id_prestazione", "codice_fiscale", "comune_residenza", "data_inizio"],
        [["1", OLD[0], "Crema", "2025-03-01"]],
    )
    [res] = load_files([f], db=db_path)
    assert res.status == "failed"
    assert "intervento oppure sistema_codifica e codice_intervento" in res.error


def test_a_codice_intervento_column_without_its_system_still_means_the_catalogue_code(tmp_path, db_path):
    f = write_csv(
        tmp_path / "p.csv",
        ["id_prestazione", "codice_fiscale", "comune_residenza", "Codice intervento", "data_inizio"],
        [["1", OLD[0], "Crema", "SAD", "2025-03-01"]],
    )
    [res] = load_files([f], db=db_path)
    assert (res.status, res.rows_loaded, res.rows_held) == ("loaded", 1, 0)
    assert _query(db_path, "SELECT intervento FROM prestazioni") == [("SAD",)]


def test_a_codifiche_file_is_checked_like_any_other(tmp_path, db_path):
    f = _mappings(
        tmp_path,
        [
            ["CARTELLA", "DOM-01", "SAD", "ok"],
            ["CARTELLA", "DOM-02", "NON_ESISTE", "intervento sconosciuto"],
            ["CARTELLA", "DOM-03", "TIROCINIO", "chiave ripetuta"],
            ["cartella", "dom-03", "SAD", "chiave ripetuta (maiuscole e minuscole non contano)"],
            ["", "PAS-04", "SAD", "sistema mancante"],
        ],
    )
    [res] = load_files([f], db=db_path)
    assert (res.table, res.rows_read, res.rows_loaded, res.rows_rejected) == ("codifiche", 5, 1, 4)
    assert _query(db_path, "SELECT sistema, codice, intervento FROM codifiche") == [("CARTELLA", "DOM-01", "SAD")]


def _data(db_path) -> dict:
    """The data a release changes, sorted (the load history has its own rules for interrupted loads)."""
    tables = ("prestazioni", "prestazioni_in_attesa", "codifiche", "scarti")
    return {t: sorted(map(repr, _query(db_path, f"SELECT * FROM {t}"))) for t in tables}


def _killed_mid_transaction(command: list[str], db_path) -> None:
    env = {**os.environ, "PDZ_TEST_PAUSE_IN_TRANSACTION": "60", "PDZ_DB": str(db_path)}
    proc = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    # the writer says when its transaction holds the mapping and the released rows
    kill_9_when(proc, "PDZ_IN_TRANSACTION")


@pytest.mark.parametrize("how", ["file", "form"])
def test_kill_9_during_the_release_leaves_the_old_state(tmp_path, db_path, how):
    people = [make_cf("BNCGNN", 1940 + i % 50, 1 + i % 12, 1 + i % 28) for i in range(2000)]
    rows = [row(str(i), cf, "CARTELLA", "X1") for i, cf in enumerate(people)]
    [res] = load_files([write_csv(tmp_path / "p.csv", HEADER, rows)], db=db_path)
    assert res.rows_held == 2000
    before = _data(db_path)
    if how == "file":
        command = [sys.executable, "-m", "etl", "load", str(_mappings(tmp_path, [["CARTELLA", "X1", "SAD", ""]]))]
    else:
        code = "from etl.codifiche import save_mapping; save_mapping('CARTELLA', 'X1', 'SAD')"
        command = [sys.executable, "-c", code]
    _killed_mid_transaction(command, db_path)
    assert _data(db_path) == before  # opening replays the WAL: nothing of the killed release survives
    result = save_mapping("CARTELLA", "X1", "SAD", db=db_path)  # and the release works afterwards
    assert result.rows_released == 2000
    assert _query(db_path, COUNTS) == [(2000, 0)]
