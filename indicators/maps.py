"""Maps of comuni and sub-ambiti on ISTAT boundaries, with no network, that a mayor reads in five seconds.

Drawn as SVG (`go.Choropleth` on a `geo` subplot with no base layers, Mercator, fitted to the
ambito): names of places are plain SVG text, so the selected comune and the largest ones carry
their name with no font server (MapLibre needs glyphs fetched from the internet for any text).
Every colour comes from `indicators/palette.py` (better = blue, worse = orange, thresholds and
status as classes) and has a legend entry, «n.p.» and «nessun dato» included, drawn differently.

d3-geo wants exterior rings clockwise (the opposite of RFC 7946): the boundaries are oriented
here. The first trace is the sub-ambiti outline (lon/lat lines): a `geo` subplot whose first
trace has no `locationmode` and no base layer fetches no world topojson (nothing from the network).

The dashboard passes `publish` (GeoJSON -> URL): the figure then names the boundaries by URL and
the browser fetches them once, instead of every map of every rerun carrying them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import plotly.graph_objects as go
import polars as pl

from core import territory
from indicators import fmt, palette

SIMPLIFY_M = 60
OUTLINE_COLOR = "#3a3a3a"  # sub-ambiti borders
BORDER_COLOR = "#ffffff"  # between comuni
HIGHLIGHT_COLOR = "#000000"
LARGEST_LABELED = 6  # besides the selected territory, the most populous comuni carry their name
LABEL_FONT = {"size": 12, "color": "#1a1a1a", "shadow": "auto"}  # auto: a halo in the contrasting colour
# Kept for callers that drew the grey themselves (reports): the colour of «n.p.» now.
NO_DATA_COLOR = palette.SUPPRESSED


def _clockwise(geom):
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    if isinstance(geom, Polygon):
        return orient(geom, sign=-1.0)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([orient(p, sign=-1.0) for p in geom.geoms])
    return geom


@lru_cache(maxsize=4)
def _geo(codes: tuple[str, ...], groups: tuple[tuple[str, str], ...]) -> tuple[dict, dict, dict]:
    gdf = territory.geometries(list(codes), simplify_m=SIMPLIFY_M)
    group_of = dict(groups)
    gdf = gdf.assign(sub_ambito=[group_of.get(c) for c in gdf.index])
    dissolved = gdf.dropna(subset=["sub_ambito"]).dissolve("sub_ambito")
    # Simplified comuni leave slivers between neighbours: close them so a sub-ambito has no false holes.
    dissolved["geometry"] = dissolved.geometry.to_crs(32632).buffer(80).buffer(-80).to_crs(4326)
    points = {
        **{c: (float(p.x), float(p.y)) for c, p in zip(gdf.index, gdf.geometry.representative_point())},
        **{s: (float(p.x), float(p.y)) for s, p in zip(dissolved.index, dissolved.geometry.representative_point())},
    }
    gdf["geometry"] = gdf.geometry.apply(_clockwise)
    dissolved["geometry"] = dissolved.geometry.apply(_clockwise)
    comuni = json.loads(gdf.drop(columns=["sub_ambito"]).to_json())
    sub = json.loads(dissolved.to_json())
    bounds = gdf.total_bounds  # minx, miny, maxx, maxy
    view = {
        "center": {"lon": float((bounds[0] + bounds[2]) / 2), "lat": float((bounds[1] + bounds[3]) / 2)},
        "bounds": [float(b) for b in bounds],
        "outline": _exterior_lines(sub),
        "points": points,
    }
    return comuni, sub, view


def _exterior_rings(geo: dict) -> list[list]:
    """The exterior ring of every polygon (interior rings are slivers between simplified comuni, not borders)."""
    rings = []
    for feature in geo["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        rings.extend(poly[0] for poly in polys)
    return rings


def _exterior_lines(geo: dict) -> dict:
    """The borders of `geo` as one MultiLineString feature."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "MultiLineString", "coordinates": _exterior_rings(geo)},
            }
        ],
    }


def geojson(sub_ambiti: pl.DataFrame) -> tuple[dict, dict, dict]:
    """(comuni GeoJSON, sub-ambiti GeoJSON, view) for the ambito described by `sub_ambiti`."""
    codes = tuple(sorted(sub_ambiti["comune"].to_list()))
    groups = tuple(sorted(zip(sub_ambiti["comune"].to_list(), sub_ambiti["sub_ambito"].to_list())))
    return _geo(codes, groups)


