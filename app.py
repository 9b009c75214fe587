"""pdz-monitor: the router and the shared frame of the dashboard.

Run with `streamlit run app.py`. On a fresh machine the first start builds
the demo warehouse (synthetic data) by itself.
"""

from __future__ import annotations

import streamlit as st

from etl import settings
from pages import common

st.set_page_config(
    page_title=f"Monitoraggio {settings.ambito_info().get('piano', 'Piano di Zona')}",
    page_icon=":material/monitoring:",
    layout="wide",
)


def _area_page(code: str, icon: str) -> st.Page:
    return st.Page(f"pages/{code}.py", title=common.AREAS[code], icon=icon, url_path=code)


pages = {
    "Piano di Zona": [
        st.Page("pages/panoramica.py", title="Panoramica", icon=":material/traffic:", default=True),
    ],
    "Obiettivi per area": [
        _area_page("poverta", ":material/volunteer_activism:"),
        _area_page("casa", ":material/home:"),
        _area_page("anziani", ":material/elderly:"),
        _area_page("giovani", ":material/child_care:"),
        _area_page("famiglia", ":material/family_restroom:"),
        _area_page("lavoro", ":material/work:"),
        _area_page("organizzazione", ":material/hub:"),
    ],
    "Territori": [
        st.Page("pages/sub_ambito.py", title="Sub-ambito", icon=":material/map:", url_path="sub_ambito"),
        st.Page("pages/comune.py", title="Comune", icon=":material/account_balance:", url_path="comune"),
    ],
    "Ufficio di Piano": [
        st.Page("pages/dati.py", title="Dati e qualità", icon=":material/upload_file:", url_path="dati"),
        st.Page("pages/obiettivi.py", title="Obiettivi e indicatori", icon=":material/flag:", url_path="obiettivi"),
    ],
}

with st.sidebar:
    st.markdown(f"**{settings.ambito_info().get('nome', '')}**  \n{settings.ambito_info().get('piano', '')}")

st.navigation(pages).run()
