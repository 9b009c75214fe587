"""Property: whatever the rows, every row is loaded or rejected with a reason."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.loader import load_files
from tests.conftest import PRESTAZIONI_HEADER, make_cf, write_csv

cells = {
    "id": st.one_of(st.just(""), st.text("abc123", min_size=1, max_size=3)),
    "cf": st.sampled_from(["", make_cf(), make_cf("BNCGNN", 1950, 1, 2), "RSSMRA85T10", make_cf()[:15] + "Q", "x"]),
    "comune": st.sampled_from(["", "019035", "19035", "Crema", "Milano", "Atlantide", "RIVOLTA D'ADDA", "15146"]),
    "intervento": st.sampled_from(["", "SAD", "ADM", "TIROCINIO", "sad", "BOH"]),
    "date": st.sampled_from(["", "2025-03-01", "01/03/2025", "31/02/2025", "2024-13-01", "ieri", "1/1/2024"]),
    "num": st.sampled_from(["", "1", "-1", "1,5", "1.234,5", "abc", "0"]),
    "esito": st.sampled_from(["", "CONCLUSO", "ASSUNZIONE", "forse"]),
    "free": st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=8),
}
row = st.tuples(
    cells["id"],
    cells["cf"],
    cells["comune"],
    cells["intervento"],
    cells["date"],
    cells["date"],
    cells["date"],
    cells["num"],
    cells["num"],
    cells["esito"],
    cells["free"],
).map(list)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=15))
def test_rows_read_is_loaded_plus_rejected_and_every_rejection_has_a_reason(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("prop")
    db = tmp / "w.duckdb"
    f = write_csv(tmp / "p.csv", PRESTAZIONI_HEADER, rows)
    [res] = load_files([f], db=db)
    if res.status == "failed":  # only a file with nothing but blank rows may fail
        assert "non contiene righe" in res.error
        return
    assert res.rows_read == res.rows_loaded + res.rows_rejected
    con = duckdb.connect(str(db), read_only=True)
    n_loaded = con.execute("SELECT count(*) FROM prestazioni").fetchall()[0][0]
    reasons = con.execute("SELECT riga, motivo FROM scarti").fetchall()
    con.close()
    assert n_loaded == res.rows_loaded
    assert len({r for r, _ in reasons}) == res.rows_rejected
    assert all(m and m.strip() for _, m in reasons)


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=100),
    values=st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30),
    namespace=st.sampled_from(["persona", "nucleo"]),
)
def test_pseudonyms_computed_by_duckdb_equal_python_hmac_in_order(key, values, namespace):
    """The loader hashes whole batches in DuckDB: same hex as hmac.new(key, ns:value, sha256), null kept."""
    import hmac

    import polars as pl

    from etl.codice_fiscale import pseudonym, pseudonyms

    got = pseudonyms(pl.Series("cf", values, dtype=pl.String), key, namespace).to_list()
    assert got == [None if v is None else pseudonym(key, f"{namespace}:{v}") for v in values]
    if values and values[0] is not None:
        assert got[0] == hmac.new(key, f"{namespace}:{values[0]}".encode(), "sha256").hexdigest()
