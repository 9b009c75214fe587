"""The Assemblea's handout (indicators/reports/assemblea.py): one A4 landscape page per objective shown,
with the screen's words and numbers (public table), read back with pypdf; progress reported."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from core import warehouse
from core.users import levels_for
from indicators import api, fmt, views
from indicators.reports import ReportError
from indicators.reports.assemblea import filename, write_handout

pytestmark = pytest.mark.slow


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


@pytest.fixture(scope="module")
def suppressed_comune(public_table: pl.DataFrame, report_year: int) -> tuple[str, str]:
    """(indicator id, comune) of a suppressed comune cell in the report year."""
    row = public_table.filter(
        (pl.col("anno") == report_year) & (pl.col("livello") == "comune") & pl.col("soppresso")
    ).row(0, named=True)
    return row["indicatore"], row["territorio"]


@pytest.fixture(scope="module")
def handout(demo_db: Path, tmp_path_factory, suppressed_comune, report_year) -> tuple[Path, list[str]]:
    indicatore, comune = suppressed_comune
    org = next(e.id for e in api.catalog() if "comune" not in e.livelli)
    ids = [org, indicatore]  # given out of catalog order: printed in catalog order
    out = tmp_path_factory.mktemp("assemblea") / "assemblea.pdf"
    steps: list[tuple[float, str]] = []
    with warehouse.reader(demo_db) as con:
        write_handout(
            con,
            out,
            territory=comune,
            year=report_year,
            ids=ids,
            levels=levels_for("sindaco"),
            progress=lambda done, text: steps.append((done, text)),
        )
    assert steps[0][0] == 0.0 and steps[-1] == (1.0, "Pronto")
    assert [d for d, _ in steps] == sorted(d for d, _ in steps)  # the bar only moves forward
    assert "Mappe e grafici: 4 di 4" in [t for _, t in steps]  # only the two objectives printed are drawn
    return out, [_norm(p.extract_text()) for p in PdfReader(out).pages]


def test_one_landscape_page_per_objective_shown_in_catalog_order(handout, suppressed_comune):
    out, pages = handout
    reader = PdfReader(out)
    assert len(reader.pages) == 2
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width > height and abs(width - 842) < 2 and abs(height - 595) < 2  # A4 landscape, points
    catalog = [e.id for e in api.catalog()]
    indicatore, _ = suppressed_comune
    org = next(e for e in api.catalog() if "comune" not in e.livelli)
    first, second = sorted([indicatore, org.id], key=catalog.index)
    assert api.indicator(first).nome in pages[0] and api.indicator(second).nome in pages[1]
    assert all("DATI DIMOSTRATIVI" in p and "segreto statistico applicato" in p for p in pages)
    assert "obiettivo 1 di 2" in pages[0] and "obiettivo 2 di 2" in pages[1]


def test_the_pages_carry_the_screen_s_values_status_and_np(handout, public_table, suppressed_comune, report_year):
    _, pages = handout
    indicatore, comune = suppressed_comune
    page = next(p for p in pages if api.indicator(indicatore).nome in p)
    row = views.cell(public_table, indicatore, comune, report_year)
    assert f"Valore {report_year}" in page and fmt.SUPPRESSED in page
    assert _norm(views.reading(row, report_year)) in page  # «dato non pubblicabile (n.p.)»
    assert row["stato"] in page
    # the organisation's indicator: the comune's sub-ambito, said so
    org = next(e for e in api.catalog() if "comune" not in e.livelli)
    page = next(p for p in pages if org.nome in p)
    sub = public_table.filter(pl.col("territorio") == comune)  # the comune's rows carry no sub-ambito: find it
    assert sub.height
    assert "non è calcolato per comune" in page
    sub_rows = public_table.filter(
        (pl.col("indicatore") == org.id) & (pl.col("anno") == report_year) & (pl.col("livello") == "sub_ambito")
    )
    readings = [_norm(views.reading(r, report_year)) for r in sub_rows.iter_rows(named=True)]
    assert sum(r in page for r in readings) == 1  # exactly one sub-ambito's reading: the comune's


def test_no_objective_or_a_hidden_level_is_refused_in_italian(demo_db, report_year):
    with warehouse.reader(demo_db) as con, pytest.raises(ReportError, match="Nessun obiettivo da stampare"):
        write_handout(con, "/nonexistent/x.pdf", territory="AMBITO", year=report_year, ids=[])
    with warehouse.reader(demo_db) as con, pytest.raises(ReportError, match="non sono consentiti a questo ruolo"):
        write_handout(con, "/nonexistent/x.pdf", territory="019035", year=report_year, levels=levels_for("regione"))


def test_filename_names_territory_year_and_count():
    assert filename("019035", 2025, 1) == "assemblea_019035_2025_1_obiettivo.pdf"
    assert filename(None, 2025, 12) == "assemblea_AMBITO_2025_12_obiettivi.pdf"
