"""indicator_table (one function for every consumer), catalog() and scheda()."""

from __future__ import annotations

import polars as pl
import pytest

from etl import targets as target_writer
from indicators import api
from indicators.definitions import by_id
from indicators.engine import COLUMNS
from tests.indicators.conftest import BAGNOLO, CREMA, DOVERA, add, cell


def set_target(con, *args) -> None:
    target_writer.set_target(con, *args, catalog=by_id())


def _data(con):
    # SAD 65+ (persons):   2024: Crema 5, Bagnolo 1, SA1 6, Dovera 1, SA2 1, AMBITO 7
    #                      2025: Crema 6, Bagnolo 0, SA1 6, Dovera 1, SA2 1, AMBITO 7
    for i in range(5):
        add(con, f"c{i}", "SAD", "2024-01-01")
    add(con, "c5", "SAD", "2025-01-01", "2025-12-31")
    add(con, "b0", "SAD", "2024-06-01", "2024-12-31", comune=BAGNOLO)
    add(con, "d0", "SAD", "2024-03-01", "2024-05-01", comune=DOVERA)
    add(con, "d9", "SAD", "2025-12-31", comune=DOVERA)  # the latest data_inizio: 2025 is complete


def test_columns_metadata_and_audiences(con):
    _data(con)
    uff = api.indicator_table(con, "ufficio")
    assert tuple(uff.columns[: len(COLUMNS)]) == COLUMNS
    for c in (
        "baseline",
        "obiettivo",
        "obiettivo_finale",
        "atteso",
        "stato",
        "proiezione_2027",
        "proiezione_min",
        "proiezione_max",
        "obiettivo_atteso",
        "nome",
        "unita",
        "direzione",
        "nome_area",
        "k",
    ):
        assert c in uff.columns, c
    r = cell(uff, "anziani_sad_copertura_65", "SA1", 2025)
    assert r["nome"].startswith("Copertura") and r["unita"] == "per 100 residenti 65+" and r["direzione"] == "alto"
    assert r["numeratore"] == 6 and r["valore"] == pytest.approx(6 / 1200 * 100)
    assert r["parziale"] is False
    assert uff["soppresso"].sum() == 0
    pub = api.indicator_table(con, "pubblico")
    assert pub.height == uff.height
    assert cell(pub, "anziani_sad_copertura_65", DOVERA, 2025)["soppresso"] is True
    assert cell(pub, "anziani_sad_copertura_65", DOVERA, 2025)["valore"] is None
    assert cell(uff, "anziani_sad_copertura_65", DOVERA, 2025)["numeratore"] == 1
    with pytest.raises(ValueError, match="Pubblico sconosciuto"):
        api.indicator_table(con, "sindaci")


