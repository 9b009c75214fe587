"""The router: page config, who is logged in, `st.navigation` per role (run by app.py).

The navigation is built per role (`ui/menu.py`: who may open each page). A page a
role may not use is left out of its menu and registered hidden, so that its
URL opens the page's own guard (`ui/guard.py`), which refuses and stops,
instead of silently falling back to the Panoramica. A session without access
(not logged in, no account yet, no valid role) gets only the gate screen,
under every URL path, so that after the login it lands on the page it asked for.
"""

from __future__ import annotations

import streamlit as st

from core import settings
from core.settings import REPO_ROOT
from core.users import Access
from ui import access as auth
from ui import menu
from ui.legacy import leave_legacy_multipage_mode
from ui.session import connection, snapshot_notice


def pages_for(access: Access) -> dict[str, list[st.Page]]:
    """The menu of a role (`ui/menu.py`); the pages it may not use are registered hidden."""

    def page(e: menu.Entry, visible: bool) -> st.Page:
        return st.Page(
            str(REPO_ROOT / e.file), title=e.title, icon=e.icon, url_path=e.url_path,
            default=e.url_path == menu.DEFAULT, visibility="visible" if visible else "hidden",
        )  # fmt: skip

    nav = {section: [page(e, True) for e in entries] for section, entries in menu.menu_for(access.ruolo).items()}
    hidden = [page(e, False) for e in menu.hidden_for(access.ruolo)]
    if hidden:
        nav[list(nav)[-1]].extend(hidden)
    return nav


def gate_pages(gate: auth.Gate) -> list[st.Page]:
    """The gate screen under every URL path of the dashboard (the URL survives the login)."""

    def show() -> None:
        auth.gate_screen(gate)

    return [
        st.Page(show, title="Accesso", icon=":material/lock:", url_path=e.url_path, default=e.url_path == menu.DEFAULT)
        for e in menu.all_entries()
    ]


def run() -> None:
    """One run of the dashboard: app.py calls it, and so does a page file run without the router."""
    st.set_page_config(
        page_title=f"Monitoraggio {settings.ambito_info().get('piano', 'Piano di Zona')}",
        page_icon=":material/monitoring:",
        layout="wide",
    )
    leave_legacy_multipage_mode(rerun=False)
    _, con = connection(fresh=True)
    notice = snapshot_notice()
    if notice:  # the file went missing or is damaged: the last good copy is served, and said so
        st.warning(notice, icon=":material/database_off:")
    current = auth.current_access(auth.is_demo_warehouse(con))
    if isinstance(current, Access):
        with st.sidebar:
            info = settings.ambito_info()
            st.markdown(f"**{info.get('nome', '')}**  \n{info.get('piano', '')}")
        st.navigation(pages_for(current), expanded=True).run()
    else:
        st.navigation(gate_pages(current), position="hidden").run()
