"""Disclosure control (contract section 4): primary and secondary suppression."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import warehouse
from indicators.api import hierarchy, indicator_table, k_by_indicator
from indicators.cli import compute_table, records
from indicators.definitions import KINDS, by_id
from indicators.disclosure import POPULATIONS, Population, catalog_layout, linked_groups, suppress_small_cells
from tests.indicators.attack import catalog_populations, linear_kinds, recover
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, add, cell

RATE = (("numeratore",), False)  # persons over a public population
SHARE = (("numeratore", "denominatore"), True)  # records of persons, complement counts too


def table(rows: list[tuple], indicatore: str = "x") -> pl.DataFrame:
    """rows: (anno, livello, territorio, numeratore, denominatore)."""
    return pl.DataFrame(
        [
            (indicatore, "a", lv, t, y, float(n), float(d), (n / d if d else None), False, False)
            for y, lv, t, n, d in rows
        ],
        schema={
            "indicatore": pl.String,
            "area": pl.String,
            "livello": pl.String,
            "territorio": pl.String,
            "anno": pl.Int32,
            "numeratore": pl.Float64,
            "denominatore": pl.Float64,
            "valore": pl.Float64,
            "parziale": pl.Boolean,
            "soppresso": pl.Boolean,
        },
        orient="row",
    )


def hidden(df: pl.DataFrame, anno: int | None = None) -> set[str]:
    rows = df.filter(pl.col("soppresso") & (pl.lit(True) if anno is None else pl.col("anno") == anno))
    return set(rows["territorio"].to_list())


H = {"c1": "S1", "c2": "S1", "c3": "S1", "c4": "S2", "c5": "S2"}


def test_primary_and_smallest_sibling():
    # c1 = 2 < k: hidden; S1 = c1 + c2 + c3 would give it back, so the smallest published sibling (c3 = 5) goes too
    rows = [
        (2025, "comune", "c1", 2, 100),
        (2025, "comune", "c2", 10, 100),
        (2025, "comune", "c3", 5, 100),
        (2025, "comune", "c4", 0, 100),
        (2025, "comune", "c5", 7, 100),
        (2025, "sub_ambito", "S1", 17, 300),
        (2025, "sub_ambito", "S2", 7, 200),
        (2025, "ambito", "AMBITO", 24, 500),
    ]
    out = suppress_small_cells(table(rows), {"x": 3}, H, {"x": RATE})
    assert hidden(out) == {"c1", "c3"}
    sup = out.filter(pl.col("soppresso"))
    assert sup["numeratore"].null_count() == sup.height and sup["valore"].null_count() == sup.height
    assert sup["denominatore"].null_count() == sup.height
    # zero is published (it describes nobody), and so is a tiny population denominator
    assert out.filter(pl.col("territorio") == "c4")["numeratore"].to_list() == [0.0]


def test_population_denominator_alone_is_not_suppressed():
    rows = [
        (2025, "comune", "c4", 0, 2),
        (2025, "comune", "c5", 7, 100),
        (2025, "sub_ambito", "S2", 7, 102),
        (2025, "ambito", "AMBITO", 7, 102),
    ]
    assert hidden(suppress_small_cells(table(rows), {"x": 3}, {"c4": "S2", "c5": "S2"}, {"x": RATE})) == set()


def test_single_child_hides_the_parent_and_the_chain_goes_up():
    # c1 is the only comune of S1: hiding c1 alone would leave S1 = c1 published -> S1 is hidden; then
    # AMBITO = S1 + S2 needs S2 hidden, and S2 = c2 + c3 needs one of its comuni (c2, the smaller).
    h = {"c1": "S1", "c2": "S2", "c3": "S2"}
    rows = [
        (2025, "comune", "c1", 2, 50),
        (2025, "sub_ambito", "S1", 5, 50),
        (2025, "comune", "c2", 4, 50),
        (2025, "comune", "c3", 6, 50),
        (2025, "sub_ambito", "S2", 10, 100),
        (2025, "ambito", "AMBITO", 15, 150),
    ]
    assert hidden(suppress_small_cells(table(rows), {"x": 3}, h, {"x": RATE})) == {"c1", "S1", "S2", "c2"}


def test_complement_and_person_denominator_of_shares():
    # 9 of 10 records: the 1 left out is a person too (complement); 0 of 2: the denominator counts persons
    rows = [
        (2025, "comune", "c4", 9, 10),
        (2025, "comune", "c5", 0, 2),
        (2025, "comune", "c1", 5, 20),
        (2025, "comune", "c2", 10, 20),
        (2025, "comune", "c3", 10, 30),
    ]
    out = suppress_small_cells(table(rows), {"x": 3}, H, {"x": SHARE})
    assert {"c4", "c5"} <= hidden(out)
    assert "c1" not in hidden(out)  # 5 of 20: 5, 20 and 15 are all >= 3


def test_partner_cells_are_stable_across_years():
    # 2024: c3 = 1 hidden; 2025: c1 = 1 hidden. The partner in each year is the cell hidden in the other
    # year (c1 in 2024, c3 in 2025) even if c2 is smaller.
    rows = [
        (2024, "comune", "c1", 8, 100),
        (2024, "comune", "c2", 4, 100),
        (2024, "comune", "c3", 1, 100),
        (2024, "sub_ambito", "S1", 13, 300),
        (2024, "ambito", "AMBITO", 13, 300),
        (2025, "comune", "c1", 1, 100),
        (2025, "comune", "c2", 4, 100),
        (2025, "comune", "c3", 10, 100),
        (2025, "sub_ambito", "S1", 15, 300),
        (2025, "ambito", "AMBITO", 15, 300),
    ]
    out = suppress_small_cells(table(rows), {"x": 3}, {"c1": "S1", "c2": "S1", "c3": "S1"}, {"x": RATE})
    assert hidden(out, 2024) == {"c1", "c3"}
    assert hidden(out, 2025) == {"c1", "c3"}


def test_not_suppressed_without_k_and_deterministic():
    rows = [
        (2025, "comune", "c1", 2, 100),
        (2025, "comune", "c2", 1, 100),
        (2025, "comune", "c3", 5, 100),
        (2025, "sub_ambito", "S1", 8, 300),
        (2025, "ambito", "AMBITO", 8, 300),
    ]
    df = table(rows)
    assert hidden(suppress_small_cells(df, {}, H, {"x": RATE})) == set()  # e.g. residents per social worker
    a = suppress_small_cells(df, {"x": 3}, H, {"x": RATE})
    b = suppress_small_cells(df.reverse(), {"x": 3}, H, {"x": RATE})
    assert hidden(a) == hidden(b) == {"c1", "c2"}  # two hidden in S1's equation: no partner needed


# --- on the engine's table --------------------------------------------------------------------


def _public_fixture(con):
    # SAD 65+: Crema 5 persons, Bagnolo 2 (small), Agnadello 4, Dovera 3; ADM minors (k = 5): Crema 6, Dovera 2
    for i in range(5):
        add(con, f"c{i}", "SAD", "2025-01-01")
    for i in range(2):
        add(con, f"b{i}", "SAD", "2025-01-01", comune=BAGNOLO)
    for i in range(4):
        add(con, f"a{i}", "SAD", "2025-01-01", comune=AGNADELLO)
    for i in range(3):
        add(con, f"d{i}", "SAD", "2025-01-01", comune=DOVERA)
    for i in range(6):
        add(con, f"m{i}", "ADM", "2025-01-01", nascita=2015)
    for i in range(2):
        add(con, f"n{i}", "ADM", "2025-01-01", comune=DOVERA, nascita=2015)
    add(con, "t1", "TIROCINIO", "2025-01-01", "2025-06-30", nascita=1990, esito="ASSUNZIONE")


def test_public_table_never_shows_small_counts(con):
    _public_fixture(con)
    pub = indicator_table(con, "pubblico")
    k = k_by_indicator()
    entries = by_id()
    for r in pub.filter(~pl.col("soppresso")).iter_rows(named=True):
        e = entries[r["indicatore"]]
        counts = [r[c] for c in e.colonne_conteggio]
        if e.complemento:
            counts.append(r["denominatore"] - r["numeratore"])
        assert not any(c is not None and 0 < c < k[e.id] for c in counts), r
    sad = pub.filter((pl.col("indicatore") == "anziani_sad_copertura_65") & (pl.col("anno") == 2025))
    # Bagnolo 2 < 3; SA1 = Crema + Bagnolo would give it back: Crema (the only sibling) is hidden too
    assert set(sad.filter(pl.col("soppresso"))["territorio"]) == {BAGNOLO, CREMA}
    adm = pub.filter((pl.col("indicatore") == "giovani_adm_minori_1000") & (pl.col("anno") == 2025))
    # k = 5 for minors: Dovera 2 and SA2 2 are hidden; AMBITO = SA1 + SA2 then hides SA1 (6), and
    # SA1 = Crema + Bagnolo hides one comune: not Bagnolo (0), since AMBITO (8) - Crema (6) - Agnadello (0)
    # would give Dovera + Bagnolo = 2 minors (< 5); Crema (6) makes the hidden comuni add up to 8
    assert set(adm.filter(pl.col("soppresso"))["territorio"]) == {DOVERA, "SA2", "SA1", CREMA}
    assert pub.filter(pl.col("indicatore") == "org_residenti_per_as")["soppresso"].sum() == 0
    ufficio = indicator_table(con, "ufficio")
    assert ufficio["soppresso"].sum() == 0
    assert ufficio.filter(
        (pl.col("indicatore") == "anziani_sad_copertura_65")
        & (pl.col("territorio") == BAGNOLO)
        & (pl.col("anno") == 2025)
    )["numeratore"].to_list() == [2.0]


def test_hidden_comune_cannot_be_recovered_from_its_sub_ambito(con):
    _public_fixture(con)
    pub = indicator_table(con, "pubblico")
    subs = {CREMA: "SA1", BAGNOLO: "SA1", AGNADELLO: "SA2", DOVERA: "SA2"}
    for (ind, anno), g in pub.group_by(["indicatore", "anno"]):
        cells = {r["territorio"]: r for r in g.iter_rows(named=True)}
        for sub in ("SA1", "SA2"):
            if sub not in cells:
                continue
            children = [c for c, s in subs.items() if s == sub and c in cells]
            hidden_children = [c for c in children if cells[c]["soppresso"]]
            if hidden_children and not cells[sub]["soppresso"]:
                # parent - published siblings would give the hidden one back if it were alone
                assert len(hidden_children) >= 2, (ind, anno, sub, hidden_children)
        hidden_subs = [s for s in ("SA1", "SA2") if s in cells and cells[s]["soppresso"]]
        if hidden_subs and "AMBITO" in cells and not cells["AMBITO"]["soppresso"]:
            assert len(hidden_subs) >= 2, (ind, anno)


# --- linked counts: the same population in several indicators ---------------------------------

SAD = Population.of("persona", ["SAD"])
SAD_65 = Population.of("persona", ["SAD"], eta_min=65)
SAD_ORE = Population.of("ore", ["SAD"])
ADI = Population.of("record", ["ADI_VALUTAZIONE"], "inizio", condizioni=["data_richiesta"])
ADI_120 = Population.of("record", ["ADI_VALUTAZIONE"], "inizio", condizioni=["data_richiesta", "giorni_max=120"])


def tables(rows: list[tuple]) -> pl.DataFrame:
    """rows: (indicatore, anno, livello, territorio, numeratore, denominatore); valore = num / den."""
    return pl.concat(
        [
            table([(y, lv, t, n if n is not None else float("nan"), d)], ind).with_columns(
                pl.lit(n, dtype=pl.Float64).alias("numeratore")
            )
            for ind, y, lv, t, n, d in rows
        ]
    )


def hidden_of(df: pl.DataFrame, indicatore: str) -> set[str]:
    return hidden(df.filter(pl.col("indicatore") == indicatore))


def test_twins_hide_the_same_cells():
    # "a": share of ADI assessments within 120 days (num ADI_120 within den ADI); "b": median wait, whose
    # denominator is the same ADI count. c1: 3 of 4 (the 1 left out is small) -> a hides c1; b must too,
    # or b would publish a's hidden denominator. Partner in S1: c3 (D = 3), not c2 (D = 0), because
    # S1 - c2 would then give c1 + c3's left-out records = 1 + 0 = 1 < 3.
    cells = {
        "c1": (3, 4),
        "c2": (10, 10),
        "c3": (5, 8),
        "c4": (6, 6),
        "c5": (7, 7),
        "S1": (18, 22),
        "S2": (13, 13),
        "AMBITO": (31, 35),
    }
    level = {"S1": "sub_ambito", "S2": "sub_ambito", "AMBITO": "ambito"}
    rows = [("a", 2025, level.get(t, "comune"), t, n, d) for t, (n, d) in cells.items()]
    rows += [("b", 2025, level.get(t, "comune"), t, None, d) for t, (n, d) in cells.items()]
    layout = {"a": {"numeratore": ADI_120, "denominatore": ADI}, "b": {"denominatore": ADI}}
    out = suppress_small_cells(tables(rows), {"a": 3, "b": 3}, H, layout=layout)
    assert hidden_of(out, "a") == hidden_of(out, "b") == {"c1", "c3"}


def test_nested_counts_are_linked_and_their_difference_is_a_count():
    # "r": persons 65+ with SAD over residents; "h": SAD hours per person with SAD (any age).
    # c1: 4 persons 65+, 5 in all: published together they would show 1 person under 65 -> hidden in both;
    # c4: 2 persons -> hidden in both. Partners: c3 in S1 (c2 would leave the under-65 total at 1), c5 in S2.
    cells = {
        "c1": (4, 5, 100),
        "c2": (10, 10, 300),
        "c3": (8, 11, 200),
        "c4": (2, 2, 50),
        "c5": (6, 6, 120),
        "S1": (22, 26, 600),
        "S2": (8, 8, 170),
        "AMBITO": (30, 34, 770),
    }
    level = {"S1": "sub_ambito", "S2": "sub_ambito", "AMBITO": "ambito"}
    rows = [("r", 2025, level.get(t, "comune"), t, q, 1000) for t, (q, p, o) in cells.items()]
    rows += [("h", 2025, level.get(t, "comune"), t, o, p) for t, (q, p, o) in cells.items()]
    layout = {"r": {"numeratore": SAD_65}, "h": {"numeratore": SAD_ORE, "denominatore": SAD}}
    out = suppress_small_cells(tables(rows), {"r": 3, "h": 3}, H, layout=layout)
    assert hidden_of(out, "r") == hidden_of(out, "h") == {"c1", "c3", "c4", "c5"}
    # each alone (as before): the under-65 person of c1 was shown by difference
    alone = suppress_small_cells(tables(rows), {"r": 3, "h": 3}, H, layout={"r": layout["r"]})
    assert "c1" not in hidden_of(alone, "r")


def test_catalog_links():
    entries = by_id()
    layout = catalog_layout()
    for kind, spec in KINDS.items():  # a new measure kind that counts persons needs its population rule
        assert not spec.counts or kind in POPULATIONS, kind
    for e in entries.values():  # every count column the catalog declares is in the layout, and only those
        assert {c for c, p in layout[e.id].items() if p.persone} == set(e.colonne_conteggio), e.id
    groups: dict[str, set[str]] = {}
    for ind, g in linked_groups({i: lay for i, lay in layout.items() if lay}).items():
        groups.setdefault(g, set()).add(ind)
    linked = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    assert linked == [
        ["anziani_sad_copertura_65", "anziani_sad_ore_per_utente"],  # persons 65+ with SAD within persons with SAD
        ["casa_morosita_10000", "casa_nuclei_sostenuti_1000", "casa_sostegno_affitto_1000"],  # within the union
        ["org_accessi_1000", "org_accessi_quota_spoke"],  # contacts at a sede (at a spoke) within all contacts
        ["org_persone_per_as", "org_persone_per_fte_equipe"],  # the same persons in care over two kinds of FTE
        ["poverta_adi_giorni_attesa", "poverta_adi_valutati_120gg"],  # ADI assessments with a request date
        ["poverta_adi_patti_per_valutazione", "poverta_nuclei_in_carico_1000"],  # households within the union
    ]


def _adi(con, comune: str, n: int, late: int) -> None:
    for i in range(n):
        richiesta = "2024-09-01" if i < late else "2025-01-10"  # 181 or 50 days before 1 March 2025
        add(con, f"adi{comune}{i}", "ADI_VALUTAZIONE", "2025-03-01", comune=comune, richiesta=richiesta)


def test_adi_twins_in_the_public_table(con):
    # ADI assessments with a request date, (on time, all): Crema (6, 6), Bagnolo (3, 4), Agnadello (5, 5),
    # Dovera (3, 5); SA1 (9, 10), SA2 (8, 10), AMBITO (17, 20). The late ones (1 in Bagnolo and SA1, 2 in
    # Dovera and SA2) hide those four cells of the 120-day share; the median wait counts the same 4, 10,
    # 5, 10 assessments, so it hides the same cells (before, it published them).
    _adi(con, CREMA, 6, 0)
    _adi(con, BAGNOLO, 4, 1)
    _adi(con, AGNADELLO, 5, 0)
    _adi(con, DOVERA, 5, 2)
    pub = indicator_table(con, "pubblico")
    y25 = pub.filter(pl.col("anno") == 2025)
    for ind in ("poverta_adi_valutati_120gg", "poverta_adi_giorni_attesa"):
        assert hidden_of(y25, ind) == {BAGNOLO, "SA1", DOVERA, "SA2"}, ind
    assert cell(pub, "poverta_adi_giorni_attesa", "AMBITO")["denominatore"] == 20
    entries = list(by_id().values())
    assert recover(pub.to_dicts(), catalog_populations(entries), hierarchy(con), linear_kinds(entries)) == []


# --- the whole public table: nothing hidden can be recovered ----------------------------------


@st.composite
def public_tables(draw):
    """A random ambito, 1-2 years, 1-2 interventions and a random set of indicators that share and nest
    populations: rates of persons (all, 65+, the union of the interventions) over residents, shares of
    records, medians over the same records, hours per person, 65+ over all persons."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    years = draw(st.integers(1, 2))
    n_int = draw(st.integers(1, 2))
    small = st.one_of(st.integers(0, 3), st.integers(0, 12))
    atoms = {}
    for y in range(years):
        for s, n in enumerate(sizes):
            for c in range(n):
                for j in range(n_int):
                    rec = draw(small)
                    ok, ore = draw(st.integers(0, rec)), draw(st.integers(0, 90))
                    atoms[(y, f"c{s}_{c}", j)] = {
                        "young": draw(small),
                        "old": draw(small),
                        "rec": rec,
                        "ok": ok,
                        "ore": ore,
                    }
    kinds = ("tutti", "anziani", "quota", "mediana", "ore", "rapporto")
    templates = [(kind, j) for j in range(n_int) for kind in kinds]
    if n_int == 2:
        templates.append(("unione", 0))
    chosen = draw(st.lists(st.sampled_from(templates), min_size=1, max_size=7, unique=True))
    k = {f"{kind}{j}": draw(st.integers(2, 5)) for kind, j in chosen}
    return sizes, years, n_int, atoms, chosen, k


