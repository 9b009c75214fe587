"""Loader: reload is a no-op, keys update, failures and crashes change nothing,
the codice fiscale never reaches the warehouse, readers never block loads."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import duckdb
import pytest

from core import warehouse
from core.settings import REPO_ROOT
from etl.codice_fiscale import CF_ANYWHERE
from etl.loader import load_files
from tests.conftest import PRESTAZIONI_HEADER, kill_9_when, make_cf, prestazione, write_csv


def _dump(db_path) -> dict:
    """Every table's rows, sorted: a comparable picture of the warehouse."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        out = {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
        # meta.data_version and meta.valori_input mark every write that may change what the dashboard shows
        # (its snapshot key, the kept values' key), even a load that changes nothing: they are not data
        out["meta"] = [r for r in out.get("meta", []) if "'data_version'" not in r and "'valori_input'" not in r]
        return out
    finally:
        con.close()


def test_reloading_the_same_content_changes_nothing(tmp_path, db_path):
    f = write_csv(tmp_path / "p.csv", PRESTAZIONI_HEADER, [prestazione("1"), prestazione("2", ore="x")])
    [first] = load_files([f], db=db_path)
    before = _dump(db_path)
    copy = tmp_path / "copia con altro nome.csv"
    copy.write_bytes(f.read_bytes())
    [again] = load_files([copy], db=db_path)
    assert first.status == "loaded" and again.status == "duplicate"
    assert (again.rows_loaded, again.rows_rejected) == (0, 0)
    assert _dump(db_path) == before


def test_a_new_file_repeating_a_key_updates_never_duplicates(tmp_path, db_path):
    f1 = write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1", ore="5"), prestazione("2", ore="7")])
    f2 = write_csv(tmp_path / "b.csv", PRESTAZIONI_HEADER, [prestazione("1", ore="9", fine="2025-06-30")])
    load_files([f1, f2], db=db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT id_prestazione, ore, CAST(data_fine AS VARCHAR) FROM prestazioni ORDER BY 1").fetchall()
    con.close()
    assert rows == [("1", 9.0, "2025-06-30"), ("2", 7.0, None)]


def test_same_id_in_another_source_is_another_record(tmp_path, db_path):
    header = [*PRESTAZIONI_HEADER, "fonte"]
    f = write_csv(tmp_path / "a.csv", header, [[*prestazione("1"), "cartella_sociale"], [*prestazione("1"), "sil"]])
    [res] = load_files([f], db=db_path)
    assert (res.rows_loaded, res.rows_rejected) == (2, 0)


def test_failed_file_changes_no_data(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    before = _dump(db_path)
    bad = tmp_path / "b.csv"
    bad.write_text("colonna_a,colonna_b\n1,2\n")
    [res] = load_files([bad], db=db_path)
    after = _dump(db_path)
    assert res.status == "failed"
    before.pop("caricamenti"), after.pop("caricamenti")  # the log records the failure, nothing else moves
    assert after == before


def test_every_row_is_counted_loaded_or_rejected(tmp_path, db_path):
    rows = [prestazione(str(i), ore=str(i - 5)) for i in range(12)]  # ids 0..4 have negative hours
    [res] = load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, rows)], db=db_path)
    assert (res.rows_read, res.rows_loaded, res.rows_rejected) == (12, 7, 5)


def test_codice_fiscale_never_stored_anywhere(tmp_path, db_path):
    cf_a, cf_b = make_cf("BNCGNN", 1950, 1, 2), make_cf("VRDLCU", 2012, 5, 7, female=True)
    rows = [
        prestazione("1", cf=cf_a, nucleo=cf_a),  # a household id that is a codice fiscale
        prestazione("2", cf=cf_b, ore="-1"),  # rejected row
        prestazione("3", cf=cf_b[:15] + "Z" if cf_b[15] != "Z" else cf_b[:15] + "Y"),  # wrong check
        prestazione(cf_a, cf=cf_a),  # id that is a codice fiscale
    ]
    sedi = write_csv(
        tmp_path / "s.csv",
        ["id_sede", "nome", "tipo", "comune", "indirizzo"],
        [["S1", f"Sportello di {cf_b}", "SPOKE", "Crema", f"Via Roma 1 c/o {cf_a}"]],
    )
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, rows), sedi], db=db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    text_cols = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
    ).fetchall()
    found = []
    for table, column in text_cols:
        for (value,) in con.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
            if CF_ANYWHERE.search(value):
                found.append((table, column, value))
    n_rows = con.execute("SELECT count(*) FROM prestazioni").fetchall()[0][0]
    con.close()
    assert n_rows == 1 and found == []
    raw = db_path.read_bytes() + (
        db_path.with_suffix(".duckdb.wal").read_bytes() if db_path.with_suffix(".duckdb.wal").exists() else b""
    )
    assert cf_a.encode() not in raw and cf_b.encode() not in raw


