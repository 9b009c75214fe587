"""distinct_units_rate: distinct persons or households with one of the interventions, every N residents."""

from __future__ import annotations

import polars as pl

from indicators.kinds._compute import on_skeleton, population_denominator, sql_beside, with_ratio
from indicators.kinds._declare import (
    COUNT_UNITS,
    EVENTS,
    Choice,
    Group,
    Integer,
    Interventi,
    Kind,
    Number,
    eta_line,
    evento_line,
    interventi_line,
    moltiplicatore_line,
    popolazione_line,
    unita_line,
)

SQL = sql_beside(__file__)
RECORDS_SQL = sql_beside(__file__, "_records_distinct_units_rate")  # a warehouse whose records lack keys


def measure(id_: str, m: dict) -> dict:
    """The parameters of one count of `count_units`, from a catalogue entry's `misura`."""
    return {
        "id": id_,
        "interventi": sorted(m["interventi"]),
        "evento": m["evento"],
        "per_nucleo": m.get("unita_conteggio") == "nucleo",
        "eta_min": m.get("eta_min"),
        "eta_max": m.get("eta_max"),
    }


def count_units(ctx, measures: list[dict]) -> pl.DataFrame:
    """indicatore (the measure's id), anno, livello, territorio, numeratore: the distinct units of every measure
    (`measure(...)`), in one query on the integer keys; by the pseudonyms, one query per measure."""
    if ctx.has_person_keys:
        every = sorted({i for m in measures for i in m["interventi"]})
        indexed = [{"misura": n, **{k: v for k, v in m.items() if k != "id"}} for n, m in enumerate(measures)]
        out = ctx.run(SQL, {"misure": indexed, "interventi": every})
        ids = {n: m["id"] for n, m in enumerate(measures)}
        return out.select(
            pl.col("misura").replace_strict(ids, return_dtype=pl.String).alias("indicatore"),
            "anno",
            "livello",
            "territorio",
            "numeratore",
        )
    return pl.concat(
        [
            ctx.run(RECORDS_SQL, {k: v for k, v in m.items() if k != "id"}).select(
                pl.lit(m["id"]).alias("indicatore"), "anno", "livello", "territorio", "numeratore"
            )
            for m in measures
        ]
    )


def compute(ctx, entry):
    m = entry.misura
    counts = ctx.units(measure(entry.id, m), count_units)
    df = population_denominator(ctx, on_skeleton(ctx, counts, {"numeratore": 0.0}), m.get("popolazione"))
    return with_ratio(df, entry.moltiplicatore)


KIND = Kind(
    label="persone o nuclei distinti ogni N residenti",
    reads="persone o nuclei distinti / residenti della fascia d'età",
    params={
        "interventi": Interventi(),
        "evento": Choice(values=EVENTS),
        "unita_conteggio": Choice(values=COUNT_UNITS),
        "eta_min": Integer(),
        "eta_max": Integer(),
        "popolazione": Group(required=False, fields={"eta_min": Integer(), "eta_max": Integer()}),
        "moltiplicatore": Number(),
    },
    counts=("numeratore",),
    complement=False,
    compute=compute,
    units=lambda ctx, entry: [measure(entry.id, entry.misura)],
    sentences=(interventi_line, evento_line, unita_line, eta_line, popolazione_line, moltiplicatore_line),
)
