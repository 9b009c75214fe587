"""Reports for the Assemblea dei Sindaci and Regione Lombardia: PDF, PPTX and XLSX.

    from indicators.reports import build_report, report_bytes
    build_report(con, "pdf", "relazione.pdf", territory="SA2", year=2025)  # -> Path
    data = report_bytes(con, "xlsx", levels=access.levels)  # bytes, for st.download_button

All three use the public table (disclosure control on: suppressed cells are "n.p."), label demo
data and provisional sub-ambiti, and default to the last complete year. `levels` (the role's,
`core.users.levels_for`) drops the levels the reader may not see: for the Regione no comune
value, map or sheet. PDF and PPTX draw their maps and charts in headless Chromium (`images.py`);
XLSX needs no browser.
Command line: `python -m indicators report --format pdf|pptx|xlsx --out FILE [--db PATH]
[--territory T] [--year Y] [--ruolo regione]` (`reports/cli.py`, registered by `indicators/__main__.py`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
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

__all__ = ["FORMATS", "MIME_TYPES", "ReportContext", "ReportError", "build_report", "default_filename",
           "report_bytes", "write_report"]  # fmt: skip


def write_report(ctx: ReportContext, fmt: str, out: Path | str) -> Path:
    """Write an already prepared context in one format."""
    if fmt == "pdf":
        from indicators.reports.pdf import write_pdf

        return write_pdf(ctx, Path(out))
    if fmt == "pptx":
        from indicators.reports.slides import write_pptx

        return write_pptx(ctx, Path(out))
    if fmt == "xlsx":
        from indicators.reports.xlsx import write_xlsx

        return write_xlsx(ctx, Path(out))
    raise ReportError(f"Formato sconosciuto: «{fmt}». Usare {', '.join(FORMATS)}.")


def build_report(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    out: Path | str,
    territory: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
    levels: Sequence[str] = ALL_LEVELS,
) -> Path:
    """Build the report in `fmt` ('pdf', 'pptx' or 'xlsx') at `out` and return its path.

    territory: None or 'AMBITO', a sub-ambito code ('SA2') or a comune ISTAT code ('019035').
    year: default the last complete (not year-to-date) year. levels: what the reader's role may
    see (`core.users.levels_for`; default every level). Raises ReportError (Italian message)
    for an unknown territory or year, a territory the levels hide, or when Chromium is missing
    (PDF and PPTX).
    """
    if fmt not in FORMATS:
        raise ReportError(f"Formato sconosciuto: «{fmt}». Usare {', '.join(FORMATS)}.")
    ctx = prepare(con, territory, year, as_of, levels=levels)
    return write_report(ctx, fmt, out)


def report_bytes(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    territory: str | None = None,
    year: int | None = None,
    *,
    levels: Sequence[str],
) -> bytes:
    """The report as bytes (for a download button): build_report into a temporary file.

    levels is required: a download is always for a role (`Access.levels`), never "everything" by default.
    """
    with tempfile.TemporaryDirectory(prefix="pdz-download-") as tmp:
        path = build_report(con, fmt, Path(tmp) / f"report.{fmt}", territory, year, levels=levels)
        return path.read_bytes()


def default_filename(fmt: str, territory: str | None = None, year: int | None = None) -> str:
    """e.g. 'monitoraggio_pdz_AMBITO_2025.pdf'."""
    parts = ["monitoraggio_pdz", (territory or "AMBITO").upper()] + ([str(year)] if year else [])
    return "_".join(parts) + f".{fmt}"
