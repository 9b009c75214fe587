"""Indicators and dashboard pages on one warehouse: `python -m benchmarks.dashboard --repeat 3`.

Run as a subprocess with PDZ_DB, PDZ_SECRET and PDZ_AMBITO_DIR pointing at one
scale, so each scale's memory is measured on its own. Prints one JSON object per
line, as soon as each figure exists (a run stopped by the time budget or the
memory guard keeps what it printed):

* {"kind": "compute", "cold": s, "runs": [s, ...], "rows": N}: computing every
  indicator value (`indicators.engine.indicator_values(con, stored=False)`), what
  each load now does once after it (etl/stored_values.py);
* {"kind": "indicators", "audience": ..., "cold": s, "runs": [s, ...], "rows": N}:
  `indicators.api.indicator_table(con, audience)` on a read-only connection to
  the warehouse file (it reads the values kept by the load); the first call
  (cold) then `repeat` warm calls;
* {"kind": "app_cold", "seconds": s}: the first run of app.py in the process
  (it copies the warehouse into memory and computes the indicator tables);
* {"kind": "page", "page": ..., "first": s, "runs": [s, ...], "exception": ...}:
  each page of the menu (`ui/menu.py`) through streamlit.testing.v1.AppTest,
  as tests/test_app.py and tests/test_auth.py run them (app.py, the login in the
  session state, then switch_page); one run to warm up, then `repeat` timed runs.

The pages are seen by an account of the Ufficio di Piano (every page is open to it),
created in the users file beside the scale's warehouse when missing: the benchmark
warehouses are not demo warehouses, so the dashboard asks for a login.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time

from core import settings, users, warehouse
from core.settings import REPO_ROOT

ACCOUNT = "benchmark"
OFFICE_VIEW = "Ufficio di Piano"  # the label, as tests/test_app.py puts it in the URL
# measured in the office's view (their full content); the others in the default (public) view
OFFICE_PAGES = {"pages/dati.py", "pages/obiettivi.py", "pages/registro.py"}


def emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def pages() -> list[str]:
    """The pages of the menu, in its order (`ui/menu.py`), the default page first."""
    from ui import menu

    files = [e.file for e in menu.all_entries()]
    first = [e.file for e in menu.all_entries() if e.url_path == menu.DEFAULT]
    return [*first, *[f for f in files if f not in first]]


def ensure_account() -> None:
    """An Ufficio di Piano account in the users file beside the warehouse (random password, never used)."""
    path = settings.users_path()
    if ACCOUNT not in users.load_accounts(path):
        users.add_user(ACCOUNT, "ufficio_di_piano", password=secrets.token_urlsafe(24), path=path)


def new_app(timeout: float):
    """An AppTest of app.py with the benchmark account logged in (what the login form stores)."""
    from streamlit.testing.v1 import AppTest

    from ui import access

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=timeout)
    now = time.time()
    at.session_state[access.SESSION_KEY] = {"utente": ACCOUNT, "fonte": "locale", "dal": now, "ultimo": now}
    return at


def measure_indicators(repeat: int) -> None:
    from indicators import api, engine

    with warehouse.reader() as con:
        runs = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            values = engine.indicator_values(con, stored=False)
            runs.append(time.perf_counter() - t0)
        emit({"kind": "compute", "cold": runs[0], "runs": runs[1:], "rows": values.height})
        for audience in api.AUDIENCES:
            t0 = time.perf_counter()
            table = api.indicator_table(con, audience)
            cold = time.perf_counter() - t0
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                api.indicator_table(con, audience)
                runs.append(time.perf_counter() - t0)
            emit({"kind": "indicators", "audience": audience, "cold": cold, "runs": runs, "rows": table.height})


def _largest_comune() -> str | None:
    with warehouse.reader() as con:
        rows = con.execute(
            "SELECT c.nome FROM comuni c JOIN popolazione p USING (comune) GROUP BY c.nome "
            "ORDER BY sum(p.residenti) DESC LIMIT 1"
        ).fetchall()
    return rows[0][0] if rows else None


def measure_pages(repeat: int, timeout: float) -> None:
    ensure_account()
    t0 = time.perf_counter()
    at = new_app(timeout)
    at.run()
    emit({"kind": "app_cold", "seconds": time.perf_counter() - t0, "exception": _exception(at)})
    comune = _largest_comune()
    for page in pages():
        query = {}
        if page == "pages/comune.py" and comune:
            query["comune"] = comune
        if page in OFFICE_PAGES:
            query["vista"] = OFFICE_VIEW
        try:
            at = new_app(timeout)
            for k, v in query.items():
                at.query_params[k] = v
            t0 = time.perf_counter()
            at.run()
            if page != pages()[0]:
                at.switch_page(page).run()
            first = time.perf_counter() - t0
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                at.run()
                runs.append(time.perf_counter() - t0)
            title = at.title[0].value if len(at.title) else None
            emit(
                {
                    "kind": "page",
                    "page": page,
                    "query": query,
                    "first": first,
                    "runs": runs,
                    "title": title,
                    "exception": _exception(at),
                }
            )
        except Exception as exc:  # a page that fails or times out: recorded, the others still run
            emit(
                {
                    "kind": "page",
                    "page": page,
                    "query": query,
                    "first": None,
                    "runs": [],
                    "exception": f"{type(exc).__name__}: {str(exc)[:300]}",
                }
            )


def _exception(at) -> str | None:
    return "; ".join(str(e.value)[:300] for e in at.exception) or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page-timeout", type=float, default=600.0)
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args(argv)
    measure_indicators(args.repeat)
    if not args.skip_pages:
        measure_pages(args.repeat, args.page_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
