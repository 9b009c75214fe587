"""Accounts: password hashing, the users file, role mapping (fail closed), the `users` CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib

import pytest

from core import users
from core.settings import REPO_ROOT

PASSWORD = "correct-horse-battery"


def test_hash_is_salted_argon2id_and_verifies_only_the_right_password():
    h1, h2 = users.hash_password(PASSWORD), users.hash_password(PASSWORD)
    assert PASSWORD not in h1 and h1.startswith("$argon2id$")
    assert h1 != h2  # a fresh salt each time
    assert users.verify_password(h1, PASSWORD) and users.verify_password(h2, PASSWORD)
    assert not users.verify_password(h1, PASSWORD + "x")
    assert not users.verify_password(h1, "")
    assert not users.verify_password(None, PASSWORD)  # no hash (an OIDC identity): never a password login
    assert not users.verify_password("not-a-hash", PASSWORD)


def test_users_file_round_trip_owner_only_and_no_clear_password(tmp_path):
    path = tmp_path / "users.toml"
    users.add_user("M.Rossi", "ufficio_di_piano", password=PASSWORD, path=path)
    users.add_user("sindaco@comune.crema.cr.it", "sindaco", "crema", path=path)  # OIDC identity, no password
    text = path.read_text()
    assert PASSWORD not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = tomllib.loads(text)["utenti"]
    assert data["m.rossi"]["ruolo"] == "ufficio_di_piano"
    assert data["sindaco@comune.crema.cr.it"] == {**data["sindaco@comune.crema.cr.it"], "comune": "019035"}
    assert users.authenticate("m.rossi", PASSWORD, path).utente == "m.rossi"
    assert users.authenticate("m.rossi", "wrong-password", path) is None
    assert users.authenticate("sindaco@comune.crema.cr.it", "", path) is None
    assert users.authenticate("nobody", PASSWORD, path) is None


@pytest.mark.parametrize(
    "args, message",
    [
        (("xx", "sindaco", None, PASSWORD), "richiede il comune"),
        (("xx", "sindaco", "Milano", PASSWORD), "non è un comune dell'ambito"),
        (("xx", "regione", "Crema", PASSWORD), "solo per il ruolo sindaco"),
        (("xx", "assessore", None, PASSWORD), "Ruolo sconosciuto"),
        (("xx", "regione", None, "corta"), "almeno 10 caratteri"),
        (("x y", "regione", None, PASSWORD), "Nome utente non valido"),
        (("nomail", "regione", None, None), "deve essere l'email"),
    ],
)
def test_add_refuses_incomplete_accounts(tmp_path, args, message):
    with pytest.raises(users.UsersError, match=message):
        users.add_user(*args, path=tmp_path / "users.toml")


def test_role_mapping_fails_closed():
    acc = users.Account
    assert isinstance(users.access_for(None, "x", "oidc"), users.Refusal)
    assert isinstance(users.access_for(acc("x", "admin"), "x", "locale"), users.Refusal)
    assert isinstance(users.access_for(acc("x", "sindaco"), "x", "locale"), users.Refusal)
    assert isinstance(users.access_for(acc("x", "sindaco", "015146"), "x", "locale"), users.Refusal)
    mayor = users.access_for(acc("x", "sindaco", "19035"), "x", "locale")
    assert mayor.comune == "019035" and mayor.audiences == ("pubblico",) and not mayor.is_office
    regione = users.access_for(acc("r", "regione"), "r", "oidc")
    assert regione.levels == ("sub_ambito", "ambito") and regione.audiences == ("pubblico",)
    office = users.access_for(acc("u", "ufficio_di_piano"), "u", "locale")
    assert office.audiences == ("pubblico", "ufficio") and office.is_office and office.sees_comuni


def _cli(*args, stdin: str | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "etl", "users", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def test_users_cli_add_list_reset_remove(tmp_path):
    path = tmp_path / "users.toml"
    db = tmp_path / "warehouse.duckdb"
    env = {"PDZ_USERS": str(path), "PDZ_DB": str(db)}
    r = _cli("add", "m.rossi", "--role", "ufficio_di_piano", "--password-stdin", stdin=PASSWORD + "\n", env=env)
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    r = _cli(
        "add",
        "s.crema",
        "--role",
        "sindaco",
        "--comune",
        "Crema",
        "--password-stdin",
        stdin="altra-password-1\n",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    r = _cli("add", "s.crema", "--role", "regione", "--password-stdin", stdin="altra-password-1\n", env=env)
    assert r.returncode == 1 and "esiste già" in r.stderr
    r = _cli("add", "xx", "--role", "sindaco", "--comune", "Atlantide", "--password-stdin", stdin=PASSWORD, env=env)
    assert r.returncode == 1 and "non è un comune dell'ambito" in r.stderr
    r = _cli("add", "yy", "--role", "regione", env=env)  # no terminal, no --password-stdin: refused, no file change
    assert r.returncode == 1 and "--password-stdin" in r.stderr

    listed = json.loads(_cli("list", "--json", env=env).stdout)
    assert {(u["utente"], u["ruolo"], u["comune"]) for u in listed} == {
        ("m.rossi", "ufficio_di_piano", None),
        ("s.crema", "sindaco", "019035"),
    }
    assert "password" not in json.dumps(listed).replace('"accesso": "password"', "")
    assert "s.crema" in _cli("list", env=env).stdout

    old_hash = users.load_accounts(path)["s.crema"].password
    r = _cli("reset", "s.crema", "--password-stdin", stdin="nuova-password-22\n", env=env)
    assert r.returncode == 0, r.stderr
    assert users.authenticate("s.crema", "nuova-password-22", path) is not None
    assert users.authenticate("s.crema", "altra-password-1", path) is None
    assert users.load_accounts(path)["s.crema"].password != old_hash

    r = _cli("remove", "s.crema", env=env)
    assert r.returncode == 0, r.stderr
    assert set(users.load_accounts(path)) == {"m.rossi"}
    assert _cli("remove", "s.crema", env=env).returncode == 1
    assert not db.exists()  # user management never creates the warehouse


def test_users_cli_writes_the_audit_log_when_the_warehouse_exists(tmp_path):
    from core import warehouse
    from etl import audit

    db = tmp_path / "warehouse.duckdb"
    with warehouse.writer(db):
        pass
    env = {"PDZ_USERS": str(tmp_path / "users.toml"), "PDZ_DB": str(db)}
    assert _cli("add", "r.lombardia", "--role", "regione", "--password-stdin", stdin=PASSWORD, env=env).returncode == 0
    log = audit.entries(db)
    assert log.height == 1
    assert log.row(0, named=True) | {"quando": None} == {
        "quando": None,
        "utente": log["utente"][0],
        "ruolo": None,
        "azione": "utenti",
        "oggetto": "add r.lombardia",
        "esito": "ok",
        "dettaglio": "ruolo regione",
    }
    assert log["utente"][0].startswith("riga di comando")


def _warehouse(tmp_path):
    from core import warehouse

    db = tmp_path / "warehouse.duckdb"
    with warehouse.writer(db):
        pass
    return db


def _cli_in_process(monkeypatch, tmp_path, *args, stdin=PASSWORD + "\n"):
    import io

    from etl import cli

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(["users", *args, "--users-file", str(tmp_path / "users.toml"), "--db", str(tmp_path / "w.duckdb")])


def test_an_account_is_never_changed_without_its_audit_entry(tmp_path, monkeypatch, capsys):
    """The audit entry is written first: when it cannot be (a full disk), the account is not written either."""
    import duckdb

    from etl import audit

    db = _warehouse(tmp_path)
    (tmp_path / "w.duckdb").symlink_to(db)

    def disk_full(*args, **kwargs):
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(audit.warehouse, "writer", disk_full)
    monkeypatch.setattr(audit, "_pending", [])  # the entry that could not be written stays in this test
    status = _cli_in_process(monkeypatch, tmp_path, "add", "m.rossi", "--role", "ufficio_di_piano", "--password-stdin")
    err = capsys.readouterr().err
    assert status == 1 and "registro degli accessi" in err and "non è stato modificato" in err
    assert "Traceback" not in err
    assert users.load_accounts(tmp_path / "users.toml") == {}  # no unaudited account


def test_an_account_write_that_fails_after_its_audit_entry_is_logged_as_failed(tmp_path, monkeypatch, capsys):
    from etl import audit

    db = _warehouse(tmp_path)
    (tmp_path / "w.duckdb").symlink_to(db)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(users, "save_accounts", disk_full)
    status = _cli_in_process(monkeypatch, tmp_path, "add", "m.rossi", "--role", "ufficio_di_piano", "--password-stdin")
    err = capsys.readouterr().err
    assert status == 1 and "Impossibile scrivere il file degli utenti" in err and "Traceback" not in err
    log = audit.entries(db)
    assert log.select("oggetto", "esito", "dettaglio").rows() == [
        ("add m.rossi", "fallito", "ruolo ufficio_di_piano: file degli utenti non scritto (No space left on device)"),
        ("add m.rossi", "ok", "ruolo ufficio_di_piano"),
    ]  # newest first: the change, then its failure


def test_a_username_holding_a_codice_fiscale_is_refused():
    from tests.conftest import make_cf

    with pytest.raises(users.UsersError, match="codice fiscale"):
        users.add_user(make_cf().lower(), "regione", password=PASSWORD)
