"""Given/expect: area casa. Residents: Crema 4100, Bagnolo 1000, Agnadello 1000, Dovera 1000;
SA1 5100, SA2 2000, AMBITO 7100."""

from __future__ import annotations

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, END_2025, add, assert_values, cell
from tests.indicators.registry import covers


@covers("casa_nuclei_sostenuti_1000")
def test_nuclei_sostenuti(con):
    add(con, "p1", "SOSTEGNO_AFFITTO", "2025-01-01", "2025-12-31", nucleo="H1")  # two measures, one household
    add(con, "p2", "MOROSITA_INCOLPEVOLE", "2025-06-01", "2025-06-01", nucleo="H1")
    add(con, "p3", "EMERGENZA_ABITATIVA", "2025-01-01", "2025-01-01")  # no household: the person
    add(con, "p4", "SOSTEGNO_AFFITTO", "2024-01-01", "2024-12-31", nucleo="H2")  # ended 31/12/2024
    add(con, "p5", "SOSTEGNO_AFFITTO", "2025-03-01", comune=AGNADELLO, nucleo="H3")  # household over 2 comuni
    add(con, "p6", "EMERGENZA_ABITATIVA", "2025-03-01", comune=DOVERA, nucleo="H3")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "casa_nuclei_sostenuti_1000",
        {
            CREMA: 2 / 4100 * 1000,  # H1, p3
            BAGNOLO: 0.0,
            "SA1": 2 / 5100 * 1000,
            AGNADELLO: 1 / 1000 * 1000,  # H3
            DOVERA: 1 / 1000 * 1000,  # H3
            "SA2": 1 / 2000 * 1000,  # H3 once
            "AMBITO": 3 / 7100 * 1000,
        },
    )
    assert cell(df, "casa_nuclei_sostenuti_1000", "SA2")["numeratore"] == 1


@covers("casa_sostegno_affitto_1000")
def test_sostegno_affitto(con):
    add(con, "p1", "SOSTEGNO_AFFITTO", "2025-01-01", nucleo="H1")
    add(con, "p2", "SOSTEGNO_AFFITTO", "2025-01-01", nucleo="H1")
    add(con, "p3", "SOSTEGNO_AFFITTO", "2025-01-01", comune=DOVERA)
    add(con, "p4", "MOROSITA_INCOLPEVOLE", "2025-01-01", nucleo="H4")  # another measure
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "casa_sostegno_affitto_1000",
        {CREMA: 1 / 4100 * 1000, "SA1": 1 / 5100 * 1000, DOVERA: 1.0, "SA2": 0.5, "AMBITO": 2 / 7100 * 1000},
    )


@covers("casa_morosita_10000")
def test_morosita(con):
    add(con, "p1", "MOROSITA_INCOLPEVOLE", "2025-05-01", "2025-05-01", comune=BAGNOLO, nucleo="M1")
    add(con, "p2", "MOROSITA_INCOLPEVOLE", "2024-05-01", "2024-12-31", comune=BAGNOLO, nucleo="M2")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "casa_morosita_10000",
        {BAGNOLO: 1 / 1000 * 10000, "SA1": 1 / 5100 * 10000, "AMBITO": 1 / 7100 * 10000, CREMA: 0.0},
    )


@covers("casa_giorni_attesa")
def test_casa_giorni_attesa(con):
    add(con, "p1", "SOSTEGNO_AFFITTO", "2025-03-11", richiesta="2025-03-01")  # 10
    add(con, "p2", "MOROSITA_INCOLPEVOLE", "2025-04-20", richiesta="2025-03-01")  # 30 + 20 = 50
    add(con, "p3", "EMERGENZA_ABITATIVA", "2025-03-06", richiesta="2025-03-01")  # not in the measure
    add(con, "p4", "SOSTEGNO_AFFITTO", "2025-03-06")  # no request date
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(df, "casa_giorni_attesa", {CREMA: 30.0, "SA1": 30.0, "AMBITO": 30.0, "SA2": None})
    assert cell(df, "casa_giorni_attesa", "AMBITO")["denominatore"] == 2
