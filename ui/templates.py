"""«Dati e qualità»: the templates of every input table, to download (CSV and Excel) and read on screen.

Streamlit glue only: the files and the instructions come from `etl.templates`, generated from the
schema the loader validates with, so what the page offers is what the loader accepts.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from etl import templates
from etl.schemas import TABLES
from indicators.catalog import indicator_ids
from ui.downloads import download_button
from ui.filters import Frame


def template_downloads(f: Frame) -> None:
    """A table chooser, its CSV and XLSX templates, and its columns explained."""
    with st.expander("Modelli da compilare (CSV ed Excel, con le istruzioni)", icon=":material/description:"):
        st.caption(
            "Per ogni tabella: le intestazioni e una riga di esempio (la composizione attuale per i sub-ambiti). "
            "Il CSV è pronto per Excel in italiano (separatore ;); il file Excel ha un secondo foglio «Istruzioni» "
            "che spiega ogni colonna. I codici fiscali di esempio sono fittizi."
        )
        name = st.selectbox("Tabella", list(TABLES), format_func=lambda t: TABLES[t].label, key="modello_tabella")
        spec = TABLES[name]
        refs = templates.references(f.con, indicator_ids())
        left, right = st.columns(2)
        with left:
            download_button(
                f,
                "Modello CSV",
                partial(templates.template_csv, spec, refs),
                templates.template_filename(spec, "csv"),
                "text/csv",
                f"modello della tabella {name} (CSV)",
                key=f"modello_csv_{name}",
            )
        with right:
            download_button(
                f,
                "Modello Excel con istruzioni",
                partial(templates.template_xlsx, spec, refs),
                templates.template_filename(spec, "xlsx"),
                templates.XLSX_MIME,
                f"modello della tabella {name} (XLSX)",
                key=f"modello_xlsx_{name}",
            )
        for rule in templates.table_rules(spec):
            st.caption(rule)
        st.dataframe(templates.column_guide(spec, refs), hide_index=True, width="stretch")
