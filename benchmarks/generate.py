"""Synthetic contract-format files for the benchmarks, written in chunks.

`write_prestazioni(path, comuni, rows)` streams a `prestazioni` CSV (the
contract's columns, `,` separated, ISO dates, decimal point) of any size: each
chunk of `chunk_rows` records is built with numpy/polars, appended to the file
and dropped, so 50 million rows never sit in memory.

Persons are numbered 0..P-1 and every attribute of a person (comune, sex, date
of birth, surname letters, hence the codice fiscale) is a pure function of the
person's number and the seed (a vectorised splitmix64 hash): a person met in
two chunks has the same codice fiscale without any table of persons. The comuni
get persons in proportion to their ISTAT residents.

Everything is synthetic: the surname part starts with a vowel followed by a
consonant, which the official algorithm never produces, so no code can belong
to a real person. A fixed share of rows (`BAD_SHARE`) has a wrong check
character: the loader must reject exactly those (`GeneratedFile.bad_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from etl.codice_fiscale import MONTHS, check_tables

HEADER = [
    "id_prestazione",
    "codice_fiscale",
    "comune_residenza",
    "intervento",
    "data_richiesta",
    "data_inizio",
    "data_fine",
    "ore",
    "importo_euro",
    "esito",
    "id_nucleo",
]
CHUNK_ROWS = 1_000_000
RECORDS_PER_PERSON = 2.5
BAD_SHARE = 0.001  # rows with a wrong check character (rejected by the loader)
WINDOW = (date(2023, 1, 1), date(2026, 10, 31))  # data_inizio between these
REFERENCE_YEAR = 2025  # ages are drawn for this year; births 1931..2025 stay 0-99 years old

# interventions by age group (code, weight): minors, adults, elderly
BY_AGE_GROUP: tuple[tuple[tuple[str, float], ...], ...] = (
    (("ADM", 0.30), ("TUTELA_MINORI", 0.25), ("CAG", 0.25), ("AFFIDO_FAMILIARE", 0.10), ("ORIENTAMENTO_GIOVANI", 0.10)),
    (
        ("ADI_VALUTAZIONE", 0.12),
        ("ADI_PATTO", 0.08),
        ("CONTRIBUTO_ECONOMICO", 0.12),
        ("PRONTO_INTERVENTO", 0.04),
        ("MOROSITA_INCOLPEVOLE", 0.04),
        ("SOSTEGNO_AFFITTO", 0.08),
        ("EMERGENZA_ABITATIVA", 0.03),
        ("CENTRO_FAMIGLIA", 0.10),
        ("MEDIAZIONE_FAMILIARE", 0.04),
        ("SOSTEGNO_GENITORIALITA", 0.06),
        ("TIROCINIO", 0.10),
        ("SIL_PRESA_IN_CARICO", 0.08),
        ("ORIENTAMENTO_LAVORO", 0.06),
        ("B2_FNA", 0.05),
    ),
    (("SAD", 0.35), ("PASTI_DOMICILIO", 0.20), ("TELESOCCORSO", 0.20), ("B2_FNA", 0.15), ("DIMISSIONI_PROTETTE", 0.10)),
)
AGE_GROUP_SHARE = (0.15, 0.40, 0.45)  # users of social services skew old
AGE_RANGE = ((0, 17), (18, 64), (65, 94))
HOURS = {"SAD", "ADM"}
AMOUNTS = {
    "CONTRIBUTO_ECONOMICO",
    "SOSTEGNO_AFFITTO",
    "MOROSITA_INCOLPEVOLE",
    "B2_FNA",
    "PASTI_DOMICILIO",
    "EMERGENZA_ABITATIVA",
    "PRONTO_INTERVENTO",
}
ESITI = np.array(["IN_CORSO", "CONCLUSO", "INTERROTTO", "ASSUNZIONE"])

_VOWELS = np.frombuffer(b"AEIOU", dtype=np.uint8)
_CONSONANTS = np.frombuffer(b"BCDFGHLMNPRSTVZ", dtype=np.uint8)
_LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_MONTH_LETTERS = np.frombuffer(MONTHS.encode(), dtype=np.uint8)


@dataclass
class GeneratedFile:
    path: Path
    rows: int
    bad_rows: int
    persons: int
    bytes: int
    seconds: float = 0.0


# --- deterministic per-person attributes ---------------------------------------------


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A good 64-bit hash, vectorised (uint64 arithmetic wraps modulo 2**64)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _uniform(person: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """A uniform [0, 1) draw per person, the same whenever the person appears."""
    with np.errstate(over="ignore"):
        key = person.astype(np.uint64) * np.uint64(64) + np.uint64(stream) + np.uint64(seed) * np.uint64(0x1000003)
    return (_splitmix64(key) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


_CHECK = check_tables()


@dataclass(frozen=True)
class Population:
    """Persons 0..P-1 laid out by comune in proportion to residents."""

    codes: np.ndarray  # ISTAT codes (str), by comune index
    belfiore: np.ndarray  # (n_comuni, 4) uint8
    first_person: np.ndarray  # cumulative start of each comune's persons (int64, length n+1)

    @property
    def persons(self) -> int:
        return int(self.first_person[-1])

    @classmethod
    def build(cls, comuni: pl.DataFrame, persons: int) -> Population:
        weights = comuni["residenti"].cast(pl.Float64).to_numpy()
        weights = np.where(weights > 0, weights, 1.0)
        share = np.maximum(np.floor(weights / weights.sum() * persons), 1).astype(np.int64)
        first = np.concatenate([[0], np.cumsum(share)])
        belfiore = np.frombuffer("".join(comuni["cod_catastale"].to_list()).encode(), dtype=np.uint8).reshape(-1, 4)
        return cls(np.array(comuni["comune"].to_list()), belfiore, first)

    def comune_index(self, person: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.first_person, person, side="right") - 1

    def attributes(self, person: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """age group (0 minor, 1 adult, 2 elderly), birth year, female, codice fiscale bytes (n, 16)."""
        n = person.size
        u_group, u_age, u_sex = (_uniform(person, seed, s) for s in (1, 2, 3))
        group = np.searchsorted(np.cumsum(AGE_GROUP_SHARE)[:-1], u_group, side="right")
        lo = np.array([r[0] for r in AGE_RANGE])[group]
        hi = np.array([r[1] for r in AGE_RANGE])[group]
        age = lo + np.floor(u_age * (hi - lo + 1)).astype(np.int64)
        birth_year = REFERENCE_YEAR - age
        female = u_sex < 0.52
        chars = np.empty((n, 16), dtype=np.uint8)
        letters = _splitmix64(person.astype(np.uint64) ^ np.uint64(seed * 0x51ED27 + 7))
        chars[:, 0] = _VOWELS[(letters % np.uint64(5)).astype(np.int64)]
        chars[:, 1] = _CONSONANTS[((letters >> np.uint64(8)) % np.uint64(15)).astype(np.int64)]
        for i in range(4):
            chars[:, 2 + i] = _LETTERS[((letters >> np.uint64(16 + 8 * i)) % np.uint64(26)).astype(np.int64)]
        month = ((letters >> np.uint64(48)) % np.uint64(12)).astype(np.int64)
        day = ((letters >> np.uint64(56)) % np.uint64(28)).astype(np.int64) + 1 + 40 * female
        yy = birth_year % 100
        chars[:, 6] = ord("0") + yy // 10
        chars[:, 7] = ord("0") + yy % 10
        chars[:, 8] = _MONTH_LETTERS[month]
        chars[:, 9] = ord("0") + day // 10
        chars[:, 10] = ord("0") + day % 10
        chars[:, 11:15] = self.belfiore[self.comune_index(person)]
        base, table = _CHECK
        total = base + table[np.arange(15)[None, :], chars[:, :15]].sum(axis=1)
        chars[:, 15] = ord("A") + total % 26
        return {"group": group, "birth_year": birth_year, "female": female, "cf": chars}


# --- the records ------------------------------------------------------------------------


def _interventi_by_group() -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    codes = sorted({c for group in BY_AGE_GROUP for c, _ in group})
    index = {c: i for i, c in enumerate(codes)}
    per_group_codes, per_group_cum = [], []
    for group in BY_AGE_GROUP:
        w = np.array([x for _, x in group], dtype=float)
        per_group_codes.append(np.array([index[c] for c, _ in group]))
        per_group_cum.append(np.cumsum(w / w.sum())[:-1])
    return codes, per_group_codes, per_group_cum


def _chunk(
    rng: np.random.Generator, pop: Population, first_row: int, n: int, seed: int, bad: np.ndarray
) -> pl.DataFrame:
    codes, group_codes, group_cum = _interventi_by_group()
    person = rng.integers(0, pop.persons, n, dtype=np.int64)
    attrs = pop.attributes(person, seed)
    cf = attrs["cf"]
    if bad.size:  # a wrong check character: shift it by 1..25 letters
        cf[bad, 15] = ord("A") + (cf[bad, 15] - ord("A") + rng.integers(1, 26, bad.size)) % 26
    group = attrs["group"]
    u = rng.random(n)
    code = np.empty(n, dtype=np.int64)
    for g in range(3):
        sel = group == g
        code[sel] = group_codes[g][np.searchsorted(group_cum[g], u[sel], side="right")]
    code_names = np.array(codes)[code]

    d0 = (WINDOW[0] - date(1970, 1, 1)).days
    d1 = (WINDOW[1] - date(1970, 1, 1)).days
    start = rng.integers(d0, d1 + 1, n)
    has_end = rng.random(n) < 0.65
    end = np.minimum(start + rng.exponential(150, n).astype(np.int64), d1)
    has_request = rng.random(n) < np.where(code_names == "ADI_VALUTAZIONE", 0.9, 0.5)
    request = start - rng.integers(0, 200, n)
    is_hours = np.isin(code_names, list(HOURS))
    is_amount = np.isin(code_names, list(AMOUNTS))
    hours = np.round(rng.uniform(1, 200, n), 1)
    amount = np.round(rng.lognormal(6.5, 0.8, n), 2)
    tirocinio = code_names == "TIROCINIO"
    esito = np.where(has_end, 1, 0)
    esito = np.where(tirocinio & has_end, rng.choice([1, 2, 3], n, p=[0.35, 0.30, 0.35]), esito)
    has_esito = rng.random(n) < 0.7
    has_nucleo = rng.random(n) < 0.6
    comune = pop.codes[pop.comune_index(person)]

    days = pl.Int32
    return (
        pl.DataFrame(
            {
                "id_prestazione": pl.int_range(first_row + 1, first_row + n + 1, eager=True).cast(pl.String),
                "codice_fiscale": pl.Series(cf.view("S16").ravel()).cast(pl.String),
                "comune_residenza": comune,
                "intervento": code_names,
                "data_richiesta": pl.Series(np.where(has_request, request, -1).astype(np.int32), dtype=days),
                "data_inizio": pl.Series(start.astype(np.int32), dtype=days),
                "data_fine": pl.Series(np.where(has_end, end, -1).astype(np.int32), dtype=days),
                "ore": pl.Series(np.where(is_hours, hours, np.nan)),
                "importo_euro": pl.Series(np.where(is_amount, amount, np.nan)),
                "esito": ESITI[esito],
                "_has_esito": has_esito,
                "id_nucleo": pl.Series(np.where(has_nucleo, person // 3, -1)),
            }
        )
        .with_columns(
            pl.format("BP{}", pl.col("id_prestazione").str.zfill(9)).alias("id_prestazione"),
            *[
                pl.when(pl.col(c) >= 0).then(pl.col(c)).cast(pl.Date).alias(c)
                for c in ("data_richiesta", "data_inizio", "data_fine")
            ],
            pl.col("ore").fill_nan(None),
            pl.col("importo_euro").fill_nan(None),
            pl.when(pl.col("_has_esito")).then(pl.col("esito")).alias("esito"),
            pl.when(pl.col("id_nucleo") >= 0)
            .then(pl.format("NU{}", pl.col("id_nucleo").cast(pl.String).str.zfill(8)))
            .alias("id_nucleo"),
        )
        .drop("_has_esito")
    )


def write_prestazioni(
    path: Path, comuni: pl.DataFrame, rows: int, seed: int = 7, chunk_rows: int = CHUNK_ROWS
) -> GeneratedFile:
    """Stream `rows` synthetic records of the given comuni into a contract-format CSV."""
    import time

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pop = Population.build(comuni, max(int(rows / RECORDS_PER_PERSON), comuni.height))
    n_bad = int(round(rows * BAD_SHARE))
    bad_rows = np.sort(rng.choice(rows, size=n_bad, replace=False)) if n_bad else np.empty(0, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for first in range(0, rows, chunk_rows):
            n = min(chunk_rows, rows - first)
            lo, hi = np.searchsorted(bad_rows, [first, first + n])
            df = _chunk(rng, pop, first, n, seed, bad_rows[lo:hi] - first)
            df.write_csv(fh, include_header=first == 0, date_format="%Y-%m-%d", null_value="")
            del df
    return GeneratedFile(path, rows, n_bad, pop.persons, path.stat().st_size, time.perf_counter() - t0)


def write_operatori(path: Path, sub_ambiti: pl.DataFrame, comuni: pl.DataFrame) -> Path:
    """Social workers per sub-ambito: about one full-time AS per 4,500 residents, plus educators."""
    residents = (
        sub_ambiti.join(comuni.select("comune", "residenti"), on="comune", how="left")
        .group_by("sub_ambito")
        .agg(pl.col("residenti").sum())
        .sort("sub_ambito")
    )
    rows = []
    for sub, res in residents.iter_rows():
        for profilo, per in (("ASSISTENTE_SOCIALE", 4500), ("EDUCATORE", 9000)):
            for i in range(max(1, round((res or 0) / per))):
                contratto = "INDETERMINATO" if i % 5 else "DETERMINATO"
                rows.append(
                    (
                        f"OP-{sub}-{profilo[:2]}-{i:05d}",
                        profilo,
                        sub,
                        1.0 if i % 4 else 0.5,
                        contratto,
                        "2022-01-01",
                        "",
                    )
                )
    pl.DataFrame(
        rows,
        schema=["id_operatore", "profilo", "sub_ambito", "fte", "contratto", "data_inizio", "data_fine"],
        orient="row",
    ).write_csv(path)
    return path


def write_sedi(path: Path, sub_ambiti: pl.DataFrame, comuni: pl.DataFrame) -> Path:
    """A HUB in the most populous comune of each sub-ambito, SPOKEs in the next two (with coordinates)."""
    from core import territory

    ranked = (
        sub_ambiti.join(comuni.select("comune", "nome", "residenti"), on="comune", how="left")
        .sort(["sub_ambito", "residenti"], descending=[False, True])
        .with_columns(pl.int_range(pl.len()).over("sub_ambito").alias("rank"))
        .filter(pl.col("rank") < 3)
    )
    geo = territory.geometries(ranked["comune"].to_list())
    points = geo.geometry.representative_point()
    rows = []
    for comune, nome, sub, rank in ranked.select("comune", "nome", "sub_ambito", "rank").iter_rows():
        p = points.get(comune)
        tipo = "HUB" if rank == 0 else "SPOKE"
        rows.append(
            (
                f"SEDE-{sub}-{rank}",
                f"{tipo.title()} {nome}",
                tipo,
                comune,
                "",
                None if p is None else p.y,
                None if p is None else p.x,
                sub,
            )
        )
    pl.DataFrame(
        rows,
        schema={
            "id_sede": pl.String,
            "nome": pl.String,
            "tipo": pl.String,
            "comune": pl.String,
            "indirizzo": pl.String,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "sub_ambito": pl.String,
        },
        orient="row",
    ).write_csv(path)
    return path
