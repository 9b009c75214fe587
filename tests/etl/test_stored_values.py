"""The indicator values kept beside the records (etl/stored_values.py, indicators.engine.values_key).

A write that may change the values' inputs computes them once, with the lock still held; every reader (the
engine, the dashboard's snapshot, the tables of both audiences) reads them instead of computing them, and gets
exactly what it would have computed. Whenever they might be stale (a later write by a program without the hook,
a hook that failed or was killed, other code) the key no longer matches and readers compute as before; a write
of targets, which the values never read, leaves them valid.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import date

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core import warehouse
from core.settings import REPO_ROOT
from etl import stored_values
from etl.loader import load_files
from etl.targets import save_plan_rows
from indicators import api, engine
from indicators.catalog import catalog
from tests.conftest import kill_9_when, make_cf, write_csv

SAD = "anziani_sad_copertura_65"
HEADER = ["id_prestazione", "codice_fiscale", "comune_residenza", "intervento", "data_inizio", "data_fine", "id_nucleo"]
P = [make_cf("RSSMRA", 1930 + i, 1 + i % 12, 1 + i % 28) for i in range(12)]


def _rows(persons, intervento="SAD", inizio="2024-03-01", prefix="r"):
    return [[f"{prefix}{i}", cf, "Crema", intervento, inizio, "", ""] for i, cf in enumerate(persons)]


def _load(tmp_path, name, rows):
    [res] = load_files([write_csv(tmp_path / name, HEADER, rows)], db=tmp_path / "warehouse.duckdb")
    assert res.status == "loaded", res.error
    return res


def _read(db):
    return duckdb.connect(str(db), read_only=True)


class _NoComputing:
    def __init__(self, *args, **kwargs):
        raise AssertionError("the values were computed instead of read")


def _sad_users_crema(values: pl.DataFrame, anno: int = 2024) -> float:
    """Numerator of the home-care indicator in Crema (019035): persons with an active SAD record."""
    row = values.filter((pl.col("indicatore") == SAD) & (pl.col("territorio") == "019035") & (pl.col("anno") == anno))
    return row["numeratore"].item()


@pytest.fixture
def kept(tmp_path):
    """A warehouse loaded with the hook: 5 persons in home care in Crema in 2024, 3 more in 2025."""
    engine.keep_values()
    _load(tmp_path, "a.csv", _rows(P[:5]) + _rows(P[5:8], inizio="2025-02-01", prefix="s"))
    return tmp_path / "warehouse.duckdb"


def test_a_load_keeps_exactly_the_values_a_reader_would_compute(kept, monkeypatch):
    con = _read(kept)
    try:
        computed = engine.indicator_values(con, stored=False)
        tables = {a: api.indicator_table(con, a) for a in api.AUDIENCES}
        monkeypatch.setattr(engine, "Context", _NoComputing)  # from here on, reading only
        read = engine.indicator_values(con)
        assert_frame_equal(read, computed)
        assert _sad_users_crema(read) == 5 and _sad_users_crema(read, 2025) == 8
        for audience, table in tables.items():  # both audiences' tables, targets and status included
            assert_frame_equal(api.indicator_table(con, audience), table)
        # a year, some indicators: the kept rows of that year and those indicators
        assert_frame_equal(
            engine.indicator_values(con, years=[2024], indicators=["anziani_sad_copertura_65"]),
            computed.filter((pl.col("anno") == 2024) & (pl.col("indicatore") == "anziani_sad_copertura_65")),
        )
        assert float(warehouse.get_meta(con, stored_values.SECONDS)) > 0
    finally:
        con.close()


def test_another_date_or_year_is_computed(kept):
    con = _read(kept)
    try:
        kept_as_of = date.fromisoformat(warehouse.get_meta(con, stored_values.AS_OF))
        assert kept_as_of == date(2025, 2, 1)  # the latest data_inizio
        other = engine.indicator_values(con, as_of=date(2024, 6, 30))
        assert_frame_equal(other, engine.indicator_values(con, as_of=date(2024, 6, 30), stored=False))
        assert other["parziale"].any() and other["anno"].max() == 2024
        assert engine.indicator_values(con, years=[2019])["anno"].unique().to_list() == [2019]
    finally:
        con.close()


def test_each_load_replaces_them_and_a_targets_edit_keeps_them(kept, tmp_path):
    con = _read(kept)
    first_key = warehouse.get_meta(con, stored_values.KEY)
    con.close()
    _load(tmp_path, "b.csv", _rows(P[8:12], prefix="t"))  # 4 more persons in 2024
    con = _read(kept)
    second_key, version = warehouse.get_meta(con, stored_values.KEY), warehouse.get_meta(con, "data_version")
    assert second_key != first_key and engine._kept_values(con) is not None
    assert _sad_users_crema(engine.indicator_values(con)) == 9
    con.close()

    plan = pl.DataFrame({"anno": [2024, 2027], "tipo": ["BASELINE", "TARGET"], "valore": ["1.5", "2.5"]})
    assert save_plan_rows(kept, "anziani_sad_copertura_65", "AMBITO", plan, catalog={e.id: e for e in catalog()}) == []
    con = _read(kept)
    try:
        assert warehouse.get_meta(con, "data_version") != version  # the dashboard takes the new targets
        assert warehouse.get_meta(con, stored_values.KEY) == second_key  # ... and the same values
        assert engine._kept_values(con) is not None
        table = api.indicator_table(con, "ufficio")
        ambito = table.filter(
            (pl.col("indicatore") == SAD) & (pl.col("territorio") == "AMBITO") & (pl.col("anno") == 2024)
        )
        assert ambito["baseline"].item() == 1.5
    finally:
        con.close()


def test_a_write_without_the_hook_leaves_them_unused(kept, tmp_path, monkeypatch):
    monkeypatch.setattr(warehouse, "_after_values_input_write", {})  # a program that does not keep them
    _load(tmp_path, "b.csv", _rows(P[8:12], prefix="t"))
    con = _read(kept)
    try:
        assert warehouse.has_table(con, stored_values.TABLE)  # the old values are still there...
        assert engine._kept_values(con) is None  # ... but their key is not the data's
        assert _sad_users_crema(engine.indicator_values(con)) == 9  # computed, with the new persons
    finally:
        con.close()


def test_other_code_does_not_read_them(kept, monkeypatch):
    monkeypatch.setattr(engine, "code_fingerprint", lambda: "another version of the indicators")
    con = _read(kept)
    try:
        assert engine._kept_values(con) is None
        monkeypatch.setattr(engine, "Context", _NoComputing)
        with pytest.raises(AssertionError, match="computed instead of read"):
            engine.indicator_values(con)
    finally:
        con.close()


def test_a_failing_computation_leaves_the_load_and_readers_compute(tmp_path, caplog, monkeypatch):
    engine.keep_values()
    _load(tmp_path, "a.csv", _rows(P[:5]))

    def broken(con):
        raise RuntimeError("indicator broken")

    stored_values.keep(broken)
    with caplog.at_level(logging.ERROR, logger="core.warehouse"):
        res = _load(tmp_path, "b.csv", _rows(P[5:8], prefix="t"))
    assert res.rows_loaded == 3 and "indicator broken" in caplog.text
    con = _read(tmp_path / "warehouse.duckdb")
    try:
        assert warehouse.get_meta(con, stored_values.KEY) is None and engine._kept_values(con) is None
        assert _sad_users_crema(engine.indicator_values(con)) == 8
    finally:
        con.close()


def test_the_dashboard_snapshot_copies_them_without_computing(kept, monkeypatch):
    con = _read(kept)
    computed = engine.indicator_values(con, stored=False)
    con.close()
    monkeypatch.setattr(engine, "Context", _NoComputing)
    snap = warehouse.snapshot(kept, summarise=engine.publish_values)
    try:
        assert not warehouse.has_table(snap, warehouse.RECORDS)
        assert_frame_equal(engine.indicator_values(snap), computed)
    finally:
        snap.close()


def test_kill_9_while_computing_leaves_the_load_and_no_valid_values(kept, tmp_path):
    script = (
        "import sys, time\n"
        "from etl import stored_values\n"
        "from etl.loader import load_files\n"
        "from indicators import engine\n"
        "def slow(con):\n"
        "    out = engine.values_to_store(con)\n"
        "    print('PDZ_COMPUTED', file=sys.stderr, flush=True)\n"
        "    time.sleep(60)\n"
        "    return out\n"
        "stored_values.keep(slow)\n"
        "load_files([sys.argv[1]], db=sys.argv[2])\n"
    )
    f = write_csv(tmp_path / "b.csv", HEADER, _rows(P[8:12], prefix="t"))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(f), str(kept)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    kill_9_when(proc, "PDZ_COMPUTED")  # printed once the values are computed, before they are written
    con = _read(kept)
    try:
        assert engine._kept_values(con) is None  # the load committed, its values did not
        assert _sad_users_crema(engine.indicator_values(con)) == 9
    finally:
        con.close()
    _load(tmp_path, "c.csv", _rows(P[:2], prefix="u"))  # the next write with the hook keeps them again
    con = _read(kept)
    try:
        assert engine._kept_values(con) is not None
        assert_frame_equal(engine.indicator_values(con), engine.indicator_values(con, stored=False))
    finally:
        con.close()


def test_what_a_values_false_write_changes_is_never_read_by_the_values():
    """The targets' editor writes with values=False: `obiettivi` must not be an input of any indicator value."""
    sources = [*(REPO_ROOT / "indicators" / "kinds").iterdir(), REPO_ROOT / "indicators" / "engine.py"]
    readers = [p.name for p in sources if p.is_file() and re.search(r"\bobiettivi\b", p.read_text(encoding="utf-8"))]
    assert readers == []
    calls = re.findall(r"writer\([^)]*values=False", (REPO_ROOT / "etl" / "targets.py").read_text(encoding="utf-8"))
    assert len(calls) == 1


def test_without_service_records_the_values_are_of_the_day_they_were_computed(tmp_path, monkeypatch):
    """Without records the date of the data is today (`default_as_of`): the values kept yesterday are not today's."""
    engine.keep_values()
    monkeypatch.setattr(engine, "today", lambda: date(2026, 12, 31))
    staff = write_csv(
        tmp_path / "op.csv",
        ["id_operatore", "profilo", "sub_ambito", "fte"],
        [["O1", "ASSISTENTE_SOCIALE", "SA1", "1"]],
    )
    [res] = load_files([staff], db=tmp_path / "warehouse.duckdb")
    assert res.status == "loaded"
    con = _read(tmp_path / "warehouse.duckdb")
    try:
        assert engine.kept_as_of(con) == date(2026, 12, 31)
        assert engine.indicator_values(con)["anno"].unique().to_list() == [2026]
        monkeypatch.setattr(engine, "today", lambda: date(2027, 1, 2))  # the next day, in a new year
        assert engine.kept_as_of(con) is None
        assert engine.indicator_values(con)["anno"].unique().to_list() == [2027]
    finally:
        con.close()
