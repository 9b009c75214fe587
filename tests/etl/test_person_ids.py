"""People without a codice fiscale: the 11-digit provisional codice fiscale, STP and ENI codes are
accepted with a valid check (refused when malformed), pseudonymised like a codice fiscale and never
stored; sex and year of birth then come from the optional columns, else the age is unknown."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from etl import identifiers as ids
from etl import validate as v
from etl.codice_fiscale import CF_ANYWHERE, pseudonym
from etl.loader import load_files
from tests.conftest import make_cf, write_csv

HEADER = ["id_prestazione", "codice_fiscale", "comune_residenza", "intervento", "data_inizio", "sesso", "anno_nascita"]


def provisional(first10: str) -> str:
    """A provisional codice fiscale with its right check digit (stdnum's Luhn, the partita IVA's check)."""
    return first10 + luhn.calc_check_digit(first10)


def wrong_check(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


P1, P2 = provisional("1234567890"), provisional("8000123456")
STP, ENI = "STP0301230000001", "ENI0301230000042"


def _load(tmp_path, db_path, rows, name="a.csv"):
    [res] = load_files([write_csv(tmp_path / name, HEADER, rows)], db=db_path)
    return res


def _rows(db_path, sql):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _reasons(db_path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rid, motivo in _rows(db_path, "SELECT json_extract_string(dati, '$.id_prestazione'), motivo FROM scarti"):
        out.setdefault(rid, []).append(motivo)
    return out


def test_the_provisional_check_digit_is_the_partita_iva_luhn():
    # 00743110157 is stdnum's own example of a valid partita IVA; the last digit changed is not
    assert ids.luhn_ok("00743110157") and not ids.luhn_ok("00743110158")
    assert not ids.luhn_ok("00000000000")  # Luhn-valid, but all zero: a placeholder, as stdnum.it.iva says
    frame = pl.DataFrame({"c": ["00743110157", "00743110158", "00000000000", P1, wrong_check(P1)]})
    ok = frame.select(ids.provisional_check_ok_expr(pl.col("c")).alias("ok"))["ok"].to_list()
    assert ok == [True, False, False, True, False]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_vectorised_check_equals_the_library(code):
    vectorised = pl.DataFrame({"c": [code]}).select(ids.provisional_check_ok_expr(pl.col("c")).alias("ok"))["ok"][0]
    assert vectorised == (luhn.is_valid(code) and int(code[:7]) != 0)


def test_provisional_stp_and_eni_accepted_sex_and_year_from_the_columns(tmp_path, db_path):
    res = _load(
        tmp_path,
        db_path,
        [
            ["1", P1, "Crema", "SAD", "2025-03-01", "F", "1950"],
            ["2", STP, "Crema", "SAD", "2025-03-01", "m", "1990"],
            ["3", ENI.lower(), "Crema", "SAD", "2025-03-01", "", ""],  # no sex, no year: age unknown
            ["4", " ".join([P2[:5], P2[5:]]), "Crema", "TIROCINIO", "2025-03-01", "", ""],  # typed with a space
            ["5", make_cf("VRDLCU", 1941, 5, 7, female=True), "Crema", "SAD", "2025-03-01", "M", "1999"],  # CF wins
        ],
    )
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_rejected, res.rows_held) == ("loaded", 5, 5, 0, 0)
    rows = {r[0]: r[1:] for r in _rows(db_path, "SELECT id_prestazione, sesso, anno_nascita FROM prestazioni")}
    assert rows == {"1": ("F", 1950), "2": ("M", 1990), "3": (None, None), "4": (None, None), "5": ("F", 1941)}


def test_pseudonymised_exactly_like_a_codice_fiscale(tmp_path, db_path):
    _load(
        tmp_path,
        db_path,
        [["1", P1, "Crema", "SAD", "2025-03-01", "", ""], ["2", STP, "Crema", "SAD", "2025-03-01", "", ""]],
    )
    key = bytes.fromhex((tmp_path / "secret.key").read_text())
    got = dict(_rows(db_path, "SELECT id_prestazione, persona_id FROM prestazioni"))
    assert got == {"1": pseudonym(key, "persona:" + P1), "2": pseudonym(key, "persona:" + STP)}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (wrong_check(P1), v.MSG_CF_PROVISIONAL_CHECK),
        ("00000000000", v.MSG_CF_PROVISIONAL_CHECK),
        ("1234567890", v.MSG_CF_FORMAT),  # 10 digits
        ("123456789012", v.MSG_CF_FORMAT),  # 12 digits
        ("STP030123000001", v.MSG_CF_FORMAT),  # 12 digits after STP
        ("STP03012300000012", v.MSG_CF_FORMAT),  # 14
        ("STX0301230000001", v.MSG_CF_FORMAT),  # neither STP nor ENI
        ("STP03012300000A1", v.MSG_CF_FORMAT),  # a letter among the digits
        ("ENI-030-123-0000001", v.MSG_CF_FORMAT),  # dashes are not part of the code
    ],
)
def test_malformed_identifiers_are_refused_with_their_reason(tmp_path, db_path, code, reason):
    res = _load(
        tmp_path,
        db_path,
        [["1", code, "Crema", "SAD", "2025-03-01", "", ""], ["2", P1, "Crema", "SAD", "2025-03-01", "", ""]],
    )
    assert (res.rows_loaded, res.rows_rejected) == (1, 1)
    assert _reasons(db_path) == {"1": [reason]}
    # the refused identifier is masked like a codice fiscale: 3 characters kept, in the value and the row
    [(valore, shown)] = _rows(db_path, "SELECT valore, json_extract_string(dati, '$.codice_fiscale') FROM scarti")
    assert valore == shown == code[:3] + "*" * 13


def test_sex_and_year_of_birth_columns_are_checked(tmp_path, db_path):
    res = _load(
        tmp_path,
        db_path,
        [
            ["1", P1, "Crema", "SAD", "2025-03-01", "X", ""],
            ["2", STP, "Crema", "SAD", "2025-03-01", "", "1850"],
            ["3", ENI, "Crema", "SAD", "2025-03-01", "", "2999"],
            ["4", P2, "Crema", "SAD", "2025-03-01", "", "mille"],
        ],
    )
    assert (res.rows_loaded, res.rows_rejected) == (0, 4)
    reasons = _reasons(db_path)
    assert reasons["1"] == ["valore non ammesso (ammessi: M, F)"]
    assert reasons["2"] == reasons["3"] == [v.MSG_BIRTH_YEAR.format(anno=date.today().year)]
    assert reasons["4"] == [v.MSG_INTEGER]


PSEUDONYM = re.compile(r"[0-9a-f]{64}")
IDENTIFIER_SHAPES = re.compile(CF_ANYWHERE.pattern + r"|(?:STP|ENI)[0-9]{13}|(?<![0-9])[0-9]{11}(?![0-9])", re.I)


def test_no_identifier_of_any_kind_stored_anywhere(tmp_path, db_path):
    """Identifiers loaded, held, released and rejected (also in the code columns): a scan of every text
    column of every table, and of the database file, finds none of them."""
    from etl.codifiche import save_mapping

    cf = make_cf("BNCGNN", 1950, 1, 2)
    header = [*HEADER, "sistema_codifica", "codice_intervento"]
    rows = [
        ["1", cf, "Crema", "SAD", "2025-03-01", "", "", "", ""],  # loaded
        ["2", P1, "Crema", "", "2025-03-01", "F", "1950", "CARTELLA", "DOM-99"],  # held, then released
        ["3", STP, "Crema", "", "2025-03-01", "", "", "CARTELLA", "ALT-99"],  # held, stays held
        ["4", ENI, "Atlantide", "SAD", "2025-03-01", "", "", "", ""],  # rejected (comune)
        ["5", wrong_check(P2), "Crema", "SAD", "2025-03-01", "", "", "", ""],  # rejected (check digit)
        ["6", "STP0301230000099", "Crema", "", "2025-03-01", "", "", "CARTELLA", ENI],  # code = an identifier
        ["7", "ENI0301230000098", "Crema", "", "2025-03-01", "", "", P2, "DOM-99"],  # system = an identifier
        ["8", "STP0301230000097", "Crema", "", "2025-03-01", "", "", "CARTELLA", cf],  # code = a codice fiscale
    ]
    [res] = load_files([write_csv(tmp_path / "a.csv", header, rows)], db=db_path)
    assert (res.rows_loaded, res.rows_held, res.rows_rejected) == (1, 2, 5)
    released = save_mapping("CARTELLA", "DOM-99", "SAD", f"descrizione con {cf} e {STP}", db=db_path)
    assert released.rows_released == 1
    secrets = [cf, P1, P2, wrong_check(P2), STP, ENI, "STP0301230000099", "ENI0301230000098", "STP0301230000097"]
    con = duckdb.connect(str(db_path), read_only=True)
    text_cols = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' "
        "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')"
    ).fetchall()
    found = []
    for table, column in text_cols:
        for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
            # a pseudonym (64 hex digits) may hold an 11-digit run by chance: only the secrets are searched in it
            shaped = not PSEUDONYM.fullmatch(value) and IDENTIFIER_SHAPES.search(value)
            if shaped or any(s in value for s in secrets):
                found.append((table, column, value))
    counts = con.execute(
        "SELECT (SELECT count(*) FROM prestazioni), (SELECT count(*) FROM prestazioni_in_attesa)"
    ).fetchall()[0]
    con.close()
    assert counts == (2, 1)
    assert found == []
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert not [s for s in secrets if s.encode() in raw]
