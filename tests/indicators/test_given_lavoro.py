"""Given/expect: area lavoro. Residents 18-64: Crema 2500, Bagnolo 600, Agnadello 600, Dovera 700;
SA1 3100, SA2 1300, AMBITO 4400."""

from __future__ import annotations

from indicators.engine import indicator_values
from tests.indicators.conftest import AGNADELLO, CREMA, DOVERA, END_2025, add, assert_values, cell
from tests.indicators.registry import covers


@covers("lavoro_tirocini_assunzione")
def test_tirocini_assunzione(con):
    t = "TIROCINIO"
    add(con, "r1", t, "2025-01-10", "2025-07-10", nascita=1990, esito="ASSUNZIONE")
    add(con, "r2", t, "2024-06-01", "2025-01-31", nascita=1990, esito="CONCLUSO")  # started 2024, ends 2025
    add(con, "r3", t, "2025-03-01", "2026-02-28", nascita=1990, esito="ASSUNZIONE")  # ends in 2026
    add(con, "r4", t, "2025-01-01", nascita=1990, esito="IN_CORSO")  # not ended
    add(con, "r5", t, "2024-01-01", "2024-12-31", comune=DOVERA, nascita=1990, esito="ASSUNZIONE")  # ends 2024
    add(con, "r6", t, "2025-02-01", "2025-08-01", comune=DOVERA, nascita=1990, esito="INTERROTTO")
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    assert_values(
        df,
        "lavoro_tirocini_assunzione",
        {CREMA: 1 / 2 * 100, "SA1": 50.0, DOVERA: 0 / 1 * 100, "SA2": 0.0, "AMBITO": 1 / 3 * 100},
    )
    assert (
        cell(df, "lavoro_tirocini_assunzione", "AMBITO")["numeratore"],
        cell(df, "lavoro_tirocini_assunzione", "AMBITO")["denominatore"],
    ) == (1, 3)
    assert_values(df, "lavoro_tirocini_assunzione", {DOVERA: 100.0, CREMA: None, "AMBITO": 100.0}, anno=2024)


@covers("lavoro_tirocini_attivati_1000")
def test_tirocini_attivati(con):
    add(con, "a", "TIROCINIO", "2025-02-01", "2025-07-31", nascita=1990)  # two in the year: once
    add(con, "a", "TIROCINIO", "2025-09-01", nascita=1990)
    add(con, "b", "TIROCINIO", "2025-02-01", nascita=1960)  # 65: excluded
    add(con, "c", "TIROCINIO", "2025-03-01", comune=AGNADELLO, nascita=2007)  # 18
    add(con, "d", "TIROCINIO", "2024-10-01", "2025-03-31", comune=AGNADELLO, nascita=1990)  # started 2024
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "lavoro_tirocini_attivati_1000",
        {
            CREMA: 1 / 2500 * 1000,
            "SA1": 1 / 3100 * 1000,
            AGNADELLO: 1 / 600 * 1000,
            "SA2": 1 / 1300 * 1000,
            "AMBITO": 2 / 4400 * 1000,
        },
    )


@covers("lavoro_sil_presa_in_carico_1000")
def test_sil_presa_in_carico(con):
    add(con, "a", "SIL_PRESA_IN_CARICO", "2024-05-01", comune=DOVERA, nascita=1980)
    add(con, "b", "SIL_PRESA_IN_CARICO", "2023-01-01", "2024-12-31", comune=DOVERA, nascita=1980)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(
        df,
        "lavoro_sil_presa_in_carico_1000",
        {DOVERA: 1 / 700 * 1000, "SA2": 1 / 1300 * 1000, "AMBITO": 1 / 4400 * 1000, CREMA: 0.0},
    )


@covers("lavoro_sil_assunzione")
def test_sil_assunzione(con):
    s = "SIL_PRESA_IN_CARICO"
    add(con, "a", s, "2024-05-01", "2025-05-01", nascita=1980, esito="ASSUNZIONE")
    add(con, "b", s, "2024-05-01", "2025-06-01", nascita=1980, esito="CONCLUSO")
    add(con, "c", s, "2024-05-01", "2025-07-01", nascita=1980, esito="ASSUNZIONE")
    add(con, "d", s, "2024-05-01", nascita=1980, esito="IN_CORSO")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    assert_values(df, "lavoro_sil_assunzione", {CREMA: 2 / 3 * 100, "SA1": 2 / 3 * 100, "AMBITO": 2 / 3 * 100})
