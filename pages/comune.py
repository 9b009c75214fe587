"""Comune (for a mayor): the comune against its sub-ambito and the ambito on every indicator."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api, fmt, views
from ui.banners import banners
from ui.comparisons import comparisons_overview
from ui.downloads import report_downloads
from ui.filters import frame

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
comparison = views.territory_comparison(f.table, f.year, f.comune, row["sub_ambito"])
for area, label in api.area_names().items():
    rows = comparison.filter(pl.col("area") == area)
    if rows.height == 0:
        continue
    st.subheader(label)
    st.dataframe(
        views.comparison_display(rows, row["nome_sub_ambito"], with_comune=True, comune_name=row["nome"]),
        hide_index=True,
        width="stretch",
    )
if f.is_public:
    st.caption(fmt.SUPPRESSED_HELP)
comparisons_overview(f, [(f.comune, row["nome"]), (row["sub_ambito"], f"Sub-ambito {row['nome_sub_ambito']}")])
