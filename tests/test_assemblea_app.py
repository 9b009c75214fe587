"""The Assemblea page (AppTest): previous / next, the engine's status words and values, the public
view for every role, a sindaco on their comune, n.p. for suppressed cells."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import settings, users, warehouse
from core.settings import REPO_ROOT
from indicators import api, fmt, views
from indicators.profiles import territories
from tests.conftest import demo_warehouse_env, open_page
from tests.test_auth import login_as

TIMEOUT = 90
PASSWORD = "una-password-di-prova"
PAGE = "pages/assemblea.py"
YEAR = 2025


def _accounts(tmp) -> None:
    path = tmp / "users.toml"
    users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=path)
    users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=path)
    users.add_user("regione", "regione", password=PASSWORD, path=path)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("assemblea"), _accounts) as db:
        yield db


@pytest.fixture(scope="module")
def tables(site):
    with warehouse.reader(site) as con:
        return {a: api.indicator_table(con, audience=a) for a in ("pubblico", "ufficio")} | {
            "territori": territories(con)
        }


def run_as(name: str, **query) -> AppTest:
    at = login_as(AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT), name)
    return open_page(at, PAGE, **query)


def status_of(at: AppTest) -> str:
    found = [re.search(r'pdz-status-value">([^<]+)<', m.value) for m in at.markdown]
    return next(m.group(1) for m in found if m)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected(table: pl.DataFrame, entry, territorio: str) -> tuple[str, str, str, str]:
    """(value, objective 2027, status, reading) computed here from the engine's row."""
    row = views.cell(table, entry.id, territorio, YEAR)
    value = fmt.with_unit(row["valore"], entry.unita, row["soppresso"])
    return value, fmt.with_unit(row["target_2027"], entry.unita), row["stato"], views.reading(row, YEAR)


def test_next_and_previous_change_the_objective_in_catalog_order(site):
    at = run_as("ufficio", anno=str(YEAR))
    names = [e.nome for e in api.catalog()]
    assert at.title[0].value == names[0]
    assert at.button(key="assemblea_prev").disabled and not at.button(key="assemblea_next").disabled
    at.button(key="assemblea_next").click().run()
    assert at.title[0].value == names[1]
    at.button(key="assemblea_next_bottom").click().run()  # the buttons under the slide too
    assert at.title[0].value == names[2]
    at.button(key="assemblea_prev").click().run()
    assert at.title[0].value == names[1]
    assert at.selectbox(key="obiettivo").value == api.catalog()[1].id
    at.selectbox(key="obiettivo").set_value(api.catalog()[-1].id).run()  # jump to the last one
    assert at.title[0].value == names[-1] and at.button(key="assemblea_next").disabled
    assert any(f"obiettivo **{len(names)} di {len(names)}**" in m.value for m in at.markdown)


def test_status_words_and_values_are_the_engine_s_public_ones_even_for_the_office(site, tables):
    at = run_as("ufficio", anno=str(YEAR), vista="Ufficio di Piano")  # the office's own view: ignored here
    name = settings.ambito_info()["nome_breve"]
    statuses = set()
    for entry in api.catalog()[:4]:
        value, target, status, reading = expected(tables["pubblico"], entry, "AMBITO")
        assert at.title[0].value == entry.nome
        assert metrics(at) == {f"Valore {YEAR} · {name}": value, "Obiettivo 2027": target}
        assert status_of(at) == status
        assert f"**{name}.** {reading}" in [m.value for m in at.markdown]
        statuses.add(status)
        at.button(key="assemblea_next").click().run()
    assert statuses & {"in linea", "non in linea", "a rischio", "raggiunto"}  # real statuses, not placeholders


