"""No person identifier is stored anywhere, whatever column or text it arrives in (DATA_CONTRACT §4b).

Hostile files put a codice fiscale, an 11-digit provisional codice fiscale and an STP code in every
column of every table (the shifted column is the classic case), in file names, in headers and in
what is typed at the login; then every text column of every table is scanned.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from core import redact
from core.settings import REPO_ROOT
from etl import audit
from etl.loader import load_files
from etl.queries import rejected_rows
from tests.conftest import PRESTAZIONI_HEADER, make_cf, prestazione, write_csv

CF = make_cf("BNCGNN", 1950, 1, 2)  # a well-formed codice fiscale
CF_SPACED = f"{CF[:6]} {CF[6:11]} {CF[11:15]} {CF[15]}".lower()  # as typed by hand
PROVISIONAL = "12345678903"  # 11 digits, check digit 3: odd places 1+3+5+7+9 = 25, even doubled 4+8+3+7+0 = 22
STP = "STP0301234567890"  # STP + 13 digits
HOSTILE = [CF, CF_SPACED, PROVISIONAL, STP]
LONG = "x" * 1_000_000


PSEUDONYM = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # pseudonyms, hashes and tokens: hex only


def _every_text_value(db_path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
            "AND table_schema = 'main'"
        ).fetchall()
        return [
            (table, column, value)
            for table, column in cols
            for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()
        ]
    finally:
        con.close()


HEADER = [*PRESTAZIONI_HEADER, "fonte"]


def _row(id_: str, **kwargs) -> list[str]:
    return [*prestazione(id_, **kwargs), "cartella_sociale"]


def _hostile_prestazioni(tmp_path):
    """Each identifier in each of the 12 columns in turn (the row is rejected or the value masked), plus
    good rows: 2 + 48 + 4 rows; loaded: the 2 good ones, and per identifier `id_nucleo` (pseudonymised) and
    `fonte` (masked), and in `codice_fiscale` the 4 identifiers, all of an accepted kind (two codici fiscali,
    a provisional one, an STP code: etl/identifiers.py): 14; rejected 40."""
    rows = [_row("ok1"), _row("ok2", ore="3")]
    n = 0
    for code in HOSTILE:
        for i in range(len(HEADER)):
            row = _row(f"h{n}")
            row[i] = code
            rows.append(row)
            n += 1
    shifted = _row("shift")  # a lost separator: every value one column to the left
    rows.append([shifted[0], *shifted[2:], ""])
    rows.append([CF, "019035", "SAD", "", "2025-03-01", "", "", "", "", "", "", ""])  # no id: all shift right
    rows.append(_row("lungo", esito=LONG))  # a 1,000,000-character value
    rows.append(_row("lungo_cf", cf=LONG))
    return write_csv(tmp_path / f"{CF}.csv", HEADER, rows)  # the file name itself is a codice fiscale


def _hostile_others(tmp_path):
    sedi = write_csv(
        tmp_path / f"sedi {PROVISIONAL}.csv",
        ["id_sede", "nome", "tipo", "comune", "indirizzo", "sub_ambito"],
        [
            ["S1", f"Sportello {CF}", "SPOKE", "Crema", f"Via Roma 1, tel. {PROVISIONAL}", "SA1"],
            ["S2", f"Sportello {STP}", "HUB", CF, CF_SPACED, "SA1"],
            [STP, "Sportello", "HUB", "Crema", "", PROVISIONAL],
            [CF_SPACED, "Sportello", "SPOKE", "Crema", "", ""],
            [PROVISIONAL, "Sportello", "SPOKE", "Crema", "", ""],
        ],
    )
    operatori = write_csv(
        tmp_path / f"operatori_{STP}.csv",
        ["id_operatore", "profilo", "sub_ambito", "fte", "contratto"],
        [
            ["O1", "EDUCATORE", "SA1", "1", "INDETERMINATO"],
            [CF, "EDUCATORE", "SA1", "1", ""],
            ["O2", CF, STP, PROVISIONAL, CF_SPACED],
        ],
    )
    obiettivi = write_csv(
        tmp_path / "obiettivi.csv",
        ["indicatore", "territorio", "anno", "tipo", "valore"],
        [[CF, STP, PROVISIONAL, CF_SPACED, CF]],
    )
    unknown = write_csv(tmp_path / "sconosciuto.csv", [CF, STP, PROVISIONAL], [["1", "2", "3"]])  # header in error
    return [sedi, operatori, obiettivi, unknown]


@pytest.fixture
def hostile_warehouse(tmp_path, db_path):
    results = load_files([_hostile_prestazioni(tmp_path), *_hostile_others(tmp_path)], db=db_path)
    # what the dashboard writes in the audit log: the uploaded file's name, a username typed at the login
    audit.record("caricamento", "m.rossi", "ufficio_di_piano", f"{CF}.csv", "ok", results[0].summary_it(), db=db_path)
    audit.record("login_fallito", CF_SPACED, None, "locale", "rifiutato", f"utente {STP}", db=db_path)
    return db_path, results


def test_no_identifier_survives_in_any_text_column_of_any_table(hostile_warehouse):
    db_path, results = hostile_warehouse
    prestazioni, *_, unknown = results
    assert (prestazioni.status, prestazioni.rows_read, prestazioni.rows_loaded) == ("loaded", 54, 14)
    assert unknown.status == "failed" and CF[:3] + "*" * 13 in unknown.error  # the header, masked
    values = _every_text_value(db_path)
    tables = {t for t, _, _ in values}
    assert {"scarti", "caricamenti", "audit", "sedi", "prestazioni", "operatori"} <= tables
    # a pseudonym (64 hex digits) may hold an 11-digit run by chance: only the real codes are searched in it
    found = [
        (t, c, v[:80])
        for t, c, v in values
        if (redact.identifiers_in(v) and not PSEUDONYM.fullmatch(v))
        or any(code in v for code in (CF, STP, PROVISIONAL))
    ]
    assert found == []
    raw = db_path.read_bytes() + (
        db_path.with_suffix(".duckdb.wal").read_bytes() if db_path.with_suffix(".duckdb.wal").exists() else b""
    )
    for code in (CF, STP, PROVISIONAL):
        assert code.encode() not in raw and code.lower().encode() not in raw


def test_rejected_values_are_masked_in_every_column_and_bounded(hostile_warehouse):
    db_path, _ = hostile_warehouse
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT colonna, valore, dati FROM scarti").fetchall()
    masked = {c for c, v, _ in rows if v and v.startswith((CF[:3], "123", "STP", CF_SPACED[:3])) and "*" in v}
    longest = max(len(v or "") for _, v, _ in rows)
    longest_row = max(len(d or "") for _, _, d in rows)
    con.close()
    # the shifted identifier was rejected, masked, in every column it reached (in `codice_fiscale` each of
    # them is an accepted identifier: tests/etl/test_person_ids.py masks the malformed ones)
    assert {
        "comune_residenza",
        "intervento",
        "data_inizio",
        "data_richiesta",
        "data_fine",
        "ore",
        "importo_euro",
        "esito",
        "id_prestazione",
    } <= masked
    limit = redact.MAX_KEPT_CHARS + len(redact.TRUNCATED.format(n="1.000.000"))
    assert longest <= limit and longest_row < 11 * limit  # the 1,000,000-character value is cut
    assert any(v and v.endswith("[troncato: 1.000.000 caratteri]") for _, v, _ in rows)
    for _, _, dati in rows:
        assert dati is None or json.loads(dati)  # still valid JSON after masking and cutting


def test_rejected_exports_hold_no_identifier(hostile_warehouse):
    db_path, _ = hostile_warehouse
    cli = subprocess.run(
        [sys.executable, "-m", "etl", "rejected", "--db", str(db_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    exported = pl.read_csv(io.StringIO(cli.stdout), infer_schema=False)
    assert exported.height > 40
    assert not any(redact.identifiers_in(v) for col in exported.columns for v in exported[col].drop_nulls())


def test_a_warehouse_written_before_the_rule_is_masked_on_export_and_on_the_next_load(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    con = duckdb.connect(str(db_path))
    con.execute(
        "INSERT INTO scarti VALUES ('b0', ?, 2, 'comune_residenza', 'comune sconosciuto', ?, ?)",
        [f"{CF}.csv", CF, json.dumps({"comune_residenza": CF, "ore": STP})],
    )
    con.execute("INSERT INTO audit VALUES (now(), ?, NULL, 'login_fallito', 'locale', 'rifiutato', NULL)", [CF])
    con.execute("DELETE FROM meta WHERE chiave = 'testo_protetto'")  # as before the rule
    [shown] = rejected_rows(con).to_dicts()
    con.close()
    assert (shown["file"], shown["valore"]) == (f"{CF[:3]}{'*' * 13}.csv", CF[:3] + "*" * 13)
    load_files([write_csv(tmp_path / "b.csv", PRESTAZIONI_HEADER, [prestazione("2")])], db=db_path)
    # a pseudonym (64 hex digits) may hold an 11-digit run by chance (it failed a CI rehearsal in session 7): only
    # the real codes are searched in it, as in test_no_identifier_survives_in_any_text_column_of_any_table
    assert [
        (t, c)
        for t, c, v in _every_text_value(db_path)
        if (redact.identifiers_in(v) and not PSEUDONYM.fullmatch(v)) or any(code in v for code in (CF, STP))
    ] == []


def test_an_id_holding_a_person_code_is_refused_with_the_reason(tmp_path, db_path):
    rows = [prestazione(code) for code in (f"PR-{CF}", CF_SPACED, PROVISIONAL, STP.lower())]
    rows += [prestazione("12345678901"), prestazione("PR-2025-12345678903")]  # no valid check / not the whole id
    [res] = load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, rows)], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (2, 4)
    con = duckdb.connect(str(db_path), read_only=True)
    reasons = {r[0] for r in con.execute("SELECT motivo FROM scarti WHERE colonna = 'id_prestazione'").fetchall()}
    con.close()
    assert reasons == {
        "l'identificativo ha la forma di un codice fiscale (o di un codice provvisorio, STP o ENI): "
        "usare un codice che non identifichi la persona"
    }


def test_redact_masks_each_identifier_shape_and_nothing_else():
    assert redact.safe_text(f"nato {CF}, poi {STP} e {PROVISIONAL}.") == (
        f"nato {CF[:3]}{'*' * 13}, poi STP{'*' * 13} e 123{'*' * 8}."
    )
    assert redact.safe_text(CF_SPACED) == CF_SPACED[:3] + "*" * (len(CF_SPACED) - 3)
    for text in ("019035", "2025-03-01", "SOSTEGNO_GENITORIALITA", "Via Roma 12, Crema", "123456789012", "1234567890"):
        assert redact.safe_text(text) == text
    assert redact.is_provisional_cf(PROVISIONAL) and not redact.is_provisional_cf("12345678901")
