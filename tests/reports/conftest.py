"""One small demo warehouse per test module, read through the public table."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from core import warehouse
from demo.build import build_demo
from indicators import api

FOCUS = "SA2"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reports") / "w.duckdb"
    build_demo(path, scale=0.2)
    return path


@pytest.fixture(scope="module")
def public_table(demo_db: Path) -> pl.DataFrame:
    with warehouse.reader(demo_db) as con:
        return api.indicator_table(con, "pubblico")


@pytest.fixture(scope="module")
def report_year(public_table: pl.DataFrame) -> int:
    """The last year without partial rows, computed here independently of the report code."""
    partial = public_table.group_by("anno").agg(pl.col("parziale").any().alias("p"))
    return int(partial.filter(~pl.col("p"))["anno"].max())
