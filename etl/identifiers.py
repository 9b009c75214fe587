"""Person identifiers other than the codice fiscale: what the loader accepts and how it checks them.

Real social services also serve people without a codice fiscale. Beside the
16-character codice fiscale (etl/codice_fiscale.py) the loader accepts:

* the **provisional codice fiscale**: 11 digits, given by the Agenzia delle
  Entrate to a person still waiting for the full code. Its last digit is a
  check digit computed like the partita IVA's: the Luhn algorithm
  (python-stdnum's `stdnum.luhn`, the check `stdnum.it.iva` applies). As in
  `stdnum.it.iva`, the first seven digits are never all zero (an all-zero code
  is a placeholder, not a person). SIUSS itself (INPS, PS_PSA_SINA201812.xsd)
  accepts a beneficiary's `CodiceFiscale` as 16 characters or 11 digits;
* the **STP** code (Straniero Temporaneamente Presente) and the **ENI** code
  (Europeo Non Iscritto) of the health service: `STP` or `ENI`, then 3 digits
  for the region, 3 for the ASL that issued it and a 7-digit progressive
  number (16 characters, no check character, so only the format is checked).

Each is compared upper-cased without spaces, pseudonymised exactly like a
codice fiscale (same key, same namespace: one person, one pseudonym, whatever
the code) and never stored. None of them says the person's sex or year of
birth: the optional columns `sesso` and `anno_nascita` do.

Everything is vectorised (Polars expressions); `luhn_ok` is the scalar
reference the vectorised check is tested against.
"""

from __future__ import annotations

import polars as pl
from stdnum import luhn

# What kind of identifier a normalised value is (the codice fiscale's pattern lives in codice_fiscale.py).
KIND_CF = "codice_fiscale"
KIND_PROVISIONAL = "codice_fiscale_provvisorio"
KIND_STP = "stp"
KIND_ENI = "eni"

PROVISIONAL_PATTERN = r"^[0-9]{11}$"
STP_ENI_PATTERN = r"^(STP|ENI)[0-9]{13}$"
# Masking identifiers inside text (any column, rejected rows, messages) is `core.redact`'s job.


def luhn_ok(code: str) -> bool:
    """True for an 11-digit provisional codice fiscale whose check digit is right (the scalar reference)."""
    return len(code) == 11 and code.isdigit() and int(code[:7]) != 0 and luhn.is_valid(code)


def provisional_check_ok_expr(code: pl.Expr) -> pl.Expr:
    """True where an 11-digit code passes the Luhn check and its first seven digits are not all zero.

    Luhn over 11 digits: from the right, every second digit (here the 2nd, 4th, ..., 10th from the
    left) is doubled, and 9 is taken off a doubled digit above 9; the total is a multiple of 10.
    """
    total = pl.lit(0, dtype=pl.Int32)
    for i in range(11):
        d = code.str.slice(i, 1).cast(pl.Int32, strict=False)
        if i % 2 == 1:
            d = pl.when(d * 2 > 9).then(d * 2 - 9).otherwise(d * 2)
        total = total + d
    not_zero = code.str.slice(0, 7) != "0000000"
    return ((total % 10 == 0) & not_zero).fill_null(False)


def kind_expr(code: pl.Expr, cf_pattern: str) -> pl.Expr:
    """The kind of identifier of a normalised value (`KIND_*`), null when it has no accepted shape."""
    return (
        pl.when(code.str.contains(cf_pattern))
        .then(pl.lit(KIND_CF))
        .when(code.str.contains(PROVISIONAL_PATTERN))
        .then(pl.lit(KIND_PROVISIONAL))
        .when(code.str.contains(STP_ENI_PATTERN))
        .then(pl.when(code.str.starts_with("STP")).then(pl.lit(KIND_STP)).otherwise(pl.lit(KIND_ENI)))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
