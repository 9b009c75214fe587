"""coverage_share: the share of residents living in a comune with a sede of the given types."""

from __future__ import annotations

import polars as pl

from etl.schemas import SEDI
from indicators.kinds._compute import on_skeleton, run, sql_beside, with_ratio
from indicators.kinds._declare import Codes, Kind, Number, moltiplicatore_line

SQL = sql_beside(__file__)


def compute(ctx, entry):
    cov = run(ctx.con, SQL, {"tipi_sede": list(entry.misura["tipi_sede"])})  # no year: no anni, no as_of
    years = pl.DataFrame({"anno": ctx.years}, schema={"anno": pl.Int32})
    df = on_skeleton(ctx, cov.join(years, how="cross"), {"numeratore": 0.0, "denominatore": 0.0})
    return with_ratio(df, entry.moltiplicatore)


KIND = Kind(
    label="quota di residenti coperti",
    reads="residenti dei comuni con una sede / residenti",
    params={"tipi_sede": Codes(values=SEDI.column("tipo").values), "moltiplicatore": Number()},
    counts=(),
    complement=None,
    compute=compute,
    sentences=(moltiplicatore_line,),
)
