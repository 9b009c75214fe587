"""Validation that loses nothing: every row is parsed or rejected with reasons.

`validate_batch` turns a batch of text columns (already renamed to the
table's canonical names, plus `_riga`) into
  * `good`: parsed, typed rows with no problem, and
  * `errors`: one row per problem: `_riga`, `colonna`, `motivo` (Italian),
    `valore` (as written, with any identifier masked and at most `redact.MAX_KEPT_CHARS` characters).
A row with at least one problem is rejected whole.

Each column is parsed once per batch (the checks read the parsed value, never
parse again), and the common spellings of dates and numbers take a fast path
whose results are identical to the general parser's (`_parse_dates`,
`_parse_decimals`; the other rows go through the general parser).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from core import redact
from core.normalize import (
    blank_to_null,
    comune_key_expr,
    parse_bool_expr,
    parse_date_expr,
    parse_decimal_expr,
)
from etl import codice_fiscale as cf
from etl import identifiers as ids
from etl.readers import ROW
from etl.schemas import Column, TableSpec

ERROR_SCHEMA = {ROW: pl.Int64, "colonna": pl.String, "motivo": pl.String, "valore": pl.String}

# Working columns of one batch (never returned): parsed values and codice fiscale helpers.
_PARSED = "__parsed__"
CF_CHECK_OK, CF_DATE_OK, CF_SESSO, CF_ANNO = (
    "__cf_check_ok",
    "__cf_date_ok",
    "__cf_sesso",
    "__cf_anno",
)
ID_KIND, PROVISIONAL_OK = "__id_kind", "__id_provisional_ok"  # which identifier (etl/identifiers.py), its check
_CF_HELPERS = (CF_CHECK_OK, CF_DATE_OK, CF_SESSO, CF_ANNO, ID_KIND, PROVISIONAL_OK)

MSG_REQUIRED = "valore obbligatorio mancante"
MSG_CF_FORMAT = (
    "codice fiscale malformato: servono 16 caratteri nel formato del codice fiscale italiano, oppure le 11 cifre "
    "del codice fiscale provvisorio, oppure un codice STP o ENI (STP o ENI seguito da 13 cifre)"
)
MSG_CF_PROVISIONAL_CHECK = "codice fiscale provvisorio (11 cifre) con cifra di controllo errata"
MSG_BIRTH_YEAR = "anno di nascita non plausibile: deve essere compreso tra 1900 e {anno}"
MSG_INTERVENTO_MISSING = (
    "intervento mancante: indicare il codice del catalogo (colonna intervento) oppure il sistema di codifica "
    "e il codice (colonne sistema_codifica e codice_intervento)"
)
MSG_SYSTEM_MISSING = "manca il sistema di codifica (colonna sistema_codifica) del codice intervento"
MSG_CODE_MISSING = "manca il codice intervento (colonna codice_intervento) del sistema di codifica"
MSG_CODE_PERSON = (
    "il codice ha la forma di un identificativo personale (codice fiscale, codice provvisorio di 11 cifre, STP o "
    "ENI): controllare che le colonne del file non siano scambiate"
)
MSG_CF_CHECK = "codice fiscale con carattere di controllo errato"
MSG_CF_DATE = "codice fiscale con data di nascita impossibile"
MSG_DATE = "data non valida (formati accettati: 2025-03-01, 01/03/2025, 1/3/2025)"
MSG_NUMBER = "numero non valido (esempi accettati: 1234,5 1.234,5 1234.5)"
MSG_INTEGER = "numero intero non valido"
# No quantity of this product (hours, euros, a target's value) reaches 100 million: a longer number is a
# code in the wrong column (an 11-digit provisional codice fiscale, a shifted id), never stored as a number.
MAX_QUANTITY = 100_000_000
MSG_TOO_LARGE = "numero fuori scala (100.000.000 o più): sembra un codice finito nella colonna sbagliata"
MSG_BOOL = "valore non valido: usare sì o no"
MSG_COMUNE_OUT = "comune non appartenente all'ambito"
MSG_COMUNE_UNKNOWN = "comune sconosciuto (né codice ISTAT né nome di un comune italiano)"
MSG_INTERVENTO = "codice intervento sconosciuto (non presente nel catalogo degli interventi)"
MSG_SUB_AMBITO = "sub-ambito sconosciuto"
MSG_INDICATORE = "indicatore sconosciuto (non presente nel catalogo degli indicatori)"
MSG_TERRITORIO = (
    "territorio sconosciuto: usare AMBITO, il codice di un sub-ambito o il codice ISTAT di un comune dell'ambito"
)
MSG_ID_CF = (
    "l'identificativo ha la forma di un codice fiscale (o di un codice provvisorio, STP o ENI): "
    "usare un codice che non identifichi la persona"
)
MSG_SEDE = "sede sconosciuta: il codice non è nella tabella delle sedi (caricare prima le sedi o correggere il codice)"
MSG_DISTANZA = "distanza mancante: indicare i km (oppure i metri)"
MSG_BASELINE_YEAR = "la baseline si riferisce all'anno {anno}"
MSG_TARGET_YEAR = "gli obiettivi (TARGET) si riferiscono agli anni del piano {anni}"
MSG_YEAR = "anno non valido: indicare l'anno a quattro cifre (da {low:g} a {high:g})"
MSG_OWN_TERRITORY = (
    "territorio dell'ambito: i valori dell'ambito, dei sub-ambiti e dei comuni sono calcolati dai dati caricati; "
    "nei confronti vanno territori esterni (es. Provincia di Cremona, Lombardia, Italia)"
)


def msg_negative(column: str) -> str:
    return {"ore": "ore negative non ammesse", "importo_euro": "importo negativo non ammesso"}.get(
        column, "valore negativo non ammesso"
    )


def msg_range(col: Column) -> str:
    if col.name == "fte":
        return "FTE fuori intervallo: deve essere maggiore di 0 e al massimo 1"
    if col.name == "anno":
        return MSG_YEAR.format(low=col.min_value, high=col.max_value)
    return f"valore fuori intervallo (da {col.min_value:g} a {col.max_value:g})"


def msg_code(col: Column) -> str:
    return "valore non ammesso (ammessi: " + ", ".join(col.values) + ")"


@dataclass
class Context:
    """Reference data the checks need, read once per load."""

    comune_codes: set[str]  # ISTAT codes of the ambito, 6 digits
    comune_keys: dict[str, str]  # name key -> ISTAT code, for the ambito
    interventi: dict[str, str]  # code -> area
    sub_ambiti: set[str]
    indicatori: set[str] | None
    anno_baseline: int
    anni_piano: tuple[int, ...]
    reference_year: int
    sedi: set[str] = field(default_factory=set)  # id_sede already loaded (for accessi)
    # the code mappings (`codifiche`): (sistema, codice) -> intervento of the catalogue
    codifiche: dict[tuple[str, str], str] = field(default_factory=dict)
    # (ISTAT codes, name keys) of every Italian comune: read by `italy()` the first time a comune outside the
    # ambito needs telling apart from an unknown one (reading ISTAT's list costs more than a whole small load)
    italy_reference: Callable[[], tuple[set[str], set[str]]] = field(default=lambda: (set(), set()), repr=False)
    _italy: tuple[set[str], set[str]] | None = field(default=None, init=False, repr=False)
    # Polars may evaluate the two checks that ask for it in parallel threads: read once, under a lock
    _italy_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def italy(self) -> tuple[set[str], set[str]]:
        with self._italy_lock:
            if self._italy is None:
                self._italy = self.italy_reference()
            return self._italy


def validate_batch(spec: TableSpec, batch: pl.DataFrame, ctx: Context) -> tuple[pl.DataFrame, pl.DataFrame]:
    raw = _complete_columns(spec, batch)
    parsed_exprs: list[pl.Expr] = []
    checks: list[tuple[pl.Expr, str, str]] = []  # (is_problem, column, reason)

    for col in spec.columns:
        v = pl.col(col.name)
        if col.required:
            checks.append((v.is_null(), col.name, MSG_REQUIRED))
        parsed, col_checks = _parse_column(col, v, ctx, spec)
        parsed_exprs.append(parsed.alias(_parsed(col.name)))
        checks.extend(col_checks)

    work = _parse_all(spec, raw, parsed_exprs, ctx)
    df = work.select(
        pl.col(ROW),
        *[pl.col(_parsed(c.name)).alias(c.name) for c in spec.columns],
        *[pl.col(h) for h in _CF_HELPERS if h in work.columns],
    )
    # Row-level checks on parsed values.
    row_checks: list[tuple[pl.Expr, str, str]] = []
    for earlier, later, reason in spec.date_order:
        row_checks.append((pl.col(later) < pl.col(earlier), later, reason))
    if spec.name == "distanze":
        row_checks.append((pl.col("km").is_null() & pl.col("metri").is_null(), "km", MSG_DISTANZA))
    if spec.name == "prestazioni":
        row_checks += _coded_row_checks(ctx)
    if spec.name == "obiettivi":
        anni = ", ".join(str(a) for a in ctx.anni_piano)
        row_checks += [
            (
                (pl.col("tipo") == "BASELINE") & (pl.col("anno") != ctx.anno_baseline),
                "anno",
                MSG_BASELINE_YEAR.format(anno=ctx.anno_baseline),
            ),
            (
                (pl.col("tipo") == "TARGET") & ~pl.col("anno").is_in(list(ctx.anni_piano)),
                "anno",
                MSG_TARGET_YEAR.format(anni=anni),
            ),
        ]

    if spec.name == "confronti":  # outside values only: the ambito's own territories are computed, never typed
        row_checks.append((_is_own_territory(pl.col("territorio"), ctx), "territorio", MSG_OWN_TERRITORY))

    raw_text = raw.select([ROW, *[c.name for c in spec.columns]])
    problem_frames = []
    labels = [(c[1], c[2]) for c in checks] + [(c[1], c[2]) for c in row_checks]
    flags = pl.concat(
        [
            work.select([c[0].fill_null(False).alias(f"_p{i}") for i, c in enumerate(checks)]),
            df.select([c[0].fill_null(False).alias(f"_p{len(checks) + i}") for i, c in enumerate(row_checks)]),
        ],
        how="horizontal",
    )
    for i, (column, reason) in enumerate(labels):
        hit = flags[f"_p{i}"]
        if not hit.any():
            continue
        problem_frames.append(
            raw_text.filter(hit).select(
                pl.col(ROW),
                pl.lit(column).alias("colonna"),
                pl.lit(reason).alias("motivo"),
                _shown_value(spec.column(column), pl.col(column)).alias("valore"),
            )
        )
    errors = pl.concat(problem_frames) if problem_frames else pl.DataFrame(schema=ERROR_SCHEMA)
    any_problem = pl.any_horizontal([pl.col(f"_p{i}") for i in range(len(labels))]) if labels else pl.lit(False)
    bad = flags.select(any_problem.alias("bad"))["bad"] if labels else pl.Series([False] * df.height)
    good = df.filter(~bad)
    good = _derive(spec, good, ctx).drop([h for h in _CF_HELPERS if h in df.columns])
    return good, errors.sort(ROW)


def rejected_rows_json(spec: TableSpec, batch: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The rejected rows as JSON text by `_riga` (each field as `_shown_value`: identifiers masked, bounded)."""
    raw = _complete_columns(spec, batch.filter(pl.col(ROW).is_in(rows.implode())))
    shown = raw.select(
        pl.col(ROW), pl.struct([_shown_value(c, pl.col(c.name)).alias(c.name) for c in spec.columns]).alias("dati")
    )
    return shown.with_columns(pl.col("dati").struct.json_encode())


