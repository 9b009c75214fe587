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
from tests.conftest import demo_warehouse_env, open_page, wait_for_published
from ui import access as auth
from ui import menu, session_cookie
from ui.session_cookie import COOKIE_PENDING

TIMEOUT = 90
PASSWORD = "una-password-di-prova"
CREMA = "019035"
OIDC_MAYOR = "sindaco@comune.crema.cr.it"
OIDC_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "pdz",
    "client_secret": "s",
    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration",
}


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
    assert at.radio(key="vista").options == ["Ufficio di Piano", "Pubblica"]
    shown = [v for frame in at.dataframe if "Crema 2025" in frame.value.columns for v in frame.value["Crema 2025"]]
    assert shown and "n.p." not in shown
    assert "Accesso: Ufficio di Piano" in texts(at)
    dati = run_as("ufficio", "pages/dati.py", vista="Ufficio di Piano")
    assert dati.title[0].value == "Dati e qualità"
    assert len(dati.get("file_uploader")) == 1
    registro = run_as("ufficio", "pages/registro.py")
    assert registro.title[0].value == "Registro accessi"


def test_office_lands_in_its_own_view_with_the_public_preview_one_click_away(site):
    at = run_as("ufficio")  # the landing: Panoramica of the ambito, office view
    assert at.radio(key="vista").value == "ufficio" and "Vista: Ufficio di Piano" in texts(at)
    assert at.title[0].value.endswith("Cremasco") and at.selectbox(key="comune").value is None
    dati = run_as("ufficio", "pages/dati.py")  # the upload is there, no hint to switch view first
    assert len(dati.get("file_uploader")) == 1
    at.radio(key="vista").set_value("pubblico").run()  # the preview
    assert "Vista: Pubblica" in texts(at)


def test_sindaco_lands_on_their_comune_and_the_regione_on_the_ambito(site, tables):
    at = run_as("sindaco.crema")
    assert at.title[0].value == "Panoramica — Crema" and at.selectbox(key="comune").value == CREMA
    expected = views.status_counts(views.overview(tables["pubblico"], 2025, CREMA))
    shown = {m.label.split(" ", 1)[1].lower(): int(m.value) for m in at.metric}
    assert shown == expected
    regione = run_as("regione")
    assert regione.title[0].value.endswith("Cremasco") and "comune" not in [s.key for s in regione.selectbox]
    assert regione.selectbox(key="sub_ambito").value is None


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
    assert set(shown["Livello"]) <= {"Ambito", "Sub-ambito"}
    assert [b.label for b in at.get("download_button")] == ["Scarica CSV"]
    assert "Prepara: Excel" in [b.label for b in at.button]  # Excel takes seconds: prepared first


# --- every file a role can download (issue 11, point 5) -------------------------------------------


