"""Given/expect: area organizzazione (sub-ambito and ambito only). Residents: SA1 5100, SA2 2000,
AMBITO 7100 (Crema 4100, Bagnolo 1000, Agnadello 1000, Dovera 1000)."""

from __future__ import annotations

from datetime import date

import polars as pl

from indicators.engine import indicator_values
from tests.indicators.conftest import BAGNOLO, CREMA, DOVERA, END_2025, add, add_operatore, add_sede, assert_values
from tests.indicators.registry import covers


def _staff(con):
    add_operatore(con, "o1", "ASSISTENTE_SOCIALE", "SA1", 1.0, "INDETERMINATO", "2020-01-01")
    add_operatore(con, "o2", "ASSISTENTE_SOCIALE", "SA1", 0.5, "INDETERMINATO", "2025-06-01")  # from June 2025
    add_operatore(con, "o3", "ASSISTENTE_SOCIALE", "SA1", 1.0, "DETERMINATO", "2020-01-01")  # fixed term
    add_operatore(con, "o4", "EDUCATORE", "SA1", 1.0, "INDETERMINATO", "2020-01-01")  # not a social worker
    add_operatore(con, "o5", "ASSISTENTE_SOCIALE", "SA2", 1.0, "INDETERMINATO", "2020-01-01", "2025-12-30")
    add_operatore(con, "o6", "ASSISTENTE_SOCIALE", "SA2", 0.8, "INDETERMINATO", "2025-12-31")  # from 31/12
    add(con, "p1", "SAD", "2024-01-01")  # some service data, so there are years


@covers("org_residenti_per_as")
def test_residenti_per_as(con):
    _staff(con)
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    # On 31/12/2025: SA1 o1 + o2 = 1.5 FTE; SA2 o6 = 0.8 (o5 left on 30/12); ambito 2.3
    assert_values(df, "org_residenti_per_as", {"SA1": 5100 / 1.5, "SA2": 2000 / 0.8, "AMBITO": 7100 / 2.3})
    # On 31/12/2024: SA1 o1 = 1.0; SA2 o5 = 1.0; ambito 2.0
    assert_values(df, "org_residenti_per_as", {"SA1": 5100.0, "SA2": 2000.0, "AMBITO": 3550.0}, anno=2024)
    rows = df.filter(pl.col("indicatore") == "org_residenti_per_as")
    assert set(rows["livello"]) == {"sub_ambito", "ambito"}  # never per comune
    # Year to date on 1/7/2025: SA1 o1 + o2 = 1.5; SA2 o5 = 1.0 (o6 not yet)
    ytd = indicator_values(con, years=[2025], as_of=date(2025, 7, 1))
    assert_values(ytd, "org_residenti_per_as", {"SA1": 5100 / 1.5, "SA2": 2000 / 1.0, "AMBITO": 7100 / 2.5})


def test_residenti_per_as_without_staff_is_null(con):
    add(con, "p1", "SAD", "2025-01-01")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(df, "org_residenti_per_as", {"SA1": None, "SA2": None, "AMBITO": None})  # FTE 0: no value


@covers("org_fte_equipe_10000")
def test_fte_equipe(con):
    _staff(con)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # SA1: o1 1 + o2 0.5 + o3 1 + o4 1 = 3.5 FTE; SA2: o6 0.8; ambito 4.3
    assert_values(
        df, "org_fte_equipe_10000", {"SA1": 3.5 / 5100 * 10000, "SA2": 0.8 / 2000 * 10000, "AMBITO": 4.3 / 7100 * 10000}
    )


@covers("org_fte_as_10000")
def test_fte_as(con):
    _staff(con)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # social workers, any contract: SA1 o1 + o2 + o3 = 2.5; SA2 o6 = 0.8; ambito 3.3
    assert_values(
        df, "org_fte_as_10000", {"SA1": 2.5 / 5100 * 10000, "SA2": 0.8 / 2000 * 10000, "AMBITO": 3.3 / 7100 * 10000}
    )


@covers("org_residenti_con_sede")
def test_residenti_con_sede(con):
    add(con, "p1", "SAD", "2025-01-01")
    add_sede(con, "s1", "HUB", CREMA)
    add_sede(con, "s2", "SPOKE", CREMA)  # a second sede in the same comune changes nothing
    add_sede(con, "s3", "SPOKE", DOVERA)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # SA1: Crema 4100 of 5100; SA2: Dovera 1000 of 2000; ambito 5100 of 7100
    assert_values(
        df, "org_residenti_con_sede", {"SA1": 4100 / 5100 * 100, "SA2": 1000 / 2000 * 100, "AMBITO": 5100 / 7100 * 100}
    )
    assert BAGNOLO not in df.filter(pl.col("indicatore") == "org_residenti_con_sede")["territorio"].to_list()


def test_fte_are_summed_exactly_so_the_output_does_not_depend_on_the_order(con):
    """Ten operators at 0.1 FTE are 1 FTE, not 0.9999999999999999: a float sum depends on the order DuckDB's threads
    add the rows in, and `python -m indicators compute` gave different bytes from run to run on the demo."""
    for i in range(10):
        add_operatore(con, f"d{i}", "EDUCATORE", "SA1", 0.1, "INDETERMINATO", "2020-01-01")
    for i in range(7):
        add_operatore(con, f"e{i}", "EDUCATORE", "SA2", 0.7, "DETERMINATO", "2020-01-01")
    add(con, "p1", "SAD", "2024-01-01")
    df = indicator_values(con, years=[2025], as_of=END_2025).filter(pl.col("indicatore") == "org_fte_equipe_10000")
    fte = dict(zip(df["territorio"].to_list(), df["numeratore"].to_list()))
    assert fte == {"SA1": 1.0, "SA2": 4.9, "AMBITO": 5.9}
