"""`python -m etl init`: an empty warehouse for real data, in place of the demo one.

The first command of the README builds the demo warehouse at the default path, and the loader
refuses real files there (`etl.loader._check_demo`). `init` makes the place ready for real data:

* no file at the path: the empty warehouse is created;
* the demo warehouse (synthetic data only): deleted, the empty warehouse created in its place;
* a demo warehouse that also holds real loads (made before the loader refused them): moved aside,
  owner-only, as `NAME.misto-YYYYmmdd-HHMMSS`, and the real files listed to be loaded again;
* a warehouse for real data: left as it is.

The new warehouse is marked `demo = false` (`python -m etl demo` never replaces it), and gets its
pseudonymisation key (created when missing) with the key's fingerprint.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from core import settings, warehouse
from core.private_files import FILE_MODE
from etl import queries
from etl.loader import KEY_FINGERPRINT, warehouse_key


def _wal(path: Path) -> Path:
    return Path(str(path) + ".wal")


def init_real(db: Path | str | None = None) -> str:
    """Prepare `db` for real data (see the module docstring); returns what was done, in Italian."""
    db = Path(db or settings.db_path())
    lines: list[str] = []
    if db.exists():
        with warehouse.reader(db) as con:
            demo = warehouse.has_table(con, "meta") and queries.is_demo(con)
            real_files = queries.real_loads_in_demo(con) if demo else []
        if not demo:
            return f"{db} è già un database per i dati reali (non dimostrativo): nessuna modifica."
        if real_files:
            aside = db.with_name(f"{db.name}.misto-{datetime.now():%Y%m%d-%H%M%S}")
            os.replace(db, aside)
            os.chmod(aside, FILE_MODE)
            if _wal(db).exists():
                os.replace(_wal(db), _wal(aside))
                os.chmod(_wal(aside), FILE_MODE)
            lines.append(
                f"Il database dimostrativo {db} conteneva anche dati reali: è stato spostato in {aside} "
                "(leggibile solo dal proprietario). Caricare di nuovo nel nuovo database questi file: "
                f"{', '.join(real_files)}; poi eliminare {aside}."
            )
        else:
            db.unlink()
            _wal(db).unlink(missing_ok=True)
            lines.append(f"Il database dimostrativo {db} (solo dati sintetici) è stato eliminato.")
    key_path = settings.secret_path(db)
    existed = key_path.exists()
    with warehouse.writer(db) as con:
        warehouse.set_meta(con, "demo", "false")
        _, fingerprint = warehouse_key(con)
        if fingerprint is not None:
            warehouse.set_meta(con, KEY_FINGERPRINT, fingerprint)
    lines.append(f"Creato il database vuoto per i dati reali: {db} (leggibile solo dal proprietario).")
    lines.append(
        f"Chiave di pseudonimizzazione: {key_path} ({'già presente' if existed else 'creata ora'}). Farne subito "
        "una copia di sicurezza in un luogo protetto: senza la stessa chiave il database rifiuta i caricamenti "
        "successivi, perché le persone non si collegherebbero a quelle già caricate."
    )
    lines.append(
        "Prossimi passi: creare il primo account con `python -m etl users add NOME --role ufficio_di_piano` "
        "(finché non esiste, il cruscotto non mostra nulla), poi caricare i file con `python -m etl load FILE...`."
    )
    return "\n".join(lines)
