"""Readers: any accepted file becomes batches of text columns plus `_riga`.

Every value is read as text; normalisation and validation come later, so a
malformed value is reported, never silently coerced. `_riga` is the row as a
person sees it in a spreadsheet: the header is row 1, the first record row 2.
Fully blank rows are not records and are skipped.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from core import settings
from core.normalize import header_key

ROW = "_riga"
BATCH_ROWS = 250_000


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
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise ReadError(
            f"Il file {path.name} contiene un carattere nullo (byte 0) alla riga {line}: "
            "correggere o riesportare il file e ricaricarlo."
        )
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


def _transcode(path: Path, encoding: str) -> Path:
    """Windows-1252 or UTF-16 → a UTF-8 temporary copy, streamed (removed by `SourceFile.close`)."""
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
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8" if _is_utf8(path) else "cp1252"
    text_path = path if encoding == "utf-8" else _transcode(path, encoding)
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
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
        columns = lf.collect_schema().names()
    except Exception as exc:  # polars raises several error types for unreadable text
        raise ReadError(f"Il file {path.name} non è un CSV leggibile: {_short(exc)}") from exc
    columns = [c.replace("\ufeff", "") for c in columns]
    renames = dict(zip(lf.collect_schema().names(), columns))

    def batches() -> Iterator[pl.DataFrame]:
        offset = 2
        try:
            for batch in lf.rename(renames).collect_batches(chunk_size=BATCH_ROWS):
                n = batch.height
                batch = batch.with_columns(pl.int_range(offset, offset + n, dtype=pl.Int64).alias(ROW))
                offset += n
                yield _drop_blank(batch)
        except pl.exceptions.ComputeError as exc:
            raise ReadError(f"Il file {path.name} non è un CSV leggibile: {_short(exc)}") from exc

    temp = [text_path] if text_path != path else []
    return SourceFile(path, "csv", columns, batches, encoding=encoding, separator=sep, temp_files=temp)


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
    cols = [c for c in batch.columns if c != ROW]
    if not cols:
        return batch
    blank = pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in cols])
    return batch.filter(~blank)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