def _pop_values(atoms, y, comuni, j):
    a = [atoms[(y, c, j)] for c in comuni]
    old = sum(x["old"] for x in a)
    return {
        f"P{j}": old + sum(x["young"] for x in a),
        f"Q{j}": old,
        f"R{j}": sum(x["rec"] for x in a),
        f"OK{j}": sum(x["ok"] for x in a),
        f"H{j}": sum(x["ore"] for x in a),
    }


KINDS_TEST = {  # kind -> (column -> population name, multiplier of a linear valore or None)
    "tutti": ({"numeratore": "P"}, None),
    "anziani": ({"numeratore": "Q"}, None),
    "quota": ({"numeratore": "OK", "denominatore": "R"}, 100.0),
    "mediana": ({"denominatore": "R"}, None),
    "ore": ({"numeratore": "H", "denominatore": "P"}, 1.0),
    "rapporto": ({"numeratore": "Q", "denominatore": "P"}, 100.0),
    "unione": ({"numeratore": "U"}, None),
}


def _defender_population(name: str) -> Population:
    base = name.rstrip("0123456789")
    j = name[len(base) :]
    return {
        "P": lambda: Population.of("persona", [f"I{j}"]),
        "Q": lambda: Population.of("persona", [f"I{j}"], eta_min=65),
        "U": lambda: Population.of("persona", ["I0", "I1"]),
        "R": lambda: Population.of("record", [f"I{j}"], condizioni=["data_richiesta"]),
        "OK": lambda: Population.of("record", [f"I{j}"], condizioni=["data_richiesta", "giorni_max=120"]),
        "H": lambda: Population.of("ore", [f"I{j}"]),
    }[base]()


