"""The warehouse: schema, the writer's connection, readers' snapshots.

DuckDB lets one process write, or several read, never both at once. So:

* a writer (`python -m etl load`, an upload) opens the file read-write with
  `writer()`, waiting up to `PDZ_LOCK_WAIT` seconds for readers to let go;
* the dashboard never keeps the file open: `snapshot()` copies the
  warehouse into an in-memory database in one short read-only visit, and the
  app swaps snapshots when `version()` changes. Users see old data until a
  load commits and new data after, and never a lock error.

Writes that change no data (the audit log) pass `data=False` to `writer()`:
they leave `meta.data_version` alone, so the dashboard keeps its snapshot
and its cached indicator tables (a login must not recompute them). The
audit table is never copied into snapshots: it is read on demand.

Every data write that may change what the indicator values read (all but the
targets' editor, which passes `values=False`) also sets `meta.valori_input`
and then runs the hooks registered with `after_values_input_write`, with the
write lock still held: `etl/stored_values.py` computes the indicator values
there and keeps them beside the records, so that no reader recomputes them.

Every file DuckDB creates for the warehouse (the file, its WAL, spill files, a snapshot's
spill files) is owner-only, and so is the folder when this module creates it
(`core/private_files.py`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from core import settings
from core.private_files import private_dir, private_umask, spill_dir

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
# Set (to the new data version) by every data write that may change what the indicator values read.
VALUES_INPUT = "valori_input"

# Run after such a write, on its connection, lock held (registered by the programs' entry points).
WriteHook = Callable[[duckdb.DuckDBPyConnection], None]
_after_values_input_write: dict[str, WriteHook] = {}


def after_values_input_write(name: str, hook: WriteHook) -> None:
    """Run `hook(con)` after every write that may change the indicator values' inputs (one hook per name).

    The write is committed when the hook runs: a hook that fails is logged and leaves the write as it is
    (what it derives is then simply missing, and its readers compute it themselves).
    """
    _after_values_input_write[name] = hook


# The service records summarised per source: what the dates shown and used by the indicators need.
# A view of the warehouse; a table in a dashboard snapshot (which leaves the records out).
RECORDS_BY_SOURCE = "prestazioni_per_fonte"
RECORDS_BY_SOURCE_SQL = """
SELECT fonte, count(*) AS righe, min(data_inizio) AS prima_data_inizio, max(data_inizio) AS ultima_data_inizio,
       min(data_fine) AS prima_data_fine
