"""Server-side checks on uploaded files: extension, size, content, XLSX zip bombs (each refusal in Italian)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from etl.loader import load_files
from etl.readers import ReadError, check_xlsx_archive
from etl.uploads import UploadRefused, check_upload, safe_name
from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv


def good_xlsx(path: Path) -> Path:
    pl.DataFrame({"a": ["1", "2"], "b": ["x", "y"]}).write_excel(path)
    return path


def zip_with(path: Path, entries: dict[str, bytes], workbook: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        if workbook:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_good_files_pass(tmp_path):
    csv_path = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("1")])
    assert check_upload(csv_path, "p.csv") == "csv"
    assert check_upload(csv_path, "p.TXT") == "csv"
    assert check_upload(good_xlsx(tmp_path / "g.xlsx"), "g.xlsx") == "xlsx"
    pq = tmp_path / "g.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(pq)
    assert check_upload(pq, "g.parquet") == "parquet"
    cp1252 = tmp_path / "w.csv"
    cp1252.write_bytes("comune;nome\n019035;Crema è\n".encode("cp1252"))
    assert check_upload(cp1252, "w.csv") == "csv"


@pytest.mark.parametrize(
    "name",
    ["programma.exe", "dati.xls", "script.py", "archivio.zip", "senza_estensione", "doppia.csv.exe", "pagina.html"],
)
def test_wrong_extension_is_refused(tmp_path, name):
    path = write_csv(tmp_path / "any", ["a"], [["1"]])
    with pytest.raises(UploadRefused, match="non ammessa. Si caricano solo file .csv, .txt, .xlsx, .parquet"):
        check_upload(path, name)


def test_wrong_content_for_the_extension_is_refused(tmp_path):
    csv_path = write_csv(tmp_path / "p.csv", ["a", "b"], [["1", "2"]])
    xlsx = good_xlsx(tmp_path / "g.xlsx")
    pq = tmp_path / "g.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(pq)
    cases = {
        ("finto.xlsx", csv_path): "non corrisponde all'estensione .xlsx",
        ("finto.parquet", csv_path): "non corrisponde all'estensione .parquet",
        ("finto.csv", xlsx): "archivio compresso",
        ("finto.csv", pq): "indica un testo CSV, ma il contenuto è un Parquet",
        ("finto.xlsx", pq): "indica un foglio Excel XLSX, ma il contenuto è un Parquet",
    }
    for (name, path), message in cases.items():
        with pytest.raises(UploadRefused, match=message):
            check_upload(path, name)
    gz = tmp_path / "g.csv"
    gz.write_bytes(b"\x1f\x8b\x08\x08" + bytes(range(1, 256)) * 4)
    with pytest.raises(UploadRefused, match="archivio o un programma"):
        check_upload(gz, "g.csv")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"a,b\n" + bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16]) * 50)
    with pytest.raises(UploadRefused, match="non è testo"):
        check_upload(binary, "b.csv")
    plain_zip = zip_with(tmp_path / "z.xlsx", {"documento.txt": b"ciao"}, workbook=False)
    with pytest.raises(UploadRefused, match="non un foglio Excel XLSX"):
        check_upload(plain_zip, "z.xlsx")
    truncated = tmp_path / "t.parquet"
    truncated.write_bytes(pq.read_bytes()[:-10])
    with pytest.raises(UploadRefused, match="incompleto o danneggiato"):
        check_upload(truncated, "t.parquet")


def test_too_large_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PDZ_MAX_UPLOAD_MB", "0.01")  # 10 KB
    big = write_csv(tmp_path / "big.csv", PRESTAZIONI_HEADER, [prestazione(str(i)) for i in range(1000)])
    with pytest.raises(UploadRefused, match=r"oltre il limite di 0,0 MB"):
        check_upload(big, "big.csv")
    small = write_csv(tmp_path / "small.csv", PRESTAZIONI_HEADER, [prestazione("1")])
    assert check_upload(small, "small.csv") == "csv"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UploadRefused, match="vuoto"):
        check_upload(empty, "empty.csv")


def test_max_upload_setting_matches_the_streamlit_config():
    import tomllib

    from core import settings
    from core.settings import REPO_ROOT

    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == int(settings.SETTINGS["max_upload_mb"].default)


def test_xlsx_zip_bomb_is_refused_before_decompression(tmp_path, monkeypatch):
    ratio_bomb = zip_with(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b"0" * (40 * 1024 * 1024)})
    assert ratio_bomb.stat().st_size < 200_000  # 40 MB inside, a few KB on disk
    with pytest.raises(UploadRefused, match="possibile «zip bomb»"):
        check_upload(ratio_bomb, "bomb.xlsx")
    many = zip_with(tmp_path / "many.xlsx", {f"xl/p{i}.xml": b"x" for i in range(2100)})
    with pytest.raises(UploadRefused, match="2102 parti compresse"):
        check_upload(many, "many.xlsx")
    monkeypatch.setenv("PDZ_MAX_XLSX_MB", "1")
    noise = bytes((i * 7919) % 251 for i in range(3 * 1024 * 1024))  # compresses poorly: only the total trips
    total = zip_with(tmp_path / "total.xlsx", {"xl/worksheets/sheet1.xml": noise})
    with pytest.raises(UploadRefused, match="oltre il limite di 1 MB"):
        check_upload(total, "total.xlsx")


def test_the_loader_refuses_a_zip_bomb_too(tmp_path, db_path):
    """The same guard protects `python -m etl load` (the reader calls it before decompressing)."""
    bomb = zip_with(tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b"0" * (40 * 1024 * 1024)})
    with pytest.raises(ReadError, match="zip bomb"):
        check_xlsx_archive(bomb)
    [result] = load_files([bomb], db=db_path)
    assert result.status == "failed" and "zip bomb" in result.error


def test_safe_name_strips_folders_and_control_characters():
    assert safe_name("../../etc/passwd.csv") == "passwd.csv"
    assert safe_name("C:\\Users\\x\\dati.csv") == "dati.csv"
    assert safe_name("ri\nga\x00.csv") == "riga.csv"
    assert safe_name("") == "file"
    assert len(safe_name("a" * 500 + ".csv")) == 200
