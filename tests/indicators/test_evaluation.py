"""The pilot evaluation on literal tables: effects, p-values and trends computed by hand; refusals; coverage.

The literal territory (6 sub-ambiti, 8 comuni; weight = the comune's denominator, the same every year):

    SA1 (pilot): A (100), B (300)   SA2 (pilot): C (200)   SA3: D (100), E (100)   SA4: F (400)
    SA5: G (100)   SA6: H (200)

Values 2023, 2024 ("before"), 2025 ("after"; pilots start 1 January 2025) and the change
Δ = 2025 − mean(2023, 2024):

    A 10 12 14 (Δ 3)   B 10 10 15 (Δ 5)   C 10 8 13 (Δ 4)
    D 10 11 11.5 (Δ 1)   E 10 10 12 (Δ 2)   F 10 12 12.5 (Δ 1.5)   G 10 10 13 (Δ 3)   H 10 14 12 (Δ 0)

Pilots: (100·3 + 300·5 + 200·4) / 600 = 2600/600 = 13/3; others: (100 + 200 + 600 + 300 + 0) / 900 = 4/3;
effect = 13/3 − 4/3 = 3.
"""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import polars as pl
import pytest

from indicators import evaluation as ev

SUB = {"A": "SA1", "B": "SA1", "C": "SA2", "D": "SA3", "E": "SA3", "F": "SA4", "G": "SA5", "H": "SA6"}
WEIGHT = {"A": 100, "B": 300, "C": 200, "D": 100, "E": 100, "F": 400, "G": 100, "H": 200}
VALUES = {
    "A": (10, 12, 14),
    "B": (10, 10, 15),
    "C": (10, 8, 13),
    "D": (10, 11, 11.5),
    "E": (10, 10, 12),
    "F": (10, 12, 12.5),
    "G": (10, 10, 13),
    "H": (10, 14, 12),
}
IND = "prova_indicatore"


def sub_ambiti(pilots: dict[str, str | None] | None = None, sub: dict[str, str] = SUB) -> pl.DataFrame:
    """The sub_ambiti table; `pilots`: sub-ambito -> start date (ISO) or None (pilot without a date)."""
    pilots = {"SA1": "2025-01-01", "SA2": "2025-01-01"} if pilots is None else pilots
    return pl.DataFrame(
        {
            "comune": list(sub),
            "sub_ambito": list(sub.values()),
            "pilota": [s in pilots for s in sub.values()],
            "data_avvio_pilota": [date.fromisoformat(pilots[s]) if pilots.get(s) else None for s in sub.values()],
        },
        schema={"comune": pl.String, "sub_ambito": pl.String, "pilota": pl.Boolean, "data_avvio_pilota": pl.Date},
    )


def table(
    values: dict[str, tuple] = VALUES,
    weights: dict[str, float] = WEIGHT,
    years: tuple[int, ...] = (2023, 2024, 2025),
    partial: tuple[int, ...] = (),
    hidden: tuple[tuple[str, int], ...] = (),
    levels: tuple[str, ...] = ("comune",),
) -> pl.DataFrame:
    """A tidy indicator table (the columns evaluation reads) for one indicator."""
    rows = []
    for comune, vals in values.items():
        for anno, v in zip(years, vals):
            gone = (comune, anno) in hidden
            empty = v is None  # denominator zero: no value, not hidden
            for livello in levels:
                rows.append(
                    {
                        "indicatore": IND,
                        "livello": livello,
                        "territorio": comune if livello == "comune" else SUB[comune],
                        "anno": anno,
                        "numeratore": None if gone or empty else v * weights[comune] / 100,
                        "denominatore": None if gone else 0.0 if empty else float(weights[comune]),
                        "valore": None if gone or empty else float(v),
                        "parziale": anno in partial,
                        "soppresso": gone,
                        "unita": "%",
                    }
                )
    return pl.DataFrame(rows).with_columns(pl.col("anno").cast(pl.Int32))


