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


PREPARED_KEY = "pdz_prepared_files"


def _prepared(key: str, identity: tuple, button: str, button_key: str, icon: str, make, hint: str | None = None):
    """A file made when its button is clicked and kept for this session while `identity` (data version, name,
    territory...) stays the same: None until then (the button is shown), the file's bytes after. `make()`
    shows its own progress and returns the bytes, or None when it could not (it says why)."""
    store = st.session_state.setdefault(PREPARED_KEY, {})
    ready = store.get(key)
    if ready and ready[0] == identity:
        return ready[1]
    if not st.button(button, key=button_key, icon=icon, help=hint):
        return None
    data = make()
    if data is not None:
        store[key] = (identity, data)
    return data


def prepared_download(f: Frame, label: str, make, file_name: str, mime: str, what: str, key: str, wait: str) -> None:
    """An export that takes more than a second: a button prepares it under a spinner with the seconds
    counting, then the download button hands the file over (kept for this session, this data and name)."""

    def with_spinner():
        with st.spinner(f"Preparo {label}… ({wait})", show_time=True):
            return make()

    data = _prepared(
        key,
        (file_name, f.version),
        f"Prepara: {label.removeprefix('Scarica ')}",
        f"{key}_prepara",
        ":material/hourglass_top:",
        with_spinner,
        hint=f"Il file viene preparato ora ({wait}); poi compare il pulsante per scaricarlo.",
    )
    if data is not None:
        download_button(f, label, data, file_name, mime, what, key=key, icon=":material/download:", type="primary")


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

    def with_progress():
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
                return None
            status.update(label=f"{label}: pronto", state="complete", expanded=False)
        return data

    identity = (f.version, territorio, f.year, tuple(f.access.levels))
    data = _prepared(
        f"report_{fmt}", identity, f"Prepara: {label}", f"report_make_{fmt}", ":material/description:", with_progress
    )
    if data is not None:
        download_button(
            f,
            f"Scarica: {label}",
            data,
            reports.default_filename(fmt, territorio, f.year),
            reports.MIME_TYPES[fmt],
            what=f"report {fmt} {territorio} {f.year}",
            key=f"report_{fmt}",
            icon=":material/download:",
        )
