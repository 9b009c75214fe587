"""The XLSX for Regione Lombardia, read back with openpyxl and compared cell by cell with the engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from core import warehouse
from core.settings import REPO_ROOT
from indicators import api, fmt
from indicators.reports import build_report, common
from indicators.reports.xlsx import (
    COMPARISONS_SHEET,
    COMUNI_SHEET,
    HEADER_ROW,
    METADATA_SHEET,
    REORGANISATION_SHEET,
    sheet_name,
)
from tests.reports.conftest import FOCUS

HEADER = HEADER_ROW + 1  # 1-based row of the column headers


@pytest.fixture(scope="module")
def workbook(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("xlsx") / "regione.xlsx"
    with warehouse.reader(demo_db) as con:
        path = build_report(con, "xlsx", out, territory=FOCUS)
    assert path == out
    return openpyxl.load_workbook(out)


def _areas() -> dict[str, list]:
    out: dict[str, list] = {}
    for e in api.catalog():
        out.setdefault(e.nome_area, []).append(e)
    return out


def _header(ws) -> dict[str, int]:
    return {ws.cell(HEADER, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(HEADER, c).value}


def _expected_cell(table: pl.DataFrame, indicatore: str, territorio: str, anno: int):
    rows = table.filter(
        (pl.col("indicatore") == indicatore) & (pl.col("territorio") == territorio) & (pl.col("anno") == anno)
    )
    assert rows.height == 1, (indicatore, territorio, anno)
    return rows.row(0, named=True)


def _check_value(cell, expected: dict) -> str:
    """The cell holds the engine's value as a number, 'n.p.' if suppressed, 'n.d.' if missing."""
    if expected["soppresso"]:
        assert cell.value == fmt.SUPPRESSED, (cell.coordinate, cell.value)
        return "np"
    if expected["valore"] is None:
        assert cell.value == common.NOT_AVAILABLE, (cell.coordinate, cell.value)
        return "nd"
    assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool), (cell.coordinate, cell.value)
    assert cell.value == pytest.approx(expected["valore"], rel=1e-9, abs=1e-9)
    assert cell.number_format in ("#,##0", "#,##0.0")
    return "number"


def test_every_area_sheet_and_the_metadata_sheet_are_present(workbook):
    names = workbook.sheetnames
    assert names[0] == METADATA_SHEET and names[-3:] == [REORGANISATION_SHEET, COMUNI_SHEET, COMPARISONS_SHEET]
    used: set[str] = {s.casefold() for s in (METADATA_SHEET, COMUNI_SHEET, COMPARISONS_SHEET, REORGANISATION_SHEET)}
    expected = [sheet_name(area, used) for area in _areas()]
    assert names[1:-3] == expected
    assert len(expected) == 7


def test_area_sheets_hold_the_engine_values_for_every_year_territory_and_indicator(workbook, public_table):
    years = sorted(public_table["anno"].unique().to_list())
    kinds: dict[str, int] = {}
    for area, entries in _areas().items():
        ws = workbook[sheet_name(area, set())]
        cols = _header(ws)
        year_cols = {y: next(c for h, c in cols.items() if h.startswith(f"Valore {y}")) for y in years}
        seen = set()
        for r in range(HEADER + 1, ws.max_row + 1):
            indicatore, territorio = ws.cell(r, cols["Codice indicatore"]).value, ws.cell(r, cols["Territorio"]).value
            seen.add((indicatore, territorio))
            for y, c in year_cols.items():
                kind = _check_value(ws.cell(r, c), _expected_cell(public_table, indicatore, territorio, y))
                kinds[kind] = kinds.get(kind, 0) + 1
        subs = public_table.filter(pl.col("livello") == "sub_ambito")["territorio"].unique().to_list()
        assert seen == {(e.id, t) for e in entries for t in [*subs, "AMBITO"]}
    assert kinds.get("np", 0) > 0, "the demo at scale 0.2 has suppressed sub-ambito cells: they must be n.p."
    assert kinds.get("number", 0) > 0


def test_targets_status_and_projection_columns(workbook, public_table, report_year):
    ws = workbook[sheet_name(api.indicator("anziani_sad_copertura_65").nome_area, set())]
    cols = _header(ws)
    assert f"Stato {report_year}" in cols
    for r in range(HEADER + 1, ws.max_row + 1):
        indicatore, territorio = ws.cell(r, cols["Codice indicatore"]).value, ws.cell(r, cols["Territorio"]).value
        exp = _expected_cell(public_table, indicatore, territorio, report_year)
        assert ws.cell(r, cols[f"Stato {report_year}"]).value == (exp["stato"] or "senza obiettivo")
        for header, key in (
            ("Baseline 2024", "baseline"),
            ("Obiettivo 2027", "target_2027"),
            ("Proiezione al 31/12/2027", "proiezione_2027"),
        ):
            value = ws.cell(r, cols[header]).value
            if exp[key] is None:
                assert value == "–"
            else:
                assert value == pytest.approx(exp[key])