def naive_p(delta, weights, cluster, treated, tau=0.0):
    """p-value of the shifted data by a plain loop over every assignment (independent of the module)."""
    delta = np.asarray(delta, float) - tau * np.isin(cluster, treated)
    w = np.asarray(weights, float)

    def stat(chosen):
        t = np.isin(cluster, chosen)
        return abs(np.average(delta[t], weights=w[t]) - np.average(delta[~t], weights=w[~t]))

    k = int(max(cluster)) + 1
    observed = stat(treated)
    combos = list(itertools.combinations(range(k), len(treated)))
    return sum(stat(c) >= observed - 1e-9 for c in combos) / len(combos)


# --- the estimate, computed by hand -----------------------------------------------------------------


def test_effect_weights_and_p_value_by_hand() -> None:
    r = ev.evaluate_indicator(table(), sub_ambiti(), IND)
    assert r["effetto"] == pytest.approx(3.0, abs=1e-12)
    assert (r["anni_prima"], r["anni_dopo"]) == ([2023, 2024], [2025])
    assert (r["n_comuni_pilota"], r["n_comuni_altri"]) == (3, 5)
    assert r["sub_ambiti_pilota"] == ["SA1", "SA2"] and r["data_avvio"] == "2025-01-01"
    # Sub-ambito changes: SA1 4.5 (w 400), SA2 4 (200), SA3 1.5 (200), SA4 1.5 (400), SA5 3 (100), SA6 0 (200).
    # The largest |effect| of the 14 other assignments is {SA4, SA6}: 600/600 − 3200/900 = −2.556 < 3,
    # so the observed assignment is the most extreme: p = 1/15, the smallest possible.
    assert r["p_value"] == pytest.approx(1 / 15) and r["p_minimo"] == pytest.approx(1 / 15)
    assert r["n_assegnazioni"] == 15
    assert r["livello_confidenza"] == pytest.approx(14 / 15)
    assert r["ic_basso"] < 3.0 < r["ic_alto"]
    # Placebo 2024 vs 2023: pilots (200 + 0 − 400)/600 = −1/3, others (100 + 0 + 800 + 0 + 800)/900 = 17/9.
    assert r["effetto_placebo"] == pytest.approx(-1 / 3 - 17 / 9)
    assert set(r) == set(ev.RESULT_KEYS) | set(ev.EXTRA_KEYS)
    assert any("1/15 = 0,067" in a for a in r["avvertenze"])
    assert any("93,3%" in a for a in r["avvertenze"])


def test_interval_is_the_inverted_permutation_test() -> None:
    """The bounds are where the (independently computed) p-value crosses 1 − level."""
    r = ev.evaluate_indicator(table(), sub_ambiti(), IND)
    cluster = [int(SUB[c][2]) - 1 for c in VALUES]
    delta = [v[2] - (v[0] + v[1]) / 2 for v in VALUES.values()]
    w = list(WEIGHT.values())
    lo, hi = r["ic_basso"], r["ic_alto"]
    assert naive_p(delta, w, cluster, (0, 1), lo) > 0.1 and naive_p(delta, w, cluster, (0, 1), hi) > 0.1
    assert naive_p(delta, w, cluster, (0, 1), lo - 1e-6) <= 0.1
    assert naive_p(delta, w, cluster, (0, 1), hi + 1e-6) <= 0.1
    grid = np.linspace(lo - 5, hi + 5, 801)
    accepted = [t for t in grid if naive_p(delta, w, cluster, (0, 1), t) > 0.1]
    assert min(accepted) >= lo - 1e-9 and max(accepted) <= hi + 1e-9


