"""Registro accessi (Ufficio di Piano): logins, failed logins, logouts, uploads, target edits, exports."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core.spreadsheet import write_csv
from etl import audit
from indicators.fmt import italian_frame
from ui.banners import access_notices
from ui.downloads import download_button
from ui.guard import require
from ui.session import connection, db_path

access = require("ufficio_di_piano", page="Registro accessi")
st.title("Registro accessi")
access_notices(access, connection()[1])
st.caption(
    "Chi ha fatto che cosa e quando: accessi (riusciti e non), uscite, sessioni scadute, pagine negate, "
    "caricamenti e file rifiutati, modifiche degli obiettivi, esportazioni. Le voci non si modificano dal cruscotto."
)

today = date.today()
c1, c2, c3, c4 = st.columns([2, 2, 3, 2])
with c1:
    period = st.date_input("Periodo", (today - timedelta(days=30), today), key="reg_periodo", format="DD/MM/YYYY")
with c2:
    who = st.text_input("Utente contiene", key="reg_utente")
with c3:
    actions = st.multiselect(
        "Azioni", list(audit.ACTIONS), format_func=audit.ACTIONS.get, key="reg_azioni", placeholder="Tutte"
    )
with c4:
    outcome = st.selectbox(
        "Esito",
        [None, "ok", "rifiutato", "fallito"],
        key="reg_esito",
        format_func=lambda e: "Tutti" if e is None else e,
    )

start, end = (period[0], period[-1]) if isinstance(period, (tuple, list)) and period else (None, None)
log = audit.entries(db_path(), dal=start, al=end, utente=who, azioni=actions or None, esito=outcome)
failed = log.filter(log["azione"] == "login_fallito").height
st.caption(f"{log.height} voci" + (f", di cui {failed} accessi non riusciti" if failed else "") + ".")
shown = log.with_columns(log["azione"].replace_strict(audit.ACTIONS, default=log["azione"]).alias("azione"))
st.dataframe(italian_frame(shown), hide_index=True, width="stretch")
download_button(
    access,
    "Scarica il registro (CSV)",
    write_csv(log, separator=";"),
    "registro_accessi.csv",
    "text/csv",
    f"registro accessi ({log.height} voci)",
)
