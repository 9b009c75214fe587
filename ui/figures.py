"""The pages' figures, built once per data version and audience and shared by every session.

Building a Plotly figure validates every property (tens of milliseconds a figure; an area page draws
a dozen, on every run of every session). `cached` keeps each figure as a plain dict under a key made
of the frame's data version, audience and territorial levels (always: no figure built for one
audience is ever handed to another) and what the page says identifies the figure; `build` runs only
when the key is new. The dict is wrapped again without a second validation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from indicators import charts, views
from ui.filters import Frame

MAX_FIGURES = 512  # about 40 kB each (boundaries are served as files, not embedded): ~20 MB at most


class _Store:
    """A bounded, least-recently-used store of figure dicts (one per process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()  # held for a lookup or an insert, never while a figure is built
        self.specs: OrderedDict[tuple, dict] = OrderedDict()

    def get(self, key: tuple) -> dict | None:
        with self.lock:
            spec = self.specs.get(key)
            if spec is not None:
                self.specs.move_to_end(key)
            return spec

    def put(self, key: tuple, spec: dict) -> None:
        with self.lock:
            self.specs[key] = spec
            self.specs.move_to_end(key)
            while len(self.specs) > self.size:
                self.specs.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store(MAX_FIGURES)


def as_figure(spec: dict) -> go.Figure:
    """A figure from a dict made by `Figure.to_dict()`: validated when it was built, not again
    (`_validate=False` is how plotly.io itself rebuilds its templates)."""
    return go.Figure(spec, _validate=False)


def figure_key(f: Frame, what: tuple[Hashable, ...]) -> tuple:
    """The cache key of one figure: data version, audience, levels, then the page's own identifiers."""
    return (f.version, f.audience, tuple(f.access.levels), *what)


def cached(f: Frame, what: tuple[Hashable, ...], build: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """`build(*args, **kwargs)` for this frame's data and audience, made the first time `what` is asked.

    `what` names the figure and everything its arguments depend on besides the frame's version,
    audience and levels (year, indicator, territory, highlight...): equal keys share one figure.
    """
    key = figure_key(f, what)
    store = _store()
    spec = store.get(key)
    if spec is None:  # two sessions may build the same figure at once: both equal, one kept
        spec = build(*args, **kwargs).to_dict()
        store.put(key, spec)
    return as_figure(spec)


def trend(f: Frame, entry, territory: str, rows: pl.DataFrame, plan: tuple, *, title: str, height: int) -> go.Figure:
    """The trend of an indicator in a territory with its plan (`views.plan_targets(rows)`: baseline, targets,
    projection), as the area and comune pages draw it."""
    baseline, targets, projection = plan
    return cached(
        f,
        ("trend", entry.id, territory, title, height),
        charts.trend,
        rows,
        entry.unita,
        baseline,
        targets,
        projection,
        title=title,
        height=height,
        owner=views.plan_owner(rows),
    )
