"""The engine: the catalog's measures, computed from the warehouse into one tidy table.

Each measure kind is ONE named, parameterised SQL file in `indicators/sql/`
(parameters as `$name`, never formatted into the text); the year windows and the
events of a record are the macros of `_macros.sql`, shared by all of them. Counting uses
GROUPING SETS ((comune), (sub_ambito), ()), so a person is counted once per
territory and year: a person in two comuni counts in each comune and once in
their sub-ambito and in the ambito.

`indicator_values(con)` returns the unsuppressed table (for the Ufficio di
Piano); disclosure control, targets and status are applied by `indicators.api`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from core.warehouse import RECORDS, get_meta, has_table, query_pl, records_by_source
from indicators.definitions import Indicator, catalog

SQL_DIR = Path(__file__).resolve().parent / "sql"

COLUMNS = (
    "indicatore", "area", "livello", "territorio", "anno", "numeratore", "denominatore", "valore", "parziale",
    "soppresso",
)  # fmt: skip
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


@cache
def sql(name: str) -> str:
    """The text of the named query `indicators/sql/<name>.sql`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"Query sconosciuta: {name}")
    return path.read_text(encoding="utf-8")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pl.DataFrame:
    """Run the named query with its parameters; a Polars frame (the shared macros created first)."""
    con.execute(sql("_macros"))
    return query_pl(con, sql(name), params)


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


