"""One colour rule for every map, on screen and in the reports: «meglio» is always blue, «peggio» always orange.

Pure Python (no plotly, no matplotlib): the dashboard maps (`indicators/maps.py`) and the report
images call the same function, so a comune has the same colour and the same legend entry everywhere.

    classes = map_classes(values, direzione, thresholds=soglie, statuses=stati, suppressed=soppressi)
    classes.colours[i], classes.keys[i]   # per territory
    classes.legend                        # LegendEntry(key, label, colour, count), better first, then
                                          # «senza obiettivo», «n.p.», «nessun dato»

The classes, in order of precedence:

1. **Thresholds** (`soglie` of the catalog, e.g. the LEPS limit of 5.000 residents per social worker):
   one class per interval; a value equal to a threshold is on its better side.
2. **Status against the plan** (`stato` of `indicator_table`, each territory against its reference
   plan): raggiunto, in linea, a rischio, non in linea.
3. **Quartiles** of the published values, when the indicator has neither.

Orange and blue stay apart for the common colour-vision deficiencies (ColorBrewer RdBu/PuOr
family); the dark ends differ in lightness too, so the order reads in greyscale. «n.p.»
(suppressed) is a mid grey and «nessun dato» has no fill: never a colour of the scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indicators import fmt as _fmt

WORSE_DARK = "#b35806"
WORSE_LIGHT = "#f1a340"
NEUTRAL = "#e7d9b0"
BETTER_LIGHT = "#92c5de"
BETTER_DARK = "#2166ac"
NO_TARGET = "#c8bfe0"  # a published value with no plan to compare it with (status classes only)
SUPPRESSED = "#8c8c8c"  # n.p.
NO_DATA = "#ffffff"  # nessun dato: drawn without fill, outlined
NO_DATA_OUTLINE = "#8c8c8c"

# From worse to better, by number of classes.
RAMPS: dict[int, tuple[str, ...]] = {
    1: (BETTER_LIGHT,),
    2: (WORSE_DARK, BETTER_DARK),
    3: (WORSE_DARK, WORSE_LIGHT, BETTER_DARK),
    4: (WORSE_DARK, WORSE_LIGHT, BETTER_LIGHT, BETTER_DARK),
    5: (WORSE_DARK, WORSE_LIGHT, NEUTRAL, BETTER_LIGHT, BETTER_DARK),
}
MAX_THRESHOLDS = len(RAMPS) - 1
# Values with no better or worse (residents, for context): one hue, light = low.
NEUTRAL_RAMPS: dict[int, tuple[str, ...]] = {  # the lightest stays well away from white (nessun dato)
    1: ("#9e9ac8",),
    2: ("#c6c3e0", "#6a51a3"),
    3: ("#c6c3e0", "#8f88c2", "#5a3d99"),
    4: ("#c6c3e0", "#9e9ac8", "#756bb1", "#4a1f87"),
}

KEY_NP = "np"
KEY_NO_DATA = "nessun_dato"
KEY_NO_TARGET = "senza_obiettivo"
STATUS_CLASSES = (  # better first: (status, legend label, colour)
    ("raggiunto", "obiettivo finale raggiunto", BETTER_DARK),
    ("in linea", "in linea con il percorso", BETTER_LIGHT),
    ("a rischio", "a rischio", WORSE_LIGHT),
    ("non in linea", "non in linea", WORSE_DARK),
)
LABEL_NP = f"{_fmt.SUPPRESSED}: dato non pubblicabile"
LABEL_NO_DATA = "nessun dato"
LABEL_NO_TARGET = "senza obiettivo"

METHOD_THRESHOLDS = "soglie"
METHOD_STATUS = "stato"
METHOD_QUANTILES = "quartili"


@dataclass(frozen=True)
class Threshold:
    """A cut point with a name that reads after «entro» / «oltre» / «raggiunge» / «sotto»."""

    value: float
    name: str


@dataclass(frozen=True)
class LegendEntry:
    key: str
    label: str
    colour: str
    count: int
    outline: str | None = None  # drawn outlined, without fill (nessun dato)


@dataclass(frozen=True)
class Classes:
    """Per territory (in the order given): class key and colour; the legend; how the classes were made."""

    keys: tuple[str, ...]
    colours: tuple[str, ...]
    legend: tuple[LegendEntry, ...]
    method: str
    title: str


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _special_keys(values: Sequence[float | None], suppressed: Sequence[bool] | None) -> list[str | None]:
    hidden = list(suppressed) if suppressed is not None else [False] * len(values)
    return [KEY_NP if h else (KEY_NO_DATA if _missing(v) else None) for v, h in zip(values, hidden)]


def _special_legend(keys: Sequence[str]) -> list[LegendEntry]:
    """«n.p.» and «nessun dato» are always in the legend (a reader learns the convention once)."""
    return [
        LegendEntry(KEY_NP, LABEL_NP, SUPPRESSED, keys.count(KEY_NP)),
        LegendEntry(KEY_NO_DATA, LABEL_NO_DATA, NO_DATA, keys.count(KEY_NO_DATA), outline=NO_DATA_OUTLINE),
    ]


def _colour_of(legend: Sequence[LegendEntry]) -> dict[str, str]:
    return {e.key: e.colour for e in legend}


def classify(
    values: Sequence[float | None],
    direzione: str,
    thresholds: Sequence[Threshold] = (),
    suppressed: Sequence[bool] | None = None,
    number: Callable[[float], str] | None = None,
) -> Classes:
    """Classes by thresholds (when given) or by quartiles of the published values, worse = orange.

    `direzione`: 'alto' (higher is better), 'basso', or None for values that are neither better nor
    worse (residents: one neutral hue, light = low, never blue or orange). `number`: how a value is
    written in the legend (default: Italian, one decimal below 1.000).
    """
    number = number or (lambda v: _fmt.number(v, 0 if abs(v) >= 1000 else (1 if v != int(v) else 0)))
    if direzione not in ("alto", "basso", None):
        raise ValueError(f"direzione non valida: {direzione!r} (alto o basso)")
    if direzione is None and thresholds:
        raise ValueError("le soglie richiedono una direzione (alto o basso)")
    keys = _special_keys(values, suppressed)
    shown = [float(v) for v, k in zip(values, keys) if k is None]
    higher_better = direzione == "alto"
    cuts = sorted({float(t.value) for t in thresholds})
    names = {float(t.value): t.name for t in thresholds}
    if cuts:
        if len(cuts) > MAX_THRESHOLDS:
            raise ValueError(f"al massimo {MAX_THRESHOLDS} soglie per indicatore")
        method, title = METHOD_THRESHOLDS, "Rispetto alle soglie"
    else:
        cuts = _quartile_cuts(shown)
        method, title = METHOD_QUANTILES, "Quarti dei valori" if len(cuts) >= 3 else "Valori"
    n = len(cuts) + 1
    ramp = RAMPS[n] if direzione else NEUTRAL_RAMPS[n]  # worse -> better (neutral: low -> high)
    higher_better = higher_better or direzione is None

    def rank(v: float) -> int:
        """Position from worse (0) to better (n-1); a value on a threshold is on its better side."""
        if higher_better:
            return sum(1 for c in cuts if v >= c)
        return n - 1 - sum(1 for c in cuts if v > c)

    class_keys = [f"c{i}" for i in range(n)]
    out_keys = [k if k is not None else class_keys[rank(float(v))] for v, k in zip(values, keys)]
    labels = (
        _threshold_labels(cuts, names, higher_better, number)
        if method == METHOD_THRESHOLDS
        else _range_labels(cuts, shown, higher_better, number)
    )
    legend = [LegendEntry(class_keys[i], labels[i], ramp[i], out_keys.count(class_keys[i])) for i in range(n)][::-1]
    legend += _special_legend(out_keys)
    colour = _colour_of(legend)
    return Classes(tuple(out_keys), tuple(colour[k] for k in out_keys), tuple(legend), method, title)


def _quartile_cuts(shown: list[float]) -> list[float]:
    """Distinct quartile boundaries of the published values (fewer when values repeat)."""
    if len(set(shown)) < 2:
        return []
    s = sorted(shown)

    def q(p: float) -> float:  # linear interpolation between order statistics (type 7)
        pos = p * (len(s) - 1)
        lo = math.floor(pos)
        return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)

    cuts = sorted({q(0.25), q(0.5), q(0.75)})
    return [c for c in cuts if s[0] < c <= s[-1]] or [q(0.5)]


def _threshold_labels(cuts: list[float], names: dict[float, str], higher_better: bool, number) -> list[str]:
    """Worse first: «oltre limite LEPS (> 5.000)», «entro limite LEPS (≤ 5.000)», «entro obiettivo (≤ 4.000)»."""
    if higher_better:  # classes [-inf, c0), [c0, c1), ..., [c_last, inf)
        return [f"sotto {names[cuts[0]]} (< {number(cuts[0])})"] + [
            f"raggiunge {names[c]} (≥ {number(c)})" for c in cuts
        ]
    # lower is better: classes (c_last, inf), (c_{last-1}, c_last], ..., (-inf, c0]
    return [f"oltre {names[cuts[-1]]} (> {number(cuts[-1])})"] + [
        f"entro {names[c]} (≤ {number(c)})" for c in reversed(cuts)
    ]


def _range_labels(cuts: list[float], shown: list[float], higher_better: bool, number) -> list[str]:
    """Worse first, each class as the range of values it holds."""
    if not cuts:
        return [f"{number(shown[0])}" if shown else "valori"]
    n = len(cuts) + 1
    if higher_better:  # value order = worse to better: [min, c0), [c0, c1), ..., [c_last, max]
        return (
            ["sotto " + number(cuts[0])]
            + [f"da {number(cuts[i - 1])} a meno di {number(cuts[i])}" for i in range(1, n - 1)]
            + [f"{number(cuts[-1])} e oltre"]
        )
    # lower is better: value order [min, c0], (c0, c1], ..., (c_last, max] is better to worse
    by_value = (
        ["fino a " + number(cuts[0])]
        + [f"oltre {number(cuts[i - 1])} e fino a {number(cuts[i])}" for i in range(1, n - 1)]
        + [f"oltre {number(cuts[-1])}"]
    )
    return by_value[::-1]


def classify_status(
    statuses: Sequence[str | None],
    suppressed: Sequence[bool] | None = None,
    values: Sequence[float | None] | None = None,
) -> Classes:
    """Classes by status against the plan (`stato`), better first; n.p. and nessun dato apart."""
    values = (
        list(values) if values is not None else [0.0 if s not in (None, "non calcolabile") else None for s in statuses]
    )
    keys = _special_keys(values, suppressed)
    known = {s for s, _, _ in STATUS_CLASSES}
    out_keys = [k if k is not None else (s if s in known else KEY_NO_TARGET) for s, k in zip(statuses, keys)]
    legend = [LegendEntry(s, label, colour, out_keys.count(s)) for s, label, colour in STATUS_CLASSES]
    if KEY_NO_TARGET in out_keys:
        legend.append(LegendEntry(KEY_NO_TARGET, LABEL_NO_TARGET, NO_TARGET, out_keys.count(KEY_NO_TARGET)))
    legend += _special_legend(out_keys)
    colour = _colour_of(legend)
    return Classes(
        tuple(out_keys),
        tuple(colour[k] for k in out_keys),
        tuple(legend),
        METHOD_STATUS,
        "Stato rispetto all'obiettivo",
    )


def map_classes(
    values: Sequence[float | None],
    direzione: str,
    thresholds: Sequence[Threshold] = (),
    statuses: Sequence[str | None] | None = None,
    suppressed: Sequence[bool] | None = None,
    number: Callable[[float], str] | None = None,
) -> Classes:
    """The one rule: thresholds when the indicator has them, else the status against the plan when
    some published territory has one, else quartiles."""
    if thresholds:
        return classify(values, direzione, thresholds, suppressed, number)
    if statuses is not None:
        hidden = list(suppressed) if suppressed is not None else [False] * len(values)
        known = {c[0] for c in STATUS_CLASSES}
        if any(s in known for s, v, h in zip(statuses, values, hidden) if not h and not _missing(v)):
            return classify_status(statuses, suppressed, values)
    return classify(values, direzione, (), suppressed, number)
