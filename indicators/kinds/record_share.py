"""record_share: the share of the records of the interventions that satisfy a condition (time, outcome)."""

from __future__ import annotations

from etl.schemas import ESITI
from indicators.kinds._compute import on_skeleton, sql_beside, with_ratio
from indicators.kinds._declare import (
    EVENTS,
    Choice,
    Flag,
    Integer,
    Interventi,
    Kind,
    Number,
    evento_line,
    interventi_line,
)

SQL = sql_beside(__file__)


def compute(ctx, entry):
    m = entry.misura
    counts = ctx.run(
        SQL,
        {
            "interventi": list(m["interventi"]),
            "evento": m["evento"],
            "richiede_data_richiesta": bool(m.get("richiede_data_richiesta", False)),
            "giorni_max": m.get("giorni_max"),
            "esito": m.get("esito"),
        },
    )
    return with_ratio(on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0}), entry.moltiplicatore)


KIND = Kind(
    label="quota percentuale di interventi",
    reads="interventi che soddisfano la condizione / interventi",
    params={
        "interventi": Interventi(),
        "evento": Choice(values=EVENTS),
        "richiede_data_richiesta": Flag(),
        "giorni_max": Integer(),
        "esito": Choice(required=False, values=ESITI),
        "moltiplicatore": Number(),
    },
    counts=("numeratore", "denominatore"),
    complement=True,
    compute=compute,
    sentences=(interventi_line, evento_line),
)
