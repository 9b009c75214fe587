"""Failures of the command line said in Italian: what happened and what to do, never a traceback.

`python -m etl` and `python -m indicators` run their command through `run_command`: an error
the code foresaw (a busy or unreadable warehouse, a missing file) prints its own Italian message;
anything else prints a short Italian message with a one-line technical detail (no traceback, no
identifier: `core.redact`) and exits with status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from core import redact
from core.warehouse import WarehouseUnavailable

MSG_UNEXPECTED = (
    "Errore imprevisto: il comando non è stato completato e i dati caricati non sono cambiati. "
    "Riprovare; se si ripete, segnalare il problema a chi mantiene pdz-monitor con questo dettaglio: {detail}"
)
MSG_INTERRUPTED = "Comando interrotto dall'utente."


def message_for(exc: BaseException) -> str:
    """The Italian line printed for a failed command."""
    if isinstance(exc, WarehouseUnavailable):
        where = f" (database: {exc.path})" if exc.path else ""
        return f"Errore: {exc}{where}"
    detail = redact.safe_text(f"{type(exc).__name__}: {exc}".strip(), 300)
    return MSG_UNEXPECTED.format(detail=detail)


def run_command(command: Callable[[], int], expected: tuple[type[BaseException], ...] = ()) -> int:
    """`command()`'s exit status; a failure becomes an Italian message on standard error and status 1.

    `expected`: errors whose own message is already Italian and complete (printed as `Errore: ...`).
    """
    try:
        return command()
    except KeyboardInterrupt:
        print(MSG_INTERRUPTED, file=sys.stderr)
        return 130
    except WarehouseUnavailable as exc:
        print(message_for(exc), file=sys.stderr)
        return 1
    except expected as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last resort: no traceback reaches the person at the terminal
        print(message_for(exc), file=sys.stderr)
        return 1
