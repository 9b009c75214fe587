"""The screens shown instead of the dashboard (login, first set-up, refused) and who is logged in,
in the sidebar. The decisions are in `ui.access`; this module only draws."""

from __future__ import annotations

import streamlit as st

from core import settings
from core.users import Access
from indicators import fmt
from ui.access import Gate, logout, oidc_providers, oidc_settings, try_login
from ui.session_cookie import FLASH_KEY

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
