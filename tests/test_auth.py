"""Roles in the dashboard (AppTest): what each role sees, what it may not, default-deny, cache isolation.

The test hook is the one the login form uses: `st.session_state[access.SESSION_KEY] =
{"utente": NAME, "fonte": "locale", ...}` set before the first run (`login_as`). The role is
not in the session: every run reads it from the users file beside the test warehouse, as in
production, so a test exercises the real mapping (and can't grant itself a role).
"""

from __future__ import annotations

import shutil
import time

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import users, warehouse
from core.settings import REPO_ROOT
from etl import audit
from indicators import api, views
from tests.conftest import demo_warehouse_env, open_page
from ui import access as auth
from ui import menu

TIMEOUT = 90
PASSWORD = "una-password-di-prova"
CREMA = "019035"
OIDC_MAYOR = "sindaco@comune.crema.cr.it"
OIDC_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "pdz",
    "client_secret": "s", "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}  # fmt: skip


def _write_accounts(path) -> None:
    users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=path)
    users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=path)
    users.add_user("regione", "regione", password=PASSWORD, path=path)
    users.add_user(OIDC_MAYOR, "sindaco", "019035", path=path)  # an OIDC identity: no password
    # hand-edited entries the dashboard must refuse (fail closed)
    accounts = users.load_accounts(path)
    hashed = accounts["ufficio"].password
    accounts["assessore"] = users.Account("assessore", "assessore", None, hashed)
    accounts["sindaco.senza"] = users.Account("sindaco.senza", "sindaco", None, hashed)
    accounts["sindaco.fuori"] = users.Account("sindaco.fuori", "sindaco", "015146", hashed)  # Milano
    users.save_accounts(accounts, path)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A demo warehouse with a users file beside it (so no open demo access)."""
    with demo_warehouse_env(tmp_path_factory.mktemp("auth"), lambda tmp: _write_accounts(tmp / "users.toml")) as db:
        yield db


@pytest.fixture(scope="module")
def tables(site):
    with warehouse.reader(site) as con:
        return {a: api.indicator_table(con, audience=a) for a in ("pubblico", "ufficio")}


def login_as(at: AppTest, name: str | None, last_seen: float | None = None) -> AppTest:
    """The test hook: what the login form stores after a good password."""
    if name is not None:
        now = time.time()
        at.session_state[auth.SESSION_KEY] = {"utente": name, "fonte": "locale", "dal": now, "ultimo": last_seen or now}
    return at


def run_as(name: str | None, page: str = "pages/panoramica.py", **query) -> AppTest:
    at = login_as(AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT), name)
    return open_page(at, page, **query)


def texts(at: AppTest) -> str:
    kinds = ("title", "error", "warning", "info", "markdown", "caption")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def visible_paths(ruolo: str) -> set[str]:
    return {e.url_path for entries in menu.menu_for(ruolo).values() for e in entries}


# --- the menu per role ------------------------------------------------------------------


def test_menu_per_role():
    everything = {e.url_path for e in menu.all_entries()}
    assert visible_paths("ufficio_di_piano") == everything
    assert visible_paths("sindaco") == everything - {"dati", "registro"}
    assert visible_paths("regione") == everything - {"dati", "registro", "comune"}
    assert visible_paths("assessore") == set()
    for ruolo in users.ROLES:  # what is not in the menu is registered hidden: its URL meets the guard
        assert {e.url_path for e in menu.hidden_for(ruolo)} == everything - visible_paths(ruolo)


# --- ufficio di piano ---------------------------------------------------------------------


def test_office_sees_unsuppressed_view_when_chosen_and_the_upload(site, tables):
    at = run_as("ufficio", "pages/comune.py", anno="2025", comune="Crema", vista="Ufficio di Piano")
    assert at.radio(key="vista").options == ["Pubblica", "Ufficio di Piano"]
    shown = [v for frame in at.dataframe if "Crema 2025" in frame.value.columns for v in frame.value["Crema 2025"]]
    assert shown and "n.p." not in shown
    assert "Accesso: Ufficio di Piano" in texts(at)
    dati = run_as("ufficio", "pages/dati.py", vista="Ufficio di Piano")
    assert dati.title[0].value == "Dati e qualità"
    assert len(dati.get("file_uploader")) == 1
    registro = run_as("ufficio", "pages/registro.py")
    assert registro.title[0].value == "Registro accessi"


def test_office_default_view_is_public_and_can_preview_it(site):
    at = run_as("ufficio", "pages/comune.py", anno="2025", comune="Crema")
    assert at.radio(key="vista").value == "pubblico"


# --- sindaco ---------------------------------------------------------------------------------


def test_sindaco_gets_public_view_with_own_comune_even_asking_for_the_office_view(site, tables):
    at = run_as("sindaco.crema", "pages/comune.py", anno="2025", vista="Ufficio di Piano")
    assert len(at.radio) == 0  # no choice of view
    assert at.selectbox(key="comune").value == CREMA  # preselected
    assert at.title[0].value == "Comune di Crema"
    assert "Vista: Pubblica" in texts(at) and "Accesso: Sindaco di Crema" in texts(at)
    # the numbers are the public table's, not the office's
    with warehouse.reader(site) as con:
        from indicators.profiles import territories

        terr = territories(con)
    public = views.comune_overview(tables["pubblico"], terr, 2025, CREMA)
    expected = views.comune_overview_display(public, 2025, "Crema", "Crema")["Crema 2025"].to_list()
    shown = [v for frame in at.dataframe if "Crema 2025" in frame.value.columns for v in frame.value["Crema 2025"]]
    assert sorted(shown) == sorted(expected)


def test_sindaco_own_comune_outlined_on_area_maps(site):
    at = run_as("sindaco.crema", "pages/anziani.py", anno="2025")
    assert at.selectbox(key="comune").value == CREMA
    assert any("Contorno nero: Crema" in c.value for c in at.caption)


def test_sindaco_opening_the_upload_page_gets_a_refusal_and_no_upload_widget(site):
    at = run_as("sindaco.crema", "pages/dati.py", vista="Ufficio di Piano")
    assert at.title[0].value == "Pagina riservata"
    assert "riservata a: Ufficio di Piano" in at.error[0].value
    assert len(at.get("file_uploader")) == 0 and len(at.dataframe) == 0
    log = audit.entries(site, utente="sindaco.crema", azioni=["accesso_negato"])
    assert log.height >= 1 and log["oggetto"][0] == "Dati e qualità"


def test_sindaco_cannot_edit_targets_nor_read_the_audit_log(site):
    at = run_as("sindaco.crema", "pages/obiettivi.py", vista="Ufficio di Piano")
    assert "Salva gli obiettivi" not in [b.label for b in at.button]
    assert any("riservata all'Ufficio di Piano" in i.value for i in at.info)
    registro = run_as("sindaco.crema", "pages/registro.py")
    assert registro.title[0].value == "Pagina riservata" and len(registro.dataframe) == 0


# --- regione ---------------------------------------------------------------------------------


def test_regione_sees_ambito_and_sub_ambiti_only(site, tables):
    at = run_as("regione", "pages/poverta.py", anno="2025", comune="Crema", livello="comune")
    assert len(at.radio) == 0
    assert "comune" not in [s.key for s in at.selectbox]  # no comune filter
    assert len(at.get("segmented_control")) == 0  # maps by sub-ambito only
    assert "Sub-ambiti, anno 2025" in texts(at)
    assert not any(c.value.startswith("Comuni, anno") for c in at.caption)
    comune_page = run_as("regione", "pages/comune.py", comune="Crema")
    assert comune_page.title[0].value == "Pagina riservata"
    assert len(comune_page.dataframe) == 0


def test_regione_export_has_no_comune_rows(site):
    at = run_as("regione", "pages/esporta.py", anno="2025")
    assert at.multiselect(key="exp_livelli").options == ["Ambito", "Sub-ambiti"]
    shown = at.dataframe[0].value
    assert len(shown) > 0
    assert set(shown["livello"]) <= {"ambito", "sub_ambito"}
    assert [b.label for b in at.get("download_button")] == ["Scarica CSV", "Scarica Excel"]


# --- default-deny ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("assessore", "il ruolo «assessore» non è previsto"),
        ("sindaco.senza", "non indica il comune"),
        ("sindaco.fuori", "non è nell'ambito"),
        ("sconosciuto@example.org", None),  # not in the users file: back to the login
    ],
)
def test_no_valid_role_sees_nothing(site, name, reason):
    at = run_as(name, vista="Ufficio di Piano")  # every URL path shows the same gate
    assert len(at.dataframe) == 0 and len(at.metric) == 0 and len(at.selectbox) == 0
    if reason:
        assert "Accesso non consentito" in at.error[0].value and reason in at.error[0].value
        assert [b.label for b in at.button] == ["Esci"]
    else:
        assert at.text_input(key="login_utente") is not None


@pytest.mark.parametrize("name", [None, "assessore", "sindaco.crema"])
def test_a_page_file_run_without_the_router_still_refuses(site, name):
    """The guard is in the page, not only in the menu: run pages/dati.py as the main script."""
    at = login_as(AppTest.from_file(str(REPO_ROOT / "pages" / "dati.py"), default_timeout=TIMEOUT), name)
    at.query_params["vista"] = "Ufficio di Piano"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("file_uploader")) == 0 and len(at.dataframe) == 0
    if name == "sindaco.crema":
        assert at.title[0].value == "Pagina riservata"


def test_nobody_logged_in_gets_only_the_login(site):
    at = run_as(None, "pages/panoramica.py", vista="Ufficio di Piano")
    assert len(at.dataframe) == 0 and len(at.metric) == 0
    assert [t.label for t in at.text_input] == ["Nome utente", "Password"]


def test_login_form_logs_in_and_failures_are_logged(site):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params["comune"] = "Crema"
    at.run()
    at.text_input(key="login_utente").input("sindaco.crema")
    at.text_input(key="login_password").input("sbagliata-davvero")
    at.button[0].click().run()
    assert at.error[0].value == "Nome utente o password non corretti."
    at.text_input(key="login_utente").input("Sindaco.Crema")
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Panoramica — Crema"
    assert at.session_state[auth.SESSION_KEY]["utente"] == "sindaco.crema"
    log = audit.entries(site, utente="sindaco.crema")
    assert {"login", "login_fallito"} <= set(log["azione"])
    # logout: back to the login, and logged
    at.button(key="logout").click().run()
    assert [t.label for t in at.text_input] == ["Nome utente", "Password"]
    assert "logout" in set(audit.entries(site, utente="sindaco.crema")["azione"])


def test_idle_session_must_log_in_again(site):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    login_as(at, "ufficio", last_seen=time.time() - 9 * 3600)  # default timeout: 8 hours
    at.run()
    assert [t.label for t in at.text_input] == ["Nome utente", "Password"]
    assert any("Sessione scaduta per inattività" in i.value for i in at.info)
    assert "sessione_scaduta" in set(audit.entries(site, utente="ufficio")["azione"])


def test_setup_message_on_a_real_warehouse_without_accounts(site, tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(site, db)
    with warehouse.writer(db) as con:
        warehouse.set_meta(con, "demo", "false")
    monkeypatch.setenv("PDZ_DB", str(db))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Nessun account configurato" in at.warning[0].value
    assert "python -m etl users add NOME --role ufficio_di_piano" in at.code[0].value
    assert len(at.text_input) == 0 and len(at.dataframe) == 0 and len(at.metric) == 0


def test_open_demo_access_only_without_a_users_file(site, tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(site, db)  # no users.toml beside it
    monkeypatch.setenv("PDZ_DB", str(db))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Accesso dimostrativo aperto" in at.error[0].value
    assert len(at.metric) == 4
    with warehouse.writer(db) as con:  # the same warehouse, no longer demo: nothing is open
        warehouse.set_meta(con, "demo", "false")
    closed = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert len(closed.metric) == 0 and "Nessun account configurato" in closed.warning[0].value


# --- cache isolation ---------------------------------------------------------------------------


def test_every_cached_frame_has_the_audience_in_its_key_or_holds_no_indicator():
    """Every `st.cache_data` function of ui/ (any module) has `audience` in its key, or is listed as public."""
    import importlib
    import inspect
    import pkgutil

    from streamlit.runtime.caching.cache_type import CacheType
    from streamlit.runtime.caching.cache_utils import CachedFunc

    import ui
    from ui import session

    cached = {}
    for info in pkgutil.iter_modules(ui.__path__, "ui."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if isinstance(obj, CachedFunc) and obj._info.cache_type == CacheType.DATA:
                cached[f"{info.name}.{name}"] = obj
    assert "ui.session.indicator_table" in cached
    for qualified, fn in cached.items():
        params = inspect.signature(fn).parameters
        assert "audience" in params or qualified.rsplit(".", 1)[1] in session.AUDIENCE_FREE_CACHES, qualified


def test_concurrent_office_and_sindaco_sessions_never_share_numbers(site, tables):
    """Both sessions in one process (one cache): the office's unsuppressed cell is n.p. for the mayor."""
    public, office = tables["pubblico"], tables["ufficio"]
    hidden = public.filter(pl.col("soppresso") & (pl.col("anno") == 2025) & (pl.col("livello") == "comune"))
    cell = hidden.join(office, on=["indicatore", "territorio", "anno"], suffix="_u").filter(pl.col("numeratore_u") > 0)
    row = cell.row(0, named=True)
    with warehouse.reader(site) as con:
        from indicators.profiles import territories

        name = territories(con).filter(pl.col("comune") == row["territorio"])["nome"][0]
    args = {"anno": "2025", "comune": name}
    office_at = run_as("ufficio", "pages/comune.py", vista="Ufficio di Piano", **args)
    mayor_at = run_as("sindaco.crema", "pages/comune.py", vista="Ufficio di Piano", **args)
    office_again = run_as("ufficio", "pages/comune.py", vista="Ufficio di Piano", **args)
    column = f"{name} 2025"  # the comune's column on its page

    def cells(at):
        return [v for f in at.dataframe if column in f.value.columns for v in f.value[column]]

    office_cells, mayor_cells = cells(office_at), cells(mayor_at)
    assert "n.p." not in office_cells and mayor_cells.count("n.p.") >= 1
    assert cells(office_again) == office_cells
    assert office_cells != mayor_cells


