"""The report's maps and trend charts drawn in Python (matplotlib's Agg, numpy, Pillow): no browser.

One drawing per figure, the same PNG in the PDF and in the PPTX (`images.py` caches them).

Maps paint what the dashboard's maps show, by the one colour rule of `indicators/palette.py`
(`maps.map_classes`: classes by thresholds, status or quartiles, «meglio» blue and «peggio» orange,
«n.p.» grey, «nessun dato» white with a grey outline, every class in the legend with its count),
and name the same territories (`maps.label_ids`). `images.py` classifies; this module only paints.
A report draws 29 maps of the same territory, so what does not change between them is drawn once
by matplotlib (a `_MapTemplate`: which area each pixel belongs to, and the lines and names above
the colours) and each map is then painted with numpy (the colours of the areas) and Pillow (its
legend). Every border is an antialiased line of the template, so the painted areas look exactly
as if matplotlib had filled them.

Trend charts show what `indicators.charts.trend` shows on the dashboard: observed values (a
suppressed year is an «n.p.» cross, never a zero), the year to date as an open circle, baseline,
targets, projection with its 80% interval. The chart draws no axis machinery (its ticks and
grid are a few lines and texts) and pastes a legend drawn once per set of entries.

Only matplotlib's object API is used (no pyplot, no global rc): every call builds its own Figure,
so reports drawn at once by two Streamlit sessions share only read-only templates.
"""

from __future__ import annotations

import math
import struct
import textwrap
import threading
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from indicators import fmt, maps, palette

# Sizes in inches at the size the PDF prints them (map 88 mm wide, trend 180 mm); the PPTX shows
# the same PNG a little larger. Font sizes in points at that size.
MAP_INCHES = (3.46, 3.6)  # 88 × 91 mm: the map, then its legend in a band of its own
MAP_DPI = 250
TREND_INCHES = (7.1, 3.25)
TREND_DPI = 190
FONT = "DejaVu Sans"  # matplotlib's default, shipped with it: the same glyphs on every machine
PNG_LEVEL = 1  # zlib level: flat colours compress well at any level, level 1 is the fastest

# map layout, in figure fractions (left, bottom, width, height): the legend band is below
MAP_AXES = (0.0, 0.30, 1.0, 0.70)
LEGEND_FONT_PT = 6.8
NAME_FONT_PT = (6.5, 7.5)  # territory names; the report's territory (bold)
BORDER_PT = 0.4  # between comuni (white), or grey around an area with no data
OUTLINE_PT = 0.9  # sub-ambiti
HIGHLIGHT_PT = 1.6  # the report's territory: black on a white halo, as on the dashboard

COLOR_VALUE = "#1f4e79"
COLOR_TARGET = "#2e7d32"
COLOR_BASELINE = "#6d6d6d"
COLOR_PROJECTION = "#ef6c00"
COLOR_SUPPRESSED = "#757575"
COLOR_GRID = "#e6e6e6"
COLOR_AXIS = "#bdbdbd"
COLOR_TEXT = "#2a3f5f"
SEDI = (("HUB", "Hub", "*", 8.5), ("SPOKE", "Spoke (punto di accesso)", "o", 4.6))  # black, white edge


# --- what a figure shows (plain frozen data: its repr is the cache key) -----------------------------


@dataclass(frozen=True)
class Area:
    """One territory of a map: its code, the colour of its class, and whether it has no data."""

    code: str
    colour: str
    no_data: bool = False


@dataclass(frozen=True)
class LegendItem:
    label: str  # with the count, as on the dashboard: «in linea con il percorso (12)»
    colour: str
    outline: str | None = None


@dataclass(frozen=True)
class MapSpec:
    level: str  # comune | sub_ambito
    areas: tuple[Area, ...]
    legend_title: str
    legend: tuple[LegendItem, ...]
    geometry: str  # key given by `register_geometry`
    names: tuple[tuple[str, str, bool], ...] = ()  # (code, name, bold): the territories named on the map
    highlight: str | None = None  # the report's territory, outlined in black
    sedi: tuple[tuple[str, str, float, float], ...] = ()  # (tipo, nome, lat, lon)
    kind: str = field(default="map", init=False)


