"""units_ratio: distinct persons or households with some interventions over those with others (both counts are
declared in `units`, so the engine makes them with every other count of distinct units, in one query)."""

from __future__ import annotations

import polars as pl

from indicators.kinds._compute import on_skeleton, with_ratio
from indicators.kinds._declare import (
    COUNT_UNITS,
    EVENTS,
    Choice,
    Group,
    Interventi,
    Kind,
    Number,
    moltiplicatore_line,
    sides_lines,
    unita_line,
)
from indicators.kinds.distinct_units_rate import count_units, measure

SIDE = Group(fields={"interventi": Interventi(), "evento": Choice(values=EVENTS)})
SIDES = {"numeratore": "N", "denominatore": "D"}


def sides(ctx, entry) -> list[dict]:
    """The two counts of distinct units (`distinct_units_rate.measure`): numerator and denominator."""
    m = entry.misura
    return [
        measure(f"{entry.id}:{tag}", {**m[side], "unita_conteggio": m["unita_conteggio"]})
        for side, tag in SIDES.items()
    ]


def compute(ctx, entry):
    keys = ["anno", "livello", "territorio"]
    num, den = (ctx.units(side, count_units) for side in sides(ctx, entry))
    counts = num.rename({"numeratore": "n"}).join(
        den.rename({"numeratore": "d"}), on=keys, how="full", coalesce=True, nulls_equal=True
    )
    counts = counts.select(*keys, pl.col("n").alias("numeratore"), pl.col("d").alias("denominatore"))
    return with_ratio(on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0}), entry.moltiplicatore)


KIND = Kind(
    label="rapporto tra nuclei o persone distinti",
    reads="nuclei o persone distinti / nuclei o persone distinti",
    params={
        "numeratore": SIDE,
        "denominatore": SIDE,
        "unita_conteggio": Choice(values=COUNT_UNITS),
        "moltiplicatore": Number(),
    },
    counts=("numeratore", "denominatore"),
    complement=False,
    compute=compute,
    units=sides,
    sentences=(sides_lines, unita_line, moltiplicatore_line),
)
