"""What the first page would wait for, done as the server starts (the lifespan of `app` in app.py).

`streamlit run app.py` finds `app` (an `st.App`) and starts the server with this lifespan. Two
background threads start while the server already answers: one takes the warehouse's first snapshot,
fills the caches of the indicator tables (the public view first) and of the territories, and draws
the ambito's boundaries; the other imports the shell and the pages' libraries meanwhile (imports hold
the interpreter, DuckDB and Polars mostly do not: on two cores the two overlap). A page arriving
meanwhile waits only for what is still missing (the snapshot's and the caches' own locks), never
computes it twice. A warehouse that is missing or unreadable is left to the first page, which builds
the demo or explains the problem in Italian.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


def warm_data() -> None:
    """The first snapshot, the indicator tables (public view first), territories and boundaries."""
    from indicators import api, maps
    from ui import session
    from ui.geo import published_geojson

    path = session.db_path()
    if not path.exists():
        return  # the first page builds the demo warehouse, saying so
    version, _ = session.connection(fresh=True)
    for audience in ("pubblico", *[a for a in api.AUDIENCES if a != "pubblico"]):
        session.indicator_table(version, audience, str(path))
    session.territories(version, str(path))
    comuni, sub, view = maps.geojson(session._sub_ambiti(version, str(path)))
    for geo in (comuni, sub, view["outline"]):
        published_geojson(geo)


def warm_imports() -> None:
    """The shell and what the pages import on their first run."""
    import pandas  # noqa: F401  (st.dataframe converts through it)
    import plotly.express  # noqa: F401  (the maps)

    from indicators import views  # noqa: F401
    from ui import banners, downloads, figures, router  # noqa: F401


def _timed(job, name: str) -> None:
    t0 = time.perf_counter()
    try:
        job()
    except Exception:  # the first page meets the same problem and explains it
        log.exception("warm-up at server start (%s) failed", name)
    log.info("warm-up at server start (%s): %.2f s", name, time.perf_counter() - t0)


def warm_up() -> list[threading.Thread]:
    """Start both warm-up threads (daemons) and return them."""
    threads = [threading.Thread(target=_timed, args=(job, name), name=f"warm-up:{name}", daemon=True)
               for job, name in ((warm_data, "dati"), (warm_imports, "import"))]  # fmt: skip
    for t in threads:
        t.start()
    return threads


@asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """st.App lifespan: start the warm-up and let the server answer at once."""
    warm_up()
    yield
