"""Loading files into the warehouse: one transaction per file.

read → normalise → validate → pseudonymise → stage → upsert → log: every
change to the data happens inside one DuckDB transaction, so a crash
(even `kill -9`) leaves the data as it was. The attempt itself is logged
before the transaction (`caricamenti.status = 'in_corso'`, committed) and
turned into `loaded` inside it, or `failed` after it: a load killed half way
stays in the history, shown as `interrotto`. The same content loaded
twice is a `duplicate` and changes nothing; a new file repeating a key
updates the earlier row.

Text that came from outside (file names, error messages quoting headers,
rejected values) reaches the warehouse only through `core.redact`: person
identifiers masked, length bounded.

Memory stays bounded whatever the size of the file: batches are staged in
temporary tables of the writer's connection (never part of the warehouse),
committed batch by batch so DuckDB can spill them to disk under
`STAGING_MEMORY_LIMIT`; the transaction then moves them into the warehouse
after the checks that need the whole file (duplicate keys, held rows, the
upsert). (Filling the temporary table inside the transaction kept every
batch in memory: 3.8 GiB for 5 million rows. Inserting 5 million rows into a
table of the database file inside one transaction peaks at about 0.4 GiB
with DuckDB 2.0, which writes them to the file as they come: staging
straight into `prestazioni` would save one copy, not memory.) The next batch is
read and validated in a thread while the current one is staged, its persons'
and households' codes turned into pseudonyms by the staging statement itself
(`cf.pseudonym_sql`: no code reaches a table). ISTAT's list of every Italian
comune is read only when a row names a comune outside the ambito.

Before anything is read: the demo warehouse takes no load but its builder's (`_check_demo`), and
the pseudonymisation key must be the one whose fingerprint the warehouse keeps (`warehouse_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from core import redact, settings, warehouse
from etl import codice_fiscale as cf
from etl import held, person_keys
from etl.queries import STATUS_IN_PROGRESS, STATUS_INTERRUPTED
from etl.readers import PROBLEM, RAW, ROW, ReadError, SourceFile, open_source
from etl.schemas import TABLES, TableSpec, infer_table, match_columns, missing_columns
from etl.validate import ERROR_SCHEMA, Context, rejected_rows_json, validate_batch

Progress = Callable[[int, int | None], None]  # rows done, rows expected (None if unknown)

MSG_DUPLICATE_KEY = "chiave duplicata nel file: la stessa chiave compare in più righe (tutte scartate)"
MSG_DEMO_WAREHOUSE = (
    "questo è il database dimostrativo (dati sintetici): i dati reali non vi si caricano, per non mescolarli con "
    "quelli inventati né lasciarli visibili con l'accesso dimostrativo aperto. Per i dati reali: sul server creare "
    "al suo posto un database vuoto con `python -m etl init` (sostituisce quello dimostrativo), poi il primo "
    "account con `python -m etl users add NOME --role ufficio_di_piano`, e ripetere il caricamento; oppure "
    "indicare un database separato con PDZ_DB (o --db)"
)
MSG_NOT_DEMO = "i dati dimostrativi si caricano solo nel database dimostrativo in costruzione (`python -m etl demo`)"
MSG_KEY_MISSING = (
    "manca la chiave di pseudonimizzazione {path}, quella con cui sono state pseudonimizzate le persone già nel "
    "database: con una chiave nuova le stesse persone avrebbero pseudonimi diversi e verrebbero contate due volte. "
    "Ripristinare il file dalla copia di sicurezza nello stesso percorso (o indicarlo con PDZ_SECRET) e ripetere "
    "il caricamento; nessuna chiave nuova è stata creata. Se la chiave è persa per sempre, creare un database "
    "nuovo (PDZ_DB o --db) e ricaricarvi tutti i file"
)
MSG_KEY_DIFFERENT = (
    "la chiave di pseudonimizzazione {path} non è quella con cui sono state pseudonimizzate le persone già nel "
    "database (la sua impronta non corrisponde a quella registrata): con una chiave diversa le stesse persone "
    "avrebbero pseudonimi diversi e verrebbero contate due volte. Rimettere al suo posto la chiave originale dalla "
    "copia di sicurezza (o indicarla con PDZ_SECRET) e ripetere il caricamento. Se la chiave originale è persa per "
    "sempre, creare un database nuovo (PDZ_DB o --db) e ricaricarvi tutti i file"
)
# meta keys: the fingerprint of the pseudonymisation key (never the key), and the demo builder's
# one-time token, present only while `demo.build` fills a new demo warehouse (see `_check_demo`).
KEY_FINGERPRINT = "key_fingerprint"
DEMO_BUILD_TOKEN = "demo_build_token"
WHOLE_ROW = "(intera riga)"  # `scarti.colonna` of a row that could not be read as a record
MSG_UNEXPECTED = (
    "errore imprevisto durante il caricamento: nessuna modifica al database. Riprovare; se si ripete, "
    "segnalare il problema a chi amministra il sistema (i dettagli tecnici sono nel registro del server)."
)
MAX_ERROR_CHARS = 1000
# DuckDB's memory during a load (staging spills to disk beyond it); Polars' batches come on top.
STAGING_MEMORY_LIMIT = "1GB"

# Columns stored per table (the warehouse schema in core/warehouse.py), in order.
STORED = {
    "prestazioni": [
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
    ],
    "operatori": ["id_operatore", "profilo", "sub_ambito", "fte", "contratto", "data_inizio", "data_fine"],
    "sedi": ["id_sede", "nome", "tipo", "comune", "indirizzo", "lat", "lon", "sub_ambito"],
    "obiettivi": ["indicatore", "territorio", "anno", "tipo", "valore"],
    "confronti": ["indicatore", "territorio", "anno", "valore", "fonte", "nota"],
    "sub_ambiti": ["comune", "sub_ambito", "nome_sub_ambito", "pilota", "data_avvio_pilota", "provvisorio"],
    "distanze": ["comune_origine", "comune_destinazione", "minuti", "km"],
    "accessi": ["id_accesso", "data_accesso", "id_sede", "comune", "persona_id", "sesso", "anno_nascita", "esito"],
    "codifiche": ["sistema", "codice", "intervento", "descrizione"],
}
# Columns staged beside the stored ones: a record's source code, kept while it waits for a mapping (etl/held.py).
STAGED_EXTRA = {"prestazioni": ["sistema_codifica", "codice_intervento"]}
KEYS = {
    "prestazioni": ["fonte", "id_prestazione"],
    "operatori": ["id_operatore"],
    "sedi": ["id_sede"],
    "obiettivi": ["indicatore", "territorio", "anno", "tipo"],
    "confronti": ["indicatore", "territorio", "anno"],
    "sub_ambiti": ["comune"],
    "distanze": ["comune_origine", "comune_destinazione"],
    "accessi": ["id_accesso"],
    "codifiche": ["sistema", "codice"],
}


@dataclass
class LoadResult:
    file: str
    table: str | None
    batch_id: str | None
    status: str  # loaded | duplicate | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_held: int = 0  # passed every check, waiting for a code mapping (etl/held.py)
    # a `codifiche` load (or edit): held rows its mappings loaded into prestazioni, or rejected
    rows_released: int = 0
    rows_released_rejected: int = 0
    error: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("ignored_columns", "seconds")}
        if out["error"] is None:
            out.pop("error")
        if self.table != "codifiche":
            out.pop("rows_released")
            out.pop("rows_released_rejected")
        return out

    def summary_it(self, where_rejected: str | None = None) -> str:
        """One paragraph in Italian for people (`where_rejected`: where to read the reasons)."""
        name = Path(self.file).name
        if self.status == "duplicate":
            return f"{name}: contenuto già caricato in precedenza, nessuna modifica al database."
        if self.status == "failed":
            return f"{name}: caricamento non riuscito, nessuna modifica al database. Motivo: {self.error}"
        text = (
            f"{name}: lette {fmt_int(self.rows_read)} righe della tabella {self.table}, "
            f"caricate {fmt_int(self.rows_loaded)}, scartate {fmt_int(self.rows_rejected)}"
        )
        if self.rows_rejected:
            text += f" ({where_rejected or f'vedere i motivi con `python -m etl rejected --batch {self.batch_id}`'})"
        if self.rows_held:
            text += (
                f", in attesa di codifica {fmt_int(self.rows_held)} (il loro codice intervento non ha ancora una "
                "corrispondenza nel catalogo: associarlo in «Dati e qualità» o caricare un file codifiche)"
            )
        if self.rows_released or self.rows_released_rejected:
            text += (
                f"; righe in attesa di codifica ora caricate {fmt_int(self.rows_released)}, "
                f"scartate {fmt_int(self.rows_released_rejected)}"
            )
        text += f", in {self.seconds:.1f} secondi.".replace(".", ",", 1)
        if self.ignored_columns:
            text += " Colonne non previste e ignorate: " + ", ".join(self.ignored_columns) + "."
        return text


def fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_files(
    paths: Iterable[Path | str],
    table: str | None = None,
    db: Path | str | None = None,
    progress: Progress | None = None,
    user: str | None = None,
    display_names: dict[str, str] | None = None,
    indicator_ids: Iterable[str] | None = None,
    *,
    demo_build: str | None = None,
) -> list[LoadResult]:
    """Load each file in its own transaction; one writer connection for all.

    `indicator_ids`: the catalog's indicator ids, to check an `obiettivi` or `confronti` file (None: not checked).
    The caller hands them in (the CLI, the dashboard, the demo): etl/ never imports indicators/.
    `demo_build`: only for `demo.build`, the one-time token it wrote in the demo warehouse it is
    filling; the command line and the dashboard never pass it (see `_check_demo`).
    """
    paths = [Path(p) for p in paths]
    results = []
    with warehouse.writer(db) as con:
        _close_interrupted(con)
        redact_stored_text(con)
        for path in paths:
            name = (display_names or {}).get(str(path), path.name)
            results.append(
                load_file(
                    con,
                    path,
                    table=table,
                    progress=progress,
                    user=user,
                    display_name=name,
                    indicator_ids=indicator_ids,
                    demo_build=demo_build,
                )
            )
    return results


def record_meta(db: Path | str, values: dict[str, str]) -> None:
    """Write keys of the warehouse's `meta` table in one short write (the demo builder marks its warehouse)."""
    with warehouse.writer(db, values=False) as con:  # marks only: the indicator values stay as they are
        for key, value in values.items():
            warehouse.set_meta(con, key, value)


