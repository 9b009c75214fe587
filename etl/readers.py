"""Readers: any accepted file becomes batches of text columns plus `_riga`.

Every value is read as text; normalisation and validation come later, so a
malformed value is reported, never silently coerced. `_riga` is the row as a
person sees it in a spreadsheet: the header is row 1, the first record row 2.
Fully blank rows are not records and are skipped.

A damaged CSV line never fails the whole file: a row with more or fewer fields
than the header, a NUL byte, or bytes that are not text in the file's encoding
carry `_problema` (the Italian reason) and `_testo` (the line as written,
identifiers masked): the loader rejects that row with its number and reason and
loads the rest. Clean files (and files whose quoting is regular) are parsed by
Polars after a vectorised check of every line (`_line_problems`); a file with
irregular quoting (a quote inside a value, a value over several lines) is
parsed record by record with Python's csv module (`_python_batches`).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from core import redact, settings
from core.normalize import header_key

ROW = "_riga"
PROBLEM = "_problema"  # CSV only: why the row cannot be read as a record (null when it can)
RAW = "_testo"  # CSV only: the line as written for a row with a problem (identifiers masked)
BATCH_ROWS = 250_000

MSG_FIELDS = (
    "la riga ha {found} campi ma l'intestazione ne ha {expected}: controllare separatori e virgolette "
    "(un valore che contiene il separatore va racchiuso tra virgolette)"
)
MSG_NUL = "la riga contiene un carattere nullo (byte 0): correggere o riesportare il file"
MSG_BAD_BYTES = (
    "la riga contiene byte che non sono testo nella codifica del file (UTF-8 o Windows-1252): "
    "correggere o riesportare il file"
)


class ReadError(ValueError):
    """The file cannot be read at all: nothing is loaded from it."""


@dataclass
class SourceFile:
    """An opened input: its columns (as written) and a batch iterator."""

    path: Path
    kind: str  # csv | xlsx | parquet
    columns: list[str]
    _batches: object
    encoding: str = "utf-8"
    separator: str = ","
    sheet: str | None = None
    temp_files: list[Path] = field(default_factory=list)

    def batches(self) -> Iterator[pl.DataFrame]:
        return self._batches()

    def close(self) -> None:
        for tmp in self.temp_files:
            tmp.unlink(missing_ok=True)


def detect_kind(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if suffix in (".xlsx", ".xlsm", ""):
            return "xlsx"
        raise ReadError(f"Il file {path.name} è un archivio compresso, non un CSV/XLSX/Parquet leggibile.")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            f"Il file {path.name} è nel vecchio formato Excel (.xls): salvarlo come .xlsx o .csv e ricaricarlo."
        )
    if head.startswith(b"%PDF"):
        raise ReadError(f"Il file {path.name} è un PDF: servono file CSV, XLSX o Parquet.")
    if suffix in (".xlsx", ".xlsm", ".parquet"):
        raise ReadError(f"Il file {path.name} ha estensione {suffix} ma il contenuto non corrisponde al formato.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text, as Excel saves "Testo Unicode"
    if b"\x00" in head[:4096]:
        nul_share = head[:4096].count(b"\x00") / max(len(head[:4096]), 1)
        if nul_share > 0.2:
            raise ReadError(f"Il file {path.name} non è un file di testo (CSV) né un XLSX o Parquet.")
        # a few NUL bytes in a text file: the rows holding them are rejected (MSG_NUL), the rest loads
    return "csv"


def open_source(path: Path | str, table_hint: str | None = None) -> SourceFile:
    path = Path(path)
    if not path.exists():
        raise ReadError(f"Il file {path} non esiste.")
    if path.stat().st_size == 0:
        raise ReadError(f"Il file {path.name} è vuoto.")
    with open(path, "rb") as fh:
        head = fh.read(65536)
    kind = detect_kind(path, head)
    if kind == "csv":
        return _open_csv(path, head)
    if kind == "xlsx":
        return _open_xlsx(path, table_hint)
    return _open_parquet(path)


# --- CSV ---------------------------------------------------------------------


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_INVALID = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, as surrogateescape decodes them
_UTF8_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _has_utf8_text(path: Path) -> bool:
    """A file that is not all UTF-8: does it still hold UTF-8 multibyte characters (then a few bytes are
    damaged), or none (then it is Windows-1252, where every accented letter is an invalid UTF-8 byte)?"""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if _UTF8_NON_ASCII.search(decoder.decode(chunk)):
                return True
    return False


def _text_encoding(path: Path, head: bytes) -> str:
    """utf-16 (BOM), utf-8, utf-8 with damaged bytes ("utf-8-damaged"), else cp1252."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if _is_utf8(path):
        return "utf-8"
    return "utf-8-damaged" if _has_utf8_text(path) else "cp1252"


