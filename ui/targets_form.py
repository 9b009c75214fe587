"""The target editor's rows as a person reads and types them: «Obiettivo» not TARGET, 82,5 not 82.509.

A value whose text was not changed keeps the stored number (full precision): saving a form
never rounds what nobody edited.
"""

from __future__ import annotations

import polars as pl

from indicators import fmt

TIPO_LABELS = {"BASELINE": "Baseline (punto di partenza)", "TARGET": "Obiettivo"}


def _text(value: float | None, unita: str) -> str:
    if value is None:
        return ""
    return fmt.number(value, fmt.decimals_for(unita, value) if value % 1 else 0)


def as_text(rows: pl.DataFrame, unita: str) -> pl.DataFrame:
    """anno, tipo, valore (api.plan_rows) -> Anno, Tipo, Valore as Italian text."""
    return pl.DataFrame(
        {
            "Anno": [str(a) for a in rows["anno"]],
            "Tipo": [TIPO_LABELS.get(t, t) for t in rows["tipo"]],
            "Valore": [_text(v, unita) for v in rows["valore"]],
        }
    )


def from_text(rows: pl.DataFrame, shown: pl.DataFrame, edited: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The edited texts back to (anno, tipo, valore) rows; Italian messages for what is not a number."""
    values, errors = [], []
    for stored, before, after, anno in zip(rows["valore"], shown["Valore"], edited["Valore"], rows["anno"]):
        text = "" if after is None else str(after).strip()
        if text == (before or ""):
            values.append(stored)
            continue
        try:
            values.append(fmt.parse_number(text))
        except ValueError:
            errors.append(f"Anno {anno}: «{text}» non è un numero. Scrivere per esempio 82,5 (virgola decimale).")
            values.append(stored)
    return rows.with_columns(pl.Series("valore", values, dtype=pl.Float64)), errors