def seal_demo(db: Path | str, batch_ids: list[str]) -> None:
    """The demo builder's last write: remove its one-time token and record the batches it loaded.

    After this no load is accepted into the demo warehouse (`_check_demo`), from anyone.
    """
    from etl import queries

    with warehouse.writer(db, values=False) as con:  # marks only: the indicator values stay as they are
        con.execute("DELETE FROM meta WHERE chiave = ?", [DEMO_BUILD_TOKEN])
        warehouse.set_meta(con, queries.DEMO_BATCHES, json.dumps(sorted(batch_ids)))


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str | None = None,
    progress: Progress | None = None,
    user: str | None = None,
    display_name: str | None = None,
    indicator_ids: Iterable[str] | None = None,
    demo_build: str | None = None,
) -> LoadResult:
    started = datetime.now()
    t0 = time.perf_counter()
    name = display_name or path.name
    result = LoadResult(file=name, table=table, batch_id=None, status="failed")
    source: SourceFile | None = None
    try:
        _check_demo(con, demo_build)
        sha = file_sha256(path)
        source = open_source(path, table_hint=table)
        spec = _choose_table(source, table)
        result.table = spec.name
        if _already_loaded(con, sha, spec.name):
            result.status = "duplicate"
            result.seconds = time.perf_counter() - t0
            return result
        result.batch_id = _new_batch_id(started)
        _log_attempt(con, result, sha, started, user)
        _load_in_transaction(con, source, spec, sha, result, started, progress, user, indicator_ids)
    except (ReadError, LoadRefused, held.ReleaseRefused) as exc:
        result.error = redact.safe_text(str(exc), MAX_ERROR_CHARS)
        _log_failure(con, result, started, user, sha if "sha" in locals() else None)
    except Exception as exc:  # anything unexpected: nothing loaded, an Italian reason, details to stderr only
        if warehouse.is_corruption(exc):
            result.error = warehouse.MSG_UNREADABLE
        else:
            result.error = MSG_UNEXPECTED
            detail = redact.safe_text(f"{type(exc).__name__}: {exc}")
            print(f"pdz-monitor: caricamento di {redact.safe_text(name)} non riuscito: {detail}", file=sys.stderr)
        _log_failure(con, result, started, user, sha if "sha" in locals() else None)
    finally:
        if source is not None:
            source.close()
    result.seconds = time.perf_counter() - t0
    return result


