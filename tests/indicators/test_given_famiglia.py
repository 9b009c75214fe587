"""Given/expect: area famiglia. Residents: Crema 4100, Bagnolo 1000, Agnadello 1000, Dovera 1000;
SA1 5100, SA2 2000, AMBITO 7100 (0-17 in conftest.py)."""

from __future__ import annotations

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, END_2025, add, assert_values
from tests.indicators.registry import covers


@covers("famiglia_centro_famiglia_1000")
def test_centro_famiglia(con):
    add(con, "p1", "CENTRO_FAMIGLIA", "2025-02-01", "2025-03-01", nucleo="N1")  # same household: once
    add(con, "p2", "CENTRO_FAMIGLIA", "2025-04-01", nucleo="N1")
    add(con, "N1", "CENTRO_FAMIGLIA", "2025-04-01")  # no household: the person (pseudonym equal to a nucleo id)
    add(con, "p4", "CENTRO_FAMIGLIA", "2025-01-01", "2025-01-31")  # no household, two records: once
    add(con, "p4", "CENTRO_FAMIGLIA", "2025-05-01")
    add(con, "p5", "CENTRO_FAMIGLIA", "2024-01-01", "2024-12-31", comune=BAGNOLO, nucleo="N2")  # ended in 2024
    add(con, "p6", "CENTRO_FAMIGLIA", "2025-01-01", comune=AGNADELLO, nucleo="N3")
    add(con, "p7", "CENTRO_FAMIGLIA", "2025-01-01", comune=AGNADELLO, nucleo="N3")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "famiglia_centro_famiglia_1000",
        {
            CREMA: 3 / 4100 * 1000,  # N1, person N1, p4
            BAGNOLO: 0.0,
            "SA1": 3 / 5100 * 1000,
            AGNADELLO: 1 / 1000 * 1000,  # N3
            "SA2": 1 / 2000 * 1000,
            "AMBITO": 4 / 7100 * 1000,
        },
    )


@covers("famiglia_affido_minori_1000")
def test_affido_minori(con):
    add(con, "a", "AFFIDO_FAMILIARE", "2022-01-01", comune=DOVERA, nascita=2012)
    add(con, "b", "AFFIDO_FAMILIARE", "2022-01-01", comune=DOVERA, nascita=2007)  # 18: excluded
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "famiglia_affido_minori_1000",
        {DOVERA: 1 / 100 * 1000, "SA2": 1 / 300 * 1000, "AMBITO": 1 / 1100 * 1000, CREMA: 0.0},
    )


@covers("famiglia_mediazione_10000")
def test_mediazione(con):
    add(con, "p1", "MEDIAZIONE_FAMILIARE", "2025-03-01", comune=BAGNOLO, nucleo="M1")
    add(con, "p2", "MEDIAZIONE_FAMILIARE", "2025-03-01", comune=BAGNOLO, nucleo="M1")
    add(con, "p3", "MEDIAZIONE_FAMILIARE", "2024-03-01", "2024-12-31", comune=BAGNOLO, nucleo="M2")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "famiglia_mediazione_10000",
        {BAGNOLO: 1 / 1000 * 10000, "SA1": 1 / 5100 * 10000, "AMBITO": 1 / 7100 * 10000, "SA2": 0.0},
    )


@covers("famiglia_genitorialita_1000")
def test_genitorialita(con):
    add(con, "p1", "SOSTEGNO_GENITORIALITA", "2025-03-01", nucleo="G1")
    add(con, "p2", "SOSTEGNO_GENITORIALITA", "2025-03-01", nucleo="G2")
    add(con, "p3", "SOSTEGNO_GENITORIALITA", "2025-03-01", comune=DOVERA, nucleo="G3")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "famiglia_genitorialita_1000",
        {
            CREMA: 2 / 4100 * 1000,
            "SA1": 2 / 5100 * 1000,
            DOVERA: 1.0,
            "SA2": 1 / 2000 * 1000,
            "AMBITO": 3 / 7100 * 1000,
        },
    )