def test_layout_frozen_header_autofilter_widths(workbook):
    for name in [n for n in workbook.sheetnames[1:] if n != REORGANISATION_SHEET]:  # that one: blocks of tables
        ws = workbook[name]
        assert ws.freeze_panes == f"B{HEADER + 1}"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{HEADER}")
        assert ws.column_dimensions["A"].width >= 30
        assert ws.cell(3, 1).value == common.DEMO_LABEL


def test_comuni_sheet_values(workbook, public_table, report_year):
    ws = workbook[COMUNI_SHEET]
    cols = _header(ws)
    col = next(c for h, c in cols.items() if h == f"Valore {report_year}")
    checked = 0
    for r in range(HEADER + 1, ws.max_row + 1):
        exp = _expected_cell(
            public_table,
            ws.cell(r, cols["Codice indicatore"]).value,
            ws.cell(r, cols["Comune (ISTAT)"]).value,
            report_year,
        )
        _check_value(ws.cell(r, col), exp)
        checked += 1
    assert checked == 48 * sum(1 for e in api.catalog() if "comune" in e.livelli)


def test_metadata_sheet_has_demo_label_k_and_number_format_note(workbook, report_year):
    ws = workbook[METADATA_SHEET]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(texts)
    assert common.DEMO_LABEL in texts
    assert "k = 3" in joined and "k = 5" in joined
    assert "#,##0.0" in joined and "n.p." in joined
    assert "PROVVISORIA" in joined
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert rows["Anno dello stato"] == str(report_year)
    assert {e.id for e in api.catalog()} <= set(texts)


