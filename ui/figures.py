"""The pages' figures, built once per data version and audience and shared by every session.

Building a Plotly figure validates every property (20–60 ms a figure; an area page draws ten, on
every run of every session). Each function below builds its figure once per data version, audience,
territorial levels and choice, and keeps it as a plain dict (cheap to copy out of the cache);
`as_figure` wraps the dict again without a second validation. Every function whose figure holds an
indicator value has `audience` in its key (tests/test_auth.py).
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from indicators import api, charts, maps, views
from indicators.definitions import Indicator
from ui import session
from ui.filters import Frame
from ui.geo import published_geojson


def as_figure(spec: dict) -> go.Figure:
    """A figure from a dict made by `Figure.to_dict()` here: validated when it was built, not again
    (`_validate=False` is how plotly.io itself rebuilds its templates)."""
    return go.Figure(spec, _validate=False)


def _table(version: tuple, audience: str, levels: tuple[str, ...], path: str) -> pl.DataFrame:
    return api.for_levels(session.indicator_table(version, audience, path), levels)


@st.cache_data(max_entries=256, show_spinner=False)
def _indicator_map(
    version: tuple, audience: str, levels: tuple[str, ...], path: str, indicator: str, unita: str, direzione: str,
    year: int, level: str, highlight: str | None, with_sedi: bool,
) -> dict:  # fmt: skip
    values = views.level_values(_table(version, audience, levels, path), session.territories(version, path),
                                indicator, year, level)  # fmt: skip
    sedi = session._sedi(version, path) if with_sedi else None
    fig = maps.choropleth(
        values, session._sub_ambiti(version, path), level, unita, direzione, highlight=highlight, sedi=sedi,
        height=460, publish=published_geojson,
    )  # fmt: skip
    return fig.to_dict()


def indicator_map(
    f: Frame, entry: Indicator, level: str, highlight: str | None, with_sedi: bool = False
) -> go.Figure:
    """The map of one indicator in the frame's year, by comune or sub-ambito (area pages)."""
    return as_figure(
        _indicator_map(f.version, f.audience, tuple(f.access.levels), str(session.db_path()), entry.id, entry.unita,
                       entry.direzione, f.year, level, highlight, with_sedi)  # fmt: skip
    )


@st.cache_data(max_entries=512, show_spinner=False)
def _trend(
    version: tuple, audience: str, levels: tuple[str, ...], path: str, indicator: str, unita: str, territorio: str,
    title: str,
) -> dict:  # fmt: skip
    rows = views.series(_table(version, audience, levels, path), indicator, territorio)
    baseline, targets, projection = views.plan_targets(rows)
    return charts.trend(rows, unita, baseline, targets, projection, title=title, height=420).to_dict()


def trend(f: Frame, entry: Indicator, territorio: str, title: str) -> go.Figure:
    """Observed values, baseline, targets and projection of one indicator for one territory."""
    return as_figure(
        _trend(f.version, f.audience, tuple(f.access.levels), str(session.db_path()), entry.id, entry.unita,
               territorio, title)  # fmt: skip
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _residents_map(version: tuple, audience: str, levels: tuple[str, ...], path: str, sub_ambito: str) -> dict:
    """Residents by comune of one sub-ambito (with its sites), or by sub-ambito with this one outlined
    when the levels leave the comuni out (the Regione)."""
    terr = session.territories(version, path)
    sub_table = session._sub_ambiti(version, path)
    sedi = session._sedi(version, path).filter(pl.col("sub_ambito") == sub_ambito)
    if "comune" in levels:
        values = terr.filter(pl.col("sub_ambito") == sub_ambito).select(
            pl.col("comune").alias("territorio"), "nome", pl.col("residenti").cast(pl.Float64).alias("valore"),
            pl.lit(False).alias("soppresso"),
        )  # fmt: skip
        fig = maps.choropleth(values, sub_table.filter(pl.col("sub_ambito") == sub_ambito), "comune", "residenti",
                              sedi=sedi, publish=published_geojson)  # fmt: skip
    else:
        values = (
            terr.group_by("sub_ambito")
            .agg(
                pl.col("nome_sub_ambito").first().alias("nome"),
                pl.col("residenti").sum().cast(pl.Float64).alias("valore"),
            )
            .select(pl.col("sub_ambito").alias("territorio"), "nome", "valore", pl.lit(False).alias("soppresso"))
        )
        fig = maps.choropleth(values, sub_table, "sub_ambito", "residenti", highlight=sub_ambito, sedi=sedi,
                              publish=published_geojson)  # fmt: skip
    return fig.to_dict()


def residents_map(f: Frame, sub_ambito: str) -> go.Figure:
    """The sub-ambito page's map of residents."""
    return as_figure(_residents_map(f.version, f.audience, tuple(f.access.levels), str(session.db_path()), sub_ambito))


@st.cache_data(max_entries=64, show_spinner=False)
def _pyramid_figure(version: tuple, path: str, comuni: tuple[str, ...], title: str) -> dict:
    return charts.population_pyramid(session._pyramid(version, path, comuni), title=title).to_dict()


def population_pyramid(f: Frame, comuni: list[str], title: str) -> go.Figure:
    """ISTAT residents by age band and sex (public reference data: no audience in the key)."""
    return as_figure(_pyramid_figure(f.version, str(session.db_path()), tuple(sorted(comuni)), title))


@st.cache_data(max_entries=16, show_spinner=False)
def _equipe_figure(version: tuple, path: str, on: date, title: str) -> dict:
    return charts.equipe(session._equipe(version, path, on), title=title).to_dict()


def equipe(f: Frame, title: str) -> go.Figure:
    """FTE by profile and sub-ambito on 31 Dec of the year, or today (staff, public: no audience in the key)."""
    return as_figure(_equipe_figure(f.version, str(session.db_path()), session.equipe_date(f.year), title))


@st.cache_data(max_entries=32, show_spinner=False)
def _residents_per_worker(version: tuple, audience: str, levels: tuple[str, ...], path: str, year: int,
                          title: str) -> dict:  # fmt: skip
    values = views.level_values(_table(version, audience, levels, path), session.territories(version, path),
                                "org_residenti_per_as", year, "sub_ambito")  # fmt: skip
    return charts.residents_per_worker(values, title=title).to_dict()


def residents_per_worker(f: Frame, title: str) -> go.Figure:
    """Residents per social worker by sub-ambito against the LEPS line."""
    return as_figure(
        _residents_per_worker(f.version, f.audience, tuple(f.access.levels), str(session.db_path()), f.year, title)
    )
