"""The command line of DATA_CONTRACT.md section 5, run as users run it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from core.settings import REPO_ROOT
from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv


def run(*args, env_db=None):
    return subprocess.run(
        [sys.executable, "-m", "etl", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180
    )


def test_load_json_status_and_rejected(tmp_path):
    db = tmp_path / "w.duckdb"
    good = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("1"), prestazione("2", ore="-4")])
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    r = run("load", str(good), "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout.strip())
    assert {k: obj[k] for k in ("file", "table", "status", "rows_read", "rows_loaded", "rows_rejected")} == {
        "file": "p.csv", "table": "prestazioni", "status": "loaded", "rows_read": 2, "rows_loaded": 1,
        "rows_rejected": 1,
    }  # fmt: skip
    r = run("load", str(good), str(bad), "--db", str(db), "--json")
    assert r.returncode == 1
    first, second = (json.loads(line) for line in r.stdout.strip().splitlines())
    assert first["status"] == "duplicate" and second["status"] == "failed" and second["error"]

    r = run("status", "--db", str(db), "--json")
    status = json.loads(r.stdout)
    assert status["tables"]["prestazioni"] == 1
    assert [b["status"] for b in status["batches"]].count("loaded") == 1

    out = tmp_path / "scarti.csv"
    r = run("rejected", "--db", str(db), "--batch", obj["batch_id"], "--out", str(out))
    assert r.returncode == 0
    rows = list(csv.DictReader(out.open()))
    assert [(x["riga"], x["colonna"], x["motivo"]) for x in rows] == [("3", "ore", "ore negative non ammesse")]


def test_summary_paragraph_in_italian(tmp_path):
    db = tmp_path / "w.duckdb"
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("1"), prestazione("2", comune="Milano")])
    r = run("load", str(f), "--db", str(db))
    assert r.returncode == 0
    assert "lette 2 righe della tabella prestazioni, caricate 1, scartate 1" in r.stdout


def test_status_on_missing_warehouse_says_what_to_do(tmp_path):
    r = run("status", "--db", str(tmp_path / "nessuno.duckdb"))
    assert r.returncode == 1 and "python -m etl demo" in r.stderr