class LoadRefused(ValueError):
    """The file is readable but cannot be loaded as a whole (message in Italian)."""


def _check_demo(con: duckdb.DuckDBPyConnection, demo_build: str | None) -> None:
    """Real records never enter the demo warehouse; synthetic ones never enter a real warehouse.

    A demo warehouse accepts a load only while its builder fills it: `demo.build` writes a random
    token in `meta` of the new file (at a hidden path of its own) before loading and removes it when
    done, and passes the same token here. Nothing a user types carries it, and a finished demo
    warehouse holds none, so every later load into it is refused.
    """
    if warehouse.get_meta(con, "demo") == "true":
        expected = warehouse.get_meta(con, DEMO_BUILD_TOKEN)
        if not (demo_build and expected and hmac.compare_digest(demo_build, expected)):
            raise LoadRefused(MSG_DEMO_WAREHOUSE)
    elif demo_build is not None:
        raise LoadRefused(MSG_NOT_DEMO)


def _holds_people(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(warehouse.scalar(con, "SELECT count(*) FROM (SELECT 1 FROM prestazioni LIMIT 1)"))


def warehouse_key(con: duckdb.DuckDBPyConnection) -> tuple[bytes, str | None]:
    """The pseudonymisation key for this warehouse, and its fingerprint when it must be recorded.

    Once the warehouse holds people, the key must be the one that pseudonymised them: a missing key
    file is not replaced by a new key, and a key whose fingerprint differs from `meta.key_fingerprint`
    is refused (both `LoadRefused`). A warehouse without people takes the key file as it is (creating
    it when missing); a warehouse older than the fingerprint records it on its next load.
    """
    path = settings.secret_path(_db_file(con))
    people = _holds_people(con)
    try:
        key = cf.read_secret(path)
    except ValueError as exc:
        raise LoadRefused(str(exc)) from None
    if key is None:
        if people:
            raise LoadRefused(MSG_KEY_MISSING.format(path=path))
        key = cf.create_secret(path)
    fingerprint = cf.key_fingerprint(key)
    recorded = warehouse.get_meta(con, KEY_FINGERPRINT)
    if recorded is not None and hmac.compare_digest(recorded, fingerprint):
        return key, None
    if recorded is not None and people:
        raise LoadRefused(MSG_KEY_DIFFERENT.format(path=path))
    return key, fingerprint


def _choose_table(source: SourceFile, table: str | None) -> TableSpec:
    if table:
        if table not in TABLES:
            raise LoadRefused(f"tabella «{table}» sconosciuta (tabelle: {', '.join(TABLES)})")
        spec = TABLES[table]
    else:
        inferred = infer_table(source.columns)
        if inferred is None:
            raise ReadError(
                f"non riesco a capire quale tabella contiene {source.path.name}: le intestazioni "
                f"({', '.join(source.columns[:12])}) non corrispondono alle colonne obbligatorie di nessuna tabella "
                f"({'; '.join(t + ': ' + ', '.join(s.required) for t, s in TABLES.items())}). "
                "Controllare la riga di intestazione o indicare la tabella con --table."
            )
        spec = TABLES[inferred]
    mapping, _ = match_columns(spec, source.columns)
    missing = missing_columns(spec, set(mapping.values()))
    if missing:
        raise ReadError(
            f"mancano colonne obbligatorie per la tabella {spec.label}: {', '.join(missing)} "
            f"(intestazioni trovate: {', '.join(source.columns)})"
        )
    return spec


def _already_loaded(con: duckdb.DuckDBPyConnection, sha: str, table: str) -> bool:
    n = warehouse.scalar(
        con, "SELECT count(*) FROM caricamenti WHERE sha256 = ? AND tabella = ? AND status = 'loaded'", [sha, table]
    )
    return n > 0


def _new_batch_id(started: datetime) -> str:
    return started.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


def build_context(con: duckdb.DuckDBPyConnection, indicator_ids: Iterable[str] | None = None) -> Context:
    comuni = con.execute("SELECT comune, chiave FROM comuni").fetchall()
    anno_baseline, anni_piano = settings.plan_years()
    return Context(
        comune_codes={c for c, _ in comuni},
        comune_keys={k: c for c, k in comuni},
        interventi=dict(con.execute("SELECT intervento, area FROM interventi").fetchall()),
        # only mappings to an intervento still in the catalogue (a row with another code waits)
        codifiche={
            (s, c): i
            for s, c, i in con.execute(
                "SELECT c.sistema, c.codice, c.intervento FROM codifiche c JOIN interventi USING (intervento)"
            ).fetchall()
        },
        sub_ambiti={r[0] for r in con.execute("SELECT DISTINCT sub_ambito FROM sub_ambiti").fetchall()},
        indicatori=None if indicator_ids is None else set(indicator_ids),
        anno_baseline=anno_baseline,
        anni_piano=anni_piano,
        reference_year=date.today().year,
        sedi={r[0] for r in con.execute("SELECT id_sede FROM sedi").fetchall()},
        italy_reference=_italy_reference,
    )


def _italy_reference() -> tuple[set[str], set[str]]:
    """ISTAT codes and name keys of every Italian comune (`Context.italy`)."""
    from core import territory
    from core.normalize import comune_key

    italy = territory.italy_municipalities()
    return set(italy["comune"].to_list()), {comune_key(n) for n in italy["nome"].to_list()}


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    spec: TableSpec,
    sha: str,
    result: LoadResult,
    started: datetime,
    progress: Progress | None,
    user: str | None,
    indicator_ids: Iterable[str] | None = None,
) -> None:
    ctx = build_context(con, indicator_ids)
    key, new_fingerprint = warehouse_key(con)
    mapping, unknown = match_columns(spec, source.columns)
    result.ignored_columns = unknown
    stored = STORED[spec.name]
    staged = [*stored, *STAGED_EXTRA.get(spec.name, [])]
    expected = _expected_rows(source)
    bar = _progress_bar(expected, source.path.name)
    con.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")
    try:
        # Staging: temporary tables of this connection, outside the transaction (see the module docstring).
        _create_staging(con, spec.name, stored, STAGED_EXTRA.get(spec.name, []))
        con.execute("CREATE OR REPLACE TEMP TABLE _scarti_staging AS SELECT * FROM scarti LIMIT 0")
        rows_read = 0
        with closing(_read_ahead(_validated_batches(source, spec, mapping, ctx))) as batches:
            for batch, good, errors in batches:
                rows_read += batch.height
                _stage(con, spec.name, good, staged, result.batch_id, key)
                if errors.height:
                    _store_errors(con, spec, batch, errors, result)
                if progress:
                    progress(rows_read, expected)
                if bar is not None:
                    bar.update(batch.height)

        con.execute("BEGIN TRANSACTION")
        try:
            person_keys.prepare(con)  # every record keyed before this load changes anything (an old warehouse)
            con.execute("INSERT INTO scarti SELECT * FROM _scarti_staging")
            _reject_duplicate_keys(con, spec, result)
            rows_held = held.hold_unmapped(con) if spec.name == "prestazioni" else 0
            if spec.replace_all:
                _check_complete_cover(con, spec)
            loaded = warehouse.scalar(con, "SELECT count(*) FROM _staging")
            rejected = warehouse.scalar(
                con, "SELECT count(DISTINCT riga) FROM scarti WHERE batch_id = ?", [result.batch_id]
            )
            _upsert(con, spec)
            if spec.name == "codifiche":  # the mappings' held rows, in this same transaction
                result.rows_released, result.rows_released_rejected = held.release(con, result.batch_id)
            person_keys.mark(con)  # the keys in step with the records as this load leaves them
            _fault_injection_pause()
            result.rows_read, result.rows_loaded, result.rows_rejected = rows_read, loaded, rejected
            result.rows_held = rows_held
            if rows_read == 0:
                raise LoadRefused("il file non contiene righe di dati sotto l'intestazione")
            if rows_read != loaded + rejected + rows_held:  # a safety net: never lose a row silently
                raise LoadRefused(
                    f"conteggi incoerenti (lette {rows_read}, caricate {loaded}, scartate {rejected}, "
                    f"in attesa {rows_held}): caricamento annullato, nessuna modifica. Segnalare il problema."
                )
            con.execute(
                "UPDATE caricamenti SET status = 'loaded', rows_read = ?, rows_loaded = ?, rows_rejected = ?, "
                "ended_at = ?, fonte = ? WHERE batch_id = ?",
                [rows_read, loaded, rejected, datetime.now(), _sources_of(con, spec), result.batch_id],
            )
            if new_fingerprint is not None:  # recorded with the load that uses the key, or not at all
                warehouse.set_meta(con, KEY_FINGERPRINT, new_fingerprint)
            con.execute("COMMIT")
            result.status = "loaded"
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute("DROP TABLE IF EXISTS _staging")
        con.execute("DROP TABLE IF EXISTS _scarti_staging")
        # the connection's own limit back (RESET would give DuckDB's default, not PDZ_MEMORY_LIMIT)
        con.execute(f"SET memory_limit = '{settings.memory_limit()}'")
        if bar is not None:
            bar.close()


