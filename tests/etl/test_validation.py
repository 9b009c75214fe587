"""Each rejection reason, with a literal row, through the real loader."""

from __future__ import annotations

import time

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.it import codicefiscale

from etl import validate as v
from etl.codice_fiscale import (
    MONTHS,
    check_character,
    check_ok_expr,
    code_attributes,
    derive_expr,
    is_valid_format_expr,
)
from etl.loader import MSG_DUPLICATE_KEY, load_files
from tests.conftest import PRESTAZIONI_HEADER, make_cf, prestazione, write_csv

GOOD_CF = make_cf()
WRONG_CHECK = GOOD_CF[:15] + ("A" if GOOD_CF[15] != "A" else "B")

CASES = [
    # (row, column, reason)
    (prestazione("r1", cf=""), "codice_fiscale", v.MSG_REQUIRED),
    (prestazione("r2", cf="RSSMRA85T10"), "codice_fiscale", v.MSG_CF_FORMAT),
    (prestazione("r3", cf=WRONG_CHECK), "codice_fiscale", v.MSG_CF_CHECK),
    (prestazione("r4", cf=make_cf(month=2, day=30)), "codice_fiscale", v.MSG_CF_DATE),
    (prestazione("r5", comune="Milano"), "comune_residenza", v.MSG_COMUNE_OUT),
    (prestazione("r6", comune="015146"), "comune_residenza", v.MSG_COMUNE_OUT),  # Milano by ISTAT code
    (prestazione("r7", comune="Atlantide"), "comune_residenza", v.MSG_COMUNE_UNKNOWN),
    (prestazione("r8", intervento="MASSAGGIO"), "intervento", v.MSG_INTERVENTO),
    (
        prestazione("r9", inizio="2025-03-10", fine="2025-03-01"),
        "data_fine",
        "data di fine precedente alla data di inizio",
    ),
    (
        prestazione("r10", richiesta="2025-04-01", inizio="2025-03-01"),
        "data_inizio",
        "data della richiesta successiva alla data di inizio",
    ),
    (prestazione("r11", ore="-2"), "ore", "ore negative non ammesse"),
    (prestazione("r12", importo="-10,5"), "importo_euro", "importo negativo non ammesso"),
    (prestazione("r13", inizio="31/02/2025"), "data_inizio", v.MSG_DATE),
    (prestazione("r14", inizio="domani"), "data_inizio", v.MSG_DATE),
    (prestazione("r15", inizio=""), "data_inizio", v.MSG_REQUIRED),
    (
        prestazione(
            "",
        ),
        "id_prestazione",
        v.MSG_REQUIRED,
    ),
    (prestazione("r17", ore="tre"), "ore", v.MSG_NUMBER),
    (prestazione("r17b", importo="12345678903"), "importo_euro", v.MSG_TOO_LARGE),  # a code, not an amount
    (
        prestazione("r18", esito="FORSE"),
        "esito",
        "valore non ammesso (ammessi: IN_CORSO, CONCLUSO, INTERROTTO, ASSUNZIONE)",
    ),
    (prestazione(GOOD_CF), "id_prestazione", v.MSG_ID_CF),
]


def _scarti(db_path):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT riga, colonna, motivo, valore FROM scarti ORDER BY riga, colonna").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("row,column,reason", CASES, ids=[c[0][0] or "no-id" for c in CASES])
def test_each_reason_rejects_the_row_with_column_and_reason(tmp_path, db_path, row, column, reason):
    good = prestazione("ok1")
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [good, row])
    [res] = load_files([f], db=db_path)
    assert res.status == "loaded"
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (2, 1, 1)
    scarti = _scarti(db_path)
    assert (3, column, reason) in [(r[0], r[1], r[2]) for r in scarti], scarti
    assert all(r[0] == 3 for r in scarti)  # the good row (line 2) is not blamed


