"""Dati dimostrativi: a generator of SYNTHETIC input files in the data-contract format.

Everything written here is invented. No row describes a real person: the
codici fiscali are random and, by construction, cannot belong to anyone
(the surname part is a vowel followed by a consonant, which the official
algorithm never produces), the households are random, the amounts and dates
are random. Only the territory is real: the comuni of the configured ambito,
their ISTAT population by single year of age and sex (volumes and ages are
drawn from it) and their boundaries (for the access points).

`generate_demo_files(out_dir)` writes, into `out_dir`:

- `prestazioni_cartella_sociale.csv`: fonte `cartella_sociale` (all areas
  but lavoro); `;` separated, Italian dates and decimals, headers such as
  `ID Prestazione`, comune as ISTAT code or by name;
- `prestazioni_sil.xlsx`: fonte `sil` (lavoro), ISO dates as text;
- `operatori.csv`, `sedi.csv`: the équipes and the hub/spoke access points;
- `accessi.csv`: contacts at the hub and the spokes from 2024 (information, referrals, and the first
  contact of new users before their first intervention, with their codice fiscale); in the pilot
  sub-ambiti more people turn to the spokes and are taken in charge sooner after the start. No
  road matrix (`distanze`) is generated: the demo's proximity figures are straight-line estimates,
  labelled as such, rather than invented road times that could pass for ISTAT's;
- `attesi_scarti.json`: the rows deliberately malformed (about 0.5%), with
  the kind of mistake, so tests can check the loader rejects exactly those.

Output is deterministic: same seed, scale and cutoff give byte-identical
files. Everything is vectorised (numpy/polars): no Python loop over records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from core import settings, territory
from core.normalize import comune_key
from core.private_files import private_dir, private_umask
from etl.codice_fiscale import MONTHS
from etl.codice_fiscale import check_tables as cf_check_tables

DEMO_CUTOFF = date(2026, 10, 31)  # extraction date of the demo data (fixed: output is deterministic)
WINDOW_START = date(2023, 1, 1)  # the extraction covers records active from here to the cutoff
WARMUP_START = date(2021, 1, 1)  # episodes start from here so that 2023 already has a stock of users
TREND_ORIGIN = date(2023, 1, 1)
PILOT_RAMP_FROM = date(2024, 1, 1)  # all sub-ambiti drift a little from here; pilots improve from their start
ACCESS_START = date(2024, 1, 1)  # the register of contacts at the access points starts here
ACCESS_RATE = 0.02  # contacts for information or referral per adult resident per year (scale 1)
ACCESS_LINKED_SHARE = 0.7  # share of new users whose first intervention follows a recorded contact
ACCESS_CF_SHARE = 0.3  # share of information/referral contacts recorded with the codice fiscale

PRESTAZIONI_CSV = "prestazioni_cartella_sociale.csv"
PRESTAZIONI_SIL = "prestazioni_sil.xlsx"
OPERATORI_CSV = "operatori.csv"
SEDI_CSV = "sedi.csv"
ACCESSI_CSV = "accessi.csv"
EXPECTED_REJECTIONS_FILE = "attesi_scarti.json"

FONTE_CARTELLA = "cartella_sociale"
FONTE_SIL = "sil"
# Persons older than this would be ambiguous for a 2-digit year of birth (the
# loader puts everyone at 0-99 years old in the year of the load).
OLDEST_BIRTH_YEAR = 1931
MAX_AGE = 100  # ISTAT's last class (100 = 100+)

# Age on 31 December of the year of `data_inizio` that every good row of the
# demo respects (None: no upper bound). Tests check the files against it.
AGE_RULES: dict[str, tuple[int, int | None]] = {
    "SAD": (65, None),
    "PASTI_DOMICILIO": (65, None),
    "TELESOCCORSO": (65, None),
    "DIMISSIONI_PROTETTE": (65, None),
    "B2_FNA": (18, None),
    "ADM": (0, 17),
    "TUTELA_MINORI": (0, 17),
    "AFFIDO_FAMILIARE": (0, 17),
    "CAG": (11, 18),
    "ORIENTAMENTO_GIOVANI": (15, 29),
    "TIROCINIO": (18, 64),
    "SIL_PRESA_IN_CARICO": (18, 64),
    "ORIENTAMENTO_LAVORO": (16, 64),
    "ADI_VALUTAZIONE": (18, None),
    "ADI_PATTO": (18, None),
    "CONTRIBUTO_ECONOMICO": (18, None),
    "PRONTO_INTERVENTO": (18, None),
    "MOROSITA_INCOLPEVOLE": (18, None),
    "SOSTEGNO_AFFITTO": (18, None),
    "EMERGENZA_ABITATIVA": (18, None),
    "CENTRO_FAMIGLIA": (18, None),
    "MEDIAZIONE_FAMILIARE": (18, None),
    "SOSTEGNO_GENITORIALITA": (18, None),
}

# The kinds of deliberate mistakes (each one the loader must reject).
BAD_ROW_KINDS: dict[str, str] = {
    "cf_carattere_controllo": "codice fiscale with a wrong check character",
    "cf_formato": "malformed codice fiscale (15 characters, letter O for zero, month letter that does not exist)",
    "comune_fuori_ambito": "comune (ISTAT code) outside the ambito",
    "intervento_sconosciuto": "intervention code not in the catalogue",
    "data_fine_prima_inizio": "data_fine before data_inizio",
    "data_richiesta_dopo_inizio": "data_richiesta after data_inizio",
    "valore_negativo": "negative ore or importo_euro",
    "data_impossibile": "impossible date in data_inizio (e.g. 31/02/2025)",
    "valore_mancante": "a required value is empty",
    "id_duplicato": "id_prestazione already used by an earlier row of the same file (the earlier row is good)",
}
BAD_ROW_SHARE = 0.005
UNKNOWN_INTERVENTI = ["SAD_NOTTURNO", "VOUCHER_SPORT", "BUONO_SOCIALE", "ASSISTENZA_SCOLASTICA", "TRASPORTO"]

CARTELLA_HEADERS = {
    "id_prestazione": "ID Prestazione",
    "codice_fiscale": "Codice Fiscale",
    "comune_residenza": "Comune Residenza",
    "intervento": "Intervento",
    "data_richiesta": "Data Richiesta",
    "data_inizio": "Data Inizio",
    "data_fine": "Data Fine",
    "ore": "Ore",
    "importo_euro": "Importo Euro",
    "esito": "Esito",
    "id_nucleo": "ID Nucleo",
}
SIL_COLUMNS = [
    "fonte",
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
ESITI = ["IN_CORSO", "CONCLUSO", "INTERROTTO", "ASSUNZIONE"]
NO_ESITO, IN_CORSO, CONCLUSO, INTERROTTO, ASSUNZIONE = -1, 0, 1, 2, 3

NA = np.iinfo(np.int64).min  # missing date (days) in the internal arrays
VOWELS = np.frombuffer(b"AEIOU", dtype=np.uint8)
CONSONANTS = np.frombuffer(b"BCDFGHJKLMNPQRSTVWZ", dtype=np.uint8)  # no X: never a real surname code after a vowel
LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
# Belfiore codes of foreign countries for persons born abroad (Albania, Romania, Marocco, Cina, India, Ucraina).
FOREIGN_BELFIORE = ["Z100", "Z129", "Z330", "Z210", "Z222", "Z138"]
STREETS = [
    "Via Roma",
    "Piazza Garibaldi",
    "Via Mazzini",
    "Via Dante Alighieri",
    "Piazza del Municipio",
    "Via Vittorio Emanuele II",
    "Via XX Settembre",
    "Via Matteotti",
    "Via Cavour",
    "Piazza della Libertà",
    "Via Marconi",
    "Via Manzoni",
    "Via Verdi",
    "Via IV Novembre",
    "Via Europa",
]


# --- dates as integer days ---------------------------------------------------------


def _days(d: date) -> int:
    return int(np.datetime64(d, "D").astype(np.int64))


def _year_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _period_index(days: np.ndarray, unit: str) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)


def _period_start(index: np.ndarray, unit: str) -> np.ndarray:
    return np.asarray(index).astype(f"datetime64[{unit}]").astype("datetime64[D]").astype(np.int64)


def _months_to_days(months: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(months, dtype=float) * 30.44).astype(np.int64)


# --- codice fiscale -----------------------------------------------------------------


def _codici_fiscali(rng: np.random.Generator, birth: np.ndarray, female: np.ndarray, belfiore: np.ndarray) -> pl.Series:
    """Vectorised synthetic codici fiscali. `birth`: days; `belfiore`: (n, 4) uint8."""
    n = birth.size
    chars = np.empty((n, 16), dtype=np.uint8)
    chars[:, 0] = VOWELS[rng.integers(0, VOWELS.size, n)]
    chars[:, 1] = CONSONANTS[rng.integers(0, CONSONANTS.size, n)]
    chars[:, 2:6] = LETTERS[rng.integers(0, LETTERS.size, (n, 4))]
    dt = birth.astype("datetime64[D]")
    yy = _year_of(birth) % 100
    month = dt.astype("datetime64[M]").astype(np.int64) % 12
    day = (dt - dt.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1 + 40 * female
    chars[:, 6] = ord("0") + yy // 10
    chars[:, 7] = ord("0") + yy % 10
    chars[:, 8] = np.frombuffer(MONTHS.encode(), dtype=np.uint8)[month]
    chars[:, 9] = ord("0") + day // 10
    chars[:, 10] = ord("0") + day % 10
    chars[:, 11:15] = belfiore
    base, table = cf_check_tables()
    total = base + table[np.arange(15)[None, :], chars[:, :15]].sum(axis=1)
    chars[:, 15] = ord("A") + total % 26
    return pl.Series(chars.view("S16").ravel()).cast(pl.String)


# --- the territory and the people ----------------------------------------------------


@dataclass
class _People:
    comune: list[np.ndarray] = field(default_factory=list)
    female: list[np.ndarray] = field(default_factory=list)
    birth_year: list[np.ndarray] = field(default_factory=list)
    size: int = 0

    def add(self, comune: np.ndarray, female: np.ndarray, birth_year: np.ndarray) -> np.ndarray:
        n = len(comune)
        self.comune.append(np.asarray(comune, dtype=np.int64))
        self.female.append(np.asarray(female, dtype=bool))
        self.birth_year.append(np.maximum(np.asarray(birth_year, dtype=np.int64), OLDEST_BIRTH_YEAR))
        ids = np.arange(self.size, self.size + n)
        self.size += n
        return ids

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return cat(self.comune, np.int64), cat(self.female, bool), cat(self.birth_year, np.int64)


@dataclass
class _Households:
    """A pool of households, sorted by comune, those with children first in each comune's block."""

    head: np.ndarray  # person id
    partner: np.ndarray  # person id or -1
    code: np.ndarray  # number shown in id_nucleo
    kid_start: np.ndarray
    kid_count: np.ndarray
    kids: np.ndarray  # person ids, grouped by household
    block_start: np.ndarray  # per comune: first household
    block_size: np.ndarray  # per comune: households
    block_with_kids: np.ndarray  # per comune: households with children (at the start of the block)


