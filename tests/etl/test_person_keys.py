"""The integer keys (etl/person_keys.py): every record carries the keys derived from its pseudonyms (their first
31 hex digits as a number, computed here apart from the SQL), given in the transaction that writes it.

After each step of a sequence of loads (new persons, a later file repeating record keys with other persons,
comuni and households, rows held for a code mapping and then released) every record has the key of its
person and household, one key per pseudonym, never changed once given; a load killed half way leaves records
and keys as they were; a warehouse older than the keys is counted by the pseudonyms until its next load gives
them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb

from core.settings import REPO_ROOT
from etl import person_keys
from etl.codifiche import save_mapping
from etl.loader import load_files
from tests.conftest import kill_9_when, make_cf, write_csv

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


def expected_key(pseudonym: str | None) -> int | None:
    """The key of a pseudonym computed here, apart from the SQL: its first 31 hex digits as a number."""
    return None if pseudonym is None else int(pseudonym[:31], 16)


def assert_keyed(db) -> list[tuple]:
    """Every record carries the key of its person and household (none without a household), the key derived
    from its pseudonym, one key per pseudonym and one pseudonym per key; returns the records as
    (fonte, id_prestazione, persona_id, nucleo_id, persona_key, nucleo_key)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert person_keys.is_in_step(con)
        records = con.execute(
            "SELECT fonte, id_prestazione, persona_id, nucleo_id, persona_key, nucleo_key FROM prestazioni"
        ).fetchall()
    finally:
        con.close()
    for r in records:
        assert len(r[2]) == 64 and (r[3] is None or len(r[3]) == 64)  # pseudonyms, never codes
        assert (r[4], r[5]) == (expected_key(r[2]), expected_key(r[3])), r
        assert 0 <= r[4] < 2**124
    for i, k in ((2, 4), (3, 5)):
        pairs = {(r[i], r[k]) for r in records if r[i] is not None}
        assert len(pairs) == len({p for p, _ in pairs}) == len({key for _, key in pairs})
    return sorted(records, key=repr)


def _keys(db) -> set[tuple]:
    """(P or N, pseudonym, key) of every person and household of the records."""
    return {("P", r[2], r[4]) for r in assert_keyed(db)} | {("N", r[3], r[5]) for r in assert_keyed(db) if r[3]}


def _same_keys(before: set[tuple], now: set[tuple]) -> bool:
    """Every person and household of both sets has the same key in both."""
    now_by_pseudonym = {(kind, pseudonym): key for kind, pseudonym, key in now}
    common = [(kind, p, k) for kind, p, k in before if (kind, p) in now_by_pseudonym]
    return bool(common) and all(now_by_pseudonym[(kind, p)] == k for kind, p, k in common)


def test_every_record_keyed_load_by_load(tmp_path, db_path):
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
    first = assert_keyed(db)
    assert len({r[4] for r in first}) == 4 and len({r[5] for r in first if r[5] is not None}) == 2
    given = _keys(db)
    # a later file: new persons, and record keys repeated with another person, comune, household
    _load(
        tmp_path,
        "b.csv",
        [
            row("1", P[3], inizio="2024-07-01", fine="2024-08-01"),  # record 1 now P[3]'s, no household
            row("3", P[1], comune="Crema", inizio="2025-02-01", nucleo="N3"),
            row("6", P[4], intervento="TIROCINIO", inizio="2025-03-01", fine="2025-04-01"),
            row("7", P[0], intervento="ADM", inizio="2024-01-15", nucleo="N1"),
        ],
    )
    second = assert_keyed(db)
    assert _same_keys(given, _keys(db))  # a key once given never changes
    assert [r for r in second if r[1] == "1"][0][5] is None
    given = _keys(db)
    # rows waiting for a code mapping have no key until they are released
    res = _load(
        tmp_path,
        "c.csv",
        [
            row("8", P[5], intervento="", sistema="CARTELLA", codice="DOM-1", inizio="2024-04-01"),
            row("4", P[6], intervento="", sistema="CARTELLA", codice="DOM-1", inizio="2025-01-01", nucleo="N4"),
            row("9", P[2], intervento="", sistema="CARTELLA", codice="DOM-2", inizio="2025-05-05"),
        ],
    )
    assert res.rows_held == 3
    assert_keyed(db)
    assert _keys(db) == given  # nobody new until the rows are released
    released = save_mapping("CARTELLA", "DOM-1", "SAD", db=db)  # from the dashboard's form
    assert released.rows_released == 2  # record 4 now P[6]'s
    after_release = assert_keyed(db)
    assert {r[2] for r in after_release if r[1] in ("4", "8")} == {
        k[1] for k in _keys(db) - given if k[0] == "P"
    }  # P[5], P[6]: new keys
    assert _same_keys(given, _keys(db))
    mappings = write_csv(
        tmp_path / "codifiche.csv",
        ["sistema", "codice", "intervento", "descrizione"],
        [["CARTELLA", "DOM-2", "CAG", ""]],
    )
    [res] = load_files([mappings], db=db)  # from a codifiche file
    assert (res.status, res.rows_released) == ("loaded", 1)
    assert len(assert_keyed(db)) == 9


