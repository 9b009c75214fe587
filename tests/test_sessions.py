"""Session tokens (core/sessions.py): signed, server-side, closed at logout and when idle."""

from __future__ import annotations

import stat

from core import sessions
from core.sessions import SessionRegistry


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _registry(clock: _Clock, timeout: float = 600.0, key: bytes = b"k" * 32) -> SessionRegistry:
    return SessionRegistry(key, idle_timeout=lambda: timeout, clock=clock)


def test_a_token_resumes_its_session_and_holds_no_name_nor_password():
    clock = _Clock()
    registry = _registry(clock)
    token = registry.open("sindaco.crema", "locale")
    assert "sindaco" not in token and "crema" not in token
    clock.now += 599  # activity within the timeout keeps it open, and moves its clock
    result = registry.resume(token)
    assert result.motivo is None and result.session.utente == "sindaco.crema" and result.session.fonte == "locale"
    clock.now += 599
    assert registry.resume(token).motivo is None


def test_a_forged_or_altered_signature_is_refused():
    clock = _Clock()
    registry = _registry(clock)
    token = registry.open("ufficio", "locale")
    body, signature = token.rsplit(".", 1)
    altered = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert registry.resume(altered).motivo == "firma"
    other_key = _registry(clock, key=b"x" * 32).open("ufficio", "locale")  # signed with another key
    assert registry.resume(other_key).motivo == "firma"
    assert registry.resume("ufficio").motivo == "firma" and registry.resume(None).motivo == "sconosciuta"
    # a well-signed token of a session this server never opened (e.g. before a restart)
    assert _registry(clock).resume(token).motivo == "sconosciuta"


def test_logout_and_idle_timeout_close_the_session_for_every_copy_of_the_token():
    clock = _Clock()
    registry = _registry(clock, timeout=600)
    token = registry.open("ufficio", "locale")
    copy = str(token)
    registry.close(token)
    assert registry.resume(copy).motivo == "chiusa"
    idle = registry.open("ufficio", "locale")
    clock.now += 601
    assert registry.resume(idle).motivo == "scaduta"
    clock.now -= 300  # even back within the time: closed for good
    assert registry.resume(idle).motivo == "chiusa"


def test_an_identity_older_than_a_logout_is_recognised():
    clock = _Clock()
    registry = _registry(clock)
    registry.open("sindaco@comune.crema.cr.it", "oidc")
    issued = clock.now - 10
    clock.now += 5
    registry.close_user("sindaco@comune.crema.cr.it")
    assert registry.closed_since("sindaco@comune.crema.cr.it", issued)
    assert not registry.closed_since("sindaco@comune.crema.cr.it", clock.now + 1)  # logged in again after
    assert not registry.closed_since("altro@example.org", issued)


def test_the_key_is_created_owner_only_beside_the_users_file_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PDZ_USERS", str(tmp_path / "conf" / "users.toml"))
    path = sessions.key_path()
    assert path == (tmp_path / "conf" / "session.key").resolve()
    key = sessions.load_or_create_key()
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sessions.load_or_create_key() == key
