"""Screenshots of every page for each role at 1440 and 768 px (issue 14): look at them.

    python -m tests.browser.screenshots artifacts/screenshots/after

Builds a small demo warehouse marked as real data (so the login is required, as in production),
creates one account per role (ufficio, sindaco of Crema, regione), starts `streamlit run app.py`,
logs in as each role in headless Chromium and saves `<role>_<page>_<width>.png` in the folder.
Pages are opened from the sidebar menu, as a person would, so this works on any version of the app.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PASSWORD = "password-di-prova-1"
ROLES = {"ufficio": ("ufficio_di_piano", None), "sindaco": ("sindaco", "Crema"), "regione": ("regione", None)}
WIDTHS = (1440, 768)
# Streamlit scrolls inside its own containers: the screenshot's height is the tallest of them.
_CONTENT_HEIGHT = """() => Math.max(document.body.scrollHeight,
  ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], section')]
  .map(e => e.scrollHeight))"""


def _site(tmp: Path) -> dict:
    from core import users
    from core import warehouse as wh
    from demo.build import build_demo

    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    with wh.writer(db) as con:
        wh.set_meta(con, "demo", "false")
    for name, (ruolo, comune) in ROLES.items():
        users.add_user(name, ruolo, comune, password=PASSWORD, path=tmp / "users.toml")
    env = {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")}
    env.pop("PDZ_USERS", None)
    return env


def take(out: Path, roles: list[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.browser.test_dashboard_browser import CHROMIUM, _settle, _start_server

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="pdz_shots_") as tmp:
        env = _site(Path(tmp))
        proc, base = _start_server(Path(tmp) / "warehouse.duckdb", env)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for role in roles or list(ROLES):
                    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="it-IT")
                    page = context.new_page()
                    page.goto(base + "/")
                    page.get_by_label("Nome utente").wait_for(timeout=90_000)
                    page.get_by_label("Nome utente").fill(role)
                    page.get_by_label("Password", exact=True).fill(PASSWORD)
                    page.get_by_role("button", name="Accedi").click()
                    page.get_by_role("button", name="Esci").wait_for(timeout=90_000)
                    _settle(page)
                    page.wait_for_timeout(3000)  # the session cookie is written after the login
                    links = page.locator('[data-testid="stSidebarNavLink"]')
                    labels = [t.strip().splitlines()[-1] for t in links.all_inner_texts()]
                    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
                    cookie_set = any(c["name"] == "pdz_sessione" for c in context.cookies())
                    for i, (label, href) in enumerate(zip(labels, hrefs, strict=True)):
                        page.set_viewport_size({"width": 1440, "height": 900})
                        try:
                            if cookie_set and href:  # sessions survive a reload: open each page by its URL
                                page.goto(href if href.startswith("http") else base + "/" + href.lstrip("/"))
                            else:  # older versions: a reload asks for the password, so click the menu
                                page.locator('[data-testid="stSidebarNavLink"]').nth(i).click()
                            page.wait_for_timeout(500)
                            _settle(page)
                        except Exception as exc:  # a page that fails is still photographed, and the walk goes on
                            print(f"{role}: {label}: {type(exc).__name__}", flush=True)
                        slug = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                        slug = slug if slug and ":" not in slug else "panoramica"
                        for width in WIDTHS:
                            page.set_viewport_size({"width": width, "height": 900})
                            page.wait_for_timeout(1500)
                            height = page.evaluate(_CONTENT_HEIGHT)
                            page.set_viewport_size({"width": width, "height": min(max(900, height), 9000)})
                            page.wait_for_timeout(800)
                            path = out / f"{role}_{slug}_{width}.png"
                            page.screenshot(path=str(path), full_page=True)
                            saved.append(path)
                        print(f"{role}: {label} ({slug})", flush=True)
                    context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return saved


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/screenshots/after")
    take(target, sys.argv[2:] or None)