def test_kill_9_during_a_load_leaves_records_and_keys_as_they_were(tmp_path, db_path):
    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0]), row("2", P[1], inizio="2025-01-01", nucleo="N1")])
    before, keys_before = assert_keyed(db), _keys(db)
    big = [row(f"k{i}", P[i % 8], intervento=("SAD", "ADM")[i % 2], inizio="2025-02-01") for i in range(5000)]
    big.append(row("1", P[2], inizio="2023-01-01", nucleo="N9"))  # replaces a record: deletes in the killed load
    env = {**os.environ, "PDZ_TEST_PAUSE_IN_TRANSACTION": "60", "PDZ_DB": str(db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", str(write_csv(tmp_path / "big.csv", HEADER, big))],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    kill_9_when(proc, "PDZ_IN_TRANSACTION")  # the loader says when its transaction holds the new rows and keys
    assert assert_keyed(db) == before  # opening replays the WAL: nothing of the killed load survives
    assert _keys(db) == keys_before
    _load(tmp_path, "c.csv", big)  # and the next load keys them
    assert len(assert_keyed(db)) == 5002
    assert _same_keys(keys_before, _keys(db))


def test_a_warehouse_older_than_the_keys_is_counted_by_pseudonym_until_its_next_load(tmp_path, db_path, monkeypatch):
    from indicators.engine import indicator_values

    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0], inizio="2024-03-01", nucleo="N1"), row("2", P[1], intervento="ADM")])
    con = duckdb.connect(str(db))
    expected = indicator_values(con)
    for column in person_keys.KEY_COLUMNS:
        con.execute(f"ALTER TABLE prestazioni DROP COLUMN {column}")
    con.execute("DELETE FROM meta WHERE chiave LIKE 'chiavi%'")
    assert not person_keys.is_in_step(con)
    assert indicator_values(con).equals(expected)  # answered by the pseudonyms
    con.close()
    sedi = write_csv(
        tmp_path / "sedi.csv",
        ["id_sede", "nome", "tipo", "comune"],
        [["H1", "Hub", "HUB", "Crema"]],
    )
    [res] = load_files([sedi], db=db)  # any load gives the keys
    assert res.status == "loaded", res.error
    assert len(assert_keyed(db)) == 2
    con = duckdb.connect(str(db), read_only=True)
    keyed = indicator_values(con)
    monkeypatch.setattr(person_keys, "is_in_step", lambda con: False)
    assert keyed.equals(indicator_values(con))  # the keys count as the pseudonyms
    con.close()


def test_a_record_written_without_the_loader_sends_the_measures_to_the_pseudonyms(tmp_path, db_path):
    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0])])
    con = duckdb.connect(str(db))
    assert person_keys.is_in_step(con)
    con.execute(
        "INSERT INTO prestazioni SELECT * REPLACE ('99' AS id_prestazione, NULL AS persona_key) FROM prestazioni"
    )
    assert not person_keys.is_in_step(con)
    con.close()
    _load(tmp_path, "b.csv", [row("2", P[1])])  # the next load keys it
    assert len({r[4] for r in assert_keyed(db)}) == 2


def test_a_warehouse_with_the_numbered_keys_of_a_trial_version_gets_derived_keys(tmp_path, db_path):
    db = db_path
    _load(tmp_path, "a.csv", [row("1", P[0], nucleo="N1"), row("2", P[1])])
    con = duckdb.connect(str(db))
    for column in person_keys.KEY_COLUMNS:  # as the numbered keys of version "1" (never released)
        con.execute(f"ALTER TABLE prestazioni DROP COLUMN {column}")
        con.execute(f"ALTER TABLE prestazioni ADD COLUMN {column} INTEGER DEFAULT 1")
    con.execute("UPDATE meta SET valore = '1' WHERE chiave = ?", [person_keys.META_VERSION])
    assert not person_keys.is_in_step(con)
    con.close()
    _load(tmp_path, "b.csv", [row("3", P[2])])
    assert len(assert_keyed(db)) == 3


def test_a_pseudonym_has_the_same_key_in_every_load(tmp_path, db_path):
    db = db_path
    given: set[tuple] = set()
    for i in range(3):
        _load(tmp_path, f"{i}.csv", [row(str(i), P[0], nucleo="N1"), row(f"x{i}", P[i + 1], nucleo=f"M{i}")])
        now = _keys(db)
        assert given <= now  # a key once given never changes
        given = now
    assert len(given) == 4 + 4  # P[0..3]; N1, M0, M1, M2
