"""Registro accessi (Ufficio di Piano): logins, failed logins, logouts, uploads, target edits, exports."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core.spreadsheet import excel_csv
from core.users import ROLES
from etl import audit
from indicators.fmt import italian_frame, number
from ui import tables
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
failures = f", di cui {number(failed)} access{'o' if failed == 1 else 'i'} non riuscit{'o' if failed == 1 else 'i'}"
st.caption(f"{number(log.height)} voc{'e' if log.height == 1 else 'i'}" + (failures if failed else "") + ".")
shown = log.with_columns(
    log["azione"].replace_strict(audit.ACTIONS, default=log["azione"]).alias("azione"),
    log["ruolo"].replace_strict(ROLES, default=log["ruolo"]).alias("ruolo"),
)
tables.listing(italian_frame(shown), empty="Nessuna voce per il periodo e i filtri scelti.")
download_button(
    access,
    "Scarica il registro (CSV)",
    excel_csv(shown),
    "registro_accessi.csv",
    "text/csv",
    f"registro accessi ({log.height} voci)",
)