@pytest.fixture
def downloads(monkeypatch):
    """The files behind the download buttons of the runs in this test: {file name: generator}.

    Reports and exports are generated on click (`download_button(data=callable)`): Streamlit keeps
    the callable in its media file manager, and here we keep it too, to call it as the click would."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    found: dict[str, object] = {}
    original, original_add = MediaFileManager.add_deferred, MediaFileManager.add

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    def add(self, path_or_data, mimetype, coordinates, file_name=None, **kwargs):  # a prepared file (bytes)
        if file_name and isinstance(path_or_data, bytes):
            found[file_name] = lambda data=path_or_data: data
        return original_add(self, path_or_data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    monkeypatch.setattr(MediaFileManager, "add", add)
    return found


def prepare(at: AppTest, *keys: str) -> AppTest:
    """Click «Prepara» of slow exports, as a person does before downloading them (the reports' own button
    is `report_make_<format>`, their download `report_<format>`)."""
    for key in keys:
        button = f"report_make_{key.removeprefix('report_')}" if key.startswith("report_") else f"{key}_prepara"
        at.button(key=button).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert key in [b.key for b in at.get("download_button")]
    return at


def _workbook(data: bytes):
    import io

    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def _workbook_cells(wb) -> set:
    return {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def _comuni(site) -> set[str]:
    from indicators.profiles import territories

    with warehouse.reader(site) as con:
        return set(territories(con)["comune"].to_list())


def test_regione_downloads_hold_no_comune_value(site, downloads):
    """Panoramica's and Sub-ambito's «Tabelle per la Regione (Excel)» and Esporta's CSV and Excel, as clicked."""
    comuni = _comuni(site)
    prepare(run_as("regione", "pages/panoramica.py", anno="2025"), "report_xlsx")
    prepare(run_as("regione", "pages/sub_ambito.py", anno="2025"), "report_xlsx")  # the first sub-ambito
    prepare(run_as("regione", "pages/esporta.py", anno="2025"), "exp_xlsx")
    for name in ("monitoraggio_pdz_AMBITO_2025.xlsx", "monitoraggio_pdz_SA1_2025.xlsx"):
        wb = _workbook(downloads[name]())
        assert "Comuni" not in wb.sheetnames, name
        assert not _workbook_cells(wb) & comuni, name
        # Metadati, the 7 areas, Riorganizzazione, Confronti
        assert "Metadati" in wb.sheetnames and len(wb.sheetnames) == 10
    csv = pl.read_csv(
        io_bytes(downloads["indicatori_pubblico_2025.csv"]()),
        separator=";",
        decimal_comma=True,
        schema_overrides={"territorio": pl.String},
    )
    excel = pl.read_excel(
        io_bytes(downloads["indicatori_pubblico_2025.xlsx"]()),
        sheet_name="indicatori",
        schema_overrides={"territorio": pl.String},
    )
    for export in (csv, excel):
        assert export.height > 0
        assert set(export["livello"]) == {"ambito", "sub_ambito"}
        assert not set(export["territorio"]) & comuni


def test_sindaco_downloads_are_the_public_view_only(site, tables, downloads):
    """Even asking for the office view in the URL: the export is the public table, the report too."""
    run_as("sindaco.crema", "pages/esporta.py", anno="2025", vista="Ufficio di Piano")
    prepare(run_as("sindaco.crema", "pages/panoramica.py", anno="2025", vista="Ufficio di Piano"), "report_xlsx")
    assert "indicatori_ufficio_2025.csv" not in downloads
    csv = pl.read_csv(
        io_bytes(downloads["indicatori_pubblico_2025.csv"]()),
        separator=";",
        decimal_comma=True,
        schema_overrides={"territorio": pl.String, "numeratore": pl.Float64, "denominatore": pl.Float64},
    )
    public = tables["pubblico"].filter(pl.col("anno") == 2025)
    keys = ["indicatore", "territorio"]
    joined = csv.join(public, on=keys, suffix="_p", how="left")
    assert joined.height == public.height == csv.height
    assert joined["soppresso"].sum() > 0  # small cells hidden, as in the public view
    shown = joined.filter(~pl.col("soppresso"))
    assert (shown["valore"] - shown["valore_p"]).abs().max() < 1e-6
    hidden = joined.filter(pl.col("soppresso"))
    assert hidden["numeratore"].null_count() == hidden.height and hidden["valore"].null_count() == hidden.height
    report = _workbook(downloads["monitoraggio_pdz_019035_2025.xlsx"]())
    assert "Comuni" in report.sheetnames and "n.p." in _workbook_cells(report)


def io_bytes(data) -> object:
    import io

    return io.BytesIO(data if isinstance(data, bytes) else data.encode("utf-8"))


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


