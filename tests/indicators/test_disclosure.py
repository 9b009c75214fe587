"""Disclosure control (contract section 4): primary and secondary suppression."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.api import indicator_table, k_by_indicator
from indicators.definitions import by_id
from indicators.disclosure import suppress_small_cells
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, add

RATE = (("numeratore",), False)  # persons over a public population
SHARE = (("numeratore", "denominatore"), True)  # records of persons, complement counts too


def table(rows: list[tuple], indicatore: str = "x") -> pl.DataFrame:
    """rows: (anno, livello, territorio, numeratore, denominatore)."""
    return pl.DataFrame(
        [(indicatore, "a", lv, t, y, float(n), float(d), (n / d if d else None), False, False)
         for y, lv, t, n, d in rows],
        schema={"indicatore": pl.String, "area": pl.String, "livello": pl.String, "territorio": pl.String,
                "anno": pl.Int32, "numeratore": pl.Float64, "denominatore": pl.Float64, "valore": pl.Float64,
                "parziale": pl.Boolean, "soppresso": pl.Boolean},
        orient="row",
    )  # fmt: skip


def hidden(df: pl.DataFrame, anno: int | None = None) -> set[str]:
    rows = df.filter(pl.col("soppresso") & (pl.lit(True) if anno is None else pl.col("anno") == anno))
    return set(rows["territorio"].to_list())


H = {"c1": "S1", "c2": "S1", "c3": "S1", "c4": "S2", "c5": "S2"}


def test_primary_and_smallest_sibling():
    # c1 = 2 < k: hidden; S1 = c1 + c2 + c3 would give it back, so the smallest published sibling (c3 = 5) goes too
    rows = [(2025, "comune", "c1", 2, 100), (2025, "comune", "c2", 10, 100), (2025, "comune", "c3", 5, 100),
            (2025, "comune", "c4", 0, 100), (2025, "comune", "c5", 7, 100), (2025, "sub_ambito", "S1", 17, 300),
            (2025, "sub_ambito", "S2", 7, 200), (2025, "ambito", "AMBITO", 24, 500)]  # fmt: skip
    out = suppress_small_cells(table(rows), {"x": 3}, H, {"x": RATE})
    assert hidden(out) == {"c1", "c3"}
    sup = out.filter(pl.col("soppresso"))
    assert sup["numeratore"].null_count() == sup.height and sup["valore"].null_count() == sup.height
    assert sup["denominatore"].null_count() == sup.height
    # zero is published (it describes nobody), and so is a tiny population denominator
    assert out.filter(pl.col("territorio") == "c4")["numeratore"].to_list() == [0.0]


def test_population_denominator_alone_is_not_suppressed():
    rows = [(2025, "comune", "c4", 0, 2), (2025, "comune", "c5", 7, 100), (2025, "sub_ambito", "S2", 7, 102),
            (2025, "ambito", "AMBITO", 7, 102)]  # fmt: skip
    assert hidden(suppress_small_cells(table(rows), {"x": 3}, {"c4": "S2", "c5": "S2"}, {"x": RATE})) == set()


def test_single_child_hides_the_parent_and_the_chain_goes_up():
    # c1 is the only comune of S1: hiding c1 alone would leave S1 = c1 published -> S1 is hidden; then
    # AMBITO = S1 + S2 needs S2 hidden, and S2 = c2 + c3 needs one of its comuni (c2, the smaller).
    h = {"c1": "S1", "c2": "S2", "c3": "S2"}
    rows = [(2025, "comune", "c1", 2, 50), (2025, "sub_ambito", "S1", 5, 50), (2025, "comune", "c2", 4, 50),
            (2025, "comune", "c3", 6, 50), (2025, "sub_ambito", "S2", 10, 100),
            (2025, "ambito", "AMBITO", 15, 150)]  # fmt: skip
    assert hidden(suppress_small_cells(table(rows), {"x": 3}, h, {"x": RATE})) == {"c1", "S1", "S2", "c2"}


def test_complement_and_person_denominator_of_shares():
    # 9 of 10 records: the 1 left out is a person too (complement); 0 of 2: the denominator counts persons
    rows = [(2025, "comune", "c4", 9, 10), (2025, "comune", "c5", 0, 2), (2025, "comune", "c1", 5, 20),
            (2025, "comune", "c2", 10, 20), (2025, "comune", "c3", 10, 30)]  # fmt: skip
    out = suppress_small_cells(table(rows), {"x": 3}, H, {"x": SHARE})
    assert {"c4", "c5"} <= hidden(out)
    assert "c1" not in hidden(out)  # 5 of 20: 5, 20 and 15 are all >= 3


def test_partner_cells_are_stable_across_years():
    # 2024: c3 = 1 hidden; 2025: c1 = 1 hidden. The partner in each year is the cell hidden in the other
    # year (c1 in 2024, c3 in 2025) even if c2 is smaller.
    rows = [(2024, "comune", "c1", 8, 100), (2024, "comune", "c2", 4, 100), (2024, "comune", "c3", 1, 100),
            (2024, "sub_ambito", "S1", 13, 300), (2024, "ambito", "AMBITO", 13, 300),
            (2025, "comune", "c1", 1, 100), (2025, "comune", "c2", 4, 100), (2025, "comune", "c3", 10, 100),
            (2025, "sub_ambito", "S1", 15, 300), (2025, "ambito", "AMBITO", 15, 300)]  # fmt: skip
    out = suppress_small_cells(table(rows), {"x": 3}, {"c1": "S1", "c2": "S1", "c3": "S1"}, {"x": RATE})
    assert hidden(out, 2024) == {"c1", "c3"}
    assert hidden(out, 2025) == {"c1", "c3"}


def test_not_suppressed_without_k_and_deterministic():
    rows = [(2025, "comune", "c1", 2, 100), (2025, "comune", "c2", 1, 100), (2025, "comune", "c3", 5, 100),
            (2025, "sub_ambito", "S1", 8, 300), (2025, "ambito", "AMBITO", 8, 300)]  # fmt: skip
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
    # SA1 = Crema + Bagnolo hides its smallest comune, Bagnolo (0)
    assert set(adm.filter(pl.col("soppresso"))["territorio"]) == {DOVERA, "SA2", "SA1", BAGNOLO}
    assert pub.filter(pl.col("indicatore") == "org_residenti_per_as")["soppresso"].sum() == 0
    ufficio = indicator_table(con, "ufficio")
    assert ufficio["soppresso"].sum() == 0
    assert ufficio.filter((pl.col("indicatore") == "anziani_sad_copertura_65") & (pl.col("territorio") == BAGNOLO)
                          & (pl.col("anno") == 2025))["numeratore"].to_list() == [2.0]  # fmt: skip


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


# --- property: no hidden cell is determined by the published ones -------------------------------


@st.composite
def hierarchies(draw):
    n_subs = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 4)) for _ in range(n_subs)]
    years = draw(st.integers(1, 2))
    counts = {(y, s, c): draw(st.integers(0, 20)) for y in range(years) for s in range(n_subs) for c in range(sizes[s])}
    k = draw(st.integers(2, 6))
    return sizes, years, counts, k


def _equation_matrix(sizes: list[int]) -> tuple[np.ndarray, list[str]]:
    """Rows: S_s - sum of its comuni = 0, AMBITO - sum of S_s = 0, AMBITO - sum of all comuni = 0."""
    names = (
        [f"c{s}_{c}" for s, n in enumerate(sizes) for c in range(n)] + [f"S{s}" for s in range(len(sizes))] + ["AMBITO"]
    )
    idx = {n: i for i, n in enumerate(names)}
    rows = []
    for s, n in enumerate(sizes):
        r = np.zeros(len(names))
        r[idx[f"S{s}"]] = 1
        for c in range(n):
            r[idx[f"c{s}_{c}"]] = -1
        rows.append(r)
    r = np.zeros(len(names))
    r[idx["AMBITO"]] = 1
    for s in range(len(sizes)):
        r[idx[f"S{s}"]] = -1
    rows.append(r)
    r = np.zeros(len(names))
    r[idx["AMBITO"]] = 1
    for s, n in enumerate(sizes):
        for c in range(n):
            r[idx[f"c{s}_{c}"]] = -1
    rows.append(r)
    return np.array(rows), names


@settings(max_examples=150, deadline=None)
@given(hierarchies())
def test_no_hidden_cell_is_recoverable(case):
    sizes, years, counts, k = case
    rows, hierarchy = [], {}
    for y in range(years):
        total = 0
        for s, n in enumerate(sizes):
            sub_total = 0
            for c in range(n):
                v = counts[(y, s, c)]
                rows.append((2024 + y, "comune", f"c{s}_{c}", v, 1000))
                hierarchy[f"c{s}_{c}"] = f"S{s}"
                sub_total += v
            rows.append((2024 + y, "sub_ambito", f"S{s}", sub_total, 1000 * n))
            total += sub_total
        rows.append((2024 + y, "ambito", "AMBITO", total, 1000 * sum(sizes)))
    out = suppress_small_cells(table(rows), {"x": k}, hierarchy, {"x": RATE})
    original = {(r[0], r[2]): r[3] for r in rows}
    matrix, names = _equation_matrix(sizes)
    for y in range(years):
        anno = 2024 + y
        year = out.filter(pl.col("anno") == anno)
        published = year.filter(~pl.col("soppresso"))
        # no published count in 1..k-1
        assert not any(0 < v < k for v in published["numeratore"].to_list())
        # every primary cell is hidden
        hid = hidden(out, anno)
        assert {t for (a, t), v in original.items() if a == anno and 0 < v < k} <= hid
        # linear algebra: hidden cell j is determined iff e_j is in the row space of M restricted to hidden cells
        cols = [i for i, n in enumerate(names) if n in hid]
        if not cols:
            continue
        m_h = matrix[:, cols]
        rank = np.linalg.matrix_rank(m_h)
        for j in range(len(cols)):
            e = np.zeros(len(cols))
            e[j] = 1
            assert np.linalg.matrix_rank(np.vstack([m_h, e])) > rank, f"{names[cols[j]]} recuperabile ({anno}, k={k})"