FROM prestazioni GROUP BY fonte
"""

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    chiave VARCHAR PRIMARY KEY,
    valore VARCHAR
);
CREATE TABLE IF NOT EXISTS caricamenti (
    batch_id VARCHAR PRIMARY KEY,
    file VARCHAR,
    tabella VARCHAR,
    sha256 VARCHAR,
    status VARCHAR,
    rows_read BIGINT,
    rows_loaded BIGINT,
    rows_rejected BIGINT,
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    error VARCHAR,
    fonte VARCHAR,
    utente VARCHAR
);
CREATE TABLE IF NOT EXISTS scarti (
    batch_id VARCHAR,
    file VARCHAR,
    riga BIGINT,
    colonna VARCHAR,
    motivo VARCHAR,
    valore VARCHAR,
    dati VARCHAR
);
CREATE TABLE IF NOT EXISTS prestazioni (
    fonte VARCHAR NOT NULL,
    id_prestazione VARCHAR NOT NULL,
    persona_id VARCHAR NOT NULL,
    sesso VARCHAR,
    anno_nascita INTEGER,
    comune VARCHAR NOT NULL,
    intervento VARCHAR NOT NULL,
    area VARCHAR NOT NULL,
    data_richiesta DATE,
    data_inizio DATE NOT NULL,
    data_fine DATE,
    ore DOUBLE,
    importo_euro DOUBLE,
    esito VARCHAR,
    nucleo_id VARCHAR,
    batch_id VARCHAR,
    -- integers derived from persona_id and nucleo_id, given at load: etl/person_keys.py
    persona_key HUGEINT,
    nucleo_key HUGEINT
);
CREATE TABLE IF NOT EXISTS operatori (
    id_operatore VARCHAR NOT NULL,
    profilo VARCHAR NOT NULL,
    sub_ambito VARCHAR NOT NULL,
    fte DOUBLE NOT NULL,
    contratto VARCHAR,
    data_inizio DATE,
    data_fine DATE,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS sedi (
    id_sede VARCHAR NOT NULL,
    nome VARCHAR,
    tipo VARCHAR NOT NULL,
    comune VARCHAR NOT NULL,
    indirizzo VARCHAR,
    lat DOUBLE,
    lon DOUBLE,
    sub_ambito VARCHAR,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS obiettivi (
    indicatore VARCHAR NOT NULL,
    territorio VARCHAR NOT NULL,
    anno INTEGER NOT NULL,
    tipo VARCHAR NOT NULL,
    valore DOUBLE,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS confronti (
    indicatore VARCHAR NOT NULL,
    territorio VARCHAR NOT NULL,
    anno INTEGER NOT NULL,
    valore DOUBLE NOT NULL,
    fonte VARCHAR NOT NULL,
    nota VARCHAR,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS sub_ambiti (
    comune VARCHAR NOT NULL,
    sub_ambito VARCHAR NOT NULL,
    nome_sub_ambito VARCHAR,
    pilota BOOLEAN,
    data_avvio_pilota DATE,
    provvisorio BOOLEAN,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS distanze (
    comune_origine VARCHAR NOT NULL,
    comune_destinazione VARCHAR NOT NULL,
    minuti DOUBLE NOT NULL,
    km DOUBLE,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS accessi (
    id_accesso VARCHAR NOT NULL,
    data_accesso DATE NOT NULL,
    id_sede VARCHAR NOT NULL,
    comune VARCHAR NOT NULL,
    persona_id VARCHAR,
    sesso VARCHAR,
    anno_nascita INTEGER,
    esito VARCHAR,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS comuni (
    comune VARCHAR PRIMARY KEY,
    nome VARCHAR,
    cod_catastale VARCHAR,
    provincia VARCHAR,
    sigla_provincia VARCHAR,
    chiave VARCHAR
);
CREATE TABLE IF NOT EXISTS popolazione (
    comune VARCHAR,
    eta INTEGER,
    sesso VARCHAR,
    residenti BIGINT,
    anno INTEGER
);
CREATE TABLE IF NOT EXISTS audit (
    quando TIMESTAMP NOT NULL,
    utente VARCHAR,
    ruolo VARCHAR,
    azione VARCHAR NOT NULL,
    oggetto VARCHAR,
    esito VARCHAR NOT NULL,
    dettaglio VARCHAR
);
CREATE TABLE IF NOT EXISTS interventi (
    intervento VARCHAR PRIMARY KEY,
    area VARCHAR,
    descrizione VARCHAR,
    misura_ore BOOLEAN
);
CREATE TABLE IF NOT EXISTS codifiche (
    sistema VARCHAR NOT NULL,
    codice VARCHAR NOT NULL,
    intervento VARCHAR NOT NULL,
    descrizione VARCHAR,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS prestazioni_in_attesa (
    fonte VARCHAR NOT NULL,
    id_prestazione VARCHAR NOT NULL,
    persona_id VARCHAR NOT NULL,
    sesso VARCHAR,
    anno_nascita INTEGER,
    comune VARCHAR NOT NULL,
    sistema_codifica VARCHAR NOT NULL,
    codice_intervento VARCHAR NOT NULL,
    data_richiesta DATE,
    data_inizio DATE NOT NULL,
    data_fine DATE,
    ore DOUBLE,
    importo_euro DOUBLE,
    esito VARCHAR,
    nucleo_id VARCHAR,
    batch_id VARCHAR,
    riga BIGINT
);
"""

