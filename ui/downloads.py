"""Downloads: `st.download_button` that logs each download in the audit, and the three
reports (PDF, PowerPoint, Excel) of a territory, generated on click, always public.
"""

from __future__ import annotations

import streamlit as st

from core.users import Access
from ui.audit import audit_action
from ui.filters import Frame
from ui.session import db_path, snapshot_cursor


def download_button(who: Frame | Access, label: str, data, file_name: str, mime: str, what: str, **kwargs) -> None:
    """`st.download_button` that logs the download (who, which file, what it held) in the audit."""

    def logged() -> None:
        audit_action(who, "esportazione", file_name, "ok", what)

    st.download_button(label, data, file_name=file_name, mime=mime, on_click=logged, **kwargs)


REPORT_LABELS = {
    "pdf": "Relazione (PDF)",
    "pptx": "Presentazione (PowerPoint)",
    "xlsx": "Tabelle per la Regione (Excel)",
}


def report_downloads(f: Frame, territorio: str) -> None:
    """The three reports for a territory and year, generated when clicked (public view, always; the
    role's territorial levels, as on the screens: no comune for the Regione)."""
    from indicators import reports

    path = db_path()

    def maker(fmt: str):
        def make() -> bytes:
            return reports.report_bytes(
                snapshot_cursor(path), fmt, territory=territorio, year=f.year, levels=f.access.levels
            )

        return make

    with st.expander(f"Scarica i report per {f.name_of(territorio)} ({f.year})", icon=":material/download:"):
        st.caption(
            "Sempre con il segreto statistico applicato. Il PDF e la presentazione richiedono circa mezzo minuto."
        )
        for col, (fmt, label) in zip(st.columns(3), REPORT_LABELS.items(), strict=True):
            with col:
                download_button(
                    f, label, maker(fmt), reports.default_filename(fmt, territorio, f.year), reports.MIME_TYPES[fmt],
                    what=f"report {fmt} {territorio} {f.year}", key=f"report_{fmt}",
                )  # fmt: skip
