"""What the first page would wait for, done as the server starts (the lifespan of `app` in app.py).

`streamlit run app.py` finds `app` (an `st.App`) and starts the server with this lifespan: one
background thread, started while the server already answers, does first what the default page
(the Panoramica, in the view of its first visitor) needs, in the order it needs it: the shell's imports, the warehouse's
first snapshot (with the indicator values kept by the last load: etl/stored_values.py), the public indicator
table, the territories and pandas (the page's tables go through it); then what other pages need: the
office's table, the maps' libraries and the ambito's boundaries. Measured on this machine, the first
part is about 1.2 s of CPU (measured by hand), about what a browser takes to load Streamlit's
frontend, so the first visitor finds it ready or nearly so. A page arriving meanwhile waits only for
what is still missing (the snapshot's and the caches' own locks), never computes it twice. A missing
or unreadable warehouse is left to the first page, which builds the demo or explains the problem.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


def warm_snapshot() -> bool:
    """The shell's imports and the warehouse's first snapshot (no Streamlit runtime needed yet)."""
    from ui import router, session  # noqa: F401  (the imports of every page run)

    path = session.db_path()
    if not path.exists():
        return False  # the first page builds the demo warehouse, saying so
    session.connection(fresh=True)
    return True


def warm_first_page() -> tuple | None:
    """The shell's imports, the first snapshot, the public indicator table, the territories, pandas."""
    from ui import session

    if not warm_snapshot():
        return None
    version, con = session.connection()
    path = str(session.db_path())
    session.indicator_table(version, first_audience(con), path)
    session.territories(version, path)
    import pandas  # noqa: F401  (st.dataframe and st.table convert Polars frames through it: 0,3 s, measured)

    return version


def first_audience(con) -> str:
    """The view of the first page: the office's with the demo's open access, else the public one (a mayor's,
    the Assemblea's; the office's own comes next, with the other pages')."""
    from core import settings, users
    from ui import access

    if not settings.users_path().exists() and access.is_demo_warehouse(con):
        return users.audiences_for("ufficio_di_piano")[0]
    return "pubblico"


def warm_other_pages(version: tuple) -> None:
    """The office's table, the libraries of maps and charts, the ambito's boundaries."""
    import plotly.express  # noqa: F401

    from indicators import api, maps, views  # noqa: F401
    from ui import banners, downloads, figures, session  # noqa: F401
    from ui.geo import published_geojson

    path = str(session.db_path())
    for audience in api.AUDIENCES:
        session.indicator_table(version, audience, path)
    comuni, sub, view = maps.geojson(session._sub_ambiti(version, path))
    for geo in (comuni, sub, view["outline"]):
        published_geojson(geo)


def _guarded(job, name: str):
    t0 = time.perf_counter()
    try:
        return job()
    except Exception:  # the first page meets the same problem and explains it
        log.exception("warm-up at server start (%s) failed", name)
    finally:
        log.info("warm-up (%s): %.2f s", name, time.perf_counter() - t0)


def warm_up() -> None:
    """The first page's needs, then the other pages'."""
    version = _guarded(warm_first_page, "prima pagina")
    if version is not None:
        _guarded(lambda: warm_other_pages(version), "altre pagine")


THREAD_NAME = "warm-up"


class _NoSessionWarning(logging.Filter):
    """Drops Streamlit's «missing ScriptRunContext» warning of the warm-up thread: it fills the shared caches
    outside any session on purpose (the warning would greet every administrator at every start)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == THREAD_NAME and "missing ScriptRunContext" in record.getMessage())


def start() -> threading.Thread:
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoSessionWarning())
    thread = threading.Thread(target=warm_up, name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


@asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """st.App lifespan: start the warm-up and let the server answer at once."""
    start()
    yield
