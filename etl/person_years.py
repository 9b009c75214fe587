"""Persons as integers and their person-years: what the distinct-count measures read.

`persone` and `nuclei` give each pseudonym (of a person, of a household) an integer key; the pseudonym stays
the identity across loads, and a key, once given, never changes. Every record of `prestazioni` carries the
keys of its person and household (`persona_key`, `nucleo_key`) and a key of its own (`record_key`, growing
with each write), given in the transaction that writes it, so nothing here joins on the 64-character
pseudonyms after that. `persone_anni` has one row per record and year in which it is active (from the year of
its `data_inizio` to the year of its `data_fine`, or for ever when it has none: the records' years are
expanded once, here, instead of at every query), with the record's keys, intervention, comune and year of
birth, and the dates the events of `indicators/kinds/_macros.sql` need for a window that ends before
31 December (the year to date):

* `attivo_dal`: the record's `data_inizio`;
* `inizio_il`: its `data_inizio` when it falls in the year, `fine_il`: its `data_fine` when it falls in the year.

A row is active in the window `d0 .. d1` of its year when `attivo_dal <= d1`, has a start when
`inizio_il <= d1` and an end when `fine_il <= d1`: exactly when its record has that event
(`evento_in_anno`); the measures count distinct keys, so a person with several records counts once. (Rows
are not grouped per person: in Lombardia grouping made the table only 5% smaller, doubled the time to build
it, and made every change rebuild all the rows of the persons it touches.) Years run up to
`meta.persone_anni_fino` (the latest year of a `data_inizio`, or the current year when later; it only grows):
the measures read the records themselves for a later year.

The writers of `prestazioni` keep the keys and the table exact inside the transaction of every change:

    prepare(con)                                          # at the start: keys and table in step
    delete_records(con, "DELETE FROM prestazioni ...")   # their rows go
    insert_records(con, "_staging", columns)              # keys given (new pseudonyms: new keys)
    update(con)                                           # before the commit: rows of the new records

A change is a delete of the rows of the records deleted (by record key) and an insert of the rows of the
records written (record keys above those of the records before: the scan skips the others), sorted by
intervention and year when they are many (a first load). When the records deleted are at least
`REBUILD_SHARE` of all, every row is made again in one pass. `prestazioni_in_attesa` is not read: held rows
get their keys when they are released (a write to `prestazioni`).

`is_current(con, years)` tells a reader whether the table answers for these years. "In step" means: built by
this version, and `prestazioni` has the number of rows it had when the table was last maintained
(`meta.persone_anni_prestazioni`); a write that bypassed this module and changed that number sends the
measures back to the records, and the next load gives the missing keys and rebuilds the table (only etl/
writes the warehouse, so nothing else should write `prestazioni` at all). A warehouse written before the
keys existed gets the columns, the keys and the table at its next load, in that load's transaction.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from core import warehouse

# Of the definition above (1: rows grouped per person, keys not in the records): a warehouse built with another
# is rebuilt at its next load.
VERSION = "2"
META_VERSION = "persone_anni_versione"
META_LAST_YEAR = "persone_anni_fino"
META_RECORDS = "persone_anni_prestazioni"  # rows of prestazioni when the table was last brought in step

# The key columns of `prestazioni` (core/warehouse.py declares them; added to an older warehouse here).
KEY_COLUMNS = {"persona_key": "INTEGER", "nucleo_key": "INTEGER", "record_key": "BIGINT"}

DELETED = "_prestazioni_tolte"  # temporary: the record keys this transaction deleted
BEFORE = "_prestazioni_prima"  # temporary: the highest record key before this transaction
# Make every row again instead of deleting those of the records deleted when these are at least this share of
# all records (a file that repeats most of them): one pass over the records beats a delete of most rows.
REBUILD_SHARE = 0.3
# New records' rows sorted by intervention and year when they are at least this share of all records.
SORT_SHARE = 0.3

# New integer keys for the pseudonyms of `source` (a relation with a column persona_id, or nucleo_id) not yet
# in the table (numbered in no particular order: a key only has to stay the same once given).
_NEW_PERSON_KEYS = """
INSERT INTO persone (persona_key, persona_id)
SELECT coalesce((SELECT max(persona_key) FROM persone), 0) + row_number() OVER (), s.persona_id
FROM (SELECT DISTINCT persona_id FROM {source} {where}) AS s
WHERE NOT EXISTS (SELECT 1 FROM persone AS k WHERE k.persona_id = s.persona_id)
"""
_NEW_HOUSEHOLD_KEYS = """
INSERT INTO nuclei (nucleo_key, nucleo_id)
SELECT coalesce((SELECT max(nucleo_key) FROM nuclei), 0) + row_number() OVER (), s.nucleo_id
FROM (SELECT DISTINCT nucleo_id FROM {source} WHERE nucleo_id IS NOT NULL {and_where}) AS s
WHERE NOT EXISTS (SELECT 1 FROM nuclei AS k WHERE k.nucleo_id = s.nucleo_id)
"""
# The person-years of the records that `records` selects (a condition on `p`) for the years
# first_year .. last_year.
_PERSON_YEARS = """
INSERT INTO persone_anni
SELECT r.intervento, r.anno, r.persona_key, r.nucleo_key, r.comune, r.anno_nascita,
       r.data_inizio AS attivo_dal,
       CASE WHEN year(r.data_inizio) = r.anno THEN r.data_inizio END AS inizio_il,
       CASE WHEN year(r.data_fine) = r.anno THEN r.data_fine END AS fine_il,
       r.record_key
