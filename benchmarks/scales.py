"""The three scales and their territory folders (ambito.toml, comuni.csv, sub_ambiti.csv).

The loader accepts only comuni of the configured ambito, so each scale gets its
own ambito folder (pointed to with PDZ_AMBITO_DIR), its own warehouse (PDZ_DB)
and its own secret (PDZ_SECRET), all inside the output folder.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from core import settings, territory


@dataclass(frozen=True)
class Scale:
    name: str
    label: str  # Italian, for the report
    rows: int  # records in the prestazioni file
    region: str | None = None  # None: the shipped ambito (data/ambito) or all of Italy (see `national`)
    national: bool = False

    @property
    def is_ambito(self) -> bool:
        return self.region is None and not self.national


SCALES: dict[str, Scale] = {
    "ambito": Scale("ambito", "Ambito Cremasco (48 comuni)", 100_000),
    "lombardia": Scale("lombardia", "Lombardia (~1.500 comuni)", 5_000_000, region="Lombardia"),
    "italia": Scale("italia", "Italia (~7.900 comuni)", 50_000_000, national=True),
}


def parse_scales(text: str) -> list[Scale]:
    """'ambito,lombardia' or 'ambito:3000' (a scale with another number of records)."""
    out = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, _, rows = part.partition(":")
        if name not in SCALES:
            raise ValueError(f"scala sconosciuta «{name}» (scale: {', '.join(SCALES)})")
        base = SCALES[name]
        if rows:
            n = int(float(rows.replace("_", "")))
            if n <= 0:
                raise ValueError(f"numero di record non valido per {name}: {rows}")
            base = Scale(base.name, base.label, n, base.region, base.national)
        out.append(base)
    return out


def comuni_of(scale: Scale) -> pl.DataFrame:
    """comune, nome, provincia, sigla_provincia, cod_catastale, residenti of the scale's comuni."""
    italy = territory.italy_municipalities()
    if scale.is_ambito:
        own = territory.comuni_file(settings.DATA_DIR / "ambito").select("comune")
        chosen = own.join(italy, on="comune", how="left")
    elif scale.national:
        chosen = italy
    else:
        chosen = italy.filter(pl.col("regione") == scale.region)
    pop = territory.population(chosen["comune"].to_list()).group_by("comune").agg(pl.col("residenti").sum())
    return (
        chosen.join(pop, on="comune", how="left")
        .with_columns(pl.col("residenti").fill_null(0))
        .select("comune", "nome", "provincia", "sigla_provincia", "cod_catastale", "residenti")
        .sort("comune")
    )


def write_ambito_folder(scale: Scale, folder: Path, comuni: pl.DataFrame) -> Path:
    """The territory of the scale: the shipped ambito as it is, or comuni grouped by province."""
    folder.mkdir(parents=True, exist_ok=True)
    if scale.is_ambito:
        for name in ("ambito.toml", "comuni.csv", "sub_ambiti.csv"):
            shutil.copyfile(settings.DATA_DIR / "ambito" / name, folder / name)
        return folder
    (folder / "ambito.toml").write_text(
        "\n".join(
            [
                "# Synthetic territory of a benchmark (python -m benchmarks): not a real ambito.",
                f'nome = "Benchmark {scale.label}"',
                f'nome_breve = "Benchmark {scale.name}"',
                f'capofila = "{_capofila(comuni)}"',
                'ente_gestore = "—"',
                f'regione = "{scale.region or "Italia"}"',
                'piano = "Piano di Zona 2025–2027"',
                "anno_baseline = 2024",
                "anni_piano = [2025, 2026, 2027]",
                "",
            ]
        ),
        encoding="utf-8",
    )
    with open(folder / "comuni.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["comune", "nome"])
        w.writerows(comuni.select("comune", "nome").iter_rows())
    with open(folder / "sub_ambiti.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["comune", "sub_ambito", "nome_sub_ambito", "pilota", "data_avvio_pilota", "provvisorio"])
        for comune, sigla, provincia in comuni.select("comune", "sigla_provincia", "provincia").iter_rows():
            w.writerow([comune, f"SA_{sigla}", provincia, "false", "", "true"])
    return folder


def sub_ambito_of(scale: Scale, folder: Path) -> pl.DataFrame:
    """comune, sub_ambito, nome_sub_ambito as written in the scale's folder."""
    return territory.sub_ambiti_file(folder).select("comune", "sub_ambito", "nome_sub_ambito")


def _capofila(comuni: pl.DataFrame) -> str:
    return comuni.sort("residenti", descending=True)["nome"][0] if comuni.height else ""
