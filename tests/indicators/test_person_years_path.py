"""The measures that count persons give the same table from the person-years (etl/person_years.py) as from the
records themselves (`_records_<tipo>.sql`): on the literal warehouse of the golden files for several dates of
the data and years, and on a demo warehouse for both audiences (disclosure control included).

The golden files (test_compute_golden.py) hold the output from before the person-years, unchanged; here the
two ways of counting are compared on more windows than they cover.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from core import warehouse
from etl import person_years
from indicators import api
from indicators.engine import indicator_values
from indicators.kinds import Context
from tests.indicators.conftest import set_territory
from tests.indicators.test_compute_golden import _fill


def _from_records(monkeypatch):
    monkeypatch.setattr(person_years, "is_current", lambda con, years: False)


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
def test_person_years_count_as_the_records(filled, monkeypatch, as_of, years):
    con = filled
    assert Context(con=con, years=years or [2025], as_of=date(2025, 1, 1)).has_person_years
    mine = indicator_values(con, years=years, as_of=as_of)
    _from_records(monkeypatch)
    assert mine.equals(indicator_values(con, years=years, as_of=as_of))


def test_a_year_past_the_table_is_counted_from_the_records(filled):
    last = int(warehouse.get_meta(filled, person_years.META_LAST_YEAR))
    ctx = Context(con=filled, years=[2025, last + 1], as_of=date(last + 1, 12, 31))
    assert not ctx.has_person_years
    assert ctx.persons_query(Path("x/distinct_units_rate.sql")) == Path("x/_records_distinct_units_rate.sql")
    out = indicator_values(filled, years=[2025, last + 1], as_of=date(last + 1, 12, 31))
    assert out.filter(pl.col("anno") == last + 1).height > 0


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from tests.conftest import demo_warehouse_env

    with demo_warehouse_env(tmp_path_factory.mktemp("py")) as db:
        yield db


@pytest.mark.parametrize("audience", api.AUDIENCES)
def test_the_demo_tables_are_the_same_both_ways(demo_db, monkeypatch, audience):
    with warehouse.reader(demo_db) as con:
        assert person_years.is_current(con, [2024, 2025])
        mine = api.indicator_table(con, audience)
        _from_records(monkeypatch)
        theirs = api.indicator_table(con, audience)
    assert mine.height > 1000
    assert mine.equals(theirs)