@dataclass(frozen=True)
class TrendPoint:
    anno: int
    value: float | None
    suppressed: bool
    partial: bool


@dataclass(frozen=True)
class TrendSpec:
    unita: str
    points: tuple[TrendPoint, ...]
    baseline: float | None
    targets: tuple[tuple[int, float], ...]
    projection: tuple[float, float | None, float | None] | None  # (central, low, high)
    x_range: tuple[float, float]
    projection_year: int = 2027
    kind: str = field(default="trend", init=False)


# --- shared helpers -------------------------------------------------------------------------------


def _figure(inches: tuple[float, float], dpi: int, transparent: bool = False):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=inches, dpi=dpi, facecolor="none" if transparent else "white")
    FigureCanvasAgg(fig)
    return fig


def _rgba(fig) -> np.ndarray:
    """The figure drawn by Agg, as an H×W×4 uint8 array (top row first)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def encode_png(rgb: np.ndarray) -> bytes:
    """An H×W×3 uint8 image as an 8-bit RGB PNG: filter «none» on every row, zlib level 1.

    Pillow tries the five PNG filters on every row (4× slower here); on flat colours «none» is as
    small. The zlib stream is what the PDF embeds unchanged (`pdf.PNGImage`).
    """
    h, w, _ = rgb.shape
    raw = np.empty((h, w * 3 + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type «none»
    raw[:, 1:] = rgb.reshape(h, w * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no filter method, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, PNG_LEVEL))
        + chunk(b"IEND", b"")
    )


def _halo(width: float):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _hex(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@lru_cache(maxsize=16)
def _font(size_pt: float, dpi: int, bold: bool = False):
    """Pillow's FreeType font for matplotlib's DejaVu Sans at `size_pt` points on a `dpi` image."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    return ImageFont.truetype(str(path), size=max(1, round(size_pt * dpi / 72)))


def _px(points: float, dpi: int) -> int:
    return round(points * dpi / 72)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def nice_ticks(lo: float, hi: float, n: int = 5, decimals: int = 1) -> list[float]:
    """Round tick values inside [lo, hi] (at least the two ends when nothing round falls inside).

    Steps of 1, 2 or 5 × 10ⁿ (with one decimal shown, a step of 0,25 would print as 0,2 and 0,8), and
    whole numbers when the unit shows no decimals.
    """
    from matplotlib.ticker import MaxNLocator

    if hi <= lo:
        return [lo]
    ticks = [float(t) for t in MaxNLocator(n, steps=[1, 2, 5, 10], integer=decimals == 0).tick_values(lo, hi)]
    inside = [t for t in ticks if lo - 1e-9 * (abs(lo) + 1) <= t <= hi + 1e-9 * (abs(hi) + 1)]
    out, seen = [], set()
    for t in inside if len(inside) >= 2 else [lo, hi]:
        if (label := fmt.number(t, decimals)) not in seen:  # never the same number written twice
            seen.add(label)
            out.append(t)
    return out


# --- geometry --------------------------------------------------------------------------------------

_GEOMETRY: dict[str, tuple[dict, dict]] = {}


def register_geometry(key: str, comuni_geo: dict, sub_geo: dict) -> str:
    """Make the GeoJSON of the comuni and of the sub-ambiti available to `map_png` under `key`.

    `key` must change when the boundaries or the composition change (images.py hashes both).
    """
    _GEOMETRY.setdefault(key, (comuni_geo, sub_geo))
    return key


def _rings(geom: dict) -> list[list]:
    return geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]


@dataclass(frozen=True)
class _Shapes:
    k: float  # cos(latitude): longitude → x of the local equirectangular projection
    comuni: dict  # code -> (Path, label point, exterior rings)
    subs: dict
    bounds: tuple[float, float, float, float]