class _Generator:
    def __init__(self, seed: int, scale: float, cutoff: date) -> None:
        self.rng = np.random.Generator(np.random.PCG64(seed))
        # Structure (sub-ambito differences, staff, access points) does not depend on the scale.
        self.struct_rng = np.random.Generator(np.random.PCG64([seed, 7]))
        self.scale = scale
        self.cutoff_date = cutoff
        self.cutoff = _days(cutoff)
        self.window_start = _days(WINDOW_START)

        com = territory.comuni().sort("comune")
        sub = territory.sub_ambiti_file()
        com = com.join(sub.select("comune", "sub_ambito"), on="comune", how="left")
        missing = com.filter(pl.col("sub_ambito").is_null())["comune"].to_list()
        if missing:
            raise ValueError(f"Comuni senza sub-ambito in sub_ambiti.csv: {', '.join(missing)}")
        self.codes = np.array(com["comune"].to_list())
        self.names = com["nome"].to_list()
        self.n_comuni = len(self.codes)
        self.belfiore = np.array(com["cod_catastale"].to_list(), dtype="S4").view(np.uint8).reshape(-1, 4)

        pop = territory.population(self.codes.tolist())
        pivot = (
            pop.with_columns(pl.col("eta").clip(0, MAX_AGE))
            .group_by("comune", "eta", "sesso")
            .agg(pl.col("residenti").sum())
        )
        males = np.zeros((self.n_comuni, MAX_AGE + 1))
        females = np.zeros((self.n_comuni, MAX_AGE + 1))
        index = {c: i for i, c in enumerate(self.codes)}
        ci = np.array([index[c] for c in pivot["comune"].to_list()], dtype=np.int64)
        age = pivot["eta"].to_numpy().astype(np.int64)
        res = pivot["residenti"].to_numpy().astype(float)
        is_f = (pivot["sesso"] == "F").to_numpy()
        np.add.at(females, (ci[is_f], age[is_f]), res[is_f])
        np.add.at(males, (ci[~is_f], age[~is_f]), res[~is_f])
        self.pop = males + females
        self.female_share = np.divide(females, self.pop, out=np.full_like(self.pop, 0.5), where=self.pop > 0)
        self.cum = np.cumsum(self.pop.ravel())
        self.pop_year = int(pop["anno"].max()) if pop.height else settings.geopop_year()

        sa_table = (
            sub.group_by("sub_ambito").agg(pl.col("pilota").any(), pl.col("data_avvio_pilota").min()).sort("sub_ambito")
        )
        self.sa_codes = sa_table["sub_ambito"].to_list()
        self.sa_pilot = sa_table["pilota"].to_numpy().astype(bool)
        starts = [d or date(2025, 1, 1) for d in sa_table["data_avvio_pilota"].to_list()]
        self.sa_start = np.array([_days(d) for d in starts], dtype=np.int64)
        sa_index = {s: i for i, s in enumerate(self.sa_codes)}
        self.sa_of = np.array([sa_index[s] for s in com["sub_ambito"].to_list()], dtype=np.int64)
        self._sa_factors: dict[str, np.ndarray] = {}

        self.people = _People()
        self.records: list[dict[str, np.ndarray]] = []
        # The contacts (accessi) draw from their own stream: the other files stay byte-identical.
        self.access_rng = np.random.Generator(np.random.PCG64([seed, 13]))
        self.codes_catalogue = pl.read_csv(settings.INTERVENTI_FILE)["intervento"].to_list()

    # --- building blocks ------------------------------------------------------------

    def sa_factor(self, key: str, sigma: float = 0.22) -> np.ndarray:
        """A fixed multiplier per sub-ambito for a service: the territories differ."""
        if key not in self._sa_factors:
            self._sa_factors[key] = self.struct_rng.lognormal(0.0, sigma, len(self.sa_codes))
        return self._sa_factors[key]

    def progress(self, sa: np.ndarray, days: np.ndarray) -> np.ndarray:
        """0..1: how far the new model has gone. Pilots: from their start (data_avvio_pilota) to one year
        later, the SYNTHETIC pilot effect that `python -m indicators evaluate` measures on the demo; the
        others drift a little from PILOT_RAMP_FROM (a trend common to all, which the comparison removes)."""
        t0 = _days(PILOT_RAMP_FROM)
        pilot = np.clip((days - self.sa_start[sa]) / 365.0, 0.0, 1.0)
        other = 0.2 * np.clip((days - t0) / 1096.0, 0.0, 1.0)
        return np.where(self.sa_pilot[sa], pilot, other)

    def eligible(self, lo: int, hi: int | None) -> np.ndarray:
        return self.pop[:, lo : (MAX_AGE if hi is None else hi) + 1].sum(axis=1)

    def starts(
        self, weights: np.ndarray, rate: float, key: str, boost: float = 0.1, scaled: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Episode starts: Poisson counts per comune and month, uniform days in the month.

        `rate` is episodes per year per unit of `weights` (residents of the
        right age, or households of the pool).
        """
        m0 = _period_index(np.array([_days(WARMUP_START)]), "M")[0]
        m1 = _period_index(np.array([self.cutoff]), "M")[0]
        months = np.arange(m0, m1 + 1)
        first = _period_start(months, "M")
        length = _period_start(months + 1, "M") - first
        usable = np.minimum(length, self.cutoff - first + 1)
        mid = first + 14
        sa = self.sa_of[:, None]
        trend = 1.0 + 0.03 * (mid - _days(TREND_ORIGIN)) / 365.25
        lam = (
            rate
            / 12.0
            * weights[:, None]
            * self.sa_factor(key)[sa]
            * trend[None, :]
            * (1.0 + boost * self.progress(sa, mid[None, :]))
            * (usable / length)[None, :]
            * (self.scale if scaled else 1.0)
        )
        counts = self.rng.poisson(lam).ravel()
        cell = np.repeat(np.arange(counts.size), counts)
        comune, month = cell // months.size, cell % months.size
        offset = np.floor(self.rng.random(cell.size) * usable[month]).astype(np.int64)
        return comune, first[month] + offset

    def ages(self, comune: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(age, female) drawn from each comune's residents aged lo..hi (inverse CDF on one array)."""
        lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), comune.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), comune.shape)
        base = comune * (MAX_AGE + 1)
        flat = self.pop.ravel()
        low = self.cum[base + lo] - flat[base + lo]
        high = self.cum[base + hi]
        u = low + self.rng.random(comune.size) * (high - low)
        cell = np.clip(np.searchsorted(self.cum, u, side="right"), base + lo, base + hi)
        age = cell - base
        female = self.rng.random(comune.size) < self.female_share[comune, age]
        return age, female

    def fresh_people(
        self, comune: np.ndarray, first_year: np.ndarray, last_year: np.ndarray, lo: int, hi: int | None
    ) -> np.ndarray:
        """New persons whose age stays in lo..hi in every year from first_year to last_year."""
        hi = MAX_AGE if hi is None else hi
        top = np.maximum(hi - (last_year - first_year), lo)
        age, female = self.ages(comune, np.full(comune.size, lo), top)
        return self.people.add(comune, female, first_year - age)

    def split(self, start: np.ndarray, end: np.ndarray, period: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Episodes -> records: one ('unico'), per calendar month ('mese') or year ('anno').

        Keeps the records active in the extraction window; monthly and yearly
        records start no earlier than the window.
        """
        if period == "unico":
            ep = np.arange(start.size)
            rs, re = start, end
        else:
            unit = "M" if period == "mese" else "Y"
            p0, p1 = _period_index(start, unit), _period_index(end, unit)
            count = p1 - p0 + 1
            ep = np.repeat(np.arange(start.size), count)
            k = np.arange(ep.size) - np.repeat(np.cumsum(count) - count, count)
            p = p0[ep] + k
            rs = np.maximum(start[ep], _period_start(p, unit))
            re = np.minimum(end[ep], _period_start(p + 1, unit) - 1)
        keep = (re >= self.window_start) & (rs <= self.cutoff)
        if period != "unico":
            keep &= rs >= self.window_start
        return ep[keep], rs[keep], re[keep]

    def episode_years(self, ep: np.ndarray, rs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First and last year of the records of each episode, and whether it has any."""
        years = _year_of(rs)
        first = np.full(n, 10_000, dtype=np.int64)
        last = np.full(n, 0, dtype=np.int64)
        np.minimum.at(first, ep, years)
        np.maximum.at(last, ep, years)
        has = last > 0
        return np.where(has, first, self.cutoff_date.year), np.where(has, last, self.cutoff_date.year), has

    def emit(
        self,
        code: str,
        eps: dict[str, np.ndarray],
        fonte: str = FONTE_CARTELLA,
        *,
        keep: np.ndarray | None = None,
        person: np.ndarray | None = None,
        nucleo: np.ndarray | None = None,
        delay: np.ndarray | None = None,
        ore: np.ndarray | None = None,
        importo: np.ndarray | None = None,
        esito: np.ndarray | None = None,
    ) -> None:
        """Store the records of the episodes `eps` (see `episodes`).

        Per episode: `person` (instead of the episode's), `nucleo` (household
        number), `delay` (days from request to start, on the first record;
        < 0 = no request date). Per record: `keep` (mask), `ore`, `importo`, `esito`.
        """
        ep, rs, re, end = eps["ep"], eps["rs"], eps["re"], eps["end"]
        person = eps["person"] if person is None else person
        n = ep.size
        first = np.ones(n, dtype=bool)
        first[1:] = ep[1:] != ep[:-1]
        richiesta = np.full(n, NA, dtype=np.int64)
        if delay is not None:
            d = delay[ep]
            ok = first & (d >= 0)
            richiesta[ok] = rs[ok] - d[ok]
        if esito is None:
            final = re == end[ep]
            ongoing = end[ep] > self.cutoff
            closed = np.where(self.rng.random(n) < 0.9, CONCLUSO, INTERROTTO)
            esito = np.where(ongoing & (re >= self.cutoff), IN_CORSO, np.where(final & ~ongoing, closed, NO_ESITO))
        columns = {
            "code": np.full(n, self.codes_catalogue.index(code), dtype=np.int64),
            "fonte": np.full(n, fonte == FONTE_SIL, dtype=bool),
            "person": person[ep],
            "comune": eps["comune"][ep],
            "nucleo": np.full(n, -1, dtype=np.int64) if nucleo is None else nucleo[ep],
            "richiesta": richiesta,
            "inizio": rs,
            "fine": np.where(re > self.cutoff, NA, re),
            "ore": np.full(n, np.nan) if ore is None else np.asarray(ore, dtype=float),
            "importo": np.full(n, np.nan) if importo is None else np.asarray(importo, dtype=float),
            "esito": np.asarray(esito, dtype=np.int64),
        }
        if keep is not None:
            columns = {k: v[keep] for k, v in columns.items()}
        self.records.append(columns)

    def episodes(
        self,
        comune: np.ndarray,
        start: np.ndarray,
        months,
        period: str,
        age: tuple[int, int | None],
        person: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Episodes (comune, start, duration in months) split into records; new persons unless given.

        Per episode: comune, start, end, person, has (any record in the window);
        per record: ep (episode), rs, re (start and end of the record).
        """
        n = start.size
        duration = months(n) if callable(months) else np.broadcast_to(np.asarray(months, dtype=float), (n,))
        end = start + np.maximum(_months_to_days(duration), 1) - 1
        ep, rs, re = self.split(start, end, period)
        first, last, has = self.episode_years(ep, rs, n)
        if person is None:
            person = np.full(n, -1, dtype=np.int64)
            person[has] = self.fresh_people(comune[has], first[has], last[has], *age)
        return {
            "comune": comune,
            "start": start,
            "end": end,
            "person": person,
            "has": has,
            "ep": ep,
            "rs": rs,
            "re": re,
        }

    def individual(
        self, key: str, age: tuple[int, int | None], rate: float, months, period: str, boost: float = 0.1
    ) -> dict[str, np.ndarray]:
        """Episodes of persons drawn from the residents of the right age (`rate` per resident a year)."""
        comune, start = self.starts(self.eligible(*age), rate, key, boost)
        return self.episodes(comune, start, months, period, age)

    # --- hours and amounts ------------------------------------------------------------

    def monthly_hours(self, eps: dict[str, np.ndarray], lo: float, hi: float) -> np.ndarray:
        """Hours in each monthly record: the episode's intensity, pro rata for partial months."""
        ep, rs, re = eps["ep"], eps["rs"], eps["re"]
        intensity = self.rng.uniform(lo, hi, eps["start"].size)[ep]
        month = _period_index(rs, "M")
        month_days = _period_start(month + 1, "M") - _period_start(month, "M")
        hours = intensity * (re - rs + 1) / month_days * self.rng.uniform(0.85, 1.15, ep.size)
        return np.clip(np.round(hours * 2) / 2, lo, hi)

    def hours(self, eps: dict[str, np.ndarray], lo: float, hi: float) -> np.ndarray:
        return np.round(self.rng.uniform(lo, hi, eps["ep"].size) * 2) / 2

    def amounts(self, n: int, median: float, sigma: float, lo: float, hi: float) -> np.ndarray:
        return np.round(np.clip(self.rng.lognormal(np.log(median), sigma, n), lo, hi), 2)

    def pro_rata(self, eps: dict[str, np.ndarray], monthly: np.ndarray | float) -> np.ndarray:
        """An amount per month, for the days of each record."""
        return np.round(monthly * (eps["re"] - eps["rs"] + 1) / 30.44, 2)

    def geometric_months(self, mean: float, cap: float):
        return lambda n: np.clip(self.rng.geometric(1.0 / mean, n), 1, cap).astype(float)

    def uniform_months(self, lo: float, hi: float):
        return lambda n: self.rng.uniform(lo, hi, n)

    def request_delay(self, n: int, lo: int, hi: int, share: float) -> np.ndarray:
        return np.where(self.rng.random(n) < share, self.rng.integers(lo, hi + 1, n), -1)

    # --- households -------------------------------------------------------------------

    def households(self) -> _Households:
        """A pool of fragile households (scaled): head 25-64, partner, children, same comune."""
        rng = self.rng
        n_c = rng.poisson(0.04 * self.eligible(25, 64) * self.scale)
        comune = np.repeat(np.arange(self.n_comuni), n_c)
        n = comune.size
        head_age, head_f = self.ages(comune, np.full(n, 25), np.full(n, 64))
        has_partner = rng.random(n) < 0.55
        partner_age = np.clip(head_age + np.rint(rng.normal(0, 3, n)).astype(np.int64), 20, 80)
        kids_n = rng.choice(4, size=n, p=[0.35, 0.25, 0.28, 0.12])
        kids_n = np.where(head_age >= 19, kids_n, 0)
        order = np.lexsort((kids_n == 0, comune))
        comune, head_age, head_f = comune[order], head_age[order], head_f[order]
        has_partner, partner_age, kids_n = has_partner[order], partner_age[order], kids_n[order]
        y = self.pop_year
        head = self.people.add(comune, head_f, y - head_age)
        partner = np.full(n, -1, dtype=np.int64)
        partner[has_partner] = self.people.add(comune[has_partner], ~head_f[has_partner], y - partner_age[has_partner])
        kid_h = np.repeat(np.arange(n), kids_n)
        kid_age = np.floor(rng.random(kid_h.size) * (np.minimum(17, head_age[kid_h] - 18) + 1)).astype(np.int64)
        kids = self.people.add(comune[kid_h], rng.random(kid_h.size) < 0.49, y - kid_age)
        return _Households(
            head=head,
            partner=partner,
            code=rng.permutation(n) + 1,
            kid_start=np.cumsum(kids_n) - kids_n,
            kid_count=kids_n,
            kids=kids,
            block_start=np.searchsorted(comune, np.arange(self.n_comuni)),
            block_size=n_c,
            block_with_kids=np.bincount(comune[kids_n > 0], minlength=self.n_comuni),
        )

    def pick_households(self, hh: _Households, comune: np.ndarray, with_kids: bool) -> np.ndarray:
        """A household of the comune's pool (only those with children if asked); -1 where there is none."""
        size = (hh.block_with_kids if with_kids else hh.block_size)[comune]
        h = hh.block_start[comune] + np.floor(self.rng.random(comune.size) * size).astype(np.int64)
        return np.where(size > 0, h, -1)

    def household_service(
        self,
        hh: _Households,
        code: str,
        rate: float,
        months,
        period: str = "unico",
        with_kids: bool = False,
        boost: float = 0.1,
        partner_share: float = 0.0,
        delay=None,
        importo: tuple[float, float, float, float] | None = None,
        hours: tuple[float, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """Episodes of households of the pool (`rate` per household a year): a record for the head or
        the partner and, with `partner_share`, one more for the other one (same household, same dates).

        `delay`: (lo, hi, share) of a uniform request delay, or a function (comune, start) -> days.
        """
        weights = (hh.block_with_kids if with_kids else hh.block_size).astype(float)
        comune, start = self.starts(weights, rate, code, boost, scaled=False)
        h = self.pick_households(hh, comune, with_kids)
        partner = hh.partner[h]
        use_partner = (partner >= 0) & (self.rng.random(h.size) < 0.3)
        person = np.where(use_partner, partner, hh.head[h])
        eps = self.episodes(comune, start, months, period, (18, None), person=person)
        eps["household"] = h
        if callable(delay):
            delays = delay(comune, start)
        else:
            delays = None if delay is None else self.request_delay(start.size, *delay)
        amount = None if importo is None else self.amounts(eps["ep"].size, *importo)
        ore = None if hours is None else self.hours(eps, *hours)
        nucleo = hh.code[h]
        self.emit(code, eps, nucleo=nucleo, delay=delays, ore=ore, importo=amount)
        if partner_share:
            other = np.where(use_partner, hh.head[h], partner)
            both = (partner >= 0) & (self.rng.random(start.size) < partner_share)
            self.emit(code, eps, keep=both[eps["ep"]], person=other, nucleo=nucleo, ore=ore, importo=amount)
        return eps

    # --- the areas --------------------------------------------------------------------

    def anziani(self) -> None:
        rng = self.rng
        elderly = (65, None)
        sad = self.individual("SAD", elderly, 0.0085, self.geometric_months(14, 60), "mese", boost=0.45)
        n_sad = sad["start"].size
        self.emit("SAD", sad, ore=self.monthly_hours(sad, 4, 40), delay=self.request_delay(n_sad, 5, 60, 0.8))

        # Meals at home (monthly, with the amount): a third to SAD users, the others to other elderly.
        take = sad["has"] & (rng.random(n_sad) < 0.35)
        start = sad["start"][take] + rng.integers(0, 90, take.sum())
        months = self.geometric_months(10, 48)
        derived = self.episodes(sad["comune"][take], start, months, "mese", elderly, person=sad["person"][take])
        own = self.individual("PASTI_DOMICILIO", elderly, 0.005, months, "mese")
        for eps in (derived, own):
            meals = np.rint(rng.uniform(0.6, 1.0, eps["ep"].size) * (eps["re"] - eps["rs"] + 1))
            self.emit("PASTI_DOMICILIO", eps, importo=np.round(meals * 6.8, 2))

        # Telesoccorso: yearly records of long episodes; a fifth to SAD users.
        take = sad["has"] & (rng.random(n_sad) < 0.2)
        start = sad["start"][take] + rng.integers(0, 120, take.sum())
        months = self.geometric_months(30, 96)
        derived = self.episodes(sad["comune"][take], start, months, "anno", elderly, person=sad["person"][take])
        self.emit("TELESOCCORSO", derived)
        self.emit("TELESOCCORSO", self.individual("TELESOCCORSO", elderly, 0.007, months, "anno"))

        # FNA misura B2: mostly 75+, yearly records with the amount of the monthly buono.
        for age, rate in (((75, None), 0.0075), ((18, 74), 0.0004)):
            b2 = self.individual("B2_FNA", age, rate, self.uniform_months(12, 36), "anno")
            monthly = rng.choice([200.0, 300.0, 400.0, 500.0], b2["start"].size)[b2["ep"]]
            delay = self.request_delay(b2["start"].size, 10, 90, 0.9)
            self.emit("B2_FNA", b2, importo=self.pro_rata(b2, monthly), delay=delay)

        dp = self.individual("DIMISSIONI_PROTETTE", elderly, 0.009, self.uniform_months(0.5, 2), "unico")
        self.emit("DIMISSIONI_PROTETTE", dp, ore=self.hours(dp, 6, 30))

    def giovani(self) -> None:
        minors = (0, 17)
        adm = self.individual("ADM", minors, 0.003, self.geometric_months(12, 36), "mese", boost=0.35)
        self.emit("ADM", adm, ore=self.monthly_hours(adm, 4, 30))
        self.emit(
            "TUTELA_MINORI", self.individual("TUTELA_MINORI", minors, 0.006, self.geometric_months(30, 120), "anno")
        )

        # CAG: one record per school year, to the end of June.
        comune, start = self.starts(self.eligible(11, 18), 0.045, "CAG", 0.2)
        june = _year_of(start) + (_period_index(start, "M") % 12 >= 6)
        end = _period_start(june - 1970, "Y") + 180  # 30 June (181st day; 182nd in leap years)
        end += (june % 4 == 0) & ((june % 100 != 0) | (june % 400 == 0))
        self.emit("CAG", self.episodes(comune, start, (end - start + 1) / 30.44, "unico", (11, 18)))

        og = self.individual("ORIENTAMENTO_GIOVANI", (15, 29), 0.03, self.uniform_months(0.2, 3), "unico")
        self.emit("ORIENTAMENTO_GIOVANI", og, ore=self.hours(og, 2, 12))

    def poverta(self, hh: _Households) -> None:
        rng = self.rng

        def adi_delay(comune: np.ndarray, start: np.ndarray) -> np.ndarray:
            """Days from request to first meeting: shorter over the years, more so in the pilots."""
            sa = self.sa_of[comune]
            years = (start - _days(TREND_ORIGIN)) / 365.25
            median = 95.0 * 0.93 ** np.maximum(years, 0) * (1 - 0.5 * self.progress(sa, start))
            median *= self.sa_factor("ADI_ATTESA", 0.15)[sa]
            delay = np.maximum(np.rint(rng.lognormal(np.log(median), 0.6)), 1).astype(np.int64)
            return np.where(rng.random(start.size) < 0.05, -1, delay)

        val = self.household_service(
            hh, "ADI_VALUTAZIONE", 0.2, self.uniform_months(0, 0.7), boost=0.15, delay=adi_delay
        )

        # Patto per l'inclusione after the valutazione for most households (more in the pilots).
        sa = self.sa_of[val["comune"]]
        p_patto = 0.62 + 0.18 * self.progress(sa, val["start"])
        take = val["has"] & (rng.random(sa.size) < p_patto)
        start = val["end"][take] + rng.integers(7, 60, take.sum())
        comune, person = val["comune"][take], val["person"][take]
        patto = self.episodes(comune, start, self.uniform_months(6, 18), "unico", (18, None), person=person)
        self.emit("ADI_PATTO", patto, nucleo=hh.code[val["household"][take]])

        contributo = (450.0, 0.6, 100.0, 3000.0)
        self.household_service(hh, "CONTRIBUTO_ECONOMICO", 0.7, 0.0, delay=(5, 60, 0.7), importo=contributo)
        self.emit(
            "PRONTO_INTERVENTO",
            self.individual("PRONTO_INTERVENTO", (18, 90), 0.0015, self.uniform_months(0.03, 0.35), "unico"),
        )

    def casa(self, hh: _Households) -> None:
        self.household_service(
            hh, "MOROSITA_INCOLPEVOLE", 0.025, 0.0, delay=(20, 120, 0.85), importo=(4500.0, 0.45, 1000.0, 12000.0)
        )
        self.household_service(
            hh, "SOSTEGNO_AFFITTO", 0.18, 0.0, delay=(15, 90, 0.8), importo=(1100.0, 0.4, 300.0, 2400.0)
        )
        self.household_service(
            hh, "EMERGENZA_ABITATIVA", 0.025, self.uniform_months(1, 12), importo=(2500.0, 0.5, 500.0, 6000.0)
        )

    def famiglia(self, hh: _Households) -> None:
        rng = self.rng
        self.household_service(
            hh,
            "CENTRO_FAMIGLIA",
            0.35,
            self.uniform_months(0.5, 6),
            with_kids=True,
            boost=0.5,
            partner_share=0.6,
            hours=(2, 20),
        )
        self.household_service(
            hh,
            "MEDIAZIONE_FAMILIARE",
            0.05,
            self.uniform_months(1, 6),
            with_kids=True,
            partner_share=0.9,
            hours=(4, 16),
        )
        self.household_service(
            hh, "SOSTEGNO_GENITORIALITA", 0.15, self.uniform_months(2, 9), with_kids=True, boost=0.3, hours=(6, 40)
        )

        # Affido familiare: a child of the household, a minor in every year of the records.
        comune, start = self.starts(hh.block_with_kids.astype(float), 0.012, "AFFIDO_FAMILIARE", scaled=False)
        h = self.pick_households(hh, comune, with_kids=True)
        kid = hh.kids[hh.kid_start[h] + np.floor(rng.random(h.size) * hh.kid_count[h]).astype(np.int64)]
        aff = self.episodes(comune, start, self.geometric_months(36, 120), "anno", (0, 17), person=kid)
        first, last, has = self.episode_years(aff["ep"], aff["rs"], start.size)
        born = self.people.arrays()[2][kid]
        ok = has & (first - born >= 0) & (last - born <= 17)
        self.emit("AFFIDO_FAMILIARE", aff, keep=ok[aff["ep"]], nucleo=hh.code[h], importo=self.pro_rata(aff, 400.0))

    def lavoro(self, hh: _Households) -> None:
        rng = self.rng
        # Tirocini: ~6 months; a third to heads of fragile households; hired at the end for 25-35%.
        comune, start = self.starts(self.eligible(18, 64), 0.003, "TIROCINIO", 0.2)
        tir = self.episodes(comune, start, lambda k: np.clip(rng.normal(6, 1.2, k), 3, 12), "unico", (18, 64))
        h = self.pick_households(hh, comune, with_kids=False)
        head = np.where(h >= 0, hh.head[np.maximum(h, 0)] if hh.head.size else -1, -1)
        age = _year_of(start) - self.people.arrays()[2][np.maximum(head, 0)]
        reuse = (head >= 0) & (age >= 18) & (age <= 64) & (rng.random(start.size) < 0.33)
        ep, re, end = tir["ep"], tir["re"], tir["end"]
        p_hired = 0.25 + 0.09 * self.progress(self.sa_of[comune[ep]], re)
        u = rng.random(ep.size)
        esito = np.where(u < p_hired, ASSUNZIONE, np.where(u < p_hired + 0.45, CONCLUSO, INTERROTTO))
        esito = np.where(end[ep] > self.cutoff, IN_CORSO, esito)
        importo = np.where(esito == IN_CORSO, np.nan, self.pro_rata(tir, 450.0))
        person = np.where(reuse, head, tir["person"])
        self.emit("TIROCINIO", tir, FONTE_SIL, person=person, importo=importo, esito=esito)

        sil = self.individual("SIL", (18, 64), 0.005, self.uniform_months(6, 24), "unico")
        u = rng.random(sil["ep"].size)
        esito = np.where(u < 0.22, ASSUNZIONE, np.where(u < 0.8, CONCLUSO, INTERROTTO))
        esito = np.where(sil["end"][sil["ep"]] > self.cutoff, IN_CORSO, esito)
        delay = self.request_delay(sil["start"].size, 5, 45, 0.6)
        self.emit("SIL_PRESA_IN_CARICO", sil, FONTE_SIL, esito=esito, delay=delay)

        ol = self.individual("ORIENTAMENTO_LAVORO", (16, 64), 0.007, self.uniform_months(0.5, 3), "unico")
        self.emit("ORIENTAMENTO_LAVORO", ol, FONTE_SIL, ore=self.hours(ol, 2, 20))

    # --- persons and rows -------------------------------------------------------------

    def person_codes(self) -> pl.Series:
        """The codice fiscale of every person (index = person id)."""
        rng = self.rng
        comune, female, birth_year = self.people.arrays()
        n = comune.size
        jan1 = _period_start(birth_year - 1970, "Y")
        length = _period_start(birth_year - 1970 + 1, "Y") - jan1
        birth = jan1 + np.floor(rng.random(n) * length).astype(np.int64)
        u = rng.random(n)
        other = rng.integers(0, self.n_comuni, n)
        foreign = np.array(FOREIGN_BELFIORE, dtype="S4").view(np.uint8).reshape(-1, 4)
        place = np.where((u < 0.8)[:, None], self.belfiore[comune], self.belfiore[other])
        abroad = (u >= 0.92) & (birth_year < 2015)
        place[abroad] = foreign[rng.integers(0, len(FOREIGN_BELFIORE), abroad.sum())]
        return _codici_fiscali(rng, birth, female, place)

    def prestazioni(self) -> pl.DataFrame:
        """All records, sorted, with ids, persons' codes and the comune as written in the files."""
        cols = {k: np.concatenate([r[k] for r in self.records]) for k in self.records[0]}
        df = pl.DataFrame(cols).filter(pl.col("person") >= 0)
        df = df.sort(["fonte", "inizio", "code", "person", "fine"], maintain_order=True)

        def as_date(col: str) -> pl.Expr:
            return pl.when(pl.col(col) == NA).then(None).otherwise(pl.col(col)).cast(pl.Int32).cast(pl.Date).alias(col)

        year = pl.col("inizio").dt.year().cast(pl.String)
        seq = pl.int_range(1, pl.len() + 1).over("fonte", pl.col("inizio").dt.year()).cast(pl.String)
        # How the comune is written: ISTAT code mostly, sometimes without the leading zero, by name, in capitals.
        variant = np.searchsorted([0.82, 0.85, 0.95], self.rng.random(df.height), side="right")
        spellings = [
            v
            for code, name in zip(self.codes, self.names, strict=True)
            for v in (code, code.lstrip("0"), name, name.upper())
        ]
        written = pl.Series(spellings, dtype=pl.String).gather(df["comune"].to_numpy() * 4 + variant)
        df = df.with_columns(as_date("richiesta"), as_date("inizio"), as_date("fine"))
        return df.with_columns(
            pl.when(pl.col("fonte"))
            .then(pl.format("SIL-{}-{}", year, seq.str.zfill(5)))
            .otherwise(pl.format("CS{}-{}", year, seq.str.zfill(6)))
            .alias("id_prestazione"),
            pl.col("code")
            .replace_strict(dict(enumerate(self.codes_catalogue)), return_dtype=pl.String)
            .alias("intervento"),
            pl.when(pl.col("nucleo") >= 0)
            .then(pl.format("NU{}", pl.col("nucleo").cast(pl.String).str.zfill(7)))
            .alias("id_nucleo"),
            pl.col("esito").replace_strict({-1: None, **dict(enumerate(ESITI))}, return_dtype=pl.String),
            pl.col("ore").fill_nan(None),
            pl.col("importo").fill_nan(None),
            self.person_codes().gather(df["person"].to_numpy()).alias("codice_fiscale"),
            written.alias("comune_residenza"),
        )

    # --- deliberate mistakes ----------------------------------------------------------

    def spoil(self, df: pl.DataFrame, file: str, dates: str) -> tuple[pl.DataFrame, list[dict]]:
        """Turn ~0.5% of the rows into rows the loader must reject; say which and why.

        One mistake per row; the rows are chosen at random, each kind at least once.
        """
        rng = self.rng
        n = df.height
        kinds = list(BAD_ROW_KINDS)
        n_bad = min(max(len(kinds), int(round(BAD_ROW_SHARE * n))), n // 3)
        kind_of = np.array(kinds)[rng.permutation(n_bad) % len(kinds)]
        used = np.zeros(n, dtype=bool)
        start = df["_inizio"].cast(pl.Int32).to_numpy().astype(np.int64)
        month = _period_index(start, "M") % 12 + 1
        year = _year_of(start)
        has_ore = df["ore"].is_not_null().to_numpy()
        has_value = has_ore | df["importo_euro"].is_not_null().to_numpy()
        eligible = {"valore_negativo": has_value, "data_impossibile": np.isin(month, [2, 4, 6, 9, 11])}
        outside = territory.italy_municipalities().filter(~pl.col("comune").is_in(self.codes.tolist()))["comune"]
        ids = df["id_prestazione"]
        changes: dict[str, tuple[list[int], list]] = {}
        listed: list[dict] = []

        def change(column: str, rows: np.ndarray, values: list) -> None:
            r, v = changes.setdefault(column, ([], []))
            r.extend(int(x) for x in rows)
            v.extend(values)

        def note(rows: np.ndarray, kind: str, column: str | list[str], **extra: list) -> None:
            columns = [column] * rows.size if isinstance(column, str) else column
            for i, (row, row_id) in enumerate(zip(rows, ids.gather(rows).to_list(), strict=True)):
                entry = {"file": file, "riga": int(row) + 2, "tipo": kind, "campo": columns[i]}
                entry["id_prestazione"] = row_id
                entry.update({k: v[i] for k, v in extra.items()})
                listed.append(entry)

        def dates_text(days: np.ndarray) -> list[str]:
            return pl.Series(days.astype(np.int32)).cast(pl.Date).dt.strftime(dates).to_list()

        for kind in kinds:
            k = int((kind_of == kind).sum())
            if kind == "id_duplicato":
                pairs = np.sort(rng.choice(np.flatnonzero(~used), size=2 * k, replace=False).reshape(k, 2), axis=1)
                used[pairs.ravel()] = True
                original, rows = pairs[:, 0], pairs[:, 1]
                change("id_prestazione", rows, ids.gather(original).to_list())
                note(rows, kind, "id_prestazione", riga_originale=[int(r) + 2 for r in original])
                continue
            pool = np.flatnonzero(~used & eligible.get(kind, True))
            rows = np.sort(rng.choice(pool, size=min(k, pool.size), replace=False))
            used[rows] = True
            j = np.arange(rows.size)
            if kind == "cf_carattere_controllo":
                cfs = df["codice_fiscale"].gather(rows).to_list()
                shift = rng.integers(1, 26, rows.size)
                change(
                    "codice_fiscale",
                    rows,
                    [
                        cf[:15] + chr(ord("A") + (ord(cf[15]) - ord("A") + int(d)) % 26)
                        for cf, d in zip(cfs, shift, strict=True)
                    ],
                )
                note(rows, kind, "codice_fiscale")
            elif kind == "cf_formato":
                cfs = df["codice_fiscale"].gather(rows).to_list()
                variants = [(cf[:15], cf[:6] + "O" + cf[7:], cf[:8] + "F" + cf[9:]) for cf in cfs]
                change("codice_fiscale", rows, [v[i % 3] for i, v in enumerate(variants)])
                labels = ["15 caratteri", "lettera O al posto di una cifra", "lettera del mese inesistente"]
                note(rows, kind, "codice_fiscale", dettaglio=[labels[i % 3] for i in j])
            elif kind == "comune_fuori_ambito":
                values = outside.gather(rng.integers(0, outside.len(), rows.size)).to_list()
                change("comune_residenza", rows, values)
                note(rows, kind, "comune_residenza", valore=values)
            elif kind == "intervento_sconosciuto":
                values = [UNKNOWN_INTERVENTI[i % len(UNKNOWN_INTERVENTI)] for i in j]
                change("intervento", rows, values)
                note(rows, kind, "intervento", valore=values)
            elif kind == "data_fine_prima_inizio":
                change("data_fine", rows, dates_text(start[rows] - rng.integers(1, 60, rows.size)))
                note(rows, kind, "data_fine")
            elif kind == "data_richiesta_dopo_inizio":
                change("data_richiesta", rows, dates_text(start[rows] + rng.integers(1, 30, rows.size)))
                note(rows, kind, "data_richiesta")
            elif kind == "valore_negativo":
                for column, mask in (("ore", has_ore[rows]), ("importo_euro", ~has_ore[rows])):
                    values = df[column].gather(rows[mask])
                    negative = (-values if values.dtype == pl.Float64 else "-" + values).to_list()
                    change(column, rows[mask], negative)
                note(rows, kind, ["ore" if m else "importo_euro" for m in has_ore[rows]])
            elif kind == "data_impossibile":
                y, m = year[rows], month[rows]
                leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
                day = np.where(m == 2, np.where(leap, 30, 29 + rng.integers(0, 2, rows.size)), 31)
                if dates.startswith("%d"):
                    values = [f"{d:02d}/{mm:02d}/{yy}" for d, mm, yy in zip(day, m, y, strict=True)]
                else:
                    values = [f"{yy}-{mm:02d}-{d:02d}" for d, mm, yy in zip(day, m, y, strict=True)]
                change("data_inizio", rows, values)
                note(rows, kind, "data_inizio", valore=values)
            elif kind == "valore_mancante":
                columns = [("codice_fiscale", "comune_residenza", "intervento", "data_inizio")[i % 4] for i in j]
                for column in set(columns):
                    sel = rows[[c == column for c in columns]]
                    change(column, sel, [None] * sel.size)
                note(rows, kind, columns)
        for column, (rows, values) in sorted(changes.items()):
            df = df.with_columns(df[column].scatter(rows, pl.Series(values, dtype=df.schema[column])))
        listed.sort(key=lambda r: r["riga"])
        return df, listed

    # --- files ------------------------------------------------------------------------

    def text_columns(self, df: pl.DataFrame, dates: str, italian: bool) -> pl.DataFrame:
        """The contract columns as they are written: dates as text, Italian decimals in the CSV."""

        def number(col: str, name: str) -> pl.Expr:
            value = pl.col(col).round(2)
            if italian:
                value = value.cast(pl.String).str.replace(r"\.0$", "").str.replace(".", ",", literal=True)
            return value.alias(name)

        return df.select(
            "id_prestazione",
            "codice_fiscale",
            "comune_residenza",
            "intervento",
            pl.col("richiesta").dt.strftime(dates).alias("data_richiesta"),
            pl.col("inizio").dt.strftime(dates).alias("data_inizio"),
            pl.col("fine").dt.strftime(dates).alias("data_fine"),
            number("ore", "ore"),
            number("importo", "importo_euro"),
            "esito",
            "id_nucleo",
            pl.col("inizio").alias("_inizio"),
        )

    def write_cartella(self, df: pl.DataFrame, path: Path) -> list[dict]:
        text = self.text_columns(df, "%d/%m/%Y", italian=True)
        text, bad = self.spoil(text, path.name, "%d/%m/%Y")
        text.drop("_inizio").rename(CARTELLA_HEADERS).write_csv(path, separator=";", line_terminator="\n")
        return bad

    def write_sil(self, df: pl.DataFrame, path: Path) -> list[dict]:
        import xlsxwriter

        text = self.text_columns(df, "%Y-%m-%d", italian=False)
        text, bad = self.spoil(text, path.name, "%Y-%m-%d")
        text = text.drop("_inizio").with_columns(pl.lit(FONTE_SIL).alias("fonte")).select(SIL_COLUMNS)
        wb = xlsxwriter.Workbook(
            str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
        )
        wb.set_properties(
            {
                "title": "Prestazioni SIL - dati dimostrativi (sintetici)",
                "author": "pdz-monitor demo.generate",
                "comments": "Dati dimostrativi: nessun dato reale.",
                "created": datetime.combine(self.cutoff_date, datetime.min.time()),
            }
        )
        ws = wb.add_worksheet("prestazioni")
        ws.write_row(0, 0, SIL_COLUMNS)
        for j, col in enumerate(SIL_COLUMNS):
            ws.write_column(1, j, text[col].to_list())  # null -> empty cell
        ws.set_column(0, len(SIL_COLUMNS) - 1, 16)
        wb.close()
        return bad

    def operatori(self) -> pl.DataFrame:
        """Équipes per sub-ambito; social workers sized on a residents-per-FTE ratio around 5,000."""
        rng = self.struct_rng
        residents = np.bincount(self.sa_of, weights=self.pop.sum(axis=1), minlength=len(self.sa_codes))
        rows: list[tuple] = []
        others = [i for i in rng.permutation(len(self.sa_codes)) if not self.sa_pilot[i]]
        low = set(others[: (len(others) + 1) // 2])
        cutoff = self.cutoff_date

        def day_between(first: date, last: date) -> date:
            start = _days(first)
            stop = max(start, min(_days(last), self.cutoff))  # never after the cutoff if possible
            return np.datetime64(int(rng.integers(start, stop + 1)), "D").astype(date)

        def day_in(y0: int, y1: int) -> date:
            return day_between(date(y0, 1, 1), date(y1, 12, 31))

        def staff(sa: int, profilo: str, fte_total: float, contratto: str, y0: int, y1: int, end=None) -> float:
            done = 0.0
            while done < fte_total - 0.05:
                fte = float(rng.choice([1.0, 1.0, 1.0, 0.8, 0.5]))
                fte = min(fte, max(0.5, round(fte_total - done, 1)))
                rows.append((profilo, self.sa_codes[sa], fte, contratto, day_in(y0, y1), end))
                done += fte
            return done

        for sa in range(len(self.sa_codes)):
            res = residents[sa]
            if self.sa_pilot[sa]:
                before, after = rng.uniform(5300, 6300), rng.uniform(3600, 4400)
            else:
                before = after = rng.uniform(4000, 4700) if sa in low else rng.uniform(5500, 7000)
            turnover = not self.sa_pilot[sa]
            staff(sa, "ASSISTENTE_SOCIALE", res / before - (1.0 if turnover else 0.0), "INDETERMINATO", 2006, 2022)
            if self.sa_pilot[sa]:
                extra = res / after - res / before
                pilot_year = int(_year_of(np.array([self.sa_start[sa]]))[0])
                y_first = max(2025, min(pilot_year, cutoff.year))
                staff(sa, "ASSISTENTE_SOCIALE", extra / 2, "INDETERMINATO", 2025, y_first)
                staff(sa, "ASSISTENTE_SOCIALE", extra / 2, "INDETERMINATO", min(2026, cutoff.year), cutoff.year)
            else:
                # Turnover: someone leaves in the first half of 2025, the replacement arrives 1-4 months later.
                left = day_between(date(2025, 1, 1), date(2025, 6, 30))
                back = left + np.timedelta64(int(rng.integers(30, 120)), "D").astype(object)
                rows.append(("ASSISTENTE_SOCIALE", self.sa_codes[sa], 1.0, "INDETERMINATO", day_in(2008, 2015), left))
                rows.append(("ASSISTENTE_SOCIALE", self.sa_codes[sa], 1.0, "INDETERMINATO", min(back, cutoff), None))
            staff(
                sa,
                "ASSISTENTE_SOCIALE",
                float(rng.choice([0.5, 1.0])),
                "DETERMINATO",
                2023,
                2026,
                end=None if rng.random() < 0.5 else date(2026, 12, 31),
            )
            staff(sa, "EDUCATORE", max(1.0, res / 9000), "INDETERMINATO", 2010, 2023)
            staff(sa, "EDUCATORE", 0.5, "DETERMINATO", 2024, 2026)
            staff(
                sa,
                "PSICOLOGO",
                float(rng.choice([0.5, 1.0])),
                "ALTRO" if rng.random() < 0.3 else "DETERMINATO",
                2022,
                2025,
            )
            staff(sa, "AMMINISTRATIVO", max(1.0, res / 20000), "INDETERMINATO", 2005, 2020)
        df = pl.DataFrame(
            rows,
            schema={
                "profilo": pl.String,
                "sub_ambito": pl.String,
                "fte": pl.Float64,
                "contratto": pl.String,
                "data_inizio": pl.Date,
                "data_fine": pl.Date,
            },
            orient="row",
        )
        df = df.with_columns(
            pl.when(pl.col("data_fine") < pl.col("data_inizio"))
            .then(None)
            .otherwise(pl.col("data_fine"))
            .alias("data_fine")
        )
        df = df.sort("sub_ambito", "profilo", "data_inizio", "contratto", maintain_order=True)
        return df.with_columns(
            pl.format("OP{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(3)).alias("id_operatore")
        ).select("id_operatore", "profilo", "sub_ambito", "fte", "contratto", "data_inizio", "data_fine")

    def sedi(self) -> pl.DataFrame:
        """One hub in the capofila, 2-4 spokes per sub-ambito in its larger comuni."""
        import shapely

        rng = self.struct_rng
        info = settings.ambito_info()
        residents = self.pop.sum(axis=1)
        keys = [comune_key(n) for n in self.names]
        capofila = str(info.get("capofila", ""))
        hub = keys.index(comune_key(capofila)) if comune_key(capofila) in keys else int(np.argmax(residents))
        geo = territory.geometries(self.codes.tolist())
        used: dict[int, int] = {}

        def point(c: int) -> tuple[float, float]:
            shape = geo.geometry.loc[self.codes[c]]
            rep = shape.representative_point()
            used[c] = used.get(c, 0) + 1
            if used[c] == 1:
                return rep.y, rep.x
            minx, miny, maxx, maxy = shape.bounds
            xs = rep.x + rng.uniform(-0.25, 0.25, 200) * (maxx - minx)
            ys = rep.y + rng.uniform(-0.25, 0.25, 200) * (maxy - miny)
            inside = np.flatnonzero(shapely.contains_xy(shape, xs, ys))
            return (ys[inside[0]], xs[inside[0]]) if inside.size else (rep.y, rep.x)

        def address() -> str:
            return f"{STREETS[int(rng.integers(0, len(STREETS)))]} {int(rng.integers(1, 60))}"

        nome_breve = str(info.get("nome_breve", info.get("nome", "Ambito")))
        lat, lon = point(hub)
        rows = [
            (
                "HUB01",
                f"Hub {nome_breve} - {self.names[hub]}",
                "HUB",
                self.codes[hub],
                address(),
                lat,
                lon,
                self.sa_codes[self.sa_of[hub]],
            )
        ]
        k = 0
        for sa in range(len(self.sa_codes)):
            members = np.flatnonzero(self.sa_of == sa)
            members = members[np.argsort(-residents[members], kind="stable")]
            for c in members[: min(int(rng.integers(2, 5)), members.size)]:
                k += 1
                lat, lon = point(int(c))
                rows.append(
                    (
                        f"SP{k:02d}",
                        f"Sportello sociale di {self.names[c]}",
                        "SPOKE",
                        self.codes[c],
                        address(),
                        lat,
                        lon,
                        self.sa_codes[sa],
                    )
                )
        return pl.DataFrame(
            rows,
            schema=["id_sede", "nome", "tipo", "comune", "indirizzo", "lat", "lon", "sub_ambito"],
            orient="row",
        ).with_columns(pl.col("lat").round(6), pl.col("lon").round(6))

    # --- contacts at the access points ---------------------------------------------------

    def accessi(self, records: pl.DataFrame, sedi: pl.DataFrame) -> pl.DataFrame:
        """Contacts at the hub and spokes from ACCESS_START to the cutoff, in the contract's columns.

        New users (first record after the start of the register): a contact 0-3 months before the
        first intervention (shorter in pilot sub-ambiti as the model takes hold), with the codice
        fiscale. Everyone else: information and referral contacts drawn from the adult residents.
        The sede: the spoke in the comune or the nearest spoke of the sub-ambito, or the hub, which
        pilot sub-ambiti use less and less.
        """
        rng = self.access_rng
        start = _days(ACCESS_START)
        firsts = (
            records.group_by("person")
            .agg(pl.col("inizio").min(), pl.col("comune").first(), pl.col("codice_fiscale").first())
            .sort("person")
        )
        first_day = firsts["inizio"].cast(pl.Int32).to_numpy().astype(np.int64)
        person_comune = firsts["comune"].to_numpy().astype(np.int64)
        new = (first_day >= start + 90) & (rng.random(firsts.height) < ACCESS_LINKED_SHARE)
        sa = self.sa_of[person_comune[new]]
        mean = 40.0 - 25.0 * self.progress(sa, first_day[new])
        delay = np.rint(rng.gamma(1.5, mean / 1.5)).astype(np.int64)
        linked_day = first_day[new] - delay
        keep = linked_day >= start
        linked = {
            "comune": person_comune[new][keep],
            "day": linked_day[keep],
            "esito": np.full(int(keep.sum()), 2, dtype=np.int64),
            "cf": firsts["codice_fiscale"].filter(pl.Series(new)).filter(pl.Series(keep)),
        }
        # information and referral contacts
        m0, m1 = _period_index(np.array([start, self.cutoff]), "M")
        months = np.arange(m0, m1 + 1)
        first = _period_start(months, "M")
        length = _period_start(months + 1, "M") - first
        usable = np.minimum(length, self.cutoff - first + 1)
        adults = self.eligible(18, None)
        lam = (
            ACCESS_RATE
            / 12
            * adults[:, None]
            * (1 + 0.3 * self.progress(self.sa_of[:, None], first[None, :] + 14))
            * (usable / length)[None, :]
            * self.scale
        )
        counts = rng.poisson(lam).ravel()
        cell = np.repeat(np.arange(counts.size), counts)
        comune, month = cell // months.size, cell % months.size
        day = first[month] + np.floor(rng.random(cell.size) * usable[month]).astype(np.int64)
        esito = np.where(rng.random(cell.size) < 0.6, 0, 1)
        with_cf = rng.random(cell.size) < ACCESS_CF_SHARE
        cf = pl.Series([None] * cell.size, dtype=pl.String)
        if with_cf.any():
            cf = cf.scatter(np.flatnonzero(with_cf), self._adult_codes(rng, comune[with_cf], day[with_cf]))
        comune = np.concatenate([linked["comune"], comune])
        day = np.concatenate([linked["day"], day])
        esito = np.concatenate([linked["esito"], esito])
        cf = pl.concat([linked["cf"], cf])
        sede = self._contact_sede(rng, sedi, comune, day)
        df = pl.DataFrame(
            {
                "day": day,
                "sede": sede,
                "comune": self.codes[comune],
                "cf": cf,
                "esito": pl.Series(esito).replace_strict(
                    {0: "INFORMAZIONE", 1: "INVIO_SERVIZIO", 2: "PRESA_IN_CARICO"}, return_dtype=pl.String
                ),
            }
        ).sort("day", "comune", "esito", "cf", "sede", nulls_last=True, maintain_order=True)
        date_col = pl.col("day").cast(pl.Int32).cast(pl.Date)
        seq = pl.int_range(1, pl.len() + 1).over(date_col.dt.year()).cast(pl.String).str.zfill(6)
        return df.select(
            pl.format("AC{}-{}", date_col.dt.year().cast(pl.String), seq).alias("ID Accesso"),
            date_col.dt.strftime("%d/%m/%Y").alias("Data Accesso"),
            pl.col("sede").alias("Sede"),
            pl.col("comune").alias("Comune Residenza"),
            pl.col("cf").alias("Codice Fiscale"),
            pl.col("esito").alias("Esito"),
        )

    def _adult_codes(self, rng: np.random.Generator, comune: np.ndarray, day: np.ndarray) -> pl.Series:
        """Synthetic codici fiscali of adults drawn from each comune's residents (18+)."""
        base = comune * (MAX_AGE + 1)
        flat = self.pop.ravel()
        low, high = self.cum[base + 18] - flat[base + 18], self.cum[base + MAX_AGE]
        cell = np.clip(
            np.searchsorted(self.cum, low + rng.random(comune.size) * (high - low), side="right"),
            base + 18,
            base + MAX_AGE,
        )
        age = cell - base
        female = rng.random(comune.size) < self.female_share[comune, age]
        birth_year = np.maximum(_year_of(day) - age, OLDEST_BIRTH_YEAR)
        jan1 = _period_start(birth_year - 1970, "Y")
        birth = jan1 + np.floor(rng.random(comune.size) * 365).astype(np.int64)
        return _codici_fiscali(rng, birth, female, self.belfiore[comune])

    def _contact_sede(self, rng: np.random.Generator, sedi: pl.DataFrame, comune: np.ndarray, day: np.ndarray):
        """The sede of each contact: the hub with a probability that falls in pilot sub-ambiti, else the spoke
        of the comune or the nearest spoke of its sub-ambito (the hub when the sub-ambito has none)."""
        geo = territory.geometries(self.codes.tolist())
        points = geo.geometry.representative_point()
        lat = np.array([points.loc[c].y for c in self.codes])
        lon = np.array([points.loc[c].x for c in self.codes])
        hub = sedi.filter(pl.col("tipo") == "HUB")["id_sede"].to_list()
        hub_id = hub[0] if hub else None
        spokes = sedi.filter(pl.col("tipo") == "SPOKE")
        nearest = []
        for c in range(self.n_comuni):
            own = spokes.filter(pl.col("sub_ambito") == self.sa_codes[self.sa_of[c]])
            if own.height == 0:
                nearest.append(hub_id)
                continue
            d2 = (own["lat"].to_numpy() - lat[c]) ** 2 + ((own["lon"].to_numpy() - lon[c]) * 0.7) ** 2
            nearest.append(own["id_sede"][int(np.argmin(d2))])
        sa = self.sa_of[comune]
        p_hub = 0.35 * (1 - 0.7 * self.progress(sa, day))
        to_hub = (rng.random(comune.size) < p_hub) & (hub_id is not None)
        return np.where(to_hub, hub_id, np.array(nearest, dtype=object)[comune])


def generate_demo_files(out_dir: Path, seed: int = 42, scale: float = 1.0, cutoff: date = DEMO_CUTOFF) -> list[Path]:
    """Write synthetic contract-format files (prestazioni, operatori, sedi, accessi) into out_dir; return their paths.

    Dati dimostrativi: every person, household, amount and date is invented.
    Also writes `attesi_scarti.json` (not returned: it is not an input file),
    the rows deliberately malformed; see `expected_rejections`.
    """
    if scale <= 0:
        raise ValueError("scale deve essere positivo")
    if cutoff < WINDOW_START:
        raise ValueError(f"la data di estrazione deve essere successiva al {WINDOW_START.isoformat()}")
    out_dir = private_dir(out_dir)  # owner-only when created here, like every file written below
    gen = _Generator(seed, scale, cutoff)
    hh = gen.households()
    gen.anziani()
    gen.giovani()
    gen.poverta(hh)
    gen.casa(hh)
    gen.famiglia(hh)
    gen.lavoro(hh)
    records = gen.prestazioni()
    with private_umask():
        return _write_files(gen, records, out_dir, seed, scale, cutoff)


def _write_files(gen: _Generator, records: pl.DataFrame, out_dir: Path, seed: int, scale: float, cutoff: date):
    cartella = out_dir / PRESTAZIONI_CSV
    sil = out_dir / PRESTAZIONI_SIL
    bad = gen.write_cartella(records.filter(~pl.col("fonte")), cartella)
    bad += gen.write_sil(records.filter(pl.col("fonte")), sil)
    operatori = out_dir / OPERATORI_CSV
    gen.operatori().write_csv(operatori, line_terminator="\n")
    sedi = out_dir / SEDI_CSV
    sedi_rows = gen.sedi()
    sedi_rows.write_csv(sedi, line_terminator="\n")
    accessi = out_dir / ACCESSI_CSV
    gen.accessi(records, sedi_rows).write_csv(accessi, line_terminator="\n")
    expected = {
        "descrizione": "Dati dimostrativi: righe volutamente errate che il caricamento deve scartare.",
        "seed": seed,
        "scale": scale,
        "cutoff": cutoff.isoformat(),
        "riga": "numero di riga nel file, intestazione = 1",
        "tipi": BAD_ROW_KINDS,
        "scarti": bad,
    }
    (out_dir / EXPECTED_REJECTIONS_FILE).write_text(
        json.dumps(expected, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return [cartella, sil, operatori, sedi, accessi]


def expected_rejections(out_dir: Path) -> list[dict]:
    """The deliberately bad rows written by `generate_demo_files`: file, riga, tipo, campo, ..."""
    return json.loads((Path(out_dir) / EXPECTED_REJECTIONS_FILE).read_text(encoding="utf-8"))["scarti"]
