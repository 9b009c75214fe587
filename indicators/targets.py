"""Baselines, targets, status and projection of the indicators (the rule is also in indicators/README.md).

Baselines (2024) and targets (2025-2027) come from the `obiettivi` table, per
indicator and territory ('AMBITO', a sub-ambito code or a comune's ISTAT code). This
module only reads them: the target editor writes through `etl/targets.py` (`etl/` is
the one writer).

Every row is judged against one reference plan, named in `riferimento`: the territory's
own plan when it has a baseline and a final target, else (for a comune) its
sub-ambito's, else the ambito's. A comune with no target of its own is thus judged
«rispetto all'obiettivo del sub-ambito» or «rispetto al percorso dell'ambito».
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

import duckdb
import numpy as np
import polars as pl

from core.settings import plan_years
from core.warehouse import query_pl
from indicators import fmt
from indicators.definitions import Indicator, by_id

RAGGIUNTO = "raggiunto"
IN_LINEA = "in linea"
A_RISCHIO = "a rischio"
NON_IN_LINEA = "non in linea"
SENZA_OBIETTIVO = "senza obiettivo"
NON_CALCOLABILE = "non calcolabile"
STATI = (RAGGIUNTO, IN_LINEA, A_RISCHIO, NON_IN_LINEA, SENZA_OBIETTIVO, NON_CALCOLABILE)

RISK_SHARE = 0.5  # "a rischio": behind the expected value by at most half of the progress expected so far
HOLD_SHARE = 0.05  # for a target equal to the baseline (hold the level): 5% of the target
PROJECTION_LEVEL = 0.80  # prediction interval of the projection

TARGET_COLUMNS = (
    "baseline",
    "obiettivo",
    "obiettivo_finale",
    "atteso",
    "stato",
    "proiezione_2027",
    "proiezione_min",
    "proiezione_max",
    "obiettivo_atteso",
    "riferimento",
    "territorio_riferimento",
)

# `riferimento`: whose plan a row is judged against (null: none, the row is "senza obiettivo").
RIF_COMUNE, RIF_SUB_AMBITO, RIF_AMBITO = "comune", "sub_ambito", "ambito"
RIFERIMENTI = (RIF_COMUNE, RIF_SUB_AMBITO, RIF_AMBITO)
RIFERIMENTO_LABELS = {
    RIF_COMUNE: "rispetto all'obiettivo del comune",
    RIF_SUB_AMBITO: "rispetto all'obiettivo del sub-ambito",
    RIF_AMBITO: "rispetto al percorso dell'ambito",
}


# --- the plan ---------------------------------------------------------------------


def final_year() -> int:
    return max(plan_years()[1])


def plan_fraction(when: date, baseline_year: int | None = None, last_year: int | None = None) -> float:
    """Share of the plan elapsed at `when`: 0 on 31/12 of the baseline year, 1 on 31/12 of the last year."""
    b, years = plan_years()
    start = date(baseline_year or b, 12, 31)
    end = date(last_year or max(years), 12, 31)
    return min(max((when - start).days / (end - start).days, 0.0), 1.0)


def reference_date(anno: int, as_of: date | None) -> date:
    """31 December of the year, or `as_of` for the year to date."""
    end = date(anno, 12, 31)
    return as_of if as_of is not None and as_of < end else end


# --- status -----------------------------------------------------------------------


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def expected_value(baseline: float, target: float, fraction: float) -> float:
    """Where the indicator should be when `fraction` of the plan has elapsed (straight line)."""
    return baseline + fraction * (target - baseline)


def published_decimals(unita: str, *values: float | None) -> int:
    """The decimals two numbers are compared at: the coarser with which either is published.

    `fmt.decimals_for` gives the decimals of a published number (0 for counts, days, residents per
    worker and any value of 1.000 or more; 1 otherwise).
    """
    known = [v for v in values if not _missing(v)]
    return min((fmt.decimals_for(unita, v) for v in known), default=fmt.decimals_for(unita))


def published_digits(value: float, decimals: int) -> float:
    """`value` in units of its last published digit: 82.4567 at 1 decimal -> 825.0 («82,5» on the screen).

    Rounded as `fmt.number` rounds (the exact binary value; exact ties to even), so two numbers that
    read the same give the same digits. Comparing digits (whole numbers) instead of rounded floats
    keeps the 0,1 steps exact.
    """
    exact = Decimal(value).scaleb(decimals).to_integral_value(rounding=ROUND_HALF_EVEN)
    return float(exact)


def published_difference(x: float, y: float, unita: str) -> tuple[float, int]:
    """(x - y in published digits, the decimals used): 0 when the two read the same."""
    d = published_decimals(unita, x, y)
    return published_digits(x, d) - published_digits(y, d), d


def status(
    value: float | None,
    baseline: float | None,
    target: float | None,
    direzione: str,
    fraction: float,
    unita: str,
) -> str:
    """The status of a value against the plan.

    With B = baseline (2024), T = final target (2027), f = share of the plan elapsed
    (0 at 31/12/2024, 1 at 31/12/2027; for the year to date, at the date of the data),
    E = B + f * (T - B) the expected value, s = +1 when higher is better (`alto`), -1 otherwise:

    - ``raggiunto``:    s * (v - T) >= 0             (the final target is already met)
    - ``in linea``:     s * (v - E) >= 0             (at or ahead of the straight line B -> T)
    - ``a rischio``:    s * (v - E) >= -tolerance    (behind, by at most the tolerance)
    - ``non in linea``: otherwise
    - ``senza obiettivo`` when B or T is missing; ``non calcolabile`` when the value is missing
      (denominator 0, or a cell suppressed for the audience).

    tolerance = half of the progress expected so far, 0.5 * |E - B|; when the target equals the
    baseline (hold the level), 5% of |T|. So in the baseline year (f = 0) a value worse than the
    baseline is ``non in linea``.

    Each difference (v - T, v - E, T - B) is taken between the two numbers as they are published
    (`unita`: see `published_decimals` and `published_digits`): a value that reads the same as the
    baseline or the target is never judged worse than it, whether B and T were computed (and stored
    rounded) or typed by hand.
    """
    if _missing(baseline) or _missing(target):
        return SENZA_OBIETTIVO
    if _missing(value):
        return NON_CALCOLABILE
    s = 1.0 if direzione == "alto" else -1.0
    if s * published_difference(value, target, unita)[0] >= 0:
        return RAGGIUNTO
    expected = expected_value(baseline, target, fraction)
    behind, d = published_difference(value, expected, unita)
    if s * behind >= 0:
        return IN_LINEA
    holds = published_difference(target, baseline, unita)[0] == 0
    tolerance = HOLD_SHARE * abs(target) if holds else RISK_SHARE * abs(expected - baseline)
    eps = 1e-9 * max(1.0, abs(target), abs(baseline))
    if s * behind >= -(tolerance + eps) * 10.0**d:
        return A_RISCHIO
    return NON_IN_LINEA


# --- projection -------------------------------------------------------------------


@lru_cache(maxsize=64)
def t_quantile(p: float, dof: int) -> float:
    """Quantile of Student's t with `dof` degrees of freedom (0.5 < p < 1).

    With 1 and 2 degrees of freedom (3 or 4 complete years: the usual case in a three-year plan) the
    closed forms (Cauchy: tan(π(p − ½)); dof 2: (2p − 1)/√(2p(1 − p))); otherwise scipy's `stdtrit`, which
    `scipy.stats.t.ppf` calls. scipy.special costs 0,16 s to import: kept off the way to the first page.
    """
    if not 0.5 < p < 1 or dof < 1:
        raise ValueError("t_quantile: serve 0,5 < p < 1 e almeno 1 grado di libertà")
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    from scipy.special import stdtrit  # imported on the first projection with 3 or more degrees of freedom

    return float(stdtrit(dof, p))


def projection(
    years: list[int],
    values: list[float],
    target_year: int | None = None,
    level: float = PROJECTION_LEVEL,
    lower: float | None = 0.0,
    upper: float | None = None,
) -> tuple[float | None, float | None, float | None]:
    """Linear trend of the complete years projected to 31/12 of `target_year`, with a prediction interval.

    Least squares on (year, value); the interval is y0 +- t(1 - (1-level)/2, n-2) * s * sqrt(1 + 1/n +
    (x0 - mean x)^2 / Sxx). With 2 points the line is exact and the interval unknown (None, None);
    with fewer than 2 points nothing is projected. Results are clamped to [lower, upper].
    """
    target_year = target_year or final_year()
    pts = [(float(y), float(v)) for y, v in zip(years, values) if not _missing(v)]
    n = len(pts)
    if n < 2:
        return None, None, None
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx == 0:
        return None, None, None
    slope = float(((x - xm) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * xm)
    central = intercept + slope * target_year

    def clamp(v: float | None) -> float | None:
        if v is None:
            return None
        if lower is not None:
            v = max(v, lower)
        if upper is not None:
            v = min(v, upper)
        return v

    if n < 3:
        return clamp(central), None, None
    resid = y - (intercept + slope * x)
    s = math.sqrt(float((resid**2).sum()) / (n - 2))
    half = t_quantile(1 - (1 - level) / 2, n - 2) * s * math.sqrt(1 + 1 / n + (target_year - xm) ** 2 / sxx)
    return clamp(central), clamp(central - half), clamp(central + half)


def meets_target(value: float | None, target: float | None, direzione: str, unita: str) -> bool | None:
    """Whether `value` is at or beyond the target in the good direction, at the published precision
    (None when either is missing)."""
    if _missing(value) or _missing(target):
        return None
    s = 1.0 if direzione == "alto" else -1.0
    return s * published_difference(value, target, unita)[0] >= 0


# --- the obiettivi table ----------------------------------------------------------


def load_targets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """indicatore, territorio, anno, tipo, valore (the last written row per key)."""
    return query_pl(
        con,
        """
        SELECT indicatore, territorio, anno::INTEGER AS anno, upper(tipo) AS tipo, arg_max(valore, rowid) AS valore
        FROM obiettivi GROUP BY ALL ORDER BY indicatore, territorio, anno, tipo
        """,
    )


def target_table(targets: pl.DataFrame) -> pl.DataFrame:
    """Per indicator and territory: baseline, the target of each plan year and the final target."""
    b_year, years = plan_years()
    last = max(years)
    rows: dict[tuple[str, str], dict] = {}
    for r in targets.iter_rows(named=True):
        d = rows.setdefault((r["indicatore"], r["territorio"]), {"baseline": None, "targets": {}})
        if r["tipo"] == "BASELINE" and r["anno"] == b_year:
            d["baseline"] = r["valore"]
        elif r["tipo"] == "TARGET" and r["anno"] in years:
            d["targets"][r["anno"]] = r["valore"]
    out = []
    for (ind, terr), d in rows.items():
        final = d["targets"].get(last)
        if final is None and d["targets"]:
            final = d["targets"][max(d["targets"])]
        out.append(
            {
                "indicatore": ind,
                "territorio": terr,
                "baseline": d["baseline"],
                "obiettivo_finale": final,
                **{f"obiettivo_{a}": d["targets"].get(a) for a in years},
            }
        )
    schema = {"indicatore": pl.String, "territorio": pl.String, "baseline": pl.Float64, "obiettivo_finale": pl.Float64}
    schema |= {f"obiettivo_{a}": pl.Float64 for a in years}
    return pl.DataFrame(out, schema=schema)


def with_targets(
    values: pl.DataFrame,
    targets: pl.DataFrame,
    as_of: date | None = None,
    entries: dict[str, Indicator] | None = None,
    hierarchy: dict[str, str] | None = None,
    hidden_baselines: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The tidy table with baseline, obiettivo (of the row's year), obiettivo_finale, atteso, stato,
    proiezione_2027, proiezione_min, proiezione_max, obiettivo_atteso, riferimento, territorio_riferimento.

    Each row takes the plan (baseline, targets) of its reference (`reference_plans`): its own when
    complete, else its sub-ambito's (comuni, through `hierarchy`: comune -> sub-ambito), else the
    ambito's. `hidden_baselines` (indicatore, territorio): baselines the audience may not see (the
    territory's baseline-year cell is suppressed); they are dropped before the choice, so a hidden
    baseline is neither shown nor used for a status.

    `values` may be suppressed: suppressed or null values give ``non calcolabile`` and are left out
    of the projection (which uses the complete, published years only).
    """
    entries = entries or by_id()
    b_year, years = plan_years()
    last = max(years)
    tt = target_table(targets)
    if hidden_baselines is not None and hidden_baselines.height:
        hidden = hidden_baselines.select("indicatore", "territorio").unique().with_columns(pl.lit(True).alias("_h"))
        tt = (
            tt.join(hidden, on=["indicatore", "territorio"], how="left")
            .with_columns(
                pl.when(pl.col("_h").fill_null(False)).then(None).otherwise(pl.col("baseline")).alias("baseline")
            )
            .drop("_h")
        )
    df = reference_plans(values, tt, hierarchy)
    df = df.join(_projections(df, entries, last), on=["indicatore", "territorio"], how="left")
    return _with_status(df, entries, as_of, b_year, years)


