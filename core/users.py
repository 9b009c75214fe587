"""Accounts and roles: who may see what. No Streamlit here.

The users file (`PDZ_USERS`, default `users.toml` beside the warehouse, never in git)
is the one table the Ufficio di Piano maintains with `python -m etl users`:

    [utenti."m.rossi"]                          # a local account (login form)
    ruolo = "ufficio_di_piano"
    password = "$argon2id$v=19$..."             # argon2id hash, never the password

    [utenti."sindaco@comune.crema.cr.it"]      # an OIDC identity (st.login): keyed by email
    ruolo = "sindaco"
    comune = "019035"

With OIDC configured (an `[auth]` section in Streamlit secrets) the identity is the
verified email of the provider and the same file gives its role; otherwise users log in
with name and password. Fail closed: no entry, an unknown role, or a sindaco without a
comune of the ambito gives no access at all (`access_for` returns a refusal).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core import redact, settings
from core.private_files import private_dir

ROLES = {
    "ufficio_di_piano": "Ufficio di Piano",
    "sindaco": "Sindaco",
    "regione": "Regione",
}
ALL_LEVELS = ("comune", "sub_ambito", "ambito")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,119}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, 64 MiB, 3 passes (RFC 9106 second recommendation)


@functools.cache
def _dummy_hash() -> str:
    """A hash verified for unknown users, so they take as long as known ones (made once, on first use)."""
    return _hasher.hash("pdz-monitor: nessun utente con questo nome")


class UsersError(ValueError):
    """A users-file operation was refused (message in Italian)."""


# --- passwords ----------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted argon2id hash (the salt and the parameters are inside the string)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"La password deve avere almeno {MIN_PASSWORD} caratteri.")
    if password.strip().lower() == username.lower():
        raise UsersError("La password non può coincidere con il nome utente.")


# --- the file -----------------------------------------------------------------------


@dataclass
class Account:
    utente: str
    ruolo: str
    comune: str | None = None
    password: str | None = None  # argon2 hash; None for an OIDC identity
    creato: str | None = None
    aggiornato: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return bool(self.password)


def normalize_username(name: str) -> str:
    return (name or "").strip().lower()


def users_path() -> Path:
    return settings.users_path()


def load_accounts(path: Path | None = None) -> dict[str, Account]:
    """All entries of the users file ({} when it does not exist). A malformed file raises UsersError."""
    path = Path(path or users_path())
    if not path.exists():
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsersError(f"Il file degli utenti {path} non è leggibile: {exc}") from exc
    out = {}
    for name, entry in (data.get("utenti") or {}).items():
        if not isinstance(entry, dict):
            continue
        key = normalize_username(name)
        known = {"ruolo", "comune", "password", "creato", "aggiornato"}
        out[key] = Account(
            utente=key,
            ruolo=str(entry.get("ruolo") or ""),
            comune=str(entry["comune"]) if entry.get("comune") else None,
            password=entry.get("password") or None,
            creato=entry.get("creato"),
            aggiornato=entry.get("aggiornato"),
            extra={k: v for k, v in entry.items() if k not in known},
        )
    return out


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def save_accounts(accounts: dict[str, Account], path: Path | None = None) -> Path:
    """Write the users file atomically, readable by its owner only."""
    path = Path(path or users_path())
    private_dir(path.parent)  # owner-only when created here
    lines = [
        "# pdz-monitor: utenti e ruoli. Gestire con `python -m etl users` (non modificare gli hash a mano).",
        "# Ruoli: ufficio_di_piano, sindaco (con comune), regione.",
        "",
    ]
    for name in sorted(accounts):
        a = accounts[name]
        lines.append(f"[utenti.{_toml_str(name)}]")
        lines.append(f"ruolo = {_toml_str(a.ruolo)}")
        if a.comune:
            lines.append(f"comune = {_toml_str(a.comune)}")
        if a.password:
            lines.append(f"password = {_toml_str(a.password)}")
        for key in ("creato", "aggiornato"):
            if getattr(a, key):
                lines.append(f"{key} = {_toml_str(getattr(a, key))}")
        for key, value in a.extra.items():
            if isinstance(value, str):
                lines.append(f"{key} = {_toml_str(value)}")
        lines.append("")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


# --- the territory ------------------------------------------------------------------


def ambito_comuni() -> dict[str, str]:
    """ISTAT code -> name of the ambito's comuni (from the ambito folder)."""
    from core import territory

    df = territory.comuni_file()
    return dict(zip(df["comune"].to_list(), df["nome"].to_list()))


def resolve_comune(value: str) -> str:
    """An ISTAT code or a name of a comune of the ambito -> its 6-digit code (UsersError otherwise)."""
    from core import territory
    from core.normalize import comune_key

    comuni = ambito_comuni()
    text = (value or "").strip()
    if text.isdigit():
        code = territory.istat_code(text)
        if code in comuni:
            return code
    else:
        by_key = {comune_key(n): c for c, n in comuni.items()}
        if comune_key(text) in by_key:
            return by_key[comune_key(text)]
    raise UsersError(f"«{value}» non è un comune dell'ambito ({settings.ambito_info().get('nome', '')}).")


# --- managing accounts (the CLI) -----------------------------------------------------


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


BeforeSave = Callable[[Account], None]  # called once the change is checked, before the file is written


