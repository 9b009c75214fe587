"""Every CSV the product writes goes through `write_csv`: safe to open in a spreadsheet.

A text cell beginning with `=`, `+`, `-`, `@`, a tab, a carriage return or a
line feed (after any leading spaces) is a formula to Excel and LibreOffice,
which run it on opening (`=HYPERLINK(...)`, `=cmd|...`, DDE). Such cells get a
leading apostrophe, the usual neutralisation (OWASP, "CSV injection"): the
spreadsheet shows the text as written. Numbers stay numbers: numeric columns
are never touched, and a text cell that is a plain number (`-3`, `+1,5`,
`-1.234,5`, `1e-3`) is no formula and keeps its value.

tests/test_spreadsheet.py fails when a module writes a CSV without this function.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl

NEUTRALISER = "'"
# A formula to a spreadsheet: these first characters, also after leading spaces.
FORMULA_START = r"^[ ]*[=+\-@\t\r\n]"
# ... unless the cell is just a signed number (no operator after the sign).
PLAIN_NUMBER = r"^[ ]*[+\-]?(?:[0-9][0-9.,]*|[.,][0-9]+)(?:[eE][+\-]?[0-9]+)?[ ]*$"

_TEXT = (pl.String, pl.Categorical, pl.Enum)


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """The same frame, each text cell that a spreadsheet would run as a formula prefixed by an apostrophe."""
    exprs = []
    for name, dtype in df.schema.items():
        if not isinstance(dtype, _TEXT):
            continue
        v = pl.col(name).cast(pl.String)
        risky = v.str.contains(FORMULA_START) & ~v.str.contains(PLAIN_NUMBER)
        exprs.append(pl.when(risky).then(pl.lit(NEUTRALISER) + v).otherwise(v).alias(name))
    return df.with_columns(exprs) if exprs else df


def write_csv(df: pl.DataFrame, file: str | Path | IO | None = None, **kwargs) -> str | None:
    """`DataFrame.write_csv` (same arguments) on the neutralised frame: the text when `file` is None."""
    return neutralise_formulas(df).write_csv(file, **kwargs)
