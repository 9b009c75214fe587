"""Tables on the pages: small summaries as static tables that wrap and fit the page (1440 px and
768 px alike), long lists as scrolling data frames; an empty table is a sentence, never «empty».

A long list goes to `st.dataframe` as an Arrow table: given a Polars frame, Streamlit converts it to
pandas and back to Arrow on every run (and imports pandas on the first); an Arrow table is sent as
it is. Large strings become plain strings, the type Streamlit's own conversion produces.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import streamlit as st


def arrow(df: pl.DataFrame) -> pa.Table:
    """The frame as Arrow, large strings as plain strings (what Streamlit's own conversion sends)."""
    table = df.to_arrow()
    fields = [pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields))


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
    st.dataframe(arrow(df), hide_index=True, width="stretch", **kwargs)