FROM (
    SELECT p.intervento, p.persona_key, p.nucleo_key, p.comune, p.anno_nascita, p.data_inizio, p.data_fine,
           p.record_key,
           unnest(range(greatest(year(p.data_inizio), $first_year),
                        least(coalesce(year(p.data_fine), $last_year), $last_year) + 1)) AS anno
    FROM prestazioni AS p
    WHERE year(p.data_inizio) <= $last_year AND (p.data_fine IS NULL OR year(p.data_fine) >= $first_year)
      {records}
) AS r
{order}
"""
# Rows sorted by intervention and year, so a measure's scan skips the row groups of the others (DuckDB's
# min-max per row group): a rebuilt table, and the rows of a load that brings most of the records.
_SORTED = "ORDER BY r.intervento, r.anno"
_FIRST_YEAR = 1900  # no date before it passes validation


def _records(con: duckdb.DuckDBPyConnection) -> int:
    return warehouse.scalar(con, "SELECT count(*) FROM prestazioni")


def _last_year(con: duckdb.DuckDBPyConnection) -> int | None:
    value = warehouse.get_meta(con, META_LAST_YEAR)
    return int(value) if value is not None else None


def _wanted_last_year(con: duckdb.DuckDBPyConnection, records: str, current: int | None) -> int:
    """The last year of the table: it never goes back; the current year, or a later start among the records
    (those that `records` selects), moves it on."""
    latest = warehouse.scalar(con, f"SELECT max(year(p.data_inizio)) FROM prestazioni AS p WHERE true {records}")
    return max(current or 0, date.today().year, latest or 0)


def _insert_rows(con: duckdb.DuckDBPyConnection, first_year: int, last_year: int, records: str, order: str) -> None:
    con.execute(_PERSON_YEARS.format(records=records, order=order), {"first_year": first_year, "last_year": last_year})


def _mark(con: duckdb.DuckDBPyConnection, last_year: int) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?), (?, ?), (?, (SELECT count(*) FROM prestazioni)::VARCHAR) "
        "ON CONFLICT (chiave) DO UPDATE SET valore = excluded.valore",
        [META_VERSION, VERSION, META_LAST_YEAR, str(last_year), META_RECORDS],
    )


def is_in_step(con: duckdb.DuckDBPyConnection) -> bool:
    """The table is of this version and was last brought in step with the records as they are."""
    if not warehouse.has_table(con, warehouse.PERSON_YEARS) or not warehouse.has_table(con, warehouse.RECORDS):
        return False
    if warehouse.get_meta(con, META_VERSION) != VERSION:
        return False
    return warehouse.get_meta(con, META_RECORDS) == str(_records(con))


def is_current(con: duckdb.DuckDBPyConnection, years: list[int]) -> bool:
    """The person-years answer for these years: in step with the records, and no year past the table's last."""
    if not is_in_step(con):
        return False
    last = _last_year(con)
    return last is not None and (not years or max(years) <= last)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Every row again from the records and their keys (one pass, no pseudonym read). In the caller's
    transaction; the records must have their keys (`fill_keys`)."""
    last_year = _wanted_last_year(con, "", _last_year(con))
    if warehouse.scalar(con, "SELECT count(*) FROM (SELECT 1 FROM persone_anni LIMIT 1)"):
        con.execute("DELETE FROM persone_anni")
    _insert_rows(con, _FIRST_YEAR, last_year, "", _SORTED)
    _mark(con, last_year)


def _add_key_columns(con: duckdb.DuckDBPyConnection) -> None:
    """The key columns on tables written before they existed (the records get their keys in `fill_keys`, the
    table its rows in `rebuild`)."""
    for table, columns in (("prestazioni", KEY_COLUMNS), ("persone_anni", {"record_key": "BIGINT"})):
        have = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table]
            ).fetchall()
        }
        for column, kind in columns.items():
            if column not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def fill_keys(con: duckdb.DuckDBPyConnection) -> int:
    """Keys for the records that lack them (a warehouse older than the keys, a record written without this
    module): new pseudonyms get new keys; a record without its own key (or sharing it with another) gets one
    above every other (so `update` adds its rows). Returns how many records lacked a key."""
    con.execute(  # a record copied by hand with its key: both get new ones
        "UPDATE prestazioni SET record_key = NULL WHERE record_key IN "
        "(SELECT record_key FROM prestazioni GROUP BY record_key HAVING count(*) > 1)"
    )
    missing = "persona_key IS NULL OR record_key IS NULL OR (nucleo_key IS NULL AND nucleo_id IS NOT NULL)"
    n = warehouse.scalar(con, f"SELECT count(*) FROM prestazioni WHERE {missing}")
    if not n:
        return 0
    con.execute(_NEW_PERSON_KEYS.format(source="prestazioni", where="WHERE persona_key IS NULL"))
    con.execute(_NEW_HOUSEHOLD_KEYS.format(source="prestazioni", and_where="AND nucleo_key IS NULL"))
    for column, table, pseudonym in (("persona_key", "persone", "persona_id"), ("nucleo_key", "nuclei", "nucleo_id")):
        con.execute(
            f"UPDATE prestazioni AS p SET {column} = k.{column} FROM {table} AS k "
            f"WHERE p.{column} IS NULL AND k.{pseudonym} = p.{pseudonym}"
        )
    con.execute(
        """
        UPDATE prestazioni AS p SET record_key = n.record_key
        FROM (SELECT rowid AS r, (SELECT coalesce(max(record_key), 0) FROM prestazioni) + row_number() OVER ()
              AS record_key FROM prestazioni WHERE record_key IS NULL) AS n
        WHERE p.rowid = n.r
        """
    )
    return n


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of a transaction that may change `prestazioni`: keys on every record and the table in
    step (a warehouse older than them, another version, a change made without this module: keys given and
    table rebuilt here); the records' highest key noted, no record deleted yet."""
    if not is_in_step(con):
        _add_key_columns(con)
        fill_keys(con)
        rebuild(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {DELETED} (record_key BIGINT)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BEFORE} AS SELECT coalesce(max(record_key), 0) AS record_key FROM prestazioni"
    )


