"""pdz-monitor: the router and the shared frame of the dashboard.

Run with `streamlit run app.py`. On a fresh machine the first start builds
the demo warehouse (synthetic data) by itself, with open demo access until
accounts are created (`python -m etl users add`).

The navigation is built per role (`PAGES`: who may open each page). A page a
role may not use is left out of its menu and registered hidden, so that its
URL opens the page's own guard (`common.require`), which refuses and stops,
instead of silently falling back to the Panoramica. A session without access
(not logged in, no account yet, no valid role) gets only the gate screen,
under every URL path, so that after the login it lands on the page it asked for.
"""

from __future__ import annotations

import streamlit as st

from etl import settings, users
from etl.users import Access
from pages import access as auth
from pages import common

st.set_page_config(
    page_title=f"Monitoraggio {settings.ambito_info().get('piano', 'Piano di Zona')}",
    page_icon=":material/monitoring:",
    layout="wide",
)

ALL = tuple(users.ROLES)
OFFICE = ("ufficio_di_piano",)
WITH_COMUNI = ("ufficio_di_piano", "sindaco")


def _area(code: str, icon: str) -> tuple:
    return (f"pages/{code}.py", common.AREAS[code], icon, code, ALL)


# section -> [(file, title, icon, url_path, roles allowed)]
PAGES: dict[str, list[tuple]] = {
    "Piano di Zona": [
        ("pages/panoramica.py", "Panoramica", ":material/traffic:", "panoramica", ALL),
        ("pages/esporta.py", "Esporta i dati", ":material/download:", "esporta", ALL),
    ],
    "Obiettivi per area": [
        _area("poverta", ":material/volunteer_activism:"),
        _area("casa", ":material/home:"),
        _area("anziani", ":material/elderly:"),
        _area("giovani", ":material/child_care:"),
        _area("famiglia", ":material/family_restroom:"),
        _area("lavoro", ":material/work:"),
        _area("organizzazione", ":material/hub:"),
    ],
    "Territori": [
        ("pages/sub_ambito.py", "Sub-ambito", ":material/map:", "sub_ambito", ALL),
        ("pages/comune.py", "Comune", ":material/account_balance:", "comune", WITH_COMUNI),
    ],
    "Ufficio di Piano": [
        ("pages/dati.py", "Dati e qualità", ":material/upload_file:", "dati", OFFICE),
        ("pages/obiettivi.py", "Obiettivi e indicatori", ":material/flag:", "obiettivi", ALL),
        ("pages/registro.py", "Registro accessi", ":material/manage_search:", "registro", OFFICE),
    ],
}
DEFAULT = "panoramica"


def pages_for(access: Access) -> dict[str, list[st.Page]]:
    """The menu of a role; pages it may not use are hidden (their guard refuses them)."""
    nav: dict[str, list[st.Page]] = {}
    hidden: list[st.Page] = []
    for section, entries in PAGES.items():
        for file, title, icon, url_path, roles in entries:
            allowed = access.ruolo in roles
            page = st.Page(
                file, title=title, icon=icon, url_path=url_path, default=url_path == DEFAULT,
                visibility="visible" if allowed else "hidden",
            )  # fmt: skip
            if allowed:
                nav.setdefault(section, []).append(page)
            else:
                hidden.append(page)
    if hidden:
        nav.setdefault("Ufficio di Piano", []).extend(hidden)
    return nav


def gate_pages(gate: auth.Gate) -> list[st.Page]:
    """The gate screen under every URL path of the dashboard (the URL survives the login)."""

    def show() -> None:
        auth.gate_screen(gate)

    return [
        st.Page(show, title="Accesso", icon=":material/lock:", url_path=url_path, default=url_path == DEFAULT)
        for entries in PAGES.values()
        for _, _, _, url_path, _ in entries
    ]


common.leave_legacy_multipage_mode(rerun=False)
st.session_state[common.ROUTED_KEY] = True
_, con = common.connection()
current = auth.current_access(auth.is_demo_warehouse(con))

if isinstance(current, Access):
    with st.sidebar:
        st.markdown(f"**{settings.ambito_info().get('nome', '')}**  \n{settings.ambito_info().get('piano', '')}")
    own = users.ambito_comuni().get(current.comune) if current.comune else None
    auth.sidebar_identity(current, own)
    st.navigation(pages_for(current)).run()
else:
    st.navigation(gate_pages(current), position="hidden").run()