# --- guessing is slowed, nobody is locked out (issue 11, point 9) -----------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("source", ["10.0.0.7", "10.0.0.66"])  # the real user's own address, or the guesser's
def test_a_guesser_waits_longer_and_longer_and_never_locks_the_real_user(source):
    """Literal timeline: a guesser hammering one name from one address as fast as allowed for an hour,
    the real user arriving in the middle (own session; own address, or the same shared one) and retrying
    at once whenever told to wait: the guesser retries the instant each wait ends, and still loses the slot."""
    from core.login_throttle import MAX_DELAY, LoginThrottle

    clock = _Clock()
    throttle = LoginThrottle(clock=clock)
    start = clock.now
    checked_at: list[float] = []
    user_first = user_in = None
    while clock.now - start < 3600:
        decision = throttle.attempt("regione", "10.0.0.66", "guesser")
        if decision.check:
            checked_at.append(clock.now)
            throttle.failed("regione", "10.0.0.66", "guesser")
        if clock.now - start >= 1800 and user_in is None:
            user_first = user_first or clock.now
            if throttle.attempt("regione", source, "utente").check:  # the right password is checked: in
                throttle.succeeded("regione", "utente")
                user_in = clock.now
        clock.now += 0.5
    # the guesser: 5 quick guesses, then 2, 4, 8, 16, 32 and from then on 60 s between two guesses,
    # except the one slot the real user took (120 s)
    gaps = [b - a for a, b in zip(checked_at, checked_at[1:])]
    assert gaps[:10] == [0.5, 0.5, 0.5, 0.5, 2, 4, 8, 16, 32, 60]
    assert sorted(set(gaps[9:])) == [60, 120] and gaps[9:].count(120) == 1
    assert len(checked_at) == 10 + (3600 - 0.5 * 4 - 62) // 60 - 1
    # the real user got in after at most MAX_DELAY seconds, from another address or the guesser's own
    assert user_in is not None and user_in - user_first <= MAX_DELAY


def test_parallel_sessions_give_a_guesser_no_more_tries():
    """Two browser sessions guessing one name in turn (the old per-session wait gave each its own clock:
    twice the guesses). Now the wait is the name's, server-wide: one checked guess per delay in all."""
    from core.login_throttle import FREE, MAX_DELAY, LoginThrottle

    clock = _Clock()
    throttle = LoginThrottle(clock=clock)
    start = clock.now
    checked: list[tuple[float, str]] = []
    while clock.now - start < 600:
        for session, source in (("sessione-a", "10.0.0.66"), ("sessione-b", "10.0.0.67")):  # even two addresses
            if throttle.attempt("regione", source, session).check:
                checked.append((clock.now, session))
                throttle.failed("regione", source, session)
        clock.now += 1.0
    times = [t - start for t, _ in checked]
    # 5 free, then waits of 2, 4, 8, 16, 32 and 60 s between two guesses, whichever session makes them
    assert times[:FREE] == [0, 0, 1, 1, 2]
    assert [b - a for a, b in zip(times[FREE - 1 :], times[FREE : FREE + 6])] == [2, 4, 8, 16, 32, 60]
    assert all(b - a >= MAX_DELAY for a, b in zip(times[FREE + 5 :], times[FREE + 6 :]))
    assert times == [0, 0, 1, 1, 2, 4, 8, 16, 32, 64, 124, 184, 244, 304, 364, 424, 484, 544]  # by hand
    assert {s for _, s in checked} == {"sessione-a", "sessione-b"}
    # a third session, another address, arrives: it waits, at most MAX_DELAY, for the name's next slot
    decision = throttle.attempt("regione", "10.0.0.7", "utente")
    assert not decision.check and 0 < decision.wait <= MAX_DELAY


def test_the_first_failures_cost_nothing_and_a_guesser_across_names_is_slowed_too():
    from core.login_throttle import FREE, LoginThrottle

    clock = _Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE - 1):  # typos: checked at once, no wait
        assert throttle.attempt("m.rossi", "10.0.0.7", "tab1").check
        throttle.failed("m.rossi", "10.0.0.7", "tab1")
    assert throttle.attempt("m.rossi", "10.0.0.7", "tab1").check
    # one address trying a different name each time: the address's count slows it
    for i in range(FREE):
        throttle.failed(f"nome{i}", "10.0.0.66", "bot")
    decision = throttle.attempt("nome99", "10.0.0.66", "bot")
    assert not decision.check and decision.wait == 2.0
    # failures expire after the window
    clock.now += 15 * 60
    assert throttle.attempt("nome99", "10.0.0.66", "bot").check


