"""Riorganizzazione: is the new model working, where and for whom? Pilot vs other sub-ambiti, proximity of
the access points (with a what-if), équipe load, equity across sub-ambiti (issue 13, part 5).

Thin: the numbers and sentences come from `indicators.reorganisation` (the functions behind
`python -m indicators evaluate|equity|access`), cached by `ui.reorganisation`.
"""

from __future__ import annotations

import streamlit as st

from indicators import api
from ui import reorganisation as data
from ui import reorganisation_tabs as tabs
from ui.banners import banners
from ui.filters import frame

f = frame(page="Riorganizzazione")
st.title("Riorganizzazione: il nuovo modello alla prova")
banners(f)
st.markdown(
    "Il nuovo modello sostituisce l'assistente sociale che gira tra i comuni con **un'équipe per sub-ambito**, "
    "un **hub** centrale e sportelli **spoke** vicini ai cittadini, avviati prima in alcuni sub-ambiti pilota. "
    "Qui: se i sub-ambiti pilota vanno meglio degli altri, quanto sono vicini i punti di accesso, quanto sono "
    "carichi gli operatori e se i sub-ambiti si avvicinano o si allontanano tra loro."
)

entries = {e.id: e for e in api.catalog()}
results, sub = data.pilot(f)
names = {k: f"{k} {v}" for k, v in sub.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").iter_rows()}
names["AMBITO"] = "Ambito"
tab_pilot, tab_access, tab_load, tab_equity = st.tabs(
    ["Pilota e altri sub-ambiti", "Vicinanza dei punti di accesso", "Carico delle équipe", "Equità tra sub-ambiti"]
)

with tab_pilot:
    chosen = tabs.pilot_tab(f, entries, results, sub, names)
with tab_access:
    tabs.access_tab(f, names)
with tab_load:
    tabs.load_tab(f, names)
with tab_equity:
    tabs.equity_tab(f, entries, names, chosen)
