"""AppTest of the «Riorganizzazione» page as a sindaco, as the Regione and as the Ufficio di Piano: what is shown
equals the output of the functions behind `python -m indicators evaluate|equity|access` (indicators.reorganisation),
the public view for everyone but the office, and no comune row for the Regione."""

from __future__ import annotations

import json
import time

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import users, warehouse
from core.settings import REPO_ROOT
from indicators import api, evaluation, proximity, workload
from indicators import reorganisation as rio
from indicators.profiles import territories
from tests.conftest import demo_warehouse_env, open_page
from ui import access as auth

PAGE = "pages/riorganizzazione.py"
PASSWORD = "una-password-di-prova"
CREMA = "019035"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    def accounts(tmp):
        path = tmp / "users.toml"
        users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=path)
        users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=path)
        users.add_user("regione", "regione", password=PASSWORD, path=path)

    with demo_warehouse_env(tmp_path_factory.mktemp("rio"), accounts) as db:
        yield db


@pytest.fixture(scope="module")
def expected(site):
    """What the functions say on the demo warehouse (the page reads a snapshot of the same data)."""
    with warehouse.reader(site) as con:
        tables = {a: api.indicator_table(con, a) for a in ("pubblico", "ufficio")}
        sub = evaluation.sub_ambiti_frame(con)
        per_comune = proximity.nearest_access(con, 20)
        terr = territories(con)
        hosting = proximity.comuni_with_sede(con)
        candidate = terr.filter(~pl.col("comune").is_in(list(hosting))).sort("residenti", descending=True)["comune"][0]
        whatif = proximity.what_if(con, [candidate], 20)
        regione_table = api.for_levels(tables["pubblico"], users.levels_for("regione"))
        load = workload.caseload(con, table=regione_table)
    names = {k: f"{k} {v}" for k, v in sub.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").iter_rows()}
    return {
        "tables": tables,
        "sub": sub,
        "per_comune": per_comune,
        "terr": terr,
        "candidate": candidate,
        "whatif": whatif,
        "load": load,
        "names": names | {"AMBITO": "Ambito"},
    }


def run_as(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = {"utente": name, "fonte": "locale", "dal": now, "ultimo": now}
    return open_page(at, PAGE, **query)


def _frames(at: AppTest) -> list[pl.DataFrame]:
    return [pl.from_pandas(d.value.astype(str)) for d in at.dataframe]


def _has_frame(at: AppTest, want: pl.DataFrame) -> bool:
    want = want.cast(pl.String)
    return any(got.columns == want.columns and got.rows() == want.rows() for got in _frames(at))


def _markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_sindaco_reads_the_public_estimate_its_caveats_and_the_proximity_of_crema(site, expected):
    at = run_as("sindaco.crema", anno="2025", vista="Ufficio di Piano")
    assert len(at.radio) == 0  # a mayor has the public view only, whatever the URL says
    public, sub = expected["tables"]["pubblico"], expected["sub"]
    results = rio.pilot_results(public, sub)
    entries = {e.id: e for e in api.catalog()}
    by_id = {r["indicatore"]: r for r in results}
    chosen = at.selectbox(key="rio_indicatore").value
    default = next((i for i in by_id if by_id[i]["effetto"] is not None), next(iter(by_id)))
    assert chosen == default
    shown = _markdown(at)
    for line in rio.pilot_reading(by_id[chosen], entries[chosen], sub):  # the estimate in words, as computed
        assert line in shown
    assert rio.p_min_sentence(sub) in [i.value for i in at.info]  # «… la prova più forte possibile è p = 1/15»
    assert "p = 1/15" in rio.p_min_sentence(sub)
    assert _has_frame(at, rio.pilot_overview_display(rio.pilot_overview(results, entries)))
    # the public table refuses an estimate where a comune value is hidden: its reason is on the page
    refused = next(r for r in results if r["effetto"] is None)
    at.selectbox(key="rio_indicatore").set_value(refused["indicatore"]).run()
    shown = _markdown(at)
    assert rio.pilot_reading(refused, entries[refused["indicatore"]], sub)[0] in shown
    assert all(f"- {note}" in shown for note in refused["avvertenze"])
    trends = evaluation.pilot_trends(public, sub, refused["indicatore"])
    series = rio.sub_ambito_series(public, sub, refused["indicatore"])
    assert _has_frame(at, rio.trends_display(trends, series, entries[refused["indicatore"]].unita))

    # proximity: the table by sub-ambito, every comune, and the mayor's own comune in words
    summary = proximity.access_summary(expected["per_comune"])
    assert _has_frame(at, rio.proximity_display(summary, expected["names"]))
    assert _has_frame(at, rio.per_comune_display(expected["per_comune"]))
    crema = expected["per_comune"].filter(pl.col("comune") == CREMA).row(0, named=True)
    assert any(m.startswith("**Crema**: sede più vicina a") and "linea d'aria" in m for m in shown)
    assert crema["metodo"] == proximity.LINEA_ARIA  # the demo has no road matrix: labelled as an estimate
    assert any("linea d'aria" in w.value for w in at.warning)


def test_what_if_and_threshold_follow_the_functions(site, expected):
    at = run_as("sindaco.crema", anno="2025")
    at.selectbox(key="rio_ipotesi").set_value(expected["candidate"]).run()
    names = dict(zip(expected["terr"]["comune"], expected["terr"]["nome"])) | expected["names"]
    sub_of = expected["terr"].filter(pl.col("comune") == expected["candidate"])["sub_ambito"][0]
    shown = _markdown(at)
    for line in rio.what_if_sentences(expected["whatif"], names, sub_of):
        assert line in shown
    assert "È solo un'ipotesi: nulla è stato salvato." in shown
    assert _has_frame(at, rio.what_if_display(expected["whatif"]))
    at.slider(key="rio_soglia").set_value(5).run()
    with warehouse.reader(site) as con:
        five = proximity.access_summary(proximity.nearest_access(con, 5)).row(0, named=True)
    metric = next(m for m in at.metric if m.label == "Residenti oltre 5 minuti")
    assert metric.value == rio.fmt.number(five["residenti_oltre"]) and five["residenti_oltre"] > 0


def test_regione_sees_no_comune_row(site, expected):
    at = run_as("regione", anno="2025")
    comuni = set(expected["terr"]["comune"].to_list()) | set(expected["terr"]["nome"].to_list())
    for frame in _frames(at):
        cells = {str(v) for row in frame.rows() for v in row} | set(frame.columns)
        assert not cells & comuni, frame.columns
    # the équipe load and the proximity by sub-ambito are there, equal to the functions'
    rows = rio.caseload_year(expected["load"], 2025)
    assert _has_frame(at, rio.caseload_display(rows, expected["names"]))
    summary = proximity.access_summary(expected["per_comune"])
    assert _has_frame(at, rio.proximity_display(summary, expected["names"]))
    assert not _has_frame(at, rio.per_comune_display(expected["per_comune"]))
    farthest = rio.farthest_sentence(
        expected["per_comune"], summary, expected["names"], 20, False, " (stima in linea d'aria)"
    )
    assert farthest in _markdown(at) and "il comune più lontano è nel sub-ambito" in farthest.lower()
    # the map is by sub-ambito: its areas are the sub-ambiti, its values the shares beyond the threshold
    located = [
        loc
        for c in at.get("plotly_chart")
        for t in json.loads(c.proto.spec)["data"]
        if t["type"] in ("choropleth", "choroplethmap")
        for loc in t.get("locations", [])
    ]
    assert located and set(located) <= set(expected["names"]) - {"AMBITO"}
    # the what-if answers for the ambito and the sub-ambito, without a table of comuni
    at.selectbox(key="rio_ipotesi").set_value(expected["candidate"]).run()
    assert not _has_frame(at, rio.what_if_display(expected["whatif"]))
    assert any(m.startswith("Nell'ambito, residenti oltre 20 minuti") for m in _markdown(at))


def test_office_view_shows_the_unsuppressed_estimate(site, expected):
    at = run_as("ufficio", anno="2025", vista="Ufficio di Piano")
    office, sub = expected["tables"]["ufficio"], expected["sub"]
    results = rio.pilot_results(office, sub)
    chosen = at.selectbox(key="rio_indicatore").value
    result = next(r for r in results if r["indicatore"] == chosen)
    assert result["effetto"] is not None
    entry = {e.id: e for e in api.catalog()}[chosen]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Effetto stimato"] == rio.with_unit(rio.num(result["effetto"], entry.unita, True), entry.unita)
    assert metrics["p-value"] == rio.p_text(result["p_value"])
    assert sum(r["effetto"] is not None for r in results) > sum(
        r["effetto"] is not None for r in rio.pilot_results(expected["tables"]["pubblico"], sub)
    )  # the office sees estimates the public view refuses
