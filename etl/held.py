"""The waiting queue: service records whose source code has no mapping yet.

A record of `prestazioni` may name its intervention with the code of another
system (`sistema_codifica`, `codice_intervento`) instead of a code of the
catalogue; the table `codifiche` maps such codes to the catalogue. A record
whose code has no mapping yet, and that passes every other check, is *held*:
stored like a loaded record (pseudonymised, no identifier) in
`prestazioni_in_attesa`, counted in no indicator, listed in «Dati e qualità».

When a mapping arrives (a `codifiche` file or the dashboard's form), `release`
moves the rows it covers into `prestazioni` inside the same transaction as the
mapping, so a crash leaves either the old or the new state. A row that then
fails a rule that depends on reference data which may have changed since it was
held (its comune must still belong to the ambito) is rejected with its reason.
Nothing is lost: every covered row is released or rejected, and the counts are
checked before the commit.

Both functions run inside the caller's open transaction and never commit; `release` writes the released
records through `etl.person_keys`, which gives them their keys (the caller runs `prepare` and `mark` around it).
"""

from __future__ import annotations

import duckdb

from core import warehouse
from etl import person_keys

HELD = warehouse.HELD
# The queue's columns that come from the staged record (core/warehouse.py declares the table).
HELD_COLUMNS = [
    "fonte",
    "id_prestazione",
    "persona_id",
    "sesso",
    "anno_nascita",
    "comune",
    "sistema_codifica",
    "codice_intervento",
    "data_richiesta",
    "data_inizio",
    "data_fine",
    "ore",
    "importo_euro",
    "esito",
    "nucleo_id",
    "batch_id",
]
# The columns of a record released into prestazioni (besides the keys that etl/person_keys.py gives).
RECORD_COLUMNS = [
    "fonte",
    "id_prestazione",
    "persona_id",
    "sesso",
    "anno_nascita",
    "comune",
    "intervento",
    "area",
    "data_richiesta",
    "data_inizio",
    "data_fine",
    "ore",
    "importo_euro",
    "esito",
    "nucleo_id",
    "batch_id",
]
MSG_COMUNE_LEFT = (
    "comune non più appartenente all'ambito: la riga era in attesa di codifica e al momento del caricamento il "
    "comune non fa più parte dell'ambito"
)

# Held rows whose code has a mapping to an intervento of the catalogue, with that intervento and its area.
_COVERED = """
    FROM prestazioni_in_attesa AS h
    JOIN codifiche AS c ON c.sistema = h.sistema_codifica AND c.codice = h.codice_intervento
    JOIN interventi AS i ON i.intervento = c.intervento
"""
_IN_AMBITO = "h.comune IN (SELECT comune FROM comuni)"


class ReleaseRefused(ValueError):
    """The release would lose a row (a safety net); the message is Italian, the transaction is rolled back."""


def hold_unmapped(con: duckdb.DuckDBPyConnection) -> int:
    """Move the staged rows without an intervento (`_staging`, columns `HELD_COLUMNS` and `_riga`) into
    the queue; returns how many. A record loaded or held now replaces the version of it waiting in the
    queue (same key: as a new file updates a loaded record)."""
    con.execute(
        f"DELETE FROM {HELD} AS t WHERE EXISTS "
        "(SELECT 1 FROM _staging AS s WHERE s.fonte = t.fonte AND s.id_prestazione = t.id_prestazione)"
    )
    columns = ", ".join(HELD_COLUMNS)
    con.execute(f"INSERT INTO {HELD} ({columns}, riga) SELECT {columns}, _riga FROM _staging WHERE intervento IS NULL")
    held = warehouse.scalar(con, "SELECT count(*) FROM _staging WHERE intervento IS NULL")
    con.execute("DELETE FROM _staging WHERE intervento IS NULL")
    return held


def release(con: duckdb.DuckDBPyConnection, batch_id: str) -> tuple[int, int]:
    """Load the held rows that a mapping now covers; returns (rows loaded, rows rejected).

    A released record replaces a loaded record with the same key (which is older: a later load of the
    same key removed the held version). Rejections are written in `scarti` under `batch_id` (the load or
    edit of the mapping), with the file and row the record came from.
    """
    covered = warehouse.scalar(con, f"SELECT count(*) {_COVERED}")
    if not covered:
        return 0, 0
    con.execute(
        f"""
        INSERT INTO scarti (batch_id, file, riga, colonna, motivo, valore, dati)
        SELECT ?, coalesce(k.file, ''), h.riga, 'comune_residenza', ?, h.comune,
               to_json({{'fonte': h.fonte, 'id_prestazione': h.id_prestazione,
                         'sistema_codifica': h.sistema_codifica, 'codice_intervento': h.codice_intervento,
                         'comune_residenza': h.comune, 'data_inizio': h.data_inizio}})::VARCHAR
        {_COVERED}
        LEFT JOIN caricamenti AS k ON k.batch_id = h.batch_id
        WHERE NOT ({_IN_AMBITO})
        """,
        [batch_id, MSG_COMUNE_LEFT],
    )
    rejected = warehouse.scalar(con, f"SELECT count(*) {_COVERED} WHERE NOT ({_IN_AMBITO})")
    con.execute(  # the records the released ones replace
        f"""
        DELETE FROM prestazioni AS p WHERE EXISTS (
            SELECT 1 {_COVERED} WHERE {_IN_AMBITO} AND h.fonte = p.fonte AND h.id_prestazione = p.id_prestazione)
        """
    )
    released = person_keys.insert_records(  # with the keys of their persons and households
        con,
        f"""(
        SELECT h.fonte, h.id_prestazione, h.persona_id, h.sesso, h.anno_nascita, h.comune, c.intervento, i.area,
               h.data_richiesta, h.data_inizio, h.data_fine, h.ore, h.importo_euro, h.esito, h.nucleo_id, h.batch_id
        {_COVERED}
        WHERE {_IN_AMBITO}
        )""",
        RECORD_COLUMNS,
    )
    con.execute(
        f"DELETE FROM {HELD} AS h WHERE EXISTS (SELECT 1 FROM codifiche AS c JOIN interventi AS i "
        "ON i.intervento = c.intervento WHERE c.sistema = h.sistema_codifica AND c.codice = h.codice_intervento)"
    )
    if covered != released + rejected:  # a safety net: never lose a row silently
        raise ReleaseRefused(
            f"conteggi incoerenti nel rilascio delle righe in attesa (coperte {covered}, caricate {released}, "
            f"scartate {rejected}): nessuna modifica. Segnalare il problema."
        )
    return released, rejected


def held_count(con: duckdb.DuckDBPyConnection) -> int:
    """Rows waiting for a code mapping (0 for a warehouse older than the queue)."""
    return warehouse.scalar(con, f"SELECT count(*) FROM {HELD}") if warehouse.has_table(con, HELD) else 0