def _login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_utente").input(name)
    at.text_input(key="login_password").input(password)
    return at.button[0].click().run()


def test_wrong_passwords_slow_the_guesser_but_the_real_user_gets_in(site, monkeypatch):
    """Through the login form: 6 wrong passwords on «regione» from one session used to lock the account
    for 15 minutes; now the guesser's next try (even the right password) waits, and the real user, in
    another session, gets in after a bounded wait."""
    from core.login_throttle import MAX_DELAY, LoginThrottle

    clock = _Clock()
    activity = auth._Activity()
    activity.throttle = LoginThrottle(clock=clock)
    monkeypatch.setattr(auth, "_activity", lambda: activity)
    guesser = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    for i in range(6):
        clock.now += 60  # even slowly: a minute between guesses
        _login(guesser, "regione", f"tentativo-{i}-sbagliato")
        assert [e.value for e in guesser.error] == ["Nome utente o password non corretti."]
    _login(guesser, "regione", PASSWORD)  # at once, even the right password: not checked before the wait
    assert "attendere" in guesser.error[0].value and auth.SESSION_KEY not in guesser.session_state
    user = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    _login(user, "regione", PASSWORD)
    assert not user.exception
    message = user.error[0].value
    assert "attendere" in message and "15 minuti" not in message
    wait = int(message.split("attendere ")[1].split(" ")[0])
    assert 1 <= wait <= MAX_DELAY
    clock.now += wait
    _login(user, "regione", PASSWORD)
    assert not user.exception and len(user.error) == 0
    assert user.session_state[auth.SESSION_KEY]["utente"] == "regione"
    log = audit.entries(site, utente="regione", azioni=["login_fallito"])
    assert log.filter(pl.col("dettaglio").str.contains("attesa di")).height >= 2


# --- sessions that survive a reload and a shared link (issue 14, point 4) ---------------------------


def _reload(monkeypatch, token: str | None, **query) -> AppTest:
    """A new browser session of the same browser: it sends the cookie (`st.context.cookies`)."""
    monkeypatch.setattr(session_cookie, "cookie_token", lambda: token)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_a_reload_or_a_shared_link_resumes_the_session_until_logout(site, monkeypatch):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    _login(at, "sindaco.crema", PASSWORD)
    token = at.session_state[auth.SESSION_KEY]["token"]
    assert at.session_state[COOKIE_PENDING][0] == token  # the browser is asked to keep it
    assert PASSWORD not in token and "sindaco" not in token
    shared = _reload(monkeypatch, token, anno="2024", sub_ambito="SA1 · Crema")  # labels, as in the URL
    assert not shared.exception and len(shared.text_input) == 0  # no password asked
    assert shared.title[0].value == "Panoramica — Crema" and shared.selectbox(key="anno").value == 2024
    assert shared.selectbox(key="sub_ambito").value == "SA1"
    assert "Accesso: Sindaco di Crema" in texts(shared)
    at.button(key="logout").click().run()  # logout in the first tab closes the session on the server
    assert at.session_state[COOKIE_PENDING][0] is None  # and asks the browser to forget the cookie
    again = _reload(monkeypatch, token)
    assert [t.label for t in again.text_input] == ["Nome utente", "Password"] and len(again.metric) == 0
    shared.run()  # the other tab, at its next click
    assert [t.label for t in shared.text_input] == ["Nome utente", "Password"]
    assert any("accedere di nuovo" in i.value for i in shared.info)


