"""Codice fiscale: validation, derived attributes and pseudonymisation.

Everything is vectorised in Polars so a national-scale file never loops in
Python. The check-character algorithm is python-stdnum's (`check_character`); the
vectorised check applies it to a whole column through per-position tables built
from it (`check_tables`). stdnum's own `validate` is per value and does not fit the
loader: it also accepts 11-digit numbers (partita IVA), its `get_gender` fails on
omocodia in the day, and its century is a fixed window, not the year of the load.
The full code never leaves this module: callers get a pseudonym, the sex and the
year of birth, and (for rejected rows) a masked form.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from stdnum.it.codicefiscale import calc_check_digit

from core.private_files import private_dir, private_umask
from core.warehouse import memory_db

# Omocodia: digits in positions 7,8,10,11,13,14,15 may be replaced by letters.
OMOCODIA = "LMNPQRSTUV"
_OMOCODIA_POS = (6, 7, 9, 10, 12, 13, 14)
CF_PATTERN = (
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}"
    r"[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)
# Anything shaped like a codice fiscale inside free text (used to scrub and to test).
CF_ANYWHERE = re.compile(
    r"[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
    r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]"
)

MONTHS = "ABCDEHLMPRST"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(first15: str) -> str:
    """The 16th character for the first 15 (the official algorithm, from python-stdnum)."""
    return calc_check_digit(first15.upper())


@functools.cache
def check_tables() -> tuple[int, np.ndarray]:
    """The check character as base + sum of per-position contributions (mod 26), for the vectorised
    check (`check_ok_expr`) and generators of synthetic codici fiscali (demo/generate.py, benchmarks/generate.py).

    Built from `check_character` itself: the contribution of character c at
    position i is what replacing a '0' by c there changes in the check.
    """
    zero = "0" * 15
    base = ord(check_character(zero)) - ord("A")
    table = np.zeros((15, 128), dtype=np.int64)
    for i in range(15):
        for ch in _ALPHABET:
            code = zero[:i] + ch + zero[i + 1 :]
            table[i, ord(ch)] = (ord(check_character(code)) - ord("A") - base) % 26
    return base, table


def normalise_expr(col: str) -> pl.Expr:
    """Upper case, no spaces: how a codice fiscale is compared."""
    return pl.col(col).str.to_uppercase().str.replace_all(r"\s+", "")


def is_valid_format_expr(cf: pl.Expr) -> pl.Expr:
    return cf.str.contains(CF_PATTERN).fill_null(False)


def check_ok_expr(cf: pl.Expr) -> pl.Expr:
    """True where the 16th character matches the first 15 (format assumed valid): `check_character`
    applied to the whole column, as base + per-position contributions (`check_tables`) mod 26."""
    base, table = check_tables()
    total = pl.lit(base, dtype=pl.Int32)
    for i in range(15):
        contribution = {ch: int(table[i, ord(ch)]) for ch in _ALPHABET}
        total = total + cf.str.slice(i, 1).replace_strict(contribution, default=0, return_dtype=pl.Int32)
    letters = {chr(ord("A") + i): i for i in range(26)}
    actual = cf.str.slice(15, 1).replace_strict(letters, default=-1, return_dtype=pl.Int32)
    return actual == total % 26


def code_attributes(codes: pl.Series, reference_year: int) -> pl.DataFrame:
    """For each well-formed code of a column (`CF_PATTERN`, normalised): whether its check character is
    right, and the sex, year of birth and birth-date check of `derive_expr`; False/null for the others.

    The same rules as `check_ok_expr` and `derive_expr` (tests compare them on random codes), on a byte
    matrix in numpy: the 16 ASCII characters of every well-formed code read at once from the column's
    Arrow buffer, each position looked up in a table. On a load this replaces ~30 string expressions
    per row. Columns: check_ok, sesso, anno, date_ok.
    """
    well_formed = codes.str.contains(CF_PATTERN).fill_null(False)
    n, rows = codes.len(), well_formed.arg_true().to_numpy()
    check_ok = np.zeros(n, dtype=bool)
    date_ok = np.zeros(n, dtype=bool)
    anno = np.zeros(n, dtype=np.int32)
    female = np.zeros(n, dtype=bool)
    if rows.size:
        chars = _byte_matrix(codes.gather(rows))
        base, table = check_tables()
        total = base + table[np.arange(15), chars[:, :15]].sum(axis=1)
        check_ok[rows] = (chars[:, 15].astype(np.int64) - ord("A")) == total % 26
        digit = _OMOCODIA_DIGITS[chars]
        yy = digit[:, 6] * 10 + digit[:, 7]
        month = _MONTH_NUMBER[chars[:, 8]]
        dd = digit[:, 9] * 10 + digit[:, 10]
        female[rows] = dd > 40
        day = np.where(dd > 40, dd - 40, dd)
        year = np.where(yy <= reference_year % 100, 2000 + yy, 1900 + yy)
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        month_days = _MONTH_DAYS[month] + ((month == 2) & leap)
        anno[rows] = year
        date_ok[rows] = (day >= 1) & (day <= month_days)
    valid = well_formed.to_numpy()
    return pl.DataFrame(
        {
            "check_ok": check_ok,
            "sesso": pl.Series(np.where(female, "F", "M"), dtype=pl.String),
            "anno": pl.Series(anno, dtype=pl.Int32),
            "date_ok": date_ok,
        }
    ).with_columns(pl.when(pl.Series(valid)).then(pl.col("sesso", "anno")))


def _byte_matrix(codes: pl.Series) -> np.ndarray:
    """The codes (each exactly 16 ASCII characters) as an (n, 16) uint8 matrix, from the Arrow buffer."""
    array = codes.rechunk().to_arrow()
    _, offsets, data = array.buffers()
    first = np.frombuffer(offsets, dtype=np.int64, count=1, offset=array.offset * 8)[0]
    raw = np.frombuffer(data, dtype=np.uint8, count=16 * len(array), offset=int(first))
    return raw.reshape(-1, 16)


# A character's digit once omocodia is undone ('0'-'9' and 'L'-'V'), by ASCII code; a month letter's number.
_OMOCODIA_DIGITS = np.zeros(128, dtype=np.int32)
for _d in range(10):
    _OMOCODIA_DIGITS[ord(str(_d))] = _d
    _OMOCODIA_DIGITS[ord(OMOCODIA[_d])] = _d
_MONTH_NUMBER = np.zeros(128, dtype=np.int32)
for _m, _letter in enumerate(MONTHS):
    _MONTH_NUMBER[ord(_letter)] = _m + 1
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def _decode_digits(expr: pl.Expr) -> pl.Expr:
    """Undo omocodia on a slice of the code."""
    for digit, letter in enumerate(OMOCODIA):
        expr = expr.str.replace_all(letter, str(digit), literal=True)
    return expr


def derive_expr(cf: pl.Expr, reference_year: int | None = None) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(sesso, anno_nascita, birth-date-is-real) from a well-formed code.

    The century is chosen so the person is 0–99 years old in `reference_year`
    (the year of the load): nobody receiving services is 100+ born in the
    future. The third expression is False for impossible dates (31 February).
    """
    ref = reference_year or date.today().year
    yy = _decode_digits(cf.str.slice(6, 2)).cast(pl.Int32, strict=False)
    month = cf.str.slice(8, 1).replace_strict(
        {m: i + 1 for i, m in enumerate(MONTHS)}, default=None, return_dtype=pl.Int32
    )
    dd = _decode_digits(cf.str.slice(9, 2)).cast(pl.Int32, strict=False)
    sesso = pl.when(dd > 40).then(pl.lit("F")).otherwise(pl.lit("M"))
    day = pl.when(dd > 40).then(dd - 40).otherwise(dd)
    century_cut = ref % 100
    year = pl.when(yy <= century_cut).then(2000 + yy).otherwise(1900 + yy)
    real = pl.date(year, month, pl.lit(1)).dt.month_end().dt.day() >= day
    real = real & (day >= 1) & month.is_not_null()
    return sesso, year, real.fill_null(False)


