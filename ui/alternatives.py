"""The text alternative under a map or a chart: an expander «Dati del grafico …» holding a real
HTML table (`st.table`), which a screen reader reaches and reads, unlike the chart itself.

Call it right after the `st.plotly_chart` it describes, in the same column: the browser test
(tests/browser/test_accessibility_browser.py) checks that every chart on a page is followed by
its alternative before the next chart. The tables come from `indicators/alternatives.py`.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

MAP = "Dati della mappa"
CHART = "Dati del grafico"


def chart_data(what: str, table: pl.DataFrame, title: str = "", note: str = "") -> None:
    """An expander `what: title` (what = MAP or CHART) with `table` as an `st.table` and an optional note."""
    with st.expander(f"{what}: {title}" if title else what, icon=":material/table_view:"):
        if table.is_empty():
            st.caption("Nessun dato da mostrare.")
        else:
            st.table(table)
        if note:
            st.caption(note)