@lru_cache(maxsize=8)
def _shapes(key: str) -> _Shapes:
    """Paths in a local equirectangular projection (what a web map shows at this scale)."""
    from matplotlib.path import Path as MplPath
    from shapely.geometry import shape

    comuni_geo, sub_geo = _GEOMETRY[key]
    lats = [lat for f in comuni_geo["features"] for poly in _rings(f["geometry"]) for _, lat in poly[0]]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))

    def paths(geo: dict) -> dict:
        out = {}
        for f in geo["features"]:
            polys = _rings(f["geometry"])
            verts: list = []
            codes: list = []
            for poly in polys:
                for ring in poly:
                    verts += [(lon * k, lat) for lon, lat in ring]
                    codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 2) + [MplPath.CLOSEPOLY]
            point = shape(f["geometry"]).representative_point()
            exteriors = [[(lon * k, lat) for lon, lat in poly[0]] for poly in polys]
            out[str(f["id"])] = (MplPath(verts, codes), (point.x * k, point.y), exteriors)
        return out

    comuni = paths(comuni_geo)
    xs = [x for _, _, ext in comuni.values() for ring in ext for x, _ in ring]
    ys = [y for _, _, ext in comuni.values() for ring in ext for _, y in ring]
    return _Shapes(k, comuni, paths(sub_geo), (min(xs), min(ys), max(xs), max(ys)))


# --- the map ---------------------------------------------------------------------------------------


@dataclass
class _MapTemplate:
    codes: list[str]  # area i is codes[i]; label 0 = outside every area
    labels: np.ndarray  # H×W uint16: 1 + index of the area under each pixel
    borders: tuple  # `_layer`: the white borders between areas
    grey: tuple  # `_layer`: the same borders in grey (around an area with no data)
    above: tuple  # `_layer`: sub-ambito outlines, the report's territory, names, sedi


def _map_axes(fig, shapes: _Shapes):
    ax = fig.add_axes(MAP_AXES)
    ax.set_axis_off()
    x0, y0, x1, y1 = shapes.bounds
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    return ax