def test_a_cookie_with_a_forged_signature_or_an_idle_session_opens_nothing(site, monkeypatch):
    from core.sessions import SessionRegistry

    forged = SessionRegistry(b"z" * 32).open("ufficio", "locale")  # the right shape, another key
    at = _reload(monkeypatch, forged)
    assert [t.label for t in at.text_input] == ["Nome utente", "Password"] and len(at.metric) == 0
    assert at.session_state[COOKIE_PENDING][0] is None
    log = audit.entries(site, azioni=["sessione_rifiutata"])
    assert log.height >= 1 and log["dettaglio"][0] == "firma non valida"
    # an idle session (timeout injected: 8 seconds) is refused on the next reload, with the reason
    monkeypatch.setenv("PDZ_IDLE_TIMEOUT_HOURS", str(8 / 3600))
    login = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    _login(login, "regione", PASSWORD)
    token = login.session_state[auth.SESSION_KEY]["token"]
    time.sleep(9)
    idle = _reload(monkeypatch, token)
    assert [t.label for t in idle.text_input] == ["Nome utente", "Password"]
    assert any("Sessione scaduta per inattività" in i.value for i in idle.info)


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
    wait_for_published(db)  # access and data are read from the same published copy
    closed = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert len(closed.metric) == 0 and "Nessun account configurato" in closed.warning[0].value


def test_a_demo_warehouse_holding_real_loads_is_not_open(site, tmp_path, monkeypatch):
    """Built before the loader refused real files into the demo: the real load closes the open access."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(site, db)  # no users.toml beside it
    with warehouse.writer(db) as con:  # as the builder left it before `demo_batches`, then a real load
        con.execute("DELETE FROM meta WHERE chiave = 'demo_batches'")
        con.execute(
            "INSERT INTO caricamenti (batch_id, file, tabella, status, started_at, ended_at) "
            "VALUES ('reale-1', 'prestazioni_2025.csv', 'prestazioni', 'loaded', now(), now())"
        )
    monkeypatch.setenv("PDZ_DB", str(db))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert len(at.metric) == 0 and "Nessun account configurato" in at.warning[0].value
    assert not any("Accesso dimostrativo aperto" in e.value for e in at.error)


def test_upload_into_the_open_demo_is_refused_and_nothing_is_written(site, tmp_path, monkeypatch):
    from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv

    db = tmp_path / "warehouse.duckdb"
    shutil.copy(site, db)  # no users.toml beside it: the open demo access, as the Ufficio di Piano
    monkeypatch.setenv("PDZ_DB", str(db))
    with warehouse.reader(db) as con:
        before = warehouse.scalar(con, "SELECT count(*) FROM prestazioni")
    good = write_csv(tmp_path / "reale.csv", PRESTAZIONI_HEADER, [prestazione("UP1")]).read_bytes()
    at = run_as(None, "pages/dati.py", vista="Ufficio di Piano")
    at.get("file_uploader")[0].set_value([("reale.csv", good, "text/csv")])
    at.run()
    next(b for b in at.button if b.label == "Carica").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [refusal] = [e.value for e in at.error if "Nessun file è stato caricato" in e.value]
    assert "database dimostrativo" in refusal and "python -m etl init" in refusal
    with warehouse.reader(db) as con:
        assert warehouse.scalar(con, "SELECT count(*) FROM prestazioni") == before
        assert warehouse.scalar(con, "SELECT count(*) FROM caricamenti WHERE file = 'reale.csv'") == 0
    refused = audit.entries(db, utente="demo").filter(pl.col("azione") == "caricamento_rifiutato")
    assert refused["oggetto"].to_list() == ["reale.csv"]


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
    with warehouse.writer(db) as con:  # a warehouse for real data: the demo one refuses every upload
        warehouse.set_meta(con, "demo", "false")
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
    at = run_oidc(
        {"is_logged_in": True, "email": "Sindaco@Comune.Crema.cr.it", "email_verified": True},
        "pages/comune.py",
        vista="Ufficio di Piano",
    )
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
