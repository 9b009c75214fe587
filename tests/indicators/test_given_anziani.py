"""Given/expect: area anziani. Territory and population in conftest.py (65+: Crema 1000, Bagnolo 200,
Agnadello 200, Dovera 200; SA1 1200, SA2 400, AMBITO 1600. 75+: 400, 50, 0, 200; SA1 450, SA2 200, AMBITO 650)."""

from __future__ import annotations

from datetime import date

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, END_2025, add, assert_values, cell
from tests.indicators.registry import covers


@covers("anziani_sad_copertura_65")
def test_sad_copertura_65(con):
    add(con, "p1", "SAD", "2025-03-01", nascita=1960)  # turns 65 in 2025: age on 31/12 = 65 -> counts
    add(con, "p2", "SAD", "2024-01-01", "2024-12-31", nascita=1950)  # ended 31/12/2024: not active in 2025
    add(con, "p3", "SAD", "2025-01-01", "2025-01-31", nascita=1940)  # two records -> once
    add(con, "p3", "SAD", "2025-06-01", nascita=1940)
    add(con, "p4", "SAD", "2025-02-01", "2025-04-30", nascita=1945)  # moves Crema -> Bagnolo (same SA1)
    add(con, "p4", "SAD", "2025-06-01", comune=BAGNOLO, nascita=1945)
    add(con, "p5", "SAD", "2025-01-01", nascita=1961)  # 64 on 31/12/2025: excluded
    add(con, "p6", "SAD", "2025-12-31", "2026-01-31", comune=AGNADELLO)  # starts on 31/12: active
    add(con, "p7", "PASTI_DOMICILIO", "2025-01-01", comune=DOVERA)  # not SAD
    add(con, "p8", "SAD", "2026-01-01", comune=DOVERA)  # starts in 2026
    add(con, "p9", "SAD", "2024-06-01", "2025-01-01", comune=DOVERA, nascita=1930)  # ends on 1/1: active
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    assert_values(
        df,
        "anziani_sad_copertura_65",
        {
            CREMA: 3 / 1000 * 100,  # p1, p3, p4 = 0.3
            BAGNOLO: 1 / 200 * 100,  # p4 = 0.5
            "SA1": 3 / 1200 * 100,  # p1, p3, p4 (p4 once) = 0.25
            AGNADELLO: 1 / 200 * 100,  # p6
            DOVERA: 1 / 200 * 100,  # p9
            "SA2": 2 / 400 * 100,  # p6, p9 = 0.5
            "AMBITO": 5 / 1600 * 100,  # = 0.3125
        },
    )
    assert cell(df, "anziani_sad_copertura_65", "SA1")["numeratore"] == 3
    assert cell(df, "anziani_sad_copertura_65", "SA1")["denominatore"] == 1200
    # 2024: p2 (74) and p9 (94) in the ambito; p2 in Crema
    assert_values(df, "anziani_sad_copertura_65", {CREMA: 1 / 1000 * 100, "AMBITO": 2 / 1600 * 100}, anno=2024)
    assert {r["livello"] for r in df.filter(df["indicatore"] == "anziani_sad_copertura_65").iter_rows(named=True)} == {
        "comune",
        "sub_ambito",
        "ambito",
    }


@covers("anziani_sad_ore_per_utente")
def test_sad_ore_per_utente(con):
    add(con, "p1", "SAD", "2025-01-01", "2025-01-31", ore=10)
    add(con, "p1", "SAD", "2025-02-01", "2025-02-28", ore=20)
    add(con, "p2", "SAD", "2024-12-01", "2025-01-31", ore=62)  # 62 days, 1 h/day: 31 h in 2024, 31 h in 2025
    add(con, "p3", "SAD", "2025-03-01", "2025-03-31", comune=BAGNOLO)  # no hours recorded: a user with 0 h
    add(con, "p4", "SAD", "2025-11-01", comune=AGNADELLO, ore=61)  # open: runs to as_of, 61 days, all in 2025
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    assert_values(
        df,
        "anziani_sad_ore_per_utente",
        {
            CREMA: (10 + 20 + 31) / 2,  # p1, p2 -> 30.5
            BAGNOLO: 0 / 1,
            "SA1": (10 + 20 + 31 + 0) / 3,  # 20.33
            AGNADELLO: 61 / 1,
            DOVERA: None,  # no user: denominator 0
            "SA2": 61 / 1,
            "AMBITO": (61 + 61) / 4,  # 30.5
        },
    )
    assert_values(df, "anziani_sad_ore_per_utente", {CREMA: 31 / 1, "AMBITO": 31 / 1}, anno=2024)
    assert cell(df, "anziani_sad_ore_per_utente", "AMBITO")["denominatore"] == 4


