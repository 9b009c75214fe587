"""Named read queries about loads and data quality (CLI and the Dati e qualità page)."""

from __future__ import annotations

import duckdb
import polars as pl

from core import redact
from core.warehouse import get_meta, query_pl, records_by_source

STATUS_IN_PROGRESS = "in_corso"  # `caricamenti.status` while a load runs (etl/loader.py)
STATUS_INTERRUPTED = "interrotto"
# The status as shown: only a dead load leaves `in_corso` behind, since a running one holds the
# warehouse file and nobody can read it meanwhile (the next load stores `interrotto`).
SHOWN_STATUS_SQL = f"CASE status WHEN '{STATUS_IN_PROGRESS}' THEN '{STATUS_INTERRUPTED}' ELSE status END"


def rejected_rows(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> pl.DataFrame:
    """One row per problem: file, row, column, reason, value as written (identifiers masked, bounded).

    Values are masked when stored; masked again here for a warehouse written before that rule.
    """
    rows = query_pl(
        con,
        "SELECT batch_id, file, riga, colonna, motivo, valore FROM scarti "
        "WHERE ? IS NULL OR batch_id = ? ORDER BY batch_id, riga, colonna",
        [batch_id, batch_id],
    )
    return rows.with_columns(redact.masked_expr(pl.col("file")), redact.masked_expr(pl.col("valore")))


def load_history(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    return query_pl(
        con,
        f"SELECT batch_id, file, tabella, {SHOWN_STATUS_SQL} AS status, rows_read, rows_loaded, rows_rejected, "
        "started_at, ended_at, error, fonte, utente FROM caricamenti "
        "ORDER BY coalesce(ended_at, started_at) DESC, batch_id DESC LIMIT ?",
        [limit],
    )


def freshness(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per table and source: last successful load and the latest date in the data."""
    loads = query_pl(
        con,
        """
        WITH loads AS (
            SELECT tabella, unnest(string_split(coalesce(fonte, '-'), ',')) AS fonte, ended_at
            FROM caricamenti WHERE status = 'loaded'
        )
        SELECT l.tabella, l.fonte, max(l.ended_at) AS ultimo_caricamento
        FROM loads l GROUP BY l.tabella, l.fonte ORDER BY l.tabella, l.fonte
        """,
    )
    dates = records_by_source(con).select("fonte", "ultima_data_inizio")
    return loads.join(dates, on="fonte", how="left", maintain_order="left")


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    return get_meta(con, "demo") == "true"


def batch_filter(batch_ids: list[str]) -> pl.Expr:
    return pl.col("batch_id").is_in(batch_ids)


def reject_reasons(con: duckdb.DuckDBPyConnection, batch_ids: list[str] | None = None) -> pl.DataFrame:
    """How many rows each reason rejected, per file and column (all loads, or the given ones)."""
    return query_pl(
        con,
        """
        SELECT s.file, s.colonna, s.motivo, count(DISTINCT (s.batch_id, s.riga)) AS righe
        FROM scarti s
        WHERE ?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], s.batch_id)
        GROUP BY ALL ORDER BY righe DESC, s.file, s.colonna
        """,
        [batch_ids, batch_ids],
    )