def test_planted_effect_recovered_exactly() -> None:
    """Parallel trends (common year effects, any level per comune) plus 2.5 in the pilots after the start."""
    level = {"A": 3, "B": 40, "C": 7, "D": 12, "E": 0.5, "F": 25, "G": 9, "H": 60}
    year = (0.0, 1.2, 2.0)
    values = {
        c: tuple(level[c] + y + (2.5 if SUB[c] in ("SA1", "SA2") and i == 2 else 0) for i, y in enumerate(year))
        for c in level
    }
    r = ev.evaluate_indicator(table(values), sub_ambiti(), IND)
    assert r["effetto"] == pytest.approx(2.5, abs=1e-12)
    assert r["ic_basso"] <= 2.5 <= r["ic_alto"]
    assert r["effetto_placebo"] == pytest.approx(0.0, abs=1e-12)


def test_no_effect_dataset_interval_contains_zero() -> None:
    """One comune per sub-ambito, equal weights, changes 0.8, −0.2 (pilots), 0.5, −0.6, 0.1, 0.3.

    Effect = 0.3 − 0.3/4 = 0.225. With pair sum s, an assignment's effect is (3s − 0.9)/4, as extreme as
    the observed one when s ≥ 0.6 or s ≤ 0: 11 of the 15 pairs, so p = 11/15, and 0 is in the interval.
    """
    sub = {c: f"SA{i + 1}" for i, c in enumerate("ABCDEF")}
    changes = dict(zip("ABCDEF", (0.8, -0.2, 0.5, -0.6, 0.1, 0.3)))
    values = {c: (5.0, 5.0, 5.0 + d) for c, d in changes.items()}
    r = ev.evaluate_indicator(table(values, dict.fromkeys(sub, 1.0)), sub_ambiti(sub=sub), IND)
    assert r["effetto"] == pytest.approx(0.225)
    assert r["p_value"] == pytest.approx(11 / 15)
    assert r["ic_basso"] < 0 < r["ic_alto"]


def test_trends_table_by_hand_and_consistent_with_the_effect() -> None:
    t = ev.pilot_trends(table(), sub_ambiti(), IND)
    got = {(r["anno"], r["gruppo"]): r for r in t.iter_rows(named=True)}
    assert got[(2023, "pilota")]["valore"] == pytest.approx(10.0)
    assert got[(2024, "pilota")]["valore"] == pytest.approx(5800 / 600)  # (1200 + 3000 + 1600) / 600
    assert got[(2025, "pilota")]["valore"] == pytest.approx(8500 / 600)
    assert got[(2024, "altri")]["valore"] == pytest.approx(10700 / 900)
    assert got[(2025, "altri")]["valore"] == pytest.approx(11050 / 900)
    assert [got[(y, "pilota")]["periodo"] for y in (2023, 2024, 2025)] == ["prima", "prima", "dopo"]
    assert got[(2025, "altri")]["n_comuni"] == 5 and got[(2025, "pilota")]["data_avvio"] == date(2025, 1, 1)
    assert got[(2025, "altri")]["unita"] == "%"

    def change(g):
        return got[(2025, g)]["valore"] - (got[(2023, g)]["valore"] + got[(2024, g)]["valore"]) / 2

    assert change("pilota") - change("altri") == pytest.approx(3.0)


def test_mid_year_start_makes_a_transition_year() -> None:
    values = {c: (*v, v[2], v[2]) for c, v in VALUES.items()}  # 2023..2027
    t = table(values, years=(2023, 2024, 2025, 2026, 2027), partial=(2027,))
    r = ev.evaluate_indicator(t, sub_ambiti({"SA1": "2024-09-01", "SA2": "2024-09-01"}), IND)
    assert (r["anni_prima"], r["anni_dopo"]) == ([2023], [2025, 2026])
    assert r["data_avvio"] == "2024-09-01"
    assert any("il 2024 è un anno di transizione" in a for a in r["avvertenze"])
    assert any("2027 non è ancora completo" in a for a in r["avvertenze"])
    assert any("Un solo anno prima" in a for a in r["avvertenze"])
    trend = ev.pilot_trends(t, sub_ambiti({"SA1": "2024-09-01", "SA2": "2024-09-01"}), IND)
    periods = dict(trend.filter(pl.col("gruppo") == "pilota").select("anno", "periodo").iter_rows())
    assert periods == {2023: "prima", 2024: "transizione", 2025: "dopo", 2026: "dopo", 2027: "anno parziale"}


