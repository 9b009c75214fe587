"""staff_ratio: residents per full-time operator (the query `_staff_fte.sql`, shared with staff_fte_rate)."""

from __future__ import annotations

from etl.schemas import CONTRATTI, PROFILI
from indicators.kinds._compute import on_skeleton, sql_beside, with_ratio
from indicators.kinds._declare import Codes, Kind

SQL = sql_beside(__file__, "_staff_fte")
PARAMS = {"profili": Codes(values=PROFILI, empty_ok=True), "contratti": Codes(values=CONTRATTI, empty_ok=True)}


def staff(ctx, entry):
    """FTE and residents per sub-ambito and ambito (the frame both staff kinds start from)."""
    profili, contratti = sorted(entry.misura["profili"]), sorted(entry.misura["contratti"])

    def fte():  # once per table for the same profiles and contracts (several indicators ask for the same FTE)
        return on_skeleton(ctx, ctx.run(SQL, {"profili": profili, "contratti": contratti}), {"fte": 0.0})

    df = ctx.shared(f"fte:{','.join(profili)}|{','.join(contratti)}", fte)
    return df.join(ctx.population(), on=["livello", "territorio"], how="left")


def compute(ctx, entry):
    return with_ratio(staff(ctx, entry).rename({"residenti": "numeratore", "fte": "denominatore"}))


KIND = Kind(
    label="residenti per operatore a tempo pieno",
    reads="residenti / FTE",
    params=PARAMS,
    counts=(),
    complement=None,
    compute=compute,
)
