"""Downloads: `st.download_button` that logs each download in the audit, and the three
reports (PDF, PowerPoint, Excel) of a territory, prepared on click with their progress shown, always public.
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
    """The three reports for a territory and year (public view, always; the role's territorial levels,
    as on the screens: no comune for the Regione).

    «Prepara» makes the report in front of the user (a status box with a progress bar: data, maps and
    charts n of 58, layout), then offers the download; the file stays ready in the session for the same
    data version, territory and year.
    """
    with st.expander(f"Scarica i report per {f.name_of(territorio)} ({f.year})", icon=":material/download:"):
        st.caption(
            "Sempre con il segreto statistico applicato. Ogni report si prepara in pochi secondi: mappe e grafici "
            "già disegnati per questi dati vengono riusati."
        )
        for col, (fmt, label) in zip(st.columns(3), REPORT_LABELS.items(), strict=True):
            with col:
                _report(f, territorio, fmt, label)


def _report(f: Frame, territorio: str, fmt: str, label: str) -> None:
    from indicators import reports

    ready_key = f"report_ready_{fmt}"
    ident = (f.version, territorio, f.year, tuple(f.access.levels))
    ready = st.session_state.get(ready_key)
    if not (ready and ready[0] == ident):
        if not st.button(f"Prepara: {label}", key=f"report_make_{fmt}", icon=":material/description:"):
            return
        with st.status(f"Preparo: {label}", expanded=True) as status:
            bar = st.progress(0.0, text="Leggo i dati pubblici…")
            try:
                data = reports.report_bytes(
                    snapshot_cursor(db_path()),
                    fmt,
                    territory=territorio,
                    year=f.year,
                    levels=f.access.levels,
                    progress=lambda done, text: bar.progress(min(max(done, 0.0), 1.0), text=text),
                )
            except reports.ReportError as exc:
                status.update(label=f"{label}: non preparato", state="error")
                st.error(str(exc))
                return
            status.update(label=f"{label}: pronto", state="complete", expanded=False)
        ready = (ident, data)
        st.session_state[ready_key] = ready
    download_button(
        f,
        f"Scarica: {label}",
        ready[1],
        reports.default_filename(fmt, territorio, f.year),
        reports.MIME_TYPES[fmt],
        what=f"report {fmt} {territorio} {f.year}",
        key=f"report_{fmt}",
        icon=":material/download:",
    )
