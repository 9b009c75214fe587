"""The Assemblea mode (pages/assemblea.py): one objective per screen, for the projector and for paper.

* **Public view always**: the table is the public one (disclosure control on, «n.p.»), whatever the
  role, since the screen is shown to a room; the role's levels still apply (no comune for the Regione).
* **Territory chosen once** for the session (ambito, a sub-ambito, a comune; a sindaco starts on their
  own), with the year and which objectives to show, in «Impostazioni della seduta»; all in the URL.
* **No sidebar**: hidden with CSS on this page only (the style is an element of this page's run, gone
  when another page runs); large type; a link back to the dashboard.
* **Next / previous**: buttons above and below the slide, and the keyboard (← →, and Pag↑ Pag↓ as
  sent by presentation clickers) through Streamlit's button shortcuts; a list to jump to an objective.
* **Printable**: print CSS lays a screen on one A4 landscape page (Ctrl+P); the PDF buttons build the
  same pages from the report code (`indicators/reports/assemblea.py`) for this objective or all shown.

Words and numbers come from `indicators/assemblea.py`, the same for screen and paper. This module sets the
session up and navigates; the slide is drawn by `ui/assemblea_slide.py`, the PDFs by `ui/assemblea_print.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from core import settings
from etl import queries as etl_queries
from indicators import api, assemblea
from ui import session
from ui.filters import Frame, _default_year_index, _year_label
from ui.guard import require
from ui.legacy import shared_widgets

PAGE = "Assemblea dei Sindaci"
KEY_TERRITORY = "territorio"
KEY_OBJECTIVE = "obiettivo"
KEY_AREAS = "assemblea_aree"
KEY_BEHIND = "assemblea_in_ritardo"

# Containers are keyed: Streamlit gives each a class `st-key-<key>`, which the CSS below addresses.
CSS = """
<style>
/* This page only (the style is an element of this page's run): no sidebar, no header. */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.75rem 2rem 1rem 2rem; max-width: 1500px; }
/* Large type for the projector. */
.st-key-assemblea_slide h1 { font-size: 2.3rem; line-height: 1.15; padding: 0.1rem 0 0 0; }
.st-key-assemblea_slide [data-testid="stMarkdownContainer"] p { font-size: 1.3rem; }
.st-key-assemblea_slide [data-testid="stCaptionContainer"] p { font-size: 1.05rem; }
.st-key-assemblea_slide [data-testid="stMetric"] { border: 1px solid #d0d0d0; border-radius: 0.5rem;
  padding: 0.4rem 1rem; min-height: 5.6rem; }
.st-key-assemblea_slide [data-testid="stMetricLabel"] p { font-size: 1.05rem; }
.st-key-assemblea_slide [data-testid="stMetricValue"] p { font-size: 2.1rem; font-weight: 700; line-height: 1.2; }
.pdz-status { border-radius: 0.5rem; padding: 0.4rem 1rem; min-height: 5.6rem; }
.pdz-status .pdz-status-label { display: block; font-size: 1.05rem; }
.pdz-status .pdz-status-value { display: block; font-size: 2.1rem; font-weight: 700; line-height: 1.2; }
.pdz-demo { color: #b71c1c; font-weight: 700; border: 2px solid #b71c1c; border-radius: 0.4rem;
            padding: 0.1rem 0.6rem; white-space: nowrap; }
