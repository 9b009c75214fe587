"""Templates (issue 15, item 5): one per input table, generated from the loader's own schema, and
each loads back through `python -m etl load` without a single rejected row."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from core import settings, warehouse
from core.settings import REPO_ROOT
from etl import schemas, templates
from etl.codice_fiscale import CF_PATTERN, check_character, derive_expr
from etl.schemas import TABLES, Column, TableSpec
from indicators.catalog import indicator_ids


def etl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, templates.References]:
    """A scratch real warehouse (`etl init`) and the templates' reference data read from it."""
    db = tmp_path_factory.mktemp("modelli") / "reale.duckdb"
    r = etl("init", "--db", str(db))
    assert r.returncode == 0, r.stderr
    with warehouse.reader(db) as con:
        refs = templates.references(con, indicator_ids())
    return db, refs


def test_every_table_of_the_registry_has_a_template_and_every_column_a_description():
    assert [s.name for s in templates.all_templates()] == list(TABLES)
    assert {
        "prestazioni",
        "operatori",
        "sedi",
        "obiettivi",
        "sub_ambiti",
        "codifiche",
        "confronti",
        "distanze",
        "accessi",
    } <= set(TABLES)
    undescribed = [(t, c.name) for t, s in TABLES.items() for c in s.columns if not schemas.column_doc(t, c.name)]
    assert undescribed == [], "describe these columns in etl/schemas.py COLUMN_DOCS"
    stale = [
        (t, c)
        for t, cols in schemas.COLUMN_DOCS.items()
        for c in cols
        if t not in TABLES or c not in {x.name for x in TABLES[t].columns}
    ]
    assert stale == [], "COLUMN_DOCS describes columns the loader does not have"
    kinds = {c.kind for s in TABLES.values() for c in s.columns}
    assert kinds <= set(templates.KIND_FORMATS), "say in etl/templates.py KIND_FORMATS how these kinds are written"


