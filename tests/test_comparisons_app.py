"""AppTest: the outside comparisons beside the ambito's values (area page, Comune page) and the
templates in «Dati e qualità» (issue 15, items 4-5). The demo loads docs/esempi/confronti.csv."""

from __future__ import annotations

import csv

import pytest
from streamlit.testing.v1 import AppTest

from core import settings, warehouse
from core.settings import REPO_ROOT
from etl.schemas import TABLES
from indicators import api, comparisons, fmt, views
from tests.conftest import demo_warehouse_env, open_page

TIMEOUT = 90
SAD = "anziani_sad_copertura_65"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("confronti_app")) as db:
        yield db


@pytest.fixture(scope="module")
def public_table(demo_db):
    with warehouse.reader(demo_db) as con:
        return api.indicator_table(con, audience="pubblico")


def example() -> dict[str, list[dict]]:
    with open(REPO_ROOT / "docs" / "esempi" / "confronti.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["indicatore"], []).append(r)
    return out


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    return open_page(at, page, **query)


COMPARISON_COLUMNS = {"Territorio", "Anno", "Valore", "Fonte"}


def shown_tables(at: AppTest) -> list[list[dict]]:
    """The comparison tables of the page (not the charts' «Dati» tables, also st.table)."""
    return [t.value.to_dict("records") for t in at.table if set(t.value.columns) == COMPARISON_COLUMNS]


def expected_outside(rows: list[dict], unita: str) -> list[dict]:
    return [
        {
            "Territorio": r["territorio"],
            "Anno": r["anno"],
            "Valore": fmt.with_unit(float(r["valore"].replace(",", ".")), unita),
            "Fonte": f"{r['fonte']} — {r['nota']}",
        }
        for r in rows
    ]


def test_area_page_shows_the_comparison_beside_the_ambitos_value_with_its_source(demo_db, public_table):
    at = run_page("pages/anziani.py", anno="2025")
    entry = api.indicator(SAD)
    ambito = views.cell(public_table, SAD, "AMBITO", 2025)
    tables = shown_tables(at)
    # one comparison table on the page: only the SAD indicator of the area has comparisons in the example
    anziani_with_comparisons = [e for e in api.catalog() if e.area == "anziani" and e.id in example()]
    assert len(tables) == len(anziani_with_comparisons) == 1
    assert tables[0] == [
        {
            "Territorio": settings.ambito_info()["nome_breve"],
            "Anno": "2025",
            "Valore": fmt.with_unit(ambito["valore"], entry.unita, ambito["soppresso"]),
            "Fonte": comparisons.OWN_SOURCE,
        },
        *expected_outside(example()[SAD], entry.unita),
    ]
    assert any(c.value == comparisons.EXPLANATION for c in at.caption)
    assert "esempio — sostituire con il dato ufficiale" in tables[0][1]["Fonte"]


def test_area_page_for_a_comune_puts_the_comune_then_the_ambito(demo_db, public_table):
    at = run_page("pages/anziani.py", anno="2025", comune="Crema")
    entry = api.indicator(SAD)
    (table,) = shown_tables(at)
    crema = views.cell(public_table, SAD, "019035", 2025)
    assert table[0] == {
        "Territorio": "Crema",
        "Anno": "2025",
        "Fonte": comparisons.OWN_SOURCE,
        "Valore": fmt.with_unit(crema["valore"], entry.unita, crema["soppresso"]),
    }
    assert [r["Territorio"] for r in table[1:]] == [settings.ambito_info()["nome_breve"]] + [
        r["territorio"] for r in example()[SAD]
    ]


def test_area_without_comparisons_shows_none(demo_db):
    at = run_page("pages/casa.py", anno="2025")
    assert not [e for e in api.catalog() if e.area == "casa" and e.id in example()]
    assert shown_tables(at) == []


def test_comune_page_lists_the_indicators_with_comparisons(demo_db, public_table):
    at = run_page("pages/comune.py", anno="2025", comune="Crema")
    assert any(s.value == comparisons.HEADING for s in at.subheader)
    tables = shown_tables(at)
    assert len(tables) == len(example())
    by_first_outside = {}
    for t in tables:
        outside = [r for r in t if r["Fonte"] != comparisons.OWN_SOURCE]
        by_first_outside[outside[0]["Fonte"]] = t
        own = [r["Territorio"] for r in t if r["Fonte"] == comparisons.OWN_SOURCE]
        assert own[-1] == settings.ambito_info()["nome_breve"] and len(own) >= 1
    sad = next(t for t in tables if t[0]["Territorio"] == "Crema")
    assert [r for r in sad if r["Fonte"] != comparisons.OWN_SOURCE] == expected_outside(
        example()[SAD], api.indicator(SAD).unita
    )


def test_dati_page_offers_a_template_of_every_table(demo_db):
    at = run_page("pages/dati.py", vista="Ufficio di Piano")
    chooser = at.selectbox(key="modello_tabella")
    assert chooser.options == [spec.label for spec in TABLES.values()]
    for name in ("prestazioni", "confronti"):
        chooser.set_value(name).run()
        assert not at.exception
        (guide,) = [d.value for d in at.dataframe if "Colonna" in d.value.columns]
        assert list(guide["Colonna"]) == [c.name for c in TABLES[name].columns]
        labels = [b.label for b in at.get("download_button")]
        assert "Modello CSV" in labels and "Modello Excel con istruzioni" in labels
