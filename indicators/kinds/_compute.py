"""What the kinds' `compute` functions share: the context (years, date of the data, territories), running a
query file with the macros of `_macros.sql`, and the steps every kind repeats (skeleton, ratio, population).

Queries are files beside this module: `<tipo>.sql` for a kind, `_<name>.sql` when shared (parameters as
`$name`, never formatted into the text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from core.warehouse import query_pl
from etl import person_keys

KINDS_DIR = Path(__file__).resolve().parent


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sql(name: str) -> str:
    """The text of the query `indicators/kinds/<name>.sql` (KeyError when there is none)."""
    path = KINDS_DIR / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"Query sconosciuta: {name}")
    return _text(path)


def sql_beside(module_file: str, name: str | None = None) -> Path:
    """The query file of a kind module: `<module>.sql` beside it, or `name`.sql in the same folder."""
    path = Path(module_file).resolve()
    path = path.with_suffix(".sql") if name is None else path.with_name(f"{name}.sql")
    if not path.exists():
        raise FileNotFoundError(f"Manca la query {path.name} accanto a {Path(module_file).name}")
    return path


def run(con: duckdb.DuckDBPyConnection, query: str | Path, params: dict) -> pl.DataFrame:
    """Run a query (a name in this folder, or a file) with its parameters, after the shared macros."""
    con.execute(sql("_macros"))
    text = _text(query) if isinstance(query, Path) else sql(query)
    return query_pl(con, text, params)


@dataclass
class Context:
    """What every measure needs: the years, the date of the data and the territories."""

    con: duckdb.DuckDBPyConnection
    years: list[int]
    as_of: date
    _population: dict[tuple[int | None, int | None], pl.DataFrame] = field(default_factory=dict)
    _shared: dict[str, pl.DataFrame] = field(default_factory=dict)
    _person_keys: bool | None = None

    @property
    def has_person_keys(self) -> bool:
        """Every record carries the integer keys of its person and household (etl/person_keys.py): a warehouse
        not loaded since the keys exist, or written around the loader, has not."""
        if self._person_keys is None:
            self._person_keys = person_keys.is_in_step(self.con)
        return self._person_keys

    def persons_query(self, query: Path) -> Path:
        """A kind's query that counts persons: `<tipo>.sql` counts their integer keys; when the records lack
        them, `_records_<tipo>.sql` beside it counts the same persons by their pseudonyms."""
        return query if self.has_person_keys else query.with_name(f"_records_{query.name}")

    def shared(self, key: str, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """A result several indicators use (the counts of the contacts, the persons in care), computed once
        per table: `compute()` runs the first time `key` is asked for."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def run(self, query: str | Path, params: dict) -> pl.DataFrame:
        """A kind's query with `anni` and `as_of` added to its parameters."""
        return run(self.con, query, {"anni": self.years, "as_of": self.as_of, **params})

    def population(self, eta_min: int | None = None, eta_max: int | None = None) -> pl.DataFrame:
        """livello, territorio, residenti (every territory, also those with 0 residents)."""
        key = (eta_min, eta_max)
        if key not in self._population:
            pop = run(self.con, "_population", {"eta_min": eta_min, "eta_max": eta_max})
            self._population[key] = pop.filter(pl.col("territorio").is_not_null())
        return self._population[key]

    def skeleton(self) -> pl.DataFrame:
        """Every territory x every year: livello, territorio, anno."""
        years = pl.DataFrame({"anno": self.years}, schema={"anno": pl.Int32})
        return self.population().select("livello", "territorio").join(years, how="cross")


def on_skeleton(ctx: Context, counts: pl.DataFrame, fill: dict[str, float]) -> pl.DataFrame:
    """The counts on every territory and year; missing counts are the given fill (0 = nobody)."""
    counts = counts.filter(pl.col("territorio").is_not_null()).with_columns(pl.col("anno").cast(pl.Int32))
    out = ctx.skeleton().join(counts, on=["livello", "territorio", "anno"], how="left")
    return out.with_columns(pl.col(c).fill_null(v) for c, v in fill.items())


def ratio(num: str, den: str, mult: float = 1.0) -> pl.Expr:
    """num / den * mult, null where the denominator is 0 or null."""
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * mult).otherwise(None)


def with_ratio(df: pl.DataFrame, mult: float = 1.0) -> pl.DataFrame:
    """The frame with valore = numeratore / denominatore * mult (null where the denominator is 0)."""
    return df.with_columns(ratio("numeratore", "denominatore", mult).alias("valore"))


def population_denominator(ctx: Context, df: pl.DataFrame, popolazione: dict | None) -> pl.DataFrame:
    """The residents of the age range `popolazione` ({eta_min, eta_max}, none = all) as denominatore."""
    pop = popolazione or {}
    residents = ctx.population(pop.get("eta_min"), pop.get("eta_max")).rename({"residenti": "denominatore"})
    return df.join(residents, on=["livello", "territorio"], how="left")
