"""Given/expect: area giovani (minors). Population in conftest.py (0-17: Crema 600, Bagnolo 200,
Agnadello 200, Dovera 100; SA1 800, SA2 300, AMBITO 1100. 11-18: 200, 100, 0, 0. 15-29: 600, 150, 0, 0)."""

from __future__ import annotations

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, END_2025, add, assert_values, cell
from tests.indicators.registry import covers


@covers("giovani_adm_minori_1000")
def test_adm_minori(con):
    add(con, "a", "ADM", "2025-01-01", nascita=2008)  # 17 on 31/12/2025: counts
    add(con, "b", "ADM", "2025-01-01", nascita=2007)  # 18 on 31/12/2025: not a minor
    add(con, "c", "ADM", "2025-01-01", "2025-03-31", nascita=2015)  # two records: once
    add(con, "c", "ADM", "2025-09-01", nascita=2015)
    add(con, "d", "ADM", "2025-01-01", "2025-06-30", comune=BAGNOLO, nascita=2012)  # Bagnolo then Crema
    add(con, "d", "ADM", "2025-07-01", nascita=2012)
    add(con, "e", "ADM", "2024-03-01", "2024-12-31", comune=DOVERA, nascita=2010)  # ended 31/12/2024
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "giovani_adm_minori_1000",
        {
            CREMA: 3 / 600 * 1000,  # a, c, d = 5.0
            BAGNOLO: 1 / 200 * 1000,  # d = 5.0
            "SA1": 3 / 800 * 1000,  # a, c, d (d once) = 3.75
            AGNADELLO: 0.0,
            DOVERA: 0.0,
            "SA2": 0.0,
            "AMBITO": 3 / 1100 * 1000,
        },
    )
    assert cell(df, "giovani_adm_minori_1000", "AMBITO")["denominatore"] == 1100


@covers("giovani_tutela_minori_1000")
def test_tutela_minori(con):
    add(con, "a", "TUTELA_MINORI", "2020-01-01", comune=AGNADELLO, nascita=2010)
    add(con, "b", "TUTELA_MINORI", "2020-01-01", comune=AGNADELLO, nascita=2006)  # 19: excluded
    add(con, "c", "TUTELA_MINORI", "2025-05-01", nascita=2020)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "giovani_tutela_minori_1000",
        {
            AGNADELLO: 1 / 200 * 1000,
            "SA2": 1 / 300 * 1000,
            CREMA: 1 / 600 * 1000,
            "SA1": 1 / 800 * 1000,
            "AMBITO": 2 / 1100 * 1000,
        },
    )


@covers("giovani_cag_11_18_1000")
def test_cag_11_18(con):
    add(con, "a", "CAG", "2024-09-15", "2025-06-30", nascita=2007)  # 18: counts
    add(con, "b", "CAG", "2025-09-15", nascita=2006)  # 19: excluded
    add(con, "c", "CAG", "2025-09-15", nascita=2015)  # 10: excluded
    add(con, "d", "CAG", "2025-09-15", "2026-06-30", comune=BAGNOLO, nascita=2014)  # 11
    add(con, "e", "CAG", "2025-09-15", comune=DOVERA, nascita=2012)  # Dovera: no resident 11-18
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "giovani_cag_11_18_1000",
        {
            CREMA: 1 / 200 * 1000,
            BAGNOLO: 1 / 100 * 1000,
            "SA1": 2 / 300 * 1000,
            DOVERA: None,
            "SA2": None,
            "AMBITO": 3 / 300 * 1000,
        },
    )


@covers("giovani_orientamento_15_29_1000")
def test_orientamento_15_29(con):
    add(con, "a", "ORIENTAMENTO_GIOVANI", "2025-02-01", "2025-03-01", nascita=2000)
    add(con, "b", "ORIENTAMENTO_GIOVANI", "2024-11-01", "2025-01-31", nascita=2000)  # started in 2024
    add(con, "c", "ORIENTAMENTO_GIOVANI", "2025-02-01", comune=BAGNOLO, nascita=1995)  # 30: excluded
    add(con, "d", "ORIENTAMENTO_GIOVANI", "2025-02-01", comune=BAGNOLO, nascita=2010)  # 15
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "giovani_orientamento_15_29_1000",
        {CREMA: 1 / 600 * 1000, BAGNOLO: 1 / 150 * 1000, "SA1": 2 / 750 * 1000, "SA2": None, "AMBITO": 2 / 750 * 1000},
    )
