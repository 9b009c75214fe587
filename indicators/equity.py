"""Equity across sub-ambiti (issue 13, part 4): how far apart the sub-ambiti are, and whether the gap narrows.

Pure functions on the tidy indicator table (`indicators.api.indicator_table`, sub-ambito and ambito rows)
and the residents of each sub-ambito:

    equity_table(table, residents)     # one row per indicator and year: dispersion and the furthest sub-ambito
    sub_ambito_gaps(table)             # one row per indicator, year and sub-ambito: the gap from the ambito

Definitions (in the indicator's unit):

- `cv`: population-weighted coefficient of variation of the sub-ambiti's values,
  sqrt(Σ p_s (v_s − m)² / Σ p_s) / m with m = Σ p_s v_s / Σ p_s, p_s = residents of the sub-ambito
  (all ages, latest ISTAT year). 0 = every sub-ambito has the same value.
- `rapporto_max_min`: highest value ÷ lowest value (null when the lowest is 0).
- `piu_lontano`: the sub-ambito whose value is furthest from the ambito's value, and `scarto` = its value
  minus the ambito's.
- `tendenza` (per indicator): the cv of the last complete plan year against the cv of the baseline year
  (ambito.toml: `anno_baseline`, `anni_piano`): 'si restringe' when it fell by more than `TOLERANCE`
  (relative), 'si allarga' when it rose by more, 'stabile' otherwise, 'non valutabile' without both.

A year with a hidden (public audience) or missing sub-ambito value has no cv, ratio or furthest
sub-ambito: a dispersion computed on some sub-ambiti only would look smaller than it is.
"""

from __future__ import annotations

import polars as pl

TOLERANCE = 0.10  # relative change of the cv below which the dispersion is called stable
NARROWS, WIDENS, STABLE, UNKNOWN = "si restringe", "si allarga", "stabile", "non valutabile"

SCHEMA = {
    "indicatore": pl.String,
    "anno": pl.Int32,
    "parziale": pl.Boolean,
    "n_sub_ambiti": pl.Int64,
    "sub_ambiti_nascosti": pl.Int64,
    "valore_ambito": pl.Float64,
    "media_ponderata": pl.Float64,
    "cv": pl.Float64,
    "rapporto_max_min": pl.Float64,
    "sub_ambito_min": pl.String,
    "valore_min": pl.Float64,
    "sub_ambito_max": pl.String,
    "valore_max": pl.Float64,
    "piu_lontano": pl.String,
    "scarto_piu_lontano": pl.Float64,
    "anno_baseline": pl.Int32,
    "cv_baseline": pl.Float64,
    "anno_confronto": pl.Int32,
    "cv_confronto": pl.Float64,
    "tendenza": pl.String,
}


def sub_ambito_gaps(table: pl.DataFrame) -> pl.DataFrame:
    """indicatore, anno, parziale, sub_ambito, valore, valore_ambito, scarto (valore − ambito),
    scarto_relativo (scarto ÷ ambito), peggiore (worse than the ambito in the indicator's good direction,
    when the table has `direzione`), rango (1 = furthest from the ambito), soppresso."""
    sub = table.filter(pl.col("livello") == "sub_ambito")
    amb = table.filter(pl.col("livello") == "ambito").select(
        "indicatore", "anno", pl.col("valore").alias("valore_ambito")
    )
    has_dir = "direzione" in table.columns
    out = (
        sub.select(
            "indicatore",
            "anno",
            "parziale",
            pl.col("territorio").alias("sub_ambito"),
            "valore",
            "soppresso",
            *(["direzione"] if has_dir else []),
        )
        .join(amb, on=["indicatore", "anno"], how="left")
        .with_columns((pl.col("valore") - pl.col("valore_ambito")).alias("scarto"))
        .with_columns(
            pl.when(pl.col("valore_ambito") != 0)
            .then(pl.col("scarto") / pl.col("valore_ambito"))
            .alias("scarto_relativo"),
            pl.col("scarto").abs().rank("ordinal", descending=True).over("indicatore", "anno").alias("rango"),
        )
    )
    if has_dir:
        out = out.with_columns(
            pl.when(pl.col("direzione") == "alto")
            .then(pl.col("scarto") < 0)
            .when(pl.col("direzione") == "basso")
            .then(pl.col("scarto") > 0)
            .alias("peggiore")
        ).drop("direzione")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.Boolean).alias("peggiore"))
    return out.select(
        "indicatore",
        "anno",
        "parziale",
        "sub_ambito",
        "valore",
        "valore_ambito",
        "scarto",
        "scarto_relativo",
        "peggiore",
        pl.col("rango").cast(pl.Int64),
        "soppresso",
    ).sort("indicatore", "anno", "rango", maintain_order=True)