# Summaries of the records and of the waiting queue that «Dati e qualità» shows: views of the warehouse,
# tables in a dashboard snapshot (which leaves the records and the queue themselves out).
HELD = "prestazioni_in_attesa"  # service records waiting for a code mapping (etl/held.py)
HELD_BY_CODE = "in_attesa_per_codice"
UNKNOWN_AGE = "eta_non_nota"
SUMMARY_VIEWS = {
    HELD_BY_CODE: """
SELECT h.sistema_codifica AS sistema, h.codice_intervento AS codice, count(*) AS righe,
       min(h.data_inizio) AS prima_data_inizio, max(h.data_inizio) AS ultima_data_inizio,
       string_agg(DISTINCT k.file, ', ' ORDER BY k.file) AS file
FROM prestazioni_in_attesa AS h LEFT JOIN caricamenti AS k ON k.batch_id = h.batch_id
GROUP BY ALL
""",
    UNKNOWN_AGE: """
SELECT intervento, area, count(*) AS righe, count(DISTINCT persona_id) AS persone
FROM prestazioni WHERE anno_nascita IS NULL GROUP BY ALL
""",
}


def _connect_with_wait(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": settings.memory_limit()})
        except duckdb.Error as exc:
            text = str(exc).lower()
            # another process holds the lock, or this process has the file open the other way
            # (the dashboard's snapshot refresher reading while a page writes the audit log)
            locked = (isinstance(exc, duckdb.IOException) and re.search(r"\block\b", text)) or (
                isinstance(exc, duckdb.ConnectionException) and "different configuration" in text
            )
            if not locked or is_corruption(exc):
                raise WarehouseUnreadable(MSG_UNREADABLE, path) from exc  # not a lock: the file itself
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    "Il database è in uso da un altro processo (un caricamento) e non si è liberato "
                    f"entro {wait_seconds:.0f} secondi. Riprovare tra poco.",
                    path,
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be used now. The message is Italian, says what to do and holds no path
    (pages show it as it is); `path` is the file, for the command line."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = path


class WarehouseBusy(WarehouseUnavailable):
    """The warehouse stayed locked by another process for too long."""


class WarehouseUnreadable(WarehouseUnavailable):
    """The file exists but is not a readable DuckDB database (damaged, truncated, something else)."""


MSG_UNREADABLE = (
    "Il database non è leggibile: il file è danneggiato o non è un database di pdz-monitor. Nessun dato è stato "
    "modificato. Chi amministra il sistema deve ripristinare l'ultima copia di sicurezza del database oppure "
    "ricrearlo ricaricando i file di origine (`python -m etl load`)."
)
_CORRUPTION_SIGNS = ("corrupt database", "not a valid duckdb database", "could not read enough bytes", "checksum")


def is_corruption(exc: BaseException) -> bool:
    """True for a DuckDB error that says the file is damaged (a read of a block failed or did not check)."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and any(sign in text for sign in _CORRUPTION_SIGNS)


@contextmanager
def _unreadable_as_such(path: Path) -> Iterator[None]:
    """Damage found while reading (past the file's header) raises WarehouseUnreadable, never DuckDB's text."""
    try:
        yield
    except duckdb.Error as exc:
        if is_corruption(exc):
            raise WarehouseUnreadable(MSG_UNREADABLE, path) from exc
        raise


NOT_SNAPSHOTTED = ("audit",)  # read on demand by the pages that need it, never kept in memory
# The service records: at regional or national scale (millions of rows) far too large to copy into
# the dashboard's memory. A snapshot taken with `summarise` leaves them out and keeps what the
# pages need instead (the view `prestazioni_per_fonte`, the indicator values computed during the visit).
RECORDS = "prestazioni"
# The contacts at the access points: records of persons too, whose values are published the same way.
CONTACTS = "accessi"

# Left out of a snapshot taken with `summarise` (the summary views stay, copied as tables).
SUMMARISED = (RECORDS, RECORDS_BY_SOURCE, HELD, CONTACTS)

Summarise = Callable[[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection], None]


def memory_db() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database whose spill files go to `spill_dir()`, never to `./.tmp`."""
    return duckdb.connect(
        ":memory:", config={"temp_directory": str(spill_dir()), "memory_limit": settings.memory_limit()}
    )


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the connection's main schema has a table or view of that name."""
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [name],
        )
    )