def reference_plans(values: pl.DataFrame, tt: pl.DataFrame, hierarchy: dict[str, str] | None) -> pl.DataFrame:
    """`values` joined with the plan of each row's reference, plus `riferimento` and `territorio_riferimento`.

    A plan is usable when it has a baseline and a final target (the status needs both). The
    reference is the first usable plan among: the row's own territory; for a comune, its sub-ambito
    (from `hierarchy`); the ambito. With none usable, the row keeps its own (partial) plan and
    `riferimento` is null (status ``senza obiettivo``).
    """
    usable = tt.filter(pl.col("baseline").is_not_null() & pl.col("obiettivo_finale").is_not_null())
    keys = set(zip(usable["indicatore"].to_list(), usable["territorio"].to_list()))
    sub_of = pl.col("territorio").replace_strict(hierarchy or {}, default=None, return_dtype=pl.String)
    sub = pl.when(pl.col("livello") == "comune").then(sub_of).otherwise(None)
    candidates = [pl.col("territorio"), sub, pl.lit("AMBITO")]
    pairs = [pl.concat_str([pl.col("indicatore"), c], separator="\x00") for c in candidates]
    usable_keys = [f"{i}\x00{t}" for i, t in keys]
    ref = pl.coalesce([pl.when(p.is_in(usable_keys)).then(c) for p, c in zip(pairs, candidates)])
    df = values.with_columns(ref.alias("territorio_riferimento"))
    level = (
        pl.when(pl.col("territorio_riferimento").is_null())
        .then(None)
        .when(pl.col("territorio_riferimento") == "AMBITO")
        .then(pl.lit(RIF_AMBITO))
        .when(pl.col("territorio_riferimento") == pl.col("territorio"))
        .then(pl.col("livello"))
        .otherwise(pl.lit(RIF_SUB_AMBITO))
    )
    df = df.with_columns(level.cast(pl.String).alias("riferimento"))
    plan = tt.rename({"territorio": "_plan_territorio"})
    return (
        df.with_columns(pl.coalesce("territorio_riferimento", "territorio").alias("_plan_territorio"))
        .join(plan, on=["indicatore", "_plan_territorio"], how="left", maintain_order="left")
        .drop("_plan_territorio")
    )


