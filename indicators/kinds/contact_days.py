"""contact_days: the median days from a person's first contact to the start of their first intervention
(`_contacts.sql`); denominatore = the persons counted, numeratore none."""

from __future__ import annotations

import polars as pl

from indicators.kinds._declare import Kind
from indicators.kinds.contact_rate import contacts


def compute(ctx, entry):
    return contacts(ctx).select(
        "livello",
        "territorio",
        "anno",
        pl.lit(None, dtype=pl.Float64).alias("numeratore"),
        pl.col("persone_giorni").alias("denominatore"),
        pl.col("giorni_mediana").alias("valore"),
    )


def _line(m) -> list[str]:
    return [
        "- Persone: con il primo contatto nell'anno (codice fiscale indicato), nessun intervento iniziato prima "
        "e un intervento iniziato dopo; anno e comune del primo contatto"
    ]


KIND = Kind(
    label="mediana dei giorni dal primo contatto al primo intervento",
    reads="(nullo) / persone con il primo contatto nell'anno e un intervento iniziato dopo, senza interventi "
    "precedenti; valore = mediana dei giorni",
    params={},
    counts=("denominatore",),
    complement=None,
    compute=compute,
    sentences=(_line,),
)
