"""Panoramica: every objective's status against its 2025–2027 target, at a glance."""

from __future__ import annotations

import streamlit as st

from indicators import api, views
from ui.banners import banners
from ui.downloads import report_downloads
from ui.filters import frame, selected_territory

f = frame(page="Panoramica")
territorio, nome = selected_territory(f)
st.title(f"Panoramica — {nome}")
banners(f)
report_downloads(f, territorio)

ov = views.overview(f.table, f.year, territorio)
counts = views.status_counts(ov)
cols = st.columns(4)
for col, (stato, n) in zip(cols, counts.items(), strict=True):
    col.metric(f"{views.STATUS_ICON[stato]} {stato.capitalize()}", n)
references = views.reference_summary(ov)
st.caption(
    f"Stato degli obiettivi nel {f.year} rispetto al percorso previsto dalla baseline 2024 all'obiettivo 2027"
    + (f": {references}" if references and territorio != "AMBITO" else "")
    + ". Regole nella pagina Obiettivi e indicatori."
)

behind = views.furthest_behind(ov)
if behind.height:
    st.subheader("Dove siamo più indietro")
    for row in behind.iter_rows(named=True):
        st.markdown(f"- {views.STATUS_ICON.get(row['stato'], '⚪')} **{row['nome']}**: {views.reading(row, f.year)}")

mixed = views.mixed_references(ov)
for area, label in api.area_names().items():
    rows = ov.filter(ov["area"] == area)
    if rows.height == 0:
        continue
    st.subheader(label)
    st.dataframe(views.overview_display(rows, f.year, mixed), hide_index=True, width="stretch")
