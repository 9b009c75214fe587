"""Streamlit glue shared by the pages: the warehouse snapshot, cached frames,
the shared filters (bound to the URL) and the banners.

No SQL and no business rules here: those live in `etl/` and `indicators/`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from core import settings, warehouse
from core.users import ROLES, Access, ambito_comuni
from etl import queries as etl_queries
from indicators import api, fmt, profiles, views
from indicators.engine import publish_values
from ui import access as auth

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
        from demo.build import build_demo

        with st.spinner("Primo avvio: creo il database con i dati dimostrativi (circa un minuto)…"):
            build_demo(path)


class _Snapshots:
    """The current in-memory snapshot per warehouse file, swapped when its data changes.

    The key handed to the caches is the warehouse's data version (`meta.data_version`):
    a write that changes no data (an audit entry) touches the file but keeps the key,
    the snapshot and every cached table.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_path: dict[str, dict] = {}

    def get(self, path: Path) -> tuple[tuple, duckdb.DuckDBPyConnection]:
        stat = warehouse.version(path)
        with self.lock:
            current = self.by_path.get(str(path))
            if current and current["stat"] == stat:
                return current["key"], current["con"]
            try:
                if current and current["data_version"] is not None:
                    if warehouse.data_version(path) == current["data_version"]:
                        current["stat"] = stat  # only the audit log changed
                        return current["key"], current["con"]
                con = warehouse.snapshot(  # fallback: no wait
                    path, wait_seconds=0.3 if current else 30.0, summarise=publish_values
                )
            except warehouse.WarehouseBusy:
                if current:  # a load is committing: keep serving the previous data
                    return current["key"], current["con"]
                raise
            data_version = warehouse.get_meta(con, "data_version")
            key = ("data", data_version) if data_version else stat
            self.by_path[str(path)] = {"stat": stat, "data_version": data_version, "key": key, "con": con}
            return key, con


@st.cache_resource
def _snapshots() -> _Snapshots:
    return _Snapshots()


def connection() -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """(warehouse version, a cursor on the current snapshot) for this rerun."""
    ensure_warehouse()
    try:
        version, con = _snapshots().get(db_path())
    except warehouse.WarehouseUnavailable as exc:  # damaged or busy file: its Italian message, no traceback
        st.error(str(exc), icon=":material/error:")
        st.stop()
    return version, con.cursor()


# Cached frames that hold no indicator value and no count of persons (public reference data:
# territory, ISTAT population, staff, sites): the only caches without `audience` in their key.
# tests/test_auth.py fails when another cached function lacks an `audience` parameter.
AUDIENCE_FREE_CACHES = {"territories", "_sub_ambiti", "_sedi", "_pyramid", "_equipe"}


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


def leave_legacy_multipage_mode(rerun: bool = True) -> bool:
    """Hand a deep link on the first request after start-up to the router in app.py.

    Streamlit treats a `pages/` folder beside the main script as a legacy
    multipage app until `st.navigation` has run once in the process; the very
    first request, if it is a deep link (/poverta?anno=2025), would run the
    page file without app.py (no router, no shared frame). We switch that mode
    off and rerun: the same URL then goes through `st.navigation`. app.py itself
    passes `rerun=False` (it is the router). Returns True when the mode was on.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if rerun:
            st.rerun()
        return True
    return False


def current_access() -> Access:
    """The access of this session; anything else (login, no role, no account yet) is shown and the run stops.

    Every page goes through this (via `frame` or `require`), not only app.py: a page opened
    by URL never runs for a session that may not see it.
    """
    # A page file run without the router (legacy mode, see above): run the router now, in this
    # same run (it resolves the same URL and runs this page again, through the guard), then stop.
    # Not st.rerun(): a rerun drops the click that started the run (a login, a logout), and
    # AppTest starts every run in legacy mode.
    if leave_legacy_multipage_mode(rerun=False):
        from ui import router

        router.run()
        st.stop()
    _, con = connection()
    result = auth.current_access(auth.is_demo_warehouse(con))
    if not isinstance(result, Access):
        auth.gate_screen(result)
        st.stop()
    # Drawn by the page, not by the router before `st.navigation`: a widget's id includes the
    # script hash it is drawn under, which is the page's in every kind of run.
    with shared_widgets():
        auth.sidebar_identity(result, ambito_comuni().get(result.comune) if result.comune else None)
    return result


@contextmanager
def shared_widgets() -> Iterator[None]:
    """Draw widgets as the router's, not the page's: the same widget (and its URL parameter) on every page.

    Streamlit keys a widget by the script it is drawn under and, on a page change, drops URL
    parameters bound to another page's widgets; the shared filters belong to every page.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        yield


