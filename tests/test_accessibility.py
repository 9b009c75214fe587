"""Colours everyone can read (WCAG 2.1 AA, as Legge 4/2004 and the AgID guidelines require).

* Text contrast: at least 4.5:1 (WCAG 1.4.3), computed with WCAG's relative luminance, for the theme
  (captions are drawn at 60% of the text colour) and the Assemblea's status badges.
* Colour-vision deficiencies: colours that carry a meaning stay apart when simulated for deuteranopia,
  protanopia and tritanopia (Machado 2009, full severity, with colorspacious), by a CAM02-UCS distance of
  at least MIN_DELTA_E; a map's sequential scale keeps its order of lightness. Where colours are close,
  another cue must carry the meaning (the trend's lines differ by dash and marker, WCAG 1.4.1).

The browser half (axe-core on every page) is tests/browser/test_accessibility_browser.py.
"""

from __future__ import annotations

import itertools
import tomllib

import numpy as np
import polars as pl
import pytest
from colorspacious import cspace_convert, deltaE

from core.settings import REPO_ROOT
from indicators import assemblea, charts, palette

DEFICIENCIES = ("deuteranomaly", "protanomaly", "tritanomaly")  # at severity 100: -anopia
MIN_DELTA_E = 15.0  # CAM02-UCS; about 1 is a just noticeable difference, 15 reads at a glance
# Streamlit 1.67's light theme where config.toml sets nothing (the values axe-core measured before the fix).
STREAMLIT_DEFAULTS = {"textColor": "#2f2d2b", "primaryColor": "#c53948", "codeTextColor": "#6d9c8f"}
BACKGROUNDS = {"pagina": "#ffffff", "barra laterale": "#f8f8f7"}


def _rgb(color: str) -> np.ndarray:
    color = color.strip()
    if color.startswith("rgb"):
        return np.array([float(x) for x in color[color.index("(") + 1 : -1].split(",")[:3]]) / 255
    h = color.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)]) / 255


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(float(c) * 255):02x}" for c in rgb)


def luminance(color: str) -> float:
    """WCAG 2.x relative luminance."""
    c = _rgb(color)
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def blend(fg: str, bg: str, alpha: float) -> str:
    return _hex(alpha * _rgb(fg) + (1 - alpha) * _rgb(bg))


def simulate(color: str, kind: str | None) -> np.ndarray:
    if kind is None:
        return _rgb(color)
    space = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
    return np.clip(cspace_convert(_rgb(color), space, "sRGB1"), 0, 1)


def closest_pair(colors: dict[str, str]) -> tuple[float, str]:
    """The smallest CAM02-UCS distance between two of `colors`, with normal vision and each deficiency."""
    worst = (float("inf"), "")
    for kind in (None, *DEFICIENCIES):
        for (a, x), (b, y) in itertools.combinations(colors.items(), 2):
            d = float(deltaE(simulate(x, kind), simulate(y, kind), input_space="sRGB1"))
            if d < worst[0]:
                worst = (d, f"{a} / {b} ({kind or 'visione normale'})")
    return worst


def _theme() -> dict:
    with open(REPO_ROOT / ".streamlit" / "config.toml", "rb") as fh:
        return {**STREAMLIT_DEFAULTS, **tomllib.load(fh).get("theme", {})}


# --- contrast ---------------------------------------------------------------------------------------


def test_the_wcag_contrast_formula_on_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey on white
    assert blend("#000000", "#ffffff", 0.6) == "#666666"


@pytest.mark.parametrize("where", BACKGROUNDS)
def test_theme_text_and_captions_reach_aa_contrast(where):
    theme, bg = _theme(), BACKGROUNDS[where]
    assert contrast(theme["textColor"], bg) >= 7.0
    caption = blend(theme["textColor"], bg, 0.6)  # st.caption and secondary text: textColor at 60%
    assert contrast(caption, bg) >= 4.5, f"didascalie {caption} su {bg}: {contrast(caption, bg):.2f}:1"


def test_theme_accent_reaches_aa_contrast_on_white_and_on_its_own_tint():
    primary = _theme()["primaryColor"]
    assert contrast(primary, "#ffffff") >= 4.5
    tint = blend(primary, "#ffffff", 0.1)  # a selected segmented-control option: primary text on a 10% tint
    assert contrast(primary, tint) >= 4.5, f"{primary} su {tint}: {contrast(primary, tint):.2f}:1"
    code = blend(_theme()["codeTextColor"], "#fdfdfd", 0.6)  # `code` in a caption: at the caption's 60% too
    assert contrast(code, "#fdfdfd") >= 4.5, f"codice {code}: {contrast(code, '#fdfdfd'):.2f}:1"