def mask(value: str | None) -> str | None:
    """What a rejected row keeps of a codice fiscale: 3 characters, then stars."""
    if value is None:
        return None
    v = str(value).strip()
    return v[:3] + "*" * max(len(v) - 3, 0) if v else v


def scrub_text(value: str | None) -> str | None:
    """Mask anything shaped like a person identifier inside free text (`core.redact.mask_identifiers`)."""
    from core.redact import mask_identifiers

    return mask_identifiers(value)


# --- pseudonymisation -------------------------------------------------------

SECRET_BYTES = 32  # 256 bits
# What the warehouse keeps to recognise its key (meta `key_fingerprint`): an HMAC of this fixed
# label under the key. It tells whether a key file is the same key, and nothing about the key.
FINGERPRINT_LABEL = b"pdz-monitor: impronta della chiave di pseudonimizzazione, v1"


def read_secret(path: Path) -> bytes | None:
    """The HMAC key in the file, None when there is no file."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValueError(
            f"Il file della chiave di pseudonimizzazione {path} non contiene una chiave valida "
            "(servono cifre esadecimali): ripristinarlo dalla copia di sicurezza."
        ) from None
    if len(key) < SECRET_BYTES:
        raise ValueError(
            f"La chiave di pseudonimizzazione {path} è troppo corta "
            f"({len(key) * 8} bit, ne servono almeno {SECRET_BYTES * 8})."
        )
    return key


def create_secret(path: Path) -> bytes:
    """A new random key, written owner-only (the folder too, when created here); never overwrites."""
    path = Path(path)
    private_dir(path.parent)
    key = secrets.token_bytes(SECRET_BYTES)
    with private_umask():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def key_fingerprint(key: bytes) -> str:
    """HMAC-SHA-256 of a fixed label under the key, as hex: recognises the key without revealing it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


