"""The warehouse as this process sees it: one in-memory snapshot per warehouse file,
swapped by a refresher thread when its data changes (`core.snapshots`: a page never waits
for a load), a cursor on it per rerun, and the cached frames read from it, keyed by the
data version (and by the audience wherever a frame holds numbers).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl
import streamlit as st

from core import settings, snapshots, warehouse
from indicators import api, profiles
from indicators.engine import keep_values, publish_values

_build_lock = threading.Lock()


def db_path() -> Path:
    return settings.db_path()


def ensure_warehouse() -> None:
    """First start on a fresh machine: build the demo warehouse (once per process)."""
    path = db_path()
    if path.exists():
        return
    with _build_lock:
        if path.exists():
            return
        from demo.build import build_demo

        with st.spinner("Primo avvio: creo il database con i dati dimostrativi (circa un minuto)…"):
            build_demo(path)


class _Snapshots:
    """The published snapshot per warehouse file (`core.snapshots.LiveSnapshot`), for the whole process.

    A page run never waits for the file nor holds a lock shared by every session while the file is
    busy: each warehouse has its own refresher thread that takes the new snapshot when a load has
    committed, and swaps it. The key handed to the caches is the warehouse's data version
    (`meta.data_version`): a write that changes no data (an audit entry) keeps the key, the snapshot
    and every cached table. The lock below only guards the dictionary (held for a lookup).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_path: dict[str, snapshots.LiveSnapshot] = {}

    def live(self, path: Path) -> snapshots.LiveSnapshot:
        with self.lock:
            live = self.by_path.get(str(path))
            if live is None:
                live = self.by_path[str(path)] = snapshots.LiveSnapshot(path, summarise=publish_values)
            return live

    def get(self, path: Path) -> tuple[tuple, duckdb.DuckDBPyConnection]:
        pub = self.live(path).current()
        return pub.key, pub.con

    def published(self, path: Path) -> bool:
        live = self.by_path.get(str(path))
        return live is not None and live.published is not None


@st.cache_resource
def _snapshots() -> _Snapshots:
    return _Snapshots()


_run = threading.local()  # the snapshot this script run reads (one run per thread at a time)


def connection(fresh: bool = False) -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """(warehouse version, a cursor on the published snapshot) for this rerun.

    The router asks for a `fresh` one at the start of each run; every later call of the same run
    gets the same snapshot, so who may see what (the router) and what is shown (the page) are
    decided on one copy even when the refresher swaps it in between.
    """
    keep_values()  # the writes of this process (uploads, code mappings) keep the indicator values too
    path = str(db_path())
    pinned = getattr(_run, "snapshot", None)
    if fresh or pinned is None or pinned[0] != path:
        if not _snapshots().published(Path(path)):  # a file that vanishes later is not rebuilt: its copy is served
            ensure_warehouse()
        try:
            version, con = _snapshots().get(Path(path))
        except warehouse.WarehouseUnavailable as exc:  # nothing published yet and the file is damaged or busy
            st.error(str(exc), icon=":material/error:")  # its Italian message, no traceback
            st.stop()
        pinned = _run.snapshot = (path, version, con)
    return pinned[1], pinned[2].cursor()


def refresh_after_write() -> None:
    """This session has just written data (an upload, targets): publish the new data now and read it
    for the rest of the run. Only the writing session waits for the copy, as it waited for its write;
    the others keep the published copy until it is swapped."""
    _snapshots().live(db_path()).refresh()
    connection(fresh=True)


def snapshot_cursor(path: Path | str, version: tuple | None = None) -> duckdb.DuckDBPyConnection:
    """A cursor on the snapshot of `version` while it is kept, else on the published one (for a cached
    function, or a download made on click)."""
    return _snapshots().live(Path(path)).connection_for(version).cursor()


def is_published() -> bool:
    """True once this process serves a snapshot of the warehouse (even if its file has gone since)."""
    return _snapshots().published(db_path())


def snapshot_notice() -> str | None:
    """Italian notice when the warehouse file is missing or unreadable and an older copy is served."""
    live = _snapshots().by_path.get(str(db_path()))
    return live.problem() if live is not None else None


# Cached frames that hold no indicator value and no count of persons (public reference data:
# territory, ISTAT population, staff, sites): the only caches without `audience` in their key.
# tests/test_auth.py fails when another cached function of ui/ lacks an `audience` parameter.
AUDIENCE_FREE_CACHES = {"territories", "_sub_ambiti", "_sedi", "_pyramid", "_equipe"}


@st.cache_data(max_entries=8, show_spinner=False)
def indicator_table(version: tuple, audience: str, path: str) -> pl.DataFrame:
    """The one tidy table, per warehouse version and audience (the audience is in the key)."""
    return api.indicator_table(snapshot_cursor(path, version), audience=audience)


@st.cache_data(max_entries=4, show_spinner=False)
def territories(version: tuple, path: str) -> pl.DataFrame:
    return profiles.territories(snapshot_cursor(path, version))


@st.cache_data(max_entries=4, show_spinner=False)
def _sub_ambiti(version: tuple, path: str) -> pl.DataFrame:
    return profiles.sub_ambiti_table(snapshot_cursor(path, version))


@st.cache_data(max_entries=4, show_spinner=False)
def _sedi(version: tuple, path: str) -> pl.DataFrame:
    return profiles.sedi(snapshot_cursor(path, version))


@st.cache_data(max_entries=16, show_spinner=False)
def _pyramid(version: tuple, path: str, comuni: tuple[str, ...]) -> pl.DataFrame:
    return profiles.population_pyramid(snapshot_cursor(path, version), list(comuni))


@st.cache_data(max_entries=8, show_spinner=False)
def _equipe(version: tuple, path: str, on: date) -> pl.DataFrame:
    return profiles.equipe(snapshot_cursor(path, version), on)


# --- the reference frames of a page's frame (`ui.filters.Frame`: anything with version and year) ---------


class _Versioned(Protocol):
    version: tuple
    year: int


def sub_ambiti_table(f: _Versioned) -> pl.DataFrame:
    return _sub_ambiti(f.version, str(db_path()))


def sedi(f: _Versioned) -> pl.DataFrame:
    return _sedi(f.version, str(db_path()))


def population_pyramid(f: _Versioned, comuni: list[str]) -> pl.DataFrame:
    return _pyramid(f.version, str(db_path()), tuple(sorted(comuni)))


def equipe_date(year: int) -> date:
    """The day the équipe of a year is counted: 31 Dec, or today for the current year."""
    return min(date(year, 12, 31), date.today())


def equipe(f: _Versioned) -> pl.DataFrame:
    """Staff active on 31 Dec of the selected year (or today for the current year)."""
    return _equipe(f.version, str(db_path()), equipe_date(f.year))
