"""The mayor against the plan (AppTest): a sindaco's comune gets a status on a warehouse whose only
targets are the ambito's, a comune target takes precedence, and the maps carry the right numbers,
classes and legend.

The warehouse is the demo with every target but the ambito's removed (as on a real site at the
start of the plan); a users file beside it holds a sindaco of Crema and the Ufficio di Piano.
Tests run in file order: the last one adds Crema's own target.
"""

from __future__ import annotations

import json
import time

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import users, warehouse
from core.settings import REPO_ROOT
from indicators import api, fmt, maps, palette, views
from indicators.profiles import territories
from tests.conftest import demo_warehouse_env, open_page, wait_for_published
from ui import access as auth

TIMEOUT = 90
CREMA = "019035"
YEAR = 2025


def _prepare(tmp) -> None:
    users.add_user("sindaco.crema", "sindaco", "Crema", password="password-di-prova-1", path=tmp / "users.toml")
    users.add_user("ufficio", "ufficio_di_piano", password="password-di-prova-1", path=tmp / "users.toml")
    with warehouse.writer(tmp / "warehouse.duckdb") as con:
        con.execute("DELETE FROM obiettivi WHERE territorio <> 'AMBITO'")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("mayor"), _prepare) as db:
        yield db


def public_table(db) -> tuple[pl.DataFrame, pl.DataFrame]:
    with warehouse.reader(db) as con:
        return api.indicator_table(con, "pubblico"), territories(con)


