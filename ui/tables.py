"""Tables on the pages: small summaries as static tables that wrap and fit the page (1440 px and
768 px alike), long lists as scrolling data frames; an empty table is a sentence, never «empty».
"""

from __future__ import annotations

import polars as pl
import streamlit as st


def summary(df: pl.DataFrame, empty: str = "Nessun dato da mostrare.", alt: str | None = None) -> None:
    """A short table (up to a few dozen rows): every column visible, long text wrapped."""
    if df.height == 0:
        st.caption(empty)
        return
    st.table(df, hide_index=True, border="horizontal", alt=alt)


def listing(df: pl.DataFrame, empty: str = "Nessuna riga.", **kwargs) -> None:
    """A long list (scrolls, sorts, searches)."""
    if df.height == 0:
        st.caption(empty)
        return
    st.dataframe(df, hide_index=True, width="stretch", **kwargs)
