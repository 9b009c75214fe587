"""Uploaded files → the loader, with a progress bar. Streamlit glue only."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from etl.loader import LoadResult, load_files
from pages import common


def load_uploaded(files) -> list[LoadResult]:
    """Save each upload to a private temporary folder, load it, report progress."""
    bar = st.progress(0.0, text="Caricamento in corso…")
    results: list[LoadResult] = []
    with tempfile.TemporaryDirectory(prefix="pdz_upload_") as tmp:
        for i, uploaded in enumerate(files):
            safe_name = Path(uploaded.name).name or f"file_{i}"
            path = Path(tmp) / f"{i:03d}_{safe_name}"
            path.write_bytes(uploaded.getbuffer())

            def progress(done: int, expected: int | None, i=i, name=safe_name) -> None:
                share = min(done / expected, 1.0) if expected else 0.5
                bar.progress((i + share) / len(files), text=f"{name}: {done:,} righe lette".replace(",", "."))

            results += load_files([path], db=common.db_path(), progress=progress, display_names={str(path): safe_name})
    bar.progress(1.0, text="Caricamento completato")
    return results