def _build(case):
    sizes, years, n_int, atoms, chosen, k = case
    hierarchy_ = {f"c{s}_{c}": f"S{s}" for s, n in enumerate(sizes) for c in range(n)}
    places = [("comune", c, [c]) for c in hierarchy_]
    places += [("sub_ambito", f"S{s}", [c for c, p in hierarchy_.items() if p == f"S{s}"]) for s in range(len(sizes))]
    places.append(("ambito", "AMBITO", list(hierarchy_)))
    truth: dict[tuple, float] = {}
    for y in range(years):
        for _lv, t, comuni in places:
            v = {}
            for j in range(n_int):
                v.update(_pop_values(atoms, y, comuni, j))
            v["U0"] = sum(v[f"P{j}"] for j in range(n_int))
            for name, x in v.items():
                truth[(name, 2024 + y, t)] = float(x)
    layout, attacker, mult, rows = {}, {}, {}, []
    for kind, j in chosen:
        ind = f"{kind}{j}"
        cols, m = KINDS_TEST[kind]
        names = {c: f"{p}{j}" for c, p in cols.items()}
        layout[ind] = {c: _defender_population(n) for c, n in names.items()}
        attacker[ind] = names
        if m:
            mult[ind] = m
        for y in range(years):
            for lv, t, comuni in places:
                num = truth[(names["numeratore"], 2024 + y, t)] if "numeratore" in names else None
                den = truth[(names["denominatore"], 2024 + y, t)] if "denominatore" in names else 1000.0 * len(comuni)
                val = 30.0 if kind == "mediana" else (num / den * (m or 1000.0) if den else None)
                rows.append((ind, lv, t, 2024 + y, num, den, val))
    df = pl.DataFrame(
        [(i, "a", lv, t, y, n, d, v, False, False) for i, lv, t, y, n, d, v in rows],
        schema={
            "indicatore": pl.String,
            "area": pl.String,
            "livello": pl.String,
            "territorio": pl.String,
            "anno": pl.Int32,
            "numeratore": pl.Float64,
            "denominatore": pl.Float64,
            "valore": pl.Float64,
            "parziale": pl.Boolean,
            "soppresso": pl.Boolean,
        },
        orient="row",
    )
    nested = {(f"Q{j}", f"P{j}") for j in range(n_int)} | {(f"OK{j}", f"R{j}") for j in range(n_int)}
    if n_int == 2:
        nested |= {(f"{p}{j}", "U0") for p in ("P", "Q") for j in range(2)}
    return df, layout, attacker, mult, hierarchy_, nested, truth


