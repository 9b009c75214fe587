"""Comune, the mayor's page: where the comune stands on every indicator published by comune.

Status against its reference plan (its own target, else its sub-ambito's, else the ambito's path,
always said), the trend with the baseline and target lines, its position among the comuni of the
sub-ambito and of the ambito, and a small map.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api, fmt, views
from ui import comune as ui_comune
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

overview = views.comune_overview(f.table, f.territories, f.year, f.comune)
ui_comune.status_counters(f, overview)

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
ui_comune.map_and_trend(f, entry, row, overview)

ui_comune.all_indicators(f, overview, row, entries)
comparisons_overview(f, [(f.comune, row["nome"]), (row["sub_ambito"], f"Sub-ambito {row['nome_sub_ambito']}")])
