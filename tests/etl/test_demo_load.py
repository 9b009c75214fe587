"""The demo files go through the real loader: exactly the planted bad rows are rejected."""

from __future__ import annotations

import duckdb

from demo.generate import expected_rejections, generate_demo_files
from etl.loader import load_files


def test_loader_rejects_exactly_the_planted_bad_rows(tmp_path, db_path):
    files = generate_demo_files(tmp_path, seed=7, scale=0.1)
    results = load_files(files, db=db_path)
    assert all(r.status == "loaded" for r in results)
    assert all(r.rows_read == r.rows_loaded + r.rows_rejected for r in results)
    expected = expected_rejections(tmp_path)
    planted = {(e["file"], e["riga"]) for e in expected}
    # A duplicated id is ambiguous: the loader rejects every occurrence, the first one too.
    first_of_duplicates = {(e["file"], e["riga_originale"]) for e in expected if e["tipo"] == "id_duplicato"}
    con = duckdb.connect(str(db_path), read_only=True)
    rejected = set(con.execute("SELECT file, riga FROM scarti").fetchall())
    loaded = con.execute("SELECT count(*) FROM prestazioni").fetchall()[0][0]
    con.close()
    assert rejected == planted | first_of_duplicates
    assert sum(r.rows_rejected for r in results) == len(rejected)
    assert loaded == sum(r.rows_loaded for r in results if r.table == "prestazioni")