# --- parsing each column once ------------------------------------------------


def _parsed(name: str) -> str:
    """The working column holding the parsed value of `name`."""
    return _PARSED + name


def _parse_all(spec: TableSpec, raw: pl.DataFrame, parsed_exprs: list[pl.Expr], ctx: Context) -> pl.DataFrame:
    """`raw` plus each column's parsed value (`_parsed(name)`) and the codice fiscale helpers, computed once."""
    fast = {"date": _parse_dates, "decimal": _parse_decimals}
    work = raw.with_columns([e for c, e in zip(spec.columns, parsed_exprs) if c.kind not in fast])
    work = work.with_columns([fast[c.kind](raw[c.name]).alias(_parsed(c.name)) for c in spec.columns if c.kind in fast])
    for col in spec.columns:
        if col.kind == "codice_fiscale":  # one per table at most (prestazioni)
            norm = pl.col(_parsed(col.name))
            work = work.with_columns(
                ids.kind_expr(norm, cf.CF_PATTERN).alias(ID_KIND),
                ids.provisional_check_ok_expr(norm).alias(PROVISIONAL_OK),
            )
            attributes = cf.code_attributes(work[_parsed(col.name)], ctx.reference_year)
            work = work.with_columns(
                attributes["check_ok"].alias(CF_CHECK_OK),
                attributes["date_ok"].alias(CF_DATE_OK),
                attributes["sesso"].alias(CF_SESSO),
                attributes["anno"].alias(CF_ANNO),
            )
    return work


