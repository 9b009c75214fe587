"""The two places the shell leans on Streamlit's private APIs, kept together so an upgrade
is checked in one file: leaving the legacy multipage mode (a `pages/` folder beside
app.py), and drawing the shared widgets as the router's rather than the page's.
Imports nothing of ui/: the router is handed in (`run_through_router`), never imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st


def leave_legacy_multipage_mode(rerun: bool = True) -> bool:
    """Hand a deep link on the first request after start-up to the router in app.py.

    Streamlit treats a `pages/` folder beside the main script as a legacy
    multipage app until `st.navigation` has run once in the process; the very
    first request, if it is a deep link (/poverta?anno=2025), would run the
    page file without app.py (no router, no shared frame). We switch that mode
    off and rerun: the same URL then goes through `st.navigation`. app.py itself
    passes `rerun=False` (it is the router). Returns True when the mode was on.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if rerun:
            st.rerun()
        return True
    return False


def run_through_router(router_run: Callable[[], None]) -> None:
    """A page file run without the router (legacy mode): run the router now, then stop.

    The router resolves the same URL and runs this page again, through its guard, in this
    same run. Not st.rerun(): a rerun drops the click that started the run (a login, a
    logout), and AppTest starts every run in legacy mode. Does nothing in a routed run.
    """
    if leave_legacy_multipage_mode(rerun=False):
        router_run()
        st.stop()


@contextmanager
def shared_widgets() -> Iterator[None]:
    """Draw widgets as the router's, not the page's: the same widget (and its URL parameter) on every page.

    Streamlit keys a widget by the script it is drawn under and, on a page change, drops URL
    parameters bound to another page's widgets; the shared filters belong to every page.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        yield
