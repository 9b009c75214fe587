"""Reports for the Assemblea dei Sindaci and Regione Lombardia: PDF, PPTX and XLSX.

    from indicators.reports import build_report, report_bytes
    build_report(con, "pdf", "relazione.pdf", territory="SA2", year=2025)  # -> Path
    data = report_bytes(con, "xlsx", levels=access.levels)  # bytes, for st.download_button

All three use the public table (disclosure control on: suppressed cells are "n.p."), label demo
data and provisional sub-ambiti, and default to the last complete year. `levels` (the role's,
`core.users.levels_for`) drops the levels the reader may not see: for the Regione no comune
value, map or sheet. No browser: maps and charts are drawn in Python (`drawing.py`: matplotlib,
numpy, Pillow) and cached by what they show (`images.py`), so the PPTX made after the PDF of the
same warehouse version reuses every image; the PDF is laid out by ReportLab (`pdf.py`).
`progress(fraction, text)` reports the steps (the dashboard shows them).
Command line: `python -m indicators report --format pdf|pptx|xlsx --out FILE [--db PATH]
[--territory T] [--year Y] [--ruolo regione]` (`reports/cli.py`, registered by `indicators/__main__.py`).
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from core.users import ALL_LEVELS
from indicators.reports.common import ReportContext, ReportError, prepare

FORMATS = ("pdf", "pptx", "xlsx")
MIME_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

__all__ = [
    "FORMATS",
    "MIME_TYPES",
    "Progress",
    "ReportContext",
    "ReportError",
    "build_report",
    "default_filename",
    "report_bytes",
    "write_report",
]


Progress = Callable[[float, str], None]  # (fraction done 0..1, Italian text of the step)
STEPS = {"prepare": (0.0, 0.1), "images": (0.1, 0.85), "layout": (0.85, 1.0)}


@contextmanager
def _no_cycle_collector() -> Iterator[None]:
    """Layout and drawing make hundreds of thousands of short-lived objects and no cycles worth
    collecting: the cyclic collector would run ~500 times per PDF (a third of a second)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_report(ctx: ReportContext, fmt: str, out: Path | str, progress: Progress | None = None) -> Path:
    """Write an already prepared context in one format."""
    with _no_cycle_collector():
        return _write_report(ctx, fmt, out, progress)


def _write_report(ctx: ReportContext, fmt: str, out: Path | str, progress: Progress | None) -> Path:
    if fmt not in FORMATS:
        raise ReportError(f"Formato sconosciuto: «{fmt}». Usare {', '.join(FORMATS)}.")
    report = progress or (lambda _f, _t: None)
    if fmt == "xlsx":
        from indicators.reports.xlsx import write_xlsx

        report(STEPS["layout"][0], "Compilo le tabelle…")
        path = write_xlsx(ctx, Path(out))
        report(1.0, "Pronto.")
        return path
    from indicators.reports.images import report_images

    lo, hi = STEPS["images"]
    images = report_images(
        ctx, lambda done, total: report(lo + (hi - lo) * done / total, f"Mappe e grafici: {done} di {total}")
    )
    report(STEPS["layout"][0], "Impagino il documento…" if fmt == "pdf" else "Compongo le diapositive…")
    if fmt == "pdf":
        from indicators.reports.pdf import write_pdf

        path = write_pdf(ctx, Path(out), images)
    else:
        from indicators.reports.slides import write_pptx

        path = write_pptx(ctx, Path(out), images)
    report(1.0, "Pronto.")
    return path


def build_report(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    out: Path | str,
    territory: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
    progress: Progress | None = None,
    levels: Sequence[str] = ALL_LEVELS,
) -> Path:
    """Build the report in `fmt` ('pdf', 'pptx' or 'xlsx') at `out` and return its path.

    territory: None or 'AMBITO', a sub-ambito code ('SA2') or a comune ISTAT code ('019035').
    year: default the last complete (not year-to-date) year. levels: what the reader's role may
    see (`core.users.levels_for`; default every level). Raises ReportError (Italian message)
    for an unknown territory or year, or a territory the levels hide.
    """
    if fmt not in FORMATS:
        raise ReportError(f"Formato sconosciuto: «{fmt}». Usare {', '.join(FORMATS)}.")
    if progress:
        progress(STEPS["prepare"][0], "Leggo i dati pubblici…")
    ctx = prepare(con, territory, year, as_of, levels=levels)
    return write_report(ctx, fmt, out, progress)


def report_bytes(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    territory: str | None = None,
    year: int | None = None,
    *,
    levels: Sequence[str],
    progress: Progress | None = None,
) -> bytes:
    """The report as bytes (for a download button): build_report into a temporary file.

    levels is required: a download is always for a role (`Access.levels`), never "everything" by default.
    """
    with tempfile.TemporaryDirectory(prefix="pdz-download-") as tmp:
        path = build_report(con, fmt, Path(tmp) / f"report.{fmt}", territory, year, levels=levels, progress=progress)
        return path.read_bytes()


def default_filename(fmt: str, territory: str | None = None, year: int | None = None) -> str:
    """e.g. 'monitoraggio_pdz_AMBITO_2025.pdf'."""
    parts = ["monitoraggio_pdz", (territory or "AMBITO").upper()] + ([str(year)] if year else [])
    return "_".join(parts) + f".{fmt}"
