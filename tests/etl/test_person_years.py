"""The person-years (etl/person_years.py): kept exact by every change to the records, in the same transaction.

After each step of a sequence of loads (new persons, a later file repeating record keys with other persons,
dates, comuni and households, rows held for a code mapping and then released, a record of the future that
moves the table's last year on) the table maintained load by load equals the one rebuilt from the records;
a load killed half way leaves it in step with the records; a warehouse older than the table is answered
from the records until its next load builds it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from core import warehouse
from core.settings import REPO_ROOT
from etl import person_years
from etl.codifiche import save_mapping
from etl.loader import load_files
from tests.conftest import make_cf, write_csv

HEADER = [
    "id_prestazione",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "data_inizio",
    "data_fine",
    "id_nucleo",
    "sistema_codifica",
    "codice_intervento",
]
P = [make_cf("RSSMRA", 1940 + i, 1 + i % 12, 1 + i % 28) for i in range(8)]
MINOR = make_cf("BNCLCU", 2012, 5, 5, female=True)


def row(key, cf, comune="Crema", intervento="SAD", inizio="2024-03-01", fine="", nucleo="", sistema="", codice=""):
    return [key, cf, comune, intervento, inizio, fine, nucleo, sistema, codice]


def _load(tmp_path, name, rows):
    [res] = load_files([write_csv(tmp_path / name, HEADER, rows)], db=tmp_path / "warehouse.duckdb")
    assert res.status == "loaded", res.error
    return res


def _rows(con) -> list[tuple]:
    """The person-years with the pseudonyms instead of the keys (a rebuild keeps the keys, but say it anyway)."""
    return sorted(
        con.execute(
            """
            SELECT r.intervento, r.anno, k.persona_id, n.nucleo_id, r.comune, r.anno_nascita, r.attivo_dal,
                   r.inizio_il, r.fine_il, r.persona_key, r.nucleo_key
            FROM persone_anni AS r JOIN persone AS k USING (persona_key) LEFT JOIN nuclei AS n USING (nucleo_key)
            """
        ).fetchall(),
        key=repr,
    )


def assert_as_rebuilt(db) -> list[tuple]:
    """The maintained table equals the one rebuilt from the records (in a transaction rolled back)."""
    con = duckdb.connect(str(db))
    try:
        assert person_years.is_in_step(con)
        maintained = _rows(con)
        keys = con.execute("SELECT count(*), count(DISTINCT persona_id), count(DISTINCT persona_key) FROM persone")
        n, ids, distinct_keys = keys.fetchall()[0]
        assert n == ids == distinct_keys  # one key per pseudonym, never two
        for key, pseudonym, table in (("persona_key", "persona_id", "persone"), ("nucleo_key", "nucleo_id", "nuclei")):
            wrong = con.execute(  # every record carries the key of its pseudonym (none for no household)
                f"SELECT count(*) FROM prestazioni AS p LEFT JOIN {table} AS k USING ({pseudonym}) "
                f"WHERE p.{key} IS DISTINCT FROM k.{key}"
            ).fetchall()[0][0]
            assert wrong == 0, key
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM persone_anni")
        person_years.rebuild(con)
        rebuilt = _rows(con)
        con.execute("ROLLBACK")
        assert maintained == rebuilt
        in_records = con.execute(
            "SELECT count(DISTINCT persona_id) FROM prestazioni WHERE year(data_inizio) <= ?",
            [int(warehouse.get_meta(con, person_years.META_LAST_YEAR))],
        ).fetchall()[0][0]
        assert len({r[2] for r in maintained}) == in_records  # every person with a record, nobody else
        return maintained
    finally:
        con.close()


def _held_persons(db) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        held = {  # persons with held rows only
            r[0]
            for r in con.execute(
                "SELECT persona_id FROM prestazioni_in_attesa EXCEPT SELECT persona_id FROM prestazioni"
            ).fetchall()
        }
        counted = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT k.persona_id FROM persone_anni JOIN persone AS k USING (persona_key)"
            ).fetchall()
        }
        return held & counted
    finally:
        con.close()


@pytest.mark.parametrize("share", [2.0, 0.0], ids=["rows-of-the-touched-persons", "every-row"])
def test_maintained_load_by_load_equals_a_rebuild(tmp_path, db_path, monkeypatch, share):
    monkeypatch.setattr(person_years, "REBUILD_SHARE", share)  # both ways `update` can go, whatever the sizes
    db = db_path
    _load(
        tmp_path,
        "a.csv",
        [
            row("1", P[0], inizio="2023-05-01", fine="2024-02-10", nucleo="N1"),
            row("2", P[0], intervento="ADM", inizio="2024-01-15"),
            row("3", P[1], comune="Bagnolo Cremasco", inizio="2024-11-30", fine="2025-01-31", nucleo="N1"),
            row("4", P[2], intervento="CENTRO_FAMIGLIA", inizio="2022-02-01", nucleo="N2"),
            row("5", MINOR, intervento="ADM", inizio="2025-06-01", fine="2025-09-30"),
        ],
    )
    first = assert_as_rebuilt(db)
    assert {r[1] for r in first if r[2] and r[0] == "CENTRO_FAMIGLIA"} >= {2022, 2023, 2024, 2025}  # open: each year
    # a later file: new persons, and record keys repeated with another person, date, comune, household
    _load(
        tmp_path,
        "b.csv",
        [
            row("1", P[3], inizio="2024-07-01", fine="2024-08-01"),  # record 1 now P[3]'s: P[0] keeps only ADM
            row("3", P[1], comune="Crema", inizio="2025-02-01", nucleo="N3"),
            row("6", P[4], intervento="TIROCINIO", inizio="2025-03-01", fine="2025-04-01"),
            row("7", P[0], intervento="ADM", inizio="2024-01-15", nucleo="N1"),  # same dates, a household now
        ],
    )
    assert_as_rebuilt(db)
    # rows waiting for a code mapping are not counted until it arrives
    res = _load(
        tmp_path,
        "c.csv",
        [
            row("8", P[5], intervento="", sistema="CARTELLA", codice="DOM-1", inizio="2024-04-01"),
            row("4", P[6], intervento="", sistema="CARTELLA", codice="DOM-1", inizio="2025-01-01", nucleo="N2"),
            row("9", P[2], intervento="", sistema="CARTELLA", codice="DOM-2", inizio="2025-05-05"),
        ],
    )
    assert res.rows_held == 3
    assert_as_rebuilt(db)
    assert _held_persons(db) == set()  # P[5], P[6] wait
    released = save_mapping("CARTELLA", "DOM-1", "SAD", db=db)  # from the dashboard's form
    assert released.rows_released == 2  # record 4 now P[6]'s: P[2]'s open CENTRO_FAMIGLIA is gone
    after_release = assert_as_rebuilt(db)
    assert not [r for r in after_release if r[0] == "CENTRO_FAMIGLIA"]
    mappings = write_csv(
        tmp_path / "codifiche.csv",
        ["sistema", "codice", "intervento", "descrizione"],
        [["CARTELLA", "DOM-2", "CAG", ""]],
    )
    [res] = load_files([mappings], db=db)  # from a codifiche file
    assert (res.status, res.rows_released) == ("loaded", 1)
    assert_as_rebuilt(db)
    # a record of a later year moves the table's last year on: every open record gets the new years
    con = duckdb.connect(str(db), read_only=True)
    last = int(warehouse.get_meta(con, person_years.META_LAST_YEAR))
    con.close()
    _load(tmp_path, "d.csv", [row("10", P[7], inizio=f"{last + 2}-01-10")])
    rows = assert_as_rebuilt(db)
    assert {r[1] for r in rows if r[0] == "ADM" and r[6].isoformat() == "2024-01-15"} >= {last + 1, last + 2}


def test_kill_9_during_a_load_leaves_the_table_in_step(tmp_path, db_path):
    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0]), row("2", P[1], inizio="2025-01-01", nucleo="N1")])
    before = assert_as_rebuilt(db)
    big = [row(f"k{i}", P[i % 8], intervento=("SAD", "ADM")[i % 2], inizio="2025-02-01") for i in range(5000)]
    big.append(row("1", P[2], inizio="2023-01-01"))  # replaces a record: deletes in the killed transaction
    env = {**os.environ, "PDZ_TEST_PAUSE_IN_TRANSACTION": "60", "PDZ_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", str(write_csv(tmp_path / "big.csv", HEADER, big))],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 120
    for line in proc.stderr:  # the loader says when its transaction holds the new rows and person-years
        if "PDZ_IN_TRANSACTION" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert assert_as_rebuilt(db) == before  # opening replays the WAL: nothing of the killed load survives
    _load(tmp_path, "c.csv", big)  # and the next load keeps it exact
    assert len(assert_as_rebuilt(db)) > len(before)


def test_a_warehouse_older_than_the_table_is_read_from_the_records_until_its_next_load(tmp_path, db_path):
    from indicators.engine import indicator_values

    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0], inizio="2024-03-01"), row("2", P[1], intervento="ADM")])
    con = duckdb.connect(str(db))
    expected = indicator_values(con)
    for table in ("persone_anni", "persone", "nuclei"):  # as a warehouse written before them
        con.execute(f"DROP TABLE {table}")
    for column in person_years.KEY_COLUMNS:
        con.execute(f"ALTER TABLE prestazioni DROP COLUMN {column}")
    con.execute("DELETE FROM meta WHERE chiave LIKE 'persone_anni%'")
    assert not person_years.is_current(con, [2024])
    assert indicator_values(con).equals(expected)  # answered from the records
    con.close()
    sedi = write_csv(
        tmp_path / "sedi.csv",
        ["id_sede", "nome", "tipo", "comune"],
        [["H1", "Hub", "HUB", "Crema"]],
    )
    [res] = load_files([sedi], db=db)  # any load brings the table
    assert res.status == "loaded", res.error
    assert_as_rebuilt(db)
    con = duckdb.connect(str(db), read_only=True)
    assert person_years.is_current(con, [2024, 2025])
    con.close()


def test_a_record_written_without_the_loader_sends_the_measures_to_the_records(tmp_path, db_path):
    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0])])
    con = duckdb.connect(str(db))
    assert person_years.is_current(con, [2024])
    assert not person_years.is_current(con, [2024, int(warehouse.get_meta(con, person_years.META_LAST_YEAR)) + 1])
    con.execute("INSERT INTO prestazioni SELECT * REPLACE ('99' AS id_prestazione) FROM prestazioni")
    assert not person_years.is_in_step(con)
    con.close()
    _load(tmp_path, "b.csv", [row("2", P[1])])  # the next load rebuilds it
    assert len({r[2] for r in assert_as_rebuilt(db)}) == 2


@pytest.mark.parametrize("column", ["persona_id", "nucleo_id"])
def test_no_pseudonym_has_two_keys_across_loads(tmp_path, db_path, column):
    db = db_path
    table, key = {"persona_id": ("persone", "persona_key"), "nucleo_id": ("nuclei", "nucleo_key")}[column]
    given: set[tuple] = set()
    for i in range(3):
        _load(tmp_path, f"{i}.csv", [row(str(i), P[0], nucleo="N1"), row(f"x{i}", P[i + 1], nucleo=f"M{i}")])
        con = duckdb.connect(str(db), read_only=True)
        now = set(con.execute(f"SELECT {column}, {key} FROM {table}").fetchall())
        con.close()
        assert given <= now  # a key once given never changes
        given = now
    con = duckdb.connect(str(db), read_only=True)
    n, ids, keys = con.execute(
        f"SELECT count(*), count(DISTINCT {column}), count(DISTINCT {key}) FROM {table}"
    ).fetchall()[0]
    con.close()
    assert n == ids == keys == 4
