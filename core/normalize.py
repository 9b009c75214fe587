"""Normalisation of what users type: headers, comune names, dates, decimals.

Scalar helpers for small lookups (headers, the 48 names) and Polars
expressions for the columns themselves.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def header_key(name: str) -> str:
    """'Data Inizio', 'data_inizio', 'DATA-INIZIO', 'dàta inizio' -> 'datainizio'."""
    name = name.replace("\ufeff", "")
    return re.sub(r"[^a-z0-9]", "", strip_accents(name).lower())


def comune_key(name: str) -> str:
    """'RIVOLTA D'ADDA', 'Rivolta d’Adda', 'Credera-Rubbiano' -> a comparable key."""
    return re.sub(r"[^a-z0-9]", "", strip_accents(str(name)).lower())


def comune_key_expr(expr: pl.Expr) -> pl.Expr:
    """The same key as `comune_key`, vectorised (accents folded by a table)."""
    folded = expr.str.to_lowercase()
    for src, dst in _ACCENT_FOLD.items():
        folded = folded.str.replace_all(src, dst, literal=True)
    return folded.str.replace_all(r"[^a-z0-9]", "")


_ACCENT_FOLD = {
    "à": "a",
    "á": "a",
    "â": "a",
    "ä": "a",
    "è": "e",
    "é": "e",
    "ê": "e",
    "ë": "e",
    "ì": "i",
    "í": "i",
    "î": "i",
    "ï": "i",
    "ò": "o",
    "ó": "o",
    "ô": "o",
    "ö": "o",
    "ù": "u",
    "ú": "u",
    "û": "u",
    "ü": "u",
    "ç": "c",
    "ñ": "n",
}


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trim; empty strings become null."""
    trimmed = expr.str.strip_chars()
    return pl.when(trimmed == "").then(None).otherwise(trimmed)


def parse_date_expr(expr: pl.Expr) -> pl.Expr:
    """'2025-03-01', '01/03/2025', '1/3/2025', '2025-03-01 00:00:00' -> Date.

    Impossible dates (31/02/2025) give null; the validator reports them.
    """
    s = expr.str.strip_chars()
    iso = s.str.extract_groups(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
    ita = s.str.extract_groups(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
    year = pl.coalesce(iso.struct.field("1"), ita.struct.field("3")).cast(pl.Int32, strict=False)
    month = pl.coalesce(iso.struct.field("2"), ita.struct.field("2")).cast(pl.Int32, strict=False)
    day = pl.coalesce(iso.struct.field("3"), ita.struct.field("1")).cast(pl.Int32, strict=False)
    valid = (
        year.is_between(1900, 2100)
        & month.is_between(1, 12)
        & (day >= 1)
        & (day <= pl.date(year.clip(1900, 2100), month.clip(1, 12), 1).dt.month_end().dt.day())
    )
    return pl.when(valid).then(pl.date(year, month, day)).otherwise(None)


def parse_decimal_expr(expr: pl.Expr) -> pl.Expr:
    """'1234.5', '1.234,5', '1234,5', '1,234.5', '€ 12' -> Float64 (null if not a number)."""
    s = expr.str.strip_chars().str.replace_all(r"[€\s]", "")
    has_comma = s.str.contains(",", literal=True)
    has_dot = s.str.contains(".", literal=True)
    last_comma = s.str.find(",", literal=True).fill_null(-1)
    # Position of the last dot: search the reversed string.
    last_dot_rev = s.str.reverse().str.find(".", literal=True)
    last_dot = pl.when(last_dot_rev.is_null()).then(-1).otherwise(s.str.len_chars() - 1 - last_dot_rev)
    comma_decimal = has_comma & (~has_dot | (last_comma > last_dot))
    normalised = (
        pl.when(comma_decimal)
        .then(s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .otherwise(s.str.replace_all(",", "", literal=True))
    )
    ok = normalised.str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)$")
    return pl.when(ok).then(normalised.cast(pl.Float64, strict=False)).otherwise(None)


def parse_bool_expr(expr: pl.Expr) -> pl.Expr:
    s = expr.str.strip_chars().str.to_lowercase()
    return (
        pl.when(s.is_in(["true", "1", "si", "sì", "s", "yes", "y", "vero", "x"]))
        .then(True)
        .when(s.is_in(["false", "0", "no", "n", "falso", ""]))
        .then(False)
        .otherwise(None)
    )
