"""Readers: encodings, separators, XLSX sheets, Parquet, header matching, unreadable files."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
import xlsxwriter

from etl.loader import WHOLE_ROW, load_files
from etl.readers import MSG_BAD_BYTES, MSG_NUL, ReadError, open_source
from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv


def _comuni_loaded(db_path) -> list[str]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT comune FROM prestazioni ORDER BY id_prestazione").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_encodings_and_separators(tmp_path, db_path, encoding, sep):
    rows = [prestazione("1", comune="Rivolta d’Adda"), prestazione("2", comune="Crèma")]
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, rows, sep=sep, encoding=encoding)
    [res] = load_files([f], db=db_path)
    assert (res.status, res.rows_loaded, res.rows_rejected) == ("loaded", 2, 0), res
    assert _comuni_loaded(db_path) == ["019084", "019035"]


def test_headers_match_regardless_of_case_accents_and_spaces(tmp_path, db_path):
    header = [
        "ID Prestazione",
        "CODICE FISCALE",
        "Comune  Residenza",
        "intervento",
        "Data Richiesta",
        "DATA_INIZIO",
        "data-fine",
        "Ore",
        "Importo Euro",
        "Èsito",
        "Id Nucleo",
    ]
    f = write_csv(tmp_path / "p.csv", header, [prestazione("1", esito="concluso")])
    [res] = load_files([f], db=db_path)
    assert (res.table, res.rows_loaded) == ("prestazioni", 1)


def test_blank_lines_are_not_records_and_row_numbers_follow_the_file(tmp_path, db_path):
    f = tmp_path / "p.csv"
    lines = [
        ",".join(PRESTAZIONI_HEADER),
        ",".join(prestazione("1")),
        ",,,,,,,,,,",
        ",".join(prestazione("2", ore="x")),
    ]
    f.write_text("\n".join(lines) + "\n")
    [res] = load_files([f], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (2, 1, 1)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT riga FROM scarti").fetchall() == [(4,)]
    con.close()


def _xlsx(path, sheets: dict[str, list[list]]):
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, row in enumerate(rows):
            ws.write_row(i, 0, row)
    wb.close()
    return path


def test_xlsx_first_sheet_or_the_sheet_named_like_the_table(tmp_path, db_path):
    f = _xlsx(
        tmp_path / "p.xlsx",
        {
            "Note": [["leggimi"], ["questo foglio non è una tabella"]],
            "Prestazioni": [PRESTAZIONI_HEADER, prestazione("1"), prestazione("2", ore="-1")],
        },
    )
    [res] = load_files([f], table="prestazioni", db=db_path)
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_rejected) == ("loaded", 2, 1, 1)


def test_xlsx_real_excel_dates_and_numbers(tmp_path, db_path):
    import datetime

    wb = xlsxwriter.Workbook(str(tmp_path / "p.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, PRESTAZIONI_HEADER)
    row = prestazione("1")
    ws.write_row(1, 0, row)
    ws.write_datetime(1, 5, datetime.datetime(2025, 3, 1), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_number(1, 7, 12.5)
    wb.close()
    [res] = load_files([tmp_path / "p.xlsx"], db=db_path)
    assert res.rows_loaded == 1
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT CAST(data_inizio AS VARCHAR), ore FROM prestazioni").fetchall() == [("2025-03-01", 12.5)]
    con.close()


def test_parquet(tmp_path, db_path):
    df = pl.DataFrame([prestazione("1"), prestazione("2")], schema=PRESTAZIONI_HEADER, orient="row")
    df.write_parquet(tmp_path / "p.parquet")
    [res] = load_files([tmp_path / "p.parquet"], db=db_path)
    assert (res.status, res.rows_loaded) == ("loaded", 2)


@pytest.mark.parametrize(
    "content,name,expected",
    [
        (b"", "vuoto.csv", "è vuoto"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "vecchio.xls", "vecchio formato Excel"),
        (b"%PDF-1.4 blah", "relazione.csv", "è un PDF"),
        (b"PK\x03\x04rubbish", "finto.xlsx", "non è un XLSX leggibile"),
        (b"solo testo senza senso", "finto.parquet", "il contenuto non corrisponde"),
    ],
)
def test_unreadable_files_fail_whole_with_a_message(tmp_path, db_path, content, name, expected):
    f = tmp_path / name
    f.write_bytes(content)
    [res] = load_files([f], db=db_path)
    assert res.status == "failed" and expected in res.error
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (0, 0, 0)


def test_missing_required_column_names_it(tmp_path, db_path):
    header = [h for h in PRESTAZIONI_HEADER if h != "data_inizio"]
    f = write_csv(
        tmp_path / "p.csv", header, [[c for h, c in zip(PRESTAZIONI_HEADER, prestazione("1")) if h != "data_inizio"]]
    )
    [res] = load_files([f], table="prestazioni", db=db_path)
    assert res.status == "failed"
    assert "mancano colonne obbligatorie" in res.error and "data_inizio" in res.error


def test_header_only_file_fails(tmp_path, db_path):
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [])
    [res] = load_files([f], db=db_path)
    assert res.status == "failed" and "non contiene righe di dati" in res.error


def test_unknown_columns_are_listed_not_silently_dropped(tmp_path, db_path):
    f = write_csv(tmp_path / "p.csv", [*PRESTAZIONI_HEADER, "note operatore"], [[*prestazione("1"), "x"]])
    [res] = load_files([f], db=db_path)
    assert res.ignored_columns == ["note operatore"]
    assert "note operatore" in res.summary_it()


def test_open_source_reports_separator_and_encoding(tmp_path):
    f = write_csv(
        tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("1", comune="Rivolta d’Adda")], sep=";", encoding="cp1252"
    )
    src = open_source(f)
    assert (src.kind, src.separator, src.encoding) == ("csv", ";", "cp1252")
    with pytest.raises(ReadError):
        open_source(tmp_path / "non-esiste.csv")


# --- damaged lines: the row is rejected with its number and reason, the rest of the file loads ---------


def _rows(n: int, comune: str = "Rivolta d’Adda") -> list[str]:
    """n valid lines of prestazioni (about 75 bytes each: 1,000 lines pass the first 64 KiB)."""
    return [",".join(prestazione(f"p{i}", comune=comune, ore=str(i % 9))) for i in range(n)]


def _scarti(db_path) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT riga, colonna, motivo, valore FROM scarti ORDER BY riga").fetchall()
    finally:
        con.close()


def _load_lines(tmp_path, db_path, lines: list[str] | bytes, sep: str = ","):
    f = tmp_path / "p.csv"
    data = lines if isinstance(lines, bytes) else ("\n".join([sep.join(PRESTAZIONI_HEADER), *lines]) + "\n").encode()
    f.write_bytes(data)
    [res] = load_files([f], db=db_path)
    assert res.status == "loaded", res.error
    assert res.rows_read == res.rows_loaded + res.rows_rejected
    return res


@pytest.mark.parametrize(
    "damage,found",
    [
        (lambda line: line + ",nota in più", 12),  # a value past the last column
        (lambda line: line.replace(",019084,", ",", 1), 10),  # a separator lost: every value shifts left
        (lambda line: line + ",,x,y", 14),
    ],
)
def test_a_row_with_more_or_fewer_fields_is_rejected_with_its_line_and_the_rest_loads(tmp_path, db_path, damage, found):
    lines = _rows(1500)
    lines[1200] = damage(lines[1200].replace("Rivolta d’Adda", "019084"))  # past the first 64 KiB
    res = _load_lines(tmp_path, db_path, lines)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (1500, 1499, 1)
    [(riga, colonna, motivo, valore)] = _scarti(db_path)
    assert (riga, colonna) == (1202, WHOLE_ROW)  # header = row 1, lines[0] = row 2
    assert motivo.startswith(f"la riga ha {found} campi ma l'intestazione ne ha 11")
    assert valore.startswith("p1200,RSS") and "RSSMRA85T10D142" not in valore  # the line, codice fiscale masked


def test_empty_fields_past_the_header_lose_nothing_and_are_accepted(tmp_path, db_path):
    lines = _rows(3)
    lines[1] += ",,"  # a separator at the end of the line, as some exports write
    res = _load_lines(tmp_path, db_path, lines)
    assert (res.rows_loaded, res.rows_rejected) == (3, 0)


def test_irregular_quotes_are_read_record_by_record_and_row_numbers_follow_the_records(tmp_path, db_path):
    lines = _rows(6, comune="Crema")
    lines[1] = lines[1].replace(",SAD,", ',"SAD",')  # a regular quoted value
    lines[2] = lines[2].replace("p2,", 'p2 "bis",', 1)  # a quote inside a value (Polars fails the whole file)
    lines[3] = lines[3].replace("p3,", '"p3\nsu due righe",', 1)  # a value over two lines: one record, one row
    lines[4] += ",oltre"  # and a ragged record after them
    res = _load_lines(tmp_path, db_path, lines)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (6, 5, 1)
    [(riga, colonna, motivo, _)] = _scarti(db_path)
    assert (riga, colonna) == (6, WHOLE_ROW) and "12 campi" in motivo
    con = duckdb.connect(str(db_path), read_only=True)
    ids = [r[0] for r in con.execute("SELECT id_prestazione FROM prestazioni ORDER BY id_prestazione").fetchall()]
    con.close()
    assert ids == ["p0", "p1", 'p2 "bis"', "p3\nsu due righe", "p5"]


def test_nul_and_bytes_that_are_not_text_reject_only_their_row(tmp_path, db_path):
    header = ",".join(PRESTAZIONI_HEADER).encode()
    lines = [line.encode() for line in _rows(1500)]  # UTF-8 (’ is 3 bytes): a UTF-8 file
    lines[1100] = lines[1100].replace(b"SAD", b"S\x00AD")
    lines[1300] = lines[1300].replace(b"SAD", b"SA\xffD")  # a byte that is not UTF-8, after 64 KiB
    data = b"\n".join([header, *lines]) + b"\n"
    assert data.index(b"\x00") > 65536 and data.index(b"\xff") > 65536
    res = _load_lines(tmp_path, db_path, data)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (1500, 1498, 2)
    expected = [(1102, WHOLE_ROW, MSG_NUL), (1302, WHOLE_ROW, MSG_BAD_BYTES)]
    assert [(r[0], r[1], r[2]) for r in _scarti(db_path)] == expected
    assert set(_comuni_loaded(db_path)) == {"019084"}  # the other rows keep their UTF-8 (not read as Windows-1252)


def test_a_nul_byte_early_in_a_text_file_rejects_its_row(tmp_path, db_path):
    f = tmp_path / "p.csv"
    f.write_bytes(("\n".join([",".join(PRESTAZIONI_HEADER), *_rows(2)]) + "\n").encode().replace(b"p1,", b"p\x001,"))
    [res] = load_files([f], db=db_path)
    assert (res.status, res.rows_loaded, res.rows_rejected) == ("loaded", 1, 1)
    assert [(r[0], r[2]) for r in _scarti(db_path)] == [(3, MSG_NUL)]