@lru_cache(maxsize=16)
def _map_template(
    geometry: str, level: str, highlight: str | None, names: tuple[tuple[str, str, bool], ...], sedi: tuple
) -> _MapTemplate:
    """Everything of a map that does not depend on the values, drawn once by matplotlib."""
    from matplotlib.collections import LineCollection, PathCollection

    shapes = _shapes(geometry)
    areas = shapes.comuni if level == "comune" else shapes.subs
    codes = sorted(areas)
    paths = [areas[c][0] for c in codes]
    fig = _figure(MAP_INCHES, MAP_DPI, transparent=True)
    ax = _map_axes(fig, shapes)
    # 1. which area each pixel belongs to: each area filled with its number as colour, no antialiasing
    ids = PathCollection(
        paths,
        antialiaseds=False,
        linewidths=0,
        edgecolors="none",
        facecolors=[((i + 1) % 256 / 255, (i + 1) // 256 / 255, 0, 1) for i in range(len(codes))],
    )
    ax.add_collection(ids)
    px = _rgba(fig)
    labels = np.where(px[..., 3] == 255, px[..., 0].astype(np.uint16) + 256 * px[..., 1].astype(np.uint16), 0)
    ids.remove()
    # 2. the borders between areas, white and grey (grey where an area has no data)
    layers = []
    for colour in (maps.BORDER_COLOR, palette.NO_DATA_OUTLINE):
        edges = PathCollection(paths, facecolors="none", edgecolors=colour, linewidths=BORDER_PT)
        ax.add_collection(edges)
        layers.append(_layer(_rgba(fig)))
        edges.remove()
    # 3. what lies above: sub-ambito outlines, the report's territory, the sedi, the names
    outlines = [ring for _, _, ext in shapes.subs.values() for ring in ext]
    ax.add_collection(LineCollection(outlines, colors=maps.OUTLINE_COLOR, linewidths=OUTLINE_PT))
    if highlight:
        target = shapes.comuni if highlight in shapes.comuni else shapes.subs
        if highlight in target:
            ax.add_collection(
                LineCollection(
                    target[highlight][2], colors=maps.HIGHLIGHT_COLOR, linewidths=HIGHLIGHT_PT, path_effects=_halo(3.2)
                )
            )
    for tipo, _, marker, size in SEDI:
        pts = [(lon * shapes.k, lat) for t, _, lat, lon in sedi if t == tipo]
        if pts:
            ax.plot(
                [x for x, _ in pts],
                [y for _, y in pts],
                marker,
                ms=size,
                color="#000000",
                mec="white",
                mew=0.7,
                ls="",
                zorder=5,
            )
    for code, name, bold in names:
        if code in areas:
            ax.text(
                *areas[code][1],
                name,
                ha="center",
                va="center",
                color="#1a1a1a",
                zorder=6,
                fontsize=NAME_FONT_PT[bold],
                fontweight="bold" if bold else "normal",
                path_effects=_halo(2.4 if bold else 2.0),
            )
    above = _layer(_rgba(fig))
    return _MapTemplate(codes, labels.astype(np.uint16), layers[0], layers[1], above)


def _layer(rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A transparent layer as (flat indices it covers, 255 − alpha, colour × alpha), for `_blend`."""
    flat = rgba.reshape(-1, 4)
    at = np.flatnonzero(flat[:, 3])
    alpha = flat[at, 3:4].astype(np.uint32)
    return at, 255 - alpha, flat[at, :3].astype(np.uint32) * alpha


def _blend(rgb: np.ndarray, at: np.ndarray, keep: np.ndarray, add: np.ndarray) -> None:
    """Lay a `_layer` over an H×W×3 uint8 image, in place (Agg's RGBA is not premultiplied)."""
    flat = rgb.reshape(-1, 3)
    flat[at] = ((flat[at].astype(np.uint32) * keep + add + 127) // 255).astype(np.uint8)


def _subset(layer: tuple, keep: np.ndarray) -> tuple:
    at, k, a = layer
    return at[keep], k[keep], a[keep]


def _near(mask: np.ndarray, radius: int) -> np.ndarray:
    """`mask` grown by `radius` pixels (a border pixel of an area lies within a pixel or two of it)."""
    out = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy or dx:
                out[max(dy, 0) : mask.shape[0] + min(dy, 0), max(dx, 0) : mask.shape[1] + min(dx, 0)] |= mask[
                    max(-dy, 0) : mask.shape[0] + min(-dy, 0), max(-dx, 0) : mask.shape[1] + min(-dx, 0)
                ]
    return out


_TEMPLATES = threading.Lock()  # two sessions drawing at once must not build the same template twice


def map_png(spec: MapSpec) -> bytes:
    """The map of one indicator-year (areas in their class colours, legend under it) as PNG bytes."""
    from PIL import Image, ImageDraw

    with _TEMPLATES:
        tpl = _map_template(spec.geometry, spec.level, spec.highlight, spec.names, spec.sedi)
    by_code = {a.code: a for a in spec.areas}
    lut = np.full((len(tpl.codes) + 1, 3), 255, dtype=np.uint8)  # 0 (outside): white
    no_data = np.zeros(len(tpl.codes) + 1, dtype=bool)
    for i, code in enumerate(tpl.codes, start=1):
        a = by_code.get(code)
        lut[i] = _hex(a.colour if a else palette.NO_DATA)
        no_data[i] = a is None or a.no_data
    base = np.take(lut, tpl.labels, axis=0)
    if no_data[1:].any():  # grey borders around the areas with no data, white elsewhere
        grey = _near(np.take(no_data, tpl.labels), _px(BORDER_PT * 2, MAP_DPI)).ravel()
        _blend(base, *_subset(tpl.borders, ~grey[tpl.borders[0]]))
        _blend(base, *_subset(tpl.grey, grey[tpl.grey[0]]))
    else:
        _blend(base, *tpl.borders)
    _blend(base, *tpl.above)
    img = Image.fromarray(base, "RGB")
    _map_legend(ImageDraw.Draw(img), spec, img.width, img.height)
    return encode_png(np.asarray(img))


def _map_legend(draw, spec: MapSpec, width: int, height: int) -> None:
    """The legend in the band under the map: title, then every class (count included) and the sedi, in
    two columns when the labels fit, at the largest size (down to 5,5 pt) that fits the band."""
    items: list[tuple[str, str | None, str | None, str]] = [(i.label, i.colour, i.outline, "box") for i in spec.legend]
    for tipo, label, marker, _ in SEDI:
        if any(t == tipo for t, *_ in spec.sedi):
            items.append((label, "#000000", None, "star" if marker == "*" else "dot"))
    text = _hex(COLOR_TEXT)
    left = _px(2, MAP_DPI)
    band_top = round(height * (1 - MAP_AXES[1])) + _px(3, MAP_DPI)
    for size in (LEGEND_FONT_PT, 6.3, 5.9, 5.5):
        font, bold = _font(size, MAP_DPI), _font(size, MAP_DPI, bold=True)
        line, box, gap = _px(size * 1.45, MAP_DPI), _px(size, MAP_DPI), _px(3, MAP_DPI)
        col_w = (width - left) // 2
        widest = max((font.getlength(label) for label, *_ in items), default=0) + box + gap * 2
        cols = 2 if widest <= col_w and len(items) > 3 else 1
        rows = math.ceil(len(items) / cols)
        if band_top + line * (rows + 1.2) <= height or size == 5.5:
            break
    draw.text((left, band_top), spec.legend_title, font=bold, fill=text, anchor="la")
    for k, (label, colour, outline, kind) in enumerate(items):
        col, row = divmod(k, rows)
        x, y = left + col * col_w, band_top + line * (row + 1.15)
        if kind == "box":
            draw.rectangle(
                (x, y, x + box, y + box),
                fill=_hex(colour or "#ffffff"),
                outline=_hex(outline or colour or "#ffffff"),
                width=max(1, _px(0.5, MAP_DPI)),
            )
        elif kind == "dot":
            r = box * 0.35
            draw.ellipse((x + box / 2 - r, y + box / 2 - r, x + box / 2 + r, y + box / 2 + r), fill=(0, 0, 0))
        else:  # a five-pointed star, as the hub on the map
            cx, cy, r = x + box / 2, y + box / 2, box * 0.62
            pts = [
                (
                    cx + (r if k % 2 == 0 else r * 0.42) * math.sin(math.pi * k / 5),
                    cy - (r if k % 2 == 0 else r * 0.42) * math.cos(math.pi * k / 5),
                )
                for k in range(10)
            ]
            draw.polygon(pts, fill=(0, 0, 0))
        draw.text((x + box + gap, y + box / 2), label, font=font, fill=text, anchor="lm")


# --- the trend -------------------------------------------------------------------------------------

# plot area in figure fractions, and the legend strip under it
TREND_PLOT = (0.085, 0.30, 0.99, 0.955)  # left, bottom, right, top
TREND_FONT_PT = 10
LABEL_FONT_PT = 9.5
LEGEND_ENTRIES = (
    "Valore",
    "Anno in corso (parziale)",
    f"{fmt.SUPPRESSED} = non pubblicabile",
    "Baseline 2024",
    "Obiettivo",
    "Proiezione al 31/12/2027",
    "Intervallo della proiezione",
)


def _legend_handles(entries: tuple[str, ...]) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    known = {
        "Valore": Line2D([], [], lw=2.6, marker="o", ms=6, color=COLOR_VALUE),
        "Anno in corso (parziale)": Line2D([], [], ls="", marker="o", ms=8, mfc="white", mec=COLOR_VALUE, mew=1.8),
        f"{fmt.SUPPRESSED} = non pubblicabile": Line2D([], [], ls="", marker="x", ms=9, mew=1.6, color="#9e9e9e"),
        "Baseline 2024": Line2D([], [], ls="", marker="D", ms=7, color=COLOR_BASELINE),
        "Obiettivo": Line2D([], [], ls=(0, (5, 3)), lw=1.8, color=COLOR_TARGET, marker="*", ms=10),
        "Proiezione al 31/12/2027": Line2D([], [], ls=(0, (1.5, 1.5)), lw=2, color=COLOR_PROJECTION, marker="o", ms=4),
        "Intervallo della proiezione": Patch(facecolor=COLOR_PROJECTION, alpha=0.15),
    }
    return [known[e] for e in entries]


@lru_cache(maxsize=32)
def _trend_legend(entries: tuple[str, ...]) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The legend strip of a trend chart (its height in pixels, as a `_layer`), drawn once per set of entries."""
    height = TREND_INCHES[1] * (TREND_PLOT[1] - 0.09)
    fig = _figure((TREND_INCHES[0], height), TREND_DPI, transparent=True)
    fig.legend(
        _legend_handles(entries),
        list(entries),
        loc="center left",
        bbox_to_anchor=(TREND_PLOT[0] - 0.02, 0.5),
        ncols=3,
        frameon=False,
        fontsize=9,
        handlelength=2.2,
        columnspacing=1.4,
        labelcolor=COLOR_TEXT,
    )
    rgba = _rgba(fig)
    return rgba.shape[0], _layer(rgba)


def trend_png(spec: TrendSpec) -> bytes:
    """Values over the years with baseline, targets and projection, as PNG bytes.

    matplotlib draws the lines, markers and band straight on the figure (no axes: a fixed
    data → pixel transform); Pillow writes the numbers and labels; the legend is pasted.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon
    from matplotlib.transforms import Affine2D
    from PIL import Image, ImageDraw

    decimals = fmt.decimals_for(spec.unita)
    pts = sorted(spec.points, key=lambda p: p.anno)
    complete = [p for p in pts if not p.partial]
    partial = [p for p in pts if p.partial and not p.suppressed and p.value is not None]
    hidden = [p for p in pts if p.suppressed]
    ys = [p.value for p in pts if p.value is not None and not p.suppressed]
    ys += [v for _, v in spec.targets] + ([spec.baseline] if spec.baseline is not None else [])
    proj = spec.projection if spec.projection and spec.projection[0] is not None else None
    ys += [v for v in (proj or ()) if v is not None]
    top = max(ys or [1.0]) * 1.18 or 1.0
    ticks = nice_ticks(0.0, top, 6, decimals)
    w, h = round(TREND_INCHES[0] * TREND_DPI), round(TREND_INCHES[1] * TREND_DPI)
    font = _font(TREND_FONT_PT, TREND_DPI)
    unit_band = round(TREND_FONT_PT * 2.6 * TREND_DPI / 72)  # two lines of the rotated unit
    widest = max(font.getlength(fmt.number(t, decimals)) for t in ticks)
    left = max(TREND_PLOT[0] * w, 0.008 * w + unit_band + widest + 12)
    bottom, right, ttop = TREND_PLOT[1] * h, TREND_PLOT[2] * w, TREND_PLOT[3] * h
    x0, x1 = spec.x_range
    sx, sy = (right - left) / (x1 - x0), (ttop - bottom) / top
    data = Affine2D().translate(-x0, 0).scale(sx, sy).translate(left, bottom)  # data → display (origin bottom left)

    def px(x: float, y: float) -> tuple[float, float]:  # data → image pixel (origin top left)
        return left + (x - x0) * sx, h - (bottom + y * sy)

    fig = _figure(TREND_INCHES, TREND_DPI)
    artists: list = []

    def line(xs, ys_, zorder: float, **kw) -> None:
        artists.append(Line2D(xs, ys_, transform=data, zorder=zorder, **kw))

    for t in ticks[1:]:
        line([x0, x1], [t, t], 0, color=COLOR_GRID, lw=0.8)
    line([x0, x1], [0, 0], 0.5, color=COLOR_AXIS, lw=0.9)
    entries = {"Valore"}
    last = [p for p in complete if p.value is not None and not p.suppressed]
    texts: list[tuple[float, float, str, str, str]] = []  # (x, y, text, colour, anchor) of the value labels
    offset = top * 0.045
    if proj and last:
        xa, ya = last[-1].anno, last[-1].value
        central, low, high = proj
        line(
            [xa, spec.projection_year],
            [ya, central],
            2,
            ls=(0, (1.5, 1.5)),
            lw=2,
            color=COLOR_PROJECTION,
            marker="o",
            ms=4,
        )
        entries.add("Proiezione al 31/12/2027")
        if low is not None and high is not None:
            artists.append(
                Polygon(
                    [(xa, ya), (spec.projection_year, high), (spec.projection_year, low)],
                    transform=data,
                    facecolor=COLOR_PROJECTION,
                    alpha=0.15,
                    lw=0,
                    zorder=1,
                )
            )
            entries.add("Intervallo della proiezione")
    if spec.targets:
        line(
            [y for y, _ in spec.targets],
            [v for _, v in spec.targets],
            3,
            ls=(0, (5, 3)),
            lw=1.8,
            color=COLOR_TARGET,
            marker="*",
            ms=10,
        )
        entries.add("Obiettivo")
    if spec.baseline is not None:
        line([2024], [spec.baseline], 4, ls="", marker="D", ms=7, color=COLOR_BASELINE)
        entries.add("Baseline 2024")
    xs = [p.anno for p in complete]
    vs = [p.value if (p.value is not None and not p.suppressed) else math.nan for p in complete]
    line(xs, vs, 5, lw=2.6, marker="o", ms=6, color=COLOR_VALUE)  # broken at «n.p.» years
    # a value is written above its point, or below when a target or the baseline sits just above it
    marks = list(spec.targets) + ([(2024, spec.baseline)] if spec.baseline is not None else [])

    def value_label(x: float, v: float) -> tuple:
        crowded = any(mx == x and v - offset * 0.5 < mv < v + offset * 3.2 for mx, mv in marks)
        if crowded and v - offset * 2.6 > 0:
            return (x, v - offset * 0.9, fmt.number(v, decimals), COLOR_TEXT, "ma")
        return (x, v + offset, fmt.number(v, decimals), COLOR_TEXT, "md")

    texts += [value_label(x, v) for x, v in zip(xs, vs, strict=True) if not math.isnan(v)]
    for p in partial:
        line([p.anno], [p.value], 5, ls="", marker="o", ms=8, mfc="white", mec=COLOR_VALUE, mew=1.8)
        texts.append(value_label(p.anno, p.value))
        entries.add("Anno in corso (parziale)")
    for p in hidden:  # a suppressed year: a cross on the axis, never a zero or a silent gap
        line([p.anno], [0], 5, ls="", marker="x", ms=9, mew=1.6, color="#9e9e9e")
        texts.append((p.anno, offset * 0.6, fmt.SUPPRESSED, COLOR_SUPPRESSED, "md"))
        entries.add(f"{fmt.SUPPRESSED} = non pubblicabile")
    for a in artists:
        fig.add_artist(a)
    rgb = np.ascontiguousarray(_rgba(fig)[..., :3])
    height, layer = _trend_legend(tuple(e for e in LEGEND_ENTRIES if e in entries))
    _blend(rgb[-height:], *layer)  # the strip under the plot is white: pasting is exact
    img = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(img)
    text = _hex(COLOR_TEXT)
    for t in ticks:
        draw.text((left - 7, px(0, t)[1]), fmt.number(t, decimals), font=font, fill=text, anchor="rm")
    for year in range(math.ceil(x0), math.floor(x1) + 1):
        draw.text((px(year, 0)[0], h - bottom + 9), str(year), font=font, fill=text, anchor="ma")
    unit = Image.new("L", (round(ttop - bottom), unit_band), 0)
    ImageDraw.Draw(unit).multiline_text(
        (unit.width / 2, 0), _wrap(spec.unita, 28), font=font, fill=255, anchor="ma", align="center", spacing=2
    )
    unit = unit.rotate(90, expand=True)
    img.paste(Image.new("RGB", unit.size, text), (round(0.008 * w), round(h - ttop)), unit)
    label = _font(LABEL_FONT_PT, TREND_DPI)
    for x, y, s, color, anchor in texts:
        draw.text(px(x, y), s, font=label, fill=_hex(color), anchor=anchor, stroke_width=3, stroke_fill="white")
    return encode_png(np.asarray(img))
