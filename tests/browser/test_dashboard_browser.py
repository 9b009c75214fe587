"""The dashboard as a person sees it: `streamlit run app.py` on a test warehouse,
every page opened by its URL in headless Chromium, a filter changed, a bad file uploaded.

Screenshots go to artifacts/screenshots/ (look at them).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import REPO_ROOT
from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO_ROOT / "artifacts" / "screenshots"
PAGES = [
    "",
    "panoramica",
    "poverta",
    "casa",
    "anziani",
    "giovani",
    "famiglia",
    "lavoro",
    "organizzazione",
    "sub_ambito",
    "comune",
    "dati",
    "obiettivi",
    "esporta",
    "registro",
    "riorganizzazione",
]

pytestmark = pytest.mark.browser


def _require_browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("PDZ_REQUIRE_BROWSER"):
            pytest.fail("Chromium (/usr/bin/chromium) is required here: apt-get install chromium")
        pytest.skip("Chromium not installed (apt-get install chromium); CI runs these tests")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(db: Path, env: dict) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("streamlit did not start")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    _require_browser()
    from demo.build import build_demo

    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    env = {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")}
    return db, tmp, env


@pytest.fixture(scope="module")
def server(warehouse):
    db, tmp, env = warehouse
    proc, base = _start_server(db, env)
    yield base, tmp
    proc.terminate()
    proc.wait(timeout=20)


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, locale="it-IT")
    page.goto(url)
    _settle(page)
    return page


def _settle(page, timeout_ms: int = 90_000) -> None:
    """Wait until Streamlit has run the script (a title is drawn) and stays idle for a moment."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    for _ in range(3):  # idle three times in a row, 500 ms apart: the run has really finished
        page.wait_for_function(idle, timeout=timeout_ms)
        page.wait_for_timeout(500)
    page.wait_for_timeout(1000)  # maps and charts paint after the script ends


def choose_in_sidebar(page, label: str, option: str) -> None:
    """Pick an option of a sidebar selectbox as a person would: scroll the sidebar to it, open it, click."""
    select = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=label)
    page.locator('[data-testid="stSidebarContent"]').evaluate("el => el.scrollTop = el.scrollHeight")
    select.scroll_into_view_if_needed()
    select.click()
    page.get_by_role("option", name=option, exact=True).click()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_error(server, browser, path):
    base, _ = server
    query = (
        "?vista=Ufficio+di+Piano" if path in ("dati", "obiettivi") else ("?comune=Crema" if path == "comune" else "")
    )
    page = _open(browser, f"{base}/{path}{query}")
    _shot(page, path or "panoramica")
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
    body = page.inner_text("body")
    assert "Dati dimostrativi" in body
    assert "Accesso dimostrativo aperto" in body  # no users file beside this demo warehouse
    if path == "":  # the favicon is the repository's own file, served by the dashboard (no request elsewhere)
        icon = page.locator("link[rel~='icon']").first.get_attribute("href") or ""
        assert icon and (icon.startswith(base) or not re.match(r"^(https?:)?//", icon)), icon
    page.close()


def test_a_deep_link_as_first_request_after_start_goes_through_the_router(warehouse, browser):
    db, _, env = warehouse
    proc, base = _start_server(db, env)  # a server of its own: this must be its first request
    try:
        page = _open(browser, f"{base}/poverta?anno=2025")
        labels = [
            t.strip().splitlines()[-1] for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        ]
        assert "Povertà e inclusione" in labels and "Panoramica" in labels
        assert "common" not in labels and "area" not in labels  # not the legacy listing of pages/*.py
        assert page.locator("h1").first.inner_text().startswith("Povertà")
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _plot_data(page, index: int) -> list:
    return page.evaluate(
        "(i) => { const p = document.querySelectorAll('.js-plotly-plot')[i];"
        " return p ? p.data.map(t => ({z: t.z || null, y: t.y || null, loc: t.locations || null})) : null; }",
        index,
    )