def test_templates_of_every_table_load_back_without_a_rejected_row(scratch, tmp_path):
    db, refs = scratch
    paths = []
    for spec in templates.all_templates():
        for fmt, make in (("csv", templates.template_csv), ("xlsx", templates.template_xlsx)):
            path = tmp_path / templates.template_filename(spec, fmt)
            path.write_bytes(make(spec, refs))
            paths.append((spec, path))
    for spec, path in paths:  # one by one, the table inferred from the headers as users do it
        r = etl("load", str(path), "--db", str(db), "--json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        expected_rows = 48 if spec.replace_all else 1  # the sub-ambito template: the current composition
        assert (out["table"], out["status"], out["rows_read"], out["rows_loaded"], out["rows_rejected"]) == (
            spec.name,
            "loaded",
            expected_rows,
            expected_rows,
            0,
        ), (path.name, out)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM scarti").fetchall() == [(0,)]
        # the example row, parsed as written in the guide
        assert con.execute(
            "SELECT fonte, id_prestazione, comune, intervento, area, data_richiesta, data_inizio, data_fine, ore, "
            "importo_euro, esito, sesso, anno_nascita FROM prestazioni"
        ).fetchall() == [
            (
                "cartella_sociale",
                "PRE-2025-000123",
                "019035",
                "SAD",
                "anziani",
                *_dates("2025-01-15", "2025-02-03", "2025-06-30"),
                48.5,
                1250.0,
                "CONCLUSO",
                "M",
                2000,
            )
        ]
        assert con.execute("SELECT lat, lon, sub_ambito FROM sedi").fetchall() == [(45.364, 9.683, "SA1")]
        operatori = con.execute("SELECT fte, contratto, data_fine FROM operatori").fetchall()
        assert operatori == [(1.0, "INDETERMINATO", None)]
        baseline_year = settings.plan_years()[0]
        assert con.execute("SELECT territorio, anno, tipo, valore FROM obiettivi").fetchall() == [
            ("AMBITO", baseline_year, "BASELINE", 12.5)
        ]
        assert con.execute("SELECT territorio, anno, valore, fonte FROM confronti").fetchall() == [
            ("Lombardia", 2022, 1.0, "esempio — sostituire con il dato ufficiale")
        ]
        # the road matrix: from the capofila to another comune, km as written
        ((origin, destination, minutes, km),) = con.execute(
            "SELECT comune_origine, comune_destinazione, minuti, km FROM distanze"
        ).fetchall()
        assert origin == "019035" and destination != origin and (minutes, km) == (12.5, 9.8)
        # a contact at the template's sede, its person pseudonymised (sex and year from the synthetic code)
        assert con.execute("SELECT id_sede, comune, esito, sesso, anno_nascita FROM accessi").fetchall() == [
            ("SEDE-01", "019035", "PRESA_IN_CARICO", "M", 2000)
        ]
        # no identifier stored, the synthetic one included
        text = " ".join(str(v) for row in con.execute("SELECT * FROM prestazioni").fetchall() for v in row)
        assert templates.SYNTHETIC_CF not in text and "XXXXXX" not in text
    finally:
        con.close()


def _dates(*iso: str):
    from datetime import date

    return tuple(date.fromisoformat(d) for d in iso)


def test_csv_template_is_for_italian_excel_bom_semicolon_headers_example(scratch):
    _, refs = scratch
    data = templates.template_csv(TABLES["prestazioni"], refs)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [c.name for c in TABLES["prestazioni"].columns]
    assert len(rows) == 2 and rows[1][2] == templates.SYNTHETIC_CF and rows[1][8] == "48,5"


def test_xlsx_template_second_sheet_explains_each_column_from_the_loaders_schema(scratch):
    _, refs = scratch
    for spec in templates.all_templates():
        wb = openpyxl.load_workbook(io.BytesIO(templates.template_xlsx(spec, refs)))
        assert wb.sheetnames == [spec.name, templates.GUIDE_SHEET]
        data = wb[spec.name]
        assert [c.value for c in data[1]] == [c.name for c in spec.columns]
        guide = wb[templates.GUIDE_SHEET]
        rows = [[c.value for c in r] for r in guide.iter_rows()]
        start = next(i for i, r in enumerate(rows) if r[0] == "Colonna")
        assert tuple(rows[start][: len(templates.GUIDE_COLUMNS)]) == templates.GUIDE_COLUMNS
        explained = {r[0]: dict(zip(templates.GUIDE_COLUMNS, r, strict=False)) for r in rows[start + 1 :] if r[0]}
        assert list(explained) == [c.name for c in spec.columns]
        for col in spec.columns:
            row = explained[col.name]
            alternative = any(col.name in g for g in spec.required_one_of)
            expected = "sì" if col.required else ("una delle alternative" if alternative else "no")
            assert row["Obbligatoria"].startswith(expected), (spec.name, col.name)
            assert row["Descrizione"] == schemas.column_doc(spec.name, col.name).descrizione
            assert row["Formato"] == templates.format_text(col)
            if col.kind == "code":
                assert row["Valori ammessi"].split(", ") == list(col.values)
            if col.kind == "intervento":  # the catalogue, from data/interventi.csv
                with open(settings.INTERVENTI_FILE, encoding="utf-8") as fh:
                    codes = [r["intervento"] for r in csv.DictReader(fh)]
                assert [line.split(" ")[0] for line in row["Valori ammessi"].splitlines()] == codes
            if col.aliases:
                assert row["Altri nomi accettati"] == ", ".join(col.aliases)


def test_guide_texts_follow_the_column_kinds_and_ranges():
    assert templates.format_text(TABLES["operatori"].column("fte")).endswith("maggiore di 0 e al massimo 1")
    assert templates.format_text(TABLES["prestazioni"].column("ore")).endswith("non negativo")
    assert templates.format_text(TABLES["confronti"].column("anno")) == "numero intero; almeno 1990 e al massimo 2100"
    prestazioni = TABLES["prestazioni"]
    assert templates.required_text(prestazioni, prestazioni.column("fonte")) == "no (se vuota: cartella_sociale)"
    assert templates.required_text(prestazioni, prestazioni.column("codice_intervento")) == (
        "una delle alternative: intervento oppure sistema_codifica e codice_intervento"
    )


def test_the_synthetic_codice_fiscale_is_valid_in_form_and_belongs_to_nobody():
    code = templates.SYNTHETIC_CF
    assert len(code) == 16 and code[15] == check_character(code[:15])
    assert re.fullmatch(CF_PATTERN, code)
    # surname and name XXX XXX: a real surname or name always contributes letters of its own
    assert code.startswith("XXXXXX")
    sesso, anno, real = derive_expr(pl.lit(code), 2025)
    assert pl.select(sesso.alias("s"), anno.alias("a"), real.alias("r")).row(0) == ("M", 2000, True)


def test_a_table_added_to_the_registry_gets_its_template_with_no_other_change(monkeypatch, scratch):
    _, refs = scratch
    new = TableSpec(
        name="prova",
        label="prova",
        key=("codice",),
        columns=(Column("codice", required=True), Column("tipo", "code", values=("A", "B")), Column("quando", "date")),
    )
    monkeypatch.setitem(TABLES, "prova", new)
    monkeypatch.setitem(schemas.COLUMN_DOCS, "prova", {"codice": schemas.ColumnDoc("Codice.", "X1")})
    assert "prova" in [s.name for s in templates.all_templates()]
    rows = list(csv.reader(io.StringIO(templates.template_csv(new, refs).decode("utf-8-sig")), delimiter=";"))
    assert rows == [["codice", "tipo", "quando"], ["X1", "", ""]]
    guide = templates.column_guide(new, refs)
    assert guide.filter(guide["Colonna"] == "tipo")["Valori ammessi"].to_list() == ["A, B"]