def test_duplicate_key_inside_file_rejects_every_occurrence(tmp_path, db_path):
    rows = [prestazione("a"), prestazione("dup", ore="1"), prestazione("b"), prestazione("dup", ore="2")]
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, rows)
    [res] = load_files([f], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (4, 2, 2)
    scarti = _scarti(db_path)
    assert [r[0] for r in scarti] == [3, 5]
    assert all(r[2] == MSG_DUPLICATE_KEY and r[3] == "cartella_sociale / dup" for r in scarti)


def test_a_row_with_several_problems_is_rejected_once_with_every_reason(tmp_path, db_path):
    row = prestazione("x", cf="NONVALIDO", comune="Atlantide", intervento="BOH", ore="-1")
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [row])
    [res] = load_files([f], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (1, 0, 1)
    assert {r[1] for r in _scarti(db_path)} == {"codice_fiscale", "comune_residenza", "intervento", "ore"}


def test_rejected_rows_keep_no_full_codice_fiscale(tmp_path, db_path):
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("x", cf=WRONG_CHECK)])
    load_files([f], db=db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    valore, dati = con.execute("SELECT valore, dati FROM scarti").fetchall()[0]
    con.close()
    assert valore == WRONG_CHECK[:3] + "*" * 13
    assert WRONG_CHECK not in dati and WRONG_CHECK[:3] + "*" * 13 in dati


def test_accepted_spellings_of_dates_decimals_and_comuni(tmp_path, db_path):
    header = PRESTAZIONI_HEADER
    rows = [
        prestazione("d1", inizio="2025-03-01", ore="1234.5", comune="Crema"),
        prestazione("d2", inizio="01/03/2025", ore="1.234,5", comune="19035"),
        prestazione("d3", inizio="1/3/2025", ore="1234,5", comune="RIVOLTA D'ADDA"),
        prestazione("d4", inizio="2025-03-01", ore="", comune="Rivolta d’Adda"),
        prestazione("d5", inizio="2025-03-01", comune="Credera-Rubbiano"),
        prestazione("d6", inizio="2025-03-01", comune="credera rubbiano"),
    ]
    f = write_csv(tmp_path / "p.csv", header, rows, sep=";")
    [res] = load_files([f], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (6, 0)
    con = duckdb.connect(str(db_path), read_only=True)
    got = con.execute("SELECT id_prestazione, comune, data_inizio, ore FROM prestazioni ORDER BY 1").fetchall()
    con.close()
    assert [g[1] for g in got] == ["019035", "019035", "019084", "019084", "019034", "019034"]
    assert {str(g[2]) for g in got} == {"2025-03-01"}
    assert [g[3] for g in got[:3]] == [1234.5, 1234.5, 1234.5]


# --- codice fiscale: omocodia, and agreement with python-stdnum ------------------------------


def _omocode(cf: str, positions: tuple[int, ...]) -> str:
    """Replace the digits at `positions` by their omocodia letters and recompute the check character."""
    chars = list(cf[:15])
    for i in positions:
        chars[i] = "LMNPQRSTUV"[int(chars[i])]
    return "".join(chars) + check_character("".join(chars))


def test_published_codes_and_the_library_agree():
    """Codes published as valid (stdnum's docstring, the Agenzia delle Entrate's Mario Rossi), independently
    of our own functions."""
    for code in ("RCCMNL83S18D969H", "CNTCHR83T41D969D", "RSSMRA85T10A562S"):
        assert check_character(code[:15]) == code[15] == codicefiscale.calc_check_digit(code[:15])


def test_omocodic_codes_are_loaded_with_their_sex_and_year(tmp_path, db_path):
    # RSSMRA85T10D142?: male born 10/12/1985; the day digits '10' -> 'ML', the year '85' -> 'UR', all seven
    male = make_cf(year=1985, month=12, day=10)
    female = make_cf("BNCGNN", 1950, 1, 2, female=True)  # day 42 -> female
    rows = [
        prestazione("m1", cf=_omocode(male, (9, 10))),
        prestazione("m2", cf=_omocode(male, (6, 7, 9, 10, 12, 13, 14))),
        prestazione("f1", cf=_omocode(female, (9,))),
        prestazione("bad", cf=_omocode(male, (9, 10))[:15] + "A" if _omocode(male, (9, 10))[15] != "A" else "B"),
    ]
    assert rows[0][1][9:11] == "ML" and rows[1][1][6:8] == "UR" and rows[2][1][9] == "Q"
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, rows)
    [res] = load_files([f], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (3, 1)
    assert [r[2] for r in _scarti(db_path)] == [v.MSG_CF_CHECK]
    con = duckdb.connect(str(db_path), read_only=True)
    got = con.execute("SELECT id_prestazione, sesso, anno_nascita FROM prestazioni ORDER BY 1").fetchall()
    con.close()
    assert got == [("f1", "F", 1950), ("m1", "M", 1985), ("m2", "M", 1985)]


_LETTERS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1)
_DIGIT = st.text("0123456789LMNPQRSTUV", min_size=1, max_size=1)


@st.composite
def _codes(draw) -> str:
    """Shaped like a codice fiscale, omocodia included; days 00-79 and 30-31 February, any check letter."""
    parts = [draw(_LETTERS) for _ in range(6)] + [draw(_DIGIT), draw(_DIGIT), draw(st.sampled_from(MONTHS))]
    parts += [draw(st.text("01234567LMNPQRST", min_size=1, max_size=1)), draw(_DIGIT), draw(_LETTERS)]
    parts += [draw(_DIGIT) for _ in range(3)]
    first15 = "".join(parts)
    return first15 + (check_character(first15) if draw(st.booleans()) else draw(_LETTERS))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(_codes(), st.none(), st.text("ABCDEFGHLMNPQRSTUV0123456789 ", max_size=18)), max_size=40),
    st.integers(2000, 2099),
)
def test_the_loaders_byte_matrix_checks_agree_with_python_stdnum(codes, ref):
    """What the loader uses (`code_attributes`, numpy on the column's bytes) accepts exactly what stdnum accepts and
    derives the same sex and year, for codes among nulls and malformed text, for any year of the load."""
    attributes = code_attributes(pl.Series("cf", codes, dtype=pl.String), ref)
    assert attributes.height == len(codes)
    for code, (check_ok, sesso, anno, date_ok) in zip(codes, attributes.rows()):
        ok = code is not None and bool(pl.select(is_valid_format_expr(pl.lit(code))).item())
        assert (check_ok and date_ok) == (ok and codicefiscale.is_valid(code)), code
        if not ok:
            assert (check_ok, sesso, anno, date_ok) == (False, None, None, False), code
            continue
        born = codicefiscale.get_birth_date(code, minyear=ref - 99) if codicefiscale.is_valid(code) else None
        if born is not None:
            assert anno == born.year, code
        day = int("".join(str("LMNPQRSTUV".index(c)) if c.isalpha() else c for c in code[9:11]))
        assert sesso == ("F" if day > 40 else "M"), code


