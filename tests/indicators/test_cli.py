"""`python -m indicators compute` in a subprocess, on a tmp warehouse (PDZ_DB)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from core import warehouse
from tests.indicators.conftest import BAGNOLO, CREMA, add, set_territory

REPO = Path(__file__).resolve().parents[2]
KEYS = {"indicatore", "livello", "territorio", "anno", "numeratore", "denominatore", "valore", "soppresso"}


def _build(path: Path) -> None:
    with warehouse.writer(path) as con:
        set_territory(con)
        for i in range(4):
            add(con, f"c{i}", "SAD", "2025-01-01")  # Crema: 4 persons 65+
        add(con, "b0", "SAD", "2025-12-31", comune=BAGNOLO)  # Bagnolo: 1 person (suppressed in public)


def _run(path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PDZ_DB": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "indicators", "compute", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _find(rows: list[dict], indicatore: str, territorio: str, anno: int = 2025) -> dict:
    hits = [r for r in rows if r["indicatore"] == indicatore and r["territorio"] == territorio and r["anno"] == anno]
    assert len(hits) == 1
    return hits[0]


def test_compute_json_ufficio_and_public(tmp_path):
    db = tmp_path / "w.duckdb"
    _build(db)
    done = _run(db, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and all(KEYS <= set(r) for r in rows)
    assert {r["livello"] for r in rows} == {"comune", "sub_ambito", "ambito"}
    crema = _find(rows, "anziani_sad_copertura_65", CREMA)
    # 4 persons 65+ over 1000 residents 65+ in Crema, per 100 = 0.4
    assert (crema["numeratore"], crema["denominatore"], crema["soppresso"]) == (4, 1000, False)
    assert abs(crema["valore"] - 0.4) < 1e-9
    sa1 = _find(rows, "anziani_sad_copertura_65", "SA1")
    assert sa1["numeratore"] == 5 and abs(sa1["valore"] - 5 / 1200 * 100) < 1e-9

    public = _run(db, "--public", "--year", "2025")
    assert public.returncode == 0, public.stderr
    prow = json.loads(public.stdout)
    assert {r["anno"] for r in prow} == {2025}
    bagnolo = _find(prow, "anziani_sad_copertura_65", BAGNOLO)
    assert bagnolo["soppresso"] is True
    assert bagnolo["numeratore"] is None and bagnolo["denominatore"] is None and bagnolo["valore"] is None
    # Crema is hidden too (SA1 - Crema would give Bagnolo back)
    assert _find(prow, "anziani_sad_copertura_65", CREMA)["soppresso"] is True
    for r in prow:
        if r["soppresso"]:
            assert r["numeratore"] is None and r["denominatore"] is None and r["valore"] is None


def test_compute_csv_to_file_and_missing_db(tmp_path):
    db = tmp_path / "w.duckdb"
    _build(db)
    out = tmp_path / "out" / "indicatori.csv"
    done = _run(db, "--format", "csv", "--out", str(out), "--year", "2025")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert KEYS <= set(rows[0])
    crema = [r for r in rows if r["indicatore"] == "anziani_sad_copertura_65" and r["territorio"] == CREMA]
    assert crema[0]["numeratore"] == "4.0"
    missing = _run(tmp_path / "nope.duckdb")
    assert missing.returncode == 1 and "non esiste" in missing.stderr
