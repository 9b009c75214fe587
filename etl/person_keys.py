"""Persons as integers: the keys the distinct-count measures count.

Every record of `prestazioni` carries, beside the pseudonyms of its person and household (`persona_id`,
`nucleo_id`: 64 hex digits of HMAC-SHA-256, etl/codice_fiscale.py), an integer derived from each: its first 31
hex digits read as a number (`persona_key`, `nucleo_key`, HUGEINT, 0 ≤ key < 2¹²⁴). The measures count
distinct integers instead of 64-character text (DuckDB counts 16-byte integers as fast as 4-byte ones, and
about twice as fast as the text): `indicators/kinds/<tipo>.sql` reads the keys, `_records_<tipo>.sql` the
pseudonyms.

Derived, not numbered: no table of keys and no join at load (numbering 20 million persons at national scale in
a join passed the load's memory limit), a pseudonym has the same key in every load and warehouse, and a
record's keys follow from the record alone. Two pseudonyms share a key only if two HMAC-SHA-256 values agree on
their first 124 bits: among n pseudonyms the chance is below n² / 2¹²⁵, about 10⁻²² for the 59 million
residents of Italy. Keys are never negative, so a measure may count households as −nucleo_key beside persons.

(A table of person-years maintained at load, the first attempt at this, was dropped: in Lombardia, 5 million
records, counting keys straight from the records took 1.0–1.2 times as long as counting them from the
person-years, and building that table added 8–11 s to a 75 s load; see docs/PERFORMANCE.md.)

The writers of `prestazioni` keep the keys exact inside the transaction of every change:

    prepare(con)                               # at the start: every record keyed (an older warehouse migrated)
    ... DELETE FROM prestazioni ...
    insert_records(con, "_staging", columns)   # the keys computed from the pseudonyms as the rows are written
    mark(con)                                  # before the commit: in step with the records as they are

`prestazioni_in_attesa` holds no keys: held rows get theirs when they are released (a write to `prestazioni`).

`is_in_step(con)` tells a reader whether the keys answer: written by this version, and `prestazioni` has the
number of rows it had at the last `mark` (`meta.chiavi_prestazioni`); a write that bypassed this module and
changed that number sends the measures back to the pseudonyms, and the next load gives the missing keys (only
etl/ writes the warehouse, so nothing else should write `prestazioni` at all). A warehouse written before the
keys existed gets the columns and the keys at its next load, in that load's transaction.
"""

from __future__ import annotations

import duckdb

from core import warehouse

# Of the definition above: a warehouse marked with another gets its keys computed again at its next load
# ("1", numbered keys from tables `persone` and `nuclei`, was never released).
VERSION = "2"
META_VERSION = "chiavi_versione"
META_RECORDS = "chiavi_prestazioni"  # rows of prestazioni at the last `mark`

# The key columns of `prestazioni` and the pseudonym each comes from (core/warehouse.py declares them; added to
# an older warehouse here).
KEY_COLUMNS = {"persona_key": "persona_id", "nucleo_key": "nucleo_id"}
KEY_TYPE = "HUGEINT"
KEY_HEX_DIGITS = 31  # 124 bits: below 2¹²⁷, so a key and its negation are both HUGEINT


def key_sql(pseudonym: str) -> str:
    """DuckDB SQL for the key of a pseudonym column (null kept)."""
    return f"('0x' || left({pseudonym}, {KEY_HEX_DIGITS}))::{KEY_TYPE}"


def _records(con: duckdb.DuckDBPyConnection) -> int:
    return warehouse.scalar(con, "SELECT count(*) FROM prestazioni")


def _key_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE table_name = 'prestazioni' AND schema_name = 'main' AND column_name IN ('persona_key', 'nucleo_key')"
        ).fetchall()
    )


def is_in_step(con: duckdb.DuckDBPyConnection) -> bool:
    """Every record has its keys: marked by this version, and no record written since without them."""
    if not warehouse.has_table(con, warehouse.RECORDS) or not warehouse.has_table(con, "meta"):
        return False
    if warehouse.get_meta(con, META_VERSION) != VERSION:
        return False
    return warehouse.get_meta(con, META_RECORDS) == str(_records(con)) and _key_types(con) == dict.fromkeys(
        KEY_COLUMNS, KEY_TYPE
    )


def mark(con: duckdb.DuckDBPyConnection) -> None:
    """Before the commit of a change made through this module: the keys are in step with the records."""
    con.execute(
        "INSERT INTO meta VALUES (?, ?), (?, (SELECT count(*) FROM prestazioni)::VARCHAR) "
        "ON CONFLICT (chiave) DO UPDATE SET valore = excluded.valore",
        [META_VERSION, VERSION, META_RECORDS],
    )


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of a transaction that may change `prestazioni`: every record keyed (a warehouse older than
    the keys gets the columns and their values, a record written without this module its keys)."""
    if is_in_step(con):
        return
    types = _key_types(con)
    for column in KEY_COLUMNS:
        if types.get(column) not in (None, KEY_TYPE):  # another definition: its values are not keys
            con.execute(f"ALTER TABLE prestazioni DROP COLUMN {column}")
        con.execute(f"ALTER TABLE prestazioni ADD COLUMN IF NOT EXISTS {column} {KEY_TYPE}")
    assign = ", ".join(f"{k} = {key_sql(p)}" for k, p in KEY_COLUMNS.items())
    if warehouse.get_meta(con, META_VERSION) == VERSION:  # in this version's step once: only what a writer missed
        missing = " OR ".join(f"({k} IS NULL AND {p} IS NOT NULL)" for k, p in KEY_COLUMNS.items())
        con.execute(f"UPDATE prestazioni SET {assign} WHERE {missing}")
    else:  # every key (a warehouse older than this version)
        con.execute(f"UPDATE prestazioni SET {assign}")
    mark(con)


def insert_records(con: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> int:
    """Insert into `prestazioni` the rows of `source` (a table, or a parenthesised query, with `columns`,
    among them persona_id and nucleo_id) with the keys of their pseudonyms. Returns the rows inserted."""
    before = _records(con)
    cols = ", ".join(columns)
    keys = ", ".join(key_sql(f"s.{p}") for p in KEY_COLUMNS.values())
    con.execute(
        f"INSERT INTO prestazioni ({cols}, {', '.join(KEY_COLUMNS)}) "
        f"SELECT {', '.join(f's.{c}' for c in columns)}, {keys} FROM {source} AS s"
    )
    return _records(con) - before
