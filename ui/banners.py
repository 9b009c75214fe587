"""The notices at the top of a page, one line each with the details on demand: open demo
access, demo data, provisional sub-ambiti, data freshness and the view shown (with the
suppression note for public views). The first map or table stays above the fold.
"""

from __future__ import annotations

import duckdb
import streamlit as st

from core.users import Access
from etl import queries as etl_queries
from indicators import fmt, profiles
from ui.filters import AUDIENCES, Frame

OPEN_ACCESS = (
    "Nessun account è configurato, quindi chiunque raggiunga questo indirizzo vede tutto, come l'Ufficio di Piano. "
    "Vale solo per il database dimostrativo, che non accetta dati reali: per i dati reali creare un database vuoto "
    "(`python -m etl init`) e gli account (`python -m etl users add NOME --role ufficio_di_piano`)."
)
DEMO_DATA = "Persone e interventi sono sintetici, generati per mostrare il funzionamento: non descrivono persone reali."
PROVISIONAL = (
    "La composizione dei sub-ambiti è provvisoria (raggruppamento geografico) finché l'Ufficio di Piano non carica "
    "la tabella ufficiale dei sub-ambiti."
)


def _details(lines: list[str]) -> None:
    """The explanations behind the one-line notices, on demand (one line while closed)."""
    with st.expander("Note su accesso e dati", icon=":material/info:"):
        for line in lines:
            st.markdown(f"- {line}")


def _access_lines(access: Access | None, con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(one-line notices shown, their details) for open demo access and demo data."""
    shown, details = [], []
    if access is not None and access.fonte == "demo":
        st.error(
            "**Accesso dimostrativo aperto**: chiunque raggiunga questo indirizzo vede tutto.",
            icon=":material/lock_open:",
        )
        details.append(f"**Accesso dimostrativo aperto.** {OPEN_ACCESS}")
    if etl_queries.is_demo(con):
        shown.append(":orange-badge[:material/science: Dati dimostrativi, non reali]")
        details.append(f"**Dati dimostrativi.** {DEMO_DATA}")
    return shown, details


def access_notices(access: Access | None, con: duckdb.DuckDBPyConnection) -> None:
    """Open demo access, demo data: on every page, whatever it shows."""
    shown, details = _access_lines(access, con)
    if shown:
        st.markdown(" ".join(shown))
    if details:
        _details(details)


def banners(f: Frame) -> None:
    """Open demo access, demo data, provisional sub-ambiti, data freshness, audience: one line each."""
    shown, details = _access_lines(f.access, f.con)
    if profiles.is_provisional(f.con):
        shown.append(":blue-badge[:material/map: Sub-ambiti provvisori]")
        details.append(f"**Sub-ambiti provvisori.** {PROVISIONAL}")
    last = profiles.data_date(f.con)
    who = ""
    if f.access is not None and f.access.fonte != "demo":
        who = f" · Accesso: {f.access.ruolo_label}"
        if f.own_comune:
            who += f" di {f.name_of(f.own_comune)}"
    if f.is_public:
        details.append(f"**Vista pubblica.** {fmt.SUPPRESSED_HELP}.")
    line = f"Dati aggiornati al {fmt.day(last)} · Vista: {AUDIENCES[f.audience]}{who}"
    # the badges beside the caption, not in it: a caption's text is drawn at 60%, which faded the badges'
    # colours to 2.7:1 (WCAG AA asks 4.5:1; tests/browser/test_accessibility_browser.py)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        if shown:
            st.markdown(" ".join(shown), width="content")
        st.caption(line, width="content")
    if details:
        _details(details)