# --- uploads through the page: the server refuses what the browser filter would let through ------


def test_upload_page_refuses_bad_files_on_the_server_and_logs_every_refusal(site, tmp_path, monkeypatch):
    import zipfile

    from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

    db = tmp_path / "warehouse.duckdb"
    shutil.copy(site, db)
    shutil.copy(site.parent / "users.toml", tmp_path / "users.toml")
    monkeypatch.setenv("PDZ_DB", str(db))
    monkeypatch.setenv("PDZ_MAX_UPLOAD_MB", "0.05")
    good = write_csv(tmp_path / "buono.csv", PRESTAZIONI_HEADER, [prestazione("UP1")]).read_bytes()
    big = write_csv(tmp_path / "grande.csv", PRESTAZIONI_HEADER, [prestazione(str(i)) for i in range(2000)])
    bomb = tmp_path / "bomba.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (30 * 1024 * 1024))
    at = run_as("ufficio", "pages/dati.py", vista="Ufficio di Piano")
    at.get("file_uploader")[0].set_value(
        [
            ("programma.exe", b"MZ\x90\x00", "application/octet-stream"),
            ("finto.csv", bomb.read_bytes(), "text/csv"),
            ("grande.csv", big.read_bytes(), "text/csv"),
            ("bomba.xlsx", bomb.read_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("buono.csv", good, "text/csv"),
        ]
    )
    at.run()
    next(b for b in at.button if b.label == "Carica").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("programma.exe: estensione «.exe» non ammessa" in e for e in errors)
    assert any(e.startswith("finto.csv: il contenuto non corrisponde") for e in errors)
    assert any(e.startswith("grande.csv: il file pesa") for e in errors)
    assert any("bomba.xlsx" in e and "zip bomb" in e for e in errors)
    assert any("buono.csv: lette 1 righe" in s.value for s in at.success)
    log = audit.entries(db, utente="ufficio")
    refused = log.filter(pl.col("azione") == "caricamento_rifiutato")
    assert sorted(refused["oggetto"].to_list()) == ["bomba.xlsx", "finto.csv", "grande.csv", "programma.exe"]
    assert set(refused["esito"]) == {"rifiutato"}
    loaded = log.filter(pl.col("azione") == "caricamento").row(0, named=True)
    assert loaded["oggetto"] == "buono.csv" and loaded["esito"] == "ok"
    with warehouse.reader(db) as con:
        assert warehouse.scalar(con, "SELECT utente FROM caricamenti WHERE file = 'buono.csv'") == "ufficio"


# --- OIDC (st.login): AppTest's `user` plays the provider's identity -----------------------------


def run_oidc(user: dict, page: str = "pages/panoramica.py", **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    at.secrets["auth"] = OIDC_SECRETS
    at.user = user
    return open_page(at, page, **query)


def test_oidc_identity_gets_the_role_of_its_email(site):
    at = run_oidc({"is_logged_in": True, "email": "Sindaco@Comune.Crema.cr.it", "email_verified": True},
                  "pages/comune.py", vista="Ufficio di Piano")  # fmt: skip
    assert at.title[0].value == "Comune di Crema"
    assert len(at.radio) == 0 and "Vista: Pubblica" in texts(at)
    assert "login" in set(audit.entries(site, utente=OIDC_MAYOR)["azione"])


def test_oidc_without_login_shows_the_provider_button_and_no_password_form(site):
    at = run_oidc({"is_logged_in": False})
    assert [b.label for b in at.button] == ["Accedi"]
    assert len(at.text_input) == 0 and len(at.metric) == 0


@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": True, "email": "qualcuno@example.org", "email_verified": True},  # no entry: denied
        {"is_logged_in": True, "email": OIDC_MAYOR, "email_verified": False},  # unverified email: not an identity
        {"email": OIDC_MAYOR},  # no login flag at all (AppTest's default user)
    ],
)
def test_oidc_fails_closed(site, user):
    at = run_oidc(user)
    assert len(at.metric) == 0 and len(at.dataframe) == 0 and len(at.selectbox) == 0


def test_a_local_password_does_not_open_an_oidc_identity(site):
    assert users.authenticate(OIDC_MAYOR, "", site.parent / "users.toml") is None
    at = run_as(OIDC_MAYOR)  # a forged local session for an OIDC-only entry
    assert len(at.metric) == 0 and [t.label for t in at.text_input] == ["Nome utente", "Password"]
