"""Given/expect: the reorganisation's indicators (équipe load, contacts at hub and spokes).

Territory of tests/indicators/conftest.py: SA1 = Crema (4100 residents) + Bagnolo (1000), SA2 =
Agnadello (1000) + Dovera (1000); AMBITO 7100. Every expected value is worked out by hand in the
comments from the literal rows of each test.
"""

from __future__ import annotations

import polars as pl
import pytest

from indicators.api import indicator_table
from indicators.engine import indicator_values
from indicators.workload import caseload
from tests.indicators.conftest import (
    AGNADELLO,
    BAGNOLO,
    CREMA,
    DOVERA,
    END_2025,
    add,
    add_operatore,
    add_sede,
    assert_values,
    counts_of,
    values_of,
)
from tests.indicators.registry import covers


def add_accesso(
    con, id_: str, data: str, sede: str, comune: str, persona: str | None = None, esito: str | None = None
) -> None:
    """One contact at an access point (accessi), as the loader stores it (the person's label as `add` stores
    it: its SHA-256 stands for the pseudonym)."""
    con.execute(
        "INSERT INTO accessi VALUES (?, ?::DATE, ?, ?, sha256(?::VARCHAR), NULL, NULL, ?, 'test')",
        [id_, data, sede, comune, persona, esito],
    )


# --- équipe load ------------------------------------------------------------------------


def _load(con) -> None:
    add_operatore(con, "o1", "ASSISTENTE_SOCIALE", "SA1", 1.0, "INDETERMINATO", "2020-01-01")
    add_operatore(con, "o2", "EDUCATORE", "SA1", 0.5, "DETERMINATO", "2020-01-01")
    add_operatore(con, "o3", "ASSISTENTE_SOCIALE", "SA2", 0.8, "DETERMINATO", "2020-01-01", "2025-06-30")  # left
    add_operatore(con, "o4", "PSICOLOGO", "SA2", 1.0, "ALTRO", "2025-01-01")
    add_operatore(con, "o5", "ASSISTENTE_SOCIALE", "SA2", 0.5, "INDETERMINATO", "2024-01-01")
    add(con, "p1", "SAD", "2025-03-01")  # Crema, active
    add(con, "p1", "CAG", "2025-04-01")  # same person: once
    add(con, "p2", "ADM", "2024-01-01", "2024-12-31")  # ended in 2024: not active in 2025
    add(con, "p3", "TIROCINIO", "2024-06-01")  # open since 2024: active
    add(con, "p4", "CENTRO_FAMIGLIA", "2025-12-31", comune=BAGNOLO)  # active from the last day
    add(con, "p5", "SAD", "2025-01-01", "2025-01-31", comune=DOVERA)  # active in January
    add(con, "p6", "MOROSITA_INCOLPEVOLE", "2026-01-01", comune=DOVERA)  # starts after the year
    add(con, "p7", "SAD", "2025-02-01", comune=CREMA)  # moved from Crema ...
    add(con, "p7", "SAD", "2025-08-01", comune=DOVERA)  # ... to Dovera: in each sub-ambito, once in the ambito


@covers("org_persone_per_fte_equipe")
def test_persone_per_fte_equipe(con):
    _load(con)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # persons active in 2025: SA1 p1, p3, p4, p7 = 4; SA2 p5, p7 = 2; AMBITO p1, p3, p4, p5, p7 = 5
    # FTE on 31/12/2025, any profile and contract: SA1 o1 1 + o2 0.5 = 1.5; SA2 o4 1 + o5 0.5 = 1.5; AMBITO 3
    assert counts_of(df, "org_persone_per_fte_equipe") == {"AMBITO": (5, 3.0), "SA1": (4, 1.5), "SA2": (2, 1.5)}
    assert_values(df, "org_persone_per_fte_equipe", {"SA1": 4 / 1.5, "SA2": 2 / 1.5, "AMBITO": 5 / 3})


@covers("org_persone_per_as")
def test_persone_per_as(con):
    _load(con)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # social workers, any contract, on 31/12/2025: SA1 o1 1.0; SA2 o5 0.5 (o3 left on 30/06); AMBITO 1.5
    assert_values(df, "org_persone_per_as", {"SA1": 4 / 1.0, "SA2": 2 / 0.5, "AMBITO": 5 / 1.5})
    assert set(df.filter(pl.col("indicatore") == "org_persone_per_as")["livello"]) == {"sub_ambito", "ambito"}


