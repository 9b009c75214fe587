"""Trust in the warehouse (issue 11): real data never in the demo warehouse, the pseudonymisation key
recognised by its fingerprint, files private to their owner."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core import warehouse
from core.settings import REPO_ROOT
from etl.loader import load_files
from tests.conftest import PRESTAZIONI_HEADER, make_cf, prestazione, write_csv

LABEL = b"pdz-monitor: impronta della chiave di pseudonimizzazione, v1"  # written out: the test fixes it


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def meta(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT chiave, valore FROM meta").fetchall())
    finally:
        con.close()


def count(db: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()[0][0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory) -> Path:
    """A small demo warehouse, built once with the usual umask 022 (tests copy it)."""
    from demo.build import build_demo

    folder = tmp_path_factory.mktemp("trust") / "nuova"  # created by the builder
    old = os.umask(0o022)
    try:
        build_demo(folder / "warehouse.duckdb", seed=3, scale=0.1)
    finally:
        os.umask(old)
    return folder / "warehouse.duckdb"


@pytest.fixture
def demo_copy(built_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo warehouse with its key, PDZ_DB/PDZ_SECRET pointing at it."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(built_demo, db)
    shutil.copy(built_demo.parent / "secret.key", tmp_path / "secret.key")
    monkeypatch.setenv("PDZ_DB", str(db))
    monkeypatch.setenv("PDZ_SECRET", str(tmp_path / "secret.key"))
    return db


def real_file(tmp_path: Path, name: str = "reale.csv", ids: tuple[str, ...] = ("R1", "R2")) -> Path:
    return write_csv(tmp_path / name, PRESTAZIONI_HEADER, [prestazione(i, cf=make_cf("BNCLRA")) for i in ids])


# --- 2. real data never enters the demo warehouse ----------------------------------------------------


def test_loading_real_files_into_the_demo_warehouse_is_refused_with_what_to_do(demo_copy, tmp_path):
    before = count(demo_copy, "SELECT count(*) FROM prestazioni")
    f = real_file(tmp_path)
    r = run("load", str(f), "--db", str(demo_copy), "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "failed" and out["rows_loaded"] == 0
    assert "database dimostrativo" in out["error"] and "python -m etl init" in out["error"] and "PDZ_DB" in out["error"]
    assert "Traceback" not in r.stderr
    [res] = load_files([real_file(tmp_path, "operatori_veri.csv")], db=demo_copy)  # the Python API, any table
    assert res.status == "failed" and "database dimostrativo" in res.error
    assert count(demo_copy, "SELECT count(*) FROM prestazioni") == before
    assert count(demo_copy, "SELECT count(*) FROM caricamenti WHERE status = 'loaded' AND file LIKE 're%'") == 0
    assert meta(demo_copy)["demo"] == "true"


def test_only_the_builders_token_opens_a_demo_warehouse_and_never_a_real_one(demo_copy, tmp_path):
    [guess] = load_files([real_file(tmp_path)], db=demo_copy, demo_build="0" * 64)
    assert guess.status == "failed" and "database dimostrativo" in guess.error
    real_db = tmp_path / "reale" / "w.duckdb"
    [synthetic] = load_files([real_file(tmp_path)], db=real_db, demo_build="0" * 64)
    assert synthetic.status == "failed" and "solo nel database dimostrativo" in synthetic.error
    assert count(real_db, "SELECT count(*) FROM prestazioni") == 0


def test_the_demo_builder_records_its_batches_and_leaves_no_token(built_demo):
    from etl import queries

    m = meta(built_demo)
    assert m["demo"] == "true" and "demo_build_token" not in m
    con = duckdb.connect(str(built_demo), read_only=True)
    loaded = sorted(r[0] for r in con.execute("SELECT batch_id FROM caricamenti WHERE status = 'loaded'").fetchall())
    # 5 synthetic files (with accessi), the contract's example of outside comparisons (docs/esempi/confronti.csv),
    # the targets
    assert json.loads(m["demo_batches"]) == loaded and len(loaded) == 7
    assert queries.real_loads_in_demo(con) == [] and queries.is_pure_demo(con)
    con.close()


def test_init_replaces_the_demo_with_an_empty_real_warehouse(demo_copy, tmp_path):
    key = bytes.fromhex((tmp_path / "secret.key").read_text())
    r = run("init", "--db", str(demo_copy))
    assert r.returncode == 0, r.stderr
    assert "dimostrativo" in r.stdout and "eliminato" in r.stdout and "copia di sicurezza" in r.stdout
    assert "python -m etl users add NOME --role ufficio_di_piano" in r.stdout
    assert count(demo_copy, "SELECT count(*) FROM prestazioni") == 0
    assert count(demo_copy, "SELECT count(*) FROM caricamenti") == 0
    m = meta(demo_copy)
    assert m["demo"] == "false" and m["key_fingerprint"] == hmac.new(key, LABEL, hashlib.sha256).hexdigest()
    assert mode(demo_copy) == 0o600
    r = run("load", str(real_file(tmp_path)), "--db", str(demo_copy), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["rows_loaded"] == 2
    again = run("init", "--db", str(demo_copy))
    assert again.returncode == 0 and "nessuna modifica" in again.stdout
    assert count(demo_copy, "SELECT count(*) FROM prestazioni") == 2
    demo = run("demo", "--db", str(demo_copy), "--scale", "0.1")
    assert demo.returncode == 1 and "dati reali" in demo.stderr and "Traceback" not in demo.stderr
    assert count(demo_copy, "SELECT count(*) FROM prestazioni") == 2


def _make_legacy(db: Path, real: Path | None = None) -> None:
    """What the builder before this change left (no `demo_batches`), with a real load made meanwhile."""
    with warehouse.writer(db) as con:
        con.execute("DELETE FROM meta WHERE chiave = 'demo_batches'")
        # that builder did not load the example of outside comparisons either (it came with demo_batches)
        con.execute("DELETE FROM caricamenti WHERE file = 'confronti.csv'")
        con.execute("DELETE FROM confronti")
        if real is not None:
            warehouse.set_meta(con, "demo", "false")
    if real is not None:
        [res] = load_files([real], db=db)
        assert res.status == "loaded"
        with warehouse.writer(db) as con:
            warehouse.set_meta(con, "demo", "true")


def test_a_legacy_demo_warehouse_holding_real_loads_is_found_and_init_moves_it_aside(demo_copy, tmp_path):
    from demo.build import NotADemoWarehouse, build_demo
    from etl import queries

    _make_legacy(demo_copy)
    with warehouse.reader(demo_copy) as con:
        assert queries.real_loads_in_demo(con) == [] and queries.is_pure_demo(con)  # the builder's files only
    _make_legacy(demo_copy, real_file(tmp_path, "sedi.csv"))  # a demo file's name, loaded after the build
    with warehouse.reader(demo_copy) as con:
        assert queries.real_loads_in_demo(con) == ["sedi.csv"] and not queries.is_pure_demo(con)
    with pytest.raises(NotADemoWarehouse, match="contiene anche dati reali"):
        build_demo(demo_copy, scale=0.1)
    r = run("init", "--db", str(demo_copy))
    assert r.returncode == 0, r.stderr
    [aside] = list(tmp_path.glob("warehouse.duckdb.misto-*"))
    assert mode(aside) == 0o600 and "sedi.csv" in r.stdout and str(aside) in r.stdout
    assert count(aside, "SELECT count(*) FROM prestazioni WHERE id_prestazione IN ('R1', 'R2')") == 2  # kept
    assert count(demo_copy, "SELECT count(*) FROM prestazioni") == 0 and meta(demo_copy)["demo"] == "false"


def test_legacy_demo_file_names_are_the_builders():
    from demo import build, generate
    from etl import queries

    names = {
        generate.PRESTAZIONI_CSV,
        generate.PRESTAZIONI_SIL,
        generate.OPERATORI_CSV,
        generate.SEDI_CSV,
        generate.ACCESSI_CSV,
    }
    assert set(queries.LEGACY_DEMO_FILES) == names | {build.TARGETS_FILE}
    assert queries.LEGACY_DEMO_LAST == build.TARGETS_FILE


# --- 6. the pseudonymisation key: recognised, never silently replaced ----------------------------------


def persons(db: Path) -> int:
    return count(db, "SELECT count(DISTINCT persona_id) FROM prestazioni")


def test_a_missing_key_is_not_replaced_once_the_warehouse_holds_people(tmp_path, db_path):
    key_file = tmp_path / "secret.key"
    [first] = load_files([real_file(tmp_path, "a.csv", ("A1",))], db=db_path)
    assert first.status == "loaded"
    backup = key_file.read_bytes()
    key_file.unlink()
    [res] = load_files([real_file(tmp_path, "b.csv", ("B1",))], db=db_path)
    assert res.status == "failed"
    assert "manca la chiave di pseudonimizzazione" in res.error and "copia di sicurezza" in res.error
    assert not key_file.exists()  # no new key
    assert count(db_path, "SELECT count(*) FROM prestazioni") == 1
    key_file.write_bytes(backup)  # restored from the backup: the same person links
    [res] = load_files([real_file(tmp_path, "b.csv", ("B1",))], db=db_path)
    assert res.status == "loaded"
    assert count(db_path, "SELECT count(*) FROM prestazioni") == 2 and persons(db_path) == 1


def test_a_different_key_is_refused_and_the_original_one_accepted(tmp_path, db_path):
    key_file = tmp_path / "secret.key"
    load_files([real_file(tmp_path, "a.csv", ("A1",))], db=db_path)
    original = key_file.read_text()
    key_file.write_text(secrets.token_bytes(32).hex())
    [res] = load_files([real_file(tmp_path, "b.csv", ("B1",))], db=db_path)
    assert res.status == "failed" and "non è quella" in res.error and "copia di sicurezza" in res.error
    assert count(db_path, "SELECT count(*) FROM prestazioni") == 1
    key_file.write_text(original)
    [res] = load_files([real_file(tmp_path, "b.csv", ("B1",))], db=db_path)
    assert res.status == "loaded" and persons(db_path) == 1


def test_the_warehouse_keeps_the_keys_fingerprint_never_the_key(tmp_path, db_path):
    load_files([real_file(tmp_path)], db=db_path)
    key = bytes.fromhex((tmp_path / "secret.key").read_text())
    m = meta(db_path)
    assert m["key_fingerprint"] == hmac.new(key, LABEL, hashlib.sha256).hexdigest()
    assert not any(key.hex() in (v or "") for v in m.values())
    assert key.hex().encode() not in db_path.read_bytes()


def test_a_warehouse_older_than_the_fingerprint_records_it_on_its_next_load(tmp_path, db_path):
    load_files([real_file(tmp_path, "a.csv", ("A1",))], db=db_path)
    with warehouse.writer(db_path) as con:
        con.execute("DELETE FROM meta WHERE chiave = 'key_fingerprint'")
    key = bytes.fromhex((tmp_path / "secret.key").read_text())
    [res] = load_files([real_file(tmp_path, "b.csv", ("B1",))], db=db_path)
    assert res.status == "loaded"
    assert meta(db_path)["key_fingerprint"] == hmac.new(key, LABEL, hashlib.sha256).hexdigest()
    (tmp_path / "secret.key").write_text(secrets.token_bytes(32).hex())
    [res] = load_files([real_file(tmp_path, "c.csv", ("C1",))], db=db_path)
    assert res.status == "failed" and "non è quella" in res.error


def test_a_warehouse_without_people_takes_a_new_key(tmp_path, db_path):
    header = ["id_operatore", "profilo", "sub_ambito", "fte"]
    ops = write_csv(tmp_path / "op.csv", header, [["O1", "EDUCATORE", "SA1", "1"]])
    [res] = load_files([ops], db=db_path)
    assert res.status == "loaded"
    (tmp_path / "secret.key").unlink()
    [res] = load_files([real_file(tmp_path)], db=db_path)
    assert res.status == "loaded" and (tmp_path / "secret.key").exists()
    key = bytes.fromhex((tmp_path / "secret.key").read_text())
    assert meta(db_path)["key_fingerprint"] == hmac.new(key, LABEL, hashlib.sha256).hexdigest()


# --- 8. files private to their owner ---------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_warehouse_wal_key_and_new_folders_are_owner_only(tmp_path, monkeypatch, umask_022):
    db = tmp_path / "nuova" / "cartella" / "w.duckdb"
    monkeypatch.setenv("PDZ_SECRET", str(tmp_path / "chiavi" / "secret.key"))
    [res] = load_files([real_file(tmp_path)], db=db)
    assert res.status == "loaded"
    assert mode(db) == 0o600
    assert mode(db.parent) == mode(db.parent.parent) == mode(tmp_path / "chiavi") == 0o700
    assert mode(tmp_path / "chiavi" / "secret.key") == 0o600
    with warehouse.writer(db) as con:
        con.execute("CREATE TABLE prova AS SELECT range AS i FROM range(10)")
        wal = Path(str(db) + ".wal")
        assert wal.exists() and mode(wal) == 0o600
    assert os.umask(0o022) == 0o022  # the process umask is back


def test_users_file_in_a_new_folder_is_owner_only(tmp_path, umask_022):
    from core import users

    path = tmp_path / "nuova" / "users.toml"
    users.add_user("m.rossi", "ufficio_di_piano", password="una-password-lunga-1", path=path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_demo_warehouse_and_demo_files_are_owner_only(built_demo, tmp_path, umask_022):
    from demo.generate import generate_demo_files

    assert mode(built_demo) == 0o600 and mode(built_demo.parent) == 0o700  # built under umask 022
    assert mode(built_demo.parent / "secret.key") == 0o600
    assert not list(built_demo.parent.glob(".*building*"))
    files = generate_demo_files(tmp_path / "file_demo", seed=1, scale=0.05)
    assert mode(tmp_path / "file_demo") == 0o700
    assert {p.name: mode(p) for p in (tmp_path / "file_demo").iterdir()} == {
        p.name: 0o600 for p in (tmp_path / "file_demo").iterdir()
    } and len(files) == 5


def test_snapshots_and_pseudonymisation_spill_to_a_private_folder(demo_copy):
    from core.warehouse import memory_db

    for con in (warehouse.snapshot(demo_copy), memory_db()):
        spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
        con.close()
        assert spill.is_absolute() and spill.is_dir() and mode(spill) == 0o700
