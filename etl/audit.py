"""The audit log: who did what, when, with which outcome (table `audit` of the warehouse).

Pages never write the warehouse: they call `record()`. Each call is a short write
through `core.warehouse.writer(data=False)` (the dashboard keeps its snapshot). If another
process holds the file for longer than a few seconds (a long load from the command
line), the entry waits in memory and is written with the next one: the dashboard
never blocks a login on the log, and no entry is dropped while the process lives
(a write that keeps failing is also printed to the server's standard error).
"""

from __future__ import annotations

import sys
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from core import redact, settings, warehouse

# The actions written by the dashboard and the CLI.
ACTIONS = {
    "login": "accesso",
    "login_fallito": "accesso non riuscito",
    "logout": "uscita",
    "sessione_scaduta": "sessione scaduta per inattività",
    "accesso_negato": "accesso negato",
    "caricamento": "caricamento di file",
    "caricamento_rifiutato": "file rifiutato prima del caricamento",
    "obiettivi": "modifica degli obiettivi",
    "codifica": "modifica delle codifiche (codici dei sistemi di origine)",
    "esportazione": "esportazione o download",
    "utenti": "gestione degli utenti",
}
WRITE_WAIT_SECONDS = 3.0
_MAX_TEXT = 1000

_pending: list[tuple] = []
_lock = threading.Lock()


def _clean(text: object, limit: int = _MAX_TEXT) -> str | None:
    """Text for the log: no control characters (no forged lines), no person identifier (a file name, a
    username typed at the login), bounded length."""
    if text is None:
        return None
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return redact.mask_identifiers(s)[:limit]


def record(
    azione: str,
    utente: str | None,
    ruolo: str | None = None,
    oggetto: str | None = None,
    esito: str = "ok",
    dettaglio: str | None = None,
    db: Path | str | None = None,
) -> bool:
    """Append one entry (and any still waiting). True when everything reached the warehouse."""
    if azione not in ACTIONS:
        raise ValueError(f"azione di audit sconosciuta: {azione}")
    row = (
        datetime.now(),
        _clean(utente, 200),
        _clean(ruolo, 50),
        azione,
        _clean(oggetto, 500),
        _clean(esito, 50),
        _clean(dettaglio),
    )
    path = Path(db or settings.db_path())
    with _lock:
        _pending.append((str(path), row))
        waiting = [r for p, r in _pending if p == str(path)]
        try:
            with warehouse.writer(path, data=False, wait_seconds=WRITE_WAIT_SECONDS) as con:
                con.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", waiting)
        except (warehouse.WarehouseBusy, OSError) as exc:
            print(f"audit: {len(waiting)} voci in attesa di scrittura ({exc})", file=sys.stderr)
            return False
        _pending[:] = [(p, r) for p, r in _pending if p != str(path)]
    return True


def pending() -> int:
    with _lock:
        return len(_pending)


def entries(
    db: Path | str | None = None,
    dal: date | None = None,
    al: date | None = None,
    utente: str | None = None,
    azioni: list[str] | None = None,
    esito: str | None = None,
    limit: int = 5000,
) -> pl.DataFrame:
    """The log, newest first, filtered (a short read of the warehouse file, not the snapshot)."""
    start = datetime.combine(dal, time.min) if dal else None
    end = datetime.combine(al + timedelta(days=1), time.min) if al else None
    like = f"%{utente.strip().lower()}%" if utente and utente.strip() else None
    with warehouse.reader(db) as con:
        has_table = warehouse.scalar(
            con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit'"
        )  # a warehouse created before the audit log: nothing to show yet
        if not has_table:
            return empty()
        return warehouse.query_pl(
            con,
            """
            SELECT quando, utente, ruolo, azione, oggetto, esito, dettaglio FROM audit
            WHERE (?::TIMESTAMP IS NULL OR quando >= ?::TIMESTAMP)
              AND (?::TIMESTAMP IS NULL OR quando < ?::TIMESTAMP)
              AND (?::VARCHAR IS NULL OR lower(utente) LIKE ?::VARCHAR)
              AND (?::VARCHAR[] IS NULL OR list_contains(?::VARCHAR[], azione))
              AND (?::VARCHAR IS NULL OR esito = ?::VARCHAR)
            ORDER BY quando DESC LIMIT ?
            """,
            [start, start, end, end, like, like, azioni or None, azioni or None, esito, esito, limit],
        )


def empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "quando": pl.Datetime("us"),
            "utente": pl.String,
            "ruolo": pl.String,
            "azione": pl.String,
            "oggetto": pl.String,
            "esito": pl.String,
            "dettaglio": pl.String,
        }
    )
