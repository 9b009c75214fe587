"""Every page, for each role (AppTest): no English word of our own and no raw code where a person reads.

What a person reads: titles, headings, text, notices, metrics, table headers and cells, the labels
and options of widgets and expanders. Refused: English words the code used to leak («status»,
«rows loaded», «empty», True/False/None/nan…), ALL_CAPS_WITH_UNDERSCORE codes (ASSISTENTE_SOCIALE),
bare BASELINE/TARGET/INDETERMINATO, and indicator ids. Also the layout and language helpers that
the pages use (numbers typed Italian style, CSV for Italian Excel, the load history in Italian).
"""

from __future__ import annotations

import re
import time

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from core import users
from core.settings import REPO_ROOT
from indicators import api
from tests.conftest import demo_warehouse_env, open_page
from ui import access as auth
from ui import menu

TIMEOUT = 120
PASSWORD = "una-password-di-prova"
ENGLISH = [
    "status",
    "rows",
    "read",
    "loaded",
    "rejected",
    "started",
    "ended",
    "error",
    "failed",
    "duplicate",
    "empty",
    "true",
    "false",
    "none",
    "nan",
    "null",
    "target",
    "baseline_year",
    "page not found",
]
_ENGLISH_RE = re.compile(r"(?<![\w/.-])(" + "|".join(re.escape(w) for w in ENGLISH) + r")(?![\w/-])", re.IGNORECASE)
FILE_CONTENT = {"Valori ammessi", "Esempio"}  # columns of the templates' guide (Dati e qualità)
_CODE_RE = re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b|\b(?:BASELINE|TARGET|INDETERMINATO|DETERMINATO|HUB|SPOKE)\b")


def problems(text: str) -> list[str]:
    """The English words, raw codes and indicator ids in a text a person reads."""
    ids = {e.id for e in api.catalog()}
    text = re.sub(r"codice per i file degli obiettivi: `[a-z0-9_]+`", "", text)  # labelled, for the office's files
    # codes to write in files, each beside its description (the templates' guide, the code mappings)
    text = re.sub(r"\b[A-Z][A-Z0-9_]+(?= — | \([a-z]+\): )", "", text)
    found = [m.group(0) for m in _ENGLISH_RE.finditer(text)]
    found += [m.group(0) for m in _CODE_RE.finditer(text)]
    found += [w for w in re.findall(r"[a-z0-9_]+", text) if w in ids]
    return found


def visible_texts(at: AppTest) -> list[str]:
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [m.label, str(m.value)]
    for frame in [*at.dataframe, *at.table]:
        df = frame.value
        out += [str(c) for c in df.columns]
        # a file template's guide shows what to write in the file, codes included: those columns are file content
        out += [str(v) for col in df.columns if col not in FILE_CONTENT for v in df[col].tolist()]
    for kind in ("selectbox", "radio", "multiselect"):
        for w in getattr(at, kind):
            out += [w.label, *[str(o) for o in w.options]]
    for w in [*at.button, *at.get("download_button"), *at.toggle, *at.text_input, *at.date_input]:
        out.append(w.label)
    out += [e.label for e in at.expander] + [t.label for t in at.tabs]
    return [t for t in out if t]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    def accounts(tmp):
        path = tmp / "users.toml"
        users.add_user("ufficio", "ufficio_di_piano", password=PASSWORD, path=path)
        users.add_user("sindaco.crema", "sindaco", "Crema", password=PASSWORD, path=path)
        users.add_user("regione", "regione", password=PASSWORD, path=path)

    with demo_warehouse_env(tmp_path_factory.mktemp("lingua"), accounts) as db:
        yield db


ROLES = {"ufficio": "ufficio_di_piano", "sindaco.crema": "sindaco", "regione": "regione"}
WALK = [(name, e.file) for name, ruolo in ROLES.items() for entries in menu.menu_for(ruolo).values() for e in entries]


@pytest.mark.parametrize("name, page", WALK, ids=[f"{n}-{p.split('/')[-1][:-3]}" for n, p in WALK])
def test_every_page_speaks_italian_without_raw_codes(site, name, page):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=TIMEOUT)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = {"utente": name, "fonte": "locale", "dal": now, "ultimo": now}
    query = {"comune": "Crema"} if page == "pages/comune.py" else {}
    at = open_page(at, page, **query)
    texts = visible_texts(at)
    assert len(texts) > 10, texts  # the page was drawn
    found = {t[:120]: problems(t) for t in texts if problems(t)}
    assert not found, found


