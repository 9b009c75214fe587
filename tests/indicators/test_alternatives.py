"""The text alternatives of the charts (indicators/alternatives.py) on literal frames, read by hand."""

from __future__ import annotations

import polars as pl

from indicators import alternatives


def test_trend_table_says_what_the_trend_chart_draws_year_by_year():
    rows = pl.DataFrame(
        {
            "anno": [2023, 2024, 2025, 2026],
            "valore": [1234.5, None, 12.25, 13.0],
            "soppresso": [False, True, False, False],
            "parziale": [False, False, False, True],
        }
    )
    table = alternatives.trend_table(
        rows, "giorni", baseline=40.0, targets={2025: 38.0, 2027: 30.0}, projection=(31.4, 25.0, 36.6)
    )
    assert table.to_dicts() == [
        {"Anno": "2023", "Valore": "1.234 giorni", "Piano (baseline e obiettivi)": "–", "Proiezione": "–"},
        {"Anno": "2024", "Valore": "n.p.", "Piano (baseline e obiettivi)": "baseline 40 giorni", "Proiezione": "–"},
        {
            "Anno": "2025",
            "Valore": "12 giorni",
            "Piano (baseline e obiettivi)": "obiettivo 38 giorni",
            "Proiezione": "–",
        },
        {
            "Anno": "2026",
            "Valore": "13 giorni (da inizio anno)",
            "Piano (baseline e obiettivi)": "–",
            "Proiezione": "–",
        },
        {
            "Anno": "2027",
            "Valore": "–",
            "Piano (baseline e obiettivi)": "obiettivo 30 giorni",
            "Proiezione": "31 giorni (tra 25 e 37)",
        },
    ]


def test_map_table_ranks_best_first_in_the_indicator_direction_np_and_missing_last():
    values = pl.DataFrame(
        {
            "territorio": ["019035", "019005", "019040", "019011"],
            "nome": ["Crema", "Bagnolo Cremasco", "Dovera", "Campagnola Cremasca"],
            "valore": [4.5, 2.0, None, None],
            "soppresso": [False, False, True, False],
        }
    )
    lower_is_better = alternatives.map_table(values, "%", "basso")
    assert lower_is_better.to_dicts() == [
        {"Posizione": "1", "Comune": "Bagnolo Cremasco", "Valore": "2,0%"},
        {"Posizione": "2", "Comune": "Crema", "Valore": "4,5%"},
        {"Posizione": "", "Comune": "Dovera", "Valore": "n.p."},
        {"Posizione": "", "Comune": "Campagnola Cremasca", "Valore": "nessun dato"},
    ]
    assert alternatives.map_table(values, "%", "alto")["Comune"].to_list()[:2] == ["Crema", "Bagnolo Cremasco"]
    assert alternatives.map_table(values, "%", level="sub_ambito").columns == ["Posizione", "Sub-ambito", "Valore"]


def test_pyramid_table_by_age_band_youngest_first():
    pyramid = pl.DataFrame(
        {
            "fascia": ["5–9", "0–4", "0–4", "5–9"],
            "da": [5, 0, 0, 5],
            "sesso": ["M", "F", "M", "F"],
            "residenti": [703, 541, 562, 1632],
        }
    )
    assert alternatives.pyramid_table(pyramid).to_dicts() == [
        {"Fascia d'età": "0–4", "Maschi": "562", "Femmine": "541", "Totale": "1.103"},
        {"Fascia d'età": "5–9", "Maschi": "703", "Femmine": "1.632", "Totale": "2.335"},
    ]


def test_equipe_table_sums_fte_by_sub_ambito_and_profile_with_italian_labels():
    staff = pl.DataFrame(
        {
            "sub_ambito": ["SA1", "SA1", "SA1", "SA2"],
            "profilo": ["ASSISTENTE_SOCIALE", "ASSISTENTE_SOCIALE", "EDUCATORE", "ASSISTENTE_SOCIALE"],
            "fte": [9.9, 0.5, 1.25, 3.0],
        }
    )
    assert alternatives.equipe_table(staff).to_dicts() == [
        {"Sub-ambito": "SA1", "Assistenti sociali (FTE)": "10,4", "Educatori (FTE)": "1,2", "Totale (FTE)": "11,7"},
        {"Sub-ambito": "SA2", "Assistenti sociali (FTE)": "3,0", "Educatori (FTE)": "0,0", "Totale (FTE)": "3,0"},
    ]


def test_per_worker_table_judges_against_the_leps_limit_and_the_objective():
    values = pl.DataFrame(
        {
            "nome": ["Crema", "Adda - Pandino", "Sud", "Nord"],
            "valore": [3900.0, 5001.0, 4500.0, None],
            "soppresso": [False, False, False, True],
        }
    )
    assert alternatives.per_worker_table(values).to_dicts() == [
        {
            "Territorio": "Crema",
            "Residenti per assistente sociale": "3.900",
            "Rispetto al LEPS": "entro l'obiettivo del Piano",
        },
        {
            "Territorio": "Sud",
            "Residenti per assistente sociale": "4.500",
            "Rispetto al LEPS": "entro il LEPS, non ancora all'obiettivo (1 ogni 4.000)",
        },
        {
            "Territorio": "Adda - Pandino",
            "Residenti per assistente sociale": "5.001",
            "Rispetto al LEPS": "oltre il LEPS (1 ogni 5.000)",
        },
        {"Territorio": "Nord", "Residenti per assistente sociale": "n.p.", "Rispetto al LEPS": "–"},
    ]
