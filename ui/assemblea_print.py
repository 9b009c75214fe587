"""The Assemblea's paper (pages/assemblea.py): the PDF of the objective shown or of all those shown, built
by the report code (`indicators/reports/assemblea.py`) with its progress shown, then handed over."""

from __future__ import annotations

import streamlit as st

from indicators import assemblea
from ui import session
from ui.assemblea import Seduta
from ui.downloads import download_button


def printing(s: Seduta, shown: list[assemblea.Slide], current: assemblea.Slide) -> None:
    """PDF of this objective or of all those shown (A4 landscape, one per page): «Prepara» makes it with its
    progress shown (the report's images, cached), then the download button hands it over."""
    with st.container(key="assemblea_print", horizontal=True, vertical_alignment="top"):
        _handout(s, "questo obiettivo", [current.entry.id], "assemblea_pdf_one")
        _handout(s, f"tutti i {len(shown)} obiettivi mostrati", [x.entry.id for x in shown], "assemblea_pdf_all")
        st.caption("Una pagina A4 orizzontale per obiettivo. Oppure Ctrl+P: la schermata si stampa su una pagina.")


def _handout(s: Seduta, what: str, ids: list[str], key: str) -> None:
    from indicators.reports import ReportError
    from indicators.reports import assemblea as handout

    f = s.frame
    code, year, levels = s.territory.code, s.year, tuple(f.access.levels)
    ident = (f.version, code, year, tuple(ids), levels)
    ready = st.session_state.get(key)
    if not (ready and ready[0] == ident):
        if not st.button(f"Prepara il PDF di {what}", key=f"{key}_prepara", icon=":material/print:"):
            return
        with st.status(f"Preparo il PDF di {what}", expanded=True) as status:
            bar = st.progress(0.0, text="Leggo i dati pubblici…")
            try:
                data = handout.handout_bytes(
                    session.snapshot_cursor(session.db_path()),
                    code,
                    year,
                    ids,
                    levels=levels,
                    progress=lambda done, text: bar.progress(min(max(done, 0.0), 1.0), text=text),
                )
            except ReportError as exc:
                status.update(label=f"PDF di {what}: non preparato", state="error")
                st.error(str(exc))
                return
            status.update(label=f"PDF di {what}: pronto", state="complete", expanded=False)
        ready = (ident, data)
        st.session_state[key] = ready
    download_button(
        f,
        f"Scarica il PDF di {what}",
        ready[1],
        handout.filename(code, year, len(ids)),
        handout.MIME,
        what=f"assemblea {code} {year} {','.join(ids)}",
        key=key + "_scarica",
        icon=":material/download:",
        type="primary",
    )
