"""hours_per_user: hours of the interventions delivered in the year per distinct person."""

from __future__ import annotations

from indicators.kinds._compute import on_skeleton, sql_beside, with_ratio
from indicators.kinds._declare import Interventi, Kind, interventi_line

SQL = sql_beside(__file__)


def compute(ctx, entry):
    counts = ctx.run(ctx.persons_query(SQL), {"interventi": list(entry.misura["interventi"])})
    return with_ratio(on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0}))


KIND = Kind(
    label="ore per utente",
    reads="ore nell'anno / persone distinte",
    params={"interventi": Interventi()},
    counts=("denominatore",),
    complement=None,
    compute=compute,
    sentences=(interventi_line,),
)
