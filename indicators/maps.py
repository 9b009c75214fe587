"""Maps of comuni and sub-ambiti on ISTAT boundaries, with no network.

`px.choropleth_map(map_style="white-bg")` draws with MapLibre and no tiles.
Geometries are simplified (about 60 m) so a page stays light; sub-ambiti are
the dissolve of their comuni. Suppressed cells are grey with "n.p.".

The dashboard passes `publish` (GeoJSON -> URL): the figure then names the
boundaries by URL and the browser fetches them once, instead of every map of
every rerun carrying them (1,500 comuni are megabytes). Reports embed them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import plotly.graph_objects as go
import polars as pl

from core import territory
from indicators import fmt

SIMPLIFY_M = 60
NO_DATA_COLOR = "#d9d9d9"
OUTLINE_COLOR = "#1f1f1f"
# Colour scales: dark = better, whichever the direction.
SCALE_UP = "Blues"
SCALE_DOWN = "Blues_r"


@lru_cache(maxsize=4)
def _geo(codes: tuple[str, ...], groups: tuple[tuple[str, str], ...]) -> tuple[dict, dict, dict]:
    gdf = territory.geometries(list(codes), simplify_m=SIMPLIFY_M)
    comuni = json.loads(gdf.to_json())
    for feature in comuni["features"]:
        feature["id"] = feature["id"]
    group_of = dict(groups)
    gdf = gdf.assign(sub_ambito=[group_of.get(c) for c in gdf.index])
    dissolved = gdf.dropna(subset=["sub_ambito"]).dissolve("sub_ambito")
    # Simplified comuni leave slivers between neighbours: close them so a sub-ambito has no false holes.
    dissolved["geometry"] = dissolved.geometry.to_crs(32632).buffer(80).buffer(-80).to_crs(4326)
    sub = json.loads(dissolved.to_json())
    bounds = gdf.total_bounds  # minx, miny, maxx, maxy
    view = {
        "center": {"lon": float((bounds[0] + bounds[2]) / 2), "lat": float((bounds[1] + bounds[3]) / 2)},
        "zoom": _zoom_for(bounds),
        "outline": _exterior_lines(sub),
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
    """The borders of `geo` as one MultiLineString feature (a map layer draws them above the fill)."""
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {},
                      "geometry": {"type": "MultiLineString", "coordinates": _exterior_rings(geo)}}],
    }  # fmt: skip


def _zoom_for(bounds) -> float:
    import math

    span = max(bounds[2] - bounds[0], (bounds[3] - bounds[1]) * 1.4)
    return max(3.0, min(12.0, math.log2(360 / max(span, 1e-6)) - 0.15))


def geojson(sub_ambiti: pl.DataFrame) -> tuple[dict, dict, dict]:
    """(comuni GeoJSON, sub-ambiti GeoJSON, view) for the ambito described by `sub_ambiti`."""
    codes = tuple(sorted(sub_ambiti["comune"].to_list()))
    groups = tuple(sorted(zip(sub_ambiti["comune"].to_list(), sub_ambiti["sub_ambito"].to_list())))
    return _geo(codes, groups)


def choropleth(
    values: pl.DataFrame,
    sub_ambiti: pl.DataFrame,
    level: str,
    unita: str,
    direzione: str = "alto",
    title: str | None = None,
    highlight: str | None = None,
    sedi: pl.DataFrame | None = None,
    height: int = 520,
    publish: Callable[[dict], str] | None = None,
) -> go.Figure:
    """Map of one indicator-year.

    `values`: territorio, nome, valore, soppresso (one row per comune or sub-ambito).
    `level`: 'comune' or 'sub_ambito'. `highlight`: a territory to outline in red.
    `sedi`: optional hub/spoke points (nome, tipo, lat, lon).
    `publish`: GeoJSON -> URL the browser can fetch (the boundaries are then not embedded).
    """
    comuni_geo, sub_geo, view = geojson(sub_ambiti)
    geo = comuni_geo if level == "comune" else sub_geo
    source = publish(geo) if publish else geo
    ids = [f["id"] for f in geo["features"]]
    df = pl.DataFrame({"territorio": ids}).join(values, on="territorio", how="left")
    decimals = fmt.decimals_for(unita)
    shown = df.filter(pl.col("valore").is_not_null() & ~pl.col("soppresso").fill_null(False))
    hidden = df.filter(pl.col("valore").is_null() | pl.col("soppresso").fill_null(False))

    fig = go.Figure()
    fig.add_trace(
        go.Choroplethmap(
            geojson=source,
            locations=hidden["territorio"].to_list(),
            z=[0] * hidden.height,
            colorscale=[[0, NO_DATA_COLOR], [1, NO_DATA_COLOR]],
            showscale=False,
            marker_line_color="#ffffff",
            marker_line_width=0.8,
            customdata=[
                [n or t, fmt.SUPPRESSED if s else "nessun dato"]
                for t, n, s in zip(hidden["territorio"], hidden["nome"], hidden["soppresso"].fill_null(False))
            ],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
            name="n.p. / nessun dato",
        )
    )
    if shown.height:
        fig.add_trace(
            go.Choroplethmap(
                geojson=source,
                locations=shown["territorio"].to_list(),
                z=shown["valore"].to_list(),
                colorscale=SCALE_UP if direzione == "alto" else SCALE_DOWN,
                marker_line_color="#ffffff",
                marker_line_width=0.8,
                colorbar={
                    "title": {"text": unita, "side": "right"},
                    "tickformat": fmt.d3_format(decimals),
                    "thickness": 14,
                },
                customdata=[[n or t] for t, n in zip(shown["territorio"], shown["nome"])],
                hovertemplate=(
                    "<b>%{customdata[0]}</b><br>%{z:" + fmt.d3_format(decimals) + "} " + unita + "<extra></extra>"
                ),
                name=title or "",
            )
        )
    layers = []
    if publish:  # one line layer fetched by URL, drawn above the fill
        layers.append({"sourcetype": "geojson", "source": publish(view["outline"]), "type": "line",
                       "color": OUTLINE_COLOR, "line": {"width": 2.0}})  # fmt: skip
    else:
        _outline(fig, sub_geo, OUTLINE_COLOR, 2.0)
    if highlight:
        target = comuni_geo if highlight.isdigit() else sub_geo
        feature = [f for f in target["features"] if f["id"] == highlight]
        if feature:
            _outline(fig, {"type": "FeatureCollection", "features": feature}, "#d62728", 3.5)
    if sedi is not None and sedi.height:
        for tipo, symbol_size, color in (("HUB", 16, "#d62728"), ("SPOKE", 10, "#ff7f0e")):
            pts = sedi.filter(pl.col("tipo") == tipo)
            if pts.height:
                fig.add_trace(
                    go.Scattermap(
                        lat=pts["lat"].to_list(), lon=pts["lon"].to_list(), mode="markers",
                        marker={"size": symbol_size, "color": color},
                        name="Hub" if tipo == "HUB" else "Spoke (punto di accesso)",
                        text=pts["nome"].to_list(), hovertemplate="<b>%{text}</b><extra>" + tipo + "</extra>",
                    )
                )  # fmt: skip
    fig.update_layout(
        map={"style": "white-bg", "center": view["center"], "zoom": view["zoom"], "layers": layers},
        margin={"l": 0, "r": 0, "t": 30 if title else 0, "b": 0},
        height=height,
        separators=fmt.ITALIAN_SEPARATORS,
        title={"text": title} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.0, "x": 0.0, "bgcolor": "rgba(255,255,255,0.8)"},
        showlegend=sedi is not None and sedi.height > 0,
    )
    return fig


def _outline(fig: go.Figure, geo: dict, color: str, width: float) -> None:
    """Draw polygon outlines as lines (so they sit above the fill)."""
    lats: list[float | None] = []
    lons: list[float | None] = []
    for ring in _exterior_rings(geo):
        lons.extend([p[0] for p in ring] + [None])
        lats.extend([p[1] for p in ring] + [None])
    fig.add_trace(
        go.Scattermap(lat=lats, lon=lons, mode="lines", line={"color": color, "width": width}, hoverinfo="skip",
                      showlegend=False)
    )  # fmt: skip