def test_caseload_by_profile_beside_the_leps_ratio(con):
    _load(con)
    table = caseload(con, years=[2025], as_of=END_2025)
    got = {
        (r["territorio"], r["profilo"]): (r["persone_in_carico"], r["fte"], r["casi_per_fte"])
        for r in table.iter_rows(named=True)
    }
    assert got[("SA1", "EQUIPE")] == (4, 1.5, pytest.approx(4 / 1.5))
    assert got[("SA1", "EDUCATORE")] == (4, 0.5, 8.0)
    assert got[("SA1", "PSICOLOGO")] == (4, 0.0, None)  # no FTE: no ratio, never infinity
    assert got[("SA2", "PSICOLOGO")] == (2, 1.0, 2.0)
    assert got[("SA2", "ASSISTENTE_SOCIALE")] == (2, 0.5, 4.0)
    assert got[("AMBITO", "ASSISTENTE_SOCIALE")] == (5, 1.5, pytest.approx(5 / 1.5))
    # the LEPS ratio already shown: residents / FTE of AS on permanent contracts (SA1 5100 / 1; SA2 2000 / 0.5)
    leps = {
        r["territorio"]: r["residenti_per_as"]
        for r in table.filter(pl.col("profilo") == "EQUIPE").iter_rows(named=True)
    }
    assert leps == {"AMBITO": pytest.approx(7100 / 1.5), "SA1": 5100.0, "SA2": 4000.0}
    # each sub-ambito and the ambito: the équipe and the five profiles
    assert table.group_by("territorio").len().sort("territorio")["len"].to_list() == [6, 6, 6]


def test_caseload_public_is_suppressed_where_the_indicator_is(con):
    _load(con)
    public = indicator_table(con, "pubblico", years=[2025], as_of=END_2025)
    table = caseload(con, table=public, years=[2025], as_of=END_2025)
    sa2 = table.filter((pl.col("territorio") == "SA2") & (pl.col("profilo") == "EQUIPE")).row(0, named=True)
    # SA2 has 2 persons (< k = 3): hidden, never 0
    assert sa2["soppresso"] is True and sa2["persone_in_carico"] is None and sa2["casi_per_fte"] is None
    assert sa2["fte"] == 1.5  # staff is not a count of persons


# --- contacts -------------------------------------------------------------------------


def _contacts(con) -> None:
    add_sede(con, "H1", "HUB", CREMA)
    add_sede(con, "S1", "SPOKE", BAGNOLO)
    add_sede(con, "S2", "SPOKE", DOVERA)
    rows = [
        ("a1", "2025-01-10", "H1", CREMA),
        ("a2", "2025-05-10", "H1", CREMA),
        ("a3", "2025-07-01", "S1", CREMA),
        ("a4", "2025-02-01", "S1", BAGNOLO),
        ("a5", "2025-12-31", "S1", BAGNOLO),
        ("a6", "2025-03-03", "H1", DOVERA),
        ("a7", "2025-04-04", "S2", DOVERA),
        ("a8", "2025-06-06", "S9", AGNADELLO),  # a sede no longer in `sedi`: a contact, at no known sede
        ("a9", "2024-11-11", "H1", CREMA),  # 2024
        ("a10", "2026-01-01", "S1", CREMA),  # after the data date
    ]
    for row in rows:
        add_accesso(con, *row)
    add(con, "p1", "SAD", "2023-01-01")  # service data from 2023: the years 2023-2025 exist


@covers("org_accessi_1000")
def test_accessi_per_1000(con):
    _contacts(con)
    df = indicator_values(con, years=[2023, 2024, 2025], as_of=END_2025)
    # 2025: Crema a1 a2 a3 = 3; Bagnolo a4 a5 = 2; Dovera a6 a7 = 2; Agnadello a8 = 1; SA1 5; SA2 3; AMBITO 8
    expected = {
        CREMA: 3 / 4100 * 1000,
        BAGNOLO: 2.0,
        DOVERA: 2.0,
        AGNADELLO: 1.0,
        "SA1": 5 / 5100 * 1000,
        "SA2": 1.5,
        "AMBITO": 8 / 7100 * 1000,
    }
    assert_values(df, "org_accessi_1000", expected)
    assert_values(df, "org_accessi_1000", {CREMA: 1 / 4100 * 1000, BAGNOLO: 0.0, "AMBITO": 1 / 7100 * 1000}, anno=2024)
    # 2023: no contact recorded in the whole ambito: no value (not 0)
    assert set(values_of(df, "org_accessi_1000", anno=2023).values()) == {None}


