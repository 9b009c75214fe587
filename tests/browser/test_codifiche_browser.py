"""The Ufficio di Piano maps a held code from «Dati e qualità», as a person does it: `streamlit run app.py`
on a non-demo warehouse holding rows whose code (the cartella sociale's own) has no mapping yet, login,
the form, the rows loaded. Screenshots: artifacts/screenshots/codifiche_prima.png (the form filled in) and
codifiche_dopo.png (the outcome)."""

from __future__ import annotations

import os
import re

import duckdb
import pytest

from core import users
from core import warehouse as warehouse_db
from etl.loader import load_files
from tests.browser.test_auth_browser import PASSWORD, _login
from tests.browser.test_dashboard_browser import SHOTS, _require_browser, _settle, _start_server
from tests.conftest import make_cf, write_csv

pytestmark = pytest.mark.browser

HEADER = [
    "id_prestazione",
    "fonte",
    "codice_fiscale",
    "comune_residenza",
    "sistema_codifica",
    "codice_intervento",
    "data_inizio",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    _require_browser()
    from demo.build import build_demo

    tmp = tmp_path_factory.mktemp("browser_codifiche")
    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    with warehouse_db.writer(db) as con:
        warehouse_db.set_meta(con, "demo", "false")
    users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=tmp / "users.toml")
    env = {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")}
    env.pop("PDZ_USERS", None)
    anziani = [make_cf("BNCGNN", 1935 + i, 1 + i % 12, 2 + i) for i in range(12)]
    adulti = [make_cf("VRDLCU", 1960 + i, 3, 4 + i) for i in range(5)]
    rows = [
        *[[f"P{i}", "cartella", cf, "Crema", "CARTELLA", "DOM-ANZ", "2025-02-01"] for i, cf in enumerate(anziani)],
        *[[f"Q{i}", "cartella", cf, "Offanengo", "CARTELLA", "PAS-04", "2025-03-01"] for i, cf in enumerate(adulti)],
    ]
    old = {k: os.environ.get(k) for k in ("PDZ_DB", "PDZ_SECRET")}
    os.environ.update({"PDZ_DB": env["PDZ_DB"], "PDZ_SECRET": env["PDZ_SECRET"]})
    try:
        [res] = load_files([write_csv(tmp / "export_cartella.csv", HEADER, rows)], db=db, user="ufficio")
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    assert res.rows_held == 17
    proc, base = _start_server(db, env)
    yield base, db
    proc.terminate()
    proc.wait(timeout=20)


def test_the_office_maps_a_held_code_from_the_dashboard(site, browser):
    base, db = site
    context = browser.new_context(viewport={"width": 1400, "height": 1300}, locale="it-IT")
    page = context.new_page()
    try:
        page.goto(f"{base}/dati?vista=Ufficio+di+Piano")
        _settle(page)
        _login(page, "ufficio")  # the login keeps the URL: «Dati e qualità» opens next
        section = page.get_by_role("heading", name="Righe in attesa di codifica")
        section.scroll_into_view_if_needed()
        body = page.inner_text("body")
        assert "DOM-ANZ" in body and "PAS-04" in body and "export_cartella.csv" in body
        form = page.locator('[data-testid="stForm"]').filter(has_text="Associa un codice in attesa")
        form.locator('[data-testid="stSelectbox"]').filter(has_text="Intervento del catalogo").click()
        page.get_by_role("option", name=re.compile(r"^SAD — ")).click()
        form.get_by_label("Descrizione del codice nel sistema di origine (facoltativa)").fill(
            "Assistenza domiciliare anziani (codice interno della cartella)"
        )
        page.wait_for_timeout(500)
        section.evaluate("el => el.scrollIntoView({block: 'start'})")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "codifiche_prima.png"))
        form.get_by_role("button", name="Associa e carica le righe").click()
        page.get_by_text("Codifica salvata: CARTELLA DOM-ANZ → SAD").wait_for(timeout=60_000)
        _settle(page)
        # the outcome sits above the queue: show it with the queue (the page's header covers the top)
        page.get_by_text("File da caricare").evaluate("el => el.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SHOTS / "codifiche_dopo.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Righe in attesa ora caricate: 12" in page.inner_text("body")
        # the form starts afresh for the next code: no intervento carried over from the last one
        inputs = form.locator("input").evaluate_all("els => els.map(e => [e.value, e.placeholder])")
        assert inputs[0][0] == "CARTELLA · PAS-04 (5 righe in attesa)"
        assert inputs[1:] == [["", "Scegliere l'intervento che il codice indica"], ["", ""]]
    finally:
        context.close()
    con = duckdb.connect(str(db), read_only=True)
    try:
        left = con.execute("SELECT codice_intervento, count(*) FROM prestazioni_in_attesa GROUP BY ALL").fetchall()
        loaded = con.execute("SELECT count(*) FROM prestazioni WHERE fonte = 'cartella' AND intervento = 'SAD'")
        loaded = loaded.fetchall()
    finally:
        con.close()
    assert left == [("PAS-04", 5)] and loaded == [(12,)]
