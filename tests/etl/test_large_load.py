"""A file larger than one batch and than DuckDB's trouble point: every row is accounted for."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from etl.loader import load_files
from tests.conftest import PRESTAZIONI_HEADER, make_cf

N = 800_000  # past ~750k rows, where a CTAS-made staging table lost everything in DuckDB 2.0.0


@pytest.mark.slow
def test_800k_rows_in_four_batches_all_loaded_or_rejected(tmp_path, db_path):
    ids = pl.int_range(0, N, eager=True)
    df = pl.DataFrame(
        {
            "id_prestazione": ids.cast(pl.String),
            "codice_fiscale": [make_cf()] * N,
            "comune_residenza": ["019035"] * N,
            "intervento": ["SAD"] * N,
            "data_richiesta": [""] * N,
            "data_inizio": ["2025-03-01"] * N,
            "data_fine": [""] * N,
            "ore": (ids % 50 - 1).cast(pl.String),  # every 50th row has ore = -1: rejected
            "importo_euro": [""] * N,
            "esito": [""] * N,
            "id_nucleo": [""] * N,
        }
    ).select(PRESTAZIONI_HEADER)
    f = tmp_path / "grande.csv"
    df.write_csv(f)
    [res] = load_files([f], db=db_path)
    assert (res.rows_read, res.rows_rejected) == (N, N // 50)
    assert res.rows_loaded == N - N // 50
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT count(*) FROM prestazioni").fetchall() == [(N - N // 50,)]
    con.close()