@contextmanager
def writer(
    db: Path | str | None = None, data: bool = True, wait_seconds: float | None = None, values: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The read-write connection: schema and reference data ensured.

    `data=False` for writes that change no data the dashboard shows (the audit log): the
    data version stays, so readers keep their snapshot. `values=False` for data writes that change
    nothing the indicator values read (the targets): the values kept beside the records stay valid.
    `wait_seconds` overrides PDZ_LOCK_WAIT.
    """
    path = Path(db or settings.db_path())
    with private_umask():  # the file, its WAL and spill files owner-only (core/private_files.py)
        yield from _writer(path, data, values, wait_seconds)


def _writer(path: Path, data: bool, values: bool, wait_seconds: float | None) -> Iterator[duckdb.DuckDBPyConnection]:
    private_dir(path.parent)
    wait = float(settings.setting("lock_wait_seconds")) if wait_seconds is None else wait_seconds
    con = _connect_with_wait(path, False, wait)
    try:
        with _unreadable_as_such(path):
            ensure_schema(con)
        yield con
        if data:
            try:
                _mark_written(con, values)
            except duckdb.ConnectionException:  # the caller closed the connection: mark on a fresh one
                again = _connect_with_wait(path, False, wait)
                try:
                    _mark_written(again, values)
                finally:
                    again.close()
    finally:
        con.close()


def _mark_written(con: duckdb.DuckDBPyConnection, values: bool) -> None:
    version = uuid.uuid4().hex
    set_meta(con, "data_version", version)
    if not values:
        return
    set_meta(con, VALUES_INPUT, version)
    for name, hook in list(_after_values_input_write.items()):  # a copy: another thread may register meanwhile
        try:
            hook(con)
        except Exception:  # committed data stays; what the hook derives is computed by its readers instead
            log.exception("after the write, %s failed", name)


def data_version(db: Path | str | None = None, wait_seconds: float = 2.0) -> str | None:
    """The data version written by the last data write (None for a warehouse older than the key)."""
    path = Path(db or settings.db_path())
    con = _connect_with_wait(path, True, wait_seconds)
    try:
        exists = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
        return get_meta(con, "data_version") if exists else None
    finally:
        con.close()


@contextmanager
def reader(db: Path | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short read-only connection for command-line reads."""
    path = Path(db or settings.db_path())
    if not path.exists():
        raise FileNotFoundError(
            f"Il database {path} non esiste: caricare dei file con `python -m etl load` "
            "o creare i dati dimostrativi con `python -m etl demo`."
        )
    with private_umask():  # spill files of long reads owner-only
        con = _connect_with_wait(path, True, float(settings.setting("lock_wait_seconds")))
        try:
            with _unreadable_as_such(path):
                yield con
        finally:
            con.close()


def version(db: Path | str | None = None) -> tuple:
    """Changes whenever a commit reaches the file (the database or its WAL)."""
    path = Path(db or settings.db_path())
    out = []
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def snapshot(
    db: Path | str | None = None, wait_seconds: float = 2.0, summarise: Summarise | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory copy of the warehouse; the file is open only during the copy.

    With `summarise`, the service records are not copied: `summarise(source, copy)` runs during
    the same read-only visit and writes into the copy what its readers need instead (views such
    as `prestazioni_per_fonte` are copied as tables, so they still answer).

    Raises WarehouseBusy when a load holds the file for longer than
    `wait_seconds`: the caller keeps serving its previous snapshot.
    """
    path = Path(db or settings.db_path())
    with private_umask():  # the visit's spill files owner-only; the copy spills to a private folder
        return _snapshot(path, wait_seconds, summarise)


def _snapshot(path: Path, wait_seconds: float, summarise: Summarise | None) -> duckdb.DuckDBPyConnection:
    src = _connect_with_wait(path, True, wait_seconds)
    mem = memory_db()
    try:
        tables = [
            r[0]
            for r in src.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
            if r[0] not in NOT_SNAPSHOTTED and not (summarise is not None and r[0] in SUMMARISED)
        ]
        queries = {name: f'SELECT * FROM "{name}"' for name in tables}  # names come from the catalog
        if summarise is not None:  # from the records themselves: a warehouse older than the view has none
            queries[RECORDS_BY_SOURCE] = RECORDS_BY_SOURCE_SQL
        for name, query in queries.items():
            mem.register("_snap", src.sql(query).to_arrow_table())
            mem.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _snap')
            mem.unregister("_snap")
        if summarise is not None:
            summarise(src, mem)
    except duckdb.Error as exc:
        mem.close()
        if is_corruption(exc):
            raise WarehouseUnreadable(MSG_UNREADABLE, path) from exc
        raise
    finally:
        src.close()
    return mem


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and refresh reference data when its files changed."""
    con.execute(DDL)
    con.execute(f"CREATE OR REPLACE VIEW {RECORDS_BY_SOURCE} AS {RECORDS_BY_SOURCE_SQL}")
    for name, sql in SUMMARY_VIEWS.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (chiave) DO UPDATE SET valore = excluded.valore",
        [SCHEMA_VERSION],
    )
    refresh_reference(con)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """First value of the first row (None if no row).

    DuckDB 2 keeps a result pending after `execute().fetchone()` and then
    refuses `con.sql()`: always fetch everything.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def records_by_source(con: duckdb.DuckDBPyConnection):
    """fonte, righe, prima_data_inizio, ultima_data_inizio, prima_data_fine: from the records when the
    connection has them (any warehouse, also one older than the view), else from the snapshot's table."""
    if has_table(con, RECORDS):
        return query_pl(con, RECORDS_BY_SOURCE_SQL)
    return query_pl(con, f"SELECT * FROM {RECORDS_BY_SOURCE}")


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    return scalar(con, "SELECT valore FROM meta WHERE chiave = ?", [key])


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (chiave) DO UPDATE SET valore = excluded.valore",
        [key, value],
    )


