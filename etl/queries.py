"""Named read queries about loads and data quality (CLI and the Dati e qualità page)."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from core import redact
from core.warehouse import HELD_BY_CODE, UNKNOWN_AGE, get_meta, has_table, query_pl, records_by_source

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
        # held for a code mapping at load time: the rest of what was read (rows_read = loaded + rejected + held)
        "rows_read - rows_loaded - rows_rejected AS rows_held, "
        "started_at, ended_at, error, fonte, utente FROM caricamenti "
        "ORDER BY coalesce(ended_at, started_at) DESC, batch_id DESC LIMIT ?",
        [limit],
    )


LOAD_STATUS = {"loaded": "caricato", "duplicate": "già caricato", "failed": "non riuscito"}


def load_history_display(history: pl.DataFrame) -> pl.DataFrame:
    """The load history as the Ufficio reads it: Italian names and outcomes, the columns that fit a page
    (the error only when a load has one; the codes stay in `load_history`)."""
    out = history.select(
        pl.col("file"),
        pl.col("tabella"),
        pl.col("status").replace_strict(LOAD_STATUS, default=pl.col("status")).alias("esito"),
        pl.col("rows_read").alias("righe_lette"),
        pl.col("rows_loaded").alias("righe_caricate"),
        pl.col("rows_rejected").alias("righe_scartate"),
        # waiting for a code mapping (rows_read = loaded + rejected + held): never left unexplained
        pl.col("rows_held").alias("righe_in_attesa"),
        pl.col("ended_at").alias("caricato_il"),
        pl.col("utente"),
        pl.col("error").alias("errore"),
    )
    if not (out["righe_in_attesa"].fill_null(0) > 0).any():
        out = out.drop("righe_in_attesa")  # no code waiting: one column less to read
    return out if out["errore"].drop_nulls().len() else out.drop("errore")


def freshness_display(fresh: pl.DataFrame) -> pl.DataFrame:
    return fresh.rename({"ultima_data_inizio": "data_più_recente"}, strict=False)


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


# meta key: the batches `demo.build` loaded (a JSON list of batch ids), written when the build ends.
DEMO_BATCHES = "demo_batches"
# What the demo builder loaded before it recorded its batches: its files' names (tests/etl/test_trust.py
# keeps them equal to demo/generate.py and demo/build.py), the targets file last.
# accessi.csv: a demo built before `demo_batches` has none (the loader took no contacts then), so its
# name here never hides a real load in such a warehouse.
LEGACY_DEMO_FILES = (
    "prestazioni_cartella_sociale.csv",
    "prestazioni_sil.xlsx",
    "operatori.csv",
    "sedi.csv",
    "accessi.csv",
    "obiettivi_dimostrativi.csv",
)
LEGACY_DEMO_LAST = "obiettivi_dimostrativi.csv"


def real_loads_in_demo(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Files loaded into a demo warehouse that its builder did not load (sorted names; [] otherwise).

    The loader refuses such loads; a demo warehouse built before it did (no `demo_batches` in meta)
    may hold some: anything loaded by a user, under another name, or after the builder's last file.
    """
    if not is_demo(con):
        return []
    recorded = get_meta(con, DEMO_BATCHES)
    if recorded is not None:
        rows = con.execute(
            "SELECT DISTINCT file FROM caricamenti WHERE status = 'loaded' AND NOT list_contains(?::VARCHAR[], "
            "batch_id) ORDER BY file",
            [json.loads(recorded)],
        ).fetchall()
        return [r[0] for r in rows]
    rows = con.execute(
        """
        WITH loaded AS (SELECT * FROM caricamenti WHERE status = 'loaded'),
        built AS (SELECT max(ended_at) AS fine FROM loaded WHERE file = ? AND utente IS NULL)
        SELECT DISTINCT file FROM loaded, built
        WHERE utente IS NOT NULL OR NOT list_contains(?::VARCHAR[], file) OR started_at > built.fine
        ORDER BY file
        """,
        [LEGACY_DEMO_LAST, list(LEGACY_DEMO_FILES)],
    ).fetchall()
    return [r[0] for r in rows]


def is_pure_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """The demo warehouse holding only what its builder loaded: the only one the open demo access serves."""
    return is_demo(con) and not real_loads_in_demo(con)


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
        schema = {
            "sistema": pl.String,
            "codice": pl.String,
            "righe": pl.Int64,
            "prima_data_inizio": pl.Date,
            "ultima_data_inizio": pl.Date,
            "file": pl.String,
        }
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
        return pl.DataFrame(schema={"intervento": pl.String, "area": pl.String, "righe": pl.Int64, "persone": pl.Int64})
    return query_pl(con, f"SELECT * FROM {UNKNOWN_AGE} ORDER BY persone DESC, intervento")
