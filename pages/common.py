"""Streamlit glue shared by the pages: the warehouse snapshot, cached frames,
the shared filters (bound to the URL) and the banners.

No SQL and no business rules here: those live in `etl/` and `indicators/`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from etl import db as warehouse
from etl import queries as etl_queries
from etl import settings
from indicators import api, fmt, profiles, views

AUDIENCES = {"pubblico": "Pubblica", "ufficio": "Ufficio di Piano"}
AREAS = {e.area: e.nome_area for e in api.catalog()}  # area code -> Italian name, from the catalog
STATUS_ICON = views.STATUS_ICON
_build_lock = threading.Lock()


# --- the warehouse -------------------------------------------------------------


def db_path() -> Path:
    return settings.db_path()


def ensure_warehouse() -> None:
    """First start on a fresh machine: build the demo warehouse (once per process)."""
    path = db_path()
    if path.exists():
        return
    with _build_lock:
        if path.exists():
            return
        from etl.demo_build import build_demo

        with st.spinner("Primo avvio: creo il database con i dati dimostrativi (circa un minuto)…"):
            build_demo(path)


class _Snapshots:
    """The current in-memory snapshot per warehouse file, swapped when the file changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_path: dict[str, tuple[tuple, duckdb.DuckDBPyConnection]] = {}

    def get(self, path: Path) -> tuple[tuple, duckdb.DuckDBPyConnection]:
        version = warehouse.version(path)
        with self.lock:
            current = self.by_path.get(str(path))
            if current and current[0] == version:
                return current
            try:  # with a previous snapshot to fall back on, do not make users wait for a long load
                fresh = (version, warehouse.snapshot(path, wait_seconds=0.3 if current else 30.0))
            except warehouse.WarehouseBusy:
                if current:  # a load is committing: keep serving the previous data
                    return current
                raise
            self.by_path[str(path)] = fresh
            return fresh


@st.cache_resource
def _snapshots() -> _Snapshots:
    return _Snapshots()


def connection() -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """(warehouse version, a cursor on the current snapshot) for this rerun."""
    ensure_warehouse()
    version, con = _snapshots().get(db_path())
    return version, con.cursor()


@st.cache_data(max_entries=8, show_spinner=False)
def indicator_table(version: tuple, audience: str, path: str) -> pl.DataFrame:
    """The one tidy table, per warehouse version and audience (the audience is in the key)."""
    _, con = _snapshots().get(Path(path))
    return api.indicator_table(con.cursor(), audience=audience)


@st.cache_data(max_entries=4, show_spinner=False)
def territories(version: tuple, path: str) -> pl.DataFrame:
    _, con = _snapshots().get(Path(path))
    return profiles.territories(con.cursor())


# --- the shared frame ------------------------------------------------------------


@dataclass
class Frame:
    """What every page gets: connection, filters and the tables for this audience."""

    con: duckdb.DuckDBPyConnection
    version: tuple
    audience: str
    year: int
    sub_ambito: str | None
    comune: str | None
    table: pl.DataFrame
    territories: pl.DataFrame

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


def leave_legacy_multipage_mode() -> None:
    """Hand a deep link on the first request after start-up to the router in app.py.

    Streamlit treats a `pages/` folder beside the main script as a legacy
    multipage app until `st.navigation` has run once in the process; the very
    first request, if it is a deep link (/poverta?anno=2025), would run the
    page file without app.py (no router, no shared frame). We switch that mode
    off and rerun: the same URL then goes through `st.navigation`.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def frame() -> Frame:
    """Sidebar filters (in the URL, so a view can be shared as a link) and the data they select."""
    leave_legacy_multipage_mode()
    version, con = connection()
    path = str(db_path())
    terr = territories(version, path)
    with st.sidebar:
        audience = st.radio(
            "Vista", list(AUDIENCES), format_func=AUDIENCES.get, key="vista", bind="query-params",
            help="Pubblica (Assemblea dei Sindaci, Regione): segreto statistico applicato, i conteggi sotto soglia "
            "sono indicati con n.p. Ufficio di Piano: dati completi, caricamenti e obiettivi.",
        )  # fmt: skip
    table = indicator_table(version, audience, path)
    years = sorted(table["anno"].unique().to_list(), reverse=True) or [date.today().year]
    subs = terr.select("sub_ambito", "nome_sub_ambito").unique().sort("sub_ambito")
    sub_names = dict(zip(subs["sub_ambito"], subs["nome_sub_ambito"]))
    with st.sidebar:
        year = st.selectbox(
            "Anno", years, index=_default_year_index(table, years), key="anno", bind="query-params",
            format_func=_year_label(table),
        )  # fmt: skip
        sub = st.selectbox(
            "Sub-ambito", [None, *sub_names], key="sub_ambito", bind="query-params",
            format_func=lambda s: "Tutto l'ambito" if s is None else f"{s} · {sub_names[s]}",
        )  # fmt: skip
        comuni = terr if sub is None else terr.filter(pl.col("sub_ambito") == sub)
        names = dict(zip(comuni["comune"], comuni["nome"]))
        comune = st.selectbox(
            "Comune", [None, *sorted(names, key=names.get)], key="comune", bind="query-params",
            format_func=lambda c: "Tutti i comuni" if c is None else names.get(c, c),
        )  # fmt: skip
    return Frame(con, version, audience, int(year), sub, comune, table, terr)


def _default_year_index(table: pl.DataFrame, years: list[int]) -> int:
    """The last complete year: a partial year's counts are not comparable with targets yet."""
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list())
    complete = [i for i, y in enumerate(years) if y not in partial]
    return complete[0] if complete else 0


