"""One audit entry for the session's user (downloads, uploads, target edits), written
through `etl.audit`: the shell and the pages never write the warehouse themselves.
"""

from __future__ import annotations

from core.users import Access
from etl import audit
from ui.filters import Frame
from ui.session import db_path


def audit_action(
    who: Frame | Access | None, azione: str, oggetto: str | None, esito: str = "ok", dettaglio: str | None = None
) -> None:
    """Write one audit entry for the session's user (through etl: pages never write the warehouse)."""
    access = who.access if isinstance(who, Frame) else who
    audit.record(
        azione,
        access.utente if access else None,
        access.ruolo if access else None,
        oggetto,
        esito,
        dettaglio,
        db=db_path(),
    )
