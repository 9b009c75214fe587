"""contact_rate: contacts at the access points (`accessi`) in the year per N residents, by comune of residence.

The three contact kinds read one query, `_contacts.sql`, run once per table (`contacts`). A year without any
contact recorded in the whole ambito has no value (the register was not kept yet), not 0.
"""

from __future__ import annotations

import polars as pl

from core.warehouse import has_table
from indicators.kinds._compute import on_skeleton, population_denominator, sql_beside, with_ratio
from indicators.kinds._declare import Kind, Number, moltiplicatore_line

SQL = sql_beside(__file__, "_contacts")
COUNTS = ("contatti", "contatti_in_sede", "contatti_spoke", "persone_giorni")


def contacts(ctx) -> pl.DataFrame:
    """The counts of `_contacts.sql` on every territory and year (no accessi table: nothing counted)."""
    fill = dict.fromkeys(COUNTS, 0.0)

    def counts() -> pl.DataFrame:
        if has_table(ctx.con, "accessi"):
            return on_skeleton(ctx, ctx.run(SQL, {}), fill)
        schema = {"anno": pl.Int32, "livello": pl.String, "territorio": pl.String, "giorni_mediana": pl.Float64}
        return on_skeleton(ctx, pl.DataFrame(schema={**schema, **dict.fromkeys(COUNTS, pl.Float64)}), fill)

    return ctx.shared("contatti", counts)


def compute(ctx, entry):
    df = population_denominator(
        ctx, contacts(ctx).select("livello", "territorio", "anno", pl.col("contatti").alias("numeratore")), None
    )
    recorded = df.filter((pl.col("livello") == "ambito") & (pl.col("numeratore") > 0))["anno"].implode()
    df = df.with_columns(pl.when(pl.col("anno").is_in(recorded)).then(pl.col("numeratore")).alias("numeratore"))
    return with_ratio(df, entry.moltiplicatore)


def _line(m) -> list[str]:
    return ["- Contatti: registro degli accessi a hub e spoke, per comune di residenza di chi si è rivolto"]


KIND = Kind(
    label="contatti ai punti di accesso ogni N residenti",
    reads="contatti (`accessi`) nell'anno per comune di residenza / residenti; anno senza contatti nell'ambito = "
    "nessun valore",
    params={"moltiplicatore": Number()},
    counts=("numeratore",),
    complement=None,
    compute=compute,
    sentences=(_line, moltiplicatore_line),
)