@covers("org_accessi_quota_spoke")
def test_accessi_quota_spoke(con):
    _contacts(con)
    df = indicator_values(con, years=[2025], as_of=END_2025)
    # at a SPOKE / at a known sede: Crema 1/3; Bagnolo 2/2; Dovera 1/2; Agnadello 0/0 (unknown sede) -> null;
    # SA1 3/5; SA2 1/2; AMBITO 4/7
    assert counts_of(df, "org_accessi_quota_spoke")[AGNADELLO] == (0, 0)
    expected = {
        CREMA: 100 / 3,
        BAGNOLO: 100.0,
        DOVERA: 50.0,
        AGNADELLO: None,
        "SA1": 60.0,
        "SA2": 50.0,
        "AMBITO": 400 / 7,
    }
    assert_values(df, "org_accessi_quota_spoke", expected)


def test_accessi_public_suppresses_small_counts(con):
    _contacts(con)
    public = indicator_table(con, "pubblico", years=[2025], as_of=END_2025)
    cell = public.filter((pl.col("indicatore") == "org_accessi_1000") & (pl.col("territorio") == BAGNOLO)).row(
        0, named=True
    )
    assert cell["soppresso"] is True and cell["numeratore"] is None and cell["valore"] is None  # 2 contacts < 3
    crema = public.filter((pl.col("indicatore") == "org_accessi_1000") & (pl.col("territorio") == CREMA)).row(
        0, named=True
    )
    assert crema["soppresso"] is True  # SA1 - Crema would give Bagnolo back (secondary suppression)


@covers("org_accessi_giorni_presa_in_carico")
def test_accessi_giorni_presa_in_carico(con):
    add_sede(con, "H1", "HUB", CREMA)
    contacts = [
        ("c1", "2025-02-01", CREMA, "p1"),
        ("c1b", "2025-03-01", CREMA, "p1"),  # p1 first contact 1/2
        ("c2", "2025-01-10", CREMA, "p2"),
        ("c3", "2025-03-01", BAGNOLO, "p3"),
        ("c4", "2025-04-01", CREMA, "p4"),  # p4 was already in care (intervention from 2024): left out
        ("c5", "2024-12-20", DOVERA, "p5"),
        ("c5b", "2025-02-01", DOVERA, "p5"),  # first contact in 2024
        ("c6", "2025-05-01", DOVERA, "p6"),  # no intervention: left out
        ("c7", "2025-06-01", AGNADELLO, "p7"),
        ("c8", "2025-11-01", CREMA, "p8"),  # intervention after the data date: not known yet
        ("c9", "2025-07-01", BAGNOLO, "p9"),
        ("c9b", "2025-07-02", CREMA, "p9"),  # territory of the first contact
        ("c10", "2025-01-02", CREMA, None),  # no pseudonym: cannot be followed
    ]
    for id_, data, comune, persona in contacts:
        add_accesso(con, id_, data, "H1", comune, persona, "PRESA_IN_CARICO")
    add(con, "p1", "SAD", "2025-02-21")  # 20 days
    add(con, "p2", "SAD", "2025-01-20")  # 10 days
    add(con, "p2", "PASTI_DOMICILIO", "2025-06-01")  # a later intervention: the first one counts
    add(con, "p3", "SAD", "2025-03-31", comune=BAGNOLO)  # 30 days
    add(con, "p4", "SAD", "2024-06-01")
    add(con, "p4", "TELESOCCORSO", "2025-05-01")
    add(con, "p5", "SAD", "2025-01-09", comune=DOVERA)  # 20 days, year 2024
    add(con, "p7", "SAD", "2025-06-01", comune=AGNADELLO)  # 0 days
    add(con, "p8", "SAD", "2026-01-10")
    add(con, "p9", "SAD", "2025-07-05", comune=BAGNOLO)  # 4 days
    df = indicator_values(con, years=[2024, 2025], as_of=END_2025)
    # 2025: Crema p1 20, p2 10 -> 15; Bagnolo p3 30, p9 4 -> 17; Agnadello p7 0; Dovera none;
    # SA1 4, 10, 20, 30 -> 15; SA2 0; AMBITO 0, 4, 10, 20, 30 -> 10
    expected = {CREMA: 15.0, BAGNOLO: 17.0, AGNADELLO: 0.0, DOVERA: None, "SA1": 15.0, "SA2": 0.0, "AMBITO": 10.0}
    assert_values(df, "org_accessi_giorni_presa_in_carico", expected)
    persons = {t: d for t, (_, d) in counts_of(df, "org_accessi_giorni_presa_in_carico").items()}
    assert persons == {CREMA: 2, BAGNOLO: 2, AGNADELLO: 1, DOVERA: 0, "SA1": 4, "SA2": 1, "AMBITO": 5}
    assert_values(df, "org_accessi_giorni_presa_in_carico", {DOVERA: 20.0, "SA2": 20.0, "AMBITO": 20.0}, anno=2024)