/* A narrow screen (a tablet): the map and the trend one above the other, each the full width. */
@media screen and (max-width: 900px) {
  .st-key-assemblea_figures [data-testid="stHorizontalBlock"] { flex-direction: column; }
  .st-key-assemblea_figures [data-testid="stColumn"] { width: 100%; flex: 1 1 auto; }
}
/* Paper: one objective on one A4 landscape page, without the controls. */
@media print {
  @page { size: A4 landscape; margin: 6mm 8mm; }
  .st-key-assemblea_controls, .st-key-assemblea_exit, .st-key-assemblea_nav, .st-key-assemblea_nav_bottom,
  .st-key-assemblea_print,
  .st-key-assemblea_slide [data-testid="stExpander"], [data-testid="stToolbar"], [data-testid="stDecoration"]
    { display: none !important; }
  html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"]
    { height: auto !important; overflow: visible !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: none; }
  /* Map and trend side by side (Streamlit stacks columns holding charts on paper), scaled to fit: the
     screen caps the charts at about 700 px (max-width above), the paper column is about 520 px. */
  .st-key-assemblea_figures [data-testid="stHorizontalBlock"]
    { display: flex !important; flex-direction: row !important; flex-wrap: nowrap !important; }
  .st-key-assemblea_figures [data-testid="stColumn"]
    { flex: 1 1 0 !important; width: 50% !important; min-width: 0 !important; }
  .st-key-assemblea_map, .st-key-assemblea_trend { zoom: 0.66; }
  .st-key-assemblea_slide h1 { font-size: 20pt; }
  .st-key-assemblea_slide [data-testid="stMarkdownContainer"] p { font-size: 11pt; }
  .st-key-assemblea_slide [data-testid="stCaptionContainer"] p { font-size: 9pt; }
  .st-key-assemblea_slide [data-testid="stMetric"] { min-height: 0; padding: 0.2rem 0.8rem; }
  .st-key-assemblea_slide [data-testid="stMetricValue"] p { font-size: 18pt; }
  .pdz-status { min-height: 0; }
  .pdz-status .pdz-status-value { font-size: 18pt; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
</style>
"""


@dataclass
class Seduta:
    """The session's choices: the frame (public table, year) and the territory, the objectives shown."""

    frame: Frame
    territory: assemblea.Territory
    areas: list[str]
    only_behind: bool

    @property
    def year(self) -> int:
        return self.frame.year


def setup() -> Seduta:
    """The guard, the projector layout and «Impostazioni della seduta» (year, territory, objectives)."""
    access = require(page=PAGE)
    st.html(CSS)
    version, con = session.connection()
    path = str(session.db_path())
    terr = session.territories(version, path)
    table = api.for_levels(session.indicator_table(version, "pubblico", path), access.levels)  # public, always
    info = settings.ambito_info()
    options = assemblea.territory_options(terr, access.levels, info.get("nome_breve", "Ambito"))
    default = assemblea.default_territory(
        options, access.comune, st.session_state.get("comune"), st.session_state.get("sub_ambito")
    )
    years = sorted(table["anno"].unique().to_list(), reverse=True)
    areas = api.area_names()

    top = st.container(key="assemblea_top", horizontal=True, vertical_alignment="center")
    with top:
        heading = st.empty()
        if etl_queries.is_demo(con):
            st.markdown(
                '<span class="pdz-demo">DATI DIMOSTRATIVI: persone e interventi sintetici</span>',
                unsafe_allow_html=True,
            )
        controls = st.popover("Impostazioni della seduta", icon=":material/tune:", key="assemblea_controls")
        with st.container(key="assemblea_exit", width="content"):
            st.page_link("pages/panoramica.py", label="Torna al cruscotto", icon=":material/close:")
    with controls:
        left, middle = st.columns([1, 2])
        with left, shared_widgets():  # the dashboard's own year filter: the same year on every page
            year = st.selectbox(
                "Anno",
                years,
                index=_default_year_index(table, years),
                key="anno",
                bind="query-params",
                format_func=_year_label(table),
            )
        with middle:
            code = st.selectbox(
                "Territorio",
                list(options),
                index=list(options).index(default),
                key=KEY_TERRITORY,
                bind="query-params",
                format_func=lambda c: options[c].label,
                help="Il territorio di cui si parla per tutta la seduta. Gli indicatori non calcolati per comune "
                "mostrano il sub-ambito del comune.",
            )
        chosen_areas = st.multiselect(
            "Aree",
            list(areas),
            default=list(areas),
            format_func=areas.get,
            key=KEY_AREAS,
            placeholder="Scegliere almeno un'area",
        )
        only_behind = st.toggle("Solo gli obiettivi a rischio o non in linea", key=KEY_BEHIND)
    territory = options[code]
    f = Frame(
        con,
        version,
        "pubblico",
        int(year),
        territory.code if territory.level == "sub_ambito" else None,
        territory.code if territory.level == "comune" else None,
        table,
        terr,
        access,
    )
    heading.markdown(f"**{PAGE}** · {territory.label} · anno {_year_text(table, year)} · vista pubblica")
    return Seduta(f, territory, chosen_areas, only_behind)


def _year_text(table: pl.DataFrame, year: int) -> str:
    return _year_label(table)(year)


def objectives(s: Seduta) -> list[assemblea.Slide]:
    """The slides of the session, in catalog order (empty: a message says what to change)."""
    shown = assemblea.slides(
        s.frame.table,
        api.catalog(),
        s.year,
        s.territory,
        s.frame.access.levels,
        areas=s.areas,
        only_behind=s.only_behind,
    )
    if not shown:
        st.title(PAGE)
        st.info(
            "Nessun obiettivo da mostrare con queste impostazioni: scegliere almeno un'area o togliere «Solo gli "
            "obiettivi a rischio o non in linea» in «Impostazioni della seduta».",
            icon=":material/info:",
        )
    return shown


def _step(ids: list[str], step: int):
    def go() -> None:
        current = st.session_state.get(KEY_OBJECTIVE)
        i = ids.index(current) if current in ids else 0
        st.session_state[KEY_OBJECTIVE] = ids[min(max(i + step, 0), len(ids) - 1)]

    return go


def navigator(shown: list[assemblea.Slide]) -> tuple[assemblea.Slide, int]:
    """Previous / next (← →), a list to jump to an objective; (the current slide, its position from 1)."""
    ids = [x.entry.id for x in shown]
    names = {x.entry.id: f"{i}. {x.entry.nome}" for i, x in enumerate(shown, start=1)}
    if KEY_OBJECTIVE in st.session_state and st.session_state[KEY_OBJECTIVE] not in ids:
        st.session_state[KEY_OBJECTIVE] = ids[0]  # the filters changed: back to the first objective shown
    current = st.session_state.get(KEY_OBJECTIVE)
    i = ids.index(current) if current in ids else 0
    with st.container(key="assemblea_nav", horizontal=True, vertical_alignment="center"):
        st.button(
            "Precedente",
            icon=":material/arrow_back:",
            key="assemblea_prev",
            on_click=_step(ids, -1),
            disabled=i == 0,
            shortcut="Left",
            help="Obiettivo precedente (tasto ←)",
        )
        chosen = st.selectbox(
            "Vai all'obiettivo",
            ids,
            index=0 if KEY_OBJECTIVE in st.session_state else i,
            format_func=names.get,
            key=KEY_OBJECTIVE,
            bind="query-params",
            width=520,
            label_visibility="collapsed",
        )
        st.button(
            "Successivo",
            icon=":material/arrow_forward:",
            key="assemblea_next",
            on_click=_step(ids, 1),
            disabled=i == len(ids) - 1,
            shortcut="Right",
            help="Obiettivo successivo (tasto →)",
        )
        n = ids.index(chosen) + 1
        st.markdown(f"{shown[n - 1].entry.nome_area} · obiettivo **{n} di {len(ids)}**")
    return shown[n - 1], n


def bottom_navigation(shown: list[assemblea.Slide], n: int) -> None:
    """Previous / next under the slide (Pag↑ Pag↓: what presentation clickers send)."""
    ids = [x.entry.id for x in shown]
    with st.container(key="assemblea_nav_bottom", horizontal=True, horizontal_alignment="distribute"):
        st.button(
            "Obiettivo precedente",
            icon=":material/arrow_back:",
            key="assemblea_prev_bottom",
            on_click=_step(ids, -1),
            disabled=n == 1,
            shortcut="PageUp",
        )
        st.button(
            "Obiettivo successivo",
            icon=":material/arrow_forward:",
            key="assemblea_next_bottom",
            on_click=_step(ids, 1),
            disabled=n == len(ids),
            shortcut="PageDown",
        )