def add_user(
    username: str,
    ruolo: str,
    comune: str | None = None,
    password: str | None = None,
    path: Path | None = None,
    before_save: BeforeSave | None = None,
) -> Account:
    """Add an account. `password=None`: an OIDC identity (the username is its email).

    `before_save(account)` runs when every check has passed, before the file is written (the CLI
    writes the audit entry there: if it raises, nothing changes).
    """
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise UsersError(
            f"Nome utente non valido: «{redact.safe_text(username, 120)}». Usare lettere minuscole, cifre e "
            ". _ - @ + (da 2 a 120 caratteri)."
        )
    if redact.identifiers_in(name):
        raise UsersError(
            "Il nome utente non può contenere un codice fiscale o un altro codice che identifichi una persona "
            "(resterebbe nel registro degli accessi): sceglierne un altro."
        )
    if ruolo not in ROLES:
        raise UsersError(f"Ruolo sconosciuto: «{ruolo}». Ruoli: {', '.join(ROLES)}.")
    code = None
    if ruolo == "sindaco":
        if not comune:
            raise UsersError("Un account con ruolo sindaco richiede il comune (--comune, codice ISTAT o nome).")
        code = resolve_comune(comune)
    elif comune:
        raise UsersError("Il comune si indica solo per il ruolo sindaco.")
    if password is None and "@" not in name:
        raise UsersError("Un account senza password è un'identità OIDC: il nome utente deve essere l'email.")
    accounts = load_accounts(path)
    if name in accounts:
        raise UsersError(f"L'utente «{name}» esiste già (usare reset per cambiare la password).")
    hashed = None
    if password is not None:
        check_password_strength(password, name)
        hashed = hash_password(password)
    account = Account(name, ruolo, code, hashed, creato=_now())
    accounts[name] = account
    if before_save:
        before_save(account)
    save_accounts(accounts, path)
    return account


def remove_user(username: str, path: Path | None = None, before_save: BeforeSave | None = None) -> None:
    name = normalize_username(username)
    accounts = load_accounts(path)
    if name not in accounts:
        raise UsersError(f"L'utente «{redact.safe_text(name, 120)}» non esiste.")
    account = accounts.pop(name)
    if before_save:
        before_save(account)
    save_accounts(accounts, path)


def reset_password(
    username: str, password: str, path: Path | None = None, before_save: BeforeSave | None = None
) -> Account:
    name = normalize_username(username)
    accounts = load_accounts(path)
    if name not in accounts:
        raise UsersError(f"L'utente «{redact.safe_text(name, 120)}» non esiste.")
    check_password_strength(password, name)
    account = accounts[name]
    account.password = hash_password(password)
    account.aggiornato = _now()
    if before_save:
        before_save(account)
    save_accounts(accounts, path)
    return account


# --- who may do what --------------------------------------------------------------------


def levels_for(ruolo: str) -> tuple[str, ...]:
    """The territorial levels a role may see, on every screen and in every export or report.

    The one rule: the Regione sees the ambito and the sub-ambiti only (no value of any comune);
    the Ufficio di Piano and the sindaci see every level. An unknown role sees nothing.
    """
    if ruolo == "regione":
        return ("sub_ambito", "ambito")
    return ALL_LEVELS if ruolo in ROLES else ()


def audiences_for(ruolo: str) -> tuple[str, ...]:
    """The views a role may see: the first is the default. Only the Ufficio di Piano sees unsuppressed data."""
    return ("pubblico", "ufficio") if ruolo == "ufficio_di_piano" else ("pubblico",)


@dataclass(frozen=True)
class Access:
    """A valid identity with a valid role: what the dashboard lets it see and do."""

    utente: str
    ruolo: str
    comune: str | None = None
    fonte: str = "locale"  # locale | oidc | demo

    @property
    def ruolo_label(self) -> str:
        return ROLES[self.ruolo]

    @property
    def audiences(self) -> tuple[str, ...]:
        """The views allowed: the first is the default (`audiences_for`)."""
        return audiences_for(self.ruolo)

    @property
    def levels(self) -> tuple[str, ...]:
        """Territorial levels shown and exported (`levels_for`): the Regione, the ambito and the sub-ambiti."""
        return levels_for(self.ruolo)

    @property
    def sees_comuni(self) -> bool:
        return "comune" in self.levels

    @property
    def is_office(self) -> bool:
        """Uploads, target editing, the audit log."""
        return self.ruolo == "ufficio_di_piano"


@dataclass(frozen=True)
class Refusal:
    """An identity the dashboard will not serve (fail closed), with the reason in Italian."""

    utente: str
    motivo: str


def access_for(account: Account | None, utente: str, fonte: str) -> Access | Refusal:
    """Map an account to its access; anything incomplete or unknown is a refusal."""
    if account is None:
        return Refusal(utente, "questo account non ha un ruolo assegnato nel cruscotto")
    if account.ruolo not in ROLES:
        return Refusal(utente, f"il ruolo «{account.ruolo}» non è previsto")
    if account.ruolo == "sindaco":
        if not account.comune:
            return Refusal(utente, "l'account del sindaco non indica il comune")
        try:
            code = resolve_comune(account.comune)
        except UsersError:
            return Refusal(utente, f"il comune «{account.comune}» dell'account non è nell'ambito")
        return Access(account.utente, account.ruolo, code, fonte)
    return Access(account.utente, account.ruolo, None, fonte)


def authenticate(username: str, password: str, path: Path | None = None) -> Account | None:
    """The local account when the password matches (same work whether or not the user exists)."""
    name = normalize_username(username)
    account = load_accounts(path).get(name)
    hashed = account.password if account else None
    if not verify_password(hashed, password) or account is None:
        return None
    return account
