"""The reorganisation's tables through the real loader: `accessi` (contacts at hub and spokes, optional
codice fiscale pseudonymised like prestazioni) and `distanze` (road matrix, also in ISTAT's layout)."""

from __future__ import annotations

import duckdb
import pytest

from etl import validate as v
from etl.codice_fiscale import CF_ANYWHERE
from etl.loader import MSG_DUPLICATE_KEY, load_files
from tests.conftest import PRESTAZIONI_HEADER, make_cf, prestazione, write_csv

ACCESSI_HEADER = ["id_accesso", "data_accesso", "id_sede", "comune_residenza", "codice_fiscale", "esito"]
SEDI_HEADER = ["id_sede", "nome", "tipo", "comune"]
GOOD_CF = make_cf("BNCGNN", 1950, 1, 2)
WRONG_CHECK = GOOD_CF[:15] + ("A" if GOOD_CF[15] != "A" else "B")


def accesso(
    id_: str,
    data: str = "2025-03-01",
    sede: str = "S1",
    comune: str = "019035",
    cf: str = "",
    esito: str = "INFORMAZIONE",
) -> list[str]:
    return [id_, data, sede, comune, cf, esito]


def _sedi(tmp_path, db_path) -> None:
    f = write_csv(
        tmp_path / "sedi.csv", SEDI_HEADER, [["S1", "Spoke di Crema", "SPOKE", "Crema"], ["H1", "Hub", "HUB", "Crema"]]
    )
    assert load_files([f], db=db_path)[0].status == "loaded"


