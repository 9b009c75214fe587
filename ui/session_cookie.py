"""The logged-in session of a browser: the signed cookie and the session registry on the server.

A login opens a server-side session (`core.sessions`) and the browser keeps its signed token in the
`pdz_sessione` cookie (written by a component, read with `st.context.cookies`): a reload, a shared
link or a new tab of the same browser resumes the session until logout or idle timeout close it on
the server. `ui.access` decides who may see what; this module only keeps the session.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import streamlit as st

from core import sessions, settings
from core.sessions import Session, SessionRegistry
from etl import audit

SESSION_KEY = "pdz_auth"
FLASH_KEY = "pdz_auth_flash"
COOKIE = "pdz_sessione"  # the browser's cookie: a signed session token (core.sessions)
COOKIE_PENDING = "pdz_cookie_pending"  # (token or None, serial): a cookie write the browser has not confirmed
COOKIE_SERIAL = "pdz_cookie_serial"
REFUSED_KEY = "pdz_cookie_refused"  # the cookie this browser session sent, already refused


# --- the session ----------------------------------------------------------------------


def expire(record: dict) -> None:
    ruolo = record.get("ruolo")
    audit.record("sessione_scaduta", record.get("utente"), ruolo, esito="ok", db=settings.db_path())
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[FLASH_KEY] = "Sessione scaduta per inattività: accedere di nuovo."


# --- the session cookie (core.sessions): a signed token, the session itself on the server --------------


@st.cache_resource
def _registries() -> dict[str, SessionRegistry]:
    return {}


def registry() -> SessionRegistry:
    """The session registry of this process, per signing key (the key lives beside the users file)."""
    path = sessions.key_path()
    registries = _registries()
    registry = registries.get(str(path))
    if registry is None:
        registry = registries[str(path)] = SessionRegistry(sessions.load_or_create_key(path))
    return registry


def cookie_token() -> str | None:
    """The session cookie sent when this browser session connected (`st.context.cookies`, read-only)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no session context (a bare script)
        return None
    return value or None


def write_cookie(token: str | None) -> None:
    """Ask the browser to store the token (None: forget it), at the next run (`sync_cookie`)."""
    serial = int(st.session_state.get(COOKIE_SERIAL, 0)) + 1
    st.session_state[COOKIE_SERIAL] = serial
    st.session_state[COOKIE_PENDING] = (token, serial)


def sync_cookie() -> None:
    """Write or delete the session cookie in the browser (extra-streamlit-components' CookieManager).

    Streamlit reads cookies (`st.context.cookies`) but cannot write them: the component sets
    `document.cookie` from its frame (same origin), SameSite=Strict, Secure under https. Drawn
    by the router at every run until the browser confirms."""
    pending = st.session_state.get(COOKIE_PENDING)
    if not pending:
        return
    token, serial = pending
    key = f"pdz_cookie_{serial}"
    if st.session_state.get(key) is True:  # the browser confirmed
        st.session_state.pop(COOKIE_PENDING, None)
        return
    import extra_streamlit_components as stx

    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    manager = stx.CookieManager(key=f"pdz_cookies_{serial}")
    expires = datetime.now() + timedelta(seconds=sessions.MAX_AGE) if token else datetime(1970, 1, 2)
    manager.set(
        COOKIE, token or "-", key=key, expires_at=expires, secure=url.startswith("https") or None, same_site="strict"
    )


def refuse_cookie(token: str, motivo: str | None, session: Session | None) -> None:
    """A cookie that opens nothing (forged, altered, closed, idle): forget it; say why when it expired now."""
    if st.session_state.get(REFUSED_KEY) == token:
        return
    st.session_state[REFUSED_KEY] = token
    write_cookie(None)
    if motivo == "scaduta" and session is not None:
        expire({"utente": session.utente})
    elif motivo == "firma":
        audit.record(
            "sessione_rifiutata",
            None,
            None,
            "cookie di sessione",
            "rifiutato",
            "firma non valida",
            db=settings.db_path(),
        )


def resume_record(record: dict) -> bool:
    """A session of this browser tab: is its server-side session still open? (closes it when idle)"""
    token = record.get("token")
    if not token:
        return True  # set on the server by the tests' hook: the idle check below applies
    result = registry().resume(token)
    if result.motivo is None:
        return True
    st.session_state.pop(SESSION_KEY, None)
    if result.motivo == "scaduta":
        expire(record)
    else:
        st.session_state[FLASH_KEY] = "Sessione chiusa (uscita da un'altra scheda): accedere di nuovo."
    write_cookie(None)
    return False


def from_cookie(fonte: str, utente: str | None = None) -> dict | None:
    """A new browser session (reload, shared link, new tab): the session its cookie points at, if still open."""
    token = cookie_token()
    if not token or st.session_state.get(REFUSED_KEY) == token:
        return None
    result = registry().resume(token)
    session = result.session
    if result.motivo is None and session is not None and session.fonte == fonte and utente in (None, session.utente):
        record = {
            "utente": session.utente,
            "fonte": fonte,
            "dal": session.opened_at,
            "ultimo": time.time(),
            "token": token,
        }
        st.session_state[SESSION_KEY] = record
        return record
    refuse_cookie(token, result.motivo or "altro", session)
    return None


def open_session(utente: str, fonte: str, record: dict) -> None:
    st.session_state.pop(FLASH_KEY, None)  # «sessione scaduta», «uscita eseguita»: said until this login
    token = registry().open(utente, fonte)
    record["token"] = token
    st.session_state.pop(REFUSED_KEY, None)
    write_cookie(token)