def _year_label(table: pl.DataFrame):
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list()) if "parziale" in table.columns else set()
    return lambda y: f"{y} (da inizio anno)" if y in partial else str(y)


def banners(f: Frame) -> None:
    """Demo data, provisional sub-ambiti, data freshness, audience."""
    if etl_queries.is_demo(f.con):
        st.warning(
            "**Dati dimostrativi**: persone e interventi sono sintetici, generati per mostrare il funzionamento. "
            "Non descrivono persone reali.",
            icon=":material/science:",
        )
    if profiles.is_provisional(f.con):
        st.info(
            "La composizione dei sub-ambiti è **provvisoria** (raggruppamento geografico) finché l'Ufficio di Piano "
            "non carica la tabella ufficiale.",
            icon=":material/map:",
        )
    last = profiles.data_date(f.con)
    st.caption(
        f"Dati aggiornati al {fmt.day(last)} · Vista: {AUDIENCES[f.audience]}"
        + (f" · {fmt.SUPPRESSED_HELP}" if f.is_public else "")
    )


def italian_table(df: pl.DataFrame, decimals: dict[str, int] | None = None) -> pl.DataFrame:
    return fmt.italian_frame(df, decimals)


def selected_territory(f: Frame) -> tuple[str, str]:
    """The territory the filters point at: a comune, else a sub-ambito, else the ambito."""
    territorio = f.comune or f.sub_ambito or "AMBITO"
    return territorio, f.name_of(territorio)


def reading(row: dict, year: int) -> str:
    return views.reading(row, year)


def overview_table(ov: pl.DataFrame, year: int) -> pl.DataFrame:
    return views.overview_display(ov, year)


def ranking_table(ranked: pl.DataFrame, entry) -> pl.DataFrame:
    return views.ranking_display(ranked, entry.unita)


@st.cache_data(max_entries=4, show_spinner=False)
def _sub_ambiti(version: tuple, path: str) -> pl.DataFrame:
    _, con = _snapshots().get(Path(path))
    return profiles.sub_ambiti_table(con.cursor())


@st.cache_data(max_entries=4, show_spinner=False)
def _sedi(version: tuple, path: str) -> pl.DataFrame:
    _, con = _snapshots().get(Path(path))
    return profiles.sedi(con.cursor())


def sub_ambiti_table(f: Frame) -> pl.DataFrame:
    return _sub_ambiti(f.version, str(db_path()))


def sedi(f: Frame) -> pl.DataFrame:
    return _sedi(f.version, str(db_path()))


def map_selection_callback(key: str, level: str):
    """Clicking a territory on a map sets the matching sidebar filter (before the rerun)."""

    def on_select() -> None:
        event = st.session_state.get(key)
        points = (event or {}).get("selection", {}).get("points", []) if event else []
        locations = [p.get("location") for p in points if p.get("location")]
        if not locations:
            return
        if level == "comune":
            st.session_state["comune"] = locations[0]
        else:
            st.session_state["sub_ambito"] = locations[0]
            st.session_state["comune"] = None

    return on_select


def comparison_table(comparison: pl.DataFrame, sub_name: str, with_comune: bool, comune_name: str | None = None):
    return views.comparison_display(comparison, sub_name, with_comune, comune_name, "Ambito")


@st.cache_data(max_entries=16, show_spinner=False)
def _pyramid(version: tuple, path: str, comuni: tuple[str, ...]) -> pl.DataFrame:
    _, con = _snapshots().get(Path(path))
    return profiles.population_pyramid(con.cursor(), list(comuni))


def population_pyramid(f: Frame, comuni: list[str]) -> pl.DataFrame:
    return _pyramid(f.version, str(db_path()), tuple(sorted(comuni)))


@st.cache_data(max_entries=8, show_spinner=False)
def _equipe(version: tuple, path: str, on: date) -> pl.DataFrame:
    _, con = _snapshots().get(Path(path))
    return profiles.equipe(con.cursor(), on)


def equipe(f: Frame) -> pl.DataFrame:
    """Staff active on 31 Dec of the selected year (or today for the current year)."""
    on = min(date(f.year, 12, 31), date.today())
    return _equipe(f.version, str(db_path()), on)


REPORT_LABELS = {
    "pdf": "Relazione (PDF)",
    "pptx": "Presentazione (PowerPoint)",
    "xlsx": "Tabelle per la Regione (Excel)",
}


def report_downloads(f: Frame, territorio: str) -> None:
    """The three reports for a territory and year, generated when clicked (public view, always)."""
    from indicators import reports

    path = db_path()

    def maker(fmt: str):
        def make() -> bytes:
            _, con = _snapshots().get(path)
            return reports.report_bytes(con.cursor(), fmt, territory=territorio, year=f.year)

        return make

    with st.expander(f"Scarica i report per {f.name_of(territorio)} ({f.year})", icon=":material/download:"):
        st.caption(
            "Sempre con il segreto statistico applicato. Il PDF e la presentazione richiedono circa mezzo minuto."
        )
        for col, (fmt, label) in zip(st.columns(3), REPORT_LABELS.items(), strict=True):
            col.download_button(
                label, data=maker(fmt), file_name=reports.default_filename(fmt, territorio, f.year),
                mime=reports.MIME_TYPES[fmt], key=f"report_{fmt}", on_click="ignore",
            )  # fmt: skip