def test_different_start_dates_use_common_windows() -> None:
    values = {c: (*v, v[2]) for c, v in VALUES.items()}  # 2023..2026
    t = table(values, years=(2023, 2024, 2025, 2026))
    r = ev.evaluate_indicator(t, sub_ambiti({"SA1": "2024-09-01", "SA2": "2025-01-01"}), IND)
    assert (r["anni_prima"], r["anni_dopo"]) == ([2023], [2025, 2026])
    assert r["data_avvio"] == "2024-09-01" and r["date_avvio"] == {"SA1": "2024-09-01", "SA2": "2025-01-01"}
    assert any("date diverse (SA1 dal 01/09/2024, SA2 dal 01/01/2025)" in a for a in r["avvertenze"])
    assert r["effetto"] is not None


# --- refusals --------------------------------------------------------------------------------------


def refused(r: dict, words: str) -> None:
    assert r["effetto"] is None and r["ic_basso"] is None and r["p_value"] is None
    assert any(words in a for a in r["avvertenze"]), r["avvertenze"]


def test_refuses_without_pilot() -> None:
    refused(ev.evaluate_indicator(table(), sub_ambiti({}), IND), "Nessun sub-ambito è indicato come pilota")


def test_refuses_pilot_without_start_date() -> None:
    r = ev.evaluate_indicator(table(), sub_ambiti({"SA1": "2025-01-01", "SA2": None}), IND)
    refused(r, "Manca la data di avvio del pilota per SA2")


def test_refuses_with_fewer_than_two_comparison_sub_ambiti() -> None:
    pilots = {f"SA{i}": "2025-01-01" for i in range(1, 6)}
    refused(ev.evaluate_indicator(table(), sub_ambiti(pilots), IND), "Servono almeno due sub-ambiti non pilota")


def test_refuses_without_years_before() -> None:
    r = ev.evaluate_indicator(table(), sub_ambiti({"SA1": "2023-01-01", "SA2": "2023-01-01"}), IND)
    refused(r, "Nessun anno completo prima dell'avvio del pilota (01/01/2023)")


def test_refuses_without_complete_years_after() -> None:
    r = ev.evaluate_indicator(table(partial=(2025,)), sub_ambiti(), IND)
    refused(r, "Nessun anno completo dopo l'avvio del pilota")
    assert any("2025 non è ancora completo" in a for a in r["avvertenze"])
    assert r["anni_prima"] == [2023, 2024] and r["anni_dopo"] == []


def test_refuses_suppressed_cells_in_the_public_table() -> None:
    r = ev.evaluate_indicator(table(hidden=(("G", 2024), ("H", 2024))), sub_ambiti(), IND)
    refused(r, "2 valori comunali degli anni usati (2 comuni) sono nascosti per il segreto statistico")
    trend = ev.pilot_trends(table(hidden=(("G", 2024), ("H", 2024))), sub_ambiti(), IND)
    row = trend.filter((pl.col("anno") == 2024) & (pl.col("gruppo") == "altri")).row(0, named=True)
    assert row["valore"] is None and row["valori_nascosti"] == 2


