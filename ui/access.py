"""Who is using this session, and what they may see: Streamlit glue over `core.users`.

Identity:
* OIDC (`st.login`) when Streamlit secrets have an `[auth]` section: the identity is the
  provider's verified email, and its role comes from the users file (keyed by email);
* otherwise local accounts: the login form checks the argon2 hash in the users file and
  puts `{"utente", "fonte", "dal", "ultimo", "token"}` in `st.session_state[SESSION_KEY]`.

Either way the login opens a server-side session (`core.sessions`) and the browser keeps its
signed token in the `pdz_sessione` cookie (written by a component, read with `st.context.cookies`):
a reload, a shared link or a new tab of the same browser resumes the session, until logout or
idle timeout close it on the server (a copied cookie then opens nothing; one with a forged or
altered signature never does).

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
from datetime import datetime, timedelta

import streamlit as st

from core import sessions, settings, users
from core.login_throttle import LoginThrottle
from core.sessions import Session, SessionRegistry
from core.users import Access, Refusal
from etl import audit
from etl import queries as etl_queries
from indicators import fmt

SESSION_KEY = "pdz_auth"
FLASH_KEY = "pdz_auth_flash"
CLIENT_KEY = "pdz_login_client"  # a random token per browser session: whom a login wait applies to
COOKIE = "pdz_sessione"  # the browser's cookie: a signed session token (core.sessions)
COOKIE_PENDING = "pdz_cookie_pending"  # (token or None, serial): a cookie write the browser has not confirmed
COOKIE_SERIAL = "pdz_cookie_serial"
REFUSED_KEY = "pdz_cookie_refused"  # the cookie this browser session sent, already refused


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


# --- the session ----------------------------------------------------------------------


def _expire(record: dict) -> None:
    ruolo = record.get("ruolo")
    audit.record("sessione_scaduta", record.get("utente"), ruolo, esito="ok", db=settings.db_path())
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[FLASH_KEY] = "Sessione scaduta per inattività: accedere di nuovo."


# --- the session cookie (core.sessions): a signed token, the session itself on the server --------------


@st.cache_resource
def _registries() -> dict[str, SessionRegistry]:
    return {}


def _registry() -> SessionRegistry:
    """The session registry of this process, per signing key (the key lives beside the users file)."""
    path = sessions.key_path()
    registries = _registries()
    registry = registries.get(str(path))
    if registry is None:
        registry = registries[str(path)] = SessionRegistry(sessions.load_or_create_key(path))
    return registry


def _cookie_token() -> str | None:
    """The session cookie sent when this browser session connected (`st.context.cookies`, read-only)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no session context (a bare script)
        return None
    return value or None


def _write_cookie(token: str | None) -> None:
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


def _refuse_cookie(token: str, motivo: str | None, session: Session | None) -> None:
    """A cookie that opens nothing (forged, altered, closed, idle): forget it; say why when it expired now."""
    if st.session_state.get(REFUSED_KEY) == token:
        return
    st.session_state[REFUSED_KEY] = token
    _write_cookie(None)
    if motivo == "scaduta" and session is not None:
        _expire({"utente": session.utente})
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


def _resume_record(record: dict) -> bool:
    """A session of this browser tab: is its server-side session still open? (closes it when idle)"""
    token = record.get("token")
    if not token:
        return True  # set on the server by the tests' hook: the idle check below applies
    result = _registry().resume(token)
    if result.motivo is None:
        return True
    st.session_state.pop(SESSION_KEY, None)
    if result.motivo == "scaduta":
        _expire(record)
    else:
        st.session_state[FLASH_KEY] = "Sessione chiusa (uscita da un'altra scheda): accedere di nuovo."
    _write_cookie(None)
    return False


def _from_cookie(fonte: str, utente: str | None = None) -> dict | None:
    """A new browser session (reload, shared link, new tab): the session its cookie points at, if still open."""
    token = _cookie_token()
    if not token or st.session_state.get(REFUSED_KEY) == token:
        return None
    result = _registry().resume(token)
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
    _refuse_cookie(token, result.motivo or "altro", session)
    return None


