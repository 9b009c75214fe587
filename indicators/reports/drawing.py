"""The report's maps and trend charts drawn in Python (matplotlib's Agg, numpy, Pillow): no browser.

One drawing per figure, the same PNG in the PDF and in the PPTX (`images.py` caches them).

Maps follow the colour rule of `indicators.palette`: darker blue = better whatever the direction,
«n.p.» hatched and no data plain light grey (both in the legend), sub-ambito outlines, the names
of the report's comune and of the largest comuni. A report draws 29 maps of the same territory,
so what does not change between them is drawn once by matplotlib (a `_MapTemplate`: which area
each pixel belongs to, the hatch, and everything drawn above the colours: borders, names,
legend) and each map is then painted with numpy (colours of the areas, hatch, colour bar) and
Pillow (the colour bar's numbers and unit). Every border is an antialiased line of the template,
so the painted areas look exactly as if matplotlib had filled them.

Trend charts show what `indicators.charts.trend` shows on the dashboard: observed values (a
suppressed year is an «n.p.» cross, never a zero), the year to date as an open circle, baseline,
targets, projection with its 80% interval. The chart draws no axis machinery (its ticks and
grid are a few lines and texts) and pastes a legend drawn once per set of entries.

Only matplotlib's object API is used (no pyplot): every call builds its own Figure, so reports
drawn at once by two Streamlit sessions share only read-only templates.
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

from indicators import fmt, palette

# Sizes in inches at the size the PDF prints them (map 88 mm wide, trend 180 mm); the PPTX shows
# the same PNG a little larger. Font sizes in points at that size.
MAP_INCHES = (3.46, 3.3)  # 88 mm wide
MAP_DPI = 250
TREND_INCHES = (7.1, 3.25)
TREND_DPI = 190
FONT = "DejaVu Sans"  # matplotlib's default, shipped with it: the same glyphs on every machine
HATCH_LW = 0.7  # points: set on each artist (no global rc: two sessions may draw at once)
PNG_LEVEL = 1  # zlib level: flat colours compress well at any level, level 1 is the fastest
LABELLED_COMUNI = 5  # the largest comuni (by residents) named on a comune map, besides the report's one

# map layout, in figure fractions (left, bottom, width, height)
MAP_AXES = (0.0, 0.20, 0.80, 0.80)
BAR_BOX = (0.82, 0.38, 0.04, 0.42)
BAR_FONT_PT = 7
LEGEND_FONT_PT = 6.5
NAME_FONT_PT = (6.5, 7.5)  # comune names; the report's territory (bold)

COLOR_VALUE = "#1f4e79"
COLOR_TARGET = "#2e7d32"
COLOR_BASELINE = "#6d6d6d"
COLOR_PROJECTION = "#ef6c00"
COLOR_SUPPRESSED = "#757575"
COLOR_GRID = "#e6e6e6"
COLOR_AXIS = "#bdbdbd"
COLOR_TEXT = "#2a3f5f"
HUB = ("HUB", "Hub", 7.5, "#d62728")
SPOKE = ("SPOKE", "Spoke (punto\ndi accesso)", 5.0, "#ff7f0e")


# --- what a figure shows (plain frozen data: its repr is the cache key) -----------------------------


@dataclass(frozen=True)
class Area:
    """One territory of a map: code, name, value, «n.p.» flag and residents (to pick the names shown)."""

    code: str
    name: str
    value: float | None
    suppressed: bool
    residents: int | None = None


@dataclass(frozen=True)
class MapSpec:
    level: str  # comune | sub_ambito
    unita: str
    direzione: str  # alto | basso: which end of the ramp is dark
    areas: tuple[Area, ...]
    geometry: str  # key given by `register_geometry`
    highlight: str | None = None  # the report's territory, outlined in red
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
    pixels: list[np.ndarray]  # flat pixel indices of each area (pixels[i] for label i)
    hatch: np.ndarray  # (H·W)×3 uint8: the «n.p.» hatch over the whole image
    over_at: np.ndarray  # flat indices of the pixels the layer above the colours covers
    over_keep: np.ndarray  # n×1 uint32: 255 − that layer's alpha there
    over_add: np.ndarray  # n×3 uint32: that layer's colour × alpha there
    bar: tuple[int, int, int, int]  # colour bar box in pixels (left, top, right, bottom)


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
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    shapes = _shapes(geometry)
    areas = shapes.comuni if level == "comune" else shapes.subs
    codes = sorted(areas)
    fig = _figure(MAP_INCHES, MAP_DPI, transparent=True)
    ax = _map_axes(fig, shapes)
    # 1. which area each pixel belongs to: each area filled with its number as colour, no antialiasing
    ids = PathCollection(
        [areas[c][0] for c in codes],
        antialiaseds=False,
        linewidths=0,
        edgecolors="none",
        facecolors=[((i + 1) % 256 / 255, (i + 1) // 256 / 255, 0, 1) for i in range(len(codes))],
    )
    ax.add_collection(ids)
    px = _rgba(fig)
    labels = np.where(px[..., 3] == 255, px[..., 0].astype(np.uint16) + 256 * px[..., 1].astype(np.uint16), 0)
    labels = labels.astype(np.uint16)
    ids.remove()
    # 2. the «n.p.» hatch, drawn over the whole image (matplotlib hatches in device space: same pattern)
    box = Rectangle(
        (0, 0),
        1,
        1,
        transform=fig.transFigure,
        facecolor=palette.SUPPRESSED_FACE,
        hatch=palette.SUPPRESSED_HATCH,
        hatchcolor=palette.SUPPRESSED_HATCH_COLOR,
        edgecolor="none",
        linewidth=0,
    )
    box.set_hatch_linewidth(HATCH_LW)
    fig.add_artist(box)
    hatch = _rgba(fig)[..., :3]
    box.remove()
    # 3. what lies above the colours: borders, outlines, names, sedi, the fixed part of the legend
    ax.add_collection(
        PathCollection([areas[c][0] for c in codes], facecolors="none", edgecolors=palette.COMUNE_EDGE, linewidths=0.4)
    )
    outlines = [ring for _, _, ext in shapes.subs.values() for ring in ext]
    ax.add_collection(LineCollection(outlines, colors=palette.SUB_AMBITO_OUTLINE, linewidths=0.9))
    if highlight:
        target = shapes.comuni if highlight in shapes.comuni else shapes.subs
        if highlight in target:
            ax.add_collection(
                LineCollection(target[highlight][2], colors=palette.HIGHLIGHT, linewidths=1.8, path_effects=_halo(3.2))
            )
    for code, name, bold in names:
        if code in areas:
            ax.text(
                *areas[code][1],
                name,
                ha="center",
                va="center",
                color=palette.LABEL_COLOR,
                zorder=6,
                fontsize=NAME_FONT_PT[bold],
                fontweight="bold" if bold else "normal",
                path_effects=_halo(2.4 if bold else 2.0),
            )
    handles = [
        Patch(
            facecolor=palette.SUPPRESSED_FACE,
            edgecolor=palette.SUPPRESSED_HATCH_COLOR,
            hatch=palette.SUPPRESSED_HATCH,
            hatchcolor=palette.SUPPRESSED_HATCH_COLOR,
            linewidth=0.5,
            label=f"{fmt.SUPPRESSED} (non\npubblicabile)",
        ),
        Patch(facecolor=palette.NO_DATA_COLOR, edgecolor="#bdbdbd", linewidth=0.5, label=palette.LEGEND_NO_DATA),
        Line2D([], [], color=palette.SUB_AMBITO_OUTLINE, lw=0.9, label=_wrap(palette.LEGEND_SUB_AMBITO, 12)),
    ]
    if highlight:
        handles.append(Line2D([], [], color=palette.HIGHLIGHT, lw=1.8, label="territorio della\nrelazione"))
    for tipo, label, size, color in (HUB, SPOKE):
        pts = [(lon * shapes.k, lat) for t, _, lat, lon in sedi if t == tipo]
        if pts:
            ax.plot([x for x, _ in pts], [y for _, y in pts], "o", ms=size, color=color, mec="white", mew=0.8, zorder=5)
            handles.append(Line2D([], [], marker="o", ls="", ms=size, color=color, mec="white", label=label))
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 0.0),
        frameon=False,
        ncols=3 if len(handles) > 4 else 2,
        columnspacing=1.2,
        fontsize=LEGEND_FONT_PT,
        handlelength=1.6,
        handleheight=1.1,
        labelspacing=0.5,
        borderaxespad=0.3,
        labelcolor=COLOR_TEXT,
    )
    over = _rgba(fig)
    h, w = labels.shape
    left, bottom, width, height = BAR_BOX
    bar = (round(left * w), round((1 - bottom - height) * h), round((left + width) * w), round((1 - bottom) * h))
    at, keep, add = _layer(over)
    order = np.argsort(labels, axis=None, kind="stable")
    bounds = np.searchsorted(labels.ravel()[order], np.arange(len(codes) + 2))
    pixels = [order[bounds[i] : bounds[i + 1]] for i in range(len(codes) + 1)]
    return _MapTemplate(codes, labels, pixels, np.ascontiguousarray(hatch).reshape(-1, 3), at, keep, add, bar)


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


def _map_names(spec: MapSpec) -> tuple[tuple[str, str, bool], ...]:
    """(code, name, bold): the sub-ambiti codes; or the report's comune and the largest comuni."""
    if spec.level == "sub_ambito":
        return tuple((a.code, a.code, True) for a in spec.areas)
    ranked = sorted((a for a in spec.areas if a.residents), key=lambda a: (-(a.residents or 0), a.code))
    out = [(a.code, a.name, False) for a in ranked[:LABELLED_COMUNI] if a.code != spec.highlight]
    focus = next((a for a in spec.areas if a.code == spec.highlight), None)
    if focus:
        out.append((focus.code, focus.name, True))
    return tuple(out)


