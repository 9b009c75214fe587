"""core.snapshots: readers keep the published copy while another process holds the file, get the new
data after it commits (from the refresher, eventually), and keep the old copy, with an Italian
notice, when the file goes missing or is damaged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core import snapshots, warehouse
from core.settings import REPO_ROOT

# Another process: opens the warehouse for writing, changes the file (an audit-like write), says so,
# keeps the lock until its stdin closes, then (with "data") commits a data change on the way out.
HOLDER = """
import sys
from core import warehouse
data = sys.argv[2] == "data"
with warehouse.writer(sys.argv[1], data=data) as con:
    warehouse.set_meta(con, "prova", "in corso")
    print("locked", flush=True)
    sys.stdin.read()
    if data:
        warehouse.set_meta(con, "prova", "nuovo")
"""


@contextmanager
def holder(db: Path, data: bool = False) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), "data" if data else "audit"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0


def value(live: snapshots.LiveSnapshot) -> str | None:
    return warehouse.get_meta(live.current().con.cursor(), "prova")


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def db(db_path: Path) -> Path:
    with warehouse.writer(db_path) as con:
        warehouse.set_meta(con, "prova", "vecchio")
    return db_path


@pytest.fixture
def live(db: Path) -> Iterator[snapshots.LiveSnapshot]:
    live = snapshots.LiveSnapshot(db, refresh_seconds=0.2)
    assert value(live) == "vecchio"  # the first snapshot is published
    yield live
    live.close()


def test_readers_get_the_old_data_at_once_while_another_process_holds_the_write_lock(db, live, monkeypatch):
    opened_by = []
    connect = warehouse._connect_with_wait

    def spy(*args, **kwargs):
        opened_by.append(threading.current_thread().name)
        return connect(*args, **kwargs)

    monkeypatch.setattr(warehouse, "_connect_with_wait", spy)
    with holder(db):
        assert live.current().stat != warehouse.version(db)  # the file changed under the published copy
        t0 = time.perf_counter()
        answers = [value(live) for _ in range(20)]  # about five page runs' worth of lookups
        elapsed = time.perf_counter() - t0
        assert wait_for(lambda: opened_by)  # the refresher did look at the file (and found it locked)
        readers_opened = [name for name in opened_by if not name.startswith("snapshot-refresher")]
        assert live.refresh() is False  # locked: nothing new published, and no wait
    assert answers == ["vecchio"] * 20
    assert elapsed < 5.0, elapsed  # functional bound, not a speed goal: the old code waited 2 s per lookup
    assert readers_opened == []  # only the refresher thread ever touched the file
    assert live.problem() is None


def test_new_data_is_served_after_the_writer_commits(db, live):
    old_key = live.current().key
    with holder(db, data=True):
        assert value(live) == "vecchio"
    assert wait_for(lambda: value(live) == "nuovo"), "the refresher never published the committed data"
    assert live.current().key != old_key  # a new data version: the caches recompute
    assert live.connection_for(old_key) is not live.current().con  # the old copy is kept for its cached readers
    assert warehouse.get_meta(live.connection_for(old_key).cursor(), "prova") == "vecchio"


def test_a_write_that_changes_no_data_keeps_the_snapshot_and_its_key(db, live):
    before = live.current()
    with holder(db, data=False):
        pass
    assert wait_for(lambda: live.current().stat == warehouse.version(db))
    assert live.current().key == before.key and live.current().con is before.con


def test_a_damaged_file_keeps_the_old_snapshot_with_an_italian_notice(db, live, tmp_path):
    good = tmp_path / "buono.duckdb"
    shutil.copyfile(db, good)
    db.write_bytes(b"non un database " * 4096)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    assert live.refresh() is False
    assert value(live) == "vecchio"  # still served
    notice = live.problem()
    assert notice.startswith("**Il database non è leggibile** (file danneggiato o non valido)")
    assert "ripristinare il file" in notice and str(db) not in notice  # says what to do, no internal path
    shutil.copyfile(good, db)  # restored from the backup: the notice goes away by itself
    assert wait_for(lambda: live.problem() is None)
    assert value(live) == "vecchio"


def test_a_missing_file_keeps_the_old_snapshot_with_an_italian_notice(db, live, tmp_path):
    moved = tmp_path / "altrove.duckdb"
    db.rename(moved)
    assert live.refresh() is False
    assert value(live) == "vecchio"
    assert live.problem().startswith("**Il file del database non si trova più.**")
    moved.rename(db)
    assert wait_for(lambda: live.problem() is None)


def test_a_write_of_this_process_waits_for_the_refresher_visit_instead_of_failing(db):
    """The dashboard writes the audit log itself: while its refresher has the file open read-only, DuckDB
    refuses a read-write connection of the same process; the writer waits for the visit to end."""
    visit = warehouse._connect_with_wait(db, True, 0)  # the refresher's short read-only visit
    done = []

    def audit_write() -> None:
        with warehouse.writer(db, data=False, wait_seconds=20) as con:
            warehouse.set_meta(con, "prova", "scritto")
        done.append(True)

    writer = threading.Thread(target=audit_write)
    writer.start()
    time.sleep(0.5)
    assert not done  # waiting, not failed
    visit.close()
    writer.join(timeout=30)
    assert done == [True]
    with warehouse.reader(db) as con:
        assert warehouse.get_meta(con, "prova") == "scritto"