def _create_staging(con: duckdb.DuckDBPyConnection, table: str, stored: list[str], extra: list[str]) -> None:
    """An empty staging table with the target's column types, declared explicitly.

    Not `CREATE TABLE AS SELECT ... LIMIT 0`: in DuckDB 2.0.0 a table made that way and
    filled inside a transaction silently loses every row once about 750,000 have been
    inserted (tests/etl/test_large_load.py keeps the workaround honest).
    """
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
            [table],
        ).fetchall()
    )
    cols = ", ".join([*(f'"{c}" {types[c]}' for c in [*stored, "batch_id"]), *(f'"{c}" VARCHAR' for c in extra)])
    con.execute("DROP TABLE IF EXISTS _staging")
    con.execute(f"CREATE TEMP TABLE _staging ({cols}, _riga BIGINT)")


def _validated_batches(
    source: SourceFile, spec: TableSpec, mapping: dict[str, str], ctx: Context
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(batch, good rows, errors) for each batch of the file, columns renamed to the table's names."""
    for batch in source.batches():
        renamed = batch.rename({h: c for h, c in mapping.items() if h in batch.columns}).select(
            [ROW, *[c for c in mapping.values()]]
        )
        if PROBLEM not in batch.columns or batch[PROBLEM].is_null().all():
            good, errors = validate_batch(spec, renamed, ctx)
        else:  # a damaged line (wrong number of fields, NUL, bytes that are not text): rejected whole, one reason
            unreadable = batch.filter(pl.col(PROBLEM).is_not_null()).select(
                pl.col(ROW),
                pl.lit(WHOLE_ROW).alias("colonna"),
                pl.col(PROBLEM).alias("motivo"),
                pl.col(RAW).alias("valore"),
            )
            good, errors = validate_batch(spec, renamed.filter(batch[PROBLEM].is_null()), ctx)
            errors = pl.concat([errors, unreadable.cast(ERROR_SCHEMA)]).sort(ROW)
        yield renamed, good, errors


_DONE = object()


def _read_ahead(items: Iterator) -> Iterator:
    """The same items, the next one produced in a thread while the caller works on the current one.

    An exception of the producer is raised in the caller, at the item where it happened. Closing
    the iterator (or an exception in the caller) stops the producer after its current item.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as exc:  # handed to the caller, raised there
            put((False, exc))

    worker = threading.Thread(target=produce, name="pdz-loader-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _db_file(con: duckdb.DuckDBPyConnection) -> Path:
    path = warehouse.scalar(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    return Path(path)


# Where a staged column comes from when it is not a validated column of the same name: the pseudonyms are
# computed from the codes in the statement that stages the batch (`cf.pseudonym_sql`), so no code is stored.
_PSEUDONYMISED = {
    "persona_id": cf.pseudonym_sql('"codice_fiscale"', "persona"),
    "nucleo_id": cf.pseudonym_sql('"id_nucleo"', "nucleo"),
    "comune": '"comune_residenza"',
}


def _stage(
    con: duckdb.DuckDBPyConnection, table: str, good: pl.DataFrame, staged: list[str], batch_id: str, key: bytes
) -> None:
    """Insert a batch's validated rows into `_staging`: persons and households of records and contacts
    as HMAC pseudonyms (same key and namespace in both tables: one person, one pseudonym)."""
    people = table in ("prestazioni", "accessi")
    values = [_PSEUDONYMISED[c] if people and c in _PSEUDONYMISED else f'"{c}"' for c in staged]
    columns = ", ".join(f'"{c}"' for c in staged)
    con.register("_good", good)
    try:
        con.execute(
            f"INSERT INTO _staging ({columns}, batch_id, _riga) SELECT {', '.join(values)}, $batch_id, {ROW} "
            "FROM _good",
            {"batch_id": batch_id, **(cf.hmac_params(key) if people else {})},
        )
    finally:
        con.unregister("_good")


def _store_errors(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: pl.DataFrame, errors: pl.DataFrame, result: LoadResult
) -> None:
    rows = rejected_rows_json(spec, batch, errors[ROW].unique())
    frame = errors.join(rows, on=ROW, how="left").select(
        pl.lit(result.batch_id).alias("batch_id"),
        pl.lit(redact.safe_text(result.file)).alias("file"),
        pl.col(ROW).alias("riga"),
        "colonna",
        "motivo",
        "valore",
        "dati",
    )
    con.register("_errors", frame)
    con.execute("INSERT INTO _scarti_staging SELECT * FROM _errors")
    con.unregister("_errors")


def _reject_duplicate_keys(con: duckdb.DuckDBPyConnection, spec: TableSpec, result: LoadResult) -> None:
    """Rows sharing a key inside one file are all rejected: which one is right is the office's call."""
    keys = KEYS[spec.name]
    key_list = ", ".join(keys)
    shown_key = " || ' / ' || ".join(f"CAST({k} AS VARCHAR)" for k in keys)
    dup = warehouse.query_pl(
        con,
        f"""
        SELECT _riga, {shown_key} AS chiave FROM _staging
        WHERE ({key_list}) IN (SELECT ({key_list}) FROM _staging GROUP BY ALL HAVING count(*) > 1)
        ORDER BY _riga
        """,
    )
    if dup.height == 0:
        return
    frame = dup.select(
        pl.lit(result.batch_id).alias("batch_id"),
        pl.lit(redact.safe_text(result.file)).alias("file"),
        pl.col("_riga").alias("riga"),
        pl.lit(keys[-1]).alias("colonna"),
        pl.lit(MSG_DUPLICATE_KEY).alias("motivo"),
        redact.masked_expr(pl.col("chiave")).alias("valore"),
        pl.lit(None, dtype=pl.String).alias("dati"),
    )
    con.register("_dups", frame)
    con.execute("INSERT INTO scarti SELECT * FROM _dups")
    con.execute("DELETE FROM _staging WHERE _riga IN (SELECT riga FROM _dups)")
    con.unregister("_dups")


def _check_complete_cover(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """The sub-ambito table must place every comune of the ambito exactly once."""
    missing = [
        r[0]
        for r in con.execute(
            "SELECT c.nome FROM comuni c WHERE c.comune NOT IN (SELECT comune FROM _staging) ORDER BY c.nome"
        ).fetchall()
    ]
    if missing:
        raise LoadRefused(
            "la tabella dei sub-ambiti deve assegnare ogni comune dell'ambito a un sub-ambito; mancano: "
            + ", ".join(missing)
            + ". Nessuna modifica: resta in uso la composizione precedente."
        )


def _upsert(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    keys = KEYS[spec.name]
    columns = [*STORED[spec.name], "batch_id"]
    if spec.replace_all:
        con.execute(f"DELETE FROM {spec.name}")
    else:
        match = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        con.execute(f"DELETE FROM {spec.name} t WHERE EXISTS (SELECT 1 FROM _staging s WHERE {match})")
    if spec.name == "prestazioni":  # with the integer keys of their persons and households: etl/person_keys.py
        person_keys.insert_records(con, "_staging", columns)
    else:
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {spec.name} ({cols}) SELECT {cols} FROM _staging")


def _sources_of(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> str | None:
    if spec.name != "prestazioni":
        return None
    rows = con.execute("SELECT DISTINCT fonte FROM _staging ORDER BY 1").fetchall()
    return ",".join(r[0] for r in rows) or None


def _log_attempt(
    con: duckdb.DuckDBPyConnection, result: LoadResult, sha: str, started: datetime, user: str | None
) -> None:
    """The load in the history before its transaction starts (committed): a crash cannot erase it."""
    con.execute(
        f"INSERT INTO caricamenti VALUES (?, ?, ?, ?, '{STATUS_IN_PROGRESS}', 0, 0, 0, ?, NULL, NULL, NULL, ?)",
        [result.batch_id, redact.safe_text(result.file), result.table, sha, started, user],
    )


def _close_interrupted(con: duckdb.DuckDBPyConnection) -> None:
    """Loads left `in_corso` by a process that died: this writer holds the file, so none is running."""
    con.execute(f"UPDATE caricamenti SET status = '{STATUS_INTERRUPTED}' WHERE status = '{STATUS_IN_PROGRESS}'")


def _log_failure(
    con: duckdb.DuckDBPyConnection, result: LoadResult, started: datetime, user: str | None, sha: str | None
) -> None:
    result.status = "failed"
    result.rows_read = result.rows_loaded = result.rows_rejected = result.rows_held = 0
    result.rows_released = result.rows_released_rejected = 0
    result.batch_id = result.batch_id or _new_batch_id(started)
    try:
        updated = con.execute(
            "UPDATE caricamenti SET status = 'failed', rows_read = 0, rows_loaded = 0, rows_rejected = 0, "
            "ended_at = ?, error = ? WHERE batch_id = ?",
            [datetime.now(), result.error, result.batch_id],
        ).fetchall()
        if not updated or not updated[0][0]:
            con.execute(
                "INSERT INTO caricamenti VALUES (?, ?, ?, ?, 'failed', 0, 0, 0, ?, ?, ?, NULL, ?)",
                [
                    result.batch_id,
                    redact.safe_text(result.file),
                    result.table,
                    sha,
                    started,
                    datetime.now(),
                    result.error,
                    user,
                ],
            )
    except duckdb.Error:
        pass  # the log is best effort for a failed file; the result still says why


# Text columns that can hold what someone typed (file names, values, messages, names), per table.
TYPED_TEXT = {
    "scarti": ("file", "valore", "dati"),
    "caricamenti": ("file", "error"),
    "audit": ("utente", "oggetto", "dettaglio"),
}
_REDACTED_META = "testo_protetto"  # meta key: version of the redaction applied to what is already stored
_REDACTED_VERSION = "1"


def redact_stored_text(con: duckdb.DuckDBPyConnection) -> int:
    """Mask identifiers in (and bound) text stored before `core.redact` guarded every write: once per warehouse.

    Returns the number of rows changed.
    """
    if warehouse.get_meta(con, _REDACTED_META) == _REDACTED_VERSION:
        return 0
    changed = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for table, columns in TYPED_TEXT.items():
            limits = {c: (None if c == "dati" else redact.MAX_KEPT_CHARS) for c in columns}
            where = " OR ".join(
                f"regexp_matches({c}, ?) OR length({c}) > {redact.MAX_KEPT_CHARS}" for c in columns if c != "dati"
            )
            if "dati" in columns:
                where += " OR regexp_matches(dati, ?)"
            params = [redact.IDENTIFIER_CONTAINS] * len(columns)
            rows = con.execute(f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE {where}", params).fetchall()
            updates = [[*(_redacted(c, v, limits[c]) for c, v in zip(columns, row[1:])), row[0]] for row in rows]
            sets = ", ".join(f"{c} = ?" for c in columns)
            if updates:
                con.executemany(f"UPDATE {table} SET {sets} WHERE rowid = ?", updates)
            changed += len(updates)
        warehouse.set_meta(con, _REDACTED_META, _REDACTED_VERSION)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return changed


def _redacted(column: str, value: str | None, limit: int | None) -> str | None:
    if column != "dati" or value is None:
        return redact.safe_text(value, limit)
    try:
        fields = json.loads(value)
        return json.dumps({k: redact.safe_text(v) for k, v in fields.items()}, ensure_ascii=False)
    except (ValueError, AttributeError):
        return redact.safe_text(value)


def _expected_rows(source: SourceFile) -> int | None:
    if source.kind != "csv":
        return None
    n = 0
    with open(source.path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            n += chunk.count(b"\n")
    return max(n - 1, 0)


def _progress_bar(expected: int | None, name: str):
    if expected is None or expected < 200_000 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=expected, unit=" righe", desc=name, file=sys.stderr, leave=False)


def _fault_injection_pause() -> None:
    """For the crash test only: pause inside the open transaction when asked."""
    pause = os.environ.get("PDZ_TEST_PAUSE_IN_TRANSACTION")
    if pause:
        print("PDZ_IN_TRANSACTION", file=sys.stderr, flush=True)
        time.sleep(float(pause))
