"""Status against the plan and projection to 2027, on literal numbers.

The target editor's writes are etl's: tests/etl/test_targets.py.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from indicators import targets
from indicators.targets import (
    A_RISCHIO,
    IN_LINEA,
    NON_CALCOLABILE,
    NON_IN_LINEA,
    RAGGIUNTO,
    SENZA_OBIETTIVO,
    plan_fraction,
    projection,
    status,
    t_quantile,
)

F2025 = 365 / 1095  # 31/12/2024 -> 31/12/2025 over 31/12/2024 -> 31/12/2027
F2026 = 730 / 1095


def test_plan_fraction():
    assert plan_fraction(date(2024, 12, 31)) == 0
    assert plan_fraction(date(2025, 12, 31)) == pytest.approx(1 / 3)
    assert plan_fraction(date(2026, 12, 31)) == pytest.approx(2 / 3)
    assert plan_fraction(date(2027, 12, 31)) == 1
    assert plan_fraction(date(2026, 7, 1)) == pytest.approx(547 / 1095)  # 365 + 182 days
    assert plan_fraction(date(2023, 6, 1)) == 0 and plan_fraction(date(2029, 1, 1)) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (17.0, RAGGIUNTO),  # beyond T = 16
        (16.0, RAGGIUNTO),
        (12.0, IN_LINEA),  # E = 10 + 1/3 * 6 = 12
        (13.0, IN_LINEA),
        (11.5, A_RISCHIO),  # 0.5 below E; tolerance = 0.5 * (12 - 10) = 1
        (11.0, A_RISCHIO),  # exactly at the tolerance
        (10.9, NON_IN_LINEA),
        (9.0, NON_IN_LINEA),  # worse than the baseline
        (None, NON_CALCOLABILE),
    ],
)
def test_status_higher_is_better(value, expected):
    assert status(value, 10.0, 16.0, "alto", F2025, "%") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (70.0, RAGGIUNTO),  # T = 70, lower is better
        (65.0, RAGGIUNTO),
        (80.0, IN_LINEA),  # E = 100 + 2/3 * (70 - 100) = 80
        (85.0, A_RISCHIO),  # tolerance = 0.5 * |80 - 100| = 10
        (90.0, A_RISCHIO),
        (91.0, NON_IN_LINEA),
        (float("nan"), NON_CALCOLABILE),
    ],
)
def test_status_lower_is_better(value, expected):
    assert status(value, 100.0, 70.0, "basso", F2026, "giorni") == expected


def test_status_hold_target_and_missing():
    assert status(50.0, 50.0, 50.0, "alto", F2025, "%") == RAGGIUNTO
    assert status(48.0, 50.0, 50.0, "alto", F2025, "%") == A_RISCHIO  # within 5% of 50 = 2.5
    assert status(47.0, 50.0, 50.0, "alto", F2025, "%") == NON_IN_LINEA
    assert status(10.0, None, 16.0, "alto", F2025, "%") == SENZA_OBIETTIVO
    assert status(10.0, 10.0, None, "alto", F2025, "%") == SENZA_OBIETTIVO
    assert status(9.9, 10.0, 16.0, "alto", 0.0, "%") == NON_IN_LINEA  # baseline year: E = B, no tolerance
    assert status(10.0, 10.0, 16.0, "alto", 0.0, "%") == IN_LINEA


# --- equal as published is never worse (issue 11, point 10) ---------------------------------


@pytest.mark.parametrize(
    ("value", "baseline", "target", "direzione", "unita", "expected"),
    [
        (82.49999999999999, 82.5, 90.0, "alto", "%", IN_LINEA),  # typed 82,5; computed value reads 82,5
        (82.46, 82.5, 90.0, "alto", "%", IN_LINEA),  # reads 82,5
        (82.44, 82.5, 90.0, "alto", "%", NON_IN_LINEA),  # reads 82,4: worse than 82,5
        (0.35, 0.3, 5.0, "alto", "%", IN_LINEA),  # 0.35 is 0.34999… in binary: published «0,3», like B
        (0.35, 0.4, 5.0, "alto", "%", NON_IN_LINEA),  # «0,3» < «0,4» (a scaled round would say 0,4)
        (89.96, 82.5, 90.0, "alto", "%", RAGGIUNTO),  # reads 90,0 = T
        (30.4, 30.0, 20.0, "basso", "giorni", IN_LINEA),  # days are published without decimals: 30 = 30
        (30.6, 30.0, 20.0, "basso", "giorni", NON_IN_LINEA),  # 31 > 30
        (1234.4, 1234.0, 1500.0, "alto", "per 1.000 residenti", IN_LINEA),  # 1.000 and more: no decimals
        (16.352752, 16.353, 18.8, "alto", "per 1.000 residenti", IN_LINEA),  # a baseline stored to 3 decimals
    ],
)
def test_a_value_equal_to_the_baseline_as_published_is_never_worse(value, baseline, target, direzione, unita, expected):
    """Baseline year (f = 0): E = B. Equal at the published precision: in line; visibly worse: not."""
    assert status(value, baseline, target, direzione, 0.0, unita) == expected
    ind = _ID_BY_UNIT[unita]
    values = _values([("ambito", "AMBITO", 2024, value, False)]).with_columns(indicatore=pl.lit(ind))
    typed = pl.DataFrame(
        {
            "indicatore": [ind] * 2,
            "territorio": ["AMBITO"] * 2,
            "anno": [2024, 2027],
            "tipo": ["BASELINE", "TARGET"],
            "valore": [baseline, target],
        }
    )
    table = targets.with_targets(values, typed, entries={ind: _entry(unita, direzione)})
    assert table["stato"].to_list() == [expected]


_ID_BY_UNIT = {"%": "x_pct", "giorni": "x_giorni", "per 1.000 residenti": "x_1000"}


def _entry(unita: str, direzione: str):
    import dataclasses

    from indicators.definitions import by_id

    template = by_id()["anziani_sad_copertura_65"]
    return dataclasses.replace(template, id=_ID_BY_UNIT[unita], unita=unita, direzione=direzione)


@pytest.mark.parametrize("stored", ["exact", "published", "3 decimals"])
def test_baselines_computed_from_the_baseline_year_are_in_line_in_that_year(stored):
    """B = the 2024 value (as demo/build.py computes it, or an office exporting its own 2024 values), stored
    exactly, to the published decimals or to 3 decimals; T 15% better. In 2024 every territory whose value
    reads the same as its baseline (`fmt.with_unit`, the screens' formatter) is «in linea»; with 3 decimals a
    few baselines are rounded twice (748,3496 -> 748,350 -> «748,4») and read visibly better than the value."""
    import random

    from indicators import fmt
    from indicators.definitions import by_id

    rng = random.Random(10)
    entries = by_id()
    rows, goals = [], []
    for ind, e in entries.items():
        for t in range(30):
            v = rng.uniform(0, 100) if e.unita.strip() == "%" else rng.uniform(0, 2000)
            rows.append((ind, "x", "sub_ambito", f"T{t}", 2024, None, None, v, False, False))
            sign = 1 if e.direzione == "alto" else -1
            final = min(v * (1 + sign * 0.15), 100.0) if e.unita.strip() == "%" else v * (1 + sign * 0.15)
            b = {"exact": v, "published": round(v, fmt.decimals_for(e.unita, v)), "3 decimals": round(v, 3)}[stored]
            goals += [(ind, f"T{t}", 2024, "BASELINE", b), (ind, f"T{t}", 2027, "TARGET", round(final, 3))]
    values = pl.DataFrame(rows, schema=_values([]).schema, orient="row")
    obiettivi = pl.DataFrame(
        goals,
        schema={
            "indicatore": pl.String,
            "territorio": pl.String,
            "anno": pl.Int32,
            "tipo": pl.String,
            "valore": pl.Float64,
        },
        orient="row",
    )
    out = targets.with_targets(values, obiettivi, as_of=date(2026, 9, 30))
    assert out.height == len(entries) * 30
    reads_the_same = [
        fmt.with_unit(r["valore"], entries[r["indicatore"]].unita)
        == fmt.with_unit(r["baseline"], entries[r["indicatore"]].unita)
        for r in out.iter_rows(named=True)
    ]
    same = out.filter(pl.Series(reads_the_same))
    assert same.height >= 0.98 * out.height
    wrong = same.filter(pl.col("stato") != IN_LINEA)
    assert wrong.height == 0, wrong.select("indicatore", "valore", "baseline", "obiettivo_finale").rows()
    if stored != "3 decimals":
        assert same.height == out.height
    for r in out.sample(200, seed=1).iter_rows(named=True):
        e = entries[r["indicatore"]]
        assert status(r["valore"], r["baseline"], r["obiettivo_finale"], e.direzione, 0.0, e.unita) == r["stato"]


def test_published_digits_expression_equals_the_scalar_and_the_screen():
    """The vectorised rounding gives the digits of `fmt.number` on ties and near-ties, where Polars'
    own round (scale, then round) does not."""
    from indicators import fmt
    from indicators.targets import published_digits, published_digits_expr

    near_ties = [0.35, 0.15, 1.05, 82.45, 82.55, 2.675, 0.25, 12.5, 999.95, 5.55, 0.05]
    values = near_ties + [k / 40 for k in range(4000)] + [k * 0.01 for k in range(10000)]
    frame = pl.DataFrame({"x": values})
    for d in (0, 1, 2):
        got = frame.select(published_digits_expr(pl.col("x"), d))["x"].to_list()
        assert got == [published_digits(x, d) for x in values]
        assert [fmt.number(g / 10**d, d) for g in got] == [fmt.number(x, d) for x in values]
    assert frame.head(1).select(pl.col("x").round(1))["x"][0] == 0.4  # Polars: 0.35 -> 0,4; the screen: 0,3
    assert published_digits(0.35, 1) == 3.0 and fmt.number(0.35, 1) == "0,3"


def test_t_quantile_matches_tables():
    # closed forms: 1 degree of freedom tan(pi (p - 1/2)); 2 degrees (2p - 1) / sqrt(2 p (1 - p))
    for p in (0.9, 0.975, 0.995):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
    with pytest.raises(ValueError, match="0,5 < p < 1"):
        t_quantile(0.4, 3)
    assert t_quantile(0.9, 1) == pytest.approx(3.0777, abs=1e-3)
    assert t_quantile(0.9, 2) == pytest.approx(1.8856, abs=1e-3)
    assert t_quantile(0.9, 10) == pytest.approx(1.3722, abs=1e-3)
    assert t_quantile(0.975, 5) == pytest.approx(2.5706, abs=1e-3)
    assert t_quantile(0.9, 1000) == pytest.approx(1.2824, abs=1e-3)
    from scipy.special import stdtrit  # the closed forms of 1 and 2 degrees of freedom agree with scipy

    for dof in (1, 2):
        for p in (0.55, 0.8, 0.9, 0.95, 0.975, 0.999):
            assert t_quantile.__wrapped__(p, dof) == pytest.approx(float(stdtrit(dof, p)), rel=1e-12)


def test_projection_by_hand():
    # exact line 10, 12, 14 -> 2027: 18, no residual -> interval collapses
    c, lo, hi = projection([2023, 2024, 2025], [10, 12, 14], 2027)
    assert (c, lo, hi) == pytest.approx((18.0, 18.0, 18.0))
    # 10, 13, 13, 16 in 2022..2025: mean x 2023.5, mean y 13, Sxx = 5, Sxy = 9 -> slope 1.8;
    # 2027: 13 + 1.8 * 3.5 = 19.3; residuals -0.3, 0.9, -0.9, 0.3 -> SSR 1.8, s = sqrt(1.8 / 2);
    # half width = t(0.9, 2) * s * sqrt(1 + 1/4 + 3.5^2 / 5)
    c, lo, hi = projection([2022, 2023, 2024, 2025], [10, 13, 13, 16], 2027)
    half = 1.885618 * math.sqrt(0.9) * math.sqrt(1 + 0.25 + 3.5**2 / 5)
    assert c == pytest.approx(19.3)
    assert lo == pytest.approx(19.3 - half, abs=1e-4) and hi == pytest.approx(19.3 + half, abs=1e-4)
    assert projection([2024, 2025], [10, 11], 2027) == (pytest.approx(13.0), None, None)  # 2 points: no interval
    assert projection([2025], [10], 2027) == (None, None, None)
    assert projection([2023, 2024, 2025], [10, 5, 0], 2027)[0] == 0.0  # clamped at 0
    assert projection([2023, 2024, 2025], [90, 95, 99], 2027, upper=100.0)[0] == 100.0


def _values(rows):
    return pl.DataFrame(
        [("anziani_sad_copertura_65", "anziani", lv, t, y, None, None, v, p, False) for lv, t, y, v, p in rows],
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


def test_with_targets_status_and_projection():
    values = _values(
        [
            ("ambito", "AMBITO", 2023, 9.0, False),
            ("ambito", "AMBITO", 2024, 10.0, False),
            ("ambito", "AMBITO", 2025, 12.5, False),
            ("ambito", "AMBITO", 2026, 11.0, True),
            ("comune", "019035", 2025, 3.0, False),
        ]
    )
    obiettivi = pl.DataFrame(
        {
            "indicatore": ["anziani_sad_copertura_65"] * 4,
            "territorio": ["AMBITO"] * 4,
            "anno": [2024, 2025, 2026, 2027],
            "tipo": ["BASELINE", "TARGET", "TARGET", "TARGET"],
            "valore": [10.0, 12.0, 14.0, 16.0],
        }
    )
    out = targets.with_targets(values, obiettivi, as_of=date(2026, 7, 1))
    by_year = {r["anno"]: r for r in out.filter(pl.col("territorio") == "AMBITO").iter_rows(named=True)}
    assert by_year[2023]["stato"] == SENZA_OBIETTIVO  # before the plan
    assert by_year[2024]["stato"] == IN_LINEA  # at the baseline, f = 0
    assert by_year[2025]["stato"] == IN_LINEA  # 12.5 >= E 12
    assert by_year[2025]["obiettivo"] == 12.0 and by_year[2025]["atteso"] == pytest.approx(12.0)
    # year to date on 1/7/2026: f = 547/1095, E = 10 + 6 f = 12.997; tolerance 0.5 (E - 10) = 1.499; 11 < E - 1.499
    assert by_year[2026]["atteso"] == pytest.approx(10 + 6 * 547 / 1095)
    assert by_year[2026]["stato"] == NON_IN_LINEA
    # projection from the complete years 2023-2025 (9, 10, 12.5): slope 3.5 / 2 = 1.75; 10.5 + 1.75 * 3 = 15.75 < 16
    assert by_year[2025]["proiezione_2027"] == pytest.approx(15.75)
    assert by_year[2025]["obiettivo_atteso"] is False
    assert by_year[2025]["proiezione_min"] < 15.75 < by_year[2025]["proiezione_max"]
    assert by_year[2025]["baseline"] == 10.0 and by_year[2025]["obiettivo_finale"] == 16.0
    # a comune with no plan of its own is read on the ambito's path: 3 < E 12 - tolerance 1 -> non in linea
    comune = out.filter(pl.col("territorio") == "019035").row(0, named=True)
    assert comune["stato"] == NON_IN_LINEA and comune["riferimento"] == "ambito"
    assert comune["territorio_riferimento"] == "AMBITO" and comune["obiettivo"] == 12.0 and comune["baseline"] == 10.0
    assert by_year[2025]["riferimento"] == "ambito" and by_year[2023]["riferimento"] is None


def _plan(rows):
    """obiettivi rows (territorio, baseline, final target 2027) for the SAD indicator."""
    out = []
    for terr, b, t in rows:
        out += [
            ("anziani_sad_copertura_65", terr, 2024, "BASELINE", b),
            ("anziani_sad_copertura_65", terr, 2027, "TARGET", t),
        ]
    return pl.DataFrame(
        out,
        schema={
            "indicatore": pl.String,
            "territorio": pl.String,
            "anno": pl.Int32,
            "tipo": pl.String,
            "valore": pl.Float64,
        },
        orient="row",
    )


def test_a_comune_is_judged_by_its_own_plan_then_its_sub_ambito_then_the_ambito():
    # 31/12/2025: f = 1/3. Four comuni in 2025, each at 5.0 (higher is better):
    #   019035 own plan 2 -> 8:    E = 4,    5 >= 4                  -> in linea (comune)
    #   019005 in SA1 (plan 4 -> 10): E = 6, tol 1, 5 >= 5           -> a rischio (sub-ambito)
    #   019002 in SA2 (no plan) -> AMBITO 6 -> 9: E = 7, tol 0.5     -> non in linea (ambito)
    #   019041 own plan incomplete (target only) -> SA2 none -> AMBITO -> non in linea (ambito)
    hierarchy = {"019035": "SA1", "019005": "SA1", "019002": "SA2", "019041": "SA2"}
    values = _values([("comune", c, 2025, 5.0, False) for c in hierarchy] + [("sub_ambito", "SA2", 2025, 5.0, False)])
    plans = pl.concat(
        [
            _plan([("019035", 2.0, 8.0), ("SA1", 4.0, 10.0), ("AMBITO", 6.0, 9.0)]),
            _plan([("019041", 1.0, 2.0)]).filter(pl.col("tipo") == "TARGET"),
        ]
    )
    out = targets.with_targets(values, plans, as_of=date(2025, 12, 31), hierarchy=hierarchy)
    got = {
        r["territorio"]: (r["stato"], r["riferimento"], r["territorio_riferimento"], r["atteso"])
        for r in out.iter_rows(named=True)
    }
    assert got["019035"] == ("in linea", "comune", "019035", pytest.approx(4.0))
    assert got["019005"] == ("a rischio", "sub_ambito", "SA1", pytest.approx(6.0))
    assert got["019002"] == ("non in linea", "ambito", "AMBITO", pytest.approx(7.0))
    assert got["019041"] == ("non in linea", "ambito", "AMBITO", pytest.approx(7.0))
    assert got["SA2"] == ("non in linea", "ambito", "AMBITO", pytest.approx(7.0))  # a sub-ambito without a plan
    # without the ambito's plan either, 019002 has no reference at all
    alone = targets.with_targets(values, _plan([("SA1", 4.0, 10.0)]), as_of=date(2025, 12, 31), hierarchy=hierarchy)
    r = alone.filter(pl.col("territorio") == "019002").row(0, named=True)
    assert r["stato"] == SENZA_OBIETTIVO and r["riferimento"] is None and r["baseline"] is None


def test_a_hidden_baseline_is_not_used_and_the_next_reference_is():
    # 019035 has its own plan 2 -> 8, but its 2024 cell is suppressed for this audience: the baseline 2
    # (the hidden value) must not be shown nor decide the status; SA1's plan 4 -> 10 is used instead.
    hierarchy = {"019035": "SA1"}
    values = _values([("comune", "019035", 2025, 5.0, False)])
    plans = _plan([("019035", 2.0, 8.0), ("SA1", 4.0, 10.0)])
    hidden = pl.DataFrame({"indicatore": ["anziani_sad_copertura_65"], "territorio": ["019035"]})
    out = targets.with_targets(values, plans, as_of=date(2025, 12, 31), hierarchy=hierarchy, hidden_baselines=hidden)
    r = out.row(0, named=True)
    assert (r["riferimento"], r["baseline"], r["stato"]) == ("sub_ambito", 4.0, "a rischio")
    assert (
        targets.with_targets(values, plans, as_of=date(2025, 12, 31), hierarchy=hierarchy).row(0, named=True)[
            "riferimento"
        ]
        == "comune"
    )


def _near_a_published_step(rng, top: float = 120.0) -> float:
    """Mostly plain random numbers; also values on, or a hair or a half-step off, a published step
    (82,5; 82,45 ± 1e-12; 30), and values around 1.000 (published without decimals)."""
    pick = rng.random()
    if pick < 0.5:
        return rng.uniform(0, top)
    if pick < 0.9:
        step = round(rng.uniform(0, top), rng.choice((0, 1)))
        return max(0.0, step + rng.choice((0.0, 1e-12, -1e-12, 0.05, -0.05, 0.5, -0.5, 0.04, 0.06)))
    return rng.uniform(995, 1005)


def test_vectorised_table_follows_the_scalar_rules_row_by_row():
    """with_targets computes status and projection as expressions for speed: it must agree with
    status(), expected_value(), projection() and meets_target() on every row (random table)."""
    import random

    from indicators.definitions import by_id

    rng = random.Random(11)
    entries = by_id()
    ids = ["anziani_sad_copertura_65", "poverta_adi_giorni_attesa", "lavoro_sil_assunzione"]  # %, days (lower), %
    rows, obiettivi = [], []
    for ind in ids:
        for t in range(120):
            terr = f"T{t}"
            for year in range(2021, 2027):
                if rng.random() < 0.15:
                    continue  # a missing year
                v = None if rng.random() < 0.1 else _near_a_published_step(rng)
                rows.append((ind, "x", "comune", terr, year, None, None, v, year == 2026, rng.random() < 0.1))
            if rng.random() < 0.8:
                obiettivi.append((ind, terr, 2024, "BASELINE", _near_a_published_step(rng, 100)))
            for year in (2025, 2026, 2027):
                if rng.random() < 0.8:
                    obiettivi.append((ind, terr, year, "TARGET", _near_a_published_step(rng, 100)))
    values = pl.DataFrame(rows, schema=_values([]).schema, orient="row")
    goals = pl.DataFrame(
        obiettivi,
        schema={
            "indicatore": pl.String,
            "territorio": pl.String,
            "anno": pl.Int32,
            "tipo": pl.String,
            "valore": pl.Float64,
        },
        orient="row",
    )
    as_of = date(2026, 9, 30)
    out = targets.with_targets(values, goals, as_of=as_of)
    assert out.height == values.height
    checked = 0
    for (ind, terr), g in out.group_by(["indicatore", "territorio"]):
        e = entries[ind]
        ok = g.filter(~pl.col("parziale") & pl.col("valore").is_not_null() & ~pl.col("soppresso")).sort("anno")
        expected_proj = targets.projection(
            ok["anno"].to_list(), ok["valore"].to_list(), 2027, upper=100.0 if e.unita.strip() == "%" else None
        )
        for r in g.iter_rows(named=True):
            got = (r["proiezione_2027"], r["proiezione_min"], r["proiezione_max"])
            for a, b in zip(got, expected_proj):
                assert (a is None and b is None) or a == pytest.approx(b, rel=1e-9, abs=1e-9), (ind, terr, got)
            f = targets.plan_fraction(targets.reference_date(r["anno"], as_of))
            stato = (
                SENZA_OBIETTIVO
                if r["anno"] < 2024
                else targets.status(r["valore"], r["baseline"], r["obiettivo_finale"], e.direzione, f, e.unita)
            )
            assert r["stato"] == stato, (ind, terr, r)
            if r["anno"] >= 2024 and r["baseline"] is not None and r["obiettivo_finale"] is not None:
                assert r["atteso"] == pytest.approx(targets.expected_value(r["baseline"], r["obiettivo_finale"], f))
            else:
                assert r["atteso"] is None
            assert r["obiettivo_atteso"] == targets.meets_target(
                r["proiezione_2027"], r["obiettivo_finale"], e.direzione, e.unita
            )
            assert r["obiettivo"] == (r[f"target_{r['anno']}"] if r["anno"] in (2025, 2026, 2027) else None)
            checked += 1
    assert checked == values.height
    assert {r for r in out["stato"]} >= {RAGGIUNTO, IN_LINEA, NON_IN_LINEA, SENZA_OBIETTIVO, NON_CALCOLABILE}
