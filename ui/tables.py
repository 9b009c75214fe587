"""Tables on the pages: a Polars frame handed to `st.dataframe` as an Arrow table.

Given a Polars frame, Streamlit converts it to pandas and back to Arrow on every run (and imports
pandas on the first); an Arrow table is sent as it is. Large strings become plain strings, the type
Streamlit's own conversion produces.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import streamlit as st


def arrow(df: pl.DataFrame) -> pa.Table:
    table = df.to_arrow()
    fields = [pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields))


def dataframe(df: pl.DataFrame, **kwargs) -> None:
    """`st.dataframe` of a Polars frame, full width, without the index."""
    st.dataframe(arrow(df), hide_index=True, width="stretch", **kwargs)
