"""Uploaded files → server-side checks → the loader, with a progress bar. Streamlit glue only.

The browser's `type=` filter is not trusted: every file goes through
`etl.uploads.check_upload` (extension, size, content, XLSX archive) on the server,
and each refusal or load is written in the audit log.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from core import settings, warehouse
from core.users import Access
from etl import queries as etl_queries
from etl.loader import MSG_DEMO_WAREHOUSE, LoadResult, load_files
from etl.uploads import ALLOWED, UploadRefused, check_name_and_size, check_upload, safe_name
from indicators.catalog import indicator_ids
from ui.audit import audit_action
from ui.session import connection, db_path, refresh_after_write

__all__ = ["ALLOWED", "load_uploaded", "max_mb"]


def max_mb() -> int:
    return int(settings.max_upload_bytes() // (1024 * 1024))


def load_uploaded(files, access: Access) -> tuple[list[str], list[LoadResult]]:
    """Save each upload to a private temporary folder, check it, load it, report progress.

    Returns (Italian messages of the refused files, results of the loaded ones).
    """
    if not access.is_office:  # the page guard already refused; never load for another role
        raise PermissionError("caricamenti riservati all'Ufficio di Piano")
    if etl_queries.is_demo(connection()[1]):  # the loader refuses too; here nothing reaches the disk
        for uploaded in files:
            name = safe_name(uploaded.name)
            audit_action(access, "caricamento_rifiutato", name, "rifiutato", "database dimostrativo")
        return [f"{MSG_DEMO_WAREHOUSE[0].upper()}{MSG_DEMO_WAREHOUSE[1:]}. Nessun file è stato caricato."], []
    bar = st.progress(0.0, text="Caricamento in corso…")
    results: list[LoadResult] = []
    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pdz_upload_") as tmp:
        for i, uploaded in enumerate(files):
            name = safe_name(uploaded.name)
            path = Path(tmp) / f"{i:03d}_{Path(name).stem[:80]}{Path(name).suffix.lower()[:10]}"
            try:
                check_name_and_size(name, uploaded.size)  # before writing anything to disk
                path.write_bytes(uploaded.getbuffer())
                check_upload(path, name)
            except UploadRefused as exc:
                refused.append(str(exc))
                audit_action(access, "caricamento_rifiutato", name, "rifiutato", str(exc))
                continue

            def progress(done: int, expected: int | None, i=i, name=name) -> None:
                share = min(done / expected, 1.0) if expected else 0.5
                bar.progress((i + share) / len(files), text=f"{name}: {done:,} righe lette".replace(",", "."))

            try:
                loaded = load_files(
                    [path],
                    db=db_path(),
                    progress=progress,
                    display_names={str(path): name},
                    user=access.utente,
                    indicator_ids=indicator_ids(),
                )
            except warehouse.WarehouseUnavailable as exc:  # busy or damaged: its Italian message, no traceback
                refused.append(f"{name}: {exc}")
                audit_action(access, "caricamento", name, "fallito", str(exc))
                continue
            for r in loaded:
                esito = "ok" if r.status in ("loaded", "duplicate") else "fallito"
                audit_action(access, "caricamento", name, esito, r.summary_it())
            results += loaded
    bar.progress(1.0, text="Caricamento completato")
    if any(r.status == "loaded" for r in results):
        refresh_after_write()  # the page goes on to show this load's rejected rows
    return refused, results
