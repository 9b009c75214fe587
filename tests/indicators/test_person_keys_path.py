"""The measures that count persons give the same table from the integer keys (etl/person_keys.py) as from the
pseudonyms (`_records_<tipo>.sql`): on the literal warehouse of the golden files for several dates of the data
and years, and on a demo warehouse for both audiences (disclosure control included).

The golden files (test_compute_golden.py) hold the output from before the keys, unchanged; here the two ways
of counting are compared on more windows than they cover.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core import warehouse
from etl import person_keys
from indicators import api
from indicators.engine import indicator_values
from indicators.kinds import Context
from tests.indicators.conftest import set_territory
from tests.indicators.test_compute_golden import _fill


def _from_records(monkeypatch):
    monkeypatch.setattr(person_keys, "is_in_step", lambda con: False)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """The warehouse of the golden files, built once (700 records added as the loader adds them); only read."""
    with warehouse.writer(tmp_path_factory.mktemp("golden") / "w.duckdb") as con:
        set_territory(con)
        _fill(con)
        yield con


@pytest.mark.parametrize(
    ("as_of", "years"),
    [
        (None, None),  # the date of the data (2025-10-15: 2025 is a year to date)
        (date(2025, 6, 30), None),
        (date(2024, 3, 31), [2023, 2024, 2025, 2026]),  # windows that end before their year starts
        (date(2025, 12, 31), [2022, 2025]),
    ],
)
def test_the_keys_count_as_the_pseudonyms(filled, monkeypatch, as_of, years):
    con = filled
    assert Context(con=con, years=years or [2025], as_of=date(2025, 1, 1)).has_person_keys
    mine = indicator_values(con, years=years, as_of=as_of)
    _from_records(monkeypatch)
    assert mine.equals(indicator_values(con, years=years, as_of=as_of))


def test_records_without_keys_are_counted_by_their_pseudonyms(tmp_path):
    with warehouse.writer(tmp_path / "w.duckdb") as con:
        set_territory(con)
        _fill(con)
        expected = indicator_values(con)
        con.execute("INSERT INTO prestazioni SELECT * REPLACE ('copia' AS fonte) FROM prestazioni LIMIT 1")
        ctx = Context(con=con, years=[2025], as_of=date(2025, 12, 31))
        assert not ctx.has_person_keys  # a record written around the loader: the keys may not answer
        assert ctx.persons_query(Path("x/distinct_units_rate.sql")) == Path("x/_records_distinct_units_rate.sql")
        con.execute("DELETE FROM prestazioni WHERE fonte = 'copia'")
        con.execute("DELETE FROM meta WHERE chiave = ?", [person_keys.META_VERSION])  # as an older warehouse:
        for column in person_keys.KEY_COLUMNS:
            con.execute(f"ALTER TABLE prestazioni DROP COLUMN {column}")  # no keys at all
        assert not person_keys.is_in_step(con)
        assert indicator_values(con).equals(expected)  # counted by the pseudonyms, the same


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from tests.conftest import demo_warehouse_env

    with demo_warehouse_env(tmp_path_factory.mktemp("py")) as db:
        yield db


@pytest.mark.parametrize("audience", api.AUDIENCES)
def test_the_demo_tables_are_the_same_both_ways(demo_db, monkeypatch, audience):
    with warehouse.reader(demo_db) as con:
        assert person_keys.is_in_step(con)
        mine = api.indicator_table(con, audience)
        _from_records(monkeypatch)
        theirs = api.indicator_table(con, audience)
    assert mine.height > 1000
    assert mine.equals(theirs)
