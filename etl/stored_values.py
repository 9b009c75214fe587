"""The indicator values kept beside the records, written by every write that may change them.

Computing every indicator takes 0,4 s on an ambito's records, ~7 s on a region's and ~100 s on
all of Italy's: a cost paid once per write here, instead of by every reader (the dashboard's
snapshot at each start and after each load, the reports, `python -m indicators`). `keep(compute)`
registers the computation as a hook of `core.warehouse.writer` (`after_values_input_write`): it
runs after every write that may change the values' inputs, with the write lock still held, so
no reader ever sees the new records without the values that go with them.

The values carry a key (`meta.valori_chiave`): the write that produced their inputs
(`meta.valori_input`), the reference data, and a fingerprint of the code that computed them
(`indicators.engine.values_key`). A reader uses them only when the key is the one it would
compute; otherwise (an older warehouse, a write by a program that did not register the hook, a
hook that failed or was killed, a new version of the code) it computes the values as before.
etl/ never imports indicators/: the computation is handed in by the programs' entry points.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import duckdb
import polars as pl

from core import settings, warehouse

TABLE = "valori_indicatori"
KEY = "valori_chiave"
AS_OF = "valori_data"  # the date of the data the values were computed at (as in a dashboard snapshot)
SECONDS = "valori_secondi"  # how long the last computation took (`python -m etl status`, the benchmark)
# DuckDB's memory while computing them in the writer, as for the load's staging: a national load stays under
# 4 GiB (issue 16). Measured on 50M records: 1GB 71 s and 1,34 GiB peak; 2GB 68 s and 3,75 GiB; the reader's
# 25% of 24 GiB 72 s and 6,8 GiB (docs/PERFORMANCE.md, session 7)
MEMORY_LIMIT = "1GB"

# con -> (key, date of the data, values): indicators.engine.values_to_store
Compute = Callable[[duckdb.DuckDBPyConnection], tuple[str, date, pl.DataFrame]]

_DUCKDB_TYPES = {pl.String: "VARCHAR", pl.Int32: "INTEGER", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN"}


def keep(compute: Compute) -> None:
    """Keep the values computed by `compute` after every write that may change them (idempotent)."""
    warehouse.after_values_input_write(TABLE, lambda con: store(con, compute))


def store(con: duckdb.DuckDBPyConnection, compute: Compute) -> None:
    """Compute the values on the writer's connection and replace the kept ones, in one transaction."""
    con.execute("DELETE FROM meta WHERE chiave = ?", [KEY])  # a failure below leaves no valid key behind
    t0 = time.perf_counter()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        key, as_of, values = compute(con)
        _write(con, key, as_of, values, t0)
        # the write's own checkpoint under the same limit, not at the close (measured after a national load:
        # 2,7 GiB more at the close with the readers' limit)
        con.execute("CHECKPOINT")
    finally:
        con.execute(f"SET memory_limit = '{settings.memory_limit()}'")


def _write(con: duckdb.DuckDBPyConnection, key: str, as_of: date, values: pl.DataFrame, t0: float) -> None:
    # explicit DDL, then INSERT and a count (DuckDB 2.0 can lose rows of a table made by CREATE ... AS and
    # filled inside a transaction: docs/PERFORMANCE.md, loader)
    columns = ", ".join(f'"{name}" {_DUCKDB_TYPES[dtype.base_type()]}' for name, dtype in values.schema.items())
    con.register("_valori", values)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} ({columns})")
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM _valori")
        stored = warehouse.scalar(con, f"SELECT count(*) FROM {TABLE}")
        if stored != values.height:
            raise RuntimeError(f"valori degli indicatori: {stored} righe scritte su {values.height}")
        warehouse.set_meta(con, AS_OF, as_of.isoformat())
        warehouse.set_meta(con, SECONDS, f"{time.perf_counter() - t0:.3f}")
        warehouse.set_meta(con, KEY, key)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_valori")
