"""The dashboard while another process writes the warehouse (ui/session.py over core.snapshots):
a page run never waits for the file, new data arrives after the writer commits, and a damaged
file keeps the last copy on screen with an Italian notice."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import warehouse
from core.settings import REPO_ROOT
from tests.conftest import demo_warehouse_env, open_page
from tests.test_snapshots import holder, wait_for

TIMEOUT = 90

PROVISIONAL = "Sub-ambiti provvisori"  # the badge of provisional sub-ambiti (the demo's are provisional)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    with demo_warehouse_env(tmp_path_factory.mktemp("serving")) as db:
        yield db


@pytest.fixture
def site(demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo warehouse of this test only (its own snapshot and refresher)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_file, db)
    monkeypatch.setenv("PDZ_DB", str(db))
    monkeypatch.setenv("PDZ_SECRET", str(demo_file.parent / "secret.key"))
    return db


def panoramica() -> AppTest:
    return open_page(AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT), "pages/panoramica.py")


def shown(at: AppTest) -> dict:
    return {
        "metrics": [(m.label, m.value) for m in at.metric],
        "provisional": any(PROVISIONAL in m.value for m in at.markdown),
        "warnings": [w.value for w in at.warning if "Dati dimostrativi" not in w.value],
    }


def live(db: Path):
    from ui.session import _snapshots

    return _snapshots().live(db)


def test_a_page_run_while_another_process_holds_the_write_lock_shows_the_old_data_without_waiting(site, monkeypatch):
    before = shown(panoramica())
    opened_by = []
    connect = warehouse._connect_with_wait

    def spy(*args, **kwargs):
        opened_by.append(threading.current_thread().name)
        return connect(*args, **kwargs)

    monkeypatch.setattr(warehouse, "_connect_with_wait", spy)
    with holder(site) as process:  # the file changed, and the other process keeps the lock (as a load does)
        during = shown(panoramica())
        assert process.poll() is None  # the page run ended while the lock was still held
        assert wait_for(lambda: any(n.startswith("snapshot-refresher") for n in opened_by))  # it is the one that tries
    assert during == before and before["metrics"]
    assert [name for name in opened_by if not name.startswith("snapshot-refresher")] == []  # never the page run


def test_new_data_is_served_after_the_writer_commits(site):
    assert shown(panoramica())["provisional"]
    script = "UPDATE sub_ambiti SET provvisorio = false"  # the Ufficio di Piano's official table arrives
    with warehouse.writer(site) as con:  # no snapshot holds the file: a writer of this process can open it
        old_version = warehouse.get_meta(con, "data_version")
        con.execute(script)
    assert wait_for(lambda: live(site).current().data_version != old_version)
    assert not shown(panoramica())["provisional"]


def test_a_damaged_warehouse_keeps_the_last_copy_on_the_page_with_an_italian_notice(site, tmp_path):
    before = shown(panoramica())
    backup = tmp_path / "backup.duckdb"
    shutil.copyfile(site, backup)
    site.write_bytes(b"danneggiato " * 10_000)
    assert wait_for(lambda: live(site).problem() is not None)
    after = shown(panoramica())
    assert after["metrics"] == before["metrics"]  # the last good copy is still shown
    assert len(after["warnings"]) == 1 and after["warnings"][0].startswith("**Il database non è leggibile**")
    assert "Traceback" not in after["warnings"][0] and str(site) not in after["warnings"][0]
    shutil.copyfile(backup, site)
    assert wait_for(lambda: live(site).problem() is None)
    assert shown(panoramica())["warnings"] == []


def test_one_run_reads_one_snapshot_even_when_a_new_one_is_published_meanwhile(site):
    """The router decides who may see what on the copy the page then shows (a demo warehouse made real
    between the two must not show its new data with the demo's open access)."""
    from ui.session import connection

    router_version, _ = connection(fresh=True)  # the router, at the start of the run
    with warehouse.writer(site) as con:
        warehouse.set_meta(con, "demo", "false")
    assert wait_for(lambda: live(site).current().key != router_version)  # the refresher swapped meanwhile
    page_version, page_con = connection()  # the page, later in the same run
    assert page_version == router_version and warehouse.get_meta(page_con, "demo") == "true"
    next_version, next_con = connection(fresh=True)  # the next run
    assert next_version != router_version and warehouse.get_meta(next_con, "demo") == "false"


# --- the warm-up at server start (app.py's `app`, ui/warmup.py) -------------------------------------------


def test_streamlit_run_finds_the_server_with_its_warm_up():
    """`streamlit run app.py` starts `app` (an st.App whose lifespan warms up); a page run still runs the router."""
    import subprocess
    import sys

    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(REPO_ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"
    probe = (
        "import importlib.util as u; spec = u.spec_from_file_location('app', 'app.py'); m = u.module_from_spec(spec); "
        "spec.loader.exec_module(m); from ui.warmup import lifespan; "
        "print(type(m.app).__name__, m.app._user_lifespan is lifespan)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["App", "True"], out.stderr[-2000:]


def test_the_warm_up_leaves_the_first_page_nothing_to_compute(site, monkeypatch):
    """After the warm-up the first page of the process finds the snapshot and the indicator tables ready."""
    from indicators import api
    from ui import session, warmup

    assert not session._snapshots().published(site)  # a warehouse this process has never served
    warmup.warm_first_page()
    assert session._snapshots().published(site)

    def no_computing(*args, **kwargs):
        raise AssertionError("the first page computed an indicator table")

    monkeypatch.setattr(api, "indicator_table", no_computing)
    first = shown(panoramica())
    assert len(first["metrics"]) == 4


def test_the_office_sees_the_rejected_rows_of_its_upload_in_the_same_run(site, tmp_path):
    """The session that loads a file sees its own load at once (other sessions when the copy is swapped)."""
    from core import users
    from tests.conftest import PRESTAZIONI_HEADER, prestazione, write_csv
    from ui import access

    users.add_user("ufficio", "ufficio_di_piano", password="una-password-di-prova", path=site.parent / "users.toml")
    with warehouse.writer(site) as con:  # a warehouse for real data: the demo one refuses every upload
        warehouse.set_meta(con, "demo", "false")
    upload = write_csv(
        tmp_path / "da_caricare.csv", PRESTAZIONI_HEADER, [prestazione("SV1"), prestazione("SV2", comune="Atlantide")]
    )
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    now = time.time()
    at.session_state[access.SESSION_KEY] = {"utente": "ufficio", "fonte": "locale", "dal": now, "ultimo": now}
    at = open_page(at, "pages/dati.py", vista="Ufficio di Piano")
    at.get("file_uploader")[0].set_value([("da_caricare.csv", upload.read_bytes(), "text/csv")])
    at.run()
    next(b for b in at.button if b.label == "Carica").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("caricate 1, scartate 1" in w.value for w in at.warning)
    reasons = at.table[0].value
    assert "comune sconosciuto" in " ".join(str(v) for v in reasons.to_numpy().ravel())
    # the dashboard's load kept the indicator values of the new data, as the command line's does
    from indicators import engine

    with warehouse.reader(site) as con:
        kept = engine._kept_values(con)
        assert kept is not None and kept[1].equals(engine.indicator_values(con, stored=False))


# --- figures shared across sessions (ui/figures.py) ------------------------------------------------------


def test_a_figure_is_built_once_per_data_version_and_audience_and_never_crosses_audiences():
    import uuid
    from types import SimpleNamespace

    import plotly.graph_objects as go

    from ui import figures

    built = []

    def build(title: str) -> go.Figure:
        built.append(title)
        return go.Figure(layout={"title": {"text": title}})

    access = SimpleNamespace(levels=("comune", "sub_ambito", "ambito"))
    v1, v2 = ("data", uuid.uuid4().hex), ("data", uuid.uuid4().hex)
    office = SimpleNamespace(version=v1, audience="ufficio", access=access)
    public = SimpleNamespace(version=v1, audience="pubblico", access=access)
    regione = SimpleNamespace(version=v1, audience="pubblico", access=SimpleNamespace(levels=("sub_ambito", "ambito")))
    newer = SimpleNamespace(version=v2, audience="ufficio", access=access)
    shown = [
        figures.cached(office, ("prova", 1), build, "ufficio v1"),
        figures.cached(office, ("prova", 1), build, "mai costruita"),  # same key: the figure already built
        figures.cached(public, ("prova", 1), build, "pubblico v1"),
        figures.cached(regione, ("prova", 1), build, "regione v1"),
        figures.cached(newer, ("prova", 1), build, "ufficio v2"),
        figures.cached(office, ("prova", 2), build, "ufficio v1, altra figura"),
    ]
    assert [f.layout.title.text for f in shown] == [
        "ufficio v1",
        "ufficio v1",
        "pubblico v1",
        "regione v1",
        "ufficio v2",
        "ufficio v1, altra figura",
    ]
    assert built == ["ufficio v1", "pubblico v1", "regione v1", "ufficio v2", "ufficio v1, altra figura"]
    assert shown[0] is not shown[1]  # each run gets its own figure object: a page may change it freely
