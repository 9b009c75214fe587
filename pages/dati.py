"""Dati e qualità: upload files, see what was rejected and why, map the codes of rows waiting for a
code mapping, people of unknown age, load history, freshness."""

from __future__ import annotations

import streamlit as st

from core.spreadsheet import write_csv
from etl import queries as etl_queries
from indicators.fmt import italian_frame
from ui import codifiche, upload
from ui.banners import banners
from ui.downloads import download_button
from ui.filters import frame
from ui.session import connection

f = frame("ufficio_di_piano", page="Dati e qualità")
st.title("Dati e qualità")
banners(f)

if f.is_public:
    st.info("Il caricamento dei dati e il dettaglio degli scarti sono disponibili nella vista Ufficio di Piano.")
    st.stop()

st.subheader("Carica file")
st.caption(
    "CSV (separatore , o ;), XLSX o Parquet: prestazioni, operatori, sedi, accessi, distanze, obiettivi, sub-ambiti o "
    "codifiche. "
    "La tabella viene riconosciuta dalle intestazioni; ogni riga viene caricata o scartata con il motivo. "
    f"Estensioni ammesse: {', '.join(upload.ALLOWED)}; al massimo {upload.max_mb()} MB per file."
)
# No `type=` filter: Streamlit would refuse another extension with an English exception; the
# server-side check (etl/uploads.py) refuses it with a message in Italian and logs it.
files = st.file_uploader("File da caricare", accept_multiple_files=True, key="upload_files")
if files and st.button("Carica", type="primary"):
    refused, results = upload.load_uploaded(files, f.access)
    st.session_state["last_batches"] = [r.batch_id for r in results if r.batch_id]
    for message in refused:
        st.error(message, icon=":material/block:")
    for r in results:
        (st.success if r.status == "loaded" and not r.rows_rejected else st.warning)(
            r.summary_it(where_rejected="motivi qui sotto")
        )

codifiche.show_outcome()
last = st.session_state.get("last_batches") or []
version, con = connection()
if last:
    st.subheader("Righe scartate nell'ultimo caricamento")
    rejected = etl_queries.rejected_rows(con).filter(etl_queries.batch_filter(last))
    if rejected.height:
        st.table(italian_frame(etl_queries.reject_reasons(con, last)))
        st.dataframe(italian_frame(rejected.drop("batch_id")), hide_index=True, width="stretch")
        download_button(
            f,
            "Scarica le righe scartate (CSV)",
            write_csv(rejected, separator=";"),
            "righe_scartate.csv",
            "text/csv",
            f"righe scartate dei caricamenti {', '.join(last)}",
        )
    else:
        st.success("Nessuna riga scartata.")

st.subheader("Righe in attesa di codifica")
held = etl_queries.held_by_code(con)
if held.height:
    st.caption(
        "Righe che hanno superato tutti i controlli ma il cui codice intervento (sistema di codifica e codice) "
        "non ha ancora una corrispondenza nel catalogo degli interventi. Non sono contate negli indicatori: "
        "associando il codice a un intervento, le sue righe vengono caricate subito."
    )
    st.table(italian_frame(held))
    codifiche.map_held_code_form(f, held)
else:
    st.write("Nessuna riga in attesa di codifica.")

mappings = etl_queries.code_mappings(con)
with st.expander(f"Codifiche dei sistemi di origine ({mappings.height})"):
    st.caption(
        "Ogni codifica dice a quale intervento del catalogo corrisponde un codice di un altro sistema "
        "(colonne sistema_codifica e codice_intervento delle prestazioni). Si caricano anche da file "
        "(colonne sistema, codice, intervento, descrizione)."
    )
    if mappings.height:
        st.dataframe(italian_frame(mappings), hide_index=True, width="stretch")
    codifiche.edit_mappings(f, mappings)

st.subheader("Età non nota")
unknown = etl_queries.unknown_age(con)
if unknown.height:
    st.caption(
        "Persone identificate da un codice che non contiene la data di nascita (codice fiscale provvisorio, "
        "STP, ENI) e senza la colonna anno_nascita: contano negli indicatori che non dipendono dall'età e sono "
        "escluse da quelli per fascia d'età (colonna «esclusi da»)."
    )
    st.table(italian_frame(codifiche.unknown_age_table(unknown)))
else:
    st.write("Nessuna persona con età non nota.")

st.subheader("Qualità per caricamento")
history = etl_queries.load_history(con)
st.dataframe(italian_frame(history.drop("batch_id")), hide_index=True, width="stretch")

st.subheader("Motivi di scarto (tutti i caricamenti)")
reasons = etl_queries.reject_reasons(con)
if reasons.height:
    st.dataframe(italian_frame(reasons), hide_index=True, width="stretch")
    download_button(
        f,
        "Scarica tutte le righe scartate (CSV)",
        write_csv(etl_queries.rejected_rows(con), separator=";"),
        "tutte_le_righe_scartate.csv",
        "text/csv",
        "tutte le righe scartate",
    )
else:
    st.write("Nessuna riga scartata finora.")

st.subheader("Aggiornamento per fonte")
st.dataframe(italian_frame(etl_queries.freshness(con)), hide_index=True, width="stretch")
