"""Proximity of the access points: road matrix, straight-line fallback (labelled), what-if, CLI.

The literal territory of conftest.py with Dovera moved to SA1:
    SA1 = Crema (4100 residents, 400 aged 75+), Bagnolo (1000, 50), Dovera (1000, 200): 6100, 650
    SA2 = Agnadello (1000, 0)
Sedi: H1 HUB in Crema (SA1), S1 SPOKE in Dovera (SA1), S2 SPOKE in Agnadello (SA2).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from core import warehouse
from indicators import proximity as px
from tests.indicators.conftest import AGNADELLO, BAGNOLO, CREMA, DOVERA, set_territory

REPO = Path(__file__).resolve().parents[2]

# (origine, destinazione, minuti, km): a hand-written road matrix
MATRIX = [
    (BAGNOLO, CREMA, 14.0, 10.0),
    (BAGNOLO, DOVERA, 9.0, 11.0),  # fewer minutes, more km: the nearest is by minutes
    (DOVERA, CREMA, 18.0, 14.0),
    (CREMA, DOVERA, 17.0, 13.0),
    (DOVERA, AGNADELLO, 7.0, 5.0),  # another sub-ambito: never a candidate for Dovera
    (BAGNOLO, AGNADELLO, 2.0, 1.0),  # ... nor for Bagnolo, though nearer than its own sedi
    (AGNADELLO, AGNADELLO, 3.0, 1.5),  # a pair inside the comune, given: used instead of 0
]


def _territory(con) -> None:
    set_territory(con)
    con.execute("UPDATE sub_ambiti SET sub_ambito = 'SA1' WHERE comune = ?", [DOVERA])


def _sede(con, id_: str, tipo: str, comune: str, sub: str, lat: float | None = None, lon: float | None = None):
    con.execute(
        "INSERT INTO sedi VALUES (?, ?, ?, ?, NULL, ?, ?, ?, 'test')", [id_, f"Sede {id_}", tipo, comune, lat, lon, sub]
    )


def _sedi(con) -> None:
    _sede(con, "H1", "HUB", CREMA, "SA1")
    _sede(con, "S1", "SPOKE", DOVERA, "SA1")
    _sede(con, "S2", "SPOKE", AGNADELLO, "SA2")


def _matrix(con, rows=MATRIX) -> None:
    for row in rows:
        con.execute("INSERT INTO distanze VALUES (?, ?, ?, ?, 'test')", list(row))


@pytest.fixture
def con(tmp_path):
    with warehouse.writer(tmp_path / "w.duckdb") as c:
        _territory(c)
        _sedi(c)
        yield c


def _by_comune(df: pl.DataFrame) -> dict[str, dict]:
    return {r["comune"]: r for r in df.iter_rows(named=True)}


# --- road matrix ---------------------------------------------------------------------------


def test_minutes_are_the_minimum_over_the_sedi_of_the_own_sub_ambito(con):
    _matrix(con)
    rows = _by_comune(px.nearest_access(con, soglia_minuti=8))
    # Crema: H1 in the comune (no pair: 0) vs S1 17 -> H1 0
    # Bagnolo: H1 14 vs S1 9 -> S1, 9 min, 11 km (S2 in Agnadello, 2 min, is in SA2)
    # Dovera: S1 in the comune (0) vs H1 18 -> S1 0 (Dovera -> Agnadello 7 is another sub-ambito)
    # Agnadello: S2, the pair inside the comune 3 min 1.5 km
    got = {c: (r["sede"], r["comune_sede"], r["tipo_sede"], r["minuti"], r["km"]) for c, r in rows.items()}
    assert got == {
        CREMA: ("H1", CREMA, "HUB", 0.0, 0.0),
        BAGNOLO: ("S1", DOVERA, "SPOKE", 9.0, 11.0),
        DOVERA: ("S1", DOVERA, "SPOKE", 0.0, 0.0),
        AGNADELLO: ("S2", AGNADELLO, "SPOKE", 3.0, 1.5),
    }
    assert {r["metodo"] for r in rows.values()} == {"matrice"}
    assert {c for c, r in rows.items() if r["oltre_soglia"]} == {BAGNOLO}  # 9 > 8
    assert not _by_comune(px.nearest_access(con, soglia_minuti=9))[BAGNOLO]["oltre_soglia"]  # beyond = strictly more
    assert (rows[BAGNOLO]["residenti"], rows[BAGNOLO]["residenti_75"]) == (1000, 50)


def test_summary_by_sub_ambito_and_ambito(con):
    _matrix(con)
    summary = {
        r["territorio"]: r for r in px.access_summary(px.nearest_access(con, soglia_minuti=8)).iter_rows(named=True)
    }
    sa1 = summary["SA1"]
    assert (sa1["residenti"], sa1["residenti_oltre"], sa1["residenti_75"], sa1["residenti_75_oltre"]) == (
        6100,
        1000,
        650,
        50,
    )
    assert sa1["quota_oltre"] == pytest.approx(1000 / 6100 * 100)
    assert sa1["quota_75_oltre"] == pytest.approx(50 / 650 * 100)
    assert sa1["minuti_medi"] == pytest.approx(9 * 1000 / 6100)  # weighted by residents
    assert (summary["SA2"]["residenti_oltre"], summary["SA2"]["quota_75_oltre"]) == (0, None)  # no one aged 75+
    amb = summary["AMBITO"]
    assert (amb["livello"], amb["residenti"], amb["residenti_oltre"], amb["comuni_oltre"]) == ("ambito", 7100, 1000, 1)
    assert amb["metodo"] == "matrice"
    # the default threshold (20 minutes): nobody beyond
    assert px.access_summary(px.nearest_access(con))["residenti_oltre"].to_list() == [0, 0, 0]


def test_reverse_pair_is_used_and_said(con):
    _matrix(con, [r for r in MATRIX if r[:2] != (BAGNOLO, DOVERA)] + [(DOVERA, BAGNOLO, 10.0, 11.5)])
    bagnolo = _by_comune(px.nearest_access(con))[BAGNOLO]
    assert (bagnolo["sede"], bagnolo["minuti"], bagnolo["km"], bagnolo["metodo"]) == ("S1", 10.0, 11.5, "matrice")
    assert bagnolo["nota"] == px.NOTE_REVERSE


def test_missing_pair_puts_the_whole_comune_in_straight_line_and_says_so(con, monkeypatch):
    monkeypatch.setattr(px, "centroids", lambda codes: CENTRES)
    _matrix(con, [r for r in MATRIX if BAGNOLO not in r[:2]] + [(BAGNOLO, DOVERA, 9.0, 11.0)])  # no pair with Crema
    rows = _by_comune(px.nearest_access(con, speed_kmh=40))
    bagnolo = rows[BAGNOLO]
    # never mixed: Bagnolo is computed in straight line for every sede (H1 5 km, S1 10 km -> H1)
    assert bagnolo["metodo"] == "linea_aria" and bagnolo["sede"] == "H1"
    assert bagnolo["km"] == pytest.approx(KM_PER_01_DEG * 0.5)  # 0.05 degrees
    assert bagnolo["nota"] == "la matrice non ha la coppia 019005 → 019035: comune stimato in linea d'aria"
    assert {c: r["metodo"] for c, r in rows.items() if c != BAGNOLO} == dict.fromkeys(
        [CREMA, DOVERA, AGNADELLO], "matrice"
    )
    notes = px.method_notes(px.nearest_access(con, speed_kmh=40))
    assert any("per 1 comuni la matrice non ha tutte le coppie" in n and "Bagnolo Cremasco" in n for n in notes)
    assert px.access_summary(px.nearest_access(con)).filter(pl.col("territorio") == "SA1")["metodo"].to_list() == [
        "misto"
    ]


def test_a_sub_ambito_without_sedi_is_beyond_the_threshold(con):
    con.execute("DELETE FROM sedi WHERE id_sede = 'S2'")
    agnadello = _by_comune(px.nearest_access(con))[AGNADELLO]
    assert agnadello["sede"] is None and agnadello["minuti"] is None and agnadello["oltre_soglia"] is True
    assert agnadello["nota"] == px.NOTE_NO_SEDE


# --- straight line (no matrix) -------------------------------------------------------------

# Centroids on one meridian, so the great-circle km are R * dlat: 0.1 degrees = 11.1195 km (KM_PER_01_DEG).
KM_PER_01_DEG = 6371.0088 * math.radians(0.1)
CENTRES = {CREMA: (45.30, 9.70), BAGNOLO: (45.35, 9.70), DOVERA: (45.45, 9.70), AGNADELLO: (45.60, 9.70)}


def test_straight_line_fallback_is_labelled_and_computed_from_the_centroids(con, monkeypatch):
    monkeypatch.setattr(px, "centroids", lambda codes: CENTRES)
    con.execute("UPDATE sedi SET lat = 45.32, lon = 9.70 WHERE id_sede = 'H1'")  # the hub's own position
    rows = _by_comune(px.nearest_access(con, soglia_minuti=10, speed_kmh=40))
    assert {r["metodo"] for r in rows.values()} == {"linea_aria"}
    # Crema -> H1 at 45.32: 0.02 deg; S1 (no position: Dovera's centroid) 0.15 deg -> H1
    # Bagnolo -> H1 0.03 deg; S1 0.10 deg -> H1;  Dovera -> S1 0 (its own centroid); H1 0.13 deg
    expected_km = {CREMA: 0.2, BAGNOLO: 0.3, DOVERA: 0.0, AGNADELLO: 0.0}
    for comune, tenths in expected_km.items():
        assert rows[comune]["km"] == pytest.approx(KM_PER_01_DEG * tenths), comune
        assert rows[comune]["minuti"] == pytest.approx(KM_PER_01_DEG * tenths / 40 * 60), comune
    assert (rows[BAGNOLO]["sede"], rows[DOVERA]["sede"]) == ("H1", "S1")
    notes = px.method_notes(px.nearest_access(con, speed_kmh=40))
    assert len(notes) == 1 and "linea d'aria" in notes[0] and "40 km/h" in notes[0] and "non tempi stradali" in notes[0]


def test_straight_line_on_the_real_boundaries_is_plausible(con):
    con.execute("DELETE FROM sedi WHERE id_sede <> 'H1'")  # SA1 reaches Crema only
    rows = _by_comune(px.nearest_access(con))
    # centre of Bagnolo Cremasco to centre of Crema: a few km (about 5), Dovera further (about 10)
    assert 2 < rows[BAGNOLO]["km"] < 8 and rows[BAGNOLO]["km"] < rows[DOVERA]["km"] < 15
    assert rows[BAGNOLO]["minuti"] == pytest.approx(rows[BAGNOLO]["km"] / 40 * 60)


# --- what if -------------------------------------------------------------------------------


def test_what_if_reduces_minutes_for_the_right_comuni_and_saves_nothing(con):
    _matrix(con)
    before = con.execute("SELECT count(*) FROM sedi").fetchall()
    result = px.what_if(con, ["Bagnolo Cremasco", "crema"], soglia_minuti=8)
    assert result.nuove_sedi == [BAGNOLO] and result.gia_con_sede == [CREMA]  # Crema already has H1
    diff = {
        r["comune"]: (r["minuti_prima"], r["minuti_dopo"], r["differenza_minuti"])
        for r in result.confronto.iter_rows(named=True)
    }
    assert diff == {
        CREMA: (0.0, 0.0, 0.0),
        BAGNOLO: (9.0, 0.0, -9.0),
        DOVERA: (0.0, 0.0, 0.0),
        AGNADELLO: (3.0, 3.0, 0.0),
    }
    after = _by_comune(result.dopo)[BAGNOLO]
    assert (after["sede"], after["ipotetica"], after["oltre_soglia"]) == ("IPOTESI_019005", True, False)
    sa1 = result.riepilogo.filter(pl.col("territorio") == "SA1").row(0, named=True)
    assert (sa1["residenti_oltre_prima"], sa1["residenti_oltre_dopo"], sa1["differenza_residenti_oltre"]) == (
        1000,
        0,
        -1000,
    )
    assert sa1["differenza_residenti_75_oltre"] == -50
    assert con.execute("SELECT count(*) FROM sedi").fetchall() == before


def test_what_if_in_straight_line_only_the_sub_ambito_of_the_new_spoke_changes(con, monkeypatch):
    monkeypatch.setattr(px, "centroids", lambda codes: CENTRES)
    con.execute("DELETE FROM sedi WHERE id_sede = 'S1'")  # SA1: only the hub in Crema
    result = px.what_if(con, ["019041"], speed_kmh=40)  # a spoke in Dovera (SA1)
    diff = {r["comune"]: r["differenza_minuti"] for r in result.confronto.iter_rows(named=True)}
    # Dovera: 0.15 deg from Crema -> 0 (its centroid); Bagnolo: Crema 0.05 < Dovera 0.10 -> unchanged
    assert diff[DOVERA] == pytest.approx(-KM_PER_01_DEG * 1.5 / 40 * 60)
    assert diff[BAGNOLO] == 0.0 and diff[CREMA] == 0.0 and diff[AGNADELLO] == 0.0


def test_what_if_unknown_comune_is_refused_in_italian(con):
    with pytest.raises(ValueError, match="«Milano» non è un comune dell'ambito"):
        px.what_if(con, ["Milano"])
    with pytest.raises(ValueError, match="Indicare almeno un comune"):
        px.what_if(con, [])


# --- the command line ----------------------------------------------------------------------

CONTRACT = [
    "comune",
    "sub_ambito",
    "sede",
    "comune_sede",
    "tipo_sede",
    "minuti",
    "km",
    "metodo",
    "residenti",
    "residenti_75",
    "oltre_soglia",
]


def _run(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indicators", "access", "--db", str(db), *args],
        cwd=REPO,
        env={**os.environ, "PDZ_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json_csv_what_if_and_errors(tmp_path):
    db = tmp_path / "w.duckdb"
    with warehouse.writer(db) as c:
        _territory(c)
        _sedi(c)
        _matrix(c)
    done = _run(db, "--soglia-minuti", "8")
    assert done.returncode == 0, done.stderr
    rows = {r["comune"]: r for r in json.loads(done.stdout)}
    assert list(rows[BAGNOLO])[: len(CONTRACT)] == CONTRACT
    assert {k: rows[BAGNOLO][k] for k in CONTRACT} == {
        "comune": BAGNOLO,
        "sub_ambito": "SA1",
        "sede": "S1",
        "comune_sede": DOVERA,
        "tipo_sede": "SPOKE",
        "minuti": 9,
        "km": 11,
        "metodo": "matrice",
        "residenti": 1000,
        "residenti_75": 50,
        "oltre_soglia": True,
    }
    assert "Residenti oltre 8 minuti" in done.stderr and "1.000 su 7.100" in done.stderr

    hyp = _run(
        db,
        "--soglia-minuti",
        "8",
        "--sede-ipotetica",
        "Bagnolo Cremasco",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "out" / "accesso.csv"),
    )
    assert hyp.returncode == 0, hyp.stderr
    table = pl.read_csv(tmp_path / "out" / "accesso.csv", schema_overrides={"comune": pl.String})
    bag = table.filter(pl.col("comune") == BAGNOLO).row(0, named=True)
    assert (bag["minuti"], bag["minuti_prima"], bag["oltre_soglia"], bag["ipotetica"]) == (0.0, 9.0, False, True)
    assert "nulla è stato salvato" in hyp.stderr and "da 1.000 a 0" in hyp.stderr

    bad = _run(db, "--sede-ipotetica", "Atlantide")
    assert bad.returncode == 1 and "«Atlantide» non è un comune dell'ambito" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = _run(tmp_path / "nessuno.duckdb")
    assert missing.returncode == 1 and "non esiste" in missing.stderr
