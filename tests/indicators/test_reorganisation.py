"""What the «Riorganizzazione» page and the reports say (indicators/reorganisation.py), on literal inputs.

Every expected sentence and table cell is written out by hand from the literal results below.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from indicators import reorganisation as rio
from indicators.definitions import by_id
from tests.indicators.test_evaluation import sub_ambiti, table

DAYS = by_id()["org_accessi_giorni_presa_in_carico"]  # giorni, più basso è meglio
SHARE = replace(by_id()["anziani_sad_copertura_65"], unita="%", direzione="alto")


def _named(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(("Nome " + pl.col("sub_ambito")).alias("nome_sub_ambito"))


SUB = _named(sub_ambiti())  # 6 sub-ambiti, SA1 and SA2 pilots from 1 January 2025


def _result(**kw) -> dict:
    base = {
        "indicatore": DAYS.id,
        "effetto": -11.0,
        "ic_basso": -17.0,
        "ic_alto": -6.0,
        "livello_confidenza": 14 / 15,
        "p_value": 1 / 15,
        "p_minimo": 1 / 15,
        "n_assegnazioni": 15,
        "anni_prima": [2023, 2024],
        "anni_dopo": [2025],
        "avvertenze": [],
    }
    return base | kw


def test_reading_of_a_clear_estimate_for_a_mayor():
    lines = rio.pilot_reading(_result(), DAYS, SUB)
    assert lines == [
        "**Che cosa è cambiato.** Dal periodo prima dell'avvio (nel 2023–2024) a quello dopo (nel 2025), il valore "
        "nei comuni pilota è cambiato di 11 giorni in meno rispetto agli altri comuni: per questo indicatore (più "
        "basso è meglio) i comuni pilota sono andati **meglio** degli altri.",
        "**Quanto è sicuro.** Tenendo conto di quanto cambiano i territori anche senza pilota, l'effetto plausibile "
        "va da -17 giorni a -6 giorni (un intervallo così contiene l'effetto vero 93,3 volte su 100). L'intervallo "
        "non comprende lo zero.",
        "**p-value = 0,067**: se il pilota non avesse cambiato nulla, una differenza almeno così grande uscirebbe in "
        "1 dei 15 modi di scegliere 2 sub-ambiti pilota tra 6.",
    ]
    assert rio.verdict(_result(), DAYS.direzione) == "a favore dei pilota, netta"


def test_reading_of_an_uncertain_estimate_and_of_a_refusal():
    # +2,5 points on a share where higher is better, interval -1,0 .. +6,0, p = 6/15 = 0,4
    r = _result(effetto=2.5, ic_basso=-1.0, ic_alto=6.0, p_value=6 / 15)
    lines = rio.pilot_reading(r, SHARE, SUB)
    assert "è cambiato di 2,5% in più rispetto agli altri comuni" in lines[0] and "**meglio**" in lines[0]
    assert "va da -1,0% a +6,0%" in lines[1]
    assert lines[1].endswith("i dati sono compatibili anche con **nessun effetto** del pilota.")
    assert "uscirebbe in 6 dei 15 modi" in lines[2]
    assert rio.verdict(r, "alto") == "a favore dei pilota, ma non distinguibile dal caso"
    assert rio.verdict(r, "basso") == "a sfavore dei pilota, ma non distinguibile dal caso"
    refused = _result(effetto=None, ic_basso=None, ic_alto=None, p_value=None)
    assert rio.pilot_reading(refused, SHARE, SUB)[0].startswith("**La stima non è disponibile per questo indicatore.**")
    assert rio.verdict(refused, "alto") == "stima non disponibile"


def test_the_limit_of_the_design_in_words():
    # 2 of 6: 15 ways, the smallest p is 1/15; 3 of 6: 20 ways, but swapping the groups gives the same |effect|,
    # so the smallest p is 2/20 = 1/10
    assert rio.p_min_sentence(SUB).startswith(
        "Con 2 sub-ambiti pilota su 6 la prova più forte possibile è p = 1/15 (0,067): ci sono solo 15 modi"
    )
    three = _named(sub_ambiti({"SA1": "2025-01-01", "SA2": "2025-01-01", "SA3": "2025-01-01"}))
    assert rio.p_min_sentence(three).startswith("Con 3 sub-ambiti pilota su 6 la prova più forte possibile è p = 1/10")
    assert rio.p_min_sentence(_named(sub_ambiti({}))) is None
    assert rio.design_sentence(SUB) == (
        "Sub-ambiti pilota del nuovo modello (dal 01/01/2025): SA1 Nome SA1, SA2 Nome SA2. Confronto con gli altri: "
        "SA3 Nome SA3, SA4 Nome SA4, SA5 Nome SA5, SA6 Nome SA6."
    )


def test_sub_ambito_series_carry_the_group_and_hide_suppressed_values():
    rows = pl.DataFrame(
        {
            "indicatore": ["x"] * 4,
            "livello": ["sub_ambito"] * 3 + ["comune"],
            "territorio": ["SA1", "SA3", "SA2", "A"],
            "anno": [2025] * 4,
            "valore": [1.5, 2.0, 9.0, 7.0],
            "soppresso": [False, False, True, False],
            "parziale": [False] * 4,
        }
    )
    got = rio.sub_ambito_series(rows, SUB, "x")
    assert got.select("sub_ambito", "gruppo", "valore", "soppresso").rows() == [
        ("SA1", "pilota", 1.5, False),
        ("SA2", "pilota", None, True),
        ("SA3", "altri", 2.0, False),
    ]
    assert got["nome"].to_list() == ["Nome SA1", "Nome SA2", "Nome SA3"]


def test_overview_table_from_evaluate():
    # the literal table of test_evaluation: effect 3 (worked out there); p = 1/15
    results = rio.pilot_results(table().with_columns(pl.lit("x").alias("unita")), SUB)
    entries = {"prova_indicatore": replace(SHARE, id="prova_indicatore", nome="Prova")}
    shown = rio.pilot_overview_display(rio.pilot_overview(results, entries))
    row = shown.row(0, named=True)
    assert (row["Indicatore"], row["Unità"], row["Effetto stimato"], row["p-value"]) == ("Prova", "%", "+3,0", "0,067")
    assert row["Lettura"].startswith("a favore dei pilota")


def test_caseload_year_is_one_row_per_territory():
    load = pl.DataFrame(
        {
            "livello": ["ambito"] * 2 + ["sub_ambito"] * 2,
            "territorio": ["AMBITO"] * 2 + ["SA1"] * 2,
            "anno": [2025] * 4,
            "profilo": ["EQUIPE", "ASSISTENTE_SOCIALE"] * 2,
            "persone_in_carico": [300.0, 300.0, None, None],
            "fte": [3.0, 1.5, 2.0, 1.0],
            "casi_per_fte": [100.0, 200.0, None, None],
            "soppresso": [False, False, True, True],
            "residenti_per_as": [4000.0, 4000.0, 6000.0, 6000.0],
            "leps_max": [5000.0] * 4,
            "leps_obiettivo": [4000.0] * 4,
        }
    )
    rows = rio.caseload_year(load, 2025)
    assert rows.select("territorio", "per_fte_equipe", "per_as", "fte_as").rows() == [
        ("AMBITO", 100.0, 200.0, 1.5),
        ("SA1", None, None, 1.0),
    ]
    shown = rio.caseload_display(rows, {"AMBITO": "Ambito", "SA1": "SA1 Crema"})
    assert shown.row(1) == ("SA1 Crema", "n.p.", "2,0", "n.p.", "1,0", "n.p.", "6.000")
    # SA1 hidden: the highest load is not named; nobody published above the LEPS
    assert rio.caseload_sentence(rows, {}) is None


def test_trend_table_marks_hidden_group_means_and_the_partial_year():
    trends = pl.DataFrame(
        {
            "anno": [2024, 2024, 2025, 2025],
            "gruppo": ["pilota", "altri"] * 2,
            "valore": [1.0, None, 2.0, 3.0],
            "valori_nascosti": [0, 2, 0, 0],
            "periodo": ["prima", "prima", "anno parziale", "anno parziale"],
            "parziale": [False, False, True, True],
        }
    )
    series = pl.DataFrame(
        {
            "anno": [2024, 2025],
            "sub_ambito": ["SA1", "SA1"],
            "nome": ["Crema", "Crema"],
            "gruppo": ["pilota"] * 2,
            "valore": [1.0, 2.0],
            "soppresso": [False, False],
            "parziale": [False, True],
        },
        schema_overrides={"anno": pl.Int32},
    )
    shown = rio.trends_display(trends.with_columns(pl.col("anno").cast(pl.Int32)), series, "%")
    assert shown.columns == ["Anno", "Periodo", "Comuni pilota (media)", "Altri comuni (media)", "SA1 Crema (pilota)"]
    assert shown.rows() == [
        ("2024", "prima", "1,0", "n.p.", "1,0"),
        ("2025 (da inizio anno)", "anno parziale", "2,0", "3,0", "2,0"),
    ]


def test_start_marker_position():
    from indicators.reorganisation_charts import start_x

    assert start_x(date(2025, 1, 1)) == 2024.5
    assert round(start_x(date(2025, 7, 2)), 2) == 2025.0  # the middle of the year: on the point of 2025


def test_the_farthest_comune_in_words():
    per_comune = pl.DataFrame(
        {
            "comune": ["1", "2", "3"],
            "nome": ["Uno", "Due", "Tre"],
            "sub_ambito": ["SA1", "SA2", "SA2"],
            "minuti": [3.0, 12.5, None],
        }
    )
    summary = pl.DataFrame({"livello": ["ambito"], "territorio": ["AMBITO"], "residenti_oltre": [0]})
    names = {"SA2": "SA2 Pandino"}
    assert rio.farthest_sentence(per_comune, summary, names, 20) == (
        "Con la soglia di 20 minuti nessun residente è lontano dal proprio punto di accesso. Il comune più lontano è "
        "Due (SA2 Pandino): 12,5 minuti."
    )
    beyond = summary.with_columns(pl.lit(900).alias("residenti_oltre"))
    assert rio.farthest_sentence(per_comune, beyond, names, 10, sees_comuni=False, method=" (linea d'aria)") == (
        "Il comune più lontano è nel sub-ambito SA2 Pandino: 12,5 minuti (linea d'aria)."
    )
