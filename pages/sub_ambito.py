"""Sub-ambito: its comuni with hub and spokes, population, équipe, social workers vs LEPS, indicators."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import charts, fmt, maps, views
from ui import session
from ui.banners import banners
from ui.downloads import report_downloads
from ui.filters import frame
from ui.geo import map_config, published_geojson

f = frame(page="Sub-ambito")
subs = f.territories.select("sub_ambito", "nome_sub_ambito", "pilota", "provvisorio").unique("sub_ambito")
code = f.sub_ambito or subs.sort("sub_ambito")["sub_ambito"][0]
info = subs.filter(pl.col("sub_ambito") == code).row(0, named=True)
st.title(f"Sub-ambito {info['nome_sub_ambito']} ({code})")
banners(f)
if not f.sub_ambito:
    st.info("Scegliere un sub-ambito nella barra laterale; è mostrato il primo.")
report_downloads(f, code)

comuni = f.territories.filter(pl.col("sub_ambito") == code)
left, right = st.columns([3, 2])
with left:
    sub_table = session.sub_ambiti_table(f)
    sedi = session.sedi(f).filter(pl.col("sub_ambito") == code)
    if f.access.sees_comuni:
        values = comuni.select(
            pl.col("comune").alias("territorio"),
            "nome",
            pl.col("residenti").cast(pl.Float64).alias("valore"),
            pl.lit(False).alias("soppresso"),
            "residenti",
        )
        fig = maps.choropleth(  # residents: context, neither better nor worse (a neutral scale)
            values,
            sub_table.filter(pl.col("sub_ambito") == code),
            "comune",
            "residenti",
            direzione=None,
            sedi=sedi,
            publish=published_geojson,
        )
    else:  # the Regione: sub-ambiti only, this one outlined
        values = (
            f.territories.group_by("sub_ambito")
            .agg(
                pl.col("nome_sub_ambito").first().alias("nome"),
                pl.col("residenti").sum().cast(pl.Float64).alias("valore"),
            )
            .select(pl.col("sub_ambito").alias("territorio"), "nome", "valore", pl.lit(False).alias("soppresso"))
        )
        fig = maps.choropleth(
            values,
            sub_table,
            "sub_ambito",
            "residenti",
            direzione=None,
            highlight=code,
            sedi=sedi,
            publish=published_geojson,
        )
    st.plotly_chart(fig, key="sub_map", config=map_config())
    st.caption(
        f"{comuni.height} comuni, {fmt.number(comuni['residenti'].sum())} residenti (ISTAT). "
        + ("Sub-ambito pilota del nuovo modello." if info["pilota"] else "Non ancora nel pilota.")
    )
with right:
    pyramid = session.population_pyramid(f, comuni["comune"].to_list())
    st.plotly_chart(charts.population_pyramid(pyramid, title="Popolazione per età e sesso"), key="pyramid")

st.subheader("Équipe multidisciplinare")
staff = session.equipe(f)
left, right = st.columns(2)
with left:
    st.plotly_chart(charts.equipe(staff, title="FTE per profilo e sub-ambito"), key="equipe")
with right:
    per_as = views.level_values(f.table, f.territories, "org_residenti_per_as", f.year, "sub_ambito")
    st.plotly_chart(
        charts.residents_per_worker(per_as, title=f"Residenti per assistente sociale ({f.year})"), key="per_as"
    )
own = staff.filter(pl.col("sub_ambito") == code)
st.dataframe(fmt.italian_frame(own.drop("sub_ambito"), {"fte": 1}), hide_index=True, width="stretch")
st.caption("Sedi: " + (", ".join(f"{r['nome']} ({r['tipo']})" for r in sedi.iter_rows(named=True)) or "nessuna"))

st.subheader(f"Indicatori del sub-ambito rispetto all'ambito ({f.year})")
comparison = views.territory_comparison(f.table, f.year, "-", code)
shown = views.comparison_display(comparison, f.name_of(code), with_comune=False)
st.dataframe(shown, hide_index=True, width="stretch")