def _query(db_path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- accessi ------------------------------------------------------------------------------

ACCESSI_CASES = [
    # (row, column, reason)
    (accesso("r1", sede="S9"), "id_sede", v.MSG_SEDE),
    (accesso("r2", comune="Milano"), "comune_residenza", v.MSG_COMUNE_OUT),
    (accesso("r3", comune="Atlantide"), "comune_residenza", v.MSG_COMUNE_UNKNOWN),
    (accesso("r4", cf="RSSMRA85T10"), "codice_fiscale", v.MSG_CF_FORMAT),
    (accesso("r5", cf=WRONG_CHECK), "codice_fiscale", v.MSG_CF_CHECK),
    (accesso("r6", cf=make_cf(month=2, day=30)), "codice_fiscale", v.MSG_CF_DATE),
    (
        accesso("r7", esito="RICHIAMARE"),
        "esito",
        "valore non ammesso (ammessi: INFORMAZIONE, INVIO_SERVIZIO, PRESA_IN_CARICO)",
    ),
    (accesso("r8", data="31/02/2025"), "data_accesso", v.MSG_DATE),
    (accesso("r9", data=""), "data_accesso", v.MSG_REQUIRED),
    (accesso("r10", sede=""), "id_sede", v.MSG_REQUIRED),
    (accesso("r11", comune=""), "comune_residenza", v.MSG_REQUIRED),
    (accesso(""), "id_accesso", v.MSG_REQUIRED),
    (accesso(GOOD_CF), "id_accesso", v.MSG_ID_CF),
]


@pytest.mark.parametrize("row,column,reason", ACCESSI_CASES, ids=[c[0][0] or "no-id" for c in ACCESSI_CASES])
def test_accessi_rows_rejected_with_the_right_reason(tmp_path, db_path, row, column, reason):
    _sedi(tmp_path, db_path)
    f = write_csv(tmp_path / "accessi.csv", ACCESSI_HEADER, [accesso("ok1", cf=GOOD_CF), row])
    [res] = load_files([f], db=db_path)  # the table is inferred from the columns
    assert (res.table, res.status) == ("accessi", "loaded")
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (2, 1, 1)
    scarti = _query(db_path, "SELECT riga, colonna, motivo FROM scarti ORDER BY riga, colonna")
    assert (3, column, reason) in scarti, scarti
    assert all(r[0] == 3 for r in scarti)


def test_accessi_without_sedi_are_rejected_with_a_reason_that_says_what_to_do(tmp_path, db_path):
    [res] = load_files([write_csv(tmp_path / "a.csv", ACCESSI_HEADER, [accesso("a1")])], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (0, 1)
    [(motivo,)] = _query(db_path, "SELECT motivo FROM scarti")
    assert motivo == v.MSG_SEDE and "caricare prima le sedi" in motivo


def test_accessi_duplicate_id_rejects_every_occurrence(tmp_path, db_path):
    _sedi(tmp_path, db_path)
    rows = [accesso("a1"), accesso("dup"), accesso("a2"), accesso("dup", sede="H1")]
    [res] = load_files([write_csv(tmp_path / "a.csv", ACCESSI_HEADER, rows)], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (4, 2, 2)
    assert _query(db_path, "SELECT riga, motivo FROM scarti ORDER BY riga") == [
        (3, MSG_DUPLICATE_KEY),
        (5, MSG_DUPLICATE_KEY),
    ]


def test_accessi_codice_fiscale_optional_pseudonymised_like_prestazioni(tmp_path, db_path):
    _sedi(tmp_path, db_path)
    cf_f = make_cf("VRDLCU", 1941, 5, 7, female=True)
    rows = [accesso("a1", cf=GOOD_CF), accesso("a2", cf=cf_f.lower(), esito="presa in carico"), accesso("a3")]
    header = ["ID Accesso", "Data Accesso", "Sede", "Comune Residenza", "Codice Fiscale", "Esito"]
    [res] = load_files([write_csv(tmp_path / "a.csv", header, rows, sep=";")], db=db_path)
    load_files([write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("p1", cf=cf_f)])], db=db_path)
    assert (res.table, res.rows_loaded) == ("accessi", 3)
    got = _query(db_path, "SELECT id_accesso, comune, sesso, anno_nascita, esito, persona_id FROM accessi ORDER BY 1")
    assert [r[:5] for r in got] == [
        ("a1", "019035", "M", 1950, "INFORMAZIONE"),
        ("a2", "019035", "F", 1941, "PRESA_IN_CARICO"),
        ("a3", "019035", None, None, "INFORMAZIONE"),  # no codice fiscale: no person
    ]
    assert len(got[0][5]) == 64 and got[2][5] is None
    # the same person has the same pseudonym in accessi and prestazioni (lower case or not)
    [(in_prestazioni,)] = _query(db_path, "SELECT persona_id FROM prestazioni")
    assert got[1][5] == in_prestazioni


def test_no_identifier_stored_anywhere_after_loading_accessi(tmp_path, db_path):
    _sedi(tmp_path, db_path)
    cf_a, cf_b, cf_c = make_cf("BNCGNN", 1950, 1, 2), make_cf("VRDLCU", 2012, 5, 7, female=True), make_cf("NRELSE")
    rows = [
        accesso("a1", cf=cf_a),  # loaded
        accesso("a2", cf=cf_b, comune="Milano"),  # rejected row with a valid code
        accesso("a3", cf=cf_b[:15] + ("Z" if cf_b[15] != "Z" else "Y")),  # wrong check character
        accesso(cf_a, cf=cf_a),  # id that is a codice fiscale
        accesso("a5", esito=cf_c),  # a codice fiscale typed in the wrong column
        accesso("a6", sede=cf_c),  # ... and in the sede
    ]
    [res] = load_files([write_csv(tmp_path / "a.csv", ACCESSI_HEADER, rows)], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (1, 5)
    con = duckdb.connect(str(db_path), read_only=True)
    text_cols = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    ).fetchall()
    found = [
        (table, column, value)
        for table, column in text_cols
        for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall()
        if CF_ANYWHERE.search(value)
    ]
    masked = con.execute("SELECT colonna, valore FROM scarti WHERE colonna IN ('esito', 'id_sede')").fetchall()
    con.close()
    assert found == []
    assert sorted(masked) == [("esito", cf_c[:3] + "*" * 13), ("id_sede", cf_c[:3] + "*" * 13)]
    wal = db_path.with_suffix(".duckdb.wal")
    raw = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for code in (cf_a, cf_b, cf_c):
        assert code.encode() not in raw


# --- distanze -----------------------------------------------------------------------------


def test_distanze_contract_layout_inferred_and_validated(tmp_path, db_path):
    header = ["comune_origine", "comune_destinazione", "minuti", "km"]
    rows = [
        ["Crema", "Bagnolo Cremasco", "12,5", "9,1"],
        ["19005", "019035", "11", "9.4"],
        ["Crema", "Milano", "60", "50"],  # outside the ambito
        ["Crema", "Atlantide", "1", "1"],  # not a comune
        ["Crema", "Dovera", "-3", "10"],  # negative minutes
        ["Dovera", "Crema", "15", ""],  # no distance
        ["Crema", "Bagnolo Cremasco", "13", "9"],  # the same pair twice in the file
    ]
    [res] = load_files([write_csv(tmp_path / "d.csv", header, rows)], db=db_path)
    assert (res.table, res.rows_read, res.rows_loaded, res.rows_rejected) == ("distanze", 7, 1, 6)
    assert _query(db_path, "SELECT * EXCLUDE (batch_id) FROM distanze") == [("019005", "019035", 11.0, 9.4)]
    scarti = set(_query(db_path, "SELECT riga, colonna, motivo FROM scarti"))
    assert {
        (4, "comune_destinazione", v.MSG_COMUNE_OUT),
        (5, "comune_destinazione", v.MSG_COMUNE_UNKNOWN),
        (6, "minuti", "valore negativo non ammesso"),
        (7, "km", v.MSG_DISTANZA),
        (2, "comune_destinazione", MSG_DUPLICATE_KEY),
        (8, "comune_destinazione", MSG_DUPLICATE_KEY),
    } == scarti


def test_distanze_in_the_layout_of_istat_matrices(tmp_path, db_path):
    """ISTAT's regional .txt: `;`, decimal comma, codes without the leading zero, metres (Total_Mete)."""
    path = tmp_path / "Lombardia.txt"
    path.write_text(
        "Name;Origine;Destinazione;Total_Minu;Total_Mete\n"
        "19035-19005;19035;19005;9,87;7654,3\n"
        "19005-19035;19005;19035;10,2;7701\n",
        encoding="utf-8",
    )
    [res] = load_files([path], db=db_path)  # no --table: inferred from the columns
    assert (res.table, res.rows_loaded, res.rows_rejected) == ("distanze", 2, 0)
    assert res.ignored_columns == ["Name"]
    got = _query(db_path, "SELECT comune_origine, comune_destinazione, minuti, km FROM distanze ORDER BY 1")
    assert got == [("019005", "019035", 10.2, pytest.approx(7.701)), ("019035", "019005", 9.87, pytest.approx(7.6543))]
