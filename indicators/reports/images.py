"""Plotly figures to PNG, and HTML to PDF, with headless Chromium and no network.

The maps draw with MapLibre (WebGL), which needs an http:// origin (file:// breaks its blob
worker): a throwaway `http.server` on 127.0.0.1 serves a temporary folder with plotly.js written
once; one Chromium page loads it, then draws the figures one after the other with `Plotly.react`
(the map is reused, so a map takes a fraction of a second) and screenshots each one.
The same browser prints the PDF report.

    with BrowserSession(workdir) as browser:
        pngs = browser.render(figures)          # {name: Path of the PNG}
        browser.print_pdf("report.html", out, footer_html)

Playwright's async API runs in a thread of its own, so this works from a Streamlit script
thread or a plain script alike.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from indicators.reports.common import IMAGE_SCALE, ReportError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser")
MAP_TIMEOUT_MS = 20_000
PAGE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script>
<style>html,body{margin:0;padding:0;background:#fff}#fig{display:inline-block}</style></head>
<body><div id="fig"></div></body></html>
"""
# Draw one figure and wait until MapLibre has loaded its sources and painted (no tiles: white-bg).
DRAW_JS = """async (name) => {
  const fig = await (await fetch(name + '.json')).json();
  const gd = document.getElementById('fig');
  gd.style.width = fig.layout.width + 'px';
  gd.style.height = fig.layout.height + 'px';
  await Plotly.react(gd, fig.data, fig.layout, {staticPlot: true, displayModeBar: false});
  const sub = gd._fullLayout.map && gd._fullLayout.map._subplot;
  if (sub && sub.map) {
    const m = sub.map, t0 = Date.now();
    while (!(m.loaded() && m.areTilesLoaded()) && Date.now() - t0 < TIMEOUT) {
      await new Promise(r => setTimeout(r, 30));
    }
    if (!m.loaded()) { return 'timeout'; }
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = gd.getBoundingClientRect();
  return [box.x, box.y, box.width, box.height];
}""".replace("TIMEOUT", str(MAP_TIMEOUT_MS))


def chromium_path() -> str | None:
    """Debian's Chromium (or None: then Playwright's own browser, if installed, is tried)."""
    for candidate in CHROMIUM_CANDIDATES:
        found = candidate if os.path.isabs(candidate) and os.path.exists(candidate) else shutil.which(candidate)
        if found:
            return found
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log on stderr
        pass


class BrowserSession:
    """A local http server on `workdir` and one headless Chromium, for a whole report."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdz-report-browser")
        self._playwright = None
        self._browser = None
        self._page = None

    # --- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> BrowserSession:
        (self.workdir / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        (self.workdir / "figure.html").write_text(PAGE_HTML, encoding="utf-8")
        handler = functools.partial(_QuietHandler, directory=str(self.workdir))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, name="pdz-report-http", daemon=True).start()
        try:
            self._call(self._start())
        except Exception:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._playwright is not None:
                self._call(self._stop())
        finally:
            if self._loop is not None:
                self._pool.submit(self._loop.close).result()
            self._pool.shutdown(wait=True)
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _call(self, coro):
        """Run a coroutine on the session's own event loop, in the session's own thread."""

        def run():
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(coro)

        return self._pool.submit(run).result()

    async def _start(self) -> None:
        from playwright.async_api import Error, async_playwright

        self._playwright = await async_playwright().start()
        path = chromium_path()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
        except Error as exc:
            await self._playwright.stop()
            self._playwright = None
            raise ReportError(
                "Per le immagini e il PDF serve Chromium (Debian: apt-get install chromium); "
                f"avvio non riuscito: {str(exc).splitlines()[0]}"
            ) from exc
        self._page = await self._browser.new_page(viewport={"width": 1400, "height": 1000},
                                                  device_scale_factor=IMAGE_SCALE)  # fmt: skip

    async def _stop(self) -> None:
        try:
            if self._browser is not None:
                await self._browser.close()
        finally:
            await self._playwright.stop()
            self._playwright = None

    # --- figures -----------------------------------------------------------------------

    def render(self, figures: dict[str, go.Figure]) -> dict[str, Path]:
        """Each figure (with layout width and height set) as a PNG in workdir: {name: path}."""
        for name, fig in figures.items():
            if fig.layout.width is None or fig.layout.height is None:
                raise ValueError(f"La figura {name} deve avere width e height.")
            (self.workdir / f"{name}.json").write_text(pio.to_json(fig, validate=False), encoding="utf-8")
        return self._call(self._render(list(figures)))

    async def _render(self, names: list[str]) -> dict[str, Path]:
        page = self._page
        await page.goto(f"{self.base_url}/figure.html")
        await page.wait_for_function("() => window.Plotly !== undefined")
        out: dict[str, Path] = {}
        for name in names:
            box = await page.evaluate(DRAW_JS, name)
            if box == "timeout":
                raise ReportError(f"La mappa {name} non è stata disegnata entro {MAP_TIMEOUT_MS // 1000} secondi.")
            x, y, w, h = box
            path = self.workdir / f"{name}.png"
            await page.screenshot(path=str(path), clip={"x": x, "y": y, "width": w, "height": h}, type="png")
            out[name] = path
        return out

    # --- PDF -------------------------------------------------------------------------------

    def print_pdf(self, html_name: str, out: Path, footer_html: str, header_html: str = "<span></span>") -> Path:
        """Print workdir/html_name (A4, with the footer on every page) to `out`."""
        return self._call(self._print(html_name, Path(out), footer_html, header_html))

    async def _print(self, html_name: str, out: Path, footer_html: str, header_html: str) -> Path:
        page = await self._browser.new_page()
        try:
            await page.goto(f"{self.base_url}/{html_name}", wait_until="load")
            await page.evaluate("() => document.fonts.ready.then(() => true)")
            await page.pdf(
                path=str(out), format="A4", print_background=True, display_header_footer=True,
                header_template=header_html, footer_template=footer_html, prefer_css_page_size=True,
                margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
            )  # fmt: skip
        finally:
            await page.close()
        return out


def render_figures(figures: dict[str, go.Figure], workdir: Path) -> dict[str, Path]:
    """One-shot helper: the figures as PNG files in workdir (one browser session)."""
    with BrowserSession(workdir) as browser:
        return browser.render(figures)
