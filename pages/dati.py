"""Dati e qualità: upload files, see what was rejected and why, load history, freshness."""

from __future__ import annotations

import streamlit as st

from etl import queries as etl_queries
from indicators.fmt import italian_frame
from ui import upload
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
    "CSV (separatore , o ;), XLSX o Parquet: prestazioni, operatori, sedi, accessi, distanze, obiettivi o sub-ambiti. "
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

last = st.session_state.get("last_batches") or []
version, con = connection()
if last:
    st.subheader("Righe scartate nell'ultimo caricamento")
    rejected = etl_queries.rejected_rows(con).filter(etl_queries.batch_filter(last))
    if rejected.height:
        st.table(italian_frame(etl_queries.reject_reasons(con, last)))
        st.dataframe(italian_frame(rejected.drop("batch_id")), hide_index=True, width="stretch")
        download_button(
            f, "Scarica le righe scartate (CSV)", rejected.write_csv(separator=";"), "righe_scartate.csv",
            "text/csv", f"righe scartate dei caricamenti {', '.join(last)}",
        )  # fmt: skip
    else:
        st.success("Nessuna riga scartata.")

st.subheader("Qualità per caricamento")
history = etl_queries.load_history(con)
st.dataframe(italian_frame(history.drop("batch_id")), hide_index=True, width="stretch")

st.subheader("Motivi di scarto (tutti i caricamenti)")
reasons = etl_queries.reject_reasons(con)
if reasons.height:
    st.dataframe(italian_frame(reasons), hide_index=True, width="stretch")
    download_button(
        f, "Scarica tutte le righe scartate (CSV)", etl_queries.rejected_rows(con).write_csv(separator=";"),
        "tutte_le_righe_scartate.csv", "text/csv", "tutte le righe scartate",
    )  # fmt: skip
else:
    st.write("Nessuna riga scartata finora.")

st.subheader("Aggiornamento per fonte")
st.dataframe(italian_frame(etl_queries.freshness(con)), hide_index=True, width="stretch")
