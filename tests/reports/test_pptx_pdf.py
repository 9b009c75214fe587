"""The PPTX (python-pptx) and the PDF (pypdf text) read back and compared with the engine.

Neither needs a browser (test_images.py builds both with Playwright and Chromium out of reach).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches
from pypdf import PdfReader

from core import warehouse
from indicators import api, fmt, views
from indicators.reports import build_report, common
from indicators.reports.slides import READING_NAME
from tests.reports.conftest import FOCUS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pptx_file(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pptx") / "assemblea.pptx"
    with warehouse.reader(demo_db) as con:
        return build_report(con, "pptx", out, territory=FOCUS)


@pytest.fixture(scope="module")
def pdf_pages(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("pdf") / "relazione.pdf"
    with warehouse.reader(demo_db) as con:
        build_report(con, "pdf", out, territory=FOCUS)
    return [_norm(p.extract_text()) for p in PdfReader(out).pages]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _slide_texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame]


# --- PPTX ------------------------------------------------------------------------------------


def test_pptx_one_slide_per_indicator_with_map_and_chart(pptx_file: Path):
    prs = Presentation(pptx_file)
    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))
    names = {e.nome: e for e in api.catalog()}
    by_title: dict[str, int] = {}
    for slide in prs.slides:
        readings = [s for s in slide.shapes if s.name == READING_NAME]
        if not readings:
            continue
        title = slide.shapes.title.text
        assert title in names
        by_title[title] = by_title.get(title, 0) + 1
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 2
        assert all(p.image.content_type == "image/png" and len(p.image.blob) > 20_000 for p in pictures)
    assert by_title == {n: 1 for n in names}


SUB_AMBITO_NAMES = {
    "SA1": "Crema",
    "SA2": "Adda - Pandino",
    "SA3": "Nord - Vailate",
    "SA4": "Est - Soncino",
    "SA5": "Sud-Est - Castelleone",
    "SA6": "Sud - Montodine",
}


def test_pptx_reading_equals_views_reading_and_table_values(pptx_file: Path, public_table, report_year):
    prs = Presentation(pptx_file)
    slides = {s.shapes.title.text: s for s in prs.slides if any(x.name == READING_NAME for x in s.shapes)}
    suppressed_seen = 0
    for e in api.catalog():
        slide = slides[e.nome]
        reading = next(s for s in slide.shapes if s.name == READING_NAME).text_frame.text
        row = views.cell(public_table, e.id, FOCUS, report_year)
        assert reading.endswith(views.reading(row, report_year)), (e.id, reading)
        table = next(s for s in slide.shapes if s.has_table).table
        header = [table.cell(0, j).text for j in range(len(table.columns))]
        assert header[1:] == [*SUB_AMBITO_NAMES.values(), "Ambito"]  # names, never SA1…SA6
        codes = {name: code for code, name in SUB_AMBITO_NAMES.items()} | {"Ambito": "AMBITO"}
        for j, name in enumerate(header[1:], start=1):
            exp = views.cell(public_table, e.id, codes[name], report_year)
            shown = table.cell(1, j).text
            if exp["soppresso"]:
                assert shown == fmt.SUPPRESSED
                suppressed_seen += 1
            elif exp["valore"] is None:
                assert shown == common.NOT_AVAILABLE
            else:
                assert shown == fmt.number(exp["valore"], fmt.decimals_for(e.unita, exp["valore"]))
                assert shown != fmt.SUPPRESSED
            assert table.cell(2, j).text == (exp["stato"] or "senza obiettivo")
    assert suppressed_seen > 0


def test_pptx_demo_label_on_every_slide_and_provisional_sub_ambiti(pptx_file: Path, report_year):
    prs = Presentation(pptx_file)
    for i, slide in enumerate(prs.slides):
        assert any(common.DEMO_LABEL in t for t in _slide_texts(slide)), f"slide {i + 1} without demo label"
    first = "\n".join(_slide_texts(prs.slides[0]))
    assert f"Anno {report_year}" in first and "Sub-ambito SA2" in first
    indicator_slides = [s for s in prs.slides if any(x.name == READING_NAME for x in s.shapes)]
    assert all(any("provvisori" in t for t in _slide_texts(s)) for s in indicator_slides)
    summary = "\n".join(_slide_texts(prs.slides[1]))
    assert "non in linea" in summary and "Gli obiettivi più indietro" in summary


# --- PDF -------------------------------------------------------------------------------------


def _indicator_page(pages: list[str], nome: str) -> str:
    hits = [p for p in pages if "Mappa per" in p and nome in p]
    assert len(hits) == 1, nome
    return hits[0]


def test_pdf_cover_areas_and_demo_label(pdf_pages: list[str], report_year):
    cover = pdf_pages[0]
    assert "Relazione di monitoraggio del Piano di Zona 2025–2027" in cover
    assert "Ambito distrettuale Cremasco" in cover and f"anno {report_year}" in cover
    assert re.search(r"Dati aggiornati al \d{2}/\d{2}/\d{4}", cover)
    assert common.DEMO_LABEL in cover
    assert all(common.DEMO_LABEL in p for p in pdf_pages), "the footer of every page carries the demo label"
    text = " ".join(pdf_pages)
    for nome_area in {e.nome_area for e in api.catalog()}:
        assert nome_area in text
    assert "PROVVISORIA" in text and "Note di metodo" in text and "Schede degli indicatori" in text
    assert "k = 3" in text and "k = 5" in text


def test_pdf_focus_values_readings_and_suppressed_cells(pdf_pages: list[str], public_table, report_year):
    published = suppressed = 0
    for e in api.catalog():
        page = _indicator_page(pdf_pages, e.nome)
        row = views.cell(public_table, e.id, FOCUS, report_year)
        assert _norm(views.reading(row, report_year)) in page, e.id
        # the sub-ambito table: each row's value in Italian format, n.p. where the engine suppresses
        table = page.split("Stato", 1)[1]
        for code in ["SA1", "SA2", "SA3", "SA4", "SA5", "SA6"]:
            exp = views.cell(public_table, e.id, code, report_year)
            segment = table.split(code, 1)[1][:60]
            if exp["soppresso"]:
                assert fmt.SUPPRESSED in segment.split(" SA")[0], (e.id, code, segment)
                suppressed += 1
            elif exp["valore"] is not None:
                value = fmt.number(exp["valore"], fmt.decimals_for(e.unita, exp["valore"]))
                assert value in segment, (e.id, code, segment, value)
                published += 1
    assert published > 50 and suppressed > 0
    summary = " ".join(p for p in pdf_pages[1:4] if "Sintesi" in p or "Indicatore" in p)
    pos = 0  # the focus values appear in catalog order (names wrap across lines, so no name-value pairing)
    for e in api.catalog():
        row = views.cell(public_table, e.id, FOCUS, report_year)
        value = common.value_number(row, e.unita)
        found = summary.find(f" {value} ", pos)
        assert found >= 0, (e.id, value)
        pos = found + 1


# --- outside comparisons (the demo loads docs/esempi/confronti.csv) ------------------------------------


def _example_comparisons() -> dict[str, list[dict]]:
    import csv

    from core.settings import REPO_ROOT

    with open(REPO_ROOT / "docs" / "esempi" / "confronti.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["indicatore"], []).append(r)
    return out


def _expected_values(rows: list[dict], unita: str) -> list[str]:
    """Each territory's value in Italian format (the indicator's decimals) with its year, as written in the file."""
    out = []
    for r in rows:
        value = float(r["valore"].replace(",", "."))
        out.append(f"{r['territorio']} {fmt.number(value, fmt.decimals_for(unita, value))} ({r['anno']})")
    return out


def test_pptx_comparison_line_under_the_table_with_values_years_and_source(pptx_file: Path):
    from indicators.reports.slides import COMPARISON_NAME

    example = _example_comparisons()
    prs = Presentation(pptx_file)
    slides = {s.shapes.title.text: s for s in prs.slides if any(x.name == READING_NAME for x in s.shapes)}
    for e in api.catalog():
        boxes = [s.text_frame.text for s in slides[e.nome].shapes if s.name == COMPARISON_NAME]
        if e.id not in example:
            assert boxes == [], e.id
            continue
        assert len(boxes) == 1, e.id
        text = boxes[0]
        assert text.startswith(f"Confronto con altri territori, in {e.unita}"), text
        for value in _expected_values(example[e.id], e.unita):
            assert value in text, (e.id, value, text)
        assert "Fonte: esempio — sostituire con il dato ufficiale" in text


def test_pdf_comparison_line_under_the_table_with_values_years_and_source(pdf_pages: list[str]):
    example = _example_comparisons()
    for e in api.catalog():
        page = _indicator_page(pdf_pages, e.nome)
        if e.id not in example:
            assert "Confronto con altri territori" not in page, e.id
            continue
        assert "Confronto con altri territori" in page, e.id
        for value in _expected_values(example[e.id], e.unita):
            assert _norm(value) in page, (e.id, value)
        assert "esempio — sostituire con il dato ufficiale" in page


# --- the «Riorganizzazione» section ------------------------------------------------------------


@pytest.fixture(scope="module")
def section(demo_db: Path):
    with warehouse.reader(demo_db) as con:
        return common.prepare(con, FOCUS).reorganisation


def _table_rows(slide) -> list[list[str]]:
    table = next(s for s in slide.shapes if s.has_table).table
    return [[table.cell(i, j).text for j in range(len(table.columns))] for i in range(len(table.rows))]


def test_pptx_reorganisation_slides_hold_the_section(pptx_file: Path, section):
    prs = Presentation(pptx_file)
    slides = {s.shapes.title.text: s for s in prs.slides}
    pilot = "\n".join(_slide_texts(slides["Riorganizzazione: sub-ambiti pilota e altri"]))
    assert section.design in pilot and section.p_min in pilot and "p = 1/15" in section.p_min
    assert _table_rows(slides["Vicinanza dei punti di accesso (soglia 20 minuti)"]) == section.proximity_rows()
    assert _table_rows(slides[f"Carico delle équipe ({section.year})"]) == section.caseload_rows()
    equity = slides[f"Equità tra sub-ambiti ({section.year}): dove la distanza è maggiore"]
    assert _table_rows(equity) == section.equity_rows(limit=10)


def test_pdf_reorganisation_section(pdf_pages: list[str], section):
    page = next(p for p in pdf_pages if "Riorganizzazione: il nuovo modello alla prova" in p)
    assert _norm(section.p_min) in page and _norm(section.design) in page
    text = " ".join(pdf_pages)
    assert _norm(section.caseload_note) in text
    for row in section.proximity_rows()[1:]:  # the ambito and each sub-ambito, with its residents beyond
        assert _norm(row[3]) in text, row
