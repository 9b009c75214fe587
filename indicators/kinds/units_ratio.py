"""units_ratio: distinct persons or households with some interventions over those with others."""

from __future__ import annotations

from indicators.kinds._compute import on_skeleton, sql_beside, with_ratio
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

SQL = sql_beside(__file__)
SIDE = Group(fields={"interventi": Interventi(), "evento": Choice(values=EVENTS)})


def compute(ctx, entry):
    m = entry.misura
    counts = ctx.run(
        ctx.persons_query(SQL),
        {
            "num_interventi": list(m["numeratore"]["interventi"]),
            "num_evento": m["numeratore"]["evento"],
            "den_interventi": list(m["denominatore"]["interventi"]),
            "den_evento": m["denominatore"]["evento"],
            "per_nucleo": m["unita_conteggio"] == "nucleo",
        },
    )
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
    sentences=(sides_lines, unita_line, moltiplicatore_line),
)
