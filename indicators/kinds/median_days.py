"""median_days: the median of the days from the request to the start of the interventions."""

from __future__ import annotations

import polars as pl

from indicators.kinds._compute import on_skeleton, sql_beside
from indicators.kinds._declare import EVENTS, Choice, Interventi, Kind, evento_line, interventi_line

SQL = sql_beside(__file__)


def compute(ctx, entry):
    m = entry.misura
    counts = ctx.run(SQL, {"interventi": list(m["interventi"]), "evento": m["evento"]})
    df = on_skeleton(ctx, counts, {"denominatore": 0.0})
    return df.with_columns(pl.lit(None, dtype=pl.Float64).alias("numeratore"))


KIND = Kind(
    label="mediana dei giorni di attesa",
    reads="(nullo) / interventi con data della richiesta; valore = mediana dei giorni richiesta → inizio",
    params={"interventi": Interventi(), "evento": Choice(values=EVENTS)},
    counts=("denominatore",),
    complement=None,
    compute=compute,
    sentences=(interventi_line, evento_line),
)
