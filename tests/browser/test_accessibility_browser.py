"""Accessibility as a person with assistive technology meets it (WCAG 2.1 AA: Legge 4/2004, AgID guidelines).

One `streamlit run app.py` on a demo warehouse (open demo access: the Ufficio di Piano's role), every page
of the menu opened in its office view in headless Chromium, every expander opened, then axe-core
(`tests/browser/node_modules/axe-core`, installed by `npm ci` in tests/browser) run on the page with the
WCAG 2.0/2.1 A and AA rules: no violation on the app's own elements. Streamlit's own chrome is excluded
by selector, each with its reason (STREAMLIT_CHROME). Every chart must have an accessible name and, before
the next chart, its text alternative («Dati del grafico», «Dati della mappa», or a table).

The Assemblea page is also driven by keyboard, photographed at 1440 and 768 px and printed to PDF
(Chromium's page.pdf, then pdftoppm) into artifacts/screenshots/ (look at them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.settings import REPO_ROOT
from tests.browser.test_dashboard_browser import SHOTS, _require_browser, _settle, _start_server
from ui import menu

pytestmark = pytest.mark.browser

AXE = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Streamlit's own navigation and chrome, not the app's markup: excluded from the axe run, each with its reason.
STREAMLIT_CHROME = {
    '[data-testid="stSidebarNav"]': "il menu delle pagine di Streamlit: il suo <ul> contiene <div> di sezione e "
    "i suoi <li> stanno fuori da una lista (regole list e listitem); markup di Streamlit, non nostro",
}
QUERIES = {"comune": "&comune=Crema"}  # a page that needs a choice to show its content


def _require_axe() -> None:
    if not AXE.exists():
        if os.environ.get("PDZ_REQUIRE_BROWSER"):
            pytest.fail("axe-core is required here: cd tests/browser && npm ci")
        pytest.skip("axe-core not installed (cd tests/browser && npm ci); CI installs it")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    _require_axe()
    from demo.build import build_demo

    tmp = tmp_path_factory.mktemp("browser_a11y")
    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    env = {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")}
    env.pop("PDZ_USERS", None)
    proc, base = _start_server(db, env)
    yield base, tmp
    proc.terminate()
    proc.wait(timeout=20)


def _open(browser, url: str, width: int = 1440, height: int = 900, quick: bool = False):
    page = browser.new_page(viewport={"width": width, "height": height}, locale="it-IT")
    page.goto(url)
    if quick:  # axe reads the DOM: no need to wait for the maps to paint
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=90_000)
        for _ in range(2):
            page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
            page.wait_for_timeout(300)
    else:
        _settle(page)
    return page


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the page, Streamlit's chrome excluded."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async ([exclude, tags]) => {
             const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
             const r = await axe.run({exclude: exclude}, options);
             return r.violations.map(v => ({id: v.id, help: v.help,
               nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                          why: (n.failureSummary || '').slice(0, 300)}))}));
           }""",
        [list(STREAMLIT_CHROME), WCAG_TAGS],
    )


# For each chart (in document order): its accessible name, and whether its text alternative (an expander
# «Dati …» or a table) comes before the next chart.
CHART_ALTERNATIVES_JS = """() => {
  const sel = ['stPlotlyChart', 'stExpander', 'stTable', 'stDataFrame'].map(t => `[data-testid="${t}"]`).join(',');
  const items = Array.from(document.querySelectorAll(sel));
  const out = [];
  items.forEach((el, i) => {
    if (el.getAttribute('data-testid') !== 'stPlotlyChart') return;
    let alt = null;
    for (const next of items.slice(i + 1)) {
      const kind = next.getAttribute('data-testid');
      if (kind === 'stPlotlyChart') break;
      if (kind === 'stExpander') {
        const label = next.querySelector('summary').innerText.trim().split('\\n').pop();
        if (label.startsWith('Dati d')) { alt = label; break; }
      } else { alt = kind; break; }
    }
    out.push({name: el.getAttribute('aria-label'), alternative: alt});
  });
  return out;
}"""


# Open the expanders so that axe checks what they hold: every one, except that of the many «Dati …» tables
# (the same markup under every chart) only the first of each kind is opened, to keep the pass short.
OPEN_EXPANDERS_JS = """() => {
  const seen = new Set();
  document.querySelectorAll('[data-testid="stMain"] [data-testid="stExpander"] details').forEach(d => {
    const label = d.querySelector('summary').innerText.trim().split('\\n').pop();
    const kind = label.startsWith('Dati d') ? label.split(':')[0] : label;
    if (seen.has(kind) || d.open) return;
    seen.add(kind);
    d.querySelector('summary').click();
  });
}"""


def _pages() -> list[str]:
    return [e.url_path for e in menu.all_entries()]


