"""Login and roles as a person meets them: `streamlit run app.py` on a NON-demo warehouse with a users file.

An unauthenticated visit shows only the login; a sindaco who opens the upload page's URL is refused;
an Ufficio di Piano session and a sindaco session, open at the same time in two browser contexts,
never see each other's numbers. Screenshots go to artifacts/screenshots/ (look at them).
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote_plus

import polars as pl
import pytest

from core import users
from core import warehouse as warehouse_db
from indicators import api, views
from tests.browser.test_dashboard_browser import _require_browser, _settle, _shot, _start_server, choose_in_sidebar

pytestmark = pytest.mark.browser

PASSWORD = "password-di-prova-1"


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    """A warehouse not marked as demo (so no open access), with three accounts beside it."""
    _require_browser()
    from demo.build import build_demo

    tmp = tmp_path_factory.mktemp("browser_auth")
    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    with warehouse_db.writer(db) as con:
        warehouse_db.set_meta(con, "demo", "false")
    path = tmp / "users.toml"
    users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=path)
    users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=path)
    env = {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")}
    env.pop("PDZ_USERS", None)
    proc, base = _start_server(db, env)
    yield base, db
    proc.terminate()
    proc.wait(timeout=20)


def _context_page(browser):
    """A browser context of its own: its own cookies, its own Streamlit session."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="it-IT")
    return context, context.new_page()


def _login(page, username: str) -> None:
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.get_by_role("button", name="Esci").wait_for(timeout=60_000)
    _settle(page)


def _nav_labels(page) -> list[str]:
    return [t.strip().splitlines()[-1] for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]


def test_unauthenticated_visit_shows_only_the_login(real_site, browser):
    base, _ = real_site
    context, page = _context_page(browser)
    try:
        page.goto(f"{base}/poverta?vista=Ufficio+di+Piano&comune=Crema")
        _settle(page)
        _shot(page, "login")
        body = page.inner_text('[data-testid="stMain"]')
        assert "Accesso" in body and page.get_by_label("Nome utente").count() == 1
        assert _nav_labels(page) == []  # no menu
        assert page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() == 0  # no filters
        assert page.locator('.js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0
        assert "Nel 2025" not in body and "Dati dimostrativi" not in body
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_sindaco_opening_the_upload_url_is_refused(real_site, browser):
    base, _ = real_site
    context, page = _context_page(browser)
    try:
        page.goto(f"{base}/dati?vista=Ufficio+di+Piano")
        _settle(page)
        _login(page, "sindaco.crema")  # the login keeps the URL: the page asked for is what opens next
        assert re.search(r"/dati(\?|$)", page.url)
        # the login's reruns (the session cookie is written by a component) may redraw the page once more
        page.wait_for_selector('h1:has-text("Pagina riservata")', timeout=60_000)
        assert page.locator("h1").first.inner_text() == "Pagina riservata"
        assert "riservata a: Ufficio di Piano" in page.inner_text('[data-testid="stMain"]')
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        labels = _nav_labels(page)
        assert "Panoramica" in labels and "Dati e qualità" not in labels and "Registro accessi" not in labels
        # the menu works: the sindaco's comune page, public view, Crema preselected
        page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Comune").click()
        page.wait_for_selector('h1:has-text("Comune di Crema")', timeout=60_000)
        _settle(page)
        _shot(page, "sindaco_comune")
        main = page.inner_text('[data-testid="stMain"]')
        assert "Vista: Pubblica" in main and "Accesso: Sindaco di Crema" in main
        assert page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').count() == 0  # no choice of view
    finally:
        context.close()


def test_office_upload_with_a_bad_row_shows_its_reason(real_site, browser, tmp_path):
    from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

    base, _ = real_site
    f = write_csv(
        tmp_path / "da_caricare.csv", PRESTAZIONI_HEADER, [prestazione("BR1"), prestazione("BR2", comune="Atlantide")]
    )
    context, page = _context_page(browser)
    try:
        page.goto(f"{base}/dati?vista=Ufficio+di+Piano")
        _settle(page)
        _login(page, "ufficio")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(f))
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Carica", exact=True).click()
        page.get_by_text("caricate 1, scartate 1").wait_for(timeout=60_000)
        _settle(page)
        _shot(page, "dati_upload")
        assert "comune sconosciuto" in page.inner_text("body")
    finally:
        context.close()


def _suppressed_cell(db) -> tuple[str, str, str, str]:
    """A comune cell the public view suppresses: (area, comune name, office reading, public reading)."""
    from indicators.profiles import territories

    with warehouse_db.reader(db) as con:
        public = api.indicator_table(con, "pubblico")
        office = api.indicator_table(con, "ufficio")
        names = dict(territories(con).select("comune", "nome").iter_rows())
    hidden = public.filter((pl.col("anno") == 2025) & (pl.col("livello") == "comune") & pl.col("soppresso"))
    both = hidden.join(office, on=["indicatore", "territorio", "anno"], suffix="_u").filter(
        pl.col("valore_u").is_not_null()
    )
    row = both.sort("territorio", "indicatore").row(0, named=True)
    ind, terr = row["indicatore"], row["territorio"]
    office_reading = views.reading(views.cell(office, ind, terr, 2025), 2025)
    public_reading = views.reading(views.cell(public, ind, terr, 2025), 2025)
    return row["area"], names[terr], office_reading, public_reading


def _readings(page) -> list[str]:
    page.get_by_text(re.compile(r"^Nel 2025")).first.wait_for(timeout=60_000)
    return page.get_by_text(re.compile(r"^Nel 2025")).all_inner_texts()


