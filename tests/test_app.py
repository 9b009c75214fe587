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
    at = run_page("pages/panoramica.py", anno="2025", vista="Pubblica")
    ov = views.overview(tables["pubblico"], 2025, "AMBITO")
    expected = views.status_counts(ov)
    shown = {m.label.split(" ", 1)[1].lower(): int(m.value) for m in at.metric}
    assert shown == expected
    assert sum(expected.values()) > 0
    first_area = at.table[0].value  # a static table: every column fits the page
    poverta = views.overview_display(ov.filter(pl.col("area") == "poverta"), 2025)
    assert list(first_area["Valore 2025"]) == poverta["Valore 2025"].to_list()


def test_area_page_readings_match_engine_for_the_comune_in_the_url(demo_db, tables):
    at = run_page("pages/anziani.py", anno="2025", comune="Crema", vista="Pubblica")
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
    # the smallest comune is where small counts get suppressed: its value is n.p. and it gets no status
    with warehouse.reader(demo_db) as con:
        from indicators.profiles import territories

        terr = territories(con)
    smallest = terr.sort("residenti").row(0, named=True)
    at = run_page("pages/comune.py", anno="2025", comune=smallest["nome"], vista="Pubblica")
    table = tables["pubblico"]
    column = f"{smallest['nome']} 2025"
    shown = pl.concat([pl.from_pandas(frame.value) for frame in at.dataframe if column in frame.value.columns])
    expected = views.comune_overview_display(
        views.comune_overview(table, terr, 2025, smallest["comune"]),
        2025,
        smallest["nome"],
        smallest["nome_sub_ambito"],
    )
    assert sorted(shown[column].to_list()) == sorted(expected[column].to_list())
    suppressed = table.filter(
        (pl.col("territorio") == smallest["comune"]) & (pl.col("anno") == 2025) & pl.col("soppresso")
    )
    assert suppressed.height > 0 and shown[column].to_list().count("n.p.") == suppressed.height
    # a suppressed value never carries a status (nor a reference, nor a position)
    hidden_rows = shown.filter(pl.col(column) == "n.p.")
    assert set(hidden_rows["Stato"]) == {"⚪ n.p."}
    if "Rispetto a" in hidden_rows.columns:
        assert set(hidden_rows["Rispetto a"]) == {"–"}
    assert set(hidden_rows[views.POSITION_COLUMN]) == {"– · –"}


def test_ufficio_view_is_unsuppressed(demo_db, tables):
    at = run_page("pages/comune.py", anno="2025", comune="Crema", vista="Ufficio di Piano")
    shown = [v for frame in at.dataframe if "Crema 2025" in frame.value.columns for v in frame.value["Crema 2025"]]
    assert shown and "n.p." not in shown


def test_sub_ambito_page_compares_with_the_ambito(demo_db, tables):
    at = run_page("pages/sub_ambito.py", anno="2025", sub_ambito="SA2 · Adda - Pandino")
    assert at.title[0].value == "Sub-ambito Adda - Pandino (SA2)"
    comparison = views.territory_comparison(tables["pubblico"], 2025, "-", "SA2")
    expected = views.comparison_display(comparison, "Adda - Pandino", False)
    shown = at.table[-1].value
    assert list(shown["Sub-ambito Adda - Pandino"]) == expected["Sub-ambito Adda - Pandino"].to_list()
    assert list(shown["Ambito"]) == expected["Ambito"].to_list()


def test_dati_page_lists_the_load_history_only_for_the_office(demo_db):
    public = run_page("pages/dati.py", vista="Pubblica")  # the office's public preview: one click back
    assert any("anteprima pubblica" in i.value for i in public.info) and len(public.dataframe) == 0
    public.button(key="to_office_view").click().run()
    assert public.radio(key="vista").value == "ufficio" and len(public.dataframe) > 0
    at = run_page("pages/dati.py", vista="Ufficio di Piano")
    with warehouse.reader(demo_db) as con:
        from etl.queries import load_history

        n = load_history(con).height
    (history,) = [d.value for d in at.dataframe if "righe lette" in d.value.columns]
    assert len(history) == n == 7  # the demo's seven files (accessi; docs/esempi/confronti.csv)


def test_obiettivi_page_has_a_scheda_per_indicator_and_an_editor_for_the_office(demo_db):
    at = run_page("pages/obiettivi.py", vista="Ufficio di Piano")
    assert len([e for e in at.expander if " — " in e.label]) == len(api.catalog())  # besides the notes
    assert [b.label for b in at.button] == ["Salva gli obiettivi"]  # the editor is there for the office
    public = run_page("pages/obiettivi.py", vista="Pubblica")
    assert any("anteprima pubblica" in i.value for i in public.info)
    assert "Salva gli obiettivi" not in [b.label for b in public.button]


