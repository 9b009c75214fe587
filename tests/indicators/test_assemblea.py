"""indicators/assemblea.py on literal rows: which territory a slide shows, its words, the filters."""

from __future__ import annotations

import polars as pl

from indicators import api, assemblea

SAD = api.indicator("anziani_sad_copertura_65")  # comune, sub_ambito, ambito; higher is better
ORG = api.indicator("org_residenti_per_as")  # sub_ambito and ambito only; lower is better
ADI = api.indicator("poverta_adi_valutati_120gg")  # %

TERRITORIES = pl.DataFrame(
    {
        "comune": ["019035", "019005", "019040"],
        "nome": ["Crema", "Bagnolo Cremasco", "Dovera"],
        "sub_ambito": ["SA1", "SA1", "SA2"],
        "nome_sub_ambito": ["Crema", "Crema", "Adda - Pandino"],
    }
)
ALL = ("comune", "sub_ambito", "ambito")


def _row(entry, territorio: str, livello: str, valore, stato: str | None, soppresso: bool = False, **extra) -> dict:
    return {
        "indicatore": entry.id,
        "territorio": territorio,
        "livello": livello,
        "anno": 2025,
        "valore": valore,
        "soppresso": soppresso,
        "parziale": False,
        "stato": stato,
        "unita": entry.unita,
        "area": entry.area,
        "target_2027": extra.get("target_2027"),
        "proiezione_2027": None,
        "proiezione_min": None,
        "proiezione_max": None,
    }


TABLE = pl.DataFrame(
    [
        _row(SAD, "019035", "comune", 3.25, "in linea", target_2027=4.0),
        _row(SAD, "019005", "comune", None, "non calcolabile", soppresso=True, target_2027=4.0),
        _row(SAD, "SA1", "sub_ambito", 3.0, "a rischio", target_2027=4.0),
        _row(SAD, "AMBITO", "ambito", 2.8, "non in linea", target_2027=4.5),
        _row(ORG, "SA1", "sub_ambito", 4151.0, "raggiunto", target_2027=4312.0),
        _row(ORG, "AMBITO", "ambito", 4800.0, "a rischio", target_2027=4500.0),
        _row(ADI, "AMBITO", "ambito", 85.4, "in linea", target_2027=87.6),
    ]
)


def test_territory_options_follow_the_role_levels_in_order():
    options = assemblea.territory_options(TERRITORIES, ALL, "Ambito Cremasco")
    assert list(options) == ["AMBITO", "SA1", "SA2", "019005", "019035", "019040"]  # comuni by name
    assert options["019035"].label == "Comune di Crema" and options["019035"].sub_ambito == "SA1"
    assert options["SA2"].label == "Sub-ambito SA2 · Adda - Pandino"
    assert options["AMBITO"].label == "Ambito Cremasco"
    regione = assemblea.territory_options(TERRITORIES, ("sub_ambito", "ambito"), "Ambito Cremasco")
    assert list(regione) == ["AMBITO", "SA1", "SA2"]  # no comune for the Regione


def test_default_territory_prefers_the_own_comune_then_the_filters():
    options = assemblea.territory_options(TERRITORIES, ALL, "Ambito")
    assert assemblea.default_territory(options, "019040", "019035", "SA1") == "019040"
    assert assemblea.default_territory(options, None, None, "SA2") == "SA2"
    assert assemblea.default_territory(options, "015146", None, None) == "AMBITO"  # not an option: the ambito
    regione = assemblea.territory_options(TERRITORIES, ("sub_ambito", "ambito"), "Ambito")
    assert assemblea.default_territory(regione, None, "019035", None) == "AMBITO"


def test_a_comune_slide_shows_its_own_value_and_the_engine_status():
    crema = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["019035"]
    s = assemblea.slide(TABLE, SAD, 2025, crema, ALL)
    assert (s.value_territory, s.map_level, s.highlight) == ("019035", "comune", "019035")
    assert s.status == "in linea" and not s.is_behind and s.note is None
    assert s.value_text == "3,2 per 100 residenti 65+"  # 3,25 with one decimal, Italian
    assert s.target_text == "4,0 per 100 residenti 65+"
    assert s.value_territory_label == "Crema"
    assert s.reading.startswith("Nel 2025: 3,2 per 100 residenti 65+; obiettivo 2027: 4,0 per 100 residenti 65+")
    assert s.status_style == assemblea.STATUS_STYLE["in linea"]


def test_an_indicator_without_comune_values_shows_the_comune_s_sub_ambito_and_says_so():
    crema = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["019035"]
    s = assemblea.slide(TABLE, ORG, 2025, crema, ALL)
    assert (s.value_territory, s.map_level, s.highlight) == ("SA1", "sub_ambito", "SA1")
    assert s.value_text == "4.151 residenti per AS" and s.status == "raggiunto"
    assert s.value_territory_label == "Sub-ambito Crema"
    assert "non è calcolato per comune" in s.note and "sub-ambito Crema" in s.note


def test_a_suppressed_cell_reads_np_never_a_number():
    bagnolo = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["019005"]
    s = assemblea.slide(TABLE, SAD, 2025, bagnolo, ALL)
    assert s.is_suppressed and s.value_text == "n.p."
    assert s.status == "non calcolabile" and s.status_style == assemblea.NEUTRAL_STYLE
    assert "non pubblicabile (n.p.)" in s.reading


def test_no_row_is_no_data_and_the_regione_map_is_by_sub_ambito():
    dovera = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["019040"]
    s = assemblea.slide(TABLE, SAD, 2025, dovera, ALL)
    assert s.row is None and s.status == "nessun dato" and s.value_text == "nessun dato"
    assert s.reading == "Nel 2025: nessun dato." and s.target_text == "–"
    ambito = assemblea.territory_options(TERRITORIES, ("sub_ambito", "ambito"), "Ambito")["AMBITO"]
    r = assemblea.slide(TABLE, SAD, 2025, ambito, ("sub_ambito", "ambito"))
    assert (r.value_territory, r.map_level, r.highlight) == ("AMBITO", "sub_ambito", None)
    assert r.value_territory_label == "Ambito"


def test_slides_keep_catalog_order_and_filter_by_area_status_and_ids():
    ambito = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["AMBITO"]
    entries = [ADI, SAD, ORG]
    every = assemblea.slides(TABLE, entries, 2025, ambito, ALL)
    assert [s.entry.id for s in every] == [ADI.id, SAD.id, ORG.id]
    assert [s.status for s in every] == ["in linea", "non in linea", "a rischio"]
    behind = assemblea.slides(TABLE, entries, 2025, ambito, ALL, only_behind=True)
    assert [s.entry.id for s in behind] == [SAD.id, ORG.id]
    by_area = assemblea.slides(TABLE, entries, 2025, ambito, ALL, areas=["anziani", "organizzazione"])
    assert [s.entry.id for s in by_area] == [SAD.id, ORG.id]
    assert [s.entry.id for s in assemblea.slides(TABLE, entries, 2025, ambito, ALL, ids=[ORG.id])] == [ORG.id]
    assert assemblea.slides(TABLE, entries, 2025, ambito, ALL, areas=[]) == []


def test_map_caption_names_the_outlined_territory_without_promising_a_colour():
    crema = assemblea.territory_options(TERRITORIES, ALL, "Ambito")["019035"]
    s = assemblea.slide(TABLE, SAD, 2025, crema, ALL)
    assert assemblea.map_caption(s, "Crema") == (
        "Comuni, anno 2025: colori, n.p. (non pubblicabile) e nessun dato nella legenda. Contorno evidenziato: Crema."
    )
