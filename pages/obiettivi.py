"""Obiettivi e indicatori: the catalog with its schede, and the target editor."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api
from ui import session, targets_form
from ui.audit import audit_action
from ui.banners import banners
from ui.filters import frame, office_view_button
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
                st.markdown(api.scheda(entry.id, None if f.is_public else f.con, codici=not f.is_public))

with tab_editor:
    if not f.access.is_office:
        st.info("La modifica degli obiettivi è riservata all'Ufficio di Piano.")
        st.stop()
    if f.is_public:
        office_view_button("La modifica degli obiettivi è disponibile")
        st.stop()
    entries = {e.id: e for e in api.catalog()}
    areas = api.area_names()
    ind = st.selectbox(
        "Indicatore",
        list(entries),
        format_func=lambda i: f"{areas[entries[i].area]} · {entries[i].nome}",
        key="editor_indicatore",
    )
    subs = f.territories.select("sub_ambito", "nome_sub_ambito").unique().sort("sub_ambito")
    comuni = f.territories.sort("nome")["comune"].to_list()
    livelli = entries[ind].livelli
    options = (
        (["AMBITO"] if "ambito" in livelli else [])
        + (subs["sub_ambito"].to_list() if "sub_ambito" in livelli else [])
        + (comuni if "comune" in livelli else [])
    )
    terr = st.selectbox(
        "Territorio",
        options,
        key="editor_territorio",
        format_func=lambda t: f"Comune di {f.name_of(t)}" if t.isdigit() else f.name_of(t),
        help="Un comune senza obiettivo proprio è confrontato con l'obiettivo del suo sub-ambito o, se manca, con "
        "il percorso dell'ambito. Un obiettivo del comune (baseline e obiettivo finale) ha la precedenza.",
    )
    unita = entries[ind].unita
    current = api.plan_rows(f.con, ind, terr)
    st.caption(
        f"Unità: {entries[ind].unita}. Direzione: {api.DIRECTION_LABELS[entries[ind].direzione]}."
        + (
            " L'obiettivo del comune vale quando ha sia la baseline sia un obiettivo; fino ad allora il comune è "
            "confrontato con l'obiettivo del sub-ambito o con il percorso dell'ambito."
            if terr.isdigit()
            else ""
        )
    )
    shown = targets_form.as_text(current, unita)
    edited = st.data_editor(
        shown.to_pandas(),
        hide_index=True,
        disabled=["Anno", "Tipo"],
        column_config={
            "Valore": st.column_config.TextColumn(
                "Valore", help="Un numero con la virgola decimale, per esempio 82,5. Vuoto: nessun obiettivo."
            )
        },
        key=f"editor_{ind}_{terr}",
    )
    if st.button("Salva gli obiettivi", type="primary"):
        changes, errors = targets_form.from_text(current, shown, pl.from_pandas(edited))
        if not errors:
            errors = api.save_plan_rows(db_path(), ind, terr, changes)
        audit_action(
            f,
            "obiettivi",
            f"{entries[ind].nome} · {f.name_of(terr)}",
            "rifiutato" if errors else "ok",
            "; ".join(errors) if errors else f"{changes.height} righe salvate",
        )
        if errors:
            for message in errors:
                st.error(message)
        else:
            session.refresh_after_write()
            st.success("Obiettivi salvati: i cruscotti mostrano lo stato aggiornato.")
