"""Sub-ambito: its comuni with hub and spokes, population, équipe, social workers vs LEPS, indicators."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import fmt, views
from ui import figures, session
from ui.banners import banners
from ui.downloads import report_downloads
from ui.filters import frame

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
    sedi = session.sedi(f).filter(pl.col("sub_ambito") == code)
    st.plotly_chart(figures.residents_map(f, code), key="sub_map")
    st.caption(
        f"{comuni.height} comuni, {fmt.number(comuni['residenti'].sum())} residenti (ISTAT). "
        + ("Sub-ambito pilota del nuovo modello." if info["pilota"] else "Non ancora nel pilota.")
    )
with right:
    st.plotly_chart(
        figures.population_pyramid(f, comuni["comune"].to_list(), "Popolazione per età e sesso"), key="pyramid"
    )

st.subheader("Équipe multidisciplinare")
staff = session.equipe(f)
left, right = st.columns(2)
with left:
    st.plotly_chart(figures.equipe(f, "FTE per profilo e sub-ambito"), key="equipe")
with right:
    st.plotly_chart(figures.residents_per_worker(f, f"Residenti per assistente sociale ({f.year})"), key="per_as")
own = staff.filter(pl.col("sub_ambito") == code)
st.dataframe(fmt.italian_frame(own.drop("sub_ambito"), {"fte": 1}), hide_index=True, width="stretch")
st.caption("Sedi: " + (", ".join(f"{r['nome']} ({r['tipo']})" for r in sedi.iter_rows(named=True)) or "nessuna"))

st.subheader(f"Indicatori del sub-ambito rispetto all'ambito ({f.year})")
comparison = views.territory_comparison(f.table, f.year, "-", code)
shown = views.comparison_display(comparison, f.name_of(code), with_comune=False)
st.dataframe(shown, hide_index=True, width="stretch")