def _transcode(path: Path, encoding: str) -> Path:
    """Windows-1252, UTF-16 or damaged UTF-8 → a UTF-8 temporary copy, streamed (removed by `SourceFile.close`).

    Bytes that are not text in `encoding` become U+FFFD: the rows holding one are rejected (MSG_BAD_BYTES).
    """
    tmp = tempfile.NamedTemporaryFile(prefix="pdz_", suffix=".csv", delete=False)
    tmp.close()
    with (
        open(path, encoding=encoding, errors="replace", newline="") as src,
        open(tmp.name, "w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return Path(tmp.name)


def _sniff_separator(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", ",", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _open_csv(path: Path, head: bytes) -> SourceFile:
    encoding = _text_encoding(path, head)
    if encoding == "utf-8-damaged":
        text_path, encoding = _transcode(path, "utf-8-sig"), "utf-8"
    else:
        text_path = path if encoding == "utf-8" else _transcode(path, encoding)
    try:
        return _open_text_csv(path, text_path, encoding)
    except BaseException:
        if text_path != path:
            text_path.unlink(missing_ok=True)
        raise


def _open_text_csv(path: Path, text_path: Path, encoding: str) -> SourceFile:
    with open(text_path, encoding="utf-8-sig", newline="") as fh:
        first = ""
        for line in fh:
            if line.strip():
                first = line
                break
    if not first:
        raise ReadError(f"Il file {path.name} non contiene righe.")
    sep = _sniff_separator(first)
    try:
        lf = pl.scan_csv(
            text_path,
            separator=sep,
            infer_schema=False,
            encoding="utf8",
            truncate_ragged_lines=True,  # longer rows are found and rejected by `_line_problems`, never cut
            raise_if_empty=True,
        )
        columns = lf.collect_schema().names()
    except Exception as exc:  # polars raises several error types for unreadable text
        raise ReadError(f"Il file {path.name} non è un CSV leggibile: {_short(exc)}") from exc
    columns = [c.replace("\ufeff", "") for c in columns]
    renames = dict(zip(lf.collect_schema().names(), columns))
    try:
        problems = _line_problems(text_path, sep, len(columns))
    except pl.exceptions.PolarsError as exc:
        raise ReadError(f"Il file {path.name} non è un CSV leggibile: {_short(exc)}") from exc

    def polars_batches() -> Iterator[pl.DataFrame]:
        offset = 2
        try:
            for batch in lf.rename(renames).collect_batches(chunk_size=BATCH_ROWS):
                n = batch.height
                batch = batch.with_columns(pl.int_range(offset, offset + n, dtype=pl.Int64).alias(ROW))
                offset += n
                if problems.height:
                    batch = batch.join(problems, on=ROW, how="left", maintain_order="left")
                else:
                    none = pl.lit(None, pl.String)
                    batch = batch.with_columns(none.alias(PROBLEM), none.alias(RAW))
                yield _drop_blank(batch)
        except pl.exceptions.ComputeError as exc:
            raise ReadError(f"Il file {path.name} non è un CSV leggibile: {_short(exc)}") from exc

    def python_batches() -> Iterator[pl.DataFrame]:
        return _python_batches(text_path, sep, columns)

    temp = [text_path] if text_path != path else []
    batches = python_batches if problems is None else polars_batches
    return SourceFile(path, "csv", columns, batches, encoding=encoding, separator=sep, temp_files=temp)


_QUOTED = r'"(?:[^"]|"")*"'
_REGEX_SEPARATORS = {",": ",", ";": ";", "\t": "\\t", "|": "\\|"}  # as Polars' (Rust) regex writes them
_PROBLEMS_SCHEMA = {ROW: pl.Int64, PROBLEM: pl.String, RAW: pl.String}


def _line_problems(text_path: Path, sep: str, n_columns: int) -> pl.DataFrame | None:
    """The rows Polars would misread, with the reason (`_riga`, `_problema`, `_testo`), from a vectorised
    look at every line; None when the quoting is irregular (a line is not a sequence of plain or fully
    quoted fields: a value over several lines, a quote inside a value), to be read by `_python_batches`.

    A line is a record here (values over several lines send the file to the other reader), and `_riga`
    follows Polars: the header is the first line that is not empty, and every later line is a row.
    Extra fields that are all empty (a separator at the end of the line) lose nothing and are accepted.
    """
    s = _REGEX_SEPARATORS[sep]
    field = f'(?:{_QUOTED}|[^"{s}]*)'
    lines = pl.scan_lines(text_path, name="l").with_row_index("i")
    header = lines.filter(pl.col("l").str.strip_chars() != "").select("i").head(1).collect()
    if header.height == 0:
        return pl.DataFrame(schema=_PROBLEMS_SCHEMA)
    start = header["i"][0]
    line = pl.col("l")
    quoted = line.str.contains('"', literal=True)
    nul, bad = line.str.contains("\x00", literal=True), line.str.contains("\ufffd", literal=True)
    # A cheap first look at every line; only the lines it flags are looked at closely. A line whose quoted
    # values hold no separator and no quote (`"a","b"`, the usual export) has exactly its separators' count.
    simple_field = f'(?:"[^"{s}]*"|[^"{s}]*)'
    simple = line.str.contains(f"^{simple_field}(?:{s}{simple_field})*$")
    candidates = lines.filter(
        (pl.col("i") > start)
        & (nul | bad | (line.str.count_matches(sep, literal=True) != n_columns - 1) | (quoted & ~simple))
    )
    plain = pl.when(quoted).then(line.str.replace_all(_QUOTED, "q")).otherwise(line)  # each quoted value: "q"
    seps = plain.str.count_matches(sep, literal=True)
    seps_kept = plain.str.replace(f"(?:{s}[ \t]*)+$", "").str.count_matches(sep, literal=True)
    content = line.str.replace_all(f'[{s}\\s"]', "") != ""
    irregular = quoted & ~line.str.contains(f"^{field}(?:{s}{field})*$")
    reason = (
        pl.when(nul)
        .then(pl.lit(MSG_NUL))
        .when(bad)
        .then(pl.lit(MSG_BAD_BYTES))
        .when((seps_kept > n_columns - 1) | (seps < n_columns - 1))
        .then(
            pl.format(
                MSG_FIELDS.replace("{found}", "{}").replace("{expected}", str(n_columns)),
                (pl.when(seps_kept > n_columns - 1).then(seps_kept).otherwise(seps) + 1).cast(pl.String),
            )
        )
    )
    found = (
        candidates.select(
            (pl.col("i") - start + 1).cast(pl.Int64).alias(ROW),
            pl.when(content).then(reason).alias(PROBLEM),
            irregular.alias("_irregolare"),
            line.alias(RAW),
        )
        .filter(pl.col(PROBLEM).is_not_null() | pl.col("_irregolare"))
        .collect()
    )
    if found["_irregolare"].any():
        return None
    return found.select(ROW, PROBLEM, redact.masked_expr(pl.col(RAW)).alias(RAW))


def _python_batches(text_path: Path, sep: str, columns: list[str]) -> Iterator[pl.DataFrame]:
    """Record by record with Python's csv module (irregular quoting): the same batches as Polars gives,
    with `_problema`/`_testo` on the rows whose number of fields differs from the header's."""
    csv.field_size_limit(1 << 30)
    n = len(columns)
    with open(text_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, quotechar='"', doublequote=True, strict=False)
        for record in reader:  # the header: the first record that is not blank
            if any(v.strip() for v in record):
                break
        riga = 2
        while True:
            chunk = list(itertools.islice(reader, BATCH_ROWS))
            if not chunk:
                return
            values: list[list[str | None]] = [[] for _ in range(n)]
            problems: list[str | None] = []
            raws: list[str | None] = []
            for record in chunk:
                problem = _record_problem(record, n)
                problems.append(problem)
                raws.append(sep.join(record) if problem else None)
                record = record[:n] + [""] * (n - len(record))
                for j, v in enumerate(record):
                    values[j].append(v if v != "" else None)
            frame = pl.DataFrame(
                {
                    **{c: pl.Series(c, values[j], dtype=pl.String) for j, c in enumerate(columns)},
                    ROW: pl.int_range(riga, riga + len(chunk), dtype=pl.Int64, eager=True),
                    PROBLEM: pl.Series(PROBLEM, problems, dtype=pl.String),
                    RAW: redact.masked_series(pl.Series(RAW, raws, dtype=pl.String)),
                }
            )
            riga += len(chunk)
            yield _drop_blank(frame)


def _record_problem(record: list[str], n_columns: int) -> str | None:
    text = "".join(record)
    if not text.strip():
        return None  # a blank line: not a record
    if "\x00" in text:
        return MSG_NUL
    if "\ufffd" in text:
        return MSG_BAD_BYTES
    kept = len(record)
    while kept > n_columns and not record[kept - 1].strip():
        kept -= 1  # empty extra fields lose nothing
    if kept > n_columns or len(record) < n_columns:
        return MSG_FIELDS.format(found=kept if kept > n_columns else len(record), expected=n_columns)
    return None


# --- XLSX --------------------------------------------------------------------


XLSX_MAX_ENTRIES = 2000  # a workbook has tens of parts; thousands means something else
XLSX_MAX_RATIO = 200  # uncompressed / compressed, per part larger than XLSX_RATIO_FROM
XLSX_RATIO_FROM = 4 * 1024 * 1024


def check_xlsx_archive(path: Path, shown: str | None = None) -> None:
    """Refuse a zip bomb before any reader decompresses it.

    Reads the central directory (entries, declared sizes, ratios), then
    decompresses each part in chunks, counting real bytes: a part that
    inflates past its declared size or past the total limit stops at once.
    """
    import zipfile

    name = shown or path.name
    limit = settings.max_xlsx_uncompressed_bytes()
    mb = f"{limit / 1024 / 1024:.0f}"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > XLSX_MAX_ENTRIES:
                raise ReadError(
                    f"Il file {name} contiene {len(infos)} parti compresse (al massimo {XLSX_MAX_ENTRIES}): "
                    "non è un normale foglio XLSX e non viene aperto."
                )
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise ReadError(f"Il file {name} è un archivio compresso ma non un foglio Excel XLSX.")
            declared = sum(i.file_size for i in infos)
            if declared > limit:
                raise ReadError(
                    f"Il file {name} una volta decompresso occuperebbe {declared / 1024 / 1024:.0f} MB, oltre il "
                    f"limite di {mb} MB: non viene aperto (possibile «zip bomb»)."
                )
            for i in infos:
                if i.file_size > XLSX_RATIO_FROM and i.file_size > XLSX_MAX_RATIO * max(i.compress_size, 1):
                    raise ReadError(
                        f"Il file {name} ha una parte compressa {i.file_size // max(i.compress_size, 1)} volte "
                        f"(al massimo {XLSX_MAX_RATIO}): non viene aperto (possibile «zip bomb»)."
                    )
            total = 0
            for i in infos:
                with zf.open(i) as member:
                    seen = 0
                    while chunk := member.read(1 << 20):
                        seen += len(chunk)
                        total += len(chunk)
                        if seen > i.file_size or total > limit:
                            raise ReadError(
                                f"Il file {name} si decomprime oltre le dimensioni dichiarate o oltre {mb} MB: "
                                "non viene aperto (possibile «zip bomb»)."
                            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(f"Il file {name} non è un XLSX leggibile (archivio danneggiato: {_short(exc)}).") from exc


def _open_xlsx(path: Path, table_hint: str | None) -> SourceFile:
    import fastexcel

    check_xlsx_archive(path)
    try:
        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
    except Exception as exc:
        raise ReadError(f"Il file {path.name} non è un XLSX leggibile: {_short(exc)}") from exc
    if not names:
        raise ReadError(f"Il file {path.name} non ha fogli.")
    sheet = names[0]
    if table_hint:
        for name in names:
            if header_key(name) == header_key(table_hint):
                sheet = name
                break
    try:
        df = pl.read_excel(
            path,
            sheet_name=sheet,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except Exception as exc:
        raise ReadError(f"Il foglio «{sheet}» di {path.name} non è leggibile: {_short(exc)}") from exc
    df = df.select([c for c in df.columns if not c.startswith("__UNNAMED__")])
    df = df.with_columns(pl.all().cast(pl.String)).with_columns(
        pl.int_range(2, 2 + df.height, dtype=pl.Int64).alias(ROW)
    )

    def batches() -> Iterator[pl.DataFrame]:
        for start in range(0, df.height, BATCH_ROWS):
            yield _drop_blank(df.slice(start, BATCH_ROWS))

    return SourceFile(path, "xlsx", [c for c in df.columns if c != ROW], batches, sheet=sheet)


# --- Parquet -----------------------------------------------------------------


def _open_parquet(path: Path) -> SourceFile:
    try:
        lf = pl.scan_parquet(path)
        schema = lf.collect_schema()
    except Exception as exc:
        raise ReadError(f"Il file {path.name} non è un Parquet leggibile: {_short(exc)}") from exc
    as_text = [
        (pl.col(c).dt.strftime("%Y-%m-%d") if dtype in (pl.Date, pl.Datetime) else pl.col(c).cast(pl.String)).alias(c)
        for c, dtype in schema.items()
    ]

    def batches() -> Iterator[pl.DataFrame]:
        offset = 2
        for batch in lf.select(as_text).collect_batches(chunk_size=BATCH_ROWS):
            n = batch.height
            yield _drop_blank(batch.with_columns(pl.int_range(offset, offset + n, dtype=pl.Int64).alias(ROW)))
            offset += n

    return SourceFile(path, "parquet", list(schema.names()), batches)


# --- helpers -----------------------------------------------------------------


def _drop_blank(batch: pl.DataFrame) -> pl.DataFrame:
    """Rows with no value are not records (a row with a problem is kept: it is rejected with its reason)."""
    cols = [c for c in batch.columns if c not in (ROW, PROBLEM, RAW)]
    if not cols:
        return batch
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in cols])
    if PROBLEM in batch.columns:
        blank = blank & pl.col(PROBLEM).is_null()
    return batch.filter(~blank)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
