"""The outside comparisons of an indicator on a page: a small table beside the ambito's value.

Streamlit glue only; what is shown comes from `indicators.comparisons` (the same functions the
reports use), and nothing here reaches the indicator table.
"""

from __future__ import annotations

import streamlit as st

from indicators import api, comparisons
from indicators.definitions import Indicator
from ui.filters import Frame


def _own(f: Frame, territories: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The page's own territories, then the ambito (once)."""
    return [(code, label) for code, label in territories if code != "AMBITO"] + [("AMBITO", f.name_of("AMBITO"))]


def comparison_block(f: Frame, entry: Indicator, territorio: str = "AMBITO") -> None:
    """The selected territory's and the ambito's value for the year, then the outside values (latest
    up to the year, with year and source); nothing when no comparison is loaded for the indicator."""
    outside = comparisons.outside_values(f.con)
    shown = comparisons.beside(
        outside, f.table, entry.id, entry.unita, f.year, _own(f, [(territorio, f.name_of(territorio))])
    )
    if shown.is_empty():
        return
    st.markdown(f"**{comparisons.HEADING}**")
    st.table(shown)
    st.caption(comparisons.EXPLANATION)


def comparisons_overview(f: Frame, territories: list[tuple[str, str]]) -> None:
    """Every indicator with outside comparisons (the Comune page), one small table each, beside the
    page's territories (`territories`: code, label) and the ambito."""
    outside = comparisons.outside_values(f.con)
    shown_any = False
    for entry in api.catalog():
        shown = comparisons.beside(outside, f.table, entry.id, entry.unita, f.year, _own(f, territories))
        if shown.is_empty():
            continue
        if not shown_any:
            st.subheader(comparisons.HEADING)
            st.caption(comparisons.EXPLANATION)
            shown_any = True
        st.markdown(f"**{entry.nome}** ({entry.unita})")
        st.table(shown)