@dataclass
class Context:
    """What every measure needs: the years, the date of the data and the territories."""

    con: duckdb.DuckDBPyConnection
    years: list[int]
    as_of: date
    _population: dict[tuple[int | None, int | None], pl.DataFrame] = field(default_factory=dict)
    _shared: dict[str, pl.DataFrame] = field(default_factory=dict)

    def shared(self, key: str, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """A result several measures use (the contacts' counts, the persons in care), computed once per table."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def population(self, eta_min: int | None = None, eta_max: int | None = None) -> pl.DataFrame:
        """livello, territorio, residenti (every territory, also those with 0 residents)."""
        key = (eta_min, eta_max)
        if key not in self._population:
            pop = run(self.con, "population", {"eta_min": eta_min, "eta_max": eta_max})
            self._population[key] = pop.filter(pl.col("territorio").is_not_null())
        return self._population[key]

    def skeleton(self) -> pl.DataFrame:
        """Every territory x every year: livello, territorio, anno."""
        years = pl.DataFrame({"anno": self.years}, schema={"anno": pl.Int32})
        return self.population().select("livello", "territorio").join(years, how="cross")

    def base(self) -> dict:
        return {"anni": self.years, "as_of": self.as_of}


def _on_skeleton(ctx: Context, counts: pl.DataFrame, fill: dict[str, float]) -> pl.DataFrame:
    """The counts on every territory and year; missing counts are the given fill (0 = nobody)."""
    counts = counts.filter(pl.col("territorio").is_not_null()).with_columns(pl.col("anno").cast(pl.Int32))
    out = ctx.skeleton().join(counts, on=["livello", "territorio", "anno"], how="left")
    return out.with_columns(pl.col(c).fill_null(v) for c, v in fill.items())


def _ratio(num: str, den: str, mult: float = 1.0) -> pl.Expr:
    """num / den * mult, null where the denominator is 0 or null."""
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * mult).otherwise(None)


def _population_denominator(ctx: Context, df: pl.DataFrame, misura: dict) -> pl.DataFrame:
    pop = misura.get("popolazione") or {}
    residents = ctx.population(pop.get("eta_min"), pop.get("eta_max")).rename({"residenti": "denominatore"})
    return df.join(residents, on=["livello", "territorio"], how="left")


# --- the measure kinds --------------------------------------------------------------


def distinct_units_rate(ctx: Context, entry: Indicator) -> pl.DataFrame:
    m = entry.misura
    counts = run(
        ctx.con,
        "distinct_units_rate",
        {
            **ctx.base(),
            "interventi": list(m["interventi"]),
            "evento": m["evento"],
            "per_nucleo": m["unita_conteggio"] == "nucleo",
            "eta_min": m.get("eta_min"),
            "eta_max": m.get("eta_max"),
        },
    )
    df = _population_denominator(ctx, _on_skeleton(ctx, counts, {"numeratore": 0.0}), m)
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def record_share(ctx: Context, entry: Indicator) -> pl.DataFrame:
    m = entry.misura
    counts = run(
        ctx.con,
        "record_share",
        {
            **ctx.base(),
            "interventi": list(m["interventi"]),
            "evento": m["evento"],
            "richiede_data_richiesta": bool(m.get("richiede_data_richiesta", False)),
            "giorni_max": m.get("giorni_max"),
            "esito": m.get("esito"),
        },
    )
    df = _on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0})
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def units_ratio(ctx: Context, entry: Indicator) -> pl.DataFrame:
    m = entry.misura
    counts = run(
        ctx.con,
        "units_ratio",
        {
            **ctx.base(),
            "num_interventi": list(m["numeratore"]["interventi"]),
            "num_evento": m["numeratore"]["evento"],
            "den_interventi": list(m["denominatore"]["interventi"]),
            "den_evento": m["denominatore"]["evento"],
            "per_nucleo": m["unita_conteggio"] == "nucleo",
        },
    )
    df = _on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0})
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def median_days(ctx: Context, entry: Indicator) -> pl.DataFrame:
    m = entry.misura
    counts = run(ctx.con, "median_days", {**ctx.base(), "interventi": list(m["interventi"]), "evento": m["evento"]})
    df = _on_skeleton(ctx, counts, {"denominatore": 0.0})
    return df.with_columns(pl.lit(None, dtype=pl.Float64).alias("numeratore"))


def hours_per_user(ctx: Context, entry: Indicator) -> pl.DataFrame:
    counts = run(ctx.con, "hours_per_user", {**ctx.base(), "interventi": list(entry.misura["interventi"])})
    df = _on_skeleton(ctx, counts, {"numeratore": 0.0, "denominatore": 0.0})
    return df.with_columns(_ratio("numeratore", "denominatore").alias("valore"))


def _staff(ctx: Context, entry: Indicator) -> pl.DataFrame:
    m = entry.misura
    fte = run(ctx.con, "staff_fte", {**ctx.base(), "profili": list(m["profili"]), "contratti": list(m["contratti"])})
    df = _on_skeleton(ctx, fte, {"fte": 0.0})
    return df.join(ctx.population(), on=["livello", "territorio"], how="left")


def staff_ratio(ctx: Context, entry: Indicator) -> pl.DataFrame:
    df = _staff(ctx, entry).rename({"residenti": "numeratore", "fte": "denominatore"})
    return df.with_columns(_ratio("numeratore", "denominatore").alias("valore"))


def staff_fte_rate(ctx: Context, entry: Indicator) -> pl.DataFrame:
    df = _staff(ctx, entry).rename({"fte": "numeratore", "residenti": "denominatore"})
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def coverage_share(ctx: Context, entry: Indicator) -> pl.DataFrame:
    cov = run(ctx.con, "coverage_share", {"tipi_sede": list(entry.misura["tipi_sede"])})
    years = pl.DataFrame({"anno": ctx.years}, schema={"anno": pl.Int32})
    df = _on_skeleton(ctx, cov.join(years, how="cross"), {"numeratore": 0.0, "denominatore": 0.0})
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def units_per_fte(ctx: Context, entry: Indicator) -> pl.DataFrame:
    """Persons with an intervention active in the year (all of the catalogue unless `interventi`) per FTE."""
    m = entry.misura
    codes = m.get("interventi") or [r[0] for r in ctx.con.execute("SELECT intervento FROM interventi").fetchall()]
    params = {**ctx.base(), "interventi": sorted(codes), "evento": "attivo", "per_nucleo": False}

    def persons() -> pl.DataFrame:
        counts = run(ctx.con, "distinct_units_rate", {**params, "eta_min": None, "eta_max": None})
        return _on_skeleton(ctx, counts, {"numeratore": 0.0})

    df = _staff(ctx, entry).join(
        ctx.shared("persons:" + ",".join(params["interventi"]), persons), on=["livello", "territorio", "anno"],
        how="left",
    ).rename({"fte": "denominatore"})  # fmt: skip
    return df.with_columns(_ratio("numeratore", "denominatore").alias("valore"))


def _contacts(ctx: Context, entry: Indicator) -> pl.DataFrame:
    """The counts of contacts.sql on every territory and year (no accessi table: nothing counted)."""
    fill = {c: 0.0 for c in ("contatti", "contatti_in_sede", "contatti_spoke", "persone_giorni")}

    def counts() -> pl.DataFrame:
        if has_table(ctx.con, "accessi"):
            return _on_skeleton(ctx, run(ctx.con, "contacts", ctx.base()), fill)
        columns = {"anno": pl.Int32, "livello": pl.String, "territorio": pl.String, "giorni_mediana": pl.Float64}
        return _on_skeleton(ctx, pl.DataFrame(schema={**columns, **{c: pl.Float64 for c in fill}}), fill)

    return ctx.shared("contacts", counts)


def contact_rate(ctx: Context, entry: Indicator) -> pl.DataFrame:
    """Contacts per N residents; a year without any contact in the ambito has no value (not recorded), not 0."""
    df = _population_denominator(ctx, _contacts(ctx, entry).rename({"contatti": "numeratore"}), entry.misura)
    recorded = df.filter((pl.col("livello") == "ambito") & (pl.col("numeratore") > 0))["anno"].implode()
    df = df.with_columns(pl.when(pl.col("anno").is_in(recorded)).then(pl.col("numeratore")).alias("numeratore"))
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def contact_share(ctx: Context, entry: Indicator) -> pl.DataFrame:
    """Contacts at a SPOKE over contacts at a sede (HUB or SPOKE)."""
    df = _contacts(ctx, entry).rename({"contatti_spoke": "numeratore", "contatti_in_sede": "denominatore"})
    return df.with_columns(_ratio("numeratore", "denominatore", entry.moltiplicatore).alias("valore"))


def contact_days(ctx: Context, entry: Indicator) -> pl.DataFrame:
    """Median days from the first contact to the first intervention; denominatore = persons."""
    df = _contacts(ctx, entry).rename({"persone_giorni": "denominatore"})
    return df.with_columns(pl.lit(None, dtype=pl.Float64).alias("numeratore"), pl.col("giorni_mediana").alias("valore"))


MEASURES: dict[str, Callable[[Context, Indicator], pl.DataFrame]] = {
    "distinct_units_rate": distinct_units_rate,
    "record_share": record_share,
    "units_ratio": units_ratio,
    "median_days": median_days,
    "hours_per_user": hours_per_user,
    "staff_ratio": staff_ratio,
    "staff_fte_rate": staff_fte_rate,
    "coverage_share": coverage_share,
    "units_per_fte": units_per_fte,
    "contact_rate": contact_rate,
    "contact_share": contact_share,
    "contact_days": contact_days,
}


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
) -> pl.DataFrame:
    """Every indicator of the catalog per territory and year, unsuppressed.

    Columns: indicatore, area, livello ('comune'|'sub_ambito'|'ambito'), territorio (ISTAT code,
    sub-ambito code or 'AMBITO'), anno, numeratore, denominatore, valore (null when the denominator
    is 0), parziale (the year is not complete at `as_of`), soppresso (False here).

    `as_of` (the date of the data) defaults to the latest data_inizio, or today; `years` to every
    year from the earliest data_inizio to the year of `as_of`. `indicators` restricts to some ids.
    """
    wanted = set(indicators) if indicators is not None else None
    if not has_table(con, RECORDS):
        return _published_values(con, years, as_of, wanted)
    as_of = as_of or default_as_of(con)
    years = sorted(set(years)) if years else default_years(con, as_of)
    ctx = Context(con=con, years=years, as_of=as_of)
    partial_years = [y for y in years if is_partial(y, as_of)]
    frames = []
    for entry in catalog():
        if wanted is not None and entry.id not in wanted:
            continue
        df = MEASURES[entry.tipo](ctx, entry).filter(pl.col("livello").is_in(list(entry.livelli)))
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
    order = {e.id: i for i, e in enumerate(catalog())}
    return (
        out.with_columns(
            pl.col("indicatore").replace_strict(order, return_dtype=pl.Int32).alias("_i"),
            pl.col("livello").replace_strict(LEVEL_ORDER, return_dtype=pl.Int32).alias("_l"),
        )
        .sort("_i", "anno", "_l", "territorio")
        .drop("_i", "_l")
    )
