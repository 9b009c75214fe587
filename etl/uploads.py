"""Checks on a file received from the dashboard, before the loader opens it.

The browser's `type=` filter is a convenience, not a control: the server checks
the extension, the size, and that the content is what the extension says
(magic bytes through `readers.detect_kind`, plus a text check for CSV), and for
XLSX the zip archive itself (`readers.check_xlsx_archive`: number of entries,
total uncompressed size, compression ratio) before anything decompresses it.
Every refusal is an `UploadRefused` with a message in Italian.
"""

from __future__ import annotations

from pathlib import Path

from core import settings
from etl.readers import ReadError, check_xlsx_archive, detect_kind

ALLOWED = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
KIND_LABELS = {"csv": "testo CSV", "xlsx": "foglio Excel XLSX", "parquet": "Parquet"}
_CONTROL = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | {127}


class UploadRefused(ValueError):
    """The file is refused before loading (message in Italian)."""


def safe_name(name: str) -> str:
    """The file name without folders or control characters (what is shown and logged)."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:200] or "file"


def check_name_and_size(name: str, size: int) -> str:
    """Before the file is even written to disk: extension and size. Returns the expected kind."""
    shown = safe_name(name)
    suffix = Path(shown).suffix.lower()
    if suffix not in ALLOWED:
        allowed = ", ".join(ALLOWED)
        raise UploadRefused(
            f"{shown}: estensione «{suffix or 'nessuna'}» non ammessa. Si caricano solo file {allowed}."
        )
    limit = settings.max_upload_bytes()
    if size > limit:
        raise UploadRefused(
            f"{shown}: il file pesa {_mb(size)} MB, oltre il limite di {_mb(limit)} MB per i caricamenti "
            "dal cruscotto (per file più grandi usare `python -m etl load`)."
        )
    if size == 0:
        raise UploadRefused(f"{shown}: il file è vuoto.")
    return ALLOWED[suffix]


def check_upload(path: Path, name: str) -> str:
    """Refuse what the loader must not open; returns the kind (csv | xlsx | parquet)."""
    shown = safe_name(name)
    suffix = Path(shown).suffix.lower()
    expected = check_name_and_size(name, Path(path).stat().st_size)
    with open(path, "rb") as fh:
        head = fh.read(65536)
    try:
        kind = detect_kind(Path(shown), head)
    except ReadError as exc:
        raise UploadRefused(f"{shown}: il contenuto non corrisponde all'estensione {suffix}. {exc}") from exc
    if kind != expected:
        raise UploadRefused(
            f"{shown}: l'estensione {suffix} indica un {KIND_LABELS[expected]}, ma il contenuto è un "
            f"{KIND_LABELS[kind]}. Rinominare il file con l'estensione giusta o esportarlo di nuovo."
        )
    if kind == "csv":
        _check_text(shown, head)
    elif kind == "parquet":
        _check_parquet(path, shown)
    else:
        try:
            check_xlsx_archive(Path(path), shown)
        except ReadError as exc:
            raise UploadRefused(str(exc)) from exc
    return kind


def _check_text(shown: str, head: bytes) -> None:
    """A CSV is text: no binary signatures, (almost) no control bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text, as Excel saves "Testo Unicode"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"MZ", b"\x7fELF", b"BZh")):
        raise UploadRefused(f"{shown}: il contenuto è un archivio o un programma, non un file di testo CSV.")
    control = sum(1 for b in head if b in _CONTROL)
    if control > max(2, len(head) // 100):
        raise UploadRefused(f"{shown}: il contenuto non è testo (CSV): contiene caratteri di controllo o binari.")


def _check_parquet(path: Path, shown: str) -> None:
    with open(path, "rb") as fh:
        fh.seek(-4, 2)
        if fh.read(4) != b"PAR1":
            raise UploadRefused(f"{shown}: il file Parquet è incompleto o danneggiato (manca la chiusura PAR1).")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".replace(".", ",")