def test_targets_reach_the_table_and_public_baseline_is_protected(con):
    _data(con)
    set_target(con, "anziani_sad_copertura_65", "SA1", 2024, "BASELINE", 0.5)
    set_target(con, "anziani_sad_copertura_65", "SA1", 2027, "TARGET", 0.8)
    set_target(con, "anziani_sad_copertura_65", "AMBITO", 2024, "BASELINE", 0.3)
    set_target(con, "anziani_sad_copertura_65", "AMBITO", 2027, "TARGET", 0.4)
    uff = api.indicator_table(con, "ufficio")
    r = cell(uff, "anziani_sad_copertura_65", "SA1", 2025)
    # SA1 2025: 6 / 1200 * 100 = 0.5; E = 0.5 + 1/3 * (0.8 - 0.5) = 0.6; tolerance 0.5 * 0.1 = 0.05 -> non in linea
    assert r["valore"] == pytest.approx(0.5)
    assert r["baseline"] == 0.5 and r["obiettivo_finale"] == 0.8 and r["atteso"] == pytest.approx(0.6)
    assert r["stato"] == "non in linea"
    # Crema has no plan of its own: it is read on SA1's line, 6 / 1000 * 100 = 0.6 = E -> in linea
    crema = cell(uff, "anziani_sad_copertura_65", CREMA, 2025)
    assert (crema["stato"], crema["riferimento"], crema["territorio_riferimento"]) == ("in linea", "sub_ambito", "SA1")
    assert crema["baseline"] == 0.5 and crema["atteso"] == pytest.approx(0.6)
    # SA2 has none either: the ambito's path, E = 0.3 + 1/3 * 0.1; 1 / 400 * 100 = 0.25 -> non in linea
    assert cell(uff, "anziani_sad_copertura_65", "SA2", 2025)["riferimento"] == "ambito"
    # AMBITO 2025: 7 / 1600 * 100 = 0.4375 >= T 0.4 -> raggiunto
    assert cell(uff, "anziani_sad_copertura_65", "AMBITO", 2025)["stato"] == "raggiunto"
    pub = api.indicator_table(con, "pubblico")
    # Public: Dovera = SA2 = 1 hide SA2, so AMBITO = SA1 + SA2 hides SA1 in both years; a hidden value gives
    # "non calcolabile", and the SA1 baseline (the 2024 value, hidden) is neither shown nor used
    # (its 2024 cell is suppressed): SA1 and its comuni are read on the ambito's path instead.
    sa1 = cell(pub, "anziani_sad_copertura_65", "SA1", 2025)
    assert sa1["soppresso"] is True and sa1["stato"] == "non calcolabile" and sa1["baseline"] == 0.3
    assert sa1["territorio_riferimento"] == "AMBITO" and sa1["riferimento"] is None  # no status: no reference
    assert 0.5 not in pub["baseline"].to_list()
    # SA1 hidden and Bagnolo's 0 published (zeros are never hidden): Crema's 6 would give SA1 back, so hidden too
    crema = cell(pub, "anziani_sad_copertura_65", CREMA, 2025)
    assert (crema["soppresso"], crema["stato"], crema["riferimento"]) == (True, "non calcolabile", None)
    # Bagnolo (0, published) has no plan and SA1's is unusable: the ambito's path, E = 0.3 + 1/3 * 0.1 -> non in linea
    bagnolo = cell(pub, "anziani_sad_copertura_65", BAGNOLO, 2025)
    assert (bagnolo["soppresso"], bagnolo["stato"], bagnolo["riferimento"]) == (False, "non in linea", "ambito")
    assert sa1["atteso"] is None or abs(sa1["atteso"] - 0.6) > 1e-9  # 0.6 = B + 1/3 (0.8 - B) gave B = 0.5
    assert cell(pub, "anziani_sad_copertura_65", "SA1", 2024)["soppresso"] is True
    amb = cell(pub, "anziani_sad_copertura_65", "AMBITO", 2025)
    assert amb["soppresso"] is False and amb["baseline"] == 0.3 and amb["stato"] == "raggiunto"


def test_catalog_accessor_and_scheda(con):
    entries = api.catalog()
    assert {e.id for e in entries} >= {"org_residenti_per_as", "lavoro_tirocini_assunzione"}
    assert api.indicator("org_residenti_per_as").unita == "residenti per AS"
    with pytest.raises(KeyError):
        api.indicator("inesistente")
    text = api.scheda("giovani_adm_minori_1000")
    for part in (
        "# Minori seguiti con assistenza domiciliare (ADM)",
        "**Numeratore**",
        "**Denominatore**",
        "per 1.000 residenti 0-17",
        "più alto è meglio",
        "comune, sub-ambito, ambito",
        "Segreto statistico (k)**: 5",
        "in linea",
        "a rischio",
        "proiezione",
    ):
        assert part in text, part
    assert "Baseline e obiettivi" not in text
    set_target(con, "org_residenti_per_as", "AMBITO", 2027, "TARGET", 4000)
    with_con = api.scheda("org_residenti_per_as", con)
    assert "| AMBITO | 2027 | TARGET | 4000,00 |" in with_con
    assert "non si applica" in with_con  # no disclosure control for staff ratios


