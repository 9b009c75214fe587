"""The Assemblea's slide (pages/assemblea.py, ui/assemblea.py): one objective's value, target and status in
words, its reading, and its map and trend side by side, with fonts read from the back of a room.

Figures are built once per data version and audience (`ui.figures.cached`); the map is static so that it prints.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from indicators import alternatives, assemblea, charts, fmt, maps, views
from ui import figures, session
from ui.alternatives import CHART, MAP, chart_data
from ui.assemblea import Seduta
from ui.filters import Frame
from ui.geo import published_geojson

FIGURE_HEIGHT = 410
FIGURE_FONT = 17  # read from the back of a room


def show(s: Seduta, slide: assemblea.Slide, n: int, total: int) -> None:
    """One objective: title, value, objective and status in words, the reading, map and trend side by side."""
    f = s.frame
    entry = slide.entry
    with st.container(key="assemblea_slide"):
        st.title(entry.nome, anchor=False)
        st.caption(entry.descrizione)
        value_col, target_col, status_col = st.columns([1, 1, 1])
        value_col.metric(f"Valore {slide.year} · {slide.value_territory_label}", slide.value_text)
        target_col.metric("Obiettivo 2027", slide.target_text)
        background, text = slide.status_style
        status_col.markdown(
            f'<div class="pdz-status" style="background:{background};color:{text}">'
            f'<span class="pdz-status-label">Stato</span><span class="pdz-status-value">{slide.status}</span></div>',
            unsafe_allow_html=True,
        )
        st.markdown(f"**{slide.value_territory_label}.** {slide.reading}")
        if slide.note:
            st.caption(slide.note)
        with st.container(key="assemblea_figures"):
            left, right = st.columns(2, gap="large")
            with left:
                _map(f, slide)
            with right:
                _trend(f, slide)


def _large(fig) -> None:
    """Fonts read from the back of a room (Streamlit's chart theme would shrink the axes' own)."""
    fig.update_layout(font={"size": FIGURE_FONT}, legend={"font": {"size": FIGURE_FONT - 2}})
    fig.update_xaxes(tickfont={"size": FIGURE_FONT}, title_font={"size": FIGURE_FONT})
    fig.update_yaxes(tickfont={"size": FIGURE_FONT}, title_font={"size": FIGURE_FONT})


def _large_map(*args, **kwargs) -> go.Figure:
    """The slide's map, with fonts for the room."""
    fig = maps.choropleth(*args, **kwargs)
    _large(fig)
    return fig


def _large_trend(rows: pl.DataFrame, unit: str, baseline, targets, projection) -> go.Figure:
    """The slide's trend with a short legend entry for «n.p.» (as in the reports), fonts for the room."""
    fig = charts.trend(rows, unit, baseline, targets, projection, height=FIGURE_HEIGHT)
    fig.for_each_trace(
        lambda t: t.update(name=f"{fmt.SUPPRESSED} = non pubblicabile"), selector={"name": fmt.SUPPRESSED_HELP}
    )
    _large(fig)
    return fig


def _map(f: Frame, slide: assemblea.Slide) -> None:
    entry = slide.entry
    values = views.level_values(f.table, f.territories, entry.id, slide.year, slide.map_level)
    sedi = session.sedi(f) if entry.area == "organizzazione" else None
    fig = figures.cached(
        f,
        ("assemblea_map", entry.id, slide.year, slide.map_level, slide.highlight),
        _large_map,
        values,
        session.sub_ambiti_table(f),
        slide.map_level,
        entry.unita,
        entry.direzione,
        highlight=slide.highlight,
        sedi=sedi,
        height=FIGURE_HEIGHT,
        publish=published_geojson,
    )
    highlight = f.name_of(slide.highlight) if slide.highlight else None
    if highlight and slide.map_level == "sub_ambito":
        highlight = f"sub-ambito {highlight}"
    st.plotly_chart(
        # static: no hover, but the map's canvas keeps its drawing and prints (a live MapLibre map prints blank)
        fig,
        key="assemblea_map",
        config={"staticPlot": True},
        alt=f"Mappa: {entry.nome}, anno {slide.year}. I valori sono nella tabella «{MAP}» qui sotto.",
    )
    st.caption(assemblea.map_caption(slide, highlight))
    level = "Comuni" if slide.map_level == "comune" else "Sub-ambiti"
    chart_data(
        MAP,
        alternatives.map_table(values, entry.unita, entry.direzione, slide.map_level),
        f"{level.lower()}, {entry.nome} ({slide.year})",
        "Dal valore migliore; n.p. e nessun dato in fondo.",
    )


def _trend(f: Frame, slide: assemblea.Slide) -> None:
    entry = slide.entry
    rows = assemblea.trend_rows(f.table, slide)
    # plan and projection as of the year shown (as in the reports): a suppressed partial year after it
    # would hide the projection that the reading above states
    baseline, targets, projection = views.plan_targets(rows.filter(pl.col("anno") <= slide.year))
    fig = figures.cached(
        f,
        ("assemblea_trend", entry.id, slide.year, slide.value_territory),
        _large_trend,
        rows,
        entry.unita,
        baseline,
        targets,
        projection,
    )
    st.plotly_chart(
        fig,
        key="assemblea_trend",
        config={"displayModeBar": False},
        alt=f"Andamento: {entry.nome}, {slide.value_territory_label}. I valori sono nella tabella «{CHART}» qui sotto.",
    )
    st.caption(
        f"Andamento per {slide.value_territory_label}: valori osservati, baseline 2024, obiettivi 2025–2027 e "
        "proiezione al 31/12/2027."
    )
    chart_data(
        CHART,
        alternatives.trend_table(rows, entry.unita, baseline, targets, projection),
        f"andamento per {slide.value_territory_label}",
    )
