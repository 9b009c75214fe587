"""«Dati e qualità» (AppTest) for the Ufficio di Piano: rows waiting for a code mapping, grouped by
code, mapped from the form (their rows loaded at once), and the people of unknown age with the
indicators that leave them out."""

from __future__ import annotations

import time

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core import users, warehouse
from core.settings import REPO_ROOT
from etl import queries as etl_queries
from etl.loader import load_files
from tests.conftest import demo_warehouse_env, make_cf, open_page, write_csv
from ui import access as auth

PASSWORD = "una-password-di-prova"
HEADER = [
    "id_prestazione",
    "fonte",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "sistema_codifica",
    "codice_intervento",
    "data_inizio",
    "anno_nascita",
]
STP = "STP0301230000001"


def _prepare(tmp) -> None:
    users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=tmp / "users.toml")
    users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=tmp / "users.toml")
    db = tmp / "warehouse.duckdb"
    with warehouse.writer(db) as con:  # real records go to a warehouse that is not the demo's
        warehouse.set_meta(con, "demo", "false")
    old = [make_cf("BNCGNN", 1940 + i, 2, 3 + i) for i in range(3)]
    rows = [
        *[[f"S{i}", "cartella", cf, "Crema", "", "CARTELLA", "DOM-23", "2025-02-01", ""] for i, cf in enumerate(old)],
        ["S9", "cartella", make_cf("VRDLCU", 1950, 4, 5), "Crema", "", "CARTELLA", "Q7", "2025-02-01", ""],
        ["S10", "cartella", STP, "Crema", "SAD", "", "", "2025-02-01", ""],  # no year of birth: age unknown
    ]
    [res] = load_files([write_csv(tmp / "cartella.csv", HEADER, rows)], db=db, user="ufficio")
    assert (res.rows_loaded, res.rows_held) == (1, 4)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("codifiche"), _prepare) as db:
        yield db


def run_as(name: str, page: str = "pages/dati.py") -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=90)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = {"utente": name, "fonte": "locale", "dal": now, "ultimo": now}
    return open_page(at, page, vista="Ufficio di Piano")


def test_the_office_maps_a_held_code_and_its_rows_are_loaded(site):
    at = run_as("ufficio")
    held = at.table[0].value
    assert list(held["sistema"]) == ["CARTELLA", "CARTELLA"] and list(held["codice"]) == ["DOM-23", "Q7"]
    assert list(held["righe"]) == ["3", "1"] and set(held["file"]) == {"cartella.csv"}
    unknown = at.table[1].value
    assert list(unknown["intervento"]) == ["SAD"] and list(unknown["persone"]) == ["1"]
    assert "Copertura dell'assistenza domiciliare (SAD) 65+" in unknown["esclusi da"][0]

    codes = next(s for s in at.selectbox if s.label == "Codice in attesa")
    assert codes.index == 0  # DOM-23, the code with most rows, first
    with warehouse.reader(site) as con:
        catalogue = etl_queries.intervention_catalogue(con)["intervento"].to_list()
    target = next(s for s in at.selectbox if s.label == "Intervento del catalogo")
    assert len(target.options) == len(catalogue) and target.value is None  # no intervento chosen for the user
    target.set_value("SAD")
    next(t for t in at.text_input if t.label.startswith("Descrizione del codice")).input("Assistenza domiciliare")
    next(b for b in at.button if b.label == "Associa e carica le righe").click().run()
    assert not at.exception, [e.value for e in at.exception]

    saved = "Codifica salvata: CARTELLA DOM-23 → SAD. Righe in attesa ora caricate: 3."
    assert [s.value for s in at.success] == [saved]
    held = at.table[0].value
    assert list(held["codice"]) == ["Q7"]  # the page shows the new state at once
    con = duckdb.connect(str(site), read_only=True)
    try:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM prestazioni WHERE fonte = 'cartella'), "
            "(SELECT count(*) FROM prestazioni_in_attesa), "
            "(SELECT count(*) FROM audit WHERE azione = 'codifica' AND utente = 'ufficio' AND esito = 'ok')"
        ).fetchall()[0]
        mapping = con.execute("SELECT sistema, codice, intervento, descrizione FROM codifiche").fetchall()
    finally:
        con.close()
    assert counts == (4, 1, 1)
    assert mapping == [("CARTELLA", "DOM-23", "SAD", "Assistenza domiciliare")]


def test_a_mayor_never_reaches_the_form(site):
    at = run_as("sindaco.crema")
    assert not [b for b in at.button if b.label == "Associa e carica le righe"]
    assert any("riservata" in e.value for e in at.error)
