"""The «Riorganizzazione» page's data, cached per warehouse version and audience (`indicators.reorganisation`).

Every cached function takes the audience (tests/test_auth.py checks it): the pilot's estimate and the
équipe load hold indicator values; proximity holds public figures only, but is keyed the same way so
no cache of this module can ever serve one audience's numbers to another.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import api, equity, evaluation, proximity, reorganisation, workload
from ui.session import db_path, indicator_table, snapshot_cursor


@st.cache_data(max_entries=8, show_spinner="Confronto tra sub-ambiti pilota e altri…")
def _pilot(version: tuple, audience: str, path: str) -> tuple[list[dict], pl.DataFrame]:
    # the audience's whole table, comune rows included (for the Regione too: the estimate and the group
    # means are sums over many comuni, never a comune's value)
    table = indicator_table(version, audience, path)
    sub = evaluation.sub_ambiti_frame(snapshot_cursor(path))
    return reorganisation.pilot_results(table, sub), sub


def pilot(f) -> tuple[list[dict], pl.DataFrame]:
    """(`evaluation.evaluate` for every indicator by comune, the sub_ambiti table) for the frame's audience."""
    return _pilot(f.version, f.audience, str(db_path()))


def full_table(f) -> pl.DataFrame:
    """The audience's table with its comune rows (the pilot's trends are computed from them)."""
    return indicator_table(f.version, f.audience, str(db_path()))


@st.cache_data(max_entries=16, show_spinner=False)
def _nearest(version: tuple, audience: str, path: str, soglia: float) -> pl.DataFrame:
    return proximity.nearest_access(snapshot_cursor(path), soglia)


def nearest(f, soglia: float) -> pl.DataFrame:
    return _nearest(f.version, f.audience, str(db_path()), float(soglia))


@st.cache_data(max_entries=16, show_spinner="Calcolo dell'ipotesi…")
def _what_if(version: tuple, audience: str, path: str, comune: str, soglia: float) -> proximity.WhatIf:
    return proximity.what_if(snapshot_cursor(path), [comune], soglia)


def what_if(f, comune: str, soglia: float) -> proximity.WhatIf:
    """A hypothetical spoke in `comune` (nothing is saved)."""
    return _what_if(f.version, f.audience, str(db_path()), comune, float(soglia))


@st.cache_data(max_entries=4, show_spinner=False)
def _hosting(version: tuple, audience: str, path: str) -> set[str]:
    return proximity.comuni_with_sede(snapshot_cursor(path))


def comuni_with_sede(f) -> set[str]:
    return _hosting(f.version, f.audience, str(db_path()))


@st.cache_data(max_entries=8, show_spinner=False)
def _caseload(version: tuple, audience: str, path: str, levels: tuple[str, ...]) -> pl.DataFrame:
    table = api.for_levels(indicator_table(version, audience, path), levels)
    return workload.caseload(snapshot_cursor(path), table=table)


def caseload(f) -> pl.DataFrame:
    """`workload.caseload` from the frame's table (suppressed where the public table is)."""
    return _caseload(f.version, f.audience, str(db_path()), tuple(f.access.levels))


@st.cache_data(max_entries=8, show_spinner=False)
def _equity(version: tuple, audience: str, path: str, levels: tuple[str, ...]) -> pl.DataFrame:
    con = snapshot_cursor(path)
    table = api.for_levels(indicator_table(version, audience, path), levels)
    return equity.equity_table(table, equity.sub_ambito_residents(con))


def equity_table(f) -> pl.DataFrame:
    return _equity(f.version, f.audience, str(db_path()), tuple(f.access.levels))