def test_area_maps_carry_the_engine_values_and_fetch_boundaries_by_url(demo_db, tables):
    """Maps name their boundaries by URL (served from static/): the file holds every comune once,
    every comune sits in the class trace the palette gives it, with the engine's value in its hover."""
    import json

    from core.settings import STATIC_DIR
    from indicators import fmt, maps, palette
    from indicators.profiles import territories

    at = run_page("pages/anziani.py", anno="2025", vista="Pubblica")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    fills = [t for t in spec["data"] if t["type"] == "choropleth"]
    url = fills[0]["geojson"]
    assert isinstance(url, str) and url.startswith("app/static/geo/") and all(t["geojson"] == url for t in fills)
    geo = json.loads((STATIC_DIR / "geo" / url.rsplit("/", 1)[1]).read_text(encoding="utf-8"))
    with warehouse.reader(demo_db) as con:
        comuni = {r[0] for r in con.execute("SELECT comune FROM comuni").fetchall()}
        terr = territories(con)
    assert [f["id"] for f in geo["features"]] and {f["id"] for f in geo["features"]} == comuni
    first = [e for e in api.catalog() if e.area == "anziani"][0]
    values = views.level_values(tables["pubblico"], terr, first.id, 2025, "comune")
    expected, classes = maps.map_classes(values, first.direzione, first.unita, first.soglie)
    by_class = {t["legendgroup"]: set(t["locations"]) for t in fills}
    assert set().union(*by_class.values()) == comuni
    for r in expected.iter_rows(named=True):
        assert r["territorio"] in by_class[r["classe"]], r
    hover = {loc: cd[1] for t in fills for loc, cd in zip(t["locations"], t["customdata"])}
    for r in expected.filter(pl.col("valore").is_not_null()).iter_rows(named=True):
        assert hover[r["territorio"]] == fmt.with_unit(r["valore"], first.unita)
    legend = [t["name"] for t in spec["data"] if t.get("showlegend")]
    assert any(n.startswith(palette.LABEL_NP) for n in legend) and any(n.startswith("nessun dato (") for n in legend)
    assert len(legend) == len(classes.legend)


@pytest.mark.parametrize("how", ["blocchi", "casuale"])
def test_a_damaged_warehouse_shows_an_italian_message_before_login_not_a_traceback(tmp_path, monkeypatch, how):
    import os

    from etl.loader import load_files
    from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("PDZ_DB", str(db))
    monkeypatch.setenv("PDZ_SECRET", str(tmp_path / "secret.key"))
    load_files([write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione(str(i)) for i in range(50)])], db=db)
    with open(db, "r+b") as fh:  # damaged blocks after the header, or nothing of a database at all
        size = db.stat().st_size
        fh.seek(4096 if how == "blocchi" else 0)
        fh.write(os.urandom(size - fh.tell()))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = at.error
    assert error.value.startswith("Il database non è leggibile") and "copia di sicurezza" in error.value
    shown = " ".join(str(e.value) for e in [*at.error, *at.markdown, *at.caption, *at.info])
    assert str(tmp_path) not in shown and "Traceback" not in shown and "IO Error" not in shown


def test_report_is_prepared_with_its_progress_shown_then_offered_for_download(demo_db):
    """«Prepara» runs the report in a status box with a progress bar, then the download button holds the file."""
    at = run_page("pages/panoramica.py", anno="2025")
    assert not at.download_button, "nothing is generated before the click"
    at.button(key="report_make_pptx").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.label for s in at.status] == ["Presentazione (PowerPoint): pronto"]
    assert at.status[0].state == "complete"
    assert at.get("progress")[-1].proto.value == 100
    [button] = [b for b in at.download_button if b.key == "report_pptx"]
    assert button.proto.label == "Scarica: Presentazione (PowerPoint)"


def test_first_start_builds_the_warehouse_under_a_navigation_of_its_own(demo_db, tmp_path, monkeypatch):
    """No warehouse yet: the router shows «Primo avvio» (no menu, not the listing of pages/) while it builds,
    then the dashboard."""
    import shutil

    from ui import router

    target = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("PDZ_DB", str(target))
    built = []

    def build() -> None:  # the demo build takes a minute: here a copy of the module's demo warehouse
        assert not target.exists()
        built.append(target)
        shutil.copy(demo_db, target)

    monkeypatch.setattr(router, "ensure_warehouse", build)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert built == [target] and at.title[0].value.startswith("Panoramica")