def test_every_indicator_has_rows_at_its_levels(con):
    _data(con)
    uff = api.indicator_table(con, "ufficio")
    for e in api.catalog():
        levels = set(uff.filter(pl.col("indicatore") == e.id)["livello"])
        assert levels == set(e.livelli), e.id


def test_plan_rows_and_save_plan_rows(con, wh_path):
    empty = api.plan_rows(con, "anziani_sad_copertura_65", "SA1")
    assert empty.rows() == [
        (2024, "BASELINE", None),
        (2025, "TARGET", None),
        (2026, "TARGET", None),
        (2027, "TARGET", None),
    ]
    con.close()  # save_plan_rows opens the warehouse for writing by itself
    edited = pl.DataFrame(
        {
            "anno": [2024, 2025, 2026, 2027],
            "tipo": ["BASELINE", "TARGET", "TARGET", "TARGET"],
            "valore": [1.0, None, float("nan"), 2.0],
        }
    )
    assert api.save_plan_rows(wh_path, "anziani_sad_copertura_65", "SA1", edited) == []
    bad = pl.DataFrame({"anno": [2024, 2027], "tipo": ["BASELINE", "TARGET"], "valore": ["3", "-1"]})
    errors = api.save_plan_rows(wh_path, "anziani_sad_copertura_65", "SA1", bad)
    assert len(errors) == 1 and "2027 TARGET" in errors[0] and "negativi" in errors[0]  # nothing written
    cleared = pl.DataFrame({"anno": [2027], "tipo": ["TARGET"], "valore": ["2,5"]})
    assert api.save_plan_rows(wh_path, "anziani_sad_copertura_65", "SA1", cleared) == []
    from core import warehouse

    with warehouse.reader(wh_path) as ro:
        rows = api.plan_rows(ro, "anziani_sad_copertura_65", "SA1").rows()
    assert rows == [(2024, "BASELINE", 1.0), (2025, "TARGET", None), (2026, "TARGET", None), (2027, "TARGET", 2.5)]


def test_target_columns_and_status_rule_text(con):
    _data(con)
    set_target(con, "anziani_sad_copertura_65", "AMBITO", 2026, "TARGET", 0.45)
    uff = api.indicator_table(con, "ufficio")
    r = cell(uff, "anziani_sad_copertura_65", "AMBITO", 2025)
    assert (r["target_2025"], r["target_2026"], r["target_2027"]) == (None, 0.45, None)
    assert r["obiettivo_finale"] == 0.45  # no 2027 target: the latest one
    text = api.status_rule_text()
    assert "## Come si calcola lo stato" in text and "E = B + f × (T − B)" in text and "80%" in text


def test_dashboard_snapshot_holds_values_not_records(con, wh_path):
    """The dashboard's snapshot leaves the records out: same table, same dates, a clear refusal otherwise."""
    from datetime import date

    from core import warehouse
    from etl.queries import freshness
    from indicators import engine, profiles

    _data(con)
    con.execute("CHECKPOINT")
    expected = {a: api.indicator_table(con, audience=a) for a in api.AUDIENCES}
    dates = freshness(con)
    con.close()

    snap = warehouse.snapshot(wh_path, summarise=engine.publish_values)
    assert not warehouse.has_table(snap, "prestazioni")
    for audience, table in expected.items():
        assert api.indicator_table(snap, audience=audience).equals(table)
    assert cell(expected["ufficio"], "anziani_sad_copertura_65", CREMA, 2025)["numeratore"] == 6
    assert profiles.data_date(snap) == date(2025, 12, 31)
    assert freshness(snap).equals(dates)
    only = engine.indicator_values(snap, years=[2024], indicators=["anziani_sad_copertura_65"])
    assert set(only["anno"]) == {2024} and set(only["indicatore"]) == {"anziani_sad_copertura_65"}
    with pytest.raises(ValueError, match="al 31/12/2025"):
        engine.indicator_values(snap, as_of=date(2025, 6, 30))
