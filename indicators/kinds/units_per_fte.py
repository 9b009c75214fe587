"""units_per_fte: persons in care per full-time operator (the persons of `distinct_units_rate.count_units` over the FTE
of `_staff_fte.sql`, by sub-ambito and ambito).

The persons are those resident in the territory with an intervention of `interventi` (absent: any intervention
of data/interventi.csv) active in the year; they do not depend on the profiles, so two indicators of this kind
(the whole équipe, the social workers) publish the same count and it is computed once per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indicators.kinds._compute import on_skeleton, with_ratio
from indicators.kinds._declare import Interventi, Kind, interventi_line
from indicators.kinds.distinct_units_rate import count_units, measure
from indicators.kinds.staff_ratio import PARAMS, staff


def interventi_codes(ctx, misura: Mapping[str, Any]) -> list[str]:
    """The interventions whose persons count: `interventi`, else every code of the interventi table."""
    if misura.get("interventi"):
        return sorted(misura["interventi"])
    return sorted(r[0] for r in ctx.con.execute("SELECT intervento FROM interventi").fetchall())


def persons_in_care(ctx, entry) -> dict:
    """The count of distinct persons this entry reads (`distinct_units_rate.measure`): equal for every entry
    with the same interventions, so counted once per table."""
    codes = interventi_codes(ctx, entry.misura)
    return measure("persone_in_carico:" + ",".join(codes), {"interventi": codes, "evento": "attivo"})


def compute(ctx, entry):
    counts = on_skeleton(ctx, ctx.units(persons_in_care(ctx, entry), count_units), {"numeratore": 0.0})
    df = staff(ctx, entry).drop("residenti").rename({"fte": "denominatore"})
    return with_ratio(
        df.join(counts.drop("denominatore", strict=False), on=["livello", "territorio", "anno"], how="left")
    )


def _profili_line(m: Mapping[str, Any]) -> list[str]:
    profili = ", ".join(m.get("profili") or []) or "tutti i profili"
    contratti = ", ".join(m.get("contratti") or []) or "tutti i contratti"
    return [f"- Operatori: {profili} ({contratti}), FTE in servizio il 31 dicembre"]


def _persone_line(m: Mapping[str, Any]) -> list[str]:
    if m.get("interventi"):
        return interventi_line(m)
    return ["- Persone: residenti con almeno un intervento di qualsiasi tipo attivo nell'anno"]


KIND = Kind(
    label="persone in carico per operatore a tempo pieno",
    reads="persone distinte con un intervento attivo nell'anno / FTE al 31/12 (elenchi vuoti = tutti)",
    params={**PARAMS, "interventi": Interventi(required=False)},
    counts=("numeratore",),
    complement=None,
    compute=compute,
    units=lambda ctx, entry: [persons_in_care(ctx, entry)],
    sentences=(_persone_line, _profili_line),
)
