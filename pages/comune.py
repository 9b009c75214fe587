"""Comune, the mayor's page: where the comune stands on every indicator published by comune.

Status against its reference plan (its own target, else its sub-ambito's, else the ambito's path,
always said), the trend with the baseline and target lines, its position among the comuni of the
sub-ambito and of the ambito, and a small map.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api, charts, fmt, maps, views
from ui import session
from ui.banners import banners
from ui.downloads import report_downloads
from ui.filters import frame
from ui.geo import map_config, map_selection_callback, published_geojson

f = frame("ufficio_di_piano", "sindaco", page="Comune")
if not f.comune:
    st.title("Comune")
    banners(f)
    st.info("Scegliere un comune nella barra laterale (oppure con un clic sulla mappa di una pagina d'area).")
    st.stop()

row = f.territories.filter(pl.col("comune") == f.comune).row(0, named=True)
st.title(f"Comune di {row['nome']}")
banners(f)
report_downloads(f, f.comune)
st.caption(
    f"Codice ISTAT {row['comune']} · {fmt.number(row['residenti'])} residenti · "
    f"sub-ambito {row['nome_sub_ambito']} ({row['sub_ambito']})"
)

overview = views.comune_overview(f.table, f.territories, f.year, f.comune)
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

entries = {e.id: e for e in api.catalog() if "comune" in e.livelli}
behind = views.furthest_behind(overview)
first = behind["indicatore"][0] if behind.height else next(iter(entries))
chosen = st.selectbox(
    "Indicatore",
    list(entries),
    index=list(entries).index(first),
    key="comune_indicatore",
    format_func=lambda i: f"{entries[i].nome_area} · {entries[i].nome}",
)
entry = entries[chosen]
values = views.level_values(f.table, f.territories, entry.id, f.year, "comune")
cell = views.cell(f.table, entry.id, f.comune, f.year)
left, right = st.columns([1, 1])
with left:
    fig = maps.choropleth(
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
    )
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
    baseline, targets, projection = views.plan_targets(rows)
    st.plotly_chart(
        charts.trend(
            rows,
            entry.unita,
            baseline,
            targets,
            projection,
            title=f"{row['nome']} · {entry.nome}",
            height=440,
            owner=views.plan_owner(rows),
        ),
        key="comune_trend",
    )
    if cell:
        st.markdown(views.reading(cell, f.year))

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
        views.comparison_display(others, row["nome_sub_ambito"], with_comune=False), hide_index=True, width="stretch"
    )
if f.is_public:
    st.caption(fmt.SUPPRESSED_HELP)
