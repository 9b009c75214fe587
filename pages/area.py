"""One page per area: for each indicator a map with the list of its values beside it, then the trend
of the selected territory against its reference plan (own, sub-ambito's or the ambito's path).

`app.py` registers `render(area)` once per area, so the six pages share this file.
"""

from __future__ import annotations

import streamlit as st

from indicators import alternatives, api, maps, views
from ui import figures, session
from ui.alternatives import CHART, chart_data
from ui.banners import banners
from ui.comparisons import comparison_block
from ui.filters import frame, selected_territory
from ui.geo import map_config, map_selection_callback, published_geojson

LEVELS = {"comune": "Comuni", "sub_ambito": "Sub-ambiti"}


def render(area: str) -> None:
    name = api.area_names()[area]
    f = frame(page=name)
    st.title(name)
    banners(f)
    levels = [lv for lv in LEVELS if lv in f.access.levels]
    if len(levels) > 1:
        level = st.segmented_control(
            "Mappa per",
            levels,
            format_func=LEVELS.get,
            default=levels[0],
            key="livello",
            bind="query-params",
            required=True,
        )
    else:  # the Regione: sub-ambiti only
        level = levels[0]
    territorio, _ = selected_territory(f)
    selected = f.comune or f.own_comune
    parent = views.sub_ambito_of(f.territories, selected) if selected else None
    sub = session.sub_ambiti_table(f)
    sedi = session.sedi(f)
    for entry in [e for e in api.catalog() if e.area == area]:
        st.divider()
        st.subheader(entry.nome)
        st.caption(entry.descrizione)
        comparison_block(f, entry, territorio)
        entry_level = level if level in entry.livelli else "sub_ambito"
        values = views.level_values(f.table, f.territories, entry.id, f.year, entry_level)
        classified, _ = maps.map_classes(values, entry.direzione, entry.unita, entry.soglie)
        highlight = (f.comune or f.own_comune) if entry_level == "comune" else (f.sub_ambito or parent)
        left, right = st.columns([3, 2])
        with left:
            fig = figures.cached(
                f,
                ("map", entry.id, f.year, entry_level, highlight),
                maps.choropleth,
                values,
                sub,
                entry_level,
                entry.unita,
                entry.direzione,
                highlight=highlight,
                sedi=sedi if area == "organizzazione" else None,
                height=480,
                publish=published_geojson,
                thresholds=entry.soglie,
            )
            key = f"map_{entry.id}_{entry_level}"
            st.plotly_chart(
                fig,
                key=key,
                on_select=map_selection_callback(key, entry_level),
                selection_mode="points",
                config=map_config(),
                alt=f"Mappa: {entry.nome}, anno {f.year}. Valori nell'elenco accanto.",
            )
            own = f" Contorno nero: {f.name_of(highlight)}." if highlight else ""
            st.caption(
                f"{LEVELS[entry_level]}, anno {f.year}. Clic su un territorio per selezionarlo; "
                f"tutti i nomi al passaggio del mouse e nell'elenco qui accanto.{own}"
            )
        with right:
            listed = views.map_table(classified, entry.unita, entry.direzione, entry_level)
            st.dataframe(
                listed,
                hide_index=True,
                width="stretch",
                height=min(480, 38 + 35 * listed.height),
                key=f"list_{entry.id}_{entry_level}",
                column_config={"Valore": st.column_config.TextColumn(help=entry.unita, width=90)},
            )
            st.caption(
                f"L'elenco della mappa dal valore migliore (valori in {entry.unita}); per cercare un nome, la lente "
                "in alto a destra dell'elenco."
            )
        # an indicator not computed by comune: the selected comune's sub-ambito
        by_comune = territorio.isdigit() and "comune" not in entry.livelli
        shown_at = (parent or "AMBITO") if by_comune else territorio
        rows = views.series(f.table, entry.id, shown_at)
        plan = views.plan_targets(rows)  # baseline, targets, projection
        cell = views.cell(f.table, entry.id, shown_at, f.year)
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(
                figures.trend(f, entry, shown_at, rows, plan, title=f.name_of(shown_at), height=400),
                key=f"trend_{entry.id}",
                alt=f"Andamento: {entry.nome}, {f.name_of(shown_at)}. Valori in «{CHART}».",
            )
            chart_data(
                CHART,
                alternatives.trend_table(rows, entry.unita, *plan),
                f"andamento per {f.name_of(shown_at)}",
            )
        with right:
            if cell:
                st.markdown(views.reading(cell, f.year))
