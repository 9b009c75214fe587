"""Who is using this session, and what they may see: Streamlit glue over `core.users`.

Identity:
* OIDC (`st.login`) when Streamlit secrets have an `[auth]` section: the identity is the
  provider's verified email, and its role comes from the users file (keyed by email);
* otherwise local accounts: the login form checks the argon2 hash in the users file and
  puts `{"utente", "fonte", "dal", "ultimo", "token"}` in `st.session_state[SESSION_KEY]`.

Either way the login opens a server-side session and the browser keeps its signed token in a
cookie (`ui.session_cookie`): a reload, a shared link or a new tab of the same browser resumes the
session, until logout or idle timeout close it on the server (a copied cookie then opens nothing;
one with a forged or altered signature never does). The screens shown instead of the dashboard
are drawn by `ui.login_screens`.

The role is read again from the users file at every run: an account removed or changed by
the Ufficio di Piano takes effect at the next click. Tests set the identity the way the
login form does (`st.session_state[SESSION_KEY] = {"utente": ...}`, see tests/test_auth.py).

Gates (no access): "login" (nobody logged in), "setup" (a real warehouse with no account
and no OIDC), "denied" (an identity with no valid role, fail closed).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from core import settings, users
from core.login_throttle import LoginThrottle
from core.users import Access, Refusal
from etl import audit
from etl import queries as etl_queries
from ui import session_cookie as cookies
from ui.session_cookie import FLASH_KEY, REFUSED_KEY, SESSION_KEY

CLIENT_KEY = "pdz_login_client"  # a random token per browser session: whom a login wait applies to


@dataclass(frozen=True)
class Gate:
    """No access for this session: which screen to show instead of the dashboard."""

    kind: str  # login | setup | denied
    utente: str | None = None
    motivo: str | None = None


class _Activity:
    """Process-wide memory of last activity (OIDC identities) and failed logins (`core.login_throttle`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_seen: dict[str, float] = {}
        self.throttle = LoginThrottle()


@st.cache_resource
def _activity() -> _Activity:
    return _Activity()


# --- configuration ---------------------------------------------------------------------


def oidc_settings() -> Mapping | None:
    """The `[auth]` section of Streamlit secrets, or None (no secrets file, or no section)."""
    try:
        section = st.secrets.get("auth")
    except (FileNotFoundError, KeyError, AttributeError, OSError):
        return None
    except Exception:  # a malformed secrets file: no OIDC (the local login still works)
        return None
    return section if isinstance(section, Mapping) and section else None


def oidc_providers(section: Mapping) -> list[str]:
    """Named providers (`[auth.name]`); [] means the unnamed default provider."""
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def accounts() -> dict[str, users.Account]:
    try:
        return users.load_accounts()
    except users.UsersError:
        return {}  # unreadable file: nobody gets in (fail closed), the setup gate says why


def users_file_problem() -> str | None:
    try:
        users.load_accounts()
    except users.UsersError as exc:
        return str(exc)
    return None


def _session_identity(is_demo: bool) -> tuple[str, str] | None:
    """(identity, source) of this session, None when nobody is logged in (after the idle check)."""
    now = time.time()
    timeout = settings.idle_timeout_seconds()
    record = st.session_state.get(SESSION_KEY)
    section = oidc_settings()
    if section is not None:
        if st.user.get("is_logged_in") is not True:
            st.session_state.pop(SESSION_KEY, None)
            return None
        email = users.normalize_username(str(st.user.get("email") or ""))
        if not email or st.user.get("email_verified") is False:
            return None
        activity = _activity()
        if record and record.get("utente") == email and not cookies.resume_record(record):
            activity.last_seen.pop(email, None)
            st.logout()
            return None
        if not record or record.get("utente") != email:
            record = cookies.from_cookie("oidc", email)
        if not record:
            issued = st.user.get("iat")
            if isinstance(issued, (int, float)) and cookies.registry().closed_since(email, float(issued)):
                st.session_state[FLASH_KEY] = "Sessione chiusa: accedere di nuovo."  # an identity older than a logout
                st.logout()
                return None
            last = activity.last_seen.get(email)
            if last is not None and now - last > timeout:  # a new tab after a long pause: the cookie is stale
                activity.last_seen.pop(email, None)
                cookies.expire({"utente": email})
                st.logout()
                return None
            record = {"utente": email, "fonte": "oidc", "dal": now, "ultimo": now}
            st.session_state[SESSION_KEY] = record
            cookies.open_session(email, "oidc", record)
            account = accounts().get(email)
            audit.record("login", email, account.ruolo if account else None, "oidc", db=settings.db_path())
        elif now - float(record.get("ultimo", now)) > timeout:
            activity.last_seen.pop(email, None)
            cookies.registry().close(record.get("token"), "inattività")
            cookies.expire(record)
            st.logout()
            return None
        record["ultimo"] = now
        activity.last_seen[email] = now
        return email, "oidc"
    if record and not cookies.resume_record(record):
        return None
    if not record:
        record = cookies.from_cookie("locale")
    if not record or not record.get("utente") or record.get("fonte", "locale") != "locale":
        return None
    if now - float(record.get("ultimo", now)) > timeout:
        cookies.registry().close(record.get("token"), "inattività")
        cookies.expire(record)
        return None
    record["ultimo"] = now
    return str(record["utente"]), "locale"


def current_access(is_demo: bool) -> Access | Gate:
    """The access of this session, or the gate to show instead (fail closed)."""
    section = oidc_settings()
    if section is None and not settings.users_path().exists() and is_demo:
        return Access("demo", "ufficio_di_piano", None, "demo")
    identity = _session_identity(is_demo)
    if identity is None:
        if section is None and not accounts():
            return Gate("setup", motivo=users_file_problem())
        return Gate("login")
    utente, fonte = identity
    account = accounts().get(utente)
    if fonte == "locale" and (account is None or not account.is_local):
        st.session_state.pop(SESSION_KEY, None)  # the account was removed or changed: log in again
        return Gate("login")
    result = users.access_for(account, utente, fonte)
    if isinstance(result, Refusal):
        return Gate("denied", result.utente, result.motivo)
    st.session_state[SESSION_KEY]["ruolo"] = result.ruolo
    return result


# --- actions -----------------------------------------------------------------------------


def _source() -> str:
    """The address of the connection (`st.context.ip_address`; None on localhost, a reverse proxy's own
    address behind one): it only adds to a name's failure count, it never locks (see core.login_throttle)."""
    try:
        return st.context.ip_address or "locale"
    except Exception:  # no session context (a bare script)
        return "locale"


def _client() -> str:
    token = st.session_state.get(CLIENT_KEY)
    if not token:
        token = st.session_state[CLIENT_KEY] = secrets.token_hex(16)
    return token


def _seconds(wait: float) -> str:
    n = max(1, math.ceil(wait))
    return "1 secondo" if n == 1 else f"{n} secondi"


def try_login(username: str, password: str) -> str | None:
    """Check a local login; on success the session is logged in. Returns an Italian error or None.

    After repeated failures the password is checked only once this session has waited a growing delay
    (at most a minute): guessing is slowed, and nobody can lock the real user out (core.login_throttle).
    """
    name = users.normalize_username(username)[:120]
    now = time.time()
    throttle = _activity().throttle
    db = settings.db_path()
    if not name or not password:
        return "Inserire nome utente e password."
    source, client = _source(), _client()
    decision = throttle.attempt(name, source, client)
    if not decision.check:
        audit.record(
            "login_fallito",
            name,
            None,
            "locale",
            "rifiutato",
            f"troppi tentativi: attesa di {_seconds(decision.wait)} richiesta",
            db=db,
        )
        return (
            f"Troppi tentativi non riusciti: per sicurezza attendere {_seconds(decision.wait)}, poi inserire di "
            "nuovo la password e premere Accedi. Password dimenticata: chiedere all'Ufficio di Piano."
        )
    account = users.authenticate(name, password)
    if account is None:
        throttle.failed(name, source, client)
        audit.record("login_fallito", name, None, "locale", "rifiutato", "nome utente o password errati", db=db)
        return "Nome utente o password non corretti."
    throttle.succeeded(name, client)
    record = {"utente": name, "fonte": "locale", "dal": now, "ultimo": now, "ruolo": account.ruolo}
    st.session_state[SESSION_KEY] = record
    cookies.open_session(name, "locale", record)  # the cookie: a reload or a shared link keeps the session
    audit.record("login", name, account.ruolo, "locale", db=db)
    return None


def logout(access: Access | None = None, utente: str | None = None) -> None:
    """Close the session: audit, forget the identity and every filter, and for OIDC the cookie."""
    who = access.utente if access else utente
    audit.record(
        "logout", who, access.ruolo if access else None, access.fonte if access else None, db=settings.db_path()
    )
    is_oidc = (access.fonte if access else None) == "oidc" or oidc_settings() is not None
    record = st.session_state.get(SESSION_KEY) or {}
    cookies.registry().close(record.get("token"), "uscita")  # the cookie, and any copy of it, opens nothing now
    if is_oidc:
        _activity().last_seen.pop(who or "", None)
        if who:
            cookies.registry().close_user(who, "uscita")
    refused = cookies.cookie_token()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[FLASH_KEY] = "Uscita eseguita."
    if refused:
        st.session_state[REFUSED_KEY] = refused  # sent at connection, closed now: never resumed again
    cookies.write_cookie(None)
    if is_oidc:
        st.logout()
    else:
        st.rerun()


def refuse(access: Access | None, what: str, message: str) -> None:
    """Log a refused page or action (the page then shows its message and stops)."""
    audit.record(
        "accesso_negato",
        access.utente if access else None,
        access.ruolo if access else None,
        what,
        "rifiutato",
        message,
        db=settings.db_path(),
    )


def is_demo_warehouse(con) -> bool:
    """Demo data only: a demo warehouse holding real loads (made before the loader refused them) is not open."""
    return etl_queries.is_pure_demo(con)
