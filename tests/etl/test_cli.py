"""The command line of DATA_CONTRACT.md section 5, run as users run it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

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
        "file": "p.csv",
        "table": "prestazioni",
        "status": "loaded",
        "rows_read": 2,
        "rows_loaded": 1,
        "rows_rejected": 1,
    }
    r = run("load", str(good), str(bad), "--db", str(db), "--json")
    assert r.returncode == 1
    first, second = (json.loads(line) for line in r.stdout.strip().splitlines())
    assert first["status"] == "duplicate" and second["status"] == "failed" and second["error"]

    r = run("status", "--db", str(db), "--json")
    status = json.loads(r.stdout)
    assert status["tables"]["prestazioni"] == 1
    assert [b["status"] for b in status["batches"]].count("loaded") == 1
    # the load kept the indicator values, and they are the ones this code computes
    kept = status["valori_indicatori"]
    assert kept["validi"] is True and kept["righe"] > 0 and kept["secondi"] > 0
    r = run("status", "--db", str(db))
    rows = f"{kept['righe']:,}".replace(",", ".")
    assert f"Valori degli indicatori: {rows} righe, calcolati dopo il caricamento in" in r.stdout

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


def _damaged_copy(tmp_path, how: str):
    """A real warehouse, then damaged: random bytes over its blocks, cut short, or not a database at all."""
    import os

    from etl.loader import load_files

    db = tmp_path / f"{how}.duckdb"
    load_files([write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione(str(i)) for i in range(50)])], db=db)
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        if how == "blocchi":
            fh.seek(4096)
            fh.write(os.urandom(size - 4096))
        elif how == "troncato":
            fh.truncate(size // 3)
        else:
            fh.write(os.urandom(size))
    return db


def _says_what_to_do_without_internals(r) -> None:
    assert r.returncode == 1
    assert "Il database non è leggibile" in r.stderr and "copia di sicurezza" in r.stderr
    assert "Traceback" not in r.stderr and ".py" not in r.stderr and "IO Error" not in r.stderr


@pytest.mark.parametrize("how", ["blocchi", "troncato", "casuale"])
def test_a_damaged_warehouse_gets_an_italian_message_not_a_traceback(tmp_path, how):
    db = _damaged_copy(tmp_path, how)
    _says_what_to_do_without_internals(run("status", "--db", str(db)))  # reads every table
    for r in (run("rejected", "--db", str(db)), run("load", str(tmp_path / "p.csv"), "--db", str(db), "--json")):
        assert "Traceback" not in r.stderr  # they may not touch a damaged block; if they do, the same message
        if r.returncode:
            assert "Il database non è leggibile" in r.stderr + r.stdout
    indicators = subprocess.run(
        [sys.executable, "-m", "indicators", "compute", "--db", str(db)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    _says_what_to_do_without_internals(indicators)


def test_an_unexpected_failure_is_one_italian_line(monkeypatch, capsys):
    from core.failures import run_command

    def broken() -> int:
        raise KeyError("colonna_interna")

    assert run_command(broken) == 1
    err = capsys.readouterr().err
    assert err.startswith("Errore imprevisto: il comando non è stato completato") and "Traceback" not in err
    assert err.count("\n") == 1