def require(*roles: str, page: str = "") -> Access:
    """The guard at the top of a restricted page: other roles get a refusal (logged) and the run stops."""
    access = current_access()
    if roles and access.ruolo not in roles:
        allowed = ", ".join(ROLES[r] for r in roles)
        message = f"La pagina {page} è riservata a: {allowed}. Il ruolo {access.ruolo_label} non vi ha accesso."
        st.title("Pagina riservata")
        st.error(message, icon=":material/block:")
        auth.refuse(access, page, message)
        st.stop()
    return access


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
                "Vista", list(access.audiences), format_func=AUDIENCES.get, key="vista", bind="query-params",
                help="Pubblica (Assemblea dei Sindaci, Regione): segreto statistico applicato, i conteggi sotto "
                "soglia sono indicati con n.p. Ufficio di Piano: dati completi, caricamenti e obiettivi.",
            )  # fmt: skip
    else:
        audience = access.audiences[0]
    if audience not in access.audiences:  # never: the radio offers only the allowed views
        audience = "pubblico"
    table = indicator_table(version, audience, path)
    if not access.sees_comuni:
        table = table.filter(pl.col("livello").is_in(list(access.levels)))
    years = sorted(table["anno"].unique().to_list(), reverse=True) or [date.today().year]
    subs = terr.select("sub_ambito", "nome_sub_ambito").unique().sort("sub_ambito")
    sub_names = dict(zip(subs["sub_ambito"], subs["nome_sub_ambito"]))
    with st.sidebar, shared_widgets():
        year = st.selectbox(
            "Anno", years, index=_default_year_index(table, years), key="anno", bind="query-params",
            format_func=_year_label(table),
        )  # fmt: skip
        sub = st.selectbox(
            "Sub-ambito", [None, *sub_names], key="sub_ambito", bind="query-params",
            format_func=lambda s: "Tutto l'ambito" if s is None else f"{s} · {sub_names[s]}",
        )  # fmt: skip
        comune = None
        if access.sees_comuni:
            comuni = terr if sub is None else terr.filter(pl.col("sub_ambito") == sub)
            names = dict(zip(comuni["comune"], comuni["nome"]))
            options = [None, *sorted(names, key=names.get)]
            own = access.comune if access.comune in options else None
            comune = st.selectbox(
                "Comune", options, index=options.index(own), key="comune", bind="query-params",
                format_func=lambda c: "Tutti i comuni" if c is None else names.get(c, c),
            )  # fmt: skip
    return Frame(con, version, audience, int(year), sub, comune, table, terr, access)


def _default_year_index(table: pl.DataFrame, years: list[int]) -> int:
    """The last complete year: a partial year's counts are not comparable with targets yet."""
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list())
    complete = [i for i, y in enumerate(years) if y not in partial]
    return complete[0] if complete else 0


def _year_label(table: pl.DataFrame):
    partial = set(table.filter(pl.col("parziale"))["anno"].unique().to_list()) if "parziale" in table.columns else set()
    return lambda y: f"{y} (da inizio anno)" if y in partial else str(y)


def access_notices(access: Access | None, con: duckdb.DuckDBPyConnection) -> None:
    """Open demo access, demo data: on every page, whatever it shows."""
    if access is not None and access.fonte == "demo":
        st.error(
            "**Accesso dimostrativo aperto**: nessun account è configurato, quindi chiunque raggiunga questo "
            "indirizzo vede tutto, come l'Ufficio di Piano. Vale solo per il database dimostrativo: per i dati reali "
            "creare gli account (`python -m etl users add NOME --role ufficio_di_piano`).",
            icon=":material/lock_open:",
        )
    if etl_queries.is_demo(con):
        st.warning(
            "**Dati dimostrativi**: persone e interventi sono sintetici, generati per mostrare il funzionamento. "
            "Non descrivono persone reali.",
            icon=":material/science:",
        )


def banners(f: Frame) -> None:
    """Open demo access, demo data, provisional sub-ambiti, data freshness, audience."""
    access_notices(f.access, f.con)
    if profiles.is_provisional(f.con):
        st.info(
            "La composizione dei sub-ambiti è **provvisoria** (raggruppamento geografico) finché l'Ufficio di Piano "
            "non carica la tabella ufficiale.",
            icon=":material/map:",
        )
    last = profiles.data_date(f.con)
    who = ""
    if f.access is not None and f.access.fonte != "demo":
        who = f" · Accesso: {f.access.ruolo_label}"
        if f.own_comune:
            who += f" di {f.name_of(f.own_comune)}"
    st.caption(
        f"Dati aggiornati al {fmt.day(last)} · Vista: {AUDIENCES[f.audience]}{who}"
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


_published: dict[int, tuple[dict, str]] = {}
_published_lock = threading.Lock()
PUBLISHED_URL = "app/static/geo/"  # relative to the page: works under any server.baseUrlPath


def published_geojson(geo: dict) -> str:
    """URL of a GeoJSON the browser fetches once (`maps.choropleth(publish=...)`), written to
    settings.STATIC_DIR/geo/ under its content hash; the same object is serialised only once."""
    with _published_lock:
        hit = _published.get(id(geo))
        if hit and hit[0] is geo:
            return hit[1]
        text = json.dumps(geo, separators=(",", ":"))
        name = hashlib.sha256(text.encode()).hexdigest()[:24] + ".json"
        path = settings.STATIC_DIR / "geo" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        if len(_published) > 64:
            _published.clear()
        _published[id(geo)] = (geo, PUBLISHED_URL + name)
        return PUBLISHED_URL + name


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


# --- audit and downloads ----------------------------------------------------------------


def audit_action(who: Frame | Access | None, azione: str, oggetto: str | None, esito: str = "ok",
                 dettaglio: str | None = None) -> None:  # fmt: skip
    """Write one audit entry for the session's user (through etl: pages never write the warehouse)."""
    from etl import audit

    access = who.access if isinstance(who, Frame) else who
    audit.record(azione, access.utente if access else None, access.ruolo if access else None, oggetto, esito,
                 dettaglio, db=db_path())  # fmt: skip


def download_button(who: Frame | Access, label: str, data, file_name: str, mime: str, what: str, **kwargs) -> None:
    """`st.download_button` that logs the download (who, which file, what it held) in the audit."""

    def logged() -> None:
        audit_action(who, "esportazione", file_name, "ok", what)

    st.download_button(label, data, file_name=file_name, mime=mime, on_click=logged, **kwargs)


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
            with col:
                download_button(
                    f, label, maker(fmt), reports.default_filename(fmt, territorio, f.year), reports.MIME_TYPES[fmt],
                    what=f"report {fmt} {territorio} {f.year}", key=f"report_{fmt}",
                )  # fmt: skip
