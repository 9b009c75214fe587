"""`python -m indicators evaluate` and `equity` in a subprocess, on a literal warehouse of 6 sub-ambiti.

12 comuni, 2 per sub-ambito; SA1 and SA2 are pilots from 1 January 2025. Every comune has 100
residents aged 70, so SAD coverage per 100 residents 65+ = the number of persons with SAD that year.

    persons with SAD    2023  2024  2025   Δ = 2025 − mean(2023, 2024)
    pilot comuni (4)       3     3     6   3
    other comuni (7)       3     3     4   1
    019029 (SA6)           3     2     4   1.5   (2 persons in 2024: hidden in the public table)

Equal weights: effect = 3 − (7·1 + 1.5)/8 = 3 − 1.0625 = 1.9375. Any other pair of sub-ambiti has at most
one pilot: its effect is at most (3 + 1.25)/2 − (3 + 1 + 1 + 1)/4 = 0.625, and at least
1 − (3 + 3 + 1.25 + 1)/4 = −1.0625, so the observed one is the most extreme: p = 1/15.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from core import warehouse
from indicators.cli import main
from indicators.evaluation import EXTRA_KEYS, RESULT_KEYS
from tests.indicators.conftest import add

REPO = Path(__file__).resolve().parents[2]
SAD = "anziani_sad_copertura_65"
TERRITORY = {
    "019035": "SA1",
    "019005": "SA1",
    "019002": "SA2",
    "019041": "SA2",
    "019010": "SA3",
    "019015": "SA3",
    "019019": "SA4",
    "019039": "SA4",
    "019025": "SA5",
    "019043": "SA5",
    "019012": "SA6",
    "019029": "SA6",
}
PILOTS = {"SA1", "SA2"}


def _build(path: Path) -> None:
    with warehouse.writer(path) as con:
        con.execute("DELETE FROM comuni WHERE NOT list_contains(?, comune)", [list(TERRITORY)])
        con.execute("DELETE FROM sub_ambiti")
        con.execute("DELETE FROM popolazione")
        for comune, sa in TERRITORY.items():
            start = "2025-01-01" if sa in PILOTS else None
            con.execute(
                "INSERT INTO sub_ambiti VALUES (?, ?, ?, ?, ?::DATE, true, NULL)",
                [comune, sa, f"Sub-ambito {sa}", sa in PILOTS, start],
            )
            con.execute("INSERT INTO popolazione VALUES (?, 70, 'M', 50, 2023), (?, 70, 'F', 50, 2023)", [comune] * 2)
            counts = (3, 3, 6) if sa in PILOTS else (3, 2, 4) if comune == "019029" else (3, 3, 4)
            for year, n in zip((2023, 2024, 2025), counts):
                for i in range(n):
                    add(con, f"{comune}-{year}-{i}", "SAD", f"{year}-01-01", f"{year}-12-31", comune=comune)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evaluate") / "w.duckdb"
    _build(path)
    return path


def _run(db: Path, command: str, *args: str) -> subprocess.CompletedProcess:
    """The real `python -m indicators` in a subprocess."""
    env = {**os.environ, "PDZ_DB": str(db)}
    return subprocess.run(
        [sys.executable, "-m", "indicators", command, "--as-of", "2025-12-31", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def run(capsys):
    """The same command in this process (faster): returns (exit status, stdout, stderr)."""

    def call(db: Path, command: str, *args: str) -> SimpleNamespace:
        code = main([command, "--db", str(db), "--as-of", "2025-12-31", *args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return call


def test_evaluate_json_fields_and_values(db: Path) -> None:
    done = _run(db, "evaluate", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and all(list(r)[: len(RESULT_KEYS)] == list(RESULT_KEYS) for r in rows)
    assert "org_residenti_per_as" not in {r["indicatore"] for r in rows}  # not computed by comune
    sad = next(r for r in rows if r["indicatore"] == SAD)
    assert sad["effetto"] == pytest.approx(1.9375)
    assert sad["p_value"] == pytest.approx(1 / 15) and sad["p_minimo"] == pytest.approx(1 / 15)
    assert sad["ic_basso"] < 1.9375 < sad["ic_alto"] and sad["livello_confidenza"] == pytest.approx(14 / 15)
    assert sad["sub_ambiti_pilota"] == ["SA1", "SA2"] and sad["data_avvio"] == "2025-01-01"
    assert (sad["anni_prima"], sad["anni_dopo"]) == ([2023, 2024], [2025])
    assert (sad["n_comuni_pilota"], sad["n_comuni_altri"]) == (4, 8)
    assert sad["metodo"].startswith("Differenza nelle differenze") and isinstance(sad["avvertenze"], list)
    assert sad["unita"] == "per 100 residenti 65+"


def test_evaluate_public_uses_the_published_sub_ambito_values(run, db: Path) -> None:
    """Small comuni are hidden in the public table: the estimate is made on the published sub-ambito
    values instead, and for a rate per residents with steady denominators it is the office's 1.9375."""
    done = run(db, "evaluate", "--public", "--indicator", SAD)
    assert done.returncode == 0, done.stderr
    (sad,) = json.loads(done.stdout)
    assert sad["effetto"] == pytest.approx(1.9375) and sad["p_value"] == pytest.approx(1 / 15)
    assert sad["metodo"].startswith("Differenza nelle differenze per sub-ambito (vista pubblica")
    assert any(a.startswith("Vista pubblica:") and "segreto statistico" in a for a in sad["avvertenze"])
    assert (sad["n_comuni_pilota"], sad["n_comuni_altri"]) == (4, 8)


def test_evaluate_csv_to_file(run, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "valutazione.csv"
    done = run(db, "evaluate", "--indicator", SAD, "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Scritte 1 righe" in done.stderr
    (row,) = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(row) == [*RESULT_KEYS, *EXTRA_KEYS]
    assert float(row["effetto"]) == pytest.approx(1.9375)
    assert row["sub_ambiti_pilota"] == "SA1|SA2" and row["anni_prima"] == "2023|2024" and row["anni_dopo"] == "2025"
    assert "Solo 6 sub-ambiti" in row["avvertenze"] and " | " in row["avvertenze"]


def test_evaluate_unknown_indicator_and_missing_db(run, db: Path, tmp_path: Path) -> None:
    done = run(db, "evaluate", "--indicator", "non_esiste")
    assert done.returncode == 2 and "indicatore sconosciuto: non_esiste" in done.stderr
    assert "Traceback" not in done.stderr
    missing = run(tmp_path / "nessuno.duckdb", "evaluate")
    assert missing.returncode == 1 and missing.stderr.startswith("Errore:") and "Traceback" not in missing.stderr


def test_equity_json_and_detail(run, db: Path) -> None:
    done = run(db, "equity", "--indicator", SAD)
    assert done.returncode == 0, done.stderr
    rows = {r["anno"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {2023, 2024, 2025}
    # 2025: SA1, SA2 6 per 100; SA3-SA5 4; SA6 4 — residents 200 each: mean 14/3, max/min 1.5
    r = rows[2025]
    assert r["rapporto_max_min"] == pytest.approx(1.5) and r["media_ponderata"] == pytest.approx(28 / 6)
    assert r["sub_ambito_max"] in {"SA1", "SA2"} and r["n_sub_ambiti"] == 6
    detail = run(db, "equity", "--indicator", SAD, "--dettaglio", "--format", "csv")
    assert detail.returncode == 0, detail.stderr
    lines = list(csv.DictReader(io.StringIO(detail.stdout)))
    assert len(lines) == 18 and {"sub_ambito", "scarto", "rango"} <= set(lines[0])
