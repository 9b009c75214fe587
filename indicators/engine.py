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
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb
import polars as pl

from core.warehouse import RECORDS, get_meta, has_table, query_pl, records_by_source
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
    return records_by_source(con)["ultima_data_inizio"].max() or date.today()


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
# values computed from the warehouse during the snapshot's visit, with their date in `meta`.
PUBLISHED = "valori_indicatori"
PUBLISHED_AS_OF = "valori_data"


def publish_values(source: duckdb.DuckDBPyConnection, snapshot: duckdb.DuckDBPyConnection) -> None:
    """core.warehouse.snapshot's `summarise`: every indicator value, computed on the warehouse, into the snapshot."""
    as_of = default_as_of(source)
    values = indicator_values(source, as_of=as_of)
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
    out = query_pl(con, f"SELECT * FROM {PUBLISHED}").cast(SCHEMA)
    if years:
        out = out.filter(pl.col("anno").is_in(sorted(set(years))))
    if wanted is not None:
        out = out.filter(pl.col("indicatore").is_in(sorted(wanted)))
    return out


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def indicator_values(
    con: duckdb.DuckDBPyConnection,
    years: list[int] | None = None,
    as_of: date | None = None,
    indicators: Iterable[str] | None = None,
    entries: Iterable[Indicator] | None = None,
) -> pl.DataFrame:
    """Every indicator of the catalog per territory and year, unsuppressed.

    Columns: indicatore, area, livello ('comune'|'sub_ambito'|'ambito'), territorio (ISTAT code,
    sub-ambito code or 'AMBITO'), anno, numeratore, denominatore, valore (null when the denominator
    is 0), parziale (the year is not complete at `as_of`), soppresso (False here).

    `as_of` (the date of the data) defaults to the latest data_inizio, or today; `years` to every
    year from the earliest data_inizio to the year of `as_of`. `indicators` restricts to some ids;
    `entries` computes these entries instead of the catalog's (an indicator being tried out, a test).
    """
    wanted = set(indicators) if indicators is not None else None
    if not has_table(con, RECORDS):
        return _published_values(con, years, as_of, wanted)
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