@covers("anziani_b2_75_1000")
def test_b2_75(con):
    add(con, "a", "B2_FNA", "2025-01-01", "2025-12-31", nascita=1950)  # 75 on 31/12/2025
    add(con, "b", "B2_FNA", "2025-01-01", nascita=1951)  # 74: excluded
    add(con, "c", "B2_FNA", "2023-01-01", comune=DOVERA, nascita=1940)
    add(con, "d", "B2_FNA", "2025-02-01", comune=AGNADELLO, nascita=1940)  # Agnadello has no resident 75+
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "anziani_b2_75_1000",
        {
            CREMA: 1 / 400 * 1000,  # 2.5
            BAGNOLO: 0.0,
            "SA1": 1 / 450 * 1000,
            AGNADELLO: None,  # 1 person over 0 residents: no value
            DOVERA: 1 / 200 * 1000,  # 5
            "SA2": 2 / 200 * 1000,  # 10
            "AMBITO": 3 / 650 * 1000,
        },
    )
    assert cell(df, "anziani_b2_75_1000", AGNADELLO)["numeratore"] == 1


@covers("anziani_telesoccorso_pasti_75")
def test_telesoccorso_pasti_75(con):
    add(con, "a", "TELESOCCORSO", "2025-01-01", nascita=1940)  # both services: once
    add(con, "a", "PASTI_DOMICILIO", "2025-03-01", "2025-04-30", nascita=1940)
    add(con, "b", "PASTI_DOMICILIO", "2025-05-01", nascita=1945)
    add(con, "c", "TELESOCCORSO", "2025-01-01", comune=BAGNOLO, nascita=1960)  # 65: excluded
    add(con, "d", "SAD", "2025-01-01", comune=DOVERA, nascita=1930)  # other service
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "anziani_telesoccorso_pasti_75",
        {CREMA: 2 / 400 * 100, BAGNOLO: 0.0, "SA1": 2 / 450 * 100, DOVERA: 0.0, "SA2": 0.0, "AMBITO": 2 / 650 * 100},
    )


@covers("anziani_dimissioni_protette_65_1000")
def test_dimissioni_protette(con):
    add(con, "a", "DIMISSIONI_PROTETTE", "2025-03-01", "2025-04-01")
    add(con, "b", "DIMISSIONI_PROTETTE", "2024-12-15", "2025-01-15")  # started in 2024: counted in 2024 only
    add(con, "c", "DIMISSIONI_PROTETTE", "2025-05-01", comune=DOVERA, nascita=1955)  # 70
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    assert_values(
        df,
        "anziani_dimissioni_protette_65_1000",
        {
            CREMA: 1 / 1000 * 1000,
            "SA1": 1 / 1200 * 1000,
            DOVERA: 1 / 200 * 1000,
            "SA2": 1 / 400 * 1000,
            "AMBITO": 2 / 1600 * 1000,
        },
    )
    assert_values(df, "anziani_dimissioni_protette_65_1000", {CREMA: 1.0, "AMBITO": 1 / 1600 * 1000}, anno=2024)


def test_partial_year_window(con):
    """The year to date: as_of defaults to the latest data_inizio; records after as_of are left out."""
    add(con, "p1", "SAD", "2024-05-01", "2024-06-30")
    add(con, "p2", "SAD", "2025-06-15")
    df = indicator_values(con)
    assert sorted(df["anno"].unique().to_list()) == [2024, 2025]
    assert cell(df, "anziani_sad_copertura_65", "AMBITO", 2025)["parziale"] is True
    assert cell(df, "anziani_sad_copertura_65", "AMBITO", 2024)["parziale"] is False
    assert cell(df, "anziani_sad_copertura_65", "AMBITO", 2025)["numeratore"] == 1
    early = indicator_values(con, years=[2025], as_of=date(2025, 6, 1))  # p2 starts after the date of the data
    assert cell(early, "anziani_sad_copertura_65", "AMBITO", 2025)["numeratore"] == 0
    assert early["soppresso"].to_list() == [False] * early.height
