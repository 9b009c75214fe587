"""The colour rule of every choropleth (dashboard maps and report maps): one place, two drawers.

* «meglio» is always the same hue: the darker the blue, the better, whatever the indicator's
  `direzione` ('alto': high values dark; 'basso': low values dark);
* the ramp is single-hue sequential (ColorBrewer Blues, from a visible light blue to navy), which
  colour-blind readers tell apart by lightness alone and which prints in grey scale;
* a suppressed cell («n.p.») is hatched and a territory without data is plain light grey: neither
  is ever a colour of the ramp, and the legend names both;
* sub-ambito outlines are dark, the report's territory is outlined in red.

Plotly (`plotly_colorscale`) and matplotlib (`mpl_colormap`) read the same stops, so the
dashboard and the reports colour a value alike.
"""

from __future__ import annotations

from indicators import fmt

# ColorBrewer Blues 3..9 (the two near-white classes are left out: they would read as "no data").
RAMP = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
NO_DATA_COLOR = "#dcdcdc"  # plain light grey: no value (no records, denominator zero)
SUPPRESSED_FACE = "#ffffff"  # hatched: «n.p.», a value exists but is not publishable
SUPPRESSED_HATCH_COLOR = "#8a8a8a"
SUPPRESSED_HATCH = "//////"  # matplotlib hatch (6 lines per inch); plotly: marker.pattern.shape "/"
COMUNE_EDGE = "#ffffff"
SUB_AMBITO_OUTLINE = "#1f1f1f"
HIGHLIGHT = "#d62728"  # the report's (or the selected) territory
LABEL_COLOR = "#1d1d1d"

LEGEND_SUPPRESSED = f"{fmt.SUPPRESSED}: non pubblicabile (poche persone)"
LEGEND_NO_DATA = "nessun dato"
LEGEND_SUB_AMBITO = "confine di sub-ambito"
LEGEND_BETTER = "meglio"
LEGEND_WORSE = "peggio"


def ramp(direzione: str) -> list[str]:
    """The ramp from the lowest to the highest value: dark at the better end."""
    return list(RAMP) if direzione != "basso" else list(reversed(RAMP))


def plotly_colorscale(direzione: str) -> list[list]:
    """A Plotly colorscale (low value → high value) with the better end dark."""
    stops = ramp(direzione)
    n = len(stops) - 1
    return [[i / n, c] for i, c in enumerate(stops)]


def mpl_colormap(direzione: str):
    """A matplotlib colormap (low value → high value) with the better end dark."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(f"pdz_{direzione}", ramp(direzione), N=256)


def better_is_high(direzione: str) -> bool:
    return direzione != "basso"
