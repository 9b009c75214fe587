"""One page per area: for each indicator a map, the trend against targets, a ranking.

`app.py` registers `render(area)` once per area, so the six pages share this file.
"""

from __future__ import annotations

import streamlit as st

from indicators import api, charts, maps, views
from ui import session
from ui.banners import banners
from ui.comparisons import comparison_block
from ui.filters import frame, selected_territory
from ui.geo import map_selection_callback, published_geojson

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
    sub = session.sub_ambiti_table(f)
    sedi = session.sedi(f)
    for entry in [e for e in api.catalog() if e.area == area]:
        st.divider()
        st.subheader(entry.nome)
        st.caption(entry.descrizione)
        comparison_block(f, entry, territorio)
        entry_level = level if level in entry.livelli else "sub_ambito"
        values = views.level_values(f.table, f.territories, entry.id, f.year, entry_level)
        left, right = st.columns([3, 2])
        with left:
            highlight = (f.comune or f.own_comune) if entry_level == "comune" else f.sub_ambito
            fig = maps.choropleth(
                values, sub, entry_level, entry.unita, entry.direzione, highlight=highlight,
                sedi=sedi if area == "organizzazione" else None, height=460, publish=published_geojson,
            )  # fmt: skip
            key = f"map_{entry.id}_{entry_level}"
            st.plotly_chart(
                fig, key=key, on_select=map_selection_callback(key, entry_level), selection_mode="points",
                config={"scrollZoom": False},
            )  # fmt: skip
            own = f" Contorno rosso: {f.name_of(highlight)}." if highlight else ""
            st.caption(f"{LEVELS[entry_level]}, anno {f.year}. Clic su un territorio per selezionarlo.{own}")
        with right:
            rows = views.series(f.table, entry.id, territorio)
            baseline, targets, projection = views.plan_targets(rows)
            st.plotly_chart(
                charts.trend(rows, entry.unita, baseline, targets, projection, title=nome, height=420),
                key=f"trend_{entry.id}",
            )
            cell = views.cell(f.table, entry.id, territorio, f.year)
            if cell:
                st.markdown(views.reading(cell, f.year))
        with st.expander(f"Classifica dei {LEVELS[entry_level].lower()} ({f.year})"):
            ranked = views.ranking(values, entry.direzione)
            st.dataframe(views.ranking_display(ranked, entry.unita), hide_index=True, width="stretch")
