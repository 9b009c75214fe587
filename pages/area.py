"""One page per area: for each indicator a map, the trend against targets, a ranking.

`app.py` registers `render(area)` once per area, so the six pages share this file.
"""

from __future__ import annotations

import streamlit as st

from indicators import api, views
from ui import figures
from ui.banners import banners
from ui.filters import frame, selected_territory
from ui.geo import map_selection_callback

LEVELS = {"comune": "Comuni", "sub_ambito": "Sub-ambiti"}


def render(area: str) -> None:
    name = api.area_names()[area]
    f = frame(page=name)
    st.title(name)
    banners(f)
    levels = [lv for lv in LEVELS if lv in f.access.levels]
    if len(levels) > 1:
        level = st.segmented_control(
            "Mappa per", levels, format_func=LEVELS.get, default=levels[0], key="livello", bind="query-params",
            required=True,
        )  # fmt: skip
    else:  # the Regione: sub-ambiti only
        level = levels[0]
    territorio, nome = selected_territory(f)
    for entry in [e for e in api.catalog() if e.area == area]:
        st.divider()
        st.subheader(entry.nome)
        st.caption(entry.descrizione)
        entry_level = level if level in entry.livelli else "sub_ambito"
        values = views.level_values(f.table, f.territories, entry.id, f.year, entry_level)
        left, right = st.columns([3, 2])
        with left:
            highlight = (f.comune or f.own_comune) if entry_level == "comune" else f.sub_ambito
            fig = figures.indicator_map(f, entry, entry_level, highlight, with_sedi=area == "organizzazione")
            key = f"map_{entry.id}_{entry_level}"
            st.plotly_chart(
                fig, key=key, on_select=map_selection_callback(key, entry_level), selection_mode="points",
                config={"scrollZoom": False},
            )  # fmt: skip
            own = f" Contorno rosso: {f.name_of(highlight)}." if highlight else ""
            st.caption(f"{LEVELS[entry_level]}, anno {f.year}. Clic su un territorio per selezionarlo.{own}")
        with right:
            st.plotly_chart(figures.trend(f, entry, territorio, nome), key=f"trend_{entry.id}")
            cell = views.cell(f.table, entry.id, territorio, f.year)
            if cell:
                st.markdown(views.reading(cell, f.year))
        with st.expander(f"Classifica dei {LEVELS[entry_level].lower()} ({f.year})"):
            ranked = views.ranking(values, entry.direzione)
            st.dataframe(views.ranking_display(ranked, entry.unita), hide_index=True, width="stretch")
