"""What may be kept of text a user typed: no person identifier, bounded length.

Any text that reaches the warehouse or an export from outside (a rejected
value, a rejected row, a file name, an error message, an audit entry, a free
text column) goes through `safe_text` / `masked_series`. Whatever column it
arrives in, anything shaped like a person identifier is masked (the first 3
characters are kept, the rest become `*`):

* the codice fiscale (16 characters, omocodia letters included; upper or lower
  case; single spaces or tabs between characters, as people type it);
* the 11-digit provisional codice fiscale (any run of exactly 11 digits);
* the STP and ENI codes of the health service (`STP`/`ENI` and 13 digits).

`IDENTIFIER_ANYWHERE` (Python `re`) masks; `IDENTIFIER_CONTAINS` is the same
shapes for Polars' (Rust) regex, for vectorised tests (`str.contains`) on
large columns. `is_provisional_cf` tells an 11-digit code with a valid check
digit (what the loader would accept as a provisional codice fiscale).
"""

from __future__ import annotations

import re

import polars as pl

# Longest text kept of one rejected value (and of each field of a rejected row, error messages).
MAX_KEPT_CHARS = 300
TRUNCATED = "… [troncato: {n} caratteri]"

_GAP = "[ \t]?"  # people write a codice fiscale in groups: "RSSMRA 85T10 D142X"
_L = "[A-Za-z]"
_D = "[0-9LMNPQRSTUVlmnpqrstuv]"  # a digit, or its omocodia letter
_CF_SHAPE = [_L] * 6 + [_D] * 2 + [_L] + [_D] * 2 + [_L] + [_D] * 3 + [_L]
CF_SHAPE = _GAP.join(_CF_SHAPE)
STP_ENI_SHAPE = "(?:[Ss][Tt][Pp]|[Ee][Nn][Ii])" + _GAP + _GAP.join(["[0-9]"] * 13)
DIGITS11_SHAPE = _GAP.join(["[0-9]"] * 11)

IDENTIFIER_ANYWHERE = re.compile(f"{STP_ENI_SHAPE}|{CF_SHAPE}|(?<![0-9]){DIGITS11_SHAPE}(?![0-9])")
# For Polars (no look-around): the 11 digits bounded by a non-digit or the ends of the text.
IDENTIFIER_CONTAINS = f"{STP_ENI_SHAPE}|{CF_SHAPE}|(?:^|[^0-9]){DIGITS11_SHAPE}(?:[^0-9]|$)"
# The codes that identify a person whatever surrounds them (an id containing one is refused).
PERSON_CODE_CONTAINS = f"{STP_ENI_SHAPE}|{CF_SHAPE}"


def _mask_match(m: re.Match) -> str:
    text = m.group(0)
    return text[:3] + "*" * (len(text) - 3)


def mask_identifiers(text: str | None) -> str | None:
    """`text` with every identifier-shaped part masked (None stays None)."""
    if text is None:
        return None
    return IDENTIFIER_ANYWHERE.sub(_mask_match, str(text))


def clip(text: str | None, limit: int = MAX_KEPT_CHARS) -> str | None:
    """At most `limit` characters, saying how long the text was when it is cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + TRUNCATED.format(n=f"{len(text):,}".replace(",", "."))


def safe_text(text: object, limit: int | None = MAX_KEPT_CHARS) -> str | None:
    """What may be stored or exported of a text typed by someone: identifiers masked, length bounded."""
    if text is None:
        return None
    masked = mask_identifiers(str(text))
    return masked if limit is None else clip(masked, limit)


def masked_series(s: pl.Series, limit: int | None = MAX_KEPT_CHARS) -> pl.Series:
    """`safe_text` on every value of a text column; each distinct value handled once."""
    values = s.cast(pl.String).to_list()
    distinct = set(values)
    if len(distinct) * 2 > len(values):
        return pl.Series(s.name, [safe_text(x, limit) for x in values], dtype=pl.String)
    mapping = {x: safe_text(x, limit) for x in distinct}
    return pl.Series(s.name, [mapping[x] for x in values], dtype=pl.String)


def masked_expr(expr: pl.Expr, limit: int | None = MAX_KEPT_CHARS) -> pl.Expr:
    """`masked_series` as an expression."""
    return expr.map_batches(lambda s: masked_series(s, limit), return_dtype=pl.String)


def identifiers_in(text: str | None) -> list[str]:
    """The identifiers in `text` (an 11-digit run only when its check digit is valid): for checks and tests."""
    found = []
    for m in IDENTIFIER_ANYWHERE.finditer(text or ""):
        code = m.group(0)
        if code[0].isdigit() and not is_provisional_cf(code):
            continue
        found.append(code)
    return found


def is_provisional_cf(text: str | None) -> bool:
    """11 digits (spaces ignored) whose last is the check digit of the provisional codice fiscale."""
    digits = re.sub(r"\s+", "", text or "")
    if not re.fullmatch(r"[0-9]{11}", digits):
        return False
    return int(digits[10]) == _check_digit(digits[:10])


def _check_digit(first10: str) -> int:
    total = 0
    for i, ch in enumerate(first10):
        d = int(ch)
        if i % 2 == 1:  # 2nd, 4th, ... digit: doubled, minus 9 above 9
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10


def provisional_cf_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised `is_provisional_cf` (True where the text is exactly an 11-digit provisional code)."""
    return expr.map_batches(_provisional_series, return_dtype=pl.Boolean)


def _provisional_series(s: pl.Series) -> pl.Series:
    """The check digit is computed only on the values made of 11 digits (a cheap test on every value)."""
    s = s.cast(pl.String)
    candidates = s.str.contains(r"^\s*(?:[0-9]\s?){10}[0-9]\s*$").fill_null(False)
    out = pl.Series(s.name, [False] * len(s), dtype=pl.Boolean)
    rows = candidates.arg_true()
    if len(rows) == 0:
        return out
    digits = pl.DataFrame({"d": s.gather(rows).str.replace_all(r"\s+", "")})
    total = pl.lit(0, dtype=pl.Int32)
    for i in range(10):
        d = pl.col("d").str.slice(i, 1).cast(pl.Int32)
        if i % 2 == 1:  # 2nd, 4th, ... digit: doubled, minus 9 above 9
            d = pl.when(d * 2 > 9).then(d * 2 - 9).otherwise(d * 2)
        total = total + d
    valid = digits.select(pl.col("d").str.slice(10, 1).cast(pl.Int32) == (10 - total % 10) % 10).to_series()
    return out.scatter(rows, valid)
