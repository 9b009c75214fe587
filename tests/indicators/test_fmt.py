"""Italian formats (indicators/fmt.py), literal cases: the referee for any change of how numbers are written."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from indicators import fmt


def test_numbers_use_the_italian_separators():
    assert fmt.number(1234.5, 1) == "1.234,5"
    assert fmt.number(-1234567.891, 2) == "-1.234.567,89"
    assert fmt.number(12) == "12"
    assert fmt.number(999.95, 1) == "1.000,0"
    assert fmt.number(None) == "–" and fmt.number(float("nan")) == "–"
    assert fmt.number(3, suppressed=True) == "n.p."


def test_rounding_is_the_one_of_the_charts():
    """Python rounds the binary value, as d3 (Plotly hover and axes) does: 2.675 is 2.67499... -> 2,67.
    (babel would round the decimal text to 2,68, and the table and the chart would disagree.)"""
    assert fmt.number(2.675, 2) == "2,67"
    assert fmt.number(0.125, 2) == "0,12"  # exact tie: to even
    assert fmt.number(2.5) == "2"


def test_units_choose_the_decimals():
    assert fmt.with_unit(12.345, "%") == "12,3%"
    assert fmt.with_unit(3540.9, "residenti per AS") == "3.541 residenti per AS"
    assert fmt.with_unit(1234.5, "per 1.000 residenti") == "1.234 per 1.000 residenti"  # >= 1000: no decimals
    assert fmt.with_unit(4.25, "ore per utente") == "4,2 ore per utente"
    assert fmt.with_unit(None, "%") == "–" and fmt.with_unit(1.0, "%", suppressed=True) == "n.p."


def test_dates_and_frames():
    assert fmt.day(date(2025, 12, 31)) == "31/12/2025" and fmt.day(None) == "–"
    assert fmt.moment(datetime(2025, 1, 2, 3, 4)) == "02/01/2025 03:04"
    df = pl.DataFrame(
        {
            "comune": ["Crema", "Dovera"],
            "numeratore": [1234, 2],
            "valore": [0.5, 1.25],
            "attivo": [True, None],
            "soppresso": [False, True],
        }
    )
    out = fmt.italian_frame(df)
    assert out.columns == ["comune", "numeratore", "valore", "attivo"]
    assert out.rows() == [("Crema", "1.234", "0,5", "sì"), ("Dovera", "n.p.", "n.p.", "")]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (8 * 3600, "8 ore"),
        (3600, "1 ora"),
        (5400, "1,5 ore"),
        (1800, "30 minuti"),
        (60, "1 minuto"),
        (20, "20 secondi"),
    ],
)
def test_duration_in_words_with_the_largest_fitting_unit(seconds, text):
    assert fmt.duration(seconds) == text