def test_contact_indicators_without_contacts_have_no_value(con):
    add(con, "p1", "SAD", "2025-01-01")
    df = indicator_values(con, years=[2025], as_of=END_2025)
    for ind in ("org_accessi_1000", "org_accessi_quota_spoke", "org_accessi_giorni_presa_in_carico"):
        assert set(values_of(df, ind).values()) == {None}, ind


def test_dashboard_snapshot_leaves_contacts_out_and_still_answers(con, wh_path):
    from core import warehouse
    from indicators import engine

    _contacts(con)
    _load(con)
    expected_values = indicator_values(con, years=[2025], as_of=END_2025)
    expected_load = caseload(con, years=[2025], as_of=END_2025)
    con.execute("CHECKPOINT")
    con.close()
    snap = warehouse.snapshot(wh_path, summarise=engine.publish_values)
    # the contacts are records of persons: like the service records, they stay in the warehouse
    assert not warehouse.has_table(snap, "accessi") and not warehouse.has_table(snap, "prestazioni")
    got = indicator_values(snap, years=[2025], indicators=["org_accessi_1000", "org_persone_per_as"])
    want = expected_values.filter(pl.col("indicatore").is_in(["org_accessi_1000", "org_persone_per_as"]))
    assert got.sort("indicatore", "livello", "territorio").equals(want.sort("indicatore", "livello", "territorio"))
    assert caseload(snap, years=[2025]).equals(expected_load)


def _hidden(table: pl.DataFrame, indicatore: str) -> set[tuple[int, str]]:
    rows = table.filter((pl.col("indicatore") == indicatore) & pl.col("soppresso"))
    return set(zip(rows["anno"].to_list(), rows["territorio"].to_list(), strict=True))


def test_linked_twins_hide_the_same_cells_and_nothing_comes_back(con):
    """The two persons-per-FTE indicators publish the same persons; the contacts at a sede lie within all the
    contacts: each pair is one group for disclosure control, so the same cells are hidden in both."""
    from indicators.api import hierarchy
    from indicators.definitions import by_id
    from tests.indicators.attack import catalog_populations, linear_kinds, recover

    _load(con)
    _contacts(con)
    add(con, "q1", "SAD", "2025-05-01", comune=BAGNOLO)  # SA1: 5 persons in care in 2025 (p1 p3 p4 p7 q1)
    public = indicator_table(con, "pubblico", years=[2025], as_of=END_2025)
    # persons in care 2025: SA1 5 (published), SA2 2 (< 3: hidden), AMBITO 6 -> SA1 hidden too (else SA2 =
    # AMBITO - SA1): both indicators, the whole équipe and the social workers alike
    for ind in ("org_persone_per_fte_equipe", "org_persone_per_as"):
        assert _hidden(public, ind) == {(2025, "SA1"), (2025, "SA2")}, ind
    # contacts 2025 (see _contacts): all - Crema 3, Bagnolo 2, Dovera 2, Agnadello 1; at a sede - 3, 2, 2, 0;
    # at a spoke - 1, 2, 1, 0. Small: Bagnolo (2 contacts), Dovera (2; hub 1), Agnadello (1), Crema (hub 2);
    # then the sub-ambiti SA1 (5; hub 2) and SA2 (3; spoke 1), and the AMBITO: 8 contacts, 7 at a known sede,
    # and the difference (1 contact at no known sede) counts a person too. The rate and the share hide the
    # same cells.
    rate, share = _hidden(public, "org_accessi_1000"), _hidden(public, "org_accessi_quota_spoke")
    assert rate == share == {(2025, t) for t in (CREMA, BAGNOLO, AGNADELLO, DOVERA, "SA1", "SA2", "AMBITO")}
    entries = list(by_id().values())
    assert recover(public.to_dicts(), catalog_populations(entries), hierarchy(con), linear_kinds(entries)) == []
