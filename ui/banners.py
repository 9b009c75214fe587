"""The notices at the top of a page: open demo access, demo data, provisional sub-ambiti,
data freshness and the view shown (with the suppression note for public views).
"""

from __future__ import annotations

import duckdb
import streamlit as st

from core.users import Access
from etl import queries as etl_queries
from indicators import fmt, profiles
from ui.filters import AUDIENCES, Frame


def access_notices(access: Access | None, con: duckdb.DuckDBPyConnection) -> None:
    """Open demo access, demo data: on every page, whatever it shows."""
    if access is not None and access.fonte == "demo":
        st.error(
            "**Accesso dimostrativo aperto**: nessun account è configurato, quindi chiunque raggiunga questo "
            "indirizzo vede tutto, come l'Ufficio di Piano. Vale solo per il database dimostrativo, che non accetta "
            "dati reali: per i dati reali creare un database vuoto (`python -m etl init`) e gli account "
            "(`python -m etl users add NOME --role ufficio_di_piano`).",
            icon=":material/lock_open:",
        )
    if etl_queries.is_demo(con):
        st.warning(
            "**Dati dimostrativi**: persone e interventi sono sintetici, generati per mostrare il funzionamento. "
            "Non descrivono persone reali.",
            icon=":material/science:",
        )


def banners(f: Frame) -> None:
    """Open demo access, demo data, provisional sub-ambiti, data freshness, audience."""
    access_notices(f.access, f.con)
    if profiles.is_provisional(f.con):
        st.info(
            "La composizione dei sub-ambiti è **provvisoria** (raggruppamento geografico) finché l'Ufficio di Piano "
            "non carica la tabella ufficiale.",
            icon=":material/map:",
        )
    last = profiles.data_date(f.con)
    who = ""
    if f.access is not None and f.access.fonte != "demo":
        who = f" · Accesso: {f.access.ruolo_label}"
        if f.own_comune:
            who += f" di {f.name_of(f.own_comune)}"
    st.caption(
        f"Dati aggiornati al {fmt.day(last)} · Vista: {AUDIENCES[f.audience]}{who}"
        + (f" · {fmt.SUPPRESSED_HELP}" if f.is_public else "")
    )