def _sub_ambito_rows(hidden: tuple[tuple[str, int], ...] = ()) -> pl.DataFrame:
    """The sub-ambito values as published (pooled: weights are steady, so the denominator-weighted mean):
    SA1 10, 10,5, 14,75 (w 400)  SA2 10, 8, 13 (200)  SA3 10, 10,5, 11,75 (200)  SA4 10, 12, 12,5 (400)
    SA5 10, 10, 13 (100)  SA6 10, 14, 12 (200)."""
    values = {
        "SA1": ((10, 10.5, 14.75), 400),
        "SA2": ((10, 8, 13), 200),
        "SA3": ((10, 10.5, 11.75), 200),
        "SA4": ((10, 12, 12.5), 400),
        "SA5": ((10, 10, 13), 100),
        "SA6": ((10, 14, 12), 200),
    }
    rows = []
    for code, (vals, w) in values.items():
        for anno, v in zip((2023, 2024, 2025), vals, strict=True):
            gone = (code, anno) in hidden
            rows.append(
                {
                    "indicatore": IND,
                    "livello": "sub_ambito",
                    "territorio": code,
                    "anno": anno,
                    "numeratore": None if gone else v * w / 100,
                    "denominatore": None if gone else float(w),
                    "valore": None if gone else float(v),
                    "parziale": False,
                    "soppresso": gone,
                    "unita": "%",
                }
            )
    return pl.DataFrame(rows).with_columns(pl.col("anno").cast(pl.Int32))


def test_public_view_estimates_on_the_published_sub_ambito_values() -> None:
    """Comune cells hidden, sub-ambito values published: Δ SA1 14,75 − 10,25 = 4,5 (w 400), SA2 4 (200),
    SA3 1,5 (200), SA4 1,5 (400), SA5 3 (100), SA6 0 (200); pilots (1800 + 800)/600 = 13/3, others
    (300 + 600 + 300 + 0)/900 = 4/3: effect 3, as by comune (steady weights), p = 1/15."""
    public = pl.concat([table(hidden=(("G", 2024), ("H", 2024))), _sub_ambito_rows()])
    r = ev.evaluate_indicator(public, sub_ambiti(), IND)
    assert r["effetto"] == pytest.approx(3.0, abs=1e-12)
    assert r["p_value"] == pytest.approx(1 / 15) and r["n_assegnazioni"] == 15
    assert (r["n_comuni_pilota"], r["n_comuni_altri"]) == (3, 5)  # the comuni of the sub-ambiti used
    assert r["metodo"].startswith("Differenza nelle differenze per sub-ambito (vista pubblica")
    assert ev.by_sub_ambito(r) and not ev.by_sub_ambito(ev.evaluate_indicator(table(), sub_ambiti(), IND))
    assert any(a.startswith("Vista pubblica: 2 valori comunali") for a in r["avvertenze"])
    # the chart's group lines: the same sub-ambito values averaged (2024: pilots (400·10,5 + 200·8)/600 = 29/3)
    trend = ev.pilot_trends(public, sub_ambiti(), IND)
    assert set(trend["media_di"]) == {"sub-ambiti"} and trend["valori_nascosti"].sum() == 0
    pilots_2024 = trend.filter((pl.col("anno") == 2024) & (pl.col("gruppo") == "pilota"))["valore"][0]
    assert pilots_2024 == pytest.approx(29 / 3)
    # placebo 2024 vs 2023 on the sub-ambiti: pilots (400·0,5 − 200·2)/600 = −1/3, others
    # (200·0,5 + 400·2 + 0 + 200·4)/900 = 17/9, as by comune
    assert r["effetto_placebo"] == pytest.approx(-1 / 3 - 17 / 9)


def test_public_view_refuses_when_sub_ambito_values_are_hidden_too() -> None:
    public = pl.concat([table(hidden=(("G", 2024), ("H", 2024))), _sub_ambito_rows(hidden=(("SA5", 2024),))])
    refused(
        ev.evaluate_indicator(public, sub_ambiti(), IND),
        "2 valori comunali degli anni usati (2 comuni) e 1 valore dei sub-ambiti sono nascosti",
    )


def test_refuses_an_indicator_not_computed_by_comune() -> None:
    t = table(levels=("sub_ambito",))
    refused(ev.evaluate_indicator(t, sub_ambiti(), IND), "non è calcolato per comune")
    assert ev.comparable_indicators(t) == []


