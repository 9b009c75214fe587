"""Dashboard sessions that survive a reload and a shared link. No Streamlit here.

After a login the browser keeps a cookie holding a *signed session token*: a random session id
signed with the server's key (`itsdangerous`, HMAC-SHA-256, with its issue time). The token holds
no password and no role; without the key it cannot be made or altered (a forged or altered
signature is refused). The session itself lives on the server, in this process's registry:
session id → user, source, last activity, closed or not. So a copied cookie is worth nothing once
its session is closed, at logout or after `idle_timeout` seconds without activity, even if the
copy is still in some browser; a server restart closes every session (log in again).

The key is `session.key` beside the users file (0600, created on first use, never in git):
changing or deleting it invalidates every token.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import settings
from core.private_files import FILE_MODE, private_dir

SALT = "pdz-monitor-sessione"
MAX_AGE = 7 * 24 * 3600  # a token older than a week is refused whatever its session says
KEY_BYTES = 32


def key_path() -> Path:
    """`session.key` beside the users file."""
    return settings.users_path().resolve().parent / "session.key"


def load_or_create_key(path: Path | None = None) -> bytes:
    """The signing key (created owner-only with 32 random bytes when missing)."""
    path = Path(path or key_path())
    try:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 2 * KEY_BYTES:
            return bytes.fromhex(text)
    except (OSError, ValueError):
        pass
    private_dir(path.parent)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


@dataclass
class Session:
    sid: str
    utente: str
    fonte: str  # locale | oidc
    opened_at: float
    last_seen: float
    closed: str | None = None  # None (open) | "uscita" | "inattività"


@dataclass(frozen=True)
class Resumed:
    """The answer to a token: the session, or why not (`motivo`: firma | scaduta | chiusa | sconosciuta)."""

    session: Session | None
    motivo: str | None = None


class SessionRegistry:
    """Open sessions of this process (thread-safe); `clock` and `idle_timeout` are injectable for tests."""

    def __init__(
        self,
        key: bytes,
        idle_timeout: Callable[[], float] = settings.idle_timeout_seconds,
        clock: Callable[[], float] = time.time,
        max_age: float = MAX_AGE,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=SALT)
        self.idle_timeout, self.clock, self.max_age = idle_timeout, clock, max_age
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._closed_at: dict[str, float] = {}  # user -> when their last session was closed

    def open(self, utente: str, fonte: str) -> str:
        """A new session for `utente`: its signed token (for the cookie)."""
        now = self.clock()
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._prune(now)
            self._sessions[sid] = Session(sid, utente, fonte, now, now)
        return self.sign(sid)

    def sign(self, sid: str) -> str:
        return self._serializer.dumps(sid)

    def _sid(self, token: str) -> str | None:
        try:
            sid = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            return None
        except BadSignature:
            return None
        return sid if isinstance(sid, str) else None

    def resume(self, token: str | None, touch: bool = True) -> Resumed:
        """The open session of a token, its activity updated; else why not. An idle one is closed here."""
        if not token:
            return Resumed(None, "sconosciuta")
        sid = self._sid(token)
        if sid is None:
            return Resumed(None, "firma")
        now = self.clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return Resumed(None, "sconosciuta")
            if session.closed:
                return Resumed(session, "chiusa")
            if now - session.last_seen > self.idle_timeout():
                self._close(session, "inattività", now)
                return Resumed(session, "scaduta")
            if touch:
                session.last_seen = now
            return Resumed(session)

    def close(self, token: str | None, motivo: str = "uscita") -> Session | None:
        """Close the session of a token (logout): its cookie, or any copy of it, opens nothing any more."""
        sid = self._sid(token) if token else None
        with self._lock:
            session = self._sessions.get(sid) if sid else None
            if session and not session.closed:
                self._close(session, motivo, self.clock())
            return session

    def close_user(self, utente: str, motivo: str = "uscita") -> None:
        """Close every session of a user (an OIDC logout: the provider's cookie is per browser)."""
        now = self.clock()
        with self._lock:
            for session in self._sessions.values():
                if session.utente == utente and not session.closed:
                    self._close(session, motivo, now)
            self._closed_at[utente] = now

    def closed_since(self, utente: str, issued_at: float) -> bool:
        """Was a session of `utente` closed after `issued_at` (an identity cookie older than a logout)?"""
        with self._lock:
            closed = self._closed_at.get(utente)
        return closed is not None and closed >= issued_at

    def _close(self, session: Session, motivo: str, now: float) -> None:
        session.closed = motivo
        self._closed_at[session.utente] = now

    def _prune(self, now: float) -> None:
        """Forget sessions idle or closed for longer than the token's life (memory stays bounded)."""
        for sid, s in list(self._sessions.items()):
            if now - s.last_seen > self.max_age:
                del self._sessions[sid]
