"""Italian formats for numbers and dates: 1.234,5 and 31/12/2025.

One place, used by the dashboard, the reports and the exports.
"""

from __future__ import annotations

import math
from datetime import date, datetime

SUPPRESSED = "n.p."  # "non pubblicabile": a suppressed cell, never shown as 0
SUPPRESSED_HELP = "n.p. = dato non pubblicabile: riguarda meno persone della soglia di riservatezza"


def number(value: float | int | None, decimals: int = 0, suppressed: bool = False) -> str:
    """1234.5 -> '1.234,5'; None -> '–'; suppressed -> 'n.p.'."""
    if suppressed:
        return SUPPRESSED
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def parse_number(text: str | None) -> float | None:
    """What a person types, Italian style: '82,5' -> 82.5, '1.234,5' -> 1234.5, '' -> None.

    Without a comma, a dot is the decimal mark ('82.5') unless it groups thousands ('1.234').
    ValueError when the text is not a number."""
    import re

    t = (text or "").strip().replace(" ", "").replace("\u00a0", "").rstrip("%")
    if not t:
        return None
    if "," in t:
        t = t.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", t):
        t = t.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t):
        raise ValueError(text)
    return float(t)


# Staff profiles and contracts (operatori): their codes, as a person reads them.
PROFILE_LABELS = {
    "ASSISTENTE_SOCIALE": "Assistenti sociali",
    "EDUCATORE": "Educatori",
    "PSICOLOGO": "Psicologi",
    "AMMINISTRATIVO": "Amministrativi",
    "ALTRO": "Altro",
}
CONTRACT_LABELS = {"INDETERMINATO": "tempo indeterminato", "DETERMINATO": "tempo determinato", "ALTRO": "altro"}
LEVEL_LABELS = {"ambito": "Ambito", "sub_ambito": "Sub-ambito", "comune": "Comune"}


def with_unit(value: float | None, unita: str, suppressed: bool = False) -> str:
    """A value with its unit, decimals chosen by the unit."""
    if suppressed:
        return SUPPRESSED
    if value is None:
        return "–"
    decimals = decimals_for(unita, value)
    if unita.strip() == "%":
        return f"{number(value, decimals)}%"
    return f"{number(value, decimals)} {unita}".strip()


def decimals_for(unita: str, value: float | None = None) -> int:
    u = unita.lower()
    if u.startswith(("residenti", "n")) or u in ("giorni", "persone", "nuclei", "euro", "€"):
        return 0
    if value is not None and abs(value) >= 1000:
        return 0
    return 1


def day(value: date | datetime | None) -> str:
    """date -> '31/12/2025'."""
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    if value is None:
        return "–"
    return value.strftime("%d/%m/%Y %H:%M")


def duration(seconds: float) -> str:
    """A length of time in words, the largest unit that is whole or large enough: «8 ore», «1 ora»,
    «1,5 ore», «30 minuti», «20 secondi»."""
    for size, one, many in ((3600, "ora", "ore"), (60, "minuto", "minuti"), (1, "secondo", "secondi")):
        if seconds >= size or size == 1:
            value = seconds / size
            decimals = 0 if abs(value - round(value)) < 1e-9 else 1
            text = number(value, decimals)
            return f"{text} {one if text == '1' else many}"
    raise AssertionError("unreachable")


def d3_format(decimals: int) -> str:
    """Plotly/d3 format for hover and axes (with the Italian separators set on the figure)."""
    return f",.{decimals}f"


ITALIAN_SEPARATORS = ",."  # plotly layout.separators: decimal ',' then thousands '.'


def italian_frame(df, decimals: dict[str, int] | None = None, suppressed_col: str | None = "soppresso"):
    """A Polars frame as Italian text: numbers 1.234,5, dates 31/12/2025, booleans sì/no.

    Rows flagged in `suppressed_col` show n.p. in their numeric cells. Column
    names lose underscores. The rows keep their order (sort before calling).
    """
    import polars as pl

    decimals = decimals or {}
    hidden = df[suppressed_col].fill_null(False).to_list() if suppressed_col in df.columns else [False] * df.height
    out = {}
    for name in df.columns:
        if name == suppressed_col:
            continue
        s = df[name]
        if s.dtype.is_integer():
            values = [number(v, decimals.get(name, 0), h and v is not None) for v, h in zip(s.to_list(), hidden)]
        elif s.dtype.is_float():
            values = [number(v, decimals.get(name, 1), h) for v, h in zip(s.to_list(), hidden)]
        elif s.dtype == pl.Date:
            values = [day(v) if v else "" for v in s.to_list()]
        elif s.dtype == pl.Datetime:
            values = [moment(v) if v else "" for v in s.to_list()]
        elif s.dtype == pl.Boolean:
            values = ["sì" if v else ("no" if v is not None else "") for v in s.to_list()]
        else:
            values = ["" if v is None else str(v) for v in s.to_list()]
        out[name.replace("_", " ")] = values
    return pl.DataFrame(out, schema={k: pl.String for k in out})
