"""Persons as integers: the keys the distinct-count measures count.

`persone` and `nuclei` give each pseudonym (of a person, of a household) an integer key; the pseudonym stays
the identity across loads, and a key, once given, never changes. Every record of `prestazioni` carries the
keys of its person and household (`persona_key`, `nucleo_key`), given in the transaction that writes it (new
pseudonyms get new keys), so the measures count distinct integers instead of 64-character pseudonyms, with
no join: `indicators/kinds/<tipo>.sql` reads the keys, `_records_<tipo>.sql` the pseudonyms.

(A table of person-years maintained at load, the first attempt at this, was dropped: in Lombardia, 5 million
records, counting keys straight from the records took 1.0–1.2 times as long as counting them from the
person-years, and building that table added 8–11 s to a 75 s load; see docs/PERFORMANCE.md.)

The writers of `prestazioni` keep the keys exact inside the transaction of every change:

    prepare(con)                               # at the start: every record keyed (an older warehouse migrated)
    ... DELETE FROM prestazioni ...
    insert_records(con, "_staging", columns)   # keys given (new pseudonyms: new keys)
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

VERSION = "1"  # of the definition above: a warehouse marked with another gets its keys checked at its next load
META_VERSION = "chiavi_versione"
META_RECORDS = "chiavi_prestazioni"  # rows of prestazioni at the last `mark`

# The key columns of `prestazioni` (core/warehouse.py declares them; added to an older warehouse here).
KEY_COLUMNS = {"persona_key": "INTEGER", "nucleo_key": "INTEGER"}

# New integer keys for the pseudonyms of `source` (a relation with a column persona_id, or nucleo_id) not yet
# in the table (numbered in no particular order: a key only has to stay the same once given).
# (Numbered by a sequence as they stream: a window function would hold every row in memory, and at national
# scale, 20 million pseudonyms, that passed the load's memory limit.)
_NEW_PERSON_KEYS = """
INSERT INTO persone (persona_key, persona_id)
SELECT {next}, s.persona_id
FROM (SELECT DISTINCT persona_id FROM {source} {where}) AS s
WHERE NOT EXISTS (SELECT 1 FROM persone AS k WHERE k.persona_id = s.persona_id)
"""
_NEW_HOUSEHOLD_KEYS = """
INSERT INTO nuclei (nucleo_key, nucleo_id)
SELECT {next}, s.nucleo_id
FROM (SELECT DISTINCT nucleo_id FROM {source} WHERE nucleo_id IS NOT NULL {and_where}) AS s
WHERE NOT EXISTS (SELECT 1 FROM nuclei AS k WHERE k.nucleo_id = s.nucleo_id)
"""
_MISSING = "persona_key IS NULL OR (nucleo_key IS NULL AND nucleo_id IS NOT NULL)"


def _next_key(con: duckdb.DuckDBPyConnection, table: str, key: str) -> str:
    """A temporary sequence that numbers new keys above every key of `table`: its `nextval` expression."""
    start = int(warehouse.scalar(con, f"SELECT coalesce(max({key}), 0) + 1 FROM {table}"))
    con.execute(f"CREATE OR REPLACE TEMP SEQUENCE _nuove_{key} START WITH {start}")
    return f"nextval('_nuove_{key}')"


def _records(con: duckdb.DuckDBPyConnection) -> int:
    return warehouse.scalar(con, "SELECT count(*) FROM prestazioni")


def _has_key_columns(con: duckdb.DuckDBPyConnection) -> bool:
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'prestazioni' AND schema_name = 'main'"
        ).fetchall()
    }
    return set(KEY_COLUMNS) <= have


def is_in_step(con: duckdb.DuckDBPyConnection) -> bool:
    """Every record has its keys: marked by this version, and no record written since without them."""
    if not warehouse.has_table(con, warehouse.RECORDS) or not warehouse.has_table(con, "meta"):
        return False
    if warehouse.get_meta(con, META_VERSION) != VERSION:
        return False
    return warehouse.get_meta(con, META_RECORDS) == str(_records(con)) and _has_key_columns(con)


def mark(con: duckdb.DuckDBPyConnection) -> None:
    """Before the commit of a change made through this module: the keys are in step with the records."""
    con.execute(
        "INSERT INTO meta VALUES (?, ?), (?, (SELECT count(*) FROM prestazioni)::VARCHAR) "
        "ON CONFLICT (chiave) DO UPDATE SET valore = excluded.valore",
        [META_VERSION, VERSION, META_RECORDS],
    )


def fill_keys(con: duckdb.DuckDBPyConnection) -> int:
    """Keys for the records that lack them (a warehouse older than the keys, a record written without this
    module): new pseudonyms get new keys. Returns how many records lacked a key."""
    n = warehouse.scalar(con, f"SELECT count(*) FROM prestazioni WHERE {_MISSING}")
    if not n:
        return 0
    next_person, next_household = _next_key(con, "persone", "persona_key"), _next_key(con, "nuclei", "nucleo_key")
    con.execute(_NEW_PERSON_KEYS.format(source="prestazioni", where="WHERE persona_key IS NULL", next=next_person))
    con.execute(
        _NEW_HOUSEHOLD_KEYS.format(source="prestazioni", and_where="AND nucleo_key IS NULL", next=next_household)
    )
    for column, table, pseudonym in (("persona_key", "persone", "persona_id"), ("nucleo_key", "nuclei", "nucleo_id")):
        con.execute(
            f"UPDATE prestazioni AS p SET {column} = k.{column} FROM {table} AS k "
            f"WHERE p.{column} IS NULL AND k.{pseudonym} = p.{pseudonym}"
        )
    return n


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of a transaction that may change `prestazioni`: every record keyed (a warehouse older than
    the keys gets the columns, a record written without this module its keys)."""
    if is_in_step(con):
        return
    for column, kind in KEY_COLUMNS.items():
        con.execute(f"ALTER TABLE prestazioni ADD COLUMN IF NOT EXISTS {column} {kind}")
    fill_keys(con)
    mark(con)


