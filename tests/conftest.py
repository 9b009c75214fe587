"""Shared fixtures: a fresh warehouse per test, synthetic codici fiscali, literal files."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from etl.codice_fiscale import MONTHS, check_character


def make_cf(
    letters: str = "RSSMRA",
    year: int = 1985,
    month: int = 12,
    day: int = 10,
    female: bool = False,
    belfiore: str = "D142",
) -> str:
    """A synthetic, well-formed codice fiscale (D142 = Crema)."""
    first15 = f"{letters}{year % 100:02d}{MONTHS[month - 1]}{day + (40 if female else 0):02d}{belfiore}"
    return first15 + check_character(first15)


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse path of this test only (and PDZ_DB/PDZ_SECRET pointing at it)."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("PDZ_DB", str(path))
    monkeypatch.setenv("PDZ_SECRET", str(tmp_path / "secret.key"))
    return path


def write_csv(path: Path, header: list[str], rows: list[list], sep: str = ",", encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=sep)
        w.writerow(header)
        w.writerows(rows)
    return path


PRESTAZIONI_HEADER = [
    "id_prestazione",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "data_richiesta",
    "data_inizio",
    "data_fine",
    "ore",
    "importo_euro",
    "esito",
    "id_nucleo",
]


def prestazione(
    id_: str,
    cf: str | None = None,
    comune: str = "019035",
    intervento: str = "SAD",
    richiesta: str = "",
    inizio: str = "2025-03-01",
    fine: str = "",
    ore: str = "",
    importo: str = "",
    esito: str = "",
    nucleo: str = "",
) -> list[str]:
    return [
        id_,
        make_cf() if cf is None else cf,
        comune,
        intervento,
        richiesta,
        inizio,
        fine,
        ore,
        importo,
        esito,
        nucleo,
    ]


@pytest.fixture(autouse=True)
def _no_write_hooks_from_other_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no hook after writes: a program registers its own (the CLI's load, the demo
    build, the dashboard's runs keep the indicator values), so one test's registration never leaks into
    the next."""
    from core import warehouse

    monkeypatch.setattr(warehouse, "_after_values_input_write", {})


@pytest.fixture(autouse=True)
def _no_users_file_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The users file is beside each test's warehouse unless a test sets PDZ_USERS itself."""
    monkeypatch.delenv("PDZ_USERS", raising=False)


@contextmanager
def demo_warehouse_env(tmp: Path, prepare: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A small demo warehouse in `tmp`, with PDZ_DB/PDZ_SECRET pointing at it for the block (module fixtures)."""
    from demo.build import build_demo

    db = tmp / "warehouse.duckdb"
    build_demo(db, scale=0.2)
    if prepare:
        prepare(tmp)
    old = {k: os.environ.get(k) for k in ("PDZ_DB", "PDZ_SECRET")}
    os.environ.update({"PDZ_DB": str(db), "PDZ_SECRET": str(tmp / "secret.key")})
    try:
        yield db
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def open_page(at, page: str, **query):
    """Run app.py with the query in the URL, then switch to `page`; fail on any exception shown."""
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page != "pages/panoramica.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def wait_for_published(db: Path, seconds: float = 30.0) -> None:
    """Wait until the dashboard's snapshot refresher (ui/session.py, core/snapshots.py) publishes the data
    version now in `db`: a page run never waits for a write, it shows the new data once the copy is ready."""
    import time

    from core import warehouse
    from ui.session import _snapshots

    live = _snapshots().live(db)
    if live.published is None:
        return  # no snapshot yet: the next page run takes the current one
    wanted = warehouse.data_version(db)
    deadline = time.monotonic() + seconds
    while live.current().data_version != wanted:
        assert time.monotonic() < deadline, "the new snapshot was never published"
        time.sleep(0.05)


def kill_9_when(proc: subprocess.Popen, marker: str, timeout: float = 120) -> None:
    """kill -9 the process as soon as it prints `marker` on its standard error (it is then inside the step
    the test interrupts), or after `timeout` seconds; fails unless the kill is what ended it."""
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if marker in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
