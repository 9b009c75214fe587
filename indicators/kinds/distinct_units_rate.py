"""distinct_units_rate: distinct persons or households with one of the interventions, every N residents."""

from __future__ import annotations

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


def compute(ctx, entry):
    m = entry.misura
    counts = ctx.run(
        ctx.persons_query(SQL),
        {
            "interventi": list(m["interventi"]),
            "evento": m["evento"],
            "per_nucleo": m["unita_conteggio"] == "nucleo",
            "eta_min": m.get("eta_min"),
            "eta_max": m.get("eta_max"),
        },
    )
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
    sentences=(interventi_line, evento_line, unita_line, eta_line, popolazione_line, moltiplicatore_line),
)