@settings(max_examples=300, deadline=None)
@given(st.lists(_codes(), min_size=1, max_size=30))
def test_vectorised_checks_agree_with_python_stdnum(codes):
    """The loader's vectorised format, check and birth-date checks accept exactly what stdnum accepts, and derive
    the same sex and year (stdnum's century window set to ours: the person is 0-99 in the year of the load)."""
    ref = 2026
    df = pl.DataFrame({"cf": codes})
    sesso, anno, real = derive_expr(pl.col("cf"), ref)
    out = df.select(
        (is_valid_format_expr(pl.col("cf")) & check_ok_expr(pl.col("cf")) & real).alias("ok"),
        sesso.alias("sesso"),
        anno.alias("anno"),
    )
    for code, (ok, s, a) in zip(codes, out.rows()):
        assert ok == codicefiscale.is_valid(code), code
        if ok:
            born = codicefiscale.get_birth_date(code, minyear=ref - 99)
            assert a == born.year, code
            day = int("".join(str("LMNPQRSTUV".index(c)) if c.isalpha() else c for c in code[9:11]))
            assert s == ("F" if day > 40 else "M"), code


def test_the_list_of_italian_comuni_is_read_only_when_a_comune_is_outside_the_ambito(tmp_path, db_path, monkeypatch):
    """ISTAT's list of every comune (slow to read) only tells «outside the ambito» from «unknown»: a file whose
    comuni are all in the ambito never reads it; one naming Milano and Atlantide does, once, with both reasons."""
    from etl import loader

    reads = []
    real = loader._italy_reference
    # slow on purpose: Polars may ask for it from two threads at once (the two reasons' checks), it is read once
    monkeypatch.setattr(loader, "_italy_reference", lambda: reads.append(1) or time.sleep(0.3) or real())
    inside = write_csv(tmp_path / "dentro.csv", PRESTAZIONI_HEADER, [prestazione("a1"), prestazione("a2")])
    [res] = load_files([inside], db=db_path)
    assert (res.rows_loaded, res.rows_rejected, reads) == (2, 0, [])
    outside = write_csv(
        tmp_path / "fuori.csv",
        PRESTAZIONI_HEADER,
        [prestazione("b1", comune="Milano"), prestazione("b2", comune="Atlantide"), prestazione("b3")],
    )
    [res] = load_files([outside], db=db_path)
    assert (res.rows_loaded, res.rows_rejected, reads) == (1, 2, [1])
    assert sorted(r[2] for r in _scarti(db_path)) == sorted([v.MSG_COMUNE_OUT, v.MSG_COMUNE_UNKNOWN])
