"""Persons as integers and their person-years: what the distinct-count measures read.

`persone` and `nuclei` give each pseudonym (of a person, of a household) an integer key; the pseudonym stays
the identity across loads, and a key, once given, never changes. `persone_anni` has one row per person key,
intervention, comune, household key, year of birth and year in which a record of theirs is active (the
records' years are expanded once, here, instead of at every query), with the earliest dates the events of
`indicators/kinds/_macros.sql` need for a window that ends before 31 December (the year to date):

* `attivo_dal`: the earliest `data_inizio` of the records active in the year (a record is active in the year
  from the year of its `data_inizio` to the year of its `data_fine`, or for ever when it has none);
* `inizio_il`: the earliest `data_inizio` in the year, `fine_il`: the earliest `data_fine` in the year.

A row is active in the window `d0 .. d1` of its year when `attivo_dal <= d1`, has a start when
`inizio_il <= d1` and an end when `fine_il <= d1`: exactly when one of its records has that event
(`evento_in_anno`). Years run up to `meta.persone_anni_fino` (the latest year of a `data_inizio`, or the
current year when later; it only grows): the measures read the records themselves for a later year.

The writer keeps the table exact inside the transaction of every change to `prestazioni`:

    prepare(con)            # at the start: rebuilt when missing, of another version or not in step
    touch(con, "SELECT persona_id FROM ...")   # before rows of these persons are deleted or inserted
    ... the writes ...
    update(con)             # before the commit: the rows of the touched persons rebuilt

`prestazioni_in_attesa` is not read: held rows enter with their release (a write to `prestazioni`).
`is_current(con, years)` tells a reader whether the table answers for these years. "In step" means: built by
this version, and `prestazioni` has the number of rows it had when the table was last maintained
(`meta.persone_anni_prestazioni`); a write that bypassed this module and changed that number sends the
measures back to the records, and the next load rebuilds the table (only etl/ writes the warehouse, so
nothing else should write `prestazioni` at all).
"""

from __future__ import annotations

from datetime import date

import duckdb

from core import warehouse

VERSION = "1"  # of the definition above: a warehouse built with another is rebuilt at its next load
META_VERSION = "persone_anni_versione"
META_LAST_YEAR = "persone_anni_fino"
META_RECORDS = "persone_anni_prestazioni"  # rows of prestazioni when the table was last brought in step

TOUCHED = "_persone_toccate"  # temporary: the pseudonyms whose rows this transaction rebuilds
TOUCHED_RECORDS = "_prestazioni_toccate"  # temporary: their records, with their person keys
# Rebuild every row instead of those of the touched persons when they are at least this share of all persons
# (a first load, a file that repeats most of the records): one pass over the records beats two.
REBUILD_SHARE = 0.3

# New integer keys for the pseudonyms of `source` (a relation with a column persona_id) not yet in the table
# (numbered in no particular order: a key only has to stay the same once given).
_NEW_PERSON_KEYS = """
INSERT INTO persone (persona_key, persona_id)
SELECT coalesce((SELECT max(persona_key) FROM persone), 0) + row_number() OVER (), s.persona_id
FROM (SELECT DISTINCT persona_id FROM {source}) AS s
WHERE NOT EXISTS (SELECT 1 FROM persone AS k WHERE k.persona_id = s.persona_id)
"""
# The records (with their person keys) the rows are made from: all of them, or the touched persons'.
_ALL_RECORDS = """(
    SELECT k.persona_key, p.nucleo_id, p.intervento, p.comune, p.anno_nascita, p.data_inizio, p.data_fine
    FROM prestazioni AS p JOIN persone AS k ON k.persona_id = p.persona_id
)"""
_COPY_TOUCHED_RECORDS = f"""
INSERT INTO {TOUCHED_RECORDS}
SELECT k.persona_key, p.nucleo_id, p.intervento, p.comune, p.anno_nascita, p.data_inizio, p.data_fine
FROM prestazioni AS p
JOIN (SELECT persona_key, persona_id FROM persone WHERE persona_id IN (SELECT persona_id FROM {TOUCHED})) AS k
    ON k.persona_id = p.persona_id
"""
_NEW_HOUSEHOLD_KEYS = """
INSERT INTO nuclei (nucleo_key, nucleo_id)
SELECT coalesce((SELECT max(nucleo_key) FROM nuclei), 0) + row_number() OVER (), s.nucleo_id
FROM (SELECT DISTINCT nucleo_id FROM {records} WHERE nucleo_id IS NOT NULL) AS s
WHERE NOT EXISTS (SELECT 1 FROM nuclei AS k WHERE k.nucleo_id = s.nucleo_id)
"""
# The person-years of `records` for the years first_year .. last_year.
_PERSON_YEARS = """
INSERT INTO persone_anni
SELECT r.intervento, r.anno, r.persona_key, n.nucleo_key, r.comune, r.anno_nascita,
       min(r.data_inizio) AS attivo_dal,
       min(r.data_inizio) FILTER (WHERE year(r.data_inizio) = r.anno) AS inizio_il,
       min(r.data_fine) FILTER (WHERE year(r.data_fine) = r.anno) AS fine_il
FROM (
    SELECT p.*, unnest(range(greatest(year(p.data_inizio), $first_year),
                             least(coalesce(year(p.data_fine), $last_year), $last_year) + 1)) AS anno
    FROM {records} AS p
    WHERE year(p.data_inizio) <= $last_year AND (p.data_fine IS NULL OR year(p.data_fine) >= $first_year)
) AS r
LEFT JOIN nuclei AS n ON n.nucleo_id = r.nucleo_id
GROUP BY r.intervento, r.anno, r.persona_key, n.nucleo_key, r.comune, r.anno_nascita
{order}
"""
# A rebuilt table is sorted by intervention and year, so a measure's scan skips the row groups of the others
# (DuckDB's min-max per row group); rows added later are appended as they come.
_SORTED = "ORDER BY r.intervento, r.anno"
_FIRST_YEAR = 1900  # no date before it passes validation