def _projections(df: pl.DataFrame, entries: dict[str, Indicator], last: int) -> pl.DataFrame:
    """`projection()` for every indicator and territory at once (complete, published years only).

    The same arithmetic as `projection()`, as Polars expressions: a regional or national table has
    tens of thousands of territories (tests/indicators/test_targets.py compares the two)."""
    x, y = pl.col("anno").cast(pl.Float64), pl.col("valore")
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    slope = ((x - xm) * (y - ym)).sum() / sxx
    intercept = ym - slope * xm
    fits = (
        df.filter(
            ~pl.col("parziale") & pl.col("valore").is_not_null() & ~pl.col("valore").is_nan() & ~pl.col("soppresso")
        )
        .group_by(["indicatore", "territorio"])
        .agg(
            pl.len().alias("n"),
            xm.alias("xm"),
            sxx.alias("sxx"),
            (intercept + slope * last).alias("central"),
            ((y - (intercept + slope * x)) ** 2).sum().alias("sse"),
        )
        .filter((pl.col("n") >= 2) & (pl.col("sxx") > 0))
    )
    dofs = range(1, int(fits["n"].max() or 2) - 1)
    t = (
        pl.col("n")
        .sub(2)
        .replace_strict(
            {d: t_quantile(1 - (1 - PROJECTION_LEVEL) / 2, d) for d in dofs}, default=None, return_dtype=pl.Float64
        )
    )
    half = (
        t
        * (pl.col("sse") / (pl.col("n") - 2)).sqrt()
        * (1 + 1 / pl.col("n") + (last - pl.col("xm")) ** 2 / pl.col("sxx")).sqrt()
    )
    half = pl.when(pl.col("n") >= 3).then(half).otherwise(None)
    percent = [i for i, e in entries.items() if e.unita.strip() == "%"]

    def clamp(v: pl.Expr) -> pl.Expr:
        return pl.when(pl.col("indicatore").is_in(percent)).then(v.clip(0.0, 100.0)).otherwise(v.clip(0.0))

    return fits.select(
        "indicatore",
        "territorio",
        clamp(pl.col("central")).alias("proiezione_2027"),
        clamp(pl.col("central") - half).alias("proiezione_min"),
        clamp(pl.col("central") + half).alias("proiezione_max"),
    )


