"""The warehouse as this process sees it: one in-memory snapshot per warehouse file,
swapped when its data changes, a cursor on it per rerun, and the cached frames read
from it, keyed by the data version (and by the audience wherever a frame holds numbers).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl
import streamlit as st

from core import settings, warehouse
from indicators import api, profiles
from indicators.engine import publish_values

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
    """The current in-memory snapshot per warehouse file, swapped when its data changes.

    The key handed to the caches is the warehouse's data version (`meta.data_version`):
    a write that changes no data (an audit entry) touches the file but keeps the key,
    the snapshot and every cached table.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_path: dict[str, dict] = {}

    def get(self, path: Path) -> tuple[tuple, duckdb.DuckDBPyConnection]:
        stat = warehouse.version(path)
        with self.lock:
            current = self.by_path.get(str(path))
            if current and current["stat"] == stat:
                return current["key"], current["con"]
            try:
                if current and current["data_version"] is not None:
                    if warehouse.data_version(path) == current["data_version"]:
                        current["stat"] = stat  # only the audit log changed
                        return current["key"], current["con"]
                con = warehouse.snapshot(  # fallback: no wait
                    path, wait_seconds=0.3 if current else 30.0, summarise=publish_values
                )
            except warehouse.WarehouseBusy:
                if current:  # a load is committing: keep serving the previous data
                    return current["key"], current["con"]
                raise
            data_version = warehouse.get_meta(con, "data_version")
            key = ("data", data_version) if data_version else stat
            self.by_path[str(path)] = {"stat": stat, "data_version": data_version, "key": key, "con": con}
            return key, con


@st.cache_resource
def _snapshots() -> _Snapshots:
    return _Snapshots()


def connection() -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """(warehouse version, a cursor on the current snapshot) for this rerun."""
    ensure_warehouse()
    try:
        version, con = _snapshots().get(db_path())
    except warehouse.WarehouseUnavailable as exc:  # damaged or busy file: its Italian message, no traceback
        st.error(str(exc), icon=":material/error:")
        st.stop()
    return version, con.cursor()


def snapshot_cursor(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A cursor on the current snapshot of `path` (for a cached function or a download made on click)."""
    _, con = _snapshots().get(Path(path))
    return con.cursor()


# Cached frames that hold no indicator value and no count of persons (public reference data:
# territory, ISTAT population, staff, sites): the only caches without `audience` in their key.
# tests/test_auth.py fails when another cached function of ui/ lacks an `audience` parameter.
AUDIENCE_FREE_CACHES = {"territories", "_sub_ambiti", "_sedi", "_pyramid", "_equipe"}


@st.cache_data(max_entries=8, show_spinner=False)
def indicator_table(version: tuple, audience: str, path: str) -> pl.DataFrame:
    """The one tidy table, per warehouse version and audience (the audience is in the key)."""
    return api.indicator_table(snapshot_cursor(path), audience=audience)


@st.cache_data(max_entries=4, show_spinner=False)
def territories(version: tuple, path: str) -> pl.DataFrame:
    return profiles.territories(snapshot_cursor(path))


@st.cache_data(max_entries=4, show_spinner=False)
def _sub_ambiti(version: tuple, path: str) -> pl.DataFrame:
    return profiles.sub_ambiti_table(snapshot_cursor(path))


@st.cache_data(max_entries=4, show_spinner=False)
def _sedi(version: tuple, path: str) -> pl.DataFrame:
    return profiles.sedi(snapshot_cursor(path))


@st.cache_data(max_entries=16, show_spinner=False)
def _pyramid(version: tuple, path: str, comuni: tuple[str, ...]) -> pl.DataFrame:
    return profiles.population_pyramid(snapshot_cursor(path), list(comuni))


@st.cache_data(max_entries=8, show_spinner=False)
def _equipe(version: tuple, path: str, on: date) -> pl.DataFrame:
    return profiles.equipe(snapshot_cursor(path), on)


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


def equipe(f: _Versioned) -> pl.DataFrame:
    """Staff active on 31 Dec of the selected year (or today for the current year)."""
    on = min(date(f.year, 12, 31), date.today())
    return _equipe(f.version, str(db_path()), on)