def map_classes(
    values: pl.DataFrame, direzione: str | None, unita: str, thresholds: Sequence[tuple[float, str]] = ()
) -> tuple[pl.DataFrame, palette.Classes]:
    """`values` (territorio, nome, valore, soppresso, optional stato) with `classe`, `colore` and
    `classe_etichetta` added, and the palette's classes: the one rule, for the map and its table."""
    decimals = fmt.decimals_for(unita)
    soppresso = values["soppresso"].fill_null(False).to_list()
    statuses = values["stato"].to_list() if "stato" in values.columns and direzione else None
    classes = (
        palette.map_classes(
            values["valore"].to_list(),
            direzione,
            [palette.Threshold(v, n) for v, n in thresholds],
            statuses,
            soppresso,
            number=lambda v: fmt.number(v, decimals),
        )
        if direzione
        else palette.classify(values["valore"].to_list(), None, (), soppresso, number=lambda v: fmt.number(v, decimals))
    )
    labels = {e.key: e.label for e in classes.legend}
    out = values.with_columns(
        pl.Series("classe", list(classes.keys), dtype=pl.String),
        pl.Series("colore", list(classes.colours), dtype=pl.String),
        pl.Series("classe_etichetta", [labels[k] for k in classes.keys], dtype=pl.String),
    )
    return out, classes


def choropleth(
    values: pl.DataFrame,
    sub_ambiti: pl.DataFrame,
    level: str,
    unita: str,
    direzione: str | None = "alto",
    title: str | None = None,
    highlight: str | None = None,
    sedi: pl.DataFrame | None = None,
    height: int = 520,
    publish: Callable[[dict], str] | None = None,
    thresholds: Sequence[tuple[float, str]] = (),
    legend_title: str | None = None,
) -> go.Figure:
    """Map of one indicator-year, coloured by the palette's classes, with names and a full legend.

    `values`: territorio, nome, valore, soppresso; optional `stato` (status against the plan: the
    classes when the indicator has no thresholds) and `residenti` (the most populous are named).
    `level`: 'comune' or 'sub_ambito'. `direzione`: 'alto', 'basso', or None for a neutral scale.
    `thresholds`: (valore, nome) of the catalog (`soglie`). `highlight`: a territory outlined in black
    and named. `sedi`: optional hub/spoke points (nome, tipo, lat, lon).
    `publish`: GeoJSON -> URL the browser can fetch (the boundaries are then not embedded).
    """
    comuni_geo, sub_geo, view = geojson(sub_ambiti)
    geo = comuni_geo if level == "comune" else sub_geo
    source = publish(geo) if publish else geo
    ids = [f["id"] for f in geo["features"]]
    df = pl.DataFrame({"territorio": ids}).join(values, on="territorio", how="left", maintain_order="left")
    df = df.with_columns(pl.col("soppresso").fill_null(False), pl.col("nome").fill_null(pl.col("territorio")))
    df, classes = map_classes(df, direzione, unita, thresholds)
    decimals = fmt.decimals_for(unita)

    fig = go.Figure()
    _lines(fig, _exterior_rings(sub_geo), OUTLINE_COLOR, 1.6)  # first: no topojson is fetched (module doc)
    for entry in classes.legend:
        part = df.filter(pl.col("classe") == entry.key)
        fig.add_trace(
            go.Choropleth(
                geojson=source,
                featureidkey="id",
                locations=part["territorio"].to_list(),
                z=[1] * part.height,
                colorscale=[[0, entry.colour], [1, entry.colour]],
                showscale=False,
                marker_line_color=entry.outline or BORDER_COLOR,
                marker_line_width=1.2 if entry.outline else 0.8,
                name=entry.label,
                legendgroup=entry.key,
                showlegend=False,
                customdata=[
                    [n, _value_text(v, s, unita), entry.label]
                    for n, v, s in zip(part["nome"], part["valore"], part["soppresso"])
                ],
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>",
            )
        )
    _legend(fig, classes)
    if highlight:
        target = comuni_geo if highlight.isdigit() else sub_geo
        feature = [f for f in target["features"] if f["id"] == highlight]
        if feature:
            rings = _exterior_rings({"features": feature})
            _lines(fig, rings, "#ffffff", 6.0)
            _lines(fig, rings, HIGHLIGHT_COLOR, 3.0)
    if sedi is not None and sedi.height:
        for tipo, size, color, symbol in (("HUB", 15, "#000000", "star"), ("SPOKE", 10, "#000000", "circle")):
            pts = sedi.filter(pl.col("tipo") == tipo)
            if pts.height:
                fig.add_trace(
                    go.Scattergeo(
                        lat=pts["lat"].to_list(),
                        lon=pts["lon"].to_list(),
                        mode="markers",
                        marker={
                            "size": size,
                            "color": color,
                            "symbol": symbol,
                            "line": {"color": "#fff", "width": 1.5},
                        },
                        name="Hub" if tipo == "HUB" else "Spoke (punto di accesso)",
                        text=pts["nome"].to_list(),
                        hovertemplate="<b>%{text}</b><extra>" + tipo + "</extra>",
                    )
                )
    _labels(fig, df, view, level, highlight)  # last: names above the points of the sedi
    # The legend sits in a band of its own under the map (two entries a row on a narrow column): the
    # map is fitted in the band above, so no legend covers a comune at any width.
    entries = sum(1 for t in fig.data if t.showlegend)
    legend_share = min(0.4, (34 + 22 * math.ceil(entries / 2)) / height)
    fig.update_geos(
        domain={"x": [0, 1], "y": [legend_share, 1]},
        visible=False,
        fitbounds="locations",
        projection_type="mercator",
        bgcolor="rgba(0,0,0,0)",
        showframe=False,
        showland=False,
        showcoastlines=False,
        showcountries=False,
        showlakes=False,
        showrivers=False,
        showocean=False,
        showsubunits=False,
    )
    legend_text = legend_title or _legend_title(classes, direzione, unita, decimals)
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        height=height,
        separators=fmt.ITALIAN_SEPARATORS,
        title={"text": title} if title else None,
        showlegend=True,
        legend={
            "title": {"text": legend_text + "<br>", "font": {"size": 13}, "side": "top"},
            "orientation": "h",
            "yanchor": "top",
            "y": legend_share,
            "xanchor": "left",
            "x": 0.0,
            "font": {"size": 12},
            "itemclick": False,
            "itemdoubleclick": False,
            "entrywidthmode": "pixels",
            "entrywidth": 0,
        },
        dragmode=False,
    )
    return fig