@pytest.mark.parametrize("stato", [*assemblea.STATUS_STYLE, "senza obiettivo"])
def test_assemblea_status_badge_text_reaches_aa_contrast(stato):
    background, text = assemblea.STATUS_STYLE.get(stato, assemblea.NEUTRAL_STYLE)
    assert contrast(text, background) >= 4.5


# --- colour-vision deficiencies ----------------------------------------------------------------------


def test_the_simulation_tells_red_and_green_apart_only_with_normal_vision():
    """The check itself: the old red / green of the LEPS bars merge for a deuteranope."""
    red_green = {"rosso": "#c62828", "verde": "#2e7d32"}
    assert float(deltaE(simulate("#c62828", None), simulate("#2e7d32", None), input_space="sRGB1")) > 40
    assert closest_pair(red_green)[0] < MIN_DELTA_E


def test_assemblea_status_colours_stay_apart():
    colours = {s: bg for s, (bg, _) in assemblea.STATUS_STYLE.items()} | {"senza": assemblea.NEUTRAL_STYLE[0]}
    distance, pair = closest_pair(colours)
    assert distance >= MIN_DELTA_E, pair


def test_leps_bars_stay_apart_as_drawn():
    """The residents-per-social-worker bars: within the objective, beyond it, beyond the LEPS limit."""
    values = pl.DataFrame({"nome": ["A", "B", "C"], "valore": [5200.0, 4500.0, 3800.0], "soppresso": [False] * 3})
    drawn = list(charts.residents_per_worker(values).data[0].marker.color)  # sorted: C, B, A
    assert len(set(drawn)) == 3
    distance, pair = closest_pair(dict(zip(["entro l'obiettivo", "oltre l'obiettivo", "oltre il LEPS"], drawn)))
    assert distance >= MIN_DELTA_E, pair


def test_population_pyramid_sexes_stay_apart_as_drawn():
    pyramid = pl.DataFrame({"fascia": ["0–4", "0–4"], "da": [0, 0], "sesso": ["M", "F"], "residenti": [5, 6]})
    fig = charts.population_pyramid(pyramid)
    distance, pair = closest_pair({t.name: t.marker.color for t in fig.data})
    assert distance >= MIN_DELTA_E, pair


def test_trend_lines_differ_by_dash_or_marker_not_by_colour_alone():
    rows = pl.DataFrame(
        {
            "anno": [2023, 2024, 2025, 2026],
            "valore": [1.0, None, 3.0, 3.5],
            "soppresso": [False, True, False, False],
            "parziale": [False, False, False, True],
        }
    )
    fig = charts.trend(rows, "%", baseline=2.0, targets={2025: 2.5, 2027: 4.0}, projection=(4.2, 3.8, 4.6))
    cues = {}
    for t in fig.data:
        line = (t.line.dash or "solid") if t.mode and "lines" in t.mode else None
        marker = (t.marker.symbol or "circle") if t.mode and "markers" in t.mode else None
        fill = t.fill
        cues[t.name] = (line, marker, fill, t.marker.color if t.name == "Anno in corso (parziale)" else None)
    assert len(cues) == 7  # value, n.p., partial year, baseline, objective, projection and its interval
    assert len(set(cues.values())) == len(cues), cues  # every trace has its own non-colour cue


@pytest.mark.parametrize("n", sorted(palette.NEUTRAL_RAMPS))
def test_neutral_map_scale_keeps_its_order_of_lightness_for_everyone(n):
    """Values with no better or worse (residents) are drawn light to dark in one hue: the order must read
    for everyone, as lightness."""
    colours = palette.NEUTRAL_RAMPS[n]
    for kind in (None, *DEFICIENCIES):
        lightness = [float(cspace_convert(simulate(c, kind), "sRGB1", "CAM02-UCS")[0]) for c in colours]
        assert all(b < a for a, b in itertools.pairwise(lightness)), (n, kind, lightness)


def test_map_palette_classes_stay_apart():
    """The map classes of `indicators/palette.py` (every map, on screen and in the reports): every ramp,
    and the status classes with «senza obiettivo» and «n.p.», must stay apart for everyone."""
    for n, ramp in palette.RAMPS.items():
        if n > 1:
            distance, pair = closest_pair({f"classe {i}": c for i, c in enumerate(ramp)})
            assert distance >= MIN_DELTA_E, (n, pair)
    classes = {status: colour for status, _, colour in palette.STATUS_CLASSES}
    classes |= {"senza obiettivo": palette.NO_TARGET, "n.p.": palette.SUPPRESSED, "nessun dato": palette.NO_DATA}
    distance, pair = closest_pair(classes)
    assert distance >= MIN_DELTA_E, pair
