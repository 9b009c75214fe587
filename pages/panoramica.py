"""Panoramica: every objective's status against its 2025–2027 target, at a glance."""

from __future__ import annotations

import streamlit as st

from indicators import api, views
from ui import tables
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
st.caption(
    f"Stato degli obiettivi nel {f.year} rispetto al percorso previsto dalla baseline 2024 all'obiettivo 2027 "
    "(regole nella pagina Obiettivi e indicatori)."
)

behind = views.furthest_behind(ov)
if behind.height:
    st.subheader("Dove siamo più indietro")
    for row in behind.iter_rows(named=True):
        st.markdown(f"- {views.STATUS_ICON.get(row['stato'], '⚪')} **{row['nome']}**: {views.reading(row, f.year)}")

for area, label in api.area_names().items():
    rows = ov.filter(ov["area"] == area)
    if rows.height == 0:
        continue
    st.subheader(label)
    tables.dataframe(views.overview_display(rows, f.year))