def _open_session(utente: str, fonte: str, record: dict) -> None:
    st.session_state.pop(FLASH_KEY, None)  # «sessione scaduta», «uscita eseguita»: said until this login
    token = _registry().open(utente, fonte)
    record["token"] = token
    st.session_state.pop(REFUSED_KEY, None)
    _write_cookie(token)


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
        if record and record.get("utente") == email and not _resume_record(record):
            activity.last_seen.pop(email, None)
            st.logout()
            return None
        if not record or record.get("utente") != email:
            record = _from_cookie("oidc", email)
        if not record:
            issued = st.user.get("iat")
            if isinstance(issued, (int, float)) and _registry().closed_since(email, float(issued)):
                st.session_state[FLASH_KEY] = "Sessione chiusa: accedere di nuovo."  # an identity older than a logout
                st.logout()
                return None
            last = activity.last_seen.get(email)
            if last is not None and now - last > timeout:  # a new tab after a long pause: the cookie is stale
                activity.last_seen.pop(email, None)
                _expire({"utente": email})
                st.logout()
                return None
            record = {"utente": email, "fonte": "oidc", "dal": now, "ultimo": now}
            st.session_state[SESSION_KEY] = record
            _open_session(email, "oidc", record)
            account = accounts().get(email)
            audit.record("login", email, account.ruolo if account else None, "oidc", db=settings.db_path())
        elif now - float(record.get("ultimo", now)) > timeout:
            activity.last_seen.pop(email, None)
            _registry().close(record.get("token"), "inattività")
            _expire(record)
            st.logout()
            return None
        record["ultimo"] = now
        activity.last_seen[email] = now
        return email, "oidc"
    if record and not _resume_record(record):
        return None
    if not record:
        record = _from_cookie("locale")
    if not record or not record.get("utente") or record.get("fonte", "locale") != "locale":
        return None
    if now - float(record.get("ultimo", now)) > timeout:
        _registry().close(record.get("token"), "inattività")
        _expire(record)
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
    _open_session(name, "locale", record)  # the cookie: a reload or a shared link keeps the session
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
    _registry().close(record.get("token"), "uscita")  # the cookie, and any copy of it, opens nothing now
    if is_oidc:
        _activity().last_seen.pop(who or "", None)
        if who:
            _registry().close_user(who, "uscita")
    refused = _cookie_token()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[FLASH_KEY] = "Uscita eseguita."
    if refused:
        st.session_state[REFUSED_KEY] = refused  # sent at connection, closed now: never resumed again
    _write_cookie(None)
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


# --- screens -----------------------------------------------------------------------------


def _flash() -> None:
    # kept until the next login, not popped: the cookie component's confirmation reruns the script at once,
    # and a popped message would vanish before anybody read it
    message = st.session_state.get(FLASH_KEY)
    if message:
        st.info(message, icon=":material/info:")


def _ambito_title() -> None:
    info = settings.ambito_info()
    st.title(f"Monitoraggio del {info.get('piano', 'Piano di Zona')}")
    st.caption(info.get("nome", ""))


def login_screen() -> None:
    """The login: OIDC button(s) when configured, else the form for local accounts."""
    _ambito_title()
    _flash()
    section = oidc_settings()
    if section is not None:
        st.markdown("Per consultare il cruscotto accedere con l'account del proprio ente.")
        providers = oidc_providers(section)
        for name in providers or [None]:
            label = "Accedi" if name is None else f"Accedi con {name}"
            if st.button(label, type="primary", key=f"oidc_{name or 'default'}", icon=":material/login:"):
                st.login(name) if name else st.login()
        return
    left, _ = st.columns([2, 3])
    with left, st.form("login", clear_on_submit=True, enter_to_submit=True):
        st.subheader("Accesso")
        username = st.text_input("Nome utente", key="login_utente", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("Accedi", type="primary", icon=":material/login:")
    if submitted:
        error = try_login(username, password)
        if error:
            st.error(error, icon=":material/lock:")
        else:
            st.rerun()
    st.caption(
        "Gli account sono personali e li crea l'Ufficio di Piano. Password dimenticata: chiedere all'Ufficio di "
        "Piano di reimpostarla. La sessione si chiude dopo "
        f"{fmt.duration(settings.idle_timeout_seconds())} di inattività."
    )


def setup_screen(problem: str | None) -> None:
    """A real warehouse, no account and no OIDC: how to create the first Ufficio di Piano account."""
    _ambito_title()
    if problem:
        st.error(problem, icon=":material/error:")
    st.warning(
        "**Nessun account configurato.** Il cruscotto contiene dati reali e non è consultabile finché l'Ufficio di "
        "Piano non crea il primo account.",
        icon=":material/lock:",
    )
    st.markdown(
        "Sul server, nella cartella del progetto, creare l'account dell'Ufficio di Piano (la password viene "
        "chiesta due volte e non compare a video):"
    )
    st.code("python -m etl users add NOME --role ufficio_di_piano", language="bash")
    st.markdown(
        f"Il file degli utenti è `{settings.users_path()}` (impostazione `PDZ_USERS`). In alternativa configurare "
        "l'accesso OIDC nella sezione `[auth]` di `.streamlit/secrets.toml` (vedere il README). Poi ricaricare "
        "questa pagina."
    )


def denied_screen(gate: Gate) -> None:
    """Logged in, but no valid role: nothing of the dashboard, a reason, the way out."""
    _ambito_title()
    st.error(
        f"**Accesso non consentito** per «{gate.utente}»: {gate.motivo}. Chiedere all'Ufficio di Piano di "
        "assegnare un ruolo (Ufficio di Piano, sindaco con il suo comune, Regione).",
        icon=":material/block:",
    )
    if st.button("Esci", icon=":material/logout:", key="logout_denied"):
        logout(None, gate.utente)


def gate_screen(gate: Gate) -> None:
    if gate.kind == "setup":
        setup_screen(gate.motivo)
    elif gate.kind == "denied":
        denied_screen(gate)
    else:
        login_screen()


def sidebar_identity(access: Access, comune_name: str | None = None) -> None:
    """Who is logged in, and the logout button."""
    with st.sidebar:
        if access.fonte == "demo":
            st.caption("Accesso dimostrativo aperto (nessun account configurato)")
            return
        who = access.ruolo_label + (f" di {comune_name}" if comune_name else "")
        st.markdown(f":material/person: **{access.utente}**  \n{who}")
        if st.button("Esci", icon=":material/logout:", key="logout"):
            logout(access)