@settings(max_examples=150, deadline=None)
@given(public_tables())
def test_nothing_hidden_can_be_recovered_from_the_whole_public_table(case):
    k = case[5]
    df, layout, attacker, mult, hierarchy_, nested, truth = _build(case)
    out = suppress_small_cells(df, k, hierarchy_, layout=layout)
    assert out.height == df.height
    # what is published of each population (one number per population, year and territory)
    k_pop: dict[str, int] = {}
    published: dict[tuple, float] = {}
    for r in out.iter_rows(named=True):
        for col, name in attacker[r["indicatore"]].items():
            k_pop[name] = max(k_pop.get(name, 0), k[r["indicatore"]])
            if not r["soppresso"]:
                assert r[col] == truth[(name, r["anno"], r["territorio"])]
                published[(name, r["anno"], r["territorio"])] = r[col]
        if r["soppresso"]:
            assert r["numeratore"] is None and r["denominatore"] is None and r["valore"] is None
    persons = {n for n in k_pop if not n.startswith("H")}
    # 1. no published count of persons, nor difference of two nested ones, is 1..k-1
    for (name, anno, t), v in published.items():
        assert not (name in persons and 0 < v < k_pop[name]), (name, anno, t, v)
    differences = {(a, b): max(k_pop[a], k_pop[b]) for a, b in nested if a in k_pop and b in k_pop}
    for (a, b), kd in differences.items():
        for (name, anno, t), v in published.items():
            if name == b and (a, anno, t) in published:
                assert not 0 < v - published[(a, anno, t)] < kd, (b, a, anno, t)
    # 2. linear algebra over everything published: no hidden count is determined (nor published by a twin)
    exposed = recover(out.to_dicts(), attacker, hierarchy_, mult, contains=lambda a, b: (a, b) in nested)
    assert exposed == [], exposed[:3]
    # 3. the hidden cells of an equation with a published total never add up to 1..k-1 persons
    subs = sorted(set(hierarchy_.values()))
    families = [(s, [c for c in hierarchy_ if hierarchy_[c] == s]) for s in subs]
    families += [("AMBITO", subs), ("AMBITO", list(hierarchy_))]
    quantities = {n: (lambda y, t, n=n: truth[(n, y, t)], k_pop[n]) for n in persons}
    quantities |= {
        f"{b}-{a}": (lambda y, t, a=a, b=b: truth[(b, y, t)] - truth[(a, y, t)], kd)
        for (a, b), kd in differences.items()
    }
    for label, (value, kq) in quantities.items():
        names = label.split("-")
        for anno in sorted({key[1] for key in truth}):

            def shown(t, names=names, anno=anno):
                return all((n, anno, t) in published for n in names)

            for parent, kids in families:
                if shown(parent):
                    total = sum(value(anno, c) for c in kids if not shown(c))
                    assert not 0 < total < kq, (label, anno, parent, total)


@pytest.fixture(scope="module")
def demo_public(tmp_path_factory):
    from tests.conftest import demo_warehouse_env

    with demo_warehouse_env(tmp_path_factory.mktemp("discl")) as db:
        table = compute_table(db, public=True, year=None)
        with warehouse.reader(db) as c:
            yield records(table), hierarchy(c)


def test_demo_public_table_resists_the_linear_attack(demo_public):
    # the JSON of `python -m indicators compute --public` on the demo: before, the ADI twins gave away
    # dozens of suppressed counts (some of 1 or 2 assessments); now nothing
    rows, hier = demo_public
    entries = list(by_id().values())
    assert sum(r["soppresso"] for r in rows) > 0
    assert recover(rows, catalog_populations(entries), hier, linear_kinds(entries)) == []
