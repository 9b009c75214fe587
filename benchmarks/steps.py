"""The alternatives, each run as its own process: `python -m benchmarks.steps floor|pandas ...`.

* `floor`: bare DuckDB, `CREATE TABLE t AS SELECT * FROM read_csv(FILE)` into
  a fresh database: no validation, no pseudonymisation. What reading the file
  costs on this machine.
* `pandas`: what a typical analyst would write: `pandas.read_csv` then
  `DataFrame.to_sql` into SQLite (no validation either). `--nrows N` loads only
  the first N rows (for an extrapolation, labelled as such in the report).

Each prints one JSON object: {"rows": N} (rows in the table at the end).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path


def floor(csv: Path, db: Path) -> int:
    import duckdb

    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv)])
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    finally:
        con.close()
    return int(rows)


def pandas_sqlite(csv: Path, db: Path, nrows: int | None = None) -> int:
    import pandas as pd

    db.unlink(missing_ok=True)
    df = pd.read_csv(csv, nrows=nrows)
    con = sqlite3.connect(db)
    try:
        df.to_sql("prestazioni", con, index=False)
        con.commit()
        rows = con.execute("SELECT count(*) FROM prestazioni").fetchall()[0][0]
    finally:
        con.close()
    return int(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    parser.add_argument("step", choices=["floor", "pandas"])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--nrows", type=int)
    args = parser.parse_args(argv)
    rows = floor(args.csv, args.db) if args.step == "floor" else pandas_sqlite(args.csv, args.db, args.nrows)
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
