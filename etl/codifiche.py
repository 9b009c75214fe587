"""Code mappings edited one at a time (the dashboard's form in «Dati e qualità»).

A mapping says which intervento of the catalogue a code of another system
means (`codifiche`: `sistema`, `codice`, `intervento`, `descrizione`). A file of
mappings is loaded like any other (`python -m etl load codifiche.csv`); this
module saves or removes one mapping with the same checks (`validate_batch` on
the `codifiche` schema), and in the same transaction loads the held records
the new mapping covers (`held.release`). Each edit is a line of the load
history (`caricamenti`, table `codifiche`).

Removing a mapping changes only what arrives from then on: records already
loaded with it keep their intervento.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from core import redact, warehouse
from etl import held, person_keys
from etl.loader import LoadResult, _fault_injection_pause, _new_batch_id
from etl.readers import ROW
from etl.schemas import CODIFICHE
from etl.validate import Context, validate_batch


class MappingRefused(ValueError):
    """The mapping cannot be saved (the message is Italian and says what to correct)."""


def save_mapping(
    sistema: str,
    codice: str,
    intervento: str,
    descrizione: str | None = None,
    db: Path | str | None = None,
    user: str | None = None,
) -> LoadResult:
    """Add or replace the mapping of (sistema, codice); the held records it covers are loaded with it."""
    t0 = time.perf_counter()
    started = datetime.now()
    with warehouse.writer(db) as con:
        row = _checked_row(con, sistema, codice, intervento, descrizione)
        batch_id = _new_batch_id(started)
        label = f"modifica dal cruscotto: codifica {row['sistema']} {row['codice']} → {row['intervento']}"
        result = LoadResult(file=label, table="codifiche", batch_id=batch_id, status="failed", rows_read=1)
        con.execute("BEGIN TRANSACTION")
        try:
            person_keys.prepare(con)
            con.execute("DELETE FROM codifiche WHERE sistema = ? AND codice = ?", [row["sistema"], row["codice"]])
            con.execute(
                "INSERT INTO codifiche (sistema, codice, intervento, descrizione, batch_id) VALUES (?, ?, ?, ?, ?)",
                [row["sistema"], row["codice"], row["intervento"], row["descrizione"], batch_id],
            )
            result.rows_released, result.rows_released_rejected = held.release(con, batch_id)
            person_keys.mark(con)
            _log(con, result, started, user)
            _fault_injection_pause()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    result.status, result.rows_loaded = "loaded", 1
    result.seconds = time.perf_counter() - t0
    return result


def remove_mapping(sistema: str, codice: str, db: Path | str | None = None, user: str | None = None) -> LoadResult:
    """Remove the mapping of (sistema, codice): records loaded with it stay as they are."""
    t0 = time.perf_counter()
    started = datetime.now()
    with warehouse.writer(db) as con:
        n = warehouse.scalar(con, "SELECT count(*) FROM codifiche WHERE sistema = ? AND codice = ?", [sistema, codice])
        if not n:
            raise MappingRefused(f"nessuna codifica {sistema} {codice} da eliminare.")
        batch_id = _new_batch_id(started)
        result = LoadResult(
            file=f"modifica dal cruscotto: eliminata la codifica {sistema} {codice}",
            table="codifiche",
            batch_id=batch_id,
            status="failed",
            rows_read=1,
        )
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM codifiche WHERE sistema = ? AND codice = ?", [sistema, codice])
            _log(con, result, started, user)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    result.status, result.rows_loaded = "loaded", 1
    result.seconds = time.perf_counter() - t0
    return result


def _checked_row(
    con: duckdb.DuckDBPyConnection, sistema: str, codice: str, intervento: str, descrizione: str | None
) -> dict:
    """The mapping as stored (normalised, description scrubbed), or MappingRefused with every reason."""
    batch = pl.DataFrame(
        {ROW: [1], "sistema": [sistema], "codice": [codice], "intervento": [intervento], "descrizione": [descrizione]},
        schema={
            ROW: pl.Int64,
            "sistema": pl.String,
            "codice": pl.String,
            "intervento": pl.String,
            "descrizione": pl.String,
        },
    )
    good, errors = validate_batch(CODIFICHE, batch, _context(con))
    if errors.height:
        reasons = "; ".join(f"{r['colonna']}: {r['motivo']}" for r in errors.iter_rows(named=True))
        raise MappingRefused(f"codifica non salvata. {reasons[0].upper()}{reasons[1:]}.")
    return good.row(0, named=True)


def _context(con: duckdb.DuckDBPyConnection) -> Context:
    """What the `codifiche` checks read: the catalogue of interventi (the rest is not used by them)."""
    return Context(
        comune_codes=set(),
        comune_keys={},
        interventi=dict(con.execute("SELECT intervento, area FROM interventi").fetchall()),
        sub_ambiti=set(),
        indicatori=None,
        anno_baseline=0,
        anni_piano=(),
        reference_year=date.today().year,
    )


def _log(con: duckdb.DuckDBPyConnection, result: LoadResult, started: datetime, user: str | None) -> None:
    con.execute(
        "INSERT INTO caricamenti (batch_id, file, tabella, sha256, status, rows_read, rows_loaded, rows_rejected, "
        "started_at, ended_at, error, fonte, utente) VALUES (?, ?, 'codifiche', NULL, 'loaded', 1, 1, 0, ?, ?, NULL, "
        "NULL, ?)",
        [result.batch_id, redact.safe_text(result.file), started, datetime.now(), user],
    )
