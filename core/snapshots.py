"""The dashboard's published copy of a warehouse, refreshed in the background.

A reader never waits for the file: `LiveSnapshot.current()` hands back the snapshot published
last (an in-memory copy, `core.warehouse.snapshot`) and, when the file has changed since, wakes
the snapshot's own refresher thread. That thread, never a page run, visits the file: when a load
holds the write lock it tries again later; when the data version (`meta.data_version`) is the
one published, it only notes the new file state (an audit entry changes no data); otherwise it
takes a new snapshot and swaps it in one assignment. Sessions keep the published copy until the
new one is complete, so a load (minutes at national scale) never makes a page wait.

Only the very first snapshot of a file is taken by the caller (there is nothing to serve yet).
When the file goes missing or cannot be read (damaged, not a DuckDB file), the published copy
stays and `problem()` says so in Italian, until the file is readable again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb

from core import warehouse

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0  # the refresher looks at the file at least this often (a page run wakes it at once)
KEEP = 2  # snapshots kept by key: a cached function of the previous version still reads its own copy


@dataclass(frozen=True)
class Published:
    """One published snapshot: `key` is the caches' key (the data version)."""

    key: tuple
    con: duckdb.DuckDBPyConnection
    stat: tuple
    data_version: str | None
    taken_at: datetime


def missing_message(taken_at: datetime) -> str:
    return (
        f"**Il file del database non si trova più.** Il cruscotto mostra i dati dell'ultima copia letta, "
        f"del {taken_at:%d/%m/%Y} alle {taken_at:%H:%M}. L'Ufficio di Piano deve ripristinare il file (per esempio "
        "dal backup): i dati si aggiorneranno da soli appena il file tornerà al suo posto."
    )


def unreadable_message(taken_at: datetime) -> str:
    return (
        f"**Il database non è leggibile** (file danneggiato o non valido). Il cruscotto mostra i dati dell'ultima "
        f"copia valida, del {taken_at:%d/%m/%Y} alle {taken_at:%H:%M}. L'Ufficio di Piano deve ripristinare il file "
        "dal backup: i dati si aggiorneranno da soli appena il file tornerà leggibile."
    )


class LiveSnapshot:
    """The published snapshot of one warehouse file and its refresher thread."""

    def __init__(
        self,
        path: Path | str,
        summarise: warehouse.Summarise | None = None,
        first_wait_seconds: float = 30.0,
        refresh_seconds: float = REFRESH_SECONDS,
        on_publish: Callable[[Published], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.summarise = summarise
        self.first_wait_seconds = first_wait_seconds
        self.refresh_seconds = refresh_seconds
        self.on_publish = on_publish
        self._published: Published | None = None
        self._by_key: dict[tuple, duckdb.DuckDBPyConnection] = {}
        self._problem: str | None = None
        self._first = threading.Lock()  # only while nothing is published yet
        self._step = threading.Lock()  # one refresh at a time (the thread, or a test calling refresh())
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what readers call (never waits once something is published) --------------------------

    def current(self) -> Published:
        """The published snapshot; the first call takes it (waiting up to `first_wait_seconds` for a lock)."""
        pub = self._published
        if pub is None:
            return self._take_first()
        if warehouse.version(self.path) != pub.stat:
            self._wake.set()  # the refresher looks now; this run goes on with the published copy
        return pub

    def connection_for(self, key: tuple | None) -> duckdb.DuckDBPyConnection:
        """The snapshot published under `key` while it is kept, else the current one."""
        if key is not None:
            con = self._by_key.get(key)
            if con is not None:
                return con
        return self.current().con

    def problem(self) -> str | None:
        """Italian notice when the file is missing or unreadable (the published copy is still served)."""
        return self._problem

    @property
    def published(self) -> Published | None:
        return self._published

    # --- the refresher ---------------------------------------------------------------------------

    def refresh(self) -> bool:
        """One look at the file (what the thread does): True when a new snapshot was published."""
        with self._step:
            return self._refresh()

    def close(self) -> None:
        """Stop the refresher thread (the published copy stays readable)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _take_first(self) -> Published:
        with self._first:
            if self._published is not None:
                return self._published
            stat = warehouse.version(self.path)
            con = warehouse.snapshot(self.path, wait_seconds=self.first_wait_seconds, summarise=self.summarise)
            pub = self._publish(con, stat)
            self._start_thread()
            return pub

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"snapshot-refresher:{self.path.name}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.refresh_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh()
            except Exception:  # never let the thread die: the next look tries again
                log.exception("snapshot refresh of %s failed", self.path)
                time.sleep(self.refresh_seconds)

    def _refresh(self) -> bool:
        pub = self._published
        if pub is None:
            return False
        stat = warehouse.version(self.path)
        if stat == pub.stat:  # the file as published (also a file put back after it went missing)
            self._problem = None
            return False
        if stat[0] is None:  # the file is gone: keep serving, say so
            self._problem = missing_message(pub.taken_at)
            return False
        try:
            version = warehouse.data_version(self.path, wait_seconds=0)
            if version is not None and version == pub.data_version:
                self._published = replace(pub, stat=stat)  # only the audit log changed: same data, same caches
                self._problem = None
                return False
            con = warehouse.snapshot(self.path, wait_seconds=0, summarise=self.summarise)
        except warehouse.WarehouseBusy:
            return False  # a load is running: the published copy stays, try again at the next look
        except (warehouse.WarehouseUnreadable, duckdb.Error, OSError) as exc:
            log.warning("warehouse %s unreadable: %s", self.path, exc.__cause__ or exc)
            self._problem = unreadable_message(pub.taken_at)
            return False
        self._publish(con, stat)
        return True

    def _publish(self, con: duckdb.DuckDBPyConnection, stat: tuple) -> Published:
        data_version = warehouse.get_meta(con, "data_version") if warehouse.has_table(con, "meta") else None
        key = ("data", data_version) if data_version else ("file", stat)
        pub = Published(key, con, stat, data_version, datetime.now())
        self._by_key[key] = con
        while len(self._by_key) > KEEP:  # dropped, never closed: a run still reading it keeps it alive
            self._by_key.pop(next(iter(self._by_key)))
        self._published = pub  # the swap: one assignment, seen whole by every reader
        self._problem = None
        if self.on_publish is not None:
            self.on_publish(pub)
        return pub
