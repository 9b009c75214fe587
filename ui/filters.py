"""The shared filters and the frame every page gets: view, year, sub-ambito and comune
in the sidebar (bound to the URL, so a view can be shared as a link), and the tables
they select for this audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl
import streamlit as st

from core import settings
from core.users import Access
from indicators import api
from ui.guard import require
from ui.legacy import shared_widgets
from ui.session import connection, db_path, indicator_table, territories

AUDIENCES = {"pubblico": "Pubblica", "ufficio": "Ufficio di Piano"}


@dataclass
class Frame:
    """What every page gets: who is looking, connection, filters and the tables for this audience."""

    con: duckdb.DuckDBPyConnection
    version: tuple
    audience: str
    year: int
    sub_ambito: str | None
    comune: str | None
    table: pl.DataFrame
    territories: pl.DataFrame
    access: Access | None = None

    @property
    def own_comune(self) -> str | None:
        """A sindaco's comune (preselected and outlined on maps)."""
        return self.access.comune if self.access else None

    @property
    def is_public(self) -> bool:
        return self.audience == "pubblico"

    def name_of(self, territorio: str) -> str:
        if territorio == "AMBITO":
            return settings.ambito_info().get("nome_breve", "Ambito")
        t = self.territories
        hit = t.filter(pl.col("comune") == territorio)
        if hit.height:
            return hit["nome"][0]
        hit = t.filter(pl.col("sub_ambito") == territorio)
        return hit["nome_sub_ambito"][0] if hit.height else territorio


def frame(*roles: str, page: str = "") -> Frame:
    """Sidebar filters (in the URL, so a view can be shared as a link) and the data they select.

    The view (audience) comes from the role, never from the URL alone: only the Ufficio di
    Piano has the choice; everyone else gets the public table, whatever `?vista=` says.
    """
    access = require(*roles, page=page)
    version, con = connection()
    path = str(db_path())
    terr = territories(version, path)
    if len(access.audiences) > 1:
        with st.sidebar, shared_widgets():
            audience = st.radio(
                "Vista",
                list(access.audiences),
                format_func=AUDIENCES.get,
                key="vista",
                bind="query-params",
                help="Pubblica (Assemblea dei Sindaci, Regione): segreto statistico applicato, i conteggi sotto "
                "soglia sono indicati con n.p. Ufficio di Piano: dati completi, caricamenti e obiettivi.",
            )
    else:
        audience = access.audiences[0]
    if audience not in access.audiences:  # never: the radio offers only the allowed views
        audience = "pubblico"
    table = api.for_levels(indicator_table(version, audience, path), access.levels)  # the role's levels
    years = sorted(table["anno"].unique().to_list(), reverse=True) or [date.today().year]
    subs = terr.select("sub_ambito", "nome_sub_ambito").unique().sort("sub_ambito")
    sub_names = dict(zip(subs["sub_ambito"], subs["nome_sub_ambito"]))
    with st.sidebar, shared_widgets():
        year = st.selectbox(
            "Anno",
            years,
            index=_default_year_index(table, years),
            key="anno",
            bind="query-params",
            format_func=_year_label(table),
        )
        sub = st.selectbox(
            "Sub-ambito",
            [None, *sub_names],
            key="sub_ambito",
            bind="query-params",
            format_func=lambda s: "Tutto l'ambito" if s is None else f"{s} · {sub_names[s]}",
        )
        comune = None
        if access.sees_comuni:
            comuni = terr if sub is None else terr.filter(pl.col("sub_ambito") == sub)
            names = dict(zip(comuni["comune"], comuni["nome"]))
            options = [None, *sorted(names, key=names.get)]
            own = access.comune if access.comune in options else None
            comune = st.selectbox(
                "Comune",
                options,
                index=options.index(own),
                key="comune",
                bind="query-params",
                format_func=lambda c: "Tutti i comuni" if c is None else names.get(c, c),
            )
    return Frame(con, version, audience, int(year), sub, comune, table, terr, access)


def _default_year_index(table: pl.DataFrame, years: list[int]) -> int:
    """The last complete year: a partial year's counts are not comparable with targets yet."""
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list())
    complete = [i for i, y in enumerate(years) if y not in partial]
    return complete[0] if complete else 0


def _year_label(table: pl.DataFrame):
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list()) if "parziale" in table.columns else set()
    return lambda y: f"{y} (da inizio anno)" if y in partial else str(y)


def selected_territory(f: Frame) -> tuple[str, str]:
    """The territory the filters point at: a comune, else a sub-ambito, else the ambito."""
    territorio = f.comune or f.sub_ambito or "AMBITO"
    return territorio, f.name_of(territorio)