def equity_table(
    table: pl.DataFrame,
    residents: pl.DataFrame,
    baseline_year: int | None = None,
    plan_years: tuple[int, ...] | None = None,
) -> pl.DataFrame:
    """One row per indicator and year (columns: `SCHEMA`). `residents`: sub_ambito, residenti."""
    if baseline_year is None or plan_years is None:
        from indicators.targets import plan_years as configured

        b, years = configured()
        baseline_year = b if baseline_year is None else baseline_year
        plan_years = years if plan_years is None else plan_years
    gaps = sub_ambito_gaps(table).join(
        residents.select("sub_ambito", pl.col("residenti").cast(pl.Float64)), on="sub_ambito", how="left"
    )
    complete = pl.col("valore").is_not_null() & pl.col("residenti").is_not_null()
    w, v = pl.col("residenti"), pl.col("valore")
    mean = (w * v).sum() / w.sum()
    rows = (
        gaps.group_by("indicatore", "anno", "parziale")
        .agg(
            pl.len().cast(pl.Int64).alias("n_sub_ambiti"),
            pl.col("soppresso").sum().cast(pl.Int64).alias("sub_ambiti_nascosti"),
            (~complete).any().alias("_incompleto"),
            pl.col("valore_ambito").first(),
            mean.alias("media_ponderata"),
            (((w * (v - mean) ** 2).sum() / w.sum()).sqrt() / mean).alias("cv"),
            v.min().alias("valore_min"),
            pl.col("sub_ambito").sort_by("valore").first().alias("sub_ambito_min"),
            v.max().alias("valore_max"),
            pl.col("sub_ambito").sort_by("valore", descending=True).first().alias("sub_ambito_max"),
            pl.col("sub_ambito").filter(pl.col("rango") == 1).first().alias("piu_lontano"),
            pl.col("scarto").filter(pl.col("rango") == 1).first().alias("scarto_piu_lontano"),
        )
        .with_columns(
            pl.when(pl.col("valore_min") > 0)
            .then(pl.col("valore_max") / pl.col("valore_min"))
            .alias("rapporto_max_min")
        )
    )
    hidden_cols = [
        "media_ponderata",
        "cv",
        "rapporto_max_min",
        "sub_ambito_min",
        "valore_min",
        "sub_ambito_max",
        "valore_max",
        "piu_lontano",
        "scarto_piu_lontano",
    ]
    rows = rows.with_columns(
        [pl.when(pl.col("_incompleto")).then(None).otherwise(pl.col(c)).alias(c) for c in hidden_cols]
    ).with_columns(pl.when(pl.col("media_ponderata") == 0).then(None).otherwise(pl.col("cv")).alias("cv"))
    trend = _trend(rows, baseline_year, plan_years)
    out = rows.join(trend, on="indicatore", how="left").sort("indicatore", "anno")
    order = list(dict.fromkeys(table["indicatore"].to_list()))
    out = out.with_columns(
        pl.col("indicatore").replace_strict({k: i for i, k in enumerate(order)}, return_dtype=pl.Int64).alias("_i")
    ).sort("_i", "anno")
    return out.select(list(SCHEMA)).cast(SCHEMA)


def _trend(rows: pl.DataFrame, baseline_year: int, plan_years: tuple[int, ...]) -> pl.DataFrame:
    """Per indicator: the baseline cv, the cv of the last complete plan year with a cv, and the verdict."""
    out = []
    for ind, grp in rows.group_by("indicatore", maintain_order=True):
        ind = ind[0]
        base = grp.filter((pl.col("anno") == baseline_year) & pl.col("cv").is_not_null())["cv"]
        later = grp.filter(
            pl.col("anno").is_in(list(plan_years)) & ~pl.col("parziale") & pl.col("cv").is_not_null()
        ).sort("anno")
        cv_base = float(base[0]) if len(base) else None
        year = int(later["anno"][-1]) if later.height else None
        cv_last = float(later["cv"][-1]) if later.height else None
        if cv_base is None or cv_last is None:
            verdict = UNKNOWN
        elif cv_base == 0:
            verdict = STABLE if cv_last == 0 else WIDENS
        else:
            change = (cv_last - cv_base) / cv_base
            verdict = NARROWS if change < -TOLERANCE else WIDENS if change > TOLERANCE else STABLE
        out.append(
            {
                "indicatore": ind,
                "anno_baseline": baseline_year,
                "cv_baseline": cv_base,
                "anno_confronto": year,
                "cv_confronto": cv_last,
                "tendenza": verdict,
            }
        )
    schema = {
        "indicatore": pl.String,
        "anno_baseline": pl.Int32,
        "cv_baseline": pl.Float64,
        "anno_confronto": pl.Int32,
        "cv_confronto": pl.Float64,
        "tendenza": pl.String,
    }
    return pl.DataFrame(out, schema=schema)


def sub_ambito_residents(con) -> pl.DataFrame:
    """sub_ambito, residenti (latest ISTAT year in the warehouse)."""
    from core.warehouse import query_pl

    return query_pl(
        con,
        """
        SELECT s.sub_ambito, CAST(sum(p.residenti) AS BIGINT) AS residenti
        FROM popolazione p JOIN sub_ambiti s USING (comune)
        WHERE p.anno = (SELECT max(anno) FROM popolazione)
        GROUP BY s.sub_ambito ORDER BY s.sub_ambito
        """,
    )
