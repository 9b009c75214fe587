"""AppTest for every page: values shown equal the engine's, filters from the URL are applied."""

from __future__ import annotations

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import warehouse
from core.settings import REPO_ROOT
from indicators import api, views
from tests.conftest import demo_warehouse_env, open_page

TIMEOUT = 90


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("app")) as db:
        yield db


@pytest.fixture(scope="module")
def tables(demo_db):
    with warehouse.reader(demo_db) as con:
        return {a: api.indicator_table(con, audience=a) for a in ("pubblico", "ufficio")}


def run_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    return open_page(at, page, **query)


def test_panoramica_counts_statuses_like_the_engine(demo_db, tables):
    at = run_page("pages/panoramica.py", anno="2025")
    ov = views.overview(tables["pubblico"], 2025, "AMBITO")
    expected = views.status_counts(ov)
    shown = {m.label.split(" ", 1)[1].lower(): int(m.value) for m in at.metric}
    assert shown == expected
    assert sum(expected.values()) > 0
    first_area = at.dataframe[0].value
    poverta = views.overview_display(ov.filter(pl.col("area") == "poverta"), 2025)
    assert list(first_area["Valore 2025"]) == poverta["Valore 2025"].to_list()


def test_area_page_readings_match_engine_for_the_comune_in_the_url(demo_db, tables):
    at = run_page("pages/anziani.py", anno="2025", comune="Crema")
    assert at.selectbox(key="anno").value == 2025 and at.selectbox(key="comune").value == "019035"
    table = tables["pubblico"]
    expected = [
        views.reading(views.cell(table, e.id, "019035", 2025), 2025) for e in api.catalog() if e.area == "anziani"
    ]
    shown = [m.value for m in at.markdown if m.value.startswith("Nel 2025")]
    assert shown == expected


def test_changing_the_year_filter_changes_the_readings(demo_db, tables):
    at = run_page("pages/poverta.py", anno="2025")
    before = [m.value for m in at.markdown if m.value.startswith("Nel ")]
    at.selectbox(key="anno").set_value(2024).run()
    after = [m.value for m in at.markdown if m.value.startswith("Nel ")]
    assert all(t.startswith("Nel 2024") for t in after) and after != before


def test_comune_page_shows_suppressed_cells_as_np_in_public_view(demo_db, tables):
    # the smallest comune is where small counts get suppressed
    with warehouse.reader(demo_db) as con:
        from indicators.profiles import territories

        terr = territories(con)
    smallest = terr.sort("residenti").row(0, named=True)
    at = run_page("pages/comune.py", anno="2025", comune=smallest["nome"])
    table = tables["pubblico"]
    comparison = views.territory_comparison(table, 2025, smallest["comune"], smallest["sub_ambito"])
    shown_values = []
    for frame in at.dataframe:
        shown_values += list(frame.value[smallest["nome"]])
    expected = views.comparison_display(comparison, smallest["nome_sub_ambito"], True, smallest["nome"])
    assert sorted(shown_values) == sorted(expected[smallest["nome"]].to_list())
    n_suppressed = table.filter(
        (pl.col("territorio") == smallest["comune"]) & (pl.col("anno") == 2025) & pl.col("soppresso")
    ).height
    assert n_suppressed > 0 and shown_values.count("n.p.") == n_suppressed


def test_ufficio_view_is_unsuppressed(demo_db, tables):
    at = run_page("pages/comune.py", anno="2025", comune="Crema", vista="Ufficio di Piano")
    shown = [v for frame in at.dataframe for v in frame.value["Crema"]]
    assert "n.p." not in shown


def test_sub_ambito_page_compares_with_the_ambito(demo_db, tables):
    at = run_page("pages/sub_ambito.py", anno="2025", sub_ambito="SA2 · Adda - Pandino")
    assert at.title[0].value == "Sub-ambito Adda - Pandino (SA2)"
    comparison = views.territory_comparison(tables["pubblico"], 2025, "-", "SA2")
    expected = views.comparison_display(comparison, "Adda - Pandino", False)
    shown = at.dataframe[-1].value
    assert list(shown["Sub-ambito Adda - Pandino"]) == expected["Sub-ambito Adda - Pandino"].to_list()
    assert list(shown["Ambito"]) == expected["Ambito"].to_list()


def test_dati_page_lists_the_load_history_only_for_the_office(demo_db):
    public = run_page("pages/dati.py")
    assert any("vista Ufficio di Piano" in i.value for i in public.info)
    at = run_page("pages/dati.py", vista="Ufficio di Piano")
    with warehouse.reader(demo_db) as con:
        from etl.queries import load_history

        n = load_history(con).height
    history = at.dataframe[0].value
    assert len(history) == n == 6  # the demo's six files (accessi since the reorganisation issue)


def test_obiettivi_page_has_a_scheda_per_indicator_and_an_editor_for_the_office(demo_db):
    at = run_page("pages/obiettivi.py", vista="Ufficio di Piano")
    assert len(at.expander) == len(api.catalog())
    assert [b.label for b in at.button] == ["Salva gli obiettivi"]  # the editor is there for the office
    public = run_page("pages/obiettivi.py")
    assert any("riservata alla vista Ufficio di Piano" in i.value for i in public.info)


def test_area_maps_carry_the_engine_values_and_fetch_boundaries_by_url(demo_db, tables):
    """Maps name their boundaries by URL (served from static/): the file holds every comune once,
    and the coloured comuni carry the engine's values."""
    import json

    from core.settings import STATIC_DIR

    at = run_page("pages/anziani.py", anno="2025")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    hidden, shown = spec["data"][0], spec["data"][1]
    url = shown["geojson"]
    assert isinstance(url, str) and url.startswith("app/static/geo/") and hidden["geojson"] == url
    geo = json.loads((STATIC_DIR / "geo" / url.rsplit("/", 1)[1]).read_text(encoding="utf-8"))
    with warehouse.reader(demo_db) as con:
        comuni = {r[0] for r in con.execute("SELECT comune FROM comuni").fetchall()}
    assert [f["id"] for f in geo["features"]] and {f["id"] for f in geo["features"]} == comuni
    assert set(hidden["locations"]) | set(shown["locations"]) == comuni
    first = api.catalog()[[e.area for e in api.catalog()].index("anziani")]
    expected = (
        tables["pubblico"]
        .filter((pl.col("indicatore") == first.id) & (pl.col("anno") == 2025) & (pl.col("livello") == "comune"))
        .filter(pl.col("valore").is_not_null())
    )
    assert dict(zip(shown["locations"], shown["z"])) == pytest.approx(
        dict(zip(expected["territorio"], expected["valore"]))
    )
    outline = spec["layout"]["map"]["layers"][0]["source"]
    assert (STATIC_DIR / "geo" / outline.rsplit("/", 1)[1]).exists()