def run_as(name: str, page: str = "pages/panoramica.py", **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = {"utente": name, "fonte": "locale", "dal": now, "ultimo": now}
    return open_page(at, page, **query)


def counters(at: AppTest) -> dict[str, int]:
    return {m.label.split(" ", 1)[1].lower(): int(m.value) for m in at.metric}


def test_the_warehouse_has_ambito_targets_only(site):
    with warehouse.reader(site) as con:
        assert con.execute("SELECT DISTINCT territorio FROM obiettivi").fetchall() == [("AMBITO",)]


def test_a_sindaco_panoramica_opens_on_the_comune_with_statuses_against_the_ambito_path(site):
    at = run_as("sindaco.crema", anno=str(YEAR))
    assert at.title[0].value == "Panoramica — Crema"
    table, _ = public_table(site)
    ov = views.overview(table, YEAR, CREMA)
    expected = views.status_counts(ov)
    assert counters(at) == expected and sum(expected.values()) > 0
    judged = ov.filter(pl.col("stato").is_in(list(views.STATUS_ICON)))
    assert judged.height == sum(expected.values()) and set(judged["riferimento"]) == {"ambito"}
    # the status of each row, by hand, on the ambito's straight line (higher or lower is better)
    for r in judged.iter_rows(named=True):
        amb = views.cell(table, r["indicatore"], "AMBITO", YEAR)
        assert (r["baseline"], r["obiettivo_finale"], r["atteso"]) == (
            amb["baseline"],
            amb["obiettivo_finale"],
            pytest.approx(amb["atteso"]),
        )
    captions = " ".join(c.value for c in at.caption)
    assert f"{judged.height} rispetto al percorso dell'ambito" in captions
    assert "Rispetto a" not in at.table[0].value.columns  # one reference for all: the caption says it


def test_the_maps_carry_the_numbers_classes_and_a_full_legend(site):
    at = run_as("sindaco.crema", "pages/anziani.py", anno=str(YEAR))
    table, terr = public_table(site)
    entry = [e for e in api.catalog() if e.area == "anziani"][0]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    values = views.level_values(table, terr, entry.id, YEAR, "comune")
    expected, classes = maps.map_classes(values, entry.direzione, entry.unita, entry.soglie)
    assert classes.method == "stato"  # ambito targets: comuni are classed by their status on its path
    fills = {t["legendgroup"]: t for t in spec["data"] if t["type"] == "choropleth"}
    for r in expected.iter_rows(named=True):
        trace = fills[r["classe"]]
        i = trace["locations"].index(r["territorio"])
        colour = trace["colorscale"][0][1]
        text = trace["customdata"][i][1]
        if r["soppresso"]:
            assert (r["classe"], colour) == ("np", palette.SUPPRESSED) and text.startswith("n.p.")
        elif r["valore"] is None:
            assert (r["classe"], colour) == ("nessun_dato", palette.NO_DATA) and text == "nessun dato"
        else:
            status_colour = dict((s, c) for s, _, c in palette.STATUS_CLASSES)[r["stato"]]
            assert (r["classe"], colour) == (r["stato"], status_colour)
            assert text == fmt.with_unit(r["valore"], entry.unita)
    legend = [t["name"] for t in spec["data"] if t.get("showlegend")]
    assert any(n.startswith("n.p.: dato non pubblicabile (") for n in legend)
    assert any(n.startswith("nessun dato (") for n in legend)
    names = [t for t in spec["data"] if t.get("name") == "nomi"][0]["text"]
    assert "<b>Crema</b>" in names  # the mayor's comune is named on the map, in bold
    # the list beside the map: every comune, with the map's value and colour class
    listed = at.dataframe[0].value
    assert len(listed) == terr.height and set(listed["Comune"]) == set(terr["nome"])
    crema = listed[listed["Comune"] == "Crema"].iloc[0]
    row = expected.filter(pl.col("territorio") == CREMA).row(0, named=True)
    assert crema["Valore"] == fmt.number(row["valore"], fmt.decimals_for(entry.unita))
    assert crema["Sulla mappa"] == row["classe_etichetta"] and crema["Rispetto a"] == "percorso dell'ambito"
    # the comune's trend keeps the reference lines: the ambito's baseline and targets
    trend = json.loads(at.get("plotly_chart")[1].proto.spec)
    lines = {t["name"]: t for t in trend["data"]}
    amb = views.cell(table, entry.id, "AMBITO", YEAR)
    assert lines["Baseline 2024 dell'ambito"]["y"] == [amb["baseline"]]
    assert lines["Obiettivo dell'ambito"]["y"] == [amb["target_2025"], amb["target_2026"], amb["target_2027"]]


def test_the_organisation_map_draws_the_leps_limit_as_a_class(site):
    at = run_as("ufficio", "pages/organizzazione.py", anno=str(YEAR), vista="Ufficio di Piano")
    with warehouse.reader(site) as con:
        table = api.indicator_table(con, "ufficio")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    fills = [t for t in spec["data"] if t["type"] == "choropleth"]
    colour_of = {loc: t["colorscale"][0][1] for t in fills for loc in t["locations"]}
    rows = table.filter(
        (pl.col("indicatore") == "org_residenti_per_as")
        & (pl.col("anno") == YEAR)
        & (pl.col("livello") == "sub_ambito")
    )
    assert rows.height == 6
    for r in rows.iter_rows(named=True):  # by hand: > 5.000 worse, 4.000-5.000 between, <= 4.000 better
        v = r["valore"]
        want = palette.WORSE_DARK if v > 5000 else (palette.WORSE_LIGHT if v > 4000 else palette.BETTER_DARK)
        assert colour_of[r["territorio"]] == want, r
    legend = [t["name"] for t in spec["data"] if t.get("showlegend")]
    assert any(n.startswith("oltre limite LEPS (> 5.000)") for n in legend)


def test_the_comune_page_gives_status_positions_and_a_small_map(site):
    at = run_as("sindaco.crema", "pages/comune.py", anno=str(YEAR))
    assert at.title[0].value == "Comune di Crema"
    table, terr = public_table(site)
    ov = views.comune_overview(table, terr, YEAR, CREMA)
    assert counters(at) == views.status_counts(ov) and sum(counters(at).values()) > 0
    # positions by hand: 1 + the comuni with a published value strictly better than Crema's
    entry = [e for e in api.catalog() if "comune" in e.livelli and e.area == "anziani"][0]
    rows = table.filter(
        (pl.col("indicatore") == entry.id)
        & (pl.col("anno") == YEAR)
        & (pl.col("livello") == "comune")
        & pl.col("valore").is_not_null()
        & ~pl.col("soppresso")
    )
    mine = rows.filter(pl.col("territorio") == CREMA)["valore"][0]
    better = rows.filter(pl.col("valore") > mine if entry.direzione == "alto" else pl.col("valore") < mine).height
    shown = pl.concat([pl.from_pandas(d.value) for d in at.dataframe if views.POSITION_COLUMN in d.value.columns])
    got = shown.filter(pl.col("Indicatore") == f"{entry.nome} ({entry.unita})")[views.POSITION_COLUMN][0]
    assert got.endswith(f" · {better + 1}° su {rows.height}")
    assert len(at.get("plotly_chart")) == 2  # the small map and the trend


def test_a_comune_target_takes_precedence(site):
    from etl import targets as target_writer
    from indicators.definitions import by_id

    table, _ = public_table(site)
    entry = [e for e in api.catalog() if "comune" in e.livelli and e.area == "anziani"][0]
    before = views.cell(table, entry.id, CREMA, YEAR)
    assert before["riferimento"] == "ambito" and not before["soppresso"]
    # Crema's own plan: baseline = its 2024 value, final target just short of its 2025 value (reached)
    b = views.cell(table, entry.id, CREMA, 2024)["valore"]
    final = before["valore"] * (0.99 if entry.direzione == "alto" else 1.01)
    plan = pl.DataFrame({"anno": [2024, 2027], "tipo": ["BASELINE", "TARGET"], "valore": [b, final]})
    assert target_writer.save_plan_rows(site, entry.id, CREMA, plan, catalog=by_id()) == []
    wait_for_published(site)  # written by another writer: the dashboard swaps its copy in the background
    after_table, _ = public_table(site)
    after = views.cell(after_table, entry.id, CREMA, YEAR)
    assert (after["riferimento"], after["baseline"], after["stato"]) == ("comune", b, "raggiunto")
    at = run_as("sindaco.crema", anno=str(YEAR))
    assert counters(at) == views.status_counts(views.overview(after_table, YEAR, CREMA))
    shown = pl.concat([pl.from_pandas(d.value) for d in at.table if "Rispetto a" in d.value.columns])  # Panoramica
    # the indicator's cell carries its unit once (views.overview_display)
    row = shown.filter(pl.col("Indicatore").str.starts_with(entry.nome)).row(0, named=True)
    assert (row["Stato"], row["Rispetto a"]) == ("✅ raggiunto", "obiettivo del comune")