def refresh_reference(con: duckdb.DuckDBPyConnection, force: bool = False) -> None:
    """Comuni, population, catalogue and (unless uploaded) sub-ambiti from data files."""
    from core import territory  # territory loads geopop lazily

    fingerprint = territory.ambito_files_hash() + ":" + _file_hash(settings.INTERVENTI_FILE)
    if not force and get_meta(con, "reference_hash") == fingerprint:
        return
    frames = {
        "_ref_comuni": territory.comuni(),
        "_ref_interventi": _read_interventi(),
    }
    frames["_ref_pop"] = territory.population(frames["_ref_comuni"]["comune"].to_list())
    frames["_ref_sub"] = territory.sub_ambiti_file()
    for name, frame in frames.items():
        con.register(name, frame)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM comuni")
        con.execute(
            "INSERT INTO comuni SELECT comune, nome, cod_catastale, provincia, sigla_provincia, chiave FROM _ref_comuni"
        )
        con.execute("DELETE FROM popolazione")
        con.execute("INSERT INTO popolazione SELECT comune, eta, sesso, residenti, anno FROM _ref_pop")
        con.execute("DELETE FROM interventi")
        con.execute("INSERT INTO interventi SELECT intervento, area, descrizione, misura_ore FROM _ref_interventi")
        uploaded = scalar(con, "SELECT count(*) FROM sub_ambiti WHERE batch_id IS NOT NULL")
        if not uploaded:
            con.execute("DELETE FROM sub_ambiti")
            con.execute(
                "INSERT INTO sub_ambiti SELECT comune, sub_ambito, nome_sub_ambito, pilota, "
                "data_avvio_pilota, provvisorio, NULL FROM _ref_sub"
            )
        set_meta(con, "reference_hash", fingerprint)
        set_meta(con, "popolazione_anno", str(settings.geopop_year()))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in frames:
            con.unregister(name)


def _file_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_interventi():
    import polars as pl

    return pl.read_csv(settings.INTERVENTI_FILE).with_columns(pl.col("misura_ore").cast(pl.Boolean))


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None):
    """Run a parameterised query and return a Polars frame (DuckDB 2 has no execute().pl())."""
    return con.sql(sql, params=params).pl()