def _next_record_key(con: duckdb.DuckDBPyConnection) -> int:
    return warehouse.scalar(con, "SELECT coalesce(max(record_key), 0) + 1 FROM prestazioni")


def delete_records(con: duckdb.DuckDBPyConnection, delete_sql: str, params: list | None = None) -> int:
    """Run `delete_sql` (a DELETE FROM prestazioni) and note the records it deletes. Returns how many."""
    deleted = con.execute(f"{delete_sql} RETURNING record_key", params or []).fetchnumpy()["record_key"]
    if len(deleted):
        con.register("_deleted_now", pl.DataFrame({"record_key": deleted}, schema={"record_key": pl.Int64}))
        con.execute(f"INSERT INTO {DELETED} SELECT record_key FROM _deleted_now")
        con.unregister("_deleted_now")
    return len(deleted)


def insert_records(
    con: duckdb.DuckDBPyConnection, source: str, columns: list[str], number: str = "row_number() OVER ()"
) -> int:
    """Insert into `prestazioni` the rows of `source` (a table, or a parenthesised query, with `columns`,
    among them persona_id and nucleo_id) with the keys of their pseudonyms (new pseudonyms get new keys) and
    record keys above every other (`number`: distinct positive numbers of the rows of `source`, `s`; the
    staged rows' row in the file will do). Returns the rows inserted."""
    con.execute(_NEW_PERSON_KEYS.format(source=source, where=""))
    con.execute(_NEW_HOUSEHOLD_KEYS.format(source=source, and_where=""))
    before = _records(con)
    cols = ", ".join(columns)
    con.execute(
        f"INSERT INTO prestazioni ({cols}, persona_key, nucleo_key, record_key) "
        f"SELECT {', '.join(f's.{c}' for c in columns)}, k.persona_key, n.nucleo_key, $next + {number} "
        f"FROM {source} AS s JOIN persone AS k ON k.persona_id = s.persona_id "
        "LEFT JOIN nuclei AS n ON n.nucleo_id = s.nucleo_id",
        {"next": _next_record_key(con) - 1},
    )
    return _records(con) - before


def update(con: duckdb.DuckDBPyConnection) -> None:
    """Before the commit: the rows of the records deleted go, those of the records written come (every row
    again when most records were deleted)."""
    deleted = warehouse.scalar(con, f"SELECT count(*) FROM {DELETED}")
    new = f"AND p.record_key > (SELECT record_key FROM {BEFORE})"
    added = warehouse.scalar(con, f"SELECT count(*) FROM prestazioni AS p WHERE true {new}")
    records = _records(con)
    if deleted and deleted >= REBUILD_SHARE * records:
        rebuild(con)
    elif deleted or added:
        current = _last_year(con)
        last_year = _wanted_last_year(con, new, current)
        if deleted:
            con.execute(f"DELETE FROM persone_anni WHERE record_key IN (SELECT record_key FROM {DELETED})")
        if current is not None and last_year > current:  # years the table did not have yet, for the others
            old = f"AND p.record_key <= (SELECT record_key FROM {BEFORE})"
            _insert_rows(con, current + 1, last_year, old, "")
        _insert_rows(con, _FIRST_YEAR, last_year, new, _SORTED if added >= SORT_SHARE * records else "")
        _mark(con, last_year)
    con.execute(f"DROP TABLE IF EXISTS {DELETED}")
    con.execute(f"DROP TABLE IF EXISTS {BEFORE}")
