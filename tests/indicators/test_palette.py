"""The one colour rule of the maps (indicators/palette.py): better = blue, worse = orange, whatever the direction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from indicators import palette
from indicators.palette import BETTER_DARK, BETTER_LIGHT, NO_DATA, SUPPRESSED, WORSE_DARK, WORSE_LIGHT, Threshold

LEPS = (Threshold(5000, "limite LEPS"), Threshold(4000, "obiettivo LEPS"))


def test_leps_thresholds_make_the_classes_and_above_5000_is_clearly_worse():
    values = [3500.0, 4000.0, 4500.0, 5000.0, 5200.0, None, None]
    suppressed = [False, False, False, False, False, True, False]
    c = palette.classify(values, "basso", LEPS, suppressed)
    assert c.method == "soglie"
    # a value on a threshold is on its better side: 4.000 meets the objective, 5.000 the limit
    assert c.keys == ("c2", "c2", "c1", "c1", "c0", "np", "nessun_dato")
    assert c.colours == (BETTER_DARK, BETTER_DARK, WORSE_LIGHT, WORSE_LIGHT, WORSE_DARK, SUPPRESSED, NO_DATA)
    assert [(e.label, e.colour, e.count) for e in c.legend] == [
        ("entro obiettivo LEPS (≤ 4.000)", BETTER_DARK, 2),
        ("entro limite LEPS (≤ 5.000)", WORSE_LIGHT, 2),
        ("oltre limite LEPS (> 5.000)", WORSE_DARK, 1),
        ("n.p.: dato non pubblicabile", SUPPRESSED, 1),
        ("nessun dato", NO_DATA, 1),
    ]
    assert c.legend[-1].outline is not None and c.legend[-2].outline is None  # no data: outlined, not filled


def test_higher_is_better_thresholds_read_the_other_way():
    c = palette.classify([0.5, 1.0, 2.0], "alto", [Threshold(1.0, "LEPS")])
    assert c.keys == ("c0", "c1", "c1") and c.colours == (WORSE_DARK, BETTER_DARK, BETTER_DARK)
    assert [e.label for e in c.legend[:2]] == ["raggiunge LEPS (≥ 1)", "sotto LEPS (< 1)"]


def test_quartiles_put_the_better_values_in_blue_in_both_directions():
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]  # quartiles (type 7): 2,75  4,5  6,25
    up = palette.classify(values, "alto")
    assert up.method == "quartili"
    assert up.keys == ("c0", "c0", "c1", "c1", "c2", "c2", "c3", "c3")
    assert up.colours[0] == WORSE_DARK and up.colours[-1] == BETTER_DARK and up.colours[4] == BETTER_LIGHT
    assert [e.label for e in up.legend[:4]] == [
        "6,2 e oltre",
        "da 4,5 a meno di 6,2",
        "da 2,8 a meno di 4,5",
        "sotto 2,8",
    ]
    down = palette.classify(values, "basso")
    assert down.colours[0] == BETTER_DARK and down.colours[-1] == WORSE_DARK  # low values are better
    assert [e.label for e in down.legend[:4]] == [
        "fino a 2,8",
        "oltre 2,8 e fino a 4,5",
        "oltre 4,5 e fino a 6,2",
        "oltre 6,2",
    ]
    assert palette.classify([3.0, 3.0, None], "alto").keys == ("c0", "c0", "nessun_dato")  # one value: one class


def test_status_classes_and_the_precedence_of_the_one_rule():
    statuses = ["raggiunto", "in linea", "a rischio", "non in linea", "non calcolabile", "senza obiettivo"]
    values = [9.0, 8.0, 7.0, 6.0, None, 5.0]
    suppressed = [False, False, False, False, True, False]
    c = palette.map_classes(values, "basso", statuses=statuses, suppressed=suppressed)
    assert c.method == "stato"
    assert c.keys == ("raggiunto", "in linea", "a rischio", "non in linea", "np", "senza_obiettivo")
    assert c.colours[:4] == (BETTER_DARK, BETTER_LIGHT, WORSE_LIGHT, WORSE_DARK)
    assert [e.key for e in c.legend] == [
        "raggiunto",
        "in linea",
        "a rischio",
        "non in linea",
        "senza_obiettivo",
        "np",
        "nessun_dato",
    ]
    # thresholds win over the status; without a judged territory, quartiles
    assert palette.map_classes(values, "basso", [Threshold(7.5, "soglia")], statuses, suppressed).method == "soglie"
    assert palette.map_classes(values, "alto", statuses=["senza obiettivo"] * 6).method == "quartili"


def test_the_palette_imports_no_drawing_library():
    tree = ast.parse(Path(palette.__file__).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"plotly", "matplotlib", "streamlit"}


def test_bad_direction_is_refused():
    with pytest.raises(ValueError, match="direzione"):
        palette.classify([1.0], "su")
