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
from ui import login_screens, menu, session_cookie
from ui.legacy import leave_legacy_multipage_mode
from ui.session import connection, db_path, ensure_warehouse, is_published, snapshot_notice

FAVICON = REPO_ROOT / "data" / "favicon.png"  # served by Streamlit itself: no request leaves the server
ROOT_PATH = "inizio"  # the default page is served at "/"; its own name must differ from its /panoramica alias


def _url_path(e: menu.Entry) -> str:
    return ROOT_PATH if e.url_path == menu.DEFAULT else e.url_path


def pages_for(access: Access) -> dict[str, list[st.Page]]:
    """The menu of a role (`ui/menu.py`); the pages it may not use are registered hidden.

    The Panoramica is the default page, served at "/", and also by name at /panoramica (a hidden alias)."""

    def page(e: menu.Entry, visible: bool, url_path: str | None = None) -> st.Page:
        return st.Page(
            str(REPO_ROOT / e.file),
            title=e.title,
            icon=e.icon,
            url_path=url_path or _url_path(e),
            default=url_path is None and e.url_path == menu.DEFAULT,
            visibility="visible" if visible else "hidden",
        )

    nav = {section: [page(e, True) for e in entries] for section, entries in menu.menu_for(access.ruolo).items()}
    hidden = [page(e, False) for e in menu.hidden_for(access.ruolo)]
    hidden += [page(e, False, e.url_path) for e in menu.all_entries() if e.url_path == menu.DEFAULT]
    nav[list(nav)[-1]].extend(hidden)
    return nav


def _everywhere(show, title: str, icon: str) -> list[st.Page]:
    """One screen under every URL path of the dashboard (the URL survives until the dashboard opens)."""
    paths = [_url_path(e) for e in menu.all_entries()] + [menu.DEFAULT]
    return [st.Page(show, title=title, icon=icon, url_path=p, default=p == ROOT_PATH) for p in paths]


def gate_pages(gate: auth.Gate) -> list[st.Page]:
    """The gate screen under every URL path of the dashboard (the URL survives the login)."""

    def show() -> None:
        login_screens.gate_screen(gate)

    return _everywhere(show, "Accesso", ":material/lock:")


def _first_start() -> None:
    """A fresh machine: build the demo warehouse (about a minute), with no menu meanwhile."""
    info = settings.ambito_info()
    st.title(f"Monitoraggio del {info.get('piano', 'Piano di Zona')}")
    ensure_warehouse()
    st.rerun()


def run() -> None:
    """One run of the dashboard: app.py calls it, and so does a page file run without the router."""
    st.set_page_config(
        page_title=f"Monitoraggio {settings.ambito_info().get('piano', 'Piano di Zona')}",
        page_icon=str(FAVICON),
        layout="wide",
        initial_sidebar_state="expanded",  # the filters are in the sidebar: open also on a narrow screen
    )
    leave_legacy_multipage_mode(rerun=False)
    if not db_path().exists() and not is_published():
        # first start: a navigation of our own at once, not the listing of pages/ (a file that vanishes
        # later is not rebuilt: its last copy is served, with the notice below)
        st.navigation(_everywhere(_first_start, "Primo avvio", ":material/hourglass_top:"), position="hidden").run()
        return
    _, con = connection(fresh=True)
    notice = snapshot_notice()
    if notice:  # the file went missing or is damaged: the last good copy is served, and said so
        st.warning(notice, icon=":material/database_off:")
    current = auth.current_access(auth.is_demo_warehouse(con))
    session_cookie.sync_cookie()  # a login or a logout of this session: the browser's session cookie
    if isinstance(current, Access):
        with st.sidebar:
            info = settings.ambito_info()
            st.markdown(f"**{info.get('nome', '')}**  \n{info.get('piano', '')}")
        st.navigation(pages_for(current), expanded=True).run()
    else:
        st.navigation(gate_pages(current), position="hidden").run()