_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's split of a double into two halves of 26 bits


def published_digits_expr(x: pl.Expr, decimals: int) -> pl.Expr:
    """`published_digits` as an expression (the same float for every value).

    Polars' own `round` scales by 10**decimals first, so a value just below a tie whose scaled
    product lands on the tie (0.35 * 10 -> 3.5) goes to even where `fmt.number` rounds the exact
    value down. Here the rounding error of the product is recovered exactly (Dekker's
    two-product) and decides those ties; exact ties go to even, as in Python.
    """
    if decimals <= 0:
        return x.round(0)
    scale = 10.0**decimals
    ts = scale * _SPLIT
    scale_hi = ts - (ts - scale)
    scale_lo = scale - scale_hi
    product = x * scale
    t = x * _SPLIT
    x_hi = t - (t - x)
    x_lo = x - x_hi
    error = ((x_hi * scale_hi - product) + x_hi * scale_lo + x_lo * scale_hi) + x_lo * scale_lo  # x*scale = p + e
    floor = product.floor()
    tie = (product - floor) == 0.5
    return pl.when(tie & (error > 0)).then(floor + 1.0).when(tie & (error < 0)).then(floor).otherwise(product.round(0))


def _published_decimals_expr(entries: dict[str, Indicator], x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """`published_decimals` per row: the unit's decimals, 0 when either value is 1.000 or more."""
    by_unit = {i: fmt.decimals_for(e.unita) for i, e in entries.items()}
    unit = pl.col("indicatore").replace_strict(by_unit, default=fmt.decimals_for(""), return_dtype=pl.Int32)
    big = (pl.max_horizontal(x.abs(), y.abs()) >= 1000).fill_null(False)
    return pl.when(big).then(pl.lit(0, dtype=pl.Int32)).otherwise(unit)  # fmt.decimals_for: 0 from 1.000 up


def _decimal_choices(entries: dict[str, Indicator]) -> list[int]:
    return sorted({fmt.decimals_for(e.unita) for e in entries.values()} | {0, fmt.decimals_for("")})


def _published_difference_expr(entries: dict[str, Indicator], x: pl.Expr, y: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """`published_difference` per row: (x - y in published digits, the decimals used)."""
    d = _published_decimals_expr(entries, x, y)
    choices = _decimal_choices(entries)
    out = pl.when(d == choices[0]).then(published_digits_expr(x, choices[0]) - published_digits_expr(y, choices[0]))
    for n in choices[1:]:
        out = out.when(d == n).then(published_digits_expr(x, n) - published_digits_expr(y, n))
    return out, d


def _with_status(
    df: pl.DataFrame, entries: dict[str, Indicator], as_of: date | None, b_year: int, years: tuple[int, ...]
) -> pl.DataFrame:
    """`status()`, `expected_value()` and `meets_target()` on every row at once (same rules, as expressions)."""
    last = max(years)
    fractions = {a: plan_fraction(reference_date(a, as_of), b_year, last) for a in df["anno"].unique().to_list()}
    known = pl.col("indicatore").is_in(list(entries))
    sign = pl.col("indicatore").replace_strict(
        {i: 1.0 if e.direzione == "alto" else -1.0 for i, e in entries.items()}, default=1.0, return_dtype=pl.Float64
    )
    f = pl.col("anno").replace_strict(fractions, default=0.0, return_dtype=pl.Float64)
    v, b, tg = (pl.col(c).fill_nan(None) for c in ("valore", "baseline", "obiettivo_finale"))
    expected = b + f * (tg - b)
    # each difference between the two numbers as published (see status())
    beyond_target, _ = _published_difference_expr(entries, v, tg)
    behind, d = _published_difference_expr(entries, v, expected)
    holds = _published_difference_expr(entries, tg, b)[0] == 0
    tolerance = pl.when(holds).then(HOLD_SHARE * tg.abs()).otherwise(RISK_SHARE * (expected - b).abs())
    eps = 1e-9 * pl.max_horizontal(pl.lit(1.0), tg.abs(), b.abs())
    scale = d.replace_strict({n: 10.0**n for n in _decimal_choices(entries)}, return_dtype=pl.Float64)
    stato = (
        pl.when((pl.col("anno") < b_year) | ~known | b.is_null() | tg.is_null())
        .then(pl.lit(SENZA_OBIETTIVO))
        .when(v.is_null())
        .then(pl.lit(NON_CALCOLABILE))
        .when(sign * beyond_target >= 0)
        .then(pl.lit(RAGGIUNTO))
        .when(sign * behind >= 0)
        .then(pl.lit(IN_LINEA))
        .when(sign * behind >= -(tolerance + eps) * scale)
        .then(pl.lit(A_RISCHIO))
        .otherwise(pl.lit(NON_IN_LINEA))
    )
    atteso = pl.when((pl.col("anno") >= b_year) & known).then(expected)
    proj = pl.col("proiezione_2027").fill_nan(None)
    meets = sign * _published_difference_expr(entries, proj, tg)[0] >= 0
    obiettivo = pl.coalesce([pl.when(pl.col("anno") == a).then(pl.col(f"obiettivo_{a}")) for a in years])
    return (
        df.with_columns(
            obiettivo.cast(pl.Float64).alias("obiettivo"),
            atteso.cast(pl.Float64).alias("atteso"),
            stato.cast(pl.String).alias("stato"),
            meets.alias("obiettivo_atteso"),
        )
        .with_columns(  # the reference names the plan a status was measured against: none without a status
            pl.when(pl.col("stato").is_in([SENZA_OBIETTIVO, NON_CALCOLABILE]))
            .then(None)
            .otherwise(pl.col("riferimento"))
            .alias("riferimento")
        )
        .rename({f"obiettivo_{a}": f"target_{a}" for a in years})
    )