def _legend(fig: go.Figure, classes: palette.Classes) -> None:
    """One legend entry per class, empty ones included (a choropleth trace with no location would
    drop out of the legend): a square marker with no position, in the class colour."""
    for entry in classes.legend:
        fig.add_trace(
            go.Scattergeo(
                lon=[None],
                lat=[None],
                mode="markers",
                name=f"{entry.label} ({entry.count})",
                legendgroup=entry.key,
                marker={
                    "symbol": "square",
                    "size": 14,
                    "color": entry.colour,
                    "line": {"color": entry.outline or entry.colour, "width": 1.5},
                },
                hoverinfo="skip",
                showlegend=True,
            )
        )


def _legend_title(classes: palette.Classes, direzione: str | None, unita: str, decimals: int) -> str:
    if classes.method == palette.METHOD_STATUS:
        return "Stato rispetto all'obiettivo"
    better = {"alto": " · più alto è meglio", "basso": " · più basso è meglio"}.get(direzione or "", "")
    return f"{unita}{better}"


def _value_text(v: float | None, suppressed: bool, unita: str) -> str:
    if suppressed:
        return f"{fmt.SUPPRESSED} (dato non pubblicabile)"
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nessun dato"
    return fmt.with_unit(v, unita)


def label_ids(df: pl.DataFrame, level: str, highlight: str | None, n: int = LARGEST_LABELED) -> list[str]:
    """Which territories carry their name: every sub-ambito; of the comuni, the selected one and the
    `n` most populous (`residenti`, when the values carry it)."""
    ids = df["territorio"].to_list()
    if level != "comune":
        return ids
    chosen = [highlight] if highlight in ids else []
    if "residenti" in df.columns:
        top = df.drop_nulls("residenti").sort("residenti", descending=True)["territorio"].to_list()
        chosen += [t for t in top if t not in chosen][:n]
    return chosen


def _labels(fig: go.Figure, df: pl.DataFrame, view: dict, level: str, highlight: str | None) -> None:
    names = dict(zip(df["territorio"], df["nome"]))
    fills = dict(zip(df["territorio"], df["colore"])) if "colore" in df.columns else {}
    chosen = [t for t in label_ids(df, level, highlight) if t in view["points"]]
    if not chosen:
        return
    fig.add_trace(
        go.Scattergeo(
            lon=[view["points"][t][0] for t in chosen],
            lat=[view["points"][t][1] for t in chosen],
            mode="text",
            text=[f"<b>{names[t]}</b>" if t == highlight else names[t] for t in chosen],
            textfont={
                **LABEL_FONT,
                "size": [15 if t == highlight else LABEL_FONT["size"] for t in chosen],
                "color": [_text_on(fills.get(t)) for t in chosen],
            },
            hoverinfo="skip",
            showlegend=False,
            name="nomi",
        )
    )


def _text_on(fill: str | None) -> str:
    """Dark text on a light fill, white on a dark one (relative luminance below 0.3)."""
    if not fill or not fill.startswith("#") or len(fill) != 7:
        return LABEL_FONT["color"]
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return "#ffffff" if 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] < 0.3 else LABEL_FONT["color"]


def _lines(fig: go.Figure, rings: list[list], color: str, width: float) -> None:
    """Polygon outlines as lines above the fill."""
    lats: list[float | None] = []
    lons: list[float | None] = []
    for ring in rings:
        lons.extend([p[0] for p in ring] + [None])
        lats.extend([p[1] for p in ring] + [None])
    fig.add_trace(
        go.Scattergeo(
            lat=lats, lon=lons, mode="lines", line={"color": color, "width": width}, hoverinfo="skip", showlegend=False
        )
    )