def test_a_sindaco_sees_their_own_comune(site, tables):
    at = run_as("sindaco.crema", anno=str(YEAR))
    assert at.selectbox(key="territorio").value == "019035"
    assert any(m.value.startswith("**Assemblea dei Sindaci** · Comune di Crema · anno 2025") for m in at.markdown)
    entry = api.catalog()[0]
    value, target, status, reading = expected(tables["pubblico"], entry, "019035")
    assert metrics(at) == {f"Valore {YEAR} · Crema": value, "Obiettivo 2027": target}
    assert status_of(at) == status
    assert f"**Crema.** {reading}" in [m.value for m in at.markdown]
    # the trend draws the projection the reading states (a suppressed partial year after it must not hide it)
    traces = [t.get("name") for t in json.loads(at.get("plotly_chart")[1].proto.spec)["data"]]
    row = views.cell(tables["pubblico"], entry.id, "019035", YEAR)
    assert row["proiezione_2027"] is not None and "Proiezione al 31/12/2027" in traces
    # an indicator not published by comune: the comune's sub-ambito, said in words
    org = next(i for i, e in enumerate(api.catalog()) if "comune" not in e.livelli)
    at.selectbox(key="obiettivo").set_value(api.catalog()[org].id).run()
    value, _, status, _ = expected(tables["pubblico"], api.catalog()[org], "SA1")
    assert metrics(at)[f"Valore {YEAR} · Sub-ambito Crema"] == value and status_of(at) == status
    assert any("non è calcolato per comune" in c.value for c in at.caption)


def test_suppressed_cells_show_np_and_never_the_office_number(site, tables):
    public, office = tables["pubblico"], tables["ufficio"]
    hidden = public.filter((pl.col("anno") == YEAR) & (pl.col("livello") == "comune") & pl.col("soppresso")).join(
        office.filter(pl.col("valore").is_not_null()).select(
            "indicatore", "territorio", "anno", pl.col("valore").alias("vero")
        ),
        on=["indicatore", "territorio", "anno"],
    )
    assert hidden.height > 0
    row = hidden.row(0, named=True)
    entry = api.indicator(row["indicatore"])
    nome = tables["territori"].filter(pl.col("comune") == row["territorio"])["nome"][0]
    at = run_as("ufficio", anno=str(YEAR), vista="Ufficio di Piano", territorio=f"Comune di {nome}")
    at.selectbox(key="obiettivo").set_value(entry.id).run()
    assert at.title[0].value == entry.nome
    assert metrics(at)[f"Valore {YEAR} · {nome}"] == fmt.SUPPRESSED
    assert status_of(at) == views.cell(public, entry.id, row["territorio"], YEAR)["stato"]
    assert any(f"**{nome}.** Nel {YEAR}: dato non pubblicabile (n.p.)" in m.value for m in at.markdown)
    map_rows = next(t.value for t in at.table if "Comune" in t.value.columns)
    assert map_rows.loc[map_rows["Comune"] == nome, "Valore"].tolist() == [fmt.SUPPRESSED]
    true_value = fmt.with_unit(row["vero"], entry.unita)
    assert true_value not in [m.value for m in at.metric]


def test_the_regione_chooses_among_the_ambito_and_sub_ambiti_only(site):
    at = run_as("regione", anno=str(YEAR), territorio="Comune di Crema")  # a comune in the URL: not an option
    options = at.selectbox(key="territorio").options
    assert options[0] == settings.ambito_info()["nome_breve"] and all(not o.startswith("Comune") for o in options)
    assert at.selectbox(key="territorio").value == "AMBITO"


def test_no_objective_to_show_says_what_to_change(site):
    at = run_as("ufficio", anno=str(YEAR))
    at.multiselect(key="assemblea_aree").set_value([]).run()
    assert not at.exception
    assert any("Nessun obiettivo da mostrare" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 0


def test_print_this_objective_prepares_a_one_page_landscape_pdf_of_the_screen(site, tables):
    import io

    from pypdf import PdfReader

    at = run_as("sindaco.crema", anno=str(YEAR))
    at.button(key="assemblea_pdf_one_prepara").click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Scarica il PDF di questo obiettivo" in labels
    ident, data = at.session_state["assemblea_pdf_one"]
    assert ident[1:4] == ("019035", YEAR, (api.catalog()[0].id,))
    pdf = PdfReader(io.BytesIO(data))
    assert len(pdf.pages) == 1 and float(pdf.pages[0].mediabox.width) > float(pdf.pages[0].mediabox.height)
    text = " ".join(pdf.pages[0].extract_text().split())
    value, target, status, _ = expected(tables["pubblico"], api.catalog()[0], "019035")
    assert api.catalog()[0].nome in text and value in text and status in text and "Comune di Crema" in text