def _general_on(s: pl.Series, rows: pl.Series, parse, fast: pl.Series) -> pl.Series:
    """`fast` with the rows at `rows` replaced by the general parser's result on them."""
    if rows.len() == 0:
        return fast
    general = pl.DataFrame({"v": s.gather(rows)}).select(parse(pl.col("v")))
    return fast.scatter(rows, general.to_series())


def _parse_dates(s: pl.Series) -> pl.Series:
    """`parse_date_expr` on a column; 2025-03-01 and 01/03/2025 (two-digit day and month) via to_date.

    For those two spellings the general parser gives the calendar date when it exists and the year is
    1900–2100, else null: so does to_date with the year range. Any other text goes to the general parser.
    """
    v = pl.col("v")
    iso = v.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    ita = v.str.contains(r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$")
    date = (
        pl.when(iso)
        .then(v.str.to_date("%Y-%m-%d", strict=False))
        .when(ita)
        .then(v.str.to_date("%d/%m/%Y", strict=False))
    )
    out = pl.DataFrame({"v": s}).select(
        pl.when(date.dt.year().is_between(1900, 2100)).then(date).alias("d"),
        (v.is_not_null() & ~iso.fill_null(False) & ~ita.fill_null(False)).alias("general"),
    )
    return _general_on(s, out["general"].arg_true(), parse_date_expr, out["d"])


def _parse_decimals(s: pl.Series) -> pl.Series:
    """`parse_decimal_expr` on a column; plain 1234, 1234.5 and 1234,5 via a direct cast.

    For those spellings the general parser removes nothing, turns the only comma into a point and
    casts: the same cast. Any other text (signs, thousands, €, spaces) goes to the general parser.
    """
    v = pl.col("v")
    point = v.str.contains(r"^[0-9]+(\.[0-9]+)?$")
    comma = v.str.contains(r"^[0-9]+,[0-9]+$")
    out = pl.DataFrame({"v": s}).select(
        pl.when(point)
        .then(v.cast(pl.Float64, strict=False))
        .when(comma)
        .then(v.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False))
        .alias("x"),
        (v.is_not_null() & ~point.fill_null(False) & ~comma.fill_null(False)).alias("general"),
    )
    return _general_on(s, out["general"].arg_true(), parse_decimal_expr, out["x"])