_TEMPLATES = threading.Lock()  # two drawing threads must not build the same template twice


def map_png(spec: MapSpec) -> bytes:
    """The choropleth of one indicator-year as PNG bytes."""
    from PIL import Image, ImageDraw

    with _TEMPLATES:
        tpl = _map_template(spec.geometry, spec.level, spec.highlight, _map_names(spec), spec.sedi)
    by_code = {a.code: a for a in spec.areas}
    shown = {
        c: by_code[c].value
        for c in tpl.codes
        if c in by_code and by_code[c].value is not None and not by_code[c].suppressed
    }
    lo, hi = (min(shown.values()), max(shown.values())) if shown else (0.0, 1.0)
    step = 10.0 ** -fmt.decimals_for(spec.unita)
    if hi - lo < step:  # (nearly) one value: a bar one shown digit wide around it
        lo, hi = (lo + hi) / 2 - step / 2, (lo + hi) / 2 + step / 2
    cmap = palette.mpl_colormap(spec.direzione)
    # colours of the areas: index 0 (outside) white
    lut = np.full((len(tpl.codes) + 1, 3), 255, dtype=np.uint8)
    hatched = np.zeros(len(tpl.codes) + 1, dtype=bool)
    for i, code in enumerate(tpl.codes, start=1):
        a = by_code.get(code)
        if code in shown:
            lut[i] = np.round(np.array(cmap((shown[code] - lo) / (hi - lo))[:3]) * 255)
        elif a is not None and a.suppressed:
            hatched[i] = True
        else:
            lut[i] = _hex(palette.NO_DATA_COLOR)
    base = np.take(lut, tpl.labels, axis=0)
    flat = base.reshape(-1, 3)
    for i in np.flatnonzero(hatched):
        flat[tpl.pixels[i]] = tpl.hatch[tpl.pixels[i]]
    _blend(base, tpl.over_at, tpl.over_keep, tpl.over_add)
    out = base
    left, top, right, bottom = tpl.bar
    font = _font(BAR_FONT_PT, MAP_DPI)
    small = _font(BAR_FONT_PT - 0.5, MAP_DPI)
    gap = _px(2, MAP_DPI)
    text = _hex(COLOR_TEXT)
    if shown:
        # the colour bar: the better end (dark) on top, whichever the direction
        t = np.linspace(1.0, 0.0, bottom - top)
        if not palette.better_is_high(spec.direzione):
            t = t[::-1]
        out[top:bottom, left:right] = (cmap(t)[:, :3] * 255).round().astype(np.uint8)[:, None, :]
    img = Image.fromarray(out, "RGB")
    draw = ImageDraw.Draw(img)
    if shown:
        draw.rectangle((left, top, right - 1, bottom - 1), outline=(0x55, 0x55, 0x55), width=1)
        decimals = fmt.decimals_for(spec.unita)
        tick = _px(2.5, MAP_DPI)
        for v in nice_ticks(lo, hi, decimals=decimals):
            f = (v - lo) / (hi - lo)
            y = top + (1 - f if palette.better_is_high(spec.direzione) else f) * (bottom - top - 1)
            draw.line((right, y, right + tick, y), fill=(0x55, 0x55, 0x55), width=1)
            draw.text((right + tick + gap, y), fmt.number(v, decimals), font=font, fill=text, anchor="lm")
        draw.text((left, top - gap), palette.LEGEND_BETTER, font=small, fill=text, anchor="ld")
        draw.text((left, bottom + gap), palette.LEGEND_WORSE, font=small, fill=text, anchor="la")
        unit = _wrap(spec.unita, 13)
        draw.multiline_text(
            (left, top - gap - _px(BAR_FONT_PT * 1.6, MAP_DPI)), unit, font=font, fill=text, anchor="ld", spacing=gap
        )
    else:
        draw.multiline_text((left, top), "nessun valore\npubblicabile", font=font, fill=text, anchor="la", spacing=gap)
    return encode_png(np.asarray(img))


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
    ticks = nice_ticks(0.0, top, 5, decimals)
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
