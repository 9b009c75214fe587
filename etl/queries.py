"""Named read queries about loads and data quality (CLI and the Dati e qualità page)."""

from __future__ import annotations

import duckdb
import polars as pl

from core.warehouse import HELD_BY_CODE, UNKNOWN_AGE, get_meta, has_table, query_pl, records_by_source


def rejected_rows(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> pl.DataFrame:
    """One row per problem: file, row, column, reason, value as written (codice fiscale masked)."""
    return query_pl(
        con,
        "SELECT batch_id, file, riga, colonna, motivo, valore FROM scarti "
        "WHERE ? IS NULL OR batch_id = ? ORDER BY batch_id, riga, colonna",
        [batch_id, batch_id],
    )


def load_history(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pl.DataFrame:
    return query_pl(
        con,
        "SELECT batch_id, file, tabella, status, rows_read, rows_loaded, rows_rejected, "
        # held for a code mapping at load time: the rest of what was read (rows_read = loaded + rejected + held)
        "rows_read - rows_loaded - rows_rejected AS rows_held, started_at, ended_at, "
        "error, fonte, utente FROM caricamenti ORDER BY ended_at DESC, batch_id DESC LIMIT ?",
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
        SELECT s.file, s.colonna, s.motivo, count(DISTINCT (s.batch_id, s.file, s.riga)) AS righe
        FROM scarti s
        WHERE ?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], s.batch_id)
        GROUP BY ALL ORDER BY righe DESC, s.file, s.colonna
        """,
        [batch_ids, batch_ids],
    )


# --- code mappings, the waiting queue, people of unknown age (etl/held.py, etl/codifiche.py) --------------


def held_by_code(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows waiting for a code mapping, per (sistema, codice): rows, first and last start date, files."""
    if not has_table(con, HELD_BY_CODE):  # a warehouse older than the queue
        schema = {"sistema": pl.String, "codice": pl.String, "righe": pl.Int64, "prima_data_inizio": pl.Date,
                  "ultima_data_inizio": pl.Date, "file": pl.String}  # fmt: skip
        return pl.DataFrame(schema=schema)
    return query_pl(con, f"SELECT * FROM {HELD_BY_CODE} ORDER BY righe DESC, sistema, codice")


def code_mappings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The code mappings: sistema, codice, intervento, its area and description in the catalogue, descrizione."""
    if not has_table(con, "codifiche"):
        return pl.DataFrame(schema={c: pl.String for c in ("sistema", "codice", "intervento", "area", "descrizione")})
    return query_pl(
        con,
        "SELECT c.sistema, c.codice, c.intervento, i.area, c.descrizione FROM codifiche c "
        "LEFT JOIN interventi i USING (intervento) ORDER BY c.sistema, c.codice",
    )


def intervention_catalogue(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The catalogue of interventi (intervento, area, descrizione), by area and code."""
    return query_pl(con, "SELECT intervento, area, descrizione FROM interventi ORDER BY area, intervento")


def unknown_age(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Loaded records without a year of birth (identifiers that do not encode it): per intervento and area,
    rows and distinct persons."""
    if not has_table(con, UNKNOWN_AGE):
        return pl.DataFrame(schema={"intervento": pl.String, "area": pl.String, "righe": pl.Int64,
                                    "persone": pl.Int64})  # fmt: skip
    return query_pl(con, f"SELECT * FROM {UNKNOWN_AGE} ORDER BY persone DESC, intervento")
