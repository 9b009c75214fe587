"""Obiettivi e indicatori: the catalog with its schede, and the target editor."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api
from ui import session
from ui.audit import audit_action
from ui.banners import banners
from ui.filters import frame
from ui.session import db_path

f = frame(page="Obiettivi e indicatori")
st.title("Obiettivi e indicatori")
banners(f)

tab_catalog, tab_editor = st.tabs(["Schede degli indicatori", "Modifica obiettivi"])

with tab_catalog:
    st.markdown(api.status_rule_text())
    for area, label in api.area_names().items():
        entries = [e for e in api.catalog() if e.area == area]
        if not entries:
            continue
        st.subheader(label)
        for entry in entries:
            with st.expander(f"{entry.nome} — {entry.unita}"):
                st.markdown(api.scheda(entry.id, None if f.is_public else f.con))

with tab_editor:
    if not f.access.is_office:
        st.info("La modifica degli obiettivi è riservata all'Ufficio di Piano.")
        st.stop()
    if f.is_public:
        st.info("La modifica degli obiettivi è riservata alla vista Ufficio di Piano.")
        st.stop()
    entries = {e.id: e for e in api.catalog()}
    ind = st.selectbox("Indicatore", list(entries), format_func=lambda i: f"{entries[i].nome} ({i})")
    subs = f.territories.select("sub_ambito", "nome_sub_ambito").unique().sort("sub_ambito")
    options = ["AMBITO", *subs["sub_ambito"].to_list()]
    terr = st.selectbox("Territorio", options, format_func=f.name_of)
    current = api.plan_rows(f.con, ind, terr)
    st.caption(f"Unità: {entries[ind].unita}. Direzione: {api.DIRECTION_LABELS[entries[ind].direzione]}.")
    edited = st.data_editor(
        current.to_pandas(),
        hide_index=True,
        disabled=["anno", "tipo"],
        column_config={"valore": st.column_config.NumberColumn("valore", help="Lasciare vuoto per nessun obiettivo")},
        key=f"editor_{ind}_{terr}",
    )
    if st.button("Salva gli obiettivi", type="primary"):
        changes = pl.from_pandas(edited)
        errors = api.save_plan_rows(db_path(), ind, terr, changes)
        audit_action(
            f, "obiettivi", f"{ind} · {terr}", "rifiutato" if errors else "ok",
            "; ".join(errors) if errors else f"{changes.height} righe salvate",
        )  # fmt: skip
        if errors:
            for message in errors:
                st.error(message)
        else:
            session.refresh_after_write()
            st.success("Obiettivi salvati: i cruscotti mostrano lo stato aggiornato.")
