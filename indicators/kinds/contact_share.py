"""contact_share: contacts at a SPOKE over contacts at a sede (HUB or SPOKE), from `_contacts.sql`."""

from __future__ import annotations

import polars as pl

from indicators.kinds._compute import with_ratio
from indicators.kinds._declare import Kind, Number, moltiplicatore_line
from indicators.kinds.contact_rate import contacts


def compute(ctx, entry):
    df = contacts(ctx).select(
        "livello",
        "territorio",
        "anno",
        pl.col("contatti_spoke").alias("numeratore"),
        pl.col("contatti_in_sede").alias("denominatore"),
    )
    return with_ratio(df, entry.moltiplicatore)


def _line(m) -> list[str]:
    return ["- Contatti: presso uno sportello SPOKE su quelli presso una sede (HUB o SPOKE), per comune di residenza"]


KIND = Kind(
    label="quota percentuale di contatti agli sportelli spoke",
    reads="contatti presso uno SPOKE / contatti presso una sede (HUB o SPOKE)",
    params={"moltiplicatore": Number()},
    counts=("numeratore", "denominatore"),
    complement=True,
    compute=compute,
    sentences=(_line, moltiplicatore_line),
)