def test_concurrent_office_and_sindaco_sessions_never_see_each_others_numbers(real_site, browser):
    base, db = real_site
    area, comune, office_reading, public_reading = _suppressed_cell(db)
    assert "n.p." in public_reading and "n.p." not in office_reading
    url = f"{base}/{area}?anno=2025&comune={quote_plus(comune)}&vista=Ufficio+di+Piano"
    office_ctx, office = _context_page(browser)
    mayor_ctx, mayor = _context_page(browser)
    try:
        office.goto(url)
        mayor.goto(url)
        _settle(office)
        _settle(mayor)
        _login(office, "ufficio")
        _login(mayor, "sindaco.crema")  # both sessions are live from here on, same URL, same cell
        office_readings, mayor_readings = _readings(office), _readings(mayor)
        _shot(office, "concorrenti_ufficio")
        _shot(mayor, "concorrenti_sindaco")
        assert office_reading in office_readings and public_reading not in office_readings
        assert public_reading in mayor_readings and office_reading not in mayor_readings
        # each session reruns after the other's: still its own numbers
        for page in (office, mayor):
            choose_in_sidebar(page, "Anno", "2024")
            page.get_by_text(re.compile(r"^Nel 2024")).first.wait_for(timeout=60_000)
        for page in (office, mayor):
            choose_in_sidebar(page, "Anno", "2025")
            _settle(page)
        assert office_reading in _readings(office) and public_reading in _readings(mayor)
    finally:
        office_ctx.close()
        mayor_ctx.close()


# --- sessions that survive a reload and a shared link (issue 14, point 4) -------------------------


def _session_cookie(context, timeout_s: float = 30.0) -> dict:
    """The session cookie once the browser has stored it (the component writes it after the login)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [c for c in context.cookies() if c["name"] == "pdz_sessione" and c["value"] not in ("", "-")]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no session cookie: {context.cookies()}")


def _asks_password(page) -> bool:
    # under load a rerun briefly shows the stale login form beside the new one: wait for the run to end
    page.get_by_label("Nome utente").first.wait_for(timeout=60_000)
    _settle(page)
    return page.locator('[data-testid="stSidebarNavLink"]').count() == 0


def test_reload_and_shared_link_keep_the_session_until_logout(real_site, browser):
    base, _ = real_site
    context, page = _context_page(browser)
    try:
        page.goto(f"{base}/poverta")
        _settle(page)
        _login(page, "ufficio")
        cookie = _session_cookie(context)
        assert cookie["sameSite"] == "Strict" and PASSWORD not in cookie["value"] and "ufficio" not in cookie["value"]
        page.reload()
        page.get_by_role("button", name="Esci").wait_for(timeout=60_000)  # no password asked
        _settle(page)
        assert page.locator("h1").first.inner_text().startswith("Povertà")
        assert page.get_by_label("Nome utente").count() == 0
        # a shared link with filters, opened in a new page of the same browser: logged in, filters applied
        shared = context.new_page()
        shared.goto(f"{base}/anziani?anno=2024&comune=Crema")
        shared.get_by_role("button", name="Esci").wait_for(timeout=60_000)
        _settle(shared)
        _shot(shared, "sessione_link_condiviso")
        assert shared.locator("h1").first.inner_text().startswith("Anziani")
        shared.get_by_text(re.compile(r"^Nel 2024: ")).first.wait_for(timeout=30_000)
        assert "anno=2024" in shared.url and "comune=Crema" in shared.url  # the filters stayed, and apply:
        assert "Nel 2025" not in shared.inner_text('[data-testid="stMain"]')
        assert shared.get_by_text(re.compile(r"^Crema$")).count() >= 1  # the trend's title: the comune
        # logout in the first page: a reload of either asks for the password again
        page.get_by_role("button", name="Esci").click()
        assert _asks_password(page)
        shared.reload()
        assert _asks_password(shared)
        page.reload()
        assert _asks_password(page)
    finally:
        context.close()


def test_a_copied_cookie_with_an_altered_signature_is_refused(real_site, browser):
    base, _ = real_site
    context, page = _context_page(browser)
    thief, stolen = _context_page(browser)
    try:
        page.goto(f"{base}/")
        _settle(page)
        _login(page, "sindaco.crema")
        cookie = _session_cookie(context)
        body, signature = cookie["value"].rsplit(".", 1)
        altered = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
        thief.add_cookies([{**{k: cookie[k] for k in ("name", "domain", "path")}, "value": altered}])
        stolen.goto(f"{base}/comune")
        assert _asks_password(stolen)
        _shot(stolen, "sessione_cookie_alterato")
        assert "Crema" not in stolen.inner_text('[data-testid="stMain"]').replace("Cremasco", "")
    finally:
        context.close()
        thief.close()


def test_an_idle_session_is_refused_on_reload(real_site, browser):
    """The idle timeout is injected (PDZ_IDLE_TIMEOUT_HOURS): 20 seconds on a server of its own."""
    _, db = real_site
    env = {
        **os.environ,
        "PDZ_DB": str(db),
        "PDZ_SECRET": str(db.parent / "secret.key"),
        "PDZ_IDLE_TIMEOUT_HOURS": str(20 / 3600),
    }
    env.pop("PDZ_USERS", None)
    proc, base = _start_server(db, env)
    context, page = _context_page(browser)
    try:
        page.goto(f"{base}/")
        _settle(page)
        _login(page, "ufficio")
        _session_cookie(context)
        page.wait_for_timeout(25_000)
        page.reload()
        assert _asks_password(page)
        assert "Sessione scaduta per inattività" in page.inner_text('[data-testid="stMain"]')
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=20)
