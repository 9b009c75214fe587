"""Readers: encodings, separators, XLSX sheets, Parquet, header matching, unreadable files."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
import xlsxwriter

from etl.loader import load_files
from etl.readers import ReadError, open_source
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
    header = ["ID Prestazione", "CODICE FISCALE", "Comune  Residenza", "intervento", "Data Richiesta",
              "DATA_INIZIO", "data-fine", "Ore", "Importo Euro", "Èsito", "Id Nucleo"]  # fmt: skip
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
        {"Note": [["leggimi"], ["questo foglio non è una tabella"]],
         "Prestazioni": [PRESTAZIONI_HEADER, prestazione("1"), prestazione("2", ore="-1")]},
    )  # fmt: skip
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
        (b"a,b\n1,2\n3,\x004\n", "nullo.csv", "carattere nullo (byte 0) alla riga 3"),
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
