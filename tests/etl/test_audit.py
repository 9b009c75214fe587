"""The audit log: entries and filters, busy warehouse, and no cache churn from audit writes."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

from core import warehouse
from etl import audit


def test_record_and_filter(db_path):
    assert audit.record("login", "m.rossi", "ufficio_di_piano", "locale", db=db_path)
    assert audit.record(
        "login_fallito", "ignoto", None, "locale", "rifiutato", "nome utente o password errati", db=db_path
    )
    assert audit.record("esportazione", "r.lombardia", "regione", "indicatori.csv", db=db_path)
    log = audit.entries(db_path)
    assert log["azione"].to_list() == ["esportazione", "login_fallito", "login"]  # newest first
    assert audit.entries(db_path, esito="rifiutato")["utente"].to_list() == ["ignoto"]
    assert audit.entries(db_path, utente="ROSSI")["utente"].to_list() == ["m.rossi"]
    assert audit.entries(db_path, azioni=["esportazione", "login"]).height == 2
    assert audit.entries(db_path, dal=date.today()).height == 3
    assert audit.entries(db_path, al=date.today() - timedelta(days=1)).height == 0


def test_text_is_cleaned_of_control_characters(db_path):
    audit.record("login_fallito", "finto\nutente\x1b[31m", None, "locale", "rifiutato", db=db_path)
    [name] = audit.entries(db_path)["utente"].to_list()
    assert "\n" not in name and "\x1b" not in name


def test_unknown_action_is_a_bug():
    import pytest

    with pytest.raises(ValueError):
        audit.record("cancella_tutto", "x")


def test_a_busy_warehouse_keeps_entries_until_the_next_write(db_path, monkeypatch):
    with warehouse.writer(db_path):
        pass
    monkeypatch.setattr(audit, "WRITE_WAIT_SECONDS", 0.2)
    holder = subprocess.Popen(  # another process holding the file, like a long load from the command line
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        assert audit.record("login", "a", "regione", db=db_path) is False
        assert audit.pending() == 1
    finally:
        holder.kill()
        holder.wait()
    assert audit.record("logout", "a", "regione", db=db_path) is True
    assert audit.pending() == 0
    assert audit.entries(db_path)["azione"].to_list() == ["logout", "login"]


def test_audit_writes_keep_the_data_version_and_stay_out_of_snapshots(db_path):
    with warehouse.writer(db_path):
        pass
    before = warehouse.data_version(db_path)
    assert before is not None
    audit.record("login", "m.rossi", "ufficio_di_piano", db=db_path)
    assert warehouse.data_version(db_path) == before  # the dashboard keeps its snapshot and caches
    snap = warehouse.snapshot(db_path)
    tables = {r[0] for r in snap.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "audit" not in tables and "prestazioni" in tables
    with warehouse.writer(db_path):  # a data write changes it
        pass
    assert warehouse.data_version(db_path) != before
