"""The report's images: what each figure shows (a spec), drawn once, cached, shared by PDF and PPTX.

A figure's cache key is a hash of everything it draws (the values, «n.p.» flags, targets,
projection, focus territory, geometry and the drawing's style version): the same warehouse
version gives the same keys, so the PPTX made after the PDF (or another user's report of the
same territory) reuses every image, and a new load changes exactly the images whose numbers
changed. The cache lives in the process (the Streamlit server shares it across sessions),
bounded in bytes; nothing is written to disk but the report itself.

    images = report_images(ctx)          # {"map_<id>": png bytes, "trend_<id>": png bytes}
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import polars as pl

from core import settings
from indicators import definitions, fmt, maps, palette, views
from indicators.reports import drawing
from indicators.reports.common import ReportContext

STYLE_VERSION = "2"  # change when drawing.py changes what a figure looks like
CACHE_MAX_BYTES = 96 * 1024**2  # about 15 reports of 58 figures


class ImageCache:
    """A thread-safe LRU of PNG bytes by key, bounded in bytes; counts draws and hits (for tests)."""

    def __init__(self, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.draws = 0

    def get_or_draw(self, key: str, draw: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        png = draw()  # outside the lock: two reports draw in parallel
        with self._lock:
            self.draws += 1
            if key not in self._items:
                self._items[key] = png
                self._bytes += len(png)
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)
        return png

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.draws = 0

    def __len__(self) -> int:
        return len(self._items)


CACHE = ImageCache()


# --- specs: what each figure shows -------------------------------------------------------------


def _geometry_key(ctx: ReportContext) -> str:
    """Register the ambito's boundaries with the drawing module; the key names the composition."""
    comuni_geo, sub_geo, _ = maps.geojson(ctx.sub_table)
    pairs = sorted(zip(ctx.sub_table["comune"].to_list(), ctx.sub_table["sub_ambito"].to_list(), strict=True))
    digest = hashlib.sha256(repr((pairs, settings.geopop_year(), maps.SIMPLIFY_M)).encode()).hexdigest()[:16]
    return drawing.register_geometry(f"geo-{digest}", comuni_geo, sub_geo)


def _highlight(ctx: ReportContext, level: str) -> str | None:
    if ctx.territory_level == "ambito":
        return None
    if level == "sub_ambito" and ctx.territory_level == "comune":
        return ctx.parent_sub_ambito
    return ctx.territory


def map_spec(ctx: ReportContext, entry: definitions.Indicator, geometry: str) -> drawing.MapSpec:
    """The map of one indicator for the report year, classified as on the dashboard (`maps.map_classes`:
    the one colour rule of `palette.py`), with the focus territory outlined and the same names."""
    level = ctx.map_level(entry)
    values = views.level_values(ctx.table, ctx.territories, entry.id, ctx.year, level)
    classified, classes = maps.map_classes(values, entry.direzione, entry.unita, entry.soglie)
    highlight = _highlight(ctx, level)
    names = dict(zip(classified["territorio"], classified["nome"], strict=True))
    named = maps.label_ids(classified, level, highlight)
    areas = tuple(
        drawing.Area(code, colour, key == palette.KEY_NO_DATA)
        for code, colour, key in sorted(zip(classified["territorio"], classified["colore"], classified["classe"]))
    )
    sedi: tuple = ()
    if entry.area == "organizzazione" and ctx.sedi.height:
        sedi = tuple(
            (r["tipo"], r["nome"], float(r["lat"]), float(r["lon"]))
            for r in ctx.sedi.sort("tipo", "nome").iter_rows(named=True)
        )
    return drawing.MapSpec(
        level=level,
        areas=areas,
        legend_title=maps._legend_title(classes, entry.direzione, entry.unita, fmt.decimals_for(entry.unita)),
        legend=tuple(drawing.LegendItem(f"{e.label} ({e.count})", e.colour, e.outline) for e in classes.legend),
        geometry=geometry,
        names=tuple((t, names.get(t) or t, t == highlight) for t in named),
        highlight=highlight,
        sedi=sedi,
    )


def trend_spec(ctx: ReportContext, entry: definitions.Indicator) -> drawing.TrendSpec:
    """Values over the years for the focus territory, with baseline, targets and projection."""
    rows = views.series(ctx.table, entry.id, ctx.value_territory(entry))
    # plan and projection as of the report year: a suppressed partial year after it would hide the projection
    baseline, targets, projection = views.plan_targets(rows.filter(pl.col("anno") <= ctx.year))
    points = tuple(
        drawing.TrendPoint(int(r["anno"]), r["valore"], bool(r["soppresso"]), bool(r["parziale"]))
        for r in rows.iter_rows(named=True)
    )
    return drawing.TrendSpec(
        unita=entry.unita,
        points=points,
        baseline=baseline,
        targets=tuple(sorted(targets.items())),
        projection=tuple(projection) if projection else None,
        x_range=(min(ctx.years) - 0.3, 2027.3),
    )


def spec_key(spec) -> str:
    return hashlib.sha256(f"{STYLE_VERSION}|{spec!r}".encode()).hexdigest()


def specs(ctx: ReportContext) -> dict[str, drawing.MapSpec | drawing.TrendSpec]:
    """Every figure of a report: map_<id> and trend_<id> for each indicator, in catalog order."""
    geometry = _geometry_key(ctx)
    out: dict = {}
    for e in ctx.entries:
        out[f"map_{e.id}"] = map_spec(ctx, e, geometry)
        out[f"trend_{e.id}"] = trend_spec(ctx, e)
    return out


def draw(spec) -> bytes:
    return drawing.map_png(spec) if spec.kind == "map" else drawing.trend_png(spec)


def report_images(
    ctx: ReportContext, progress: Callable[[int, int], None] | None = None, cache: ImageCache | None = None
) -> dict[str, bytes]:
    """Every figure of the report as PNG bytes, from the cache or drawn now.

    `progress(done, total)` is called after each figure (the dashboard shows it).
    """
    cache = cache or CACHE
    todo = specs(ctx)
    out: dict[str, bytes] = {}
    for i, (name, spec) in enumerate(todo.items(), start=1):
        out[name] = cache.get_or_draw(spec_key(spec), functools.partial(draw, spec))
        if progress:
            progress(i, len(todo))  # from the calling thread: Streamlit updates the bar
    return out