def _records(con: duckdb.DuckDBPyConnection) -> int:
    return warehouse.scalar(con, "SELECT count(*) FROM prestazioni")


def _last_year(con: duckdb.DuckDBPyConnection) -> int | None:
    value = warehouse.get_meta(con, META_LAST_YEAR)
    return int(value) if value is not None else None


def _wanted_last_year(con: duckdb.DuckDBPyConnection, records: str, current: int | None) -> int:
    """The last year of the table: it never goes back; the current year, or a later start in `records`, moves
    it on."""
    latest = warehouse.scalar(con, f"SELECT max(year(data_inizio)) FROM {records}") or 0
    return max(current or 0, date.today().year, latest)


def _insert_rows(
    con: duckdb.DuckDBPyConnection, records: str, first_year: int, last_year: int, order: str = ""
) -> None:
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
    """Every row again from the records (keys kept; new pseudonyms get new keys). In the caller's transaction."""
    con.execute(_NEW_PERSON_KEYS.format(source="prestazioni"))
    con.execute(_NEW_HOUSEHOLD_KEYS.format(records="prestazioni"))
    last_year = _wanted_last_year(con, "prestazioni", _last_year(con))
    con.execute("DELETE FROM persone_anni")
    _insert_rows(con, _ALL_RECORDS, _FIRST_YEAR, last_year, _SORTED)
    _mark(con, last_year)


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """At the start of a transaction that may change `prestazioni`: the table in step (rebuilt when it is not:
    a warehouse older than it, another version, a change made without `update`), and no person touched yet."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (persona_id VARCHAR)")
    if not is_in_step(con):
        rebuild(con)


def touch(con: duckdb.DuckDBPyConnection, persons_sql: str, params: list | None = None) -> None:
    """The persons that `persons_sql` (one column of pseudonyms) returns have records deleted or added."""
    con.execute(f"INSERT INTO {TOUCHED} {persons_sql}", params or [])


def update(con: duckdb.DuckDBPyConnection) -> None:
    """Before the commit: the rows of the touched persons from their records as they are now (every row when
    they are many)."""
    touched = warehouse.scalar(con, f"SELECT count(DISTINCT persona_id) FROM {TOUCHED}")
    if touched and touched >= REBUILD_SHARE * (warehouse.scalar(con, "SELECT count(*) FROM persone") + touched):
        rebuild(con)
    elif touched:
        current = _last_year(con)
        con.execute(_NEW_PERSON_KEYS.format(source=TOUCHED))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {TOUCHED_RECORDS} (persona_key INTEGER, nucleo_id VARCHAR, "
            "intervento VARCHAR, comune VARCHAR, anno_nascita INTEGER, data_inizio DATE, data_fine DATE)"
        )
        con.execute(_COPY_TOUCHED_RECORDS)
        con.execute(_NEW_HOUSEHOLD_KEYS.format(records=TOUCHED_RECORDS))
        last_year = _wanted_last_year(con, TOUCHED_RECORDS, current)
        if current is not None and last_year > current:  # years the table did not have yet, for everyone
            _insert_rows(con, _ALL_RECORDS, current + 1, last_year)
        con.execute(
            "DELETE FROM persone_anni WHERE persona_key IN "
            f"(SELECT k.persona_key FROM persone AS k JOIN {TOUCHED} USING (persona_id))"
        )
        _insert_rows(con, TOUCHED_RECORDS, _FIRST_YEAR, last_year)
        _mark(con, last_year)
        con.execute(f"DROP TABLE IF EXISTS {TOUCHED_RECORDS}")
    con.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
