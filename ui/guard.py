"""The guard at the top of every page: who is looking, and may they see this page.

A session without access gets the gate screen (login, setup, refusal) and the run stops;
a role the page is not for gets a logged refusal. The login itself is `ui/access.py`.
"""

from __future__ import annotations

import streamlit as st

from core.users import ROLES, Access, ambito_comuni
from ui import access as auth
from ui import login_screens, router
from ui.legacy import run_through_router, shared_widgets
from ui.session import connection


def current_access() -> Access:
    """The access of this session; anything else (login, no role, no account yet) is shown and the run stops.

    Every page goes through this (via `filters.frame` or `require`), not only app.py: a page
    opened by URL never runs for a session that may not see it.
    """
    run_through_router(router.run)  # a page file run without the router (legacy mode): route, then stop
    _, con = connection()
    result = auth.current_access(auth.is_demo_warehouse(con))
    if not isinstance(result, Access):
        login_screens.gate_screen(result)
        st.stop()
    # Drawn by the page, not by the router before `st.navigation`: a widget's id includes the
    # script hash it is drawn under, which is the page's in every kind of run.
    with shared_widgets():
        login_screens.sidebar_identity(result, ambito_comuni().get(result.comune) if result.comune else None)
    return result


def require(*roles: str, page: str = "") -> Access:
    """The guard at the top of a restricted page: other roles get a refusal (logged) and the run stops."""
    access = current_access()
    if roles and access.ruolo not in roles:
        allowed = ", ".join(ROLES[r] for r in roles)
        message = f"La pagina {page} è riservata a: {allowed}. Il ruolo {access.ruolo_label} non vi ha accesso."
        st.title("Pagina riservata")
        st.error(message, icon=":material/block:")
        auth.refuse(access, page, message)
        st.stop()
    return access