def test_changing_the_year_changes_map_and_trend_reading(server, browser):
    base, _ = server
    page = _open(browser, f"{base}/anziani?anno=2025&comune=Crema")
    page.get_by_text(re.compile(r"^Nel 2025: ")).first.wait_for(timeout=30_000)
    map_2025 = json.dumps(_plot_data(page, 0))
    reading_2025 = page.get_by_text(re.compile(r"^Nel 2025: ")).first.inner_text()
    # change the year in the sidebar, as a person would
    choose_in_sidebar(page, "Anno", "2024")
    page.get_by_text(re.compile(r"^Nel 2024: ")).first.wait_for(timeout=30_000)
    _settle(page)
    _shot(page, "anziani_2024_crema")
    map_2024 = json.dumps(_plot_data(page, 0))
    reading_2024 = page.get_by_text(re.compile(r"^Nel 2024: ")).first.inner_text()
    assert "anno=2024" in page.url  # the filter lives in the URL: the view can be shared
    assert reading_2025 != reading_2024
    assert map_2024 != map_2025
    page.close()


def test_the_map_names_comuni_draws_without_network_and_a_click_selects_one(server, browser):
    """Names are SVG text on the map (no font server); nothing is fetched from outside; a click on a
    comune selects it in the sidebar filter (and the URL)."""
    base, _ = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="it-IT")
    outside = []
    map_hosts = ("cdn.plot.ly", "openmaptiles", "topojson", "basemaps")  # world topojson, glyphs, tiles
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(base) and any(h in r.url for h in map_hosts) else None,
    )
    page.goto(f"{base}/anziani?anno=2025")
    _settle(page)
    first_map = page.locator(".js-plotly-plot").first
    names = first_map.locator("text").evaluate_all("els => els.map(e => e.textContent)")
    assert "Crema" in names and "Castelleone" in names  # the largest comuni carry their name
    assert outside == []
    fills = first_map.locator("path.choroplethlocation")
    assert fills.count() == 48
    fills.nth(10).click(force=True)
    page.wait_for_url(re.compile(r"comune="), timeout=30_000)
    _settle(page)
    assert "Contorno nero:" in page.inner_text('[data-testid="stMain"]')
    page.close()


def test_upload_on_the_demo_is_refused_with_what_to_do(server, browser):
    """The open demo takes no real file (an upload on a real warehouse: tests/browser/test_auth_browser.py)."""
    base, tmp = server
    f = write_csv(tmp / "da_caricare.csv", PRESTAZIONI_HEADER, [prestazione("BR1")])
    page = _open(browser, f"{base}/dati?vista=Ufficio+di+Piano")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(f))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Carica", exact=True).click()
    page.get_by_text("Nessun file è stato caricato").wait_for(timeout=60_000)
    _settle(page)
    _shot(page, "dati_upload_demo")
    body = page.inner_text("body")
    assert "database dimostrativo" in body and "python -m etl init" in body
    assert "caricate 1" not in body


def test_report_download_from_the_dashboard_carries_the_engine_values(server, browser, warehouse):
    import openpyxl

    from core import warehouse as wh
    from indicators import api

    base, tmp = server
    page = _open(browser, f"{base}/?anno=2025")
    page.get_by_text(re.compile(r"^Scarica i report per")).click()
    page.get_by_role("button", name="Prepara: Tabelle per la Regione (Excel)").click()
    # the report is made in front of the user (status box with progress), then offered for download
    page.get_by_text("Tabelle per la Regione (Excel): pronto").wait_for(timeout=120_000)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Scarica: Tabelle per la Regione (Excel)").click()
    target = tmp / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name.endswith(".xlsx")
    with wh.reader(warehouse[0]) as con:
        table = api.indicator_table(con, audience="pubblico")
    expected = table.filter(
        (table["indicatore"] == "anziani_sad_copertura_65")
        & (table["territorio"] == "AMBITO")
        & (table["anno"] == 2025)
    )["valore"][0]
    wb = openpyxl.load_workbook(target, data_only=True)
    numbers = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, float)]
    assert any(abs(n - expected) < 1e-6 for n in numbers)
    page.close()