@pytest.mark.parametrize("path", _pages())
def test_every_page_has_no_axe_violation_on_the_app_s_own_elements(server, browser, path):
    base, _ = server
    page = _open(browser, f"{base}/{path}?vista=Ufficio+di+Piano{QUERIES.get(path, '')}", quick=True)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:1000]
        page.evaluate(OPEN_EXPANDERS_JS)  # the tables inside the expanders are checked too
        page.wait_for_timeout(300)
        violations = axe_violations(page)
        report = "\n".join(
            f"{v['id']} ({v['help']}): " + "; ".join(f"{n['target']} → {n['why']}" for n in v["nodes"][:5])
            for v in violations
        )
        assert violations == [], f"/{path}: violazioni di accessibilità\n{report}"
        all_described = f"() => ({CHART_ALTERNATIVES_JS})().every(c => c.name && c.alternative)"
        try:  # tables and grids mount after the script has run: give them a moment under load
            page.wait_for_function(all_described, timeout=15_000)
        except PlaywrightTimeout:  # the assertion below says what is missing
            pass
        charts = page.evaluate(CHART_ALTERNATIVES_JS)
        missing = [c for c in charts if not c["name"] or not c["alternative"]]
        assert missing == [], f"/{path}: grafici senza nome accessibile o senza alternativa testuale: {missing}"
    finally:
        page.close()


def test_the_checks_catch_a_contrast_failure_and_a_chart_without_alternative(browser):
    """The two checks above find what they should, on a small page written here: a grey caption on white
    (3,9:1, Streamlit's default before the theme fix) and a chart with no name nor table."""
    _require_axe()
    page = browser.new_page()
    try:
        page.set_content(
            """<html lang="it"><head><title>Prova</title></head><body><main>
            <p style="color:#828180;background:#ffffff">Didascalia grigio chiaro</p>
            <div data-testid="stPlotlyChart" role="figure" aria-label="Andamento"></div>
            <div data-testid="stExpander"><details><summary>Dati del grafico: andamento</summary></details></div>
            <div data-testid="stPlotlyChart"></div>
            </main></body></html>"""
        )
        violations = axe_violations(page)
        assert [v["id"] for v in violations] == ["color-contrast"]
        assert "Didascalia" in violations[0]["nodes"][0]["html"]
        assert page.evaluate(CHART_ALTERNATIVES_JS) == [
            {"name": "Andamento", "alternative": "Dati del grafico: andamento"},
            {"name": None, "alternative": None},
        ]
    finally:
        page.close()


def _objective(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text()


def _wait_objective_change(page, before: str) -> str:
    page.wait_for_function(
        "(b) => { const h = document.querySelector('[data-testid=\"stMain\"] h1'); return h && h.innerText !== b; }",
        arg=before,
        timeout=30_000,
    )
    _settle(page)
    return _objective(page)


def test_assemblea_by_keyboard_without_sidebar_screenshots_and_print(server, browser):
    from pypdf import PdfReader

    from indicators import api

    base, tmp = server
    names = [e.nome for e in api.catalog()]
    page = _open(browser, f"{base}/assemblea?anno=2025&territorio=Comune+di+Crema")
    try:
        assert _objective(page) == names[0]
        assert not page.locator('[data-testid="stSidebar"]').is_visible()  # no sidebar on the projector
        assert "DATI DIMOSTRATIVI" in page.inner_text("body") and "Comune di Crema" in page.inner_text("body")
        page.wait_for_timeout(3000)  # the map paints after the script (no GPU here)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "assemblea_1440.png"))
        # keyboard: → next, ← previous (Streamlit's button shortcuts), Pag↓ as a presentation clicker sends
        page.mouse.click(8, 400)  # focus the page, not a widget
        page.keyboard.press("ArrowRight")
        assert _wait_objective_change(page, names[0]) == names[1]
        page.keyboard.press("PageDown")
        assert _wait_objective_change(page, names[1]) == names[2]
        page.keyboard.press("ArrowLeft")
        assert _wait_objective_change(page, names[2]) == names[1]
        assert "obiettivo=" in page.url  # the objective is in the URL: a reload or a link keeps it
        # paper: one objective on one A4 landscape page
        page.wait_for_timeout(3000)
        pdf = SHOTS / "assemblea_stampa.pdf"
        page.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)
        reader = PdfReader(pdf)
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert float(box.width) > float(box.height)  # landscape
        text = reader.pages[0].extract_text()
        assert names[1] in text and "Stato" in text and "Precedente" not in text  # no controls on paper
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(SHOTS / "assemblea_stampa")], check=True
            )
    finally:
        page.close()
    small = _open(browser, f"{base}/assemblea?anno=2025&territorio=Comune+di+Crema", width=768, height=1024)
    try:
        small.wait_for_timeout(3000)
        small.screenshot(path=str(SHOTS / "assemblea_768.png"), full_page=True)
        assert small.locator('[data-testid="stException"]').count() == 0
        assert small.locator(".st-key-assemblea_next button").first.is_visible()
    finally:
        small.close()


def test_artifacts_folder_is_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", "-q", str(Path(SHOTS) / "x.png")], cwd=REPO_ROOT)
    assert out.returncode == 0