def test_sex_and_year_of_birth_derived_then_pseudonym_is_stable(tmp_path, db_path):
    cf = make_cf("VRDLCU", 1941, 5, 7, female=True)
    load_files(
        [write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1", cf=cf), prestazione("2", cf=cf)])],
        db=db_path,
    )
    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute("SELECT DISTINCT sesso, anno_nascita, persona_id FROM prestazioni").fetchall()
    con.close()
    assert len(rows) == 1 and rows[0][:2] == ("F", 1941) and len(rows[0][2]) == 64


def test_secret_created_owner_only_and_outside_the_warehouse(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    secret = tmp_path / "secret.key"
    assert secret.exists()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(bytes.fromhex(secret.read_text())) * 8 >= 256
    assert secret.read_text().encode() not in db_path.read_bytes()


def _big_file(tmp_path, n=20_000):
    rows = [prestazione(f"k{i}", ore=str(i % 40)) for i in range(n)]
    return write_csv(tmp_path / "big.csv", PRESTAZIONI_HEADER, rows)


def test_kill_9_mid_transaction_leaves_previous_state(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    before = _dump(db_path)
    env = {**os.environ, "PDZ_TEST_PAUSE_IN_TRANSACTION": "60", "PDZ_DB": str(db_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", str(_big_file(tmp_path))],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    kill_9_when(proc, "PDZ_IN_TRANSACTION")  # the loader says when its transaction holds the new rows
    after = _dump(db_path)
    history_before, history_after = before.pop("caricamenti"), after.pop("caricamenti")
    assert after == before  # opening replays the WAL: no data of the killed load survives
    [attempt] = set(history_after) - set(history_before)  # but the attempt is in the history
    assert "'big.csv', 'prestazioni'" in attempt and "'in_corso'" in attempt
    status = subprocess.run(
        [sys.executable, "-m", "etl", "status", "--json", "--db", str(db_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    batches = {b["file"]: b for b in json.loads(status.stdout)["batches"]}
    assert batches["big.csv"]["status"] == "interrotto" and batches["a.csv"]["status"] == "loaded"
    [res] = load_files([write_csv(tmp_path / "c.csv", PRESTAZIONI_HEADER, [prestazione("2")])], db=db_path)
    assert res.status == "loaded"  # and the warehouse is writable again
    con = duckdb.connect(str(db_path), read_only=True)
    stored = dict(con.execute("SELECT file, status FROM caricamenti").fetchall())
    con.close()
    assert stored == {"a.csv": "loaded", "big.csv": "interrotto", "c.csv": "loaded"}


def test_snapshot_serves_old_data_while_a_load_holds_the_file_then_new(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    snap = warehouse.snapshot(db_path)
    v_before = warehouse.version(db_path)
    env = {**os.environ, "PDZ_TEST_PAUSE_IN_TRANSACTION": "3", "PDZ_DB": str(db_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl", "load", "--json", str(_big_file(tmp_path, 500))],
        cwd=REPO_ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        if "PDZ_IN_TRANSACTION" in line:
            break
    with pytest.raises(warehouse.WarehouseBusy):
        warehouse.snapshot(db_path, wait_seconds=0.2)  # the app keeps its old snapshot meanwhile
    assert snap.execute("SELECT count(*) FROM prestazioni").fetchall() == [(1,)]
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and '"status": "loaded"' in out
    assert warehouse.version(db_path) != v_before
    assert warehouse.snapshot(db_path).execute("SELECT count(*) FROM prestazioni").fetchall() == [(501,)]


def test_a_load_waits_for_a_short_reader_instead_of_failing(tmp_path, db_path):
    load_files([write_csv(tmp_path / "a.csv", PRESTAZIONI_HEADER, [prestazione("1")])], db=db_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,time,sys; c=duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); "
            "time.sleep(1.5); c.close()",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    [res] = load_files([write_csv(tmp_path / "b.csv", PRESTAZIONI_HEADER, [prestazione("2")])], db=db_path)
    holder.wait(timeout=10)
    assert res.status == "loaded"
