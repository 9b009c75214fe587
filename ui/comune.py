"""The blocks of the Comune page (the mayor's page): Streamlit layout over `indicators.views`."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import alternatives, api, fmt, maps, views
from ui import figures, session
from ui.alternatives import CHART, MAP, chart_data
from ui.filters import Frame
from ui.geo import map_config, map_selection_callback, published_geojson


def status_counters(f: Frame, overview: pl.DataFrame) -> None:
    """The four status counters of the comune and whose plan each status is measured against."""
    counts = views.status_counts(overview)
    for col, (stato, n) in zip(st.columns(4), counts.items(), strict=True):
        col.metric(f"{views.STATUS_ICON[stato]} {stato.capitalize()}", n)
    references = views.reference_summary(overview)
    st.caption(
        f"Stato del comune nel {f.year} per {overview.height} indicatori calcolati per comune"
        + (f": {references}" if references else "")
        + ". Un comune senza obiettivo proprio è confrontato con l'obiettivo del suo sub-ambito o, se manca, con il "
        "percorso dell'ambito (regole nella pagina Obiettivi e indicatori)."
    )


def map_and_trend(f: Frame, entry, row: dict, overview: pl.DataFrame) -> None:
    """The small map with the comune outlined and its position, beside its trend against the plan."""
    values = views.level_values(f.table, f.territories, entry.id, f.year, "comune")
    cell = views.cell(f.table, entry.id, f.comune, f.year)
    left, right = st.columns([1, 1])
    with left:
        fig = figures.cached(
            f,
            ("comune_map", entry.id, f.year, f.comune),
            maps.choropleth,
            values,
            session.sub_ambiti_table(f),
            "comune",
            entry.unita,
            entry.direzione,
            highlight=f.comune,
            height=440,
            publish=published_geojson,
            thresholds=entry.soglie,
        )
        st.plotly_chart(
            fig,
            key="comune_map",
            on_select=map_selection_callback("comune_map", "comune"),
            selection_mode="points",
            config=map_config(),
            alt=f"Mappa: {entry.nome}, anno {f.year}, {row['nome']} evidenziato. Valori in «{MAP}».",
        )
        classified, _ = maps.map_classes(values, entry.direzione, entry.unita, entry.soglie)
        chart_data(MAP, views.map_table(classified, entry.unita, entry.direzione, "comune"), f"comuni ({f.year})")
        mine = overview.filter(pl.col("indicatore") == entry.id)
        if mine.height:
            r = mine.row(0, named=True)
            where = []
            if r.get("posizione_sub_ambito"):
                where.append(f"{r['posizione_sub_ambito']}° su {r['su_sub_ambito']} nel sub-ambito")
            if r.get("posizione_ambito"):
                where.append(f"{r['posizione_ambito']}° su {r['su_ambito']} nell'ambito")
            st.caption(
                (
                    f"Posizione: {', '.join(where)} (1° = il migliore; contano i comuni con un dato pubblicato). "
                    if where
                    else ""
                )
                + "Contorno nero: il comune; tutti i comuni nella pagina dell'area."
            )
    with right:
        rows = views.series(f.table, entry.id, f.comune)
        plan = views.plan_targets(rows)  # baseline, targets, projection
        st.plotly_chart(  # titled by the comune: the indicator is named by the selector above (a chart title
            # does not wrap, and the comune and indicator together were cut at 768 px)
            figures.trend(f, entry, f.comune, rows, plan, title=row["nome"], height=440),
            key="comune_trend",
            alt=f"Andamento: {entry.nome}, {row['nome']}. Valori in «{CHART}».",
        )
        trend_rows = alternatives.trend_table(rows, entry.unita, *plan)
        chart_data(CHART, trend_rows, f"andamento per {row['nome']}")
        if cell:
            st.markdown(views.reading(cell, f.year))


def all_indicators(f: Frame, overview: pl.DataFrame, row: dict, entries: dict) -> None:
    """Every indicator of the comune by area, then those computed only by sub-ambito."""
    st.subheader(f"Tutti gli indicatori del comune ({f.year})")
    st.caption(
        f"Sub-ambito: il valore del sub-ambito {row['nome_sub_ambito']}. Posizione: nel sub-ambito · nell'ambito "
        "(1° = il migliore, tra i comuni con un dato pubblicato)."
    )
    mixed = views.mixed_references(overview)
    for area, label in api.area_names().items():
        rows = overview.filter(pl.col("area") == area)
        if rows.height == 0:
            continue
        st.markdown(f"**{label}**")
        st.dataframe(
            views.comune_overview_display(rows, f.year, row["nome"], row["nome_sub_ambito"], mixed),
            hide_index=True,
            width="stretch",
            column_config={
                "Indicatore": st.column_config.TextColumn(width=380),
                views.POSITION_COLUMN: st.column_config.TextColumn(
                    width=130, help="Nel sub-ambito · nell'ambito (1° = il migliore)"
                ),
            },
        )
    others = views.territory_comparison(f.table, f.year, f.comune, row["sub_ambito"]).filter(
        ~pl.col("indicatore").is_in(list(entries))
    )
    if others.height:
        st.markdown(f"**Calcolati per sub-ambito: {row['nome_sub_ambito']} rispetto all'ambito**")
        st.dataframe(
            views.comparison_display(others, row["nome_sub_ambito"], with_comune=False),
            hide_index=True,
            width="stretch",
        )
    if f.is_public:
        st.caption(fmt.SUPPRESSED_HELP)