def test_the_word_list_catches_what_the_pages_used_to_show():
    """The checks above would fail on the old screens (issue 14's list)."""
    assert problems("status") == ["status"] and problems("rows read") == ["rows", "read"]
    assert problems("empty") == ["empty"] and problems("None") == ["None"] and problems("nan") == ["nan"]
    assert problems("ASSISTENTE_SOCIALE · INDETERMINATO") == ["ASSISTENTE_SOCIALE", "INDETERMINATO"]
    assert set(problems("BASELINE/TARGET")) == {"BASELINE", "TARGET"}
    some_id = api.catalog()[0].id
    assert problems(f"{api.catalog()[0].nome} ({some_id})") == [some_id]
    assert problems("Righe lette · stato · Non in linea · 1.403 righe · sì · n.p.") == []


# --- the helpers the pages use ----------------------------------------------------------------------


def test_numbers_typed_italian_style():
    from indicators.fmt import parse_number

    assert parse_number("82,5") == 82.5 and parse_number("1.234,5") == 1234.5 and parse_number("1.234") == 1234
    assert parse_number("82.5") == 82.5 and parse_number(" 75 % ") == 75 and parse_number("") is None
    assert parse_number("-0,5") == -0.5
    for bad in ("abc", "1,2,3", "82,5x"):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_target_editor_rows_in_italian_keep_what_nobody_edited():
    from ui import targets_form

    rows = pl.DataFrame(
        {
            "anno": [2024, 2025, 2026, 2027],
            "tipo": ["BASELINE", "TARGET", "TARGET", "TARGET"],
            "valore": [82.509, None, 84.0, 1234.25],
        },
        schema={"anno": pl.Int32, "tipo": pl.String, "valore": pl.Float64},
    )
    shown = targets_form.as_text(rows, "%")
    assert shown["Valore"].to_list() == ["82,5", "", "84", "1.234"]
    assert shown["Tipo"].to_list() == ["Baseline (punto di partenza)", "Obiettivo", "Obiettivo", "Obiettivo"]
    edited = shown.with_columns(pl.Series("Valore", ["82,5", "83,25", "", "1.234"]))  # 2025 set, 2026 emptied
    changes, errors = targets_form.from_text(rows, shown, edited)
    assert errors == [] and changes["valore"].to_list() == [82.509, 83.25, None, 1234.25]
    assert changes["tipo"].to_list() == rows["tipo"].to_list()
    bad = shown.with_columns(pl.Series("Valore", ["82,5", "ottanta", "84", "1.234"]))
    _, errors = targets_form.from_text(rows, shown, bad)
    assert errors == ["Anno 2025: «ottanta» non è un numero. Scrivere per esempio 82,5 (virgola decimale)."]


def test_csv_downloads_open_in_italian_excel():
    from datetime import date

    from core.spreadsheet import excel_csv

    data = excel_csv(
        pl.DataFrame(
            {"Città": ["Crema", "=HYPERLINK(1)"], "valore": [1403.5, None], "giorno": [date(2025, 12, 31), None]}
        )
    )
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8 («Città», not «CittÃ»)
    assert data.decode("utf-8-sig").splitlines() == [
        "Città;valore;giorno",
        "Crema;1403,5;31/12/2025",
        "'=HYPERLINK(1);;",
    ]


def test_load_history_in_italian():
    from datetime import datetime

    from etl.queries import load_history_display

    history = pl.DataFrame(
        {
            "batch_id": ["b1"],
            "file": ["a.csv"],
            "tabella": ["prestazioni"],
            "status": ["failed"],
            "rows_read": [1403],
            "rows_loaded": [0],
            "rows_rejected": [1403],
            "rows_held": [0],
            "started_at": [datetime(2025, 1, 2, 3, 4)],
            "ended_at": [datetime(2025, 1, 2, 3, 5)],
            "error": ["x"],
            "fonte": ["cartella"],
            "utente": ["ufficio"],
        }
    )
    shown = load_history_display(history)
    assert shown.columns == [
        "file",
        "tabella",
        "esito",
        "righe_lette",
        "righe_caricate",
        "righe_scartate",
        "caricato_il",
        "utente",
        "errore",
    ]
    assert shown["esito"].to_list() == ["non riuscito"]
    # rows waiting for a code mapping: a column of their own, so that read = loaded + rejected + waiting
    held = load_history_display(
        history.with_columns(
            pl.lit("loaded").alias("status"),
            pl.lit(17).alias("rows_read"),
            pl.lit(0).alias("rows_rejected"),
            pl.lit(17).alias("rows_held"),
        )
    )
    assert (
        held["righe_lette"][0],
        held["righe_caricate"][0],
        held["righe_scartate"][0],
        held["righe_in_attesa"][0],
    ) == (
        17,
        0,
        0,
        17,
    )
    assert "errore" not in load_history_display(history.with_columns(pl.lit(None, pl.String).alias("error"))).columns
