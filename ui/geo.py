"""Maps on the pages: each GeoJSON published once as a static file the browser fetches
(`maps.choropleth(publish=...)`), and a click on a territory that sets the sidebar filter.
"""

from __future__ import annotations

import hashlib
import json
import threading

import streamlit as st

from core import settings

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


# plotly's `geo` maps may ask for a world topojson (from a CDN) to draw base layers; ours draw none.
# An empty one is served locally so that no map ever reaches the internet (maps.py's first trace
# already avoids the request; this is the second line of defence).
_EMPTY_TOPOJSON = {
    "type": "Topology",
    "arcs": [],
    "objects": {
        k: {"type": "GeometryCollection", "geometries": []}
        for k in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")
    },
}


def map_config() -> dict:
    """The `config` of every map on a page: no scroll zoom, no mode bar, topojson served locally."""
    folder = settings.STATIC_DIR / "geo" / "topojson"
    for name in ("world_110m.json", "world_50m.json", "europe_50m.json", "europe_110m.json"):
        path = folder / name
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(_EMPTY_TOPOJSON), encoding="utf-8")
            tmp.replace(path)
    return {"scrollZoom": False, "displayModeBar": False, "topojsonURL": PUBLISHED_URL + "topojson/"}


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