# --- per column -----------------------------------------------------------


def _complete_columns(spec: TableSpec, batch: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for col in spec.columns:
        if col.name in batch.columns:
            e = blank_to_null(pl.col(col.name).cast(pl.String))
        else:
            e = pl.lit(None, dtype=pl.String)
        if col.default is not None:
            e = e.fill_null(pl.lit(col.default))
        exprs.append(e.alias(col.name))
    return batch.select(pl.col(ROW), *exprs)


def _shown_value(col: Column, v: pl.Expr) -> pl.Expr:
    """What a rejected value looks like in the report, whatever its column: no identifier, bounded length.

    A shifted column puts a codice fiscale in `comune_residenza`, a date or `ore`: every column is
    masked (`core.redact`), and the codice fiscale column keeps only its first 3 characters.
    """
    if col.kind == "codice_fiscale":
        return pl.when(v.is_null()).then(None).otherwise(v.str.slice(0, 3) + pl.lit("*************"))
    return redact.masked_expr(v)


def _parse_column(col: Column, v: pl.Expr, ctx: Context, spec: TableSpec) -> tuple[pl.Expr, list]:
    present = v.is_not_null()
    checks: list[tuple[pl.Expr, str, str]] = []
    kind = col.kind
    if kind == "text":
        if col.name.startswith("id_") and col.name != "id_nucleo":
            # an id is stored as written: one that is (or holds) a person's code is refused
            person_code = v.str.contains(redact.PERSON_CODE_CONTAINS) | redact.provisional_cf_expr(v)
            checks.append((present & person_code, col.name, MSG_ID_CF))
            return v, checks
        if col.name == "id_nucleo":
            return v, checks
        return _scrubbed(v), checks
    # Checks read the parsed value (`parsed`, computed once in `_parse_all`), never parse again.
    parsed = pl.col(_parsed(col.name))
    if kind == "code":
        up = v.str.to_uppercase().str.replace_all(r"[\s-]+", "_")
        checks.append((present & ~parsed.is_in(list(col.values)), col.name, msg_code(col)))
        return up, checks
    if kind == "date":
        d = parse_date_expr(v)
        checks.append((present & parsed.is_null(), col.name, MSG_DATE))
        return d, checks
    if kind in ("decimal", "integer"):
        x = parse_decimal_expr(v)
        value = parsed if kind == "decimal" else x
        checks.append((present & value.is_null(), col.name, MSG_NUMBER if kind == "decimal" else MSG_INTEGER))
        if kind == "decimal":
            checks.append((value.abs() >= MAX_QUANTITY, col.name, MSG_TOO_LARGE))
        if kind == "integer":
            checks.append((present & x.is_not_null() & (x != x.round(0)), col.name, MSG_INTEGER))
            x = value = x.cast(pl.Int32, strict=False)
        if col.min_value is not None and col.max_value is None:
            checks.append((value < col.min_value, col.name, msg_negative(col.name)))
        if col.min_value is not None and col.max_value is not None:
            low = (value <= col.min_value) if col.min_exclusive else (value < col.min_value)
            checks.append((low | (value > col.max_value), col.name, msg_range(col)))
        return x, checks
    if kind == "bool":
        b = parse_bool_expr(v)
        checks.append((present & parsed.is_null(), col.name, MSG_BOOL))
        return b, checks
    if kind == "comune":
        code = _comune_expr(v, ctx)
        outside = present & parsed.is_null()
        known_in_italy = _known_in_italy(v, outside, ctx)
        checks.append((outside & known_in_italy, col.name, MSG_COMUNE_OUT))
        checks.append((outside & ~known_in_italy, col.name, MSG_COMUNE_UNKNOWN))
        return code, checks
    if kind == "codice_fiscale":
        # any accepted person identifier (etl/identifiers.py): its kind, and for a codice fiscale the check
        # character and birth date, for a provisional one the check digit, are helper columns (`_parse_all`)
        norm = v.str.to_uppercase().str.replace_all(r"\s+", "")
        id_kind, check_ok, real = pl.col(ID_KIND), pl.col(CF_CHECK_OK), pl.col(CF_DATE_OK)
        is_cf = id_kind == ids.KIND_CF
        checks.append((present & id_kind.is_null(), col.name, MSG_CF_FORMAT))
        checks.append((present & is_cf & ~check_ok, col.name, MSG_CF_CHECK))
        checks.append((present & is_cf & check_ok & ~real, col.name, MSG_CF_DATE))
        provisional = id_kind == ids.KIND_PROVISIONAL
        checks.append((present & provisional & ~pl.col(PROVISIONAL_OK), col.name, MSG_CF_PROVISIONAL_CHECK))
        return norm, checks
    if kind == "codice_sorgente":
        # a code of another system: upper case, spaces trimmed and collapsed; never a person's identifier
        code = v.str.to_uppercase().str.strip_chars().str.replace_all(r"\s+", " ")
        checks.append((present & parsed.str.contains(redact.IDENTIFIER_CONTAINS), col.name, MSG_CODE_PERSON))
        return code, checks
    if kind == "intervento":
        up = v.str.to_uppercase().str.strip_chars()
        checks.append((present & ~parsed.is_in(list(ctx.interventi)), col.name, MSG_INTERVENTO))
        return up, checks
    if kind == "sede":
        checks.append((present & ~v.is_in(sorted(ctx.sedi)), col.name, MSG_SEDE))
        return v, checks
    if kind == "sub_ambito":
        up = v.str.to_uppercase()
        checks.append((present & ~parsed.is_in(sorted(ctx.sub_ambiti)), col.name, MSG_SUB_AMBITO))
        return up, checks
    if kind == "indicatore":
        low = v.str.to_lowercase()
        if ctx.indicatori is not None:
            checks.append((present & ~low.is_in(sorted(ctx.indicatori)), col.name, MSG_INDICATORE))
        return low, checks
    if kind == "territorio":  # AMBITO, a sub-ambito, or a comune of the ambito (its own targets: ISTAT code)
        up = v.str.to_uppercase()
        is_group = up.is_in(["AMBITO", *sorted(ctx.sub_ambiti)])
        comune = _comune_expr(v, ctx)
        checks.append((present & ~is_group & comune.is_null(), col.name, MSG_TERRITORIO))
        return pl.when(is_group).then(up).otherwise(comune), checks
    raise ValueError(f"unknown column kind {kind}")


def _is_own_territory(v: pl.Expr, ctx: Context) -> pl.Expr:
    """AMBITO, a sub-ambito code, or a comune of the ambito (ISTAT code or name)."""
    s = v.str.strip_chars()
    own_code = s.str.to_uppercase().is_in(["AMBITO", *sorted(ctx.sub_ambiti)])
    comune = s.str.zfill(6).is_in(sorted(ctx.comune_codes)) | comune_key_expr(s).is_in(sorted(ctx.comune_keys))
    return own_code | comune


def _scrubbed(v: pl.Expr) -> pl.Expr:
    """Free text as stored: identifiers masked (never cut: a stored value is the data)."""
    return redact.masked_expr(v, limit=None)


def _comune_expr(v: pl.Expr, ctx: Context) -> pl.Expr:
    """The ISTAT code if the comune (code or name) is in the ambito, else null."""
    s = v.str.strip_chars()
    is_code = s.str.contains(r"^\d{4,6}$")
    padded = s.str.zfill(6)
    by_code = pl.when(is_code & padded.is_in(sorted(ctx.comune_codes))).then(padded)
    by_name = comune_key_expr(s).replace_strict(ctx.comune_keys, default=None, return_dtype=pl.String)
    return pl.when(is_code).then(by_code).otherwise(by_name)


def _known_in_italy(v: pl.Expr, outside: pl.Expr, ctx: Context) -> pl.Expr:
    """Whether the comune is known anywhere in Italy (code or name): ISTAT's list is read (`Context.italy`)
    only when some row of the batch names a comune outside the ambito."""

    def known(values: pl.Series) -> pl.Series:
        frame = values.struct.unnest()
        if not frame["outside"].any():
            return pl.repeat(False, frame.height, eager=True)
        codes, keys = ctx.italy()
        s = pl.col("v").str.strip_chars()
        padded = s.str.zfill(6)
        found = pl.when(s.str.contains(r"^\d{4,6}$")).then(padded.is_in(sorted(codes)))
        return frame.select(found.otherwise(comune_key_expr(s).is_in(sorted(keys))).fill_null(False)).to_series()

    return pl.struct(v.alias("v"), outside.fill_null(False).alias("outside")).map_batches(
        known, return_dtype=pl.Boolean
    )


def _derive(spec: TableSpec, good: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    if spec.name == "prestazioni":
        # sex and year of birth: from a codice fiscale (derived once in `_parse_all`), else from the
        # optional columns (the other identifiers do not encode them; null when not given)
        is_cf = pl.col(ID_KIND) == ids.KIND_CF
        sesso = pl.when(is_cf).then(pl.col(CF_SESSO)).otherwise(pl.col("sesso"))
        anno = pl.when(is_cf).then(pl.col(CF_ANNO)).otherwise(pl.col("anno_nascita"))
        # the intervento: as written, else the mapping of the row's code; null = held (no mapping yet)
        good = good.with_columns(pl.coalesce(pl.col("intervento"), mapped_intervento_expr(ctx)).alias("intervento"))
        area = pl.col("intervento").replace_strict(ctx.interventi, default=None, return_dtype=pl.String)
        return good.with_columns(sesso.alias("sesso"), anno.alias("anno_nascita"), area.alias("area"))
    if spec.name == "accessi":  # the identifier is optional: sex and year of birth when it is a codice fiscale
        is_cf = pl.col("codice_fiscale").is_not_null() & (pl.col(ID_KIND) == ids.KIND_CF)
        return good.with_columns(
            pl.when(is_cf).then(pl.col(CF_SESSO)).alias("sesso"),
            pl.when(is_cf).then(pl.col(CF_ANNO)).alias("anno_nascita"),
        )
    if spec.name == "distanze":  # ISTAT's matrices give metres
        return good.with_columns(pl.coalesce(pl.col("km"), pl.col("metri") / 1000).alias("km"))
    return good


_CODE_SEP = "\x1f"  # joins sistema and codice into one lookup key (never typed in a cell)


def mapped_intervento_expr(ctx: Context) -> pl.Expr:
    """The intervento that `codifiche` gives the row's (sistema_codifica, codice_intervento), else null."""
    if not ctx.codifiche:
        return pl.lit(None, dtype=pl.String)
    lookup = {f"{s}{_CODE_SEP}{c}": i for (s, c), i in ctx.codifiche.items()}
    key = pl.col("sistema_codifica") + pl.lit(_CODE_SEP) + pl.col("codice_intervento")
    return key.replace_strict(lookup, default=None, return_dtype=pl.String)


def _coded_row_checks(ctx: Context) -> list[tuple[pl.Expr, str, str]]:
    """Row checks of a service record: an intervento or a complete code; a plausible year of birth."""
    intervento, sistema, codice = pl.col("intervento"), pl.col("sistema_codifica"), pl.col("codice_intervento")
    no_intervento = intervento.is_null()
    anno = pl.col("anno_nascita")
    return [
        (no_intervento & sistema.is_null() & codice.is_null(), "intervento", MSG_INTERVENTO_MISSING),
        (no_intervento & sistema.is_null() & codice.is_not_null(), "sistema_codifica", MSG_SYSTEM_MISSING),
        (no_intervento & sistema.is_not_null() & codice.is_null(), "codice_intervento", MSG_CODE_MISSING),
        (
            (anno < 1900) | (anno > ctx.reference_year),
            "anno_nascita",
            MSG_BIRTH_YEAR.format(anno=ctx.reference_year),
        ),
    ]
