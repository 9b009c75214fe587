"""Reports for a role: the Regione's hold no value of any comune (issue 11, point 5).

The rule is the dashboard's (`core.users.levels_for`, `api.for_levels`), handed to
`reports.prepare(levels=)`: no Comuni sheet, no comune row, no map coloured by comune, and no
report focused on a comune. The office's report (every level) is built beside it, so each check
is shown to bite.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from pptx import Presentation
from pypdf import PdfReader

from core import users, warehouse
from core.settings import REPO_ROOT
from indicators import api, profiles
from indicators.reports import build_report, common, images, write_report
from indicators.reports.xlsx import COMPARISONS_SHEET, COMUNI_SHEET, HEADER_ROW, METADATA_SHEET, REORGANISATION_SHEET

REGIONE = users.levels_for("regione")


@pytest.fixture(scope="module")
def comuni(demo_db: Path) -> set[str]:
    with warehouse.reader(demo_db) as con:
        return set(profiles.territories(con)["comune"].to_list())


def _cells(wb) -> list[tuple[str, object]]:
    return [(ws.title, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _level_column(ws) -> list[str]:
    header = [c.value for c in ws[HEADER_ROW + 1]]
    if "Livello" not in header:
        return []
    col = header.index("Livello") + 1
    return [ws.cell(r, col).value for r in range(HEADER_ROW + 2, ws.max_row + 1)]


def test_the_rule_levels_for_each_role():
    assert users.levels_for("regione") == ("sub_ambito", "ambito")
    assert users.levels_for("sindaco") == users.levels_for("ufficio_di_piano") == users.ALL_LEVELS
    assert users.levels_for("assessore") == ()  # unknown role: nothing
    assert users.Access("r", "regione").levels == REGIONE and not users.Access("r", "regione").sees_comuni
    table = pl.DataFrame({"livello": ["comune", "sub_ambito", "ambito"], "valore": [1.0, 2.0, 3.0]})
    assert api.for_levels(table, REGIONE)["livello"].to_list() == ["sub_ambito", "ambito"]
    assert api.for_levels(table, ()).height == 0
    with pytest.raises(ValueError, match="sconosciuti: comuni"):
        api.for_levels(table, ["comuni"])


def test_regione_xlsx_has_no_comune_sheet_and_no_comune_value(demo_db: Path, tmp_path: Path, comuni: set[str]):
    with warehouse.reader(demo_db) as con:
        office = openpyxl.load_workbook(build_report(con, "xlsx", tmp_path / "ufficio.xlsx"))
        regione = openpyxl.load_workbook(build_report(con, "xlsx", tmp_path / "regione.xlsx", levels=REGIONE))
    # the office's workbook has comuni: a sheet with 48 per comune-level indicator, comune codes in its cells
    assert COMUNI_SHEET in office.sheetnames
    assert comuni & {v for _, v in _cells(office)}
    # the Regione's: no Comuni sheet, no comune code in any cell, every row at sub-ambito or ambito level
    assert COMUNI_SHEET not in regione.sheetnames
    assert regione.sheetnames == [s for s in office.sheetnames if s != COMUNI_SHEET]
    leaked = [(sheet, v) for sheet, v in _cells(regione) if v in comuni]
    assert leaked == []
    for ws in regione.worksheets[1:]:
        if ws.title in (
            COMPARISONS_SHEET,
            REORGANISATION_SHEET,
        ):  # outside territories; the reorganisation's own tables
            continue
        levels = _level_column(ws)
        assert levels and set(levels) <= {"Sub-ambito", "Ambito"}, ws.title
    # the Riorganizzazione sheet: its territories are the ambito and the sub-ambiti, no comune by code or name
    with warehouse.reader(demo_db) as con:
        terr = profiles.territories(con)
    subs = {f"{s} {n}" for s, n in terr.select("sub_ambito", "nome_sub_ambito").unique().iter_rows()}
    rio = regione[REORGANISATION_SHEET]
    column_a = {rio.cell(r, 1).value for r in range(1, rio.max_row + 1)}
    assert subs | {"Ambito"} <= column_a
    assert not {c.value for row in rio.iter_rows() for c in row} & (set(terr["nome"].to_list()) | comuni)
    meta = regione[METADATA_SHEET]
    rows = {meta.cell(r, 1).value: meta.cell(r, 2).value for r in range(1, meta.max_row + 1)}
    assert rows["Livelli territoriali"] == "Ambito, Sub-ambito (i valori per comune non sono inclusi)"


def test_regione_maps_are_coloured_by_sub_ambito_only(demo_db: Path, comuni: set[str]):
    with warehouse.reader(demo_db) as con:
        office = common.prepare(con, "SA2")
        ctx = common.prepare(con, "SA2", levels=REGIONE)
    subs = {c for c, _ in ctx.sub_ambiti}
    assert set(ctx.table["livello"].unique()) == {"sub_ambito", "ambito"}
    by_comune = [e for e in ctx.entries if "comune" in e.livelli]
    assert by_comune
    for e in by_comune:
        assert office.map_level(e) == "comune" and ctx.map_level(e) == "sub_ambito"
        spec = images.specs(ctx)[f"map_{e.id}"]
        located = {a.code for a in spec.areas}
        assert located and located <= subs, (e.id, located - subs)
        assert not located & comuni and not {code for code, _, _ in spec.names} & comuni
        assert {a.code for a in images.specs(office)[f"map_{e.id}"].areas} & comuni


def test_regione_cannot_have_a_report_on_a_comune(demo_db: Path):
    with warehouse.reader(demo_db) as con:
        with pytest.raises(common.ReportError, match="per comune non sono consentiti a questo ruolo"):
            common.prepare(con, "019035", levels=REGIONE)
        with pytest.raises(common.ReportError, match="Nessun livello territoriale"):
            common.prepare(con, "SA1", levels=())
        assert common.prepare(con, "019035").territory_level == "comune"  # the office may


def test_cli_ruolo_regione_writes_a_regione_safe_report(demo_db: Path, tmp_path: Path, comuni: set[str]):
    out = tmp_path / "cli.xlsx"
    cmd = [sys.executable, "-m", "indicators", "report", "--format", "xlsx", "--out", str(out), "--db", str(demo_db)]
    done = subprocess.run([*cmd, "--ruolo", "regione"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(out)
    assert COMUNI_SHEET not in wb.sheetnames and not [v for _, v in _cells(wb) if v in comuni]
    refused = subprocess.run(
        [*cmd, "--ruolo", "regione", "--territory", "Crema"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "non sono consentiti a questo ruolo" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.slow
def test_regione_pptx_and_pdf_draw_no_comune_map(demo_db: Path, tmp_path: Path, comuni: set[str]):
    """The two drawn reports, on three indicators with comune values."""
    with warehouse.reader(demo_db) as con:
        ctx = common.prepare(con, "SA2", levels=REGIONE)
    names = {c: n for c, n in zip(ctx.territories["comune"], ctx.territories["nome"])}
    few = tuple(e for e in ctx.entries if "comune" in e.livelli)[:3]
    ctx = dataclasses.replace(ctx, entries=few, table=ctx.table.filter(pl.col("indicatore").is_in([e.id for e in few])))
    pptx = Presentation(write_report(ctx, "pptx", tmp_path / "regione.pptx"))
    texts = [s.text_frame.text for slide in pptx.slides for s in slide.shapes if s.has_text_frame]
    captions = [t for t in texts if t.startswith("Mappa per")]
    assert len(captions) == len(few) and all(t.startswith("Mappa per sub-ambito") for t in captions)
    tables = [
        c.text for slide in pptx.slides for s in slide.shapes if s.has_table for row in s.table.rows for c in row.cells
    ]
    assert not set(tables) & comuni
    pdf = "\n".join(p.extract_text() for p in PdfReader(write_report(ctx, "pdf", tmp_path / "regione.pdf")).pages)
    assert "Mappa per sub-ambito" in pdf and "Mappa per comune" not in pdf
    assert not [c for c in comuni if c in pdf]
    assert names  # the composition of the sub-ambiti (names) is territory, not data: it may be listed