def test_cli_writes_the_xlsx_and_rejects_an_unknown_territory(demo_db: Path, tmp_path: Path):
    out = tmp_path / "cli.xlsx"
    cmd = [sys.executable, "-m", "indicators", "report", "--format", "xlsx", "--out", str(out), "--db", str(demo_db)]
    done = subprocess.run(
        [*cmd, "--territory", "019035", "--year", "2024"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    ws = openpyxl.load_workbook(out)[METADATA_SHEET]
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1)}
    assert rows["Anno dello stato"] == "2024" and rows["Territorio scelto"] == "Comune di Crema"
    bad = subprocess.run([*cmd, "--territory", "XX9"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "Territorio sconosciuto" in bad.stderr


def test_territory_and_year_resolution(demo_db: Path, public_table, report_year):
    with warehouse.reader(demo_db) as con:
        ctx = common.prepare(con, "019035")
        assert (ctx.territory, ctx.territory_level, ctx.parent_sub_ambito) == ("019035", "comune", "SA1")
        assert ctx.year == report_year and not ctx.is_partial_year
        assert common.prepare(con, "sa2").territory == "SA2"
        assert common.prepare(con, "19035").territory == "019035"
        with pytest.raises(common.ReportError, match="Anno 1990 non disponibile"):
            common.prepare(con, None, 1990)
    assert common.last_complete_year(public_table) == report_year
    assert report_year < public_table["anno"].max()  # the demo has a partial current year: it is not the default


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    a = sheet_name("Lavoro e inclusione lavorativa nel territorio", used)
    b = sheet_name("Lavoro e inclusione lavorativa nel territorio", used)
    assert len(a) <= 31 and len(b) <= 31 and a != b
    assert sheet_name("Casa/abitare: [x]", used) == "Casa-abitare- -x-"


def test_comparisons_sheet_lists_each_outside_value_with_its_source_apart_from_the_area_sheets(workbook, public_table):
    # the demo loads the contract's example file (docs/esempi/confronti.csv): read here with plain csv
    import csv

    with open(REPO_ROOT / "docs" / "esempi" / "confronti.csv", encoding="utf-8") as fh:
        example = list(csv.DictReader(fh, delimiter=";"))
    assert example
    ws = workbook[COMPARISONS_SHEET]
    cols = _header(ws)
    shown = []
    for r in range(HEADER + 1, ws.max_row + 1):
        code = ws.cell(r, cols["Codice indicatore"]).value
        if code is None:
            continue
        row = {h: ws.cell(r, c).value for h, c in cols.items()}
        shown.append(row)
        assert row["Indicatore"] == api.indicator(code).nome and row["Unità di misura"] == api.indicator(code).unita
        # beside it, the ambito's own published value of the same year (a number, n.p. or n.d., never 0 for missing)
        own = public_table.filter(
            (pl.col("indicatore") == code) & (pl.col("territorio") == "AMBITO") & (pl.col("anno") == row["Anno"])
        )
        own_cell = ws.cell(r, cols["Ambito, stesso anno (questo strumento)"])
        if own.height:
            _check_value(own_cell, own.row(0, named=True))
        else:
            assert own_cell.value == common.NOT_AVAILABLE
    expected = [
        (e["indicatore"], e["territorio"], int(e["anno"]), float(e["valore"].replace(",", ".")), e["fonte"], e["nota"])
        for e in example
    ]
    keys = ("Codice indicatore", "Territorio", "Anno", "Valore", "Fonte", "Nota")
    assert [tuple(s[k] for k in keys) for s in shown] == expected
    assert all(s["Fonte"] == "esempio — sostituire con il dato ufficiale" for s in shown)
    # never in the sheets of the ambito's own numbers
    outside_labels = {e["territorio"] for e in example}
    for name in workbook.sheetnames:
        if name == COMPARISONS_SHEET:
            continue
        cells = {c.value for row in workbook[name].iter_rows() for c in row if isinstance(c.value, str)}
        assert not outside_labels & cells, name


def _block(ws, title: str) -> tuple[dict[str, int], list[int]]:
    """The header (name -> column) and the data rows of the block under `title` on the Riorganizzazione sheet."""
    start = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith(title))
    header = {ws.cell(start + 1, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(start + 1, c).value}
    rows = []
    for r in range(start + 2, ws.max_row + 1):
        if ws.cell(r, 2).value is None:  # a note or the blank line after the block
            break
        rows.append(r)
    return header, rows


def test_reorganisation_sheet_holds_the_functions_numbers(workbook, demo_db: Path, public_table, report_year):
    from indicators import evaluation, proximity, reorganisation, workload

    ws = workbook[REORGANISATION_SHEET]
    assert ws.cell(3, 1).value == common.DEMO_LABEL
    with warehouse.reader(demo_db) as con:
        sub = evaluation.sub_ambiti_frame(con)
        summary = proximity.access_summary(proximity.nearest_access(con))
        levels_table = public_table  # the Ufficio's report: every level
        load = reorganisation.caseload_year(workload.caseload(con, table=levels_table), report_year)
    assert reorganisation.p_min_sentence(sub) in [ws.cell(r, 1).value for r in range(1, 12)]
    # the pilot: one row per indicator published by comune, numbers or n.d. with the reason
    header, rows = _block(ws, "Sub-ambiti pilota e altri")
    results = {r["indicatore"]: r for r in evaluation.evaluate(public_table, sub)}
    assert {ws.cell(r, header["Codice indicatore"]).value for r in rows} == set(results)
    for r in rows:
        res = results[ws.cell(r, header["Codice indicatore"]).value]
        cell = ws.cell(r, header["Effetto stimato"]).value
        if res["effetto"] is None:
            assert cell == common.NOT_AVAILABLE and ws.cell(r, header["Avvertenze"]).value
        else:
            assert cell == pytest.approx(res["effetto"])
            assert ws.cell(r, header["p-value"]).value == pytest.approx(res["p_value"])
        assert ws.cell(r, header["p minimo possibile"]).value == pytest.approx(1 / 15)
        assert ws.cell(r, header["Metodo"]).value == res["metodo"]
        unit = api.indicator(res["indicatore"]).unita
        assert ws.cell(r, header["Unità dell'effetto"]).value == ("punti percentuali" if unit == "%" else unit)
    # proximity: the ambito then the sub-ambiti, as access_summary
    header, rows = _block(ws, "Vicinanza dei punti di accesso")
    assert [ws.cell(r, header["Residenti"]).value for r in rows] == summary["residenti"].to_list()
    assert [ws.cell(r, header["Minuti medi"]).value for r in rows] == pytest.approx(summary["minuti_medi"].to_list())
    # the équipe load: persons per FTE, n.p. where the public table hides the persons
    header, rows = _block(ws, "Carico delle équipe")
    for r, exp in zip(rows, load.iter_rows(named=True), strict=True):
        got = ws.cell(r, header["Persone per FTE dell'équipe"]).value
        assert got == fmt.SUPPRESSED if exp["soppresso"] else got == pytest.approx(exp["per_fte_equipe"])
