"""The benchmark machinery at a tiny scale: every measurement and ratio is in the report.

Not a timed test: it checks that `python -m benchmarks` generates valid contract files,
runs each step, and reports figures, ratios and goals (the figures themselves are
whatever this machine gives).
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from benchmarks import generate
from benchmarks.cli import run_benchmarks
from benchmarks.scales import SCALES, comuni_of, parse_scales
from etl.codice_fiscale import check_character

ROWS = 3000


def test_generated_file_is_contract_format_and_streams_in_chunks(tmp_path):
    comuni = comuni_of(SCALES["ambito"])
    out = generate.write_prestazioni(tmp_path / "p.csv", comuni, 2500, seed=1, chunk_rows=700)
    df = pl.read_csv(out.path, infer_schema=False)
    assert df.columns == generate.HEADER
    assert df.height == out.rows == 2500 and out.bad_rows == round(2500 * generate.BAD_SHARE)
    assert df["id_prestazione"].n_unique() == df.height
    assert set(df["comune_residenza"]) <= set(comuni["comune"])
    cfs = df["codice_fiscale"].to_list()
    wrong = sum(check_character(c[:15]) != c[15] for c in cfs)
    assert wrong == out.bad_rows  # only the deliberately spoiled rows have a wrong check character
    # a person's codice fiscale depends only on the person's number: the same in every chunk
    pop = generate.Population.build(comuni, 1000)
    ids = np.array([3, 500, pop.persons - 1, 3])
    a, b = pop.attributes(ids, seed=1)["cf"], pop.attributes(ids[::-1].copy(), seed=1)["cf"][::-1]
    assert (a == b).all() and (a[0] == a[3]).all() and not (a[0] == a[1]).all()


def test_scale_spec_accepts_a_custom_number_of_records():
    [s] = parse_scales("ambito:3000")
    assert (s.name, s.rows) == ("ambito", 3000)
    with pytest.raises(ValueError):
        parse_scales("atlantide")


def test_tiny_run_reports_every_measurement_ratio_and_goal(tmp_path):
    out = tmp_path / "bench"
    results = run_benchmarks(
        [
            "--scales",
            f"ambito:{ROWS}",
            "--out",
            str(out),
            "--repeat",
            "1",
            "--quiet",
            "--budget",
            "600",
            "--steps",
            "scales",
            "--load-runs",
            "2",
        ]
    )
    scale = results["scales"]["ambito"]
    assert scale["status"] == "completa", scale.get("status")
    steps = scale["steps"]
    for step in ("fixed", "load", "floor", "pandas", "dashboard"):
        assert steps[step]["status"] == "ok", (step, steps[step].get("error"))
    for step in ("load", "floor", "pandas"):
        assert steps[step]["seconds"] > 0 and steps[step]["peak_rss"] > 10 * 1024**2
    # the loader read every row, rejected exactly the spoiled ones
    load = steps["load"]["result"]
    assert load["rows_read"] == ROWS and load["rows_rejected"] == scale["bad_rows"] > 0
    summary = scale["summary"]
    for key in (
        "load_rows_per_s",
        "floor_rows_per_s",
        "pandas_rows_per_s",
        "ratio_load_floor",
        "ratio_pandas_load",
        "indicators_ufficio_s",
        "indicators_pubblico_s",
        "compute_s",
        "values_s",
        "app_cold_s",
        "page_max_s",
    ):
        assert summary[key] is not None and summary[key] > 0, key
    # ours and the floor alternated twice: the ratio is the median (here the mean) of the two runs' ratios
    paired = steps["paired"]
    assert len(paired["load_seconds"]) == len(paired["floor_seconds"]) == 2
    ratios = [a / b for a, b in zip(paired["load_seconds"], paired["floor_seconds"])]
    assert summary["ratio_load_floor"] == pytest.approx(sum(ratios) / 2)
    assert summary["ratio_load_floor_range"] == pytest.approx((min(ratios), max(ratios)))
    assert summary["load_s"] == pytest.approx(sum(paired["load_seconds"]) / 2)
    # the load's own time is compared with the floor; the indicator values it kept afterwards are apart
    load_step = steps["load"]
    assert load_step["seconds"] + load_step["values_seconds"] == pytest.approx(load_step["seconds_with_values"])
    assert summary["ratio_pandas_load"] == pytest.approx(steps["pandas"]["seconds"] / summary["load_s"])
    # every page of the router was run, without an exception
    pages = {p["page"]: p for p in steps["dashboard"]["pages"]}
    assert {"pages/panoramica.py", "pages/anziani.py", "pages/comune.py", "pages/dati.py"} <= set(pages)
    assert not summary["page_errors"], summary["page_errors"]
    assert all(len(p["runs"]) == 1 for p in pages.values())
    assert all(p["title"] and p["title"] != "Accesso" for p in pages.values())  # the page, not the login gate
    goals = {g["goal"]: g for g in summary["goals"]}
    assert len(goals) == 5 and all(g["met"] in (True, False) for g in goals.values())
    # the report files: JSON with the same figures, Markdown with the table and the goals
    saved = json.loads((out / "benchmark.json").read_text())
    assert saved["scales"]["ambito"]["summary"]["ratio_load_floor"] == pytest.approx(summary["ratio_load_floor"])
    md = (out / "benchmark.md").read_text()
    for text in (
        "rapporto nostro ÷ pavimento",
        "pandas+SQLite ÷ nostro",
        "pagina `panoramica`",
        "calcolo di tutti gli indicatori",
        "## Obiettivi",
        results["machine"]["cpu_model"],
    ):
        assert text in md
    # nothing big is left behind without --keep
    assert not (out / "ambito" / "prestazioni.csv").exists()


def test_reports_step_times_each_format_and_reports_the_goals(tmp_path):
    """`--steps reports`: XLSX, PDF and PPTX on a (small) demo warehouse, cold and with the images cached."""
    out = tmp_path / "bench"
    args = ["--steps", "reports", "--out", str(out), "--repeat", "1", "--quiet", "--demo-scale", "0.2"]
    results = run_benchmarks(args)
    rep = results["reports"]
    assert rep["status"] == "ok", rep.get("error")
    median = rep["summary"]["median"]
    assert set(median) == {"xlsx", "pdf", "pptx", "pptx_after_pdf", "pdf_after_pptx"}
    assert all(v > 0 for v in median.values())
    assert rep["summary"]["ratio_xlsx"]["pdf"] == pytest.approx(median["pdf"] / median["xlsx"])
    goals = rep["summary"]["goals"]
    assert len(goals) == 8 and all(g["met"] in (True, False) for g in goals)
    md = (out / "benchmark.md").read_text(encoding="utf-8")
    assert "Report sul database dimostrativo" in md and "PDF, dati nuovi" in md and "≤ 3× XLSX" in md
