"""staff_fte_rate: full-time operators every N residents (the query `_staff_fte.sql`, shared with staff_ratio)."""

from __future__ import annotations

from indicators.kinds._compute import with_ratio
from indicators.kinds._declare import Kind, Number, moltiplicatore_line
from indicators.kinds.staff_ratio import PARAMS, staff


def compute(ctx, entry):
    return with_ratio(
        staff(ctx, entry).rename({"fte": "numeratore", "residenti": "denominatore"}), entry.moltiplicatore
    )


KIND = Kind(
    label="operatori a tempo pieno ogni N residenti",
    reads="FTE / residenti (elenchi vuoti = tutti)",
    params={**PARAMS, "moltiplicatore": Number()},
    counts=(),
    complement=None,
    compute=compute,
    sentences=(moltiplicatore_line,),
)