HMAC_BLOCK = 64  # SHA-256's block size in bytes


def pseudonym(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# The parameters `pseudonym_sql` reads: the key's HMAC pads (`hmac_params`).
HMAC_INNER, HMAC_OUTER = "hmac_inner", "hmac_outer"
NAMESPACES = ("persona", "nucleo")


def hmac_params(key: bytes) -> dict[str, bytes]:
    """The key's inner and outer HMAC pads (RFC 2104), the parameters of `pseudonym_sql`."""
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(HMAC_BLOCK, b"\0")
    return {HMAC_INNER: bytes(b ^ 0x36 for b in padded), HMAC_OUTER: bytes(b ^ 0x5C for b in padded)}


def pseudonym_sql(column: str, namespace: str) -> str:
    """DuckDB SQL for `pseudonym(key, namespace + ":" + column)` as hex, null kept: HMAC-SHA-256 written with
    DuckDB's SHA-256, H((K ^ opad) || H((K ^ ipad) || message)), with `hmac_params(key)` as parameters.

    The loader computes the pseudonyms in the statement that stages a batch, so the codes are hashed
    where the rows are written (vectorised, every core) and only the pseudonyms reach a table.
    """
    if namespace not in NAMESPACES:  # a constant of this module, never user text
        raise ValueError(namespace)
    return (
        f"CASE WHEN {column} IS NOT NULL THEN sha256(${HMAC_OUTER}::BLOB || "
        f"unhex(sha256(${HMAC_INNER}::BLOB || encode('{namespace}:' || {column})))) END"
    )


def pseudonyms(values: pl.Series, key: bytes, namespace: str) -> pl.Series:
    """`pseudonym(key, namespace + ":" + v)` for every v of a text column, in order (`pseudonym_sql`)."""
    con = memory_db()  # spill files (raw identifiers) in a private folder, never in ./.tmp
    try:
        con.register("_valori", pl.DataFrame({"v": values.cast(pl.String)}))
        out = con.sql(f"SELECT {pseudonym_sql('v', namespace)} AS h FROM _valori", params=hmac_params(key)).pl()
    finally:
        con.close()
    return out["h"].alias(values.name)
