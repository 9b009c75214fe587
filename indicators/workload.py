"""The load of the équipes: persons in care per FTE, by sub-ambito and profile, beside the LEPS ratio.

Persons in care are the distinct persons resident in the territory with at least one intervention
(any area) active in the year: the numerator of the catalog indicator `org_persone_per_fte_equipe`,
so the number here, on a page and in a report is the same (and, given a public table, suppressed in
the same cells). FTE are those in service on 31 December (for the year to date, on the date of the
data), any contract, per profile of the équipe; `EQUIPE` is every profile together. Beside them, the
LEPS ratio already shown (`org_residenti_per_as`: residents per FTE of social workers on permanent
contracts; L. 178/2020 at most 5,000, objective 4,000).

`caseload(con)` works on the warehouse and on a dashboard snapshot (which carries the published
indicator values instead of the service records). Nothing is written.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from etl.schemas import PROFILI as PROFILES
from indicators.engine import default_as_of, indicator_values
from indicators.kinds._compute import run

CASES_ID = "org_persone_per_fte_equipe"
LEPS_ID = "org_residenti_per_as"
EQUIPE = "EQUIPE"
LEPS_MAX = 5000.0
LEPS_OBIETTIVO = 4000.0

COLUMNS = (
    "livello",
    "territorio",
    "anno",
    "profilo",
    "persone_in_carico",
    "fte",
    "casi_per_fte",
    "soppresso",
    "residenti_per_as",
    "leps_max",
    "leps_obiettivo",
)


def fte_by_profile(con: duckdb.DuckDBPyConnection, years: list[int], as_of: date) -> pl.DataFrame:
    """livello, territorio, anno, profilo, fte: FTE in service on the reference day of each year, any contract,
    per profile and for the équipe (`EQUIPE`), by sub-ambito and for the ambito."""
    frames = []
    for profilo in (EQUIPE, *PROFILES):
        profili = [] if profilo == EQUIPE else [profilo]
        fte = run(con, "_staff_fte", {"anni": years, "as_of": as_of, "profili": profili, "contratti": []})
        frames.append(fte.with_columns(pl.lit(profilo).alias("profilo")))
    return pl.concat(frames).with_columns(pl.col("anno").cast(pl.Int32), pl.col("fte").cast(pl.Float64))


def caseload(
    con: duckdb.DuckDBPyConnection,
    table: pl.DataFrame | None = None,
    years: list[int] | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Persons in care per FTE by sub-ambito (and ambito), year and profile (columns: COLUMNS).

    `table`: an indicator table already computed (e.g. `indicator_table(con, "pubblico")`): the persons
    and the LEPS ratio are taken from it, suppressed where it is (`soppresso`, null numbers); without it,
    the unsuppressed values are computed. A profile with no FTE has a null ratio; every profile of the
    contract appears for every sub-ambito and year.
    """
    as_of = as_of or default_as_of(con)
    if table is None:
        table = indicator_values(con, years=years, as_of=as_of, indicators=[CASES_ID, LEPS_ID])
    wanted = table.filter(
        pl.col("indicatore").is_in([CASES_ID, LEPS_ID]) & pl.col("livello").is_in(["sub_ambito", "ambito"])
    )
    if years:
        wanted = wanted.filter(pl.col("anno").is_in(sorted(set(years))))
    keys = ["livello", "territorio", "anno"]
    cases = wanted.filter(pl.col("indicatore") == CASES_ID).select(
        *keys, pl.col("numeratore").alias("persone_in_carico"), pl.col("soppresso")
    )
    leps = wanted.filter(pl.col("indicatore") == LEPS_ID).select(*keys, pl.col("valore").alias("residenti_per_as"))
    years_found = sorted(set(cases["anno"].to_list()))
    if not years_found:
        return pl.DataFrame(schema={c: _SCHEMA[c] for c in COLUMNS})
    profiles = pl.DataFrame({"profilo": [EQUIPE, *PROFILES]})
    fte = fte_by_profile(con, years_found, as_of)
    out = (
        cases.join(profiles, how="cross")
        .join(fte, on=[*keys, "profilo"], how="left")
        .join(leps, on=keys, how="left")
        .with_columns(pl.col("fte").fill_null(0.0))
    )
    out = out.with_columns(
        pl.when(pl.col("fte") > 0).then(pl.col("persone_in_carico") / pl.col("fte")).alias("casi_per_fte"),
        pl.lit(LEPS_MAX).alias("leps_max"),
        pl.lit(LEPS_OBIETTIVO).alias("leps_obiettivo"),
    )
    order = {p: i for i, p in enumerate([EQUIPE, *PROFILES])}
    return (
        out.with_columns(
            pl.col("livello").replace_strict({"ambito": 0, "sub_ambito": 1}, return_dtype=pl.Int8).alias("_l"),
            pl.col("profilo").replace_strict(order, return_dtype=pl.Int8).alias("_p"),
        )
        .sort("anno", "_l", "territorio", "_p")
        .select(COLUMNS)
        .cast({c: _SCHEMA[c] for c in COLUMNS})
    )


_SCHEMA = {
    "livello": pl.String,
    "territorio": pl.String,
    "anno": pl.Int32,
    "profilo": pl.String,
    "persone_in_carico": pl.Float64,
    "fte": pl.Float64,
    "casi_per_fte": pl.Float64,
    "soppresso": pl.Boolean,
    "residenti_per_as": pl.Float64,
    "leps_max": pl.Float64,
    "leps_obiettivo": pl.Float64,
}