def test_comune_without_values_is_left_out_and_said() -> None:
    values = {**VALUES, "E": (None, None, 12)}
    r = ev.evaluate_indicator(table(values), sub_ambiti(), IND)
    assert r["n_comuni_altri"] == 4
    assert any("1 comune è escluso" in a for a in r["avvertenze"])
    # others without E: (100·1 + 400·1.5 + 100·3 + 0) / 800 = 1000/800
    assert r["effetto"] == pytest.approx(13 / 3 - 1000 / 800)


def test_no_interval_when_too_few_assignments() -> None:
    """1 pilot among 3 sub-ambiti: 3 assignments, smallest p = 1/3: no 90% interval exists."""
    sub = {"A": "SA1", "B": "SA2", "C": "SA3"}
    values = {"A": (1, 1, 4), "B": (1, 1, 2), "C": (1, 1, 1)}
    t = table(values, dict.fromkeys(sub, 1.0))
    r = ev.evaluate_indicator(t, sub_ambiti({"SA1": "2025-01-01"}, sub=sub), IND)
    assert r["effetto"] == pytest.approx(3 - 0.5)
    assert r["p_value"] == pytest.approx(1 / 3) and r["p_minimo"] == pytest.approx(1 / 3)
    assert r["ic_basso"] is None and r["ic_alto"] is None and r["livello_confidenza"] is None
    assert any("non è determinabile" in a for a in r["avvertenze"])


def test_equal_groups_have_smallest_p_two_over_m() -> None:
    """3 pilots of 6: swapping the groups gives the same |effect|, so p cannot go below 2/20."""
    inf = ev.randomization_inference(np.array([5.0, 6, 7, 0, 1, 0.5]), np.ones(6), np.arange(6), (0, 1, 2))
    assert inf.n_assignments == 20 and inf.p_min == pytest.approx(0.1) and inf.p_value == pytest.approx(0.1)


# --- coverage on simulated no-effect data -------------------------------------------------------------


def test_interval_coverage_on_no_effect_data_is_close_to_its_level() -> None:
    """300 seeded no-effect datasets on the Cremasco shape (6 sub-ambiti of 4-11 comuni, uneven sizes):
    a shock per sub-ambito and year plus noise shrinking with the comune's size; the pilots are 2
    sub-ambiti drawn at random. The interval should cover 0 in 14/15 = 93.3% of them (measured: see
    the assertion; 20,000 datasets gave 93.4%)."""
    rng = np.random.default_rng(2025)
    sizes = [4, 8, 11, 11, 6, 8]
    codes = [f"C{i:02d}" for i in range(sum(sizes))]
    sub = dict(zip(codes, np.repeat([f"SA{i + 1}" for i in range(6)], sizes).tolist()))
    weights = dict(zip(codes, np.round(np.exp(rng.normal(7.5, 1.0, len(codes)))).tolist()))
    cluster = np.array([int(s[2]) - 1 for s in sub.values()])
    w = np.array(list(weights.values()))
    covered = n = 0
    for _ in range(300):
        v = rng.normal(0, 1, (6, 3))[cluster] + rng.normal(0, 1, (len(codes), 3)) / np.sqrt(w / 1000)[:, None]
        pilots = rng.choice(6, 2, replace=False)
        t = table({c: tuple(v[i]) for i, c in enumerate(codes)}, weights)
        r = ev.evaluate_indicator(t, sub_ambiti({f"SA{p + 1}": "2025-01-01" for p in pilots}, sub=sub), IND)
        covered += r["ic_basso"] <= 0 <= r["ic_alto"]
        n += 1
    coverage = covered / n
    print(f"copertura {coverage:.3f} su {n} dati simulati")
    assert abs(coverage - 14 / 15) < 0.04, coverage