def insert_records(con: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> int:
    """Insert into `prestazioni` the rows of `source` (a table, or a parenthesised query, with `columns`,
    among them persona_id and nucleo_id) with the keys of their pseudonyms (new pseudonyms get new keys).
    Returns the rows inserted."""
    before = _records(con)
    if warehouse.scalar(con, "SELECT count(*) FROM persone") > warehouse.scalar(con, f"SELECT count(*) FROM {source}"):
        # fewer rows than persons (a later file): the keys of these rows' pseudonyms only, so that neither
        # giving the new keys nor the join below holds every pseudonym of the warehouse (in Lombardia, for
        # 500,000 rows, 300 MiB less and half the time)
        persons, households = "_chiavi_persone", "_chiavi_nuclei"
        _keys_of_rows(con, source, "persone", "persona_key", "persona_id", persons)
        _keys_of_rows(con, source, "nuclei", "nucleo_key", "nucleo_id", households)
    else:  # a first load, or a file as large: every pseudonym anyway
        persons, households = "persone", "nuclei"
        next_person, next_household = _next_key(con, "persone", "persona_key"), _next_key(con, "nuclei", "nucleo_key")
        con.execute(_NEW_PERSON_KEYS.format(source=source, where="", next=next_person))
        con.execute(_NEW_HOUSEHOLD_KEYS.format(source=source, and_where="", next=next_household))
    cols = ", ".join(columns)
    # The records in no particular order (they have none): DuckDB then streams the joined rows into the table
    # instead of buffering them to keep the order.
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(
            f"INSERT INTO prestazioni ({cols}, persona_key, nucleo_key) "
            f"SELECT {', '.join(f's.{c}' for c in columns)}, k.persona_key, n.nucleo_key "
            f"FROM {source} AS s JOIN {persons} AS k ON k.persona_id = s.persona_id "
            f"LEFT JOIN {households} AS n ON n.nucleo_id = s.nucleo_id"
        )
    finally:
        con.execute("RESET preserve_insertion_order")
    if persons != "persone":
        con.execute(f"DROP TABLE {persons}")
        con.execute(f"DROP TABLE {households}")
    return _records(con) - before


def _keys_of_rows(con: duckdb.DuckDBPyConnection, source: str, table: str, key: str, pseudonym: str, into: str) -> None:
    """`into` (temporary: pseudonym, key) gets the keys of the pseudonyms of `source`: those given before,
    then new keys for the others (added to `table` too)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} ({pseudonym} VARCHAR, {key} INTEGER)")
    con.execute(
        f"INSERT INTO {into} SELECT k.{pseudonym}, k.{key} FROM {table} AS k "
        f"WHERE k.{pseudonym} IN (SELECT {pseudonym} FROM {source})"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _chiavi_nuove ({pseudonym} VARCHAR, {key} INTEGER)")
    con.execute(
        f"INSERT INTO _chiavi_nuove SELECT s.{pseudonym}, {_next_key(con, table, key)} "
        f"FROM (SELECT DISTINCT {pseudonym} FROM {source} WHERE {pseudonym} IS NOT NULL) AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {into} AS c WHERE c.{pseudonym} = s.{pseudonym})"
    )
    con.execute(f"INSERT INTO {table} ({key}, {pseudonym}) SELECT {key}, {pseudonym} FROM _chiavi_nuove")
    con.execute(f"INSERT INTO {into} SELECT {pseudonym}, {key} FROM _chiavi_nuove")
    con.execute("DROP TABLE _chiavi_nuove")
