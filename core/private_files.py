"""Files private to their owner: the warehouse, its WAL, DuckDB's spill files, keys, demo files.

DuckDB creates the database file, its WAL (again after every checkpoint) and its spill files
itself, with the process umask: the only way to make them owner-only from the start is the
umask while the connection writes. `private_umask()` sets 0o077 for as long as any caller is
inside it (nested and concurrent callers share one saved umask, restored when the last one
leaves): other threads of the same process meanwhile create files owner-only too, which is
only stricter. Files that already exist keep their permissions.

In-memory DuckDB databases spill to `.tmp` in the current folder; `memory_db()` points them at
one folder of this process (`spill_dir()`), created 0700 and removed at exit (`core.warehouse.memory_db`).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700

_lock = threading.Lock()
_depth = 0
_saved: int | None = None
_spill: Path | None = None


@contextmanager
def private_umask() -> Iterator[None]:
    """Every file and folder created meanwhile is readable by its owner only."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = os.umask(PRIVATE_UMASK)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                os.umask(_saved)
                _saved = None


def private_dir(path: Path | str) -> Path:
    """Create the folder (and missing parents) owner-only; an existing folder is left as it is."""
    path = Path(path)
    with private_umask():
        path.mkdir(parents=True, exist_ok=True)
    return path


def spill_dir() -> Path:
    """This process's folder for DuckDB's in-memory spill files (0700, removed at exit)."""
    global _spill
    with _lock:
        if _spill is None or not _spill.is_dir():
            _spill = Path(tempfile.mkdtemp(prefix="pdz_duckdb_"))  # mkdtemp: 0700
            atexit.register(shutil.rmtree, _spill, True)
        return _spill
