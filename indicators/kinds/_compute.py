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
    entries: tuple = ()  # the entries this run computes (`units` counts what they declare together)
    _person_keys: bool | None = None
    _declared: dict[str, dict] | None = None

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

    def units(self, measure: dict, count_all: Callable[[Context, list[dict]], pl.DataFrame]) -> pl.DataFrame:
        """anno, livello, territorio, numeratore: the distinct units of `measure` (a dict with its `id`), from one
        result for every count of distinct units that this run's entries declare (their kinds' `units`):
        `count_all(ctx, measures)` counts them all, each measure's id in the column `indicatore` (one query
        instead of one per indicator). A measure no entry of the run declares is counted alone."""
        if self._declared is None:
            self._declared = {m["id"]: m for e in self.entries if e.kind.units for m in e.kind.units(self, e)}
        todo = list(self._declared.values()) if self._declared.get(measure["id"]) == measure else [measure]
        counts = self.shared("units:" + ",".join(m["id"] for m in todo), lambda: count_all(self, todo))
        return counts.filter(pl.col("indicatore") == measure["id"]).drop("indicatore")

    def run(self, query: str | Path, params: dict) -> pl.DataFrame:
        """A kind's query with `anni` and `as_of` added to its parameters."""
        return run(self.con, query, {"anni": self.years, "as_of": self.as_of, **params})

    def population(self, eta_min: int | None = None, eta_max: int | None = None) -> pl.DataFrame:
        """livello, territorio, residenti (every territory, also those with 0 residents)."""
        key = (eta_min, eta_max)
        if key not in self._population:
            by_age = self.shared("_residenti_per_eta", lambda: run(self.con, "_population", {}))
            in_range = pl.lit(True)
            if eta_min is not None:
                in_range &= pl.col("eta") >= eta_min
            if eta_max is not None:
                in_range &= pl.col("eta") <= eta_max
            comuni = by_age.group_by("comune", "sub_ambito").agg(
                pl.col("residenti").filter(in_range.fill_null(False)).sum()
            )
            self._population[key] = pl.concat(
                [
                    comuni.select(pl.lit("comune").alias("livello"), pl.col("comune").alias("territorio"), "residenti"),
                    comuni.filter(pl.col("sub_ambito").is_not_null())
                    .group_by("sub_ambito")
                    .agg(pl.col("residenti").sum())
                    .select(
                        pl.lit("sub_ambito").alias("livello"), pl.col("sub_ambito").alias("territorio"), "residenti"
                    ),
                    comuni.select(
                        pl.lit("ambito").alias("livello"),
                        pl.lit("AMBITO").alias("territorio"),
                        pl.col("residenti").sum(),
                    ),
                ]
            )
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
