"""The Panoramica's table as Italian text, on literal rows: the unit once in the indicator's cell,
numbers without it (the table fits at 768 px), a percentage's change in points."""

from __future__ import annotations

import polars as pl

from indicators import views


def _rows() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "nome": "Nuclei in carico per povertà",
                "unita": "per 1.000 residenti",
                "stato": "in linea",
                "soppresso": False,
                "valore": 3.64,
                "variazione": 0.21,
                "target_2027": 3.8,
                "proiezione_2027": 4.44,
                "riferimento": "ambito",
            },
            {
                "nome": "Valutazioni ADI entro 120 giorni",
                "unita": "%",
                "stato": "raggiunto",
                "soppresso": False,
                "valore": 85.71,
                "variazione": 17.5,
                "target_2027": 75.6,
                "proiezione_2027": 100.0,
                "riferimento": "ambito",
            },
            {
                "nome": "Attesa per la valutazione ADI (mediana)",
                "unita": "giorni",
                "stato": None,
                "soppresso": True,
                "valore": None,
                "variazione": -33.0,
                "target_2027": None,
                "proiezione_2027": None,
                "riferimento": None,
            },
        ]
    )


def test_the_unit_once_in_the_indicator_and_bare_numbers():
    shown = views.overview_display(_rows(), 2025)
    columns = ["Stato", "Indicatore", "Valore 2025", "Variazione sul 2024", "Obiettivo 2027", "Proiezione 2027"]
    assert shown.columns == columns
    assert shown.rows() == [
        ("🟢 in linea", "Nuclei in carico per povertà (per 1.000 residenti)", "3,6", "+0,2", "3,8", "4,4"),
        ("✅ raggiunto", "Valutazioni ADI entro 120 giorni", "85,7%", "+17,5 punti", "75,6%", "100,0%"),
        ("⚪ n.p.", "Attesa per la valutazione ADI (mediana) (giorni)", "n.p.", "−33", "–", "n.p."),
    ]
