"""Given/expect: area poverta. Residents: Crema 4100, Bagnolo 1000, Agnadello 1000, Dovera 1000;
SA1 5100, SA2 2000, AMBITO 7100."""

from __future__ import annotations

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, END_2025, add, assert_values, cell
from tests.indicators.registry import covers


@covers("poverta_adi_valutati_120gg")
def test_adi_valutati_120gg(con):
    v = "ADI_VALUTAZIONE"
    add(con, "p1", v, "2025-05-01", richiesta="2025-01-01")  # 31+28+31+30 = 120 days: within
    add(con, "p2", v, "2025-05-02", richiesta="2025-01-01")  # 121 days: late
    add(con, "p3", v, "2025-03-01")  # no request date: out of numerator AND denominator
    add(con, "p4", v, "2024-12-20", richiesta="2024-12-01")  # started in 2024
    add(con, "p5", v, "2025-02-10", richiesta="2025-02-01", comune=BAGNOLO)  # 9 days
    add(con, "p6", v, "2025-01-15", richiesta="2024-11-01", comune=AGNADELLO)  # 75 days, started in 2025
    add(con, "p1", v, "2025-07-01", richiesta="2025-06-01")  # same person, second record: records are counted
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    assert_values(
        df,
        "poverta_adi_valutati_120gg",
        {
            CREMA: 2 / 3 * 100,  # p1 (120 d), p1 (30 d) of p1, p2, p1
            BAGNOLO: 1 / 1 * 100,
            "SA1": 3 / 4 * 100,  # 75
            AGNADELLO: 100.0,
            DOVERA: None,  # no record: 0/0
            "SA2": 100.0,
            "AMBITO": 4 / 5 * 100,  # 80
        },
    )
    assert (
        cell(df, "poverta_adi_valutati_120gg", "AMBITO")["numeratore"],
        cell(df, "poverta_adi_valutati_120gg", "AMBITO")["denominatore"],
    ) == (4, 5)
    assert_values(df, "poverta_adi_valutati_120gg", {CREMA: 100.0, "AMBITO": 100.0}, anno=2024)  # p4 (19 d)


@covers("poverta_nuclei_in_carico_1000")
def test_nuclei_in_carico(con):
    add(con, "p1", "ADI_VALUTAZIONE", "2025-02-01", "2025-02-20", nucleo="A")
    add(con, "p2", "CONTRIBUTO_ECONOMICO", "2025-03-01", "2025-03-01", nucleo="A")
    add(con, "p3", "PRONTO_INTERVENTO", "2025-04-01", "2025-04-03")
    add(con, "p5", "ADI_PATTO", "2025-04-01", comune=DOVERA, nucleo="B")
    add(con, "p4", "SAD", "2025-01-01")  # not an anti-poverty intervention
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "poverta_nuclei_in_carico_1000",
        {CREMA: 2 / 4100 * 1000, "SA1": 2 / 5100 * 1000, DOVERA: 1.0, "SA2": 0.5, "AMBITO": 3 / 7100 * 1000},
    )


@covers("poverta_adi_patti_per_valutazione")
def test_adi_patti_per_valutazione(con):
    add(con, "a1", "ADI_VALUTAZIONE", "2025-02-01", nucleo="A")  # household A: 2 members valued, then a patto
    add(con, "a2", "ADI_VALUTAZIONE", "2025-02-01", nucleo="A")
    add(con, "a1", "ADI_PATTO", "2025-04-01", nucleo="A")
    add(con, "b1", "ADI_VALUTAZIONE", "2025-03-01", nucleo="B")  # valued, no patto
    add(con, "c1", "ADI_VALUTAZIONE", "2024-11-01", nucleo="C")  # valued in 2024, patto in 2025
    add(con, "c1", "ADI_PATTO", "2025-01-15", nucleo="C")
    add(con, "d1", "ADI_VALUTAZIONE", "2025-11-01", comune=BAGNOLO, nucleo="D")  # patto only in 2026
    add(con, "d1", "ADI_PATTO", "2026-01-10", comune=BAGNOLO, nucleo="D")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "poverta_adi_patti_per_valutazione",
        {
            CREMA: 2 / 2 * 100,  # patti A, C over valutazioni A, B
            BAGNOLO: 0 / 1 * 100,
            "SA1": 2 / 3 * 100,
            "SA2": None,
            "AMBITO": 2 / 3 * 100,
        },
    )


@covers("poverta_adi_giorni_attesa")
def test_adi_giorni_attesa(con):
    v = "ADI_VALUTAZIONE"
    add(con, "p1", v, "2025-03-11", richiesta="2025-03-01")  # 10
    add(con, "p2", v, "2025-03-21", richiesta="2025-03-01")  # 20
    add(con, "p3", v, "2025-04-10", richiesta="2025-03-01")  # 40
    add(con, "p4", v, "2025-04-10")  # no request date: left out
    add(con, "p5", v, "2025-03-31", richiesta="2025-03-01", comune=BAGNOLO)  # 30
    add(con, "p6", v, "2025-04-11", richiesta="2025-01-01", comune=AGNADELLO)  # 31+28+31+10 = 100
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "poverta_adi_giorni_attesa",
        {
            CREMA: 20.0,  # median(10, 20, 40)
            BAGNOLO: 30.0,
            "SA1": 25.0,  # median(10, 20, 30, 40) = (20 + 30) / 2
            AGNADELLO: 100.0,
            DOVERA: None,
            "SA2": 100.0,
            "AMBITO": 30.0,  # median(10, 20, 30, 40, 100)
        },
    )
    assert cell(df, "poverta_adi_giorni_attesa", "SA1")["denominatore"] == 4
    assert cell(df, "poverta_adi_giorni_attesa", "SA1")["numeratore"] is None
