"""The indicator catalog: one YAML file per area in `indicators/catalog/`, parsed and checked.

Every entry declares what is counted (`misura`: a measure kind the engine
knows, with its parameters), how to read it (`unita`, `direzione`) and how it
may be published (`conteggio_persone`, `k_minimo`, `minori`). The format is
described in `indicators/README.md`; a test fails when an entry is incomplete.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core import settings

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
AREAS = ("poverta", "casa", "anziani", "giovani", "famiglia", "lavoro", "organizzazione")
LEVELS = ("comune", "sub_ambito", "ambito")
DIRECTIONS = ("alto", "basso")
EVENTS = ("attivo", "inizio", "fine")
COUNT_UNITS = ("persona", "nucleo")
PROFILES = ("ASSISTENTE_SOCIALE", "EDUCATORE", "PSICOLOGO", "AMMINISTRATIVO", "ALTRO")
CONTRACTS = ("INDETERMINATO", "DETERMINATO", "ALTRO")
SEDE_TYPES = ("HUB", "SPOKE")

# Measure kinds: required parameters, and which columns of the tidy table count
# persons/households (or records of persons) - the cells disclosure control checks -
# and whether denominatore - numeratore is a count of persons too (shares).
KINDS: dict[str, dict[str, Any]] = {
    "distinct_units_rate": {
        "params": {"interventi", "evento", "unita_conteggio", "moltiplicatore"},
        "optional": {"eta_min", "eta_max", "popolazione"},
        "counts": ("numeratore",),
        "complement": False,
    },
    "record_share": {
        "params": {"interventi", "evento", "moltiplicatore"},
        "optional": {"richiede_data_richiesta", "giorni_max", "esito"},
        "counts": ("numeratore", "denominatore"),
        "complement": True,
    },
    "units_ratio": {
        "params": {"numeratore", "denominatore", "unita_conteggio", "moltiplicatore"},
        "optional": set(),
        "counts": ("numeratore", "denominatore"),
        "complement": False,
    },
    "median_days": {
        "params": {"interventi", "evento"},
        "optional": set(),
        "counts": ("denominatore",),
        "complement": False,
    },
    "hours_per_user": {
        "params": {"interventi"},
        "optional": set(),
        "counts": ("denominatore",),
        "complement": False,
    },
    "staff_ratio": {
        "params": {"profili", "contratti"},
        "optional": set(),
        "counts": (),
        "complement": False,
    },
    "staff_fte_rate": {
        "params": {"profili", "contratti", "moltiplicatore"},
        "optional": set(),
        "counts": (),
        "complement": False,
    },
    "coverage_share": {
        "params": {"tipi_sede", "moltiplicatore"},
        "optional": set(),
        "counts": (),
        "complement": False,
    },
    "units_per_fte": {  # persons in care per FTE (distinct_units_rate.sql + staff_fte.sql)
        "params": {"profili", "contratti"},
        "optional": {"interventi"},
        "counts": ("numeratore",),
        "complement": False,
    },
    "contact_rate": {  # contacts at the access points per N residents (contacts.sql)
        "params": {"moltiplicatore"},
        "optional": set(),
        "counts": ("numeratore",),
        "complement": False,
    },
    "contact_share": {  # contacts at a spoke over contacts at a sede (contacts.sql)
        "params": {"moltiplicatore"},
        "optional": set(),
        "counts": ("numeratore", "denominatore"),
        "complement": True,
    },
    "contact_days": {  # median days first contact -> first intervention (contacts.sql)
        "params": set(),
        "optional": set(),
        "counts": ("denominatore",),
        "complement": False,
    },
}

REQUIRED_FIELDS = (
    "id", "nome", "descrizione", "formula", "misura", "unita", "direzione", "livelli", "fonte",
    "riferimento", "k_minimo", "conteggio_persone",
)  # fmt: skip


class CatalogError(ValueError):
    """An entry of the catalog is malformed (the message says which and why, in Italian)."""


@dataclass(frozen=True)
class Indicator:
    """One entry of the catalog."""

    id: str
    area: str
    nome_area: str
    nome: str
    descrizione: str
    formula_numeratore: str
    formula_denominatore: str
    misura: dict = field(hash=False, compare=False)
    unita: str
    direzione: str
    livelli: tuple[str, ...]
    fonte: str
    riferimento: str
    k_minimo: int
    minori: bool
    conteggio_persone: bool

    @property
    def tipo(self) -> str:
        """The measure kind (one of KINDS)."""
        return self.misura["tipo"]

    @property
    def formula(self) -> str:
        return f"{self.formula_numeratore} ÷ {self.formula_denominatore}"

    @property
    def moltiplicatore(self) -> float:
        return float(self.misura.get("moltiplicatore", 1))

    @property
    def colonne_conteggio(self) -> tuple[str, ...]:
        """Columns holding counts of persons/households (empty when nothing is disclosed about persons)."""
        return KINDS[self.tipo]["counts"] if self.conteggio_persone else ()

    @property
    def complemento(self) -> bool:
        """True for shares of persons: denominatore - numeratore is a count of persons as well."""
        return bool(KINDS[self.tipo]["complement"]) and self.conteggio_persone

    @property
    def k(self) -> int:
        """The effective threshold: max(setting k (or k for minors), k_minimo); 0 when not suppressed."""
        if not self.conteggio_persone:
            return 0
        return max(settings.k_min(minori=self.minori), self.k_minimo)


def _interventi_codes() -> set[str]:
    with open(settings.INTERVENTI_FILE, newline="", encoding="utf-8") as fh:
        return {r["intervento"] for r in csv.DictReader(fh)}


def _check_codes(where: str, codes: Any, allowed: set[str] | tuple[str, ...], name: str, empty_ok: bool) -> None:
    if not isinstance(codes, list) or (not codes and not empty_ok):
        raise CatalogError(f"{where}: '{name}' deve essere un elenco{'' if empty_ok else ' non vuoto'}")
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        raise CatalogError(f"{where}: codici sconosciuti in '{name}': {', '.join(map(str, unknown))}")


def _check_measure(where: str, misura: Any, interventi: set[str]) -> None:
    if not isinstance(misura, dict) or misura.get("tipo") not in KINDS:
        raise CatalogError(f"{where}: 'misura.tipo' deve essere uno di {', '.join(KINDS)}")
    kind = KINDS[misura["tipo"]]
    keys = set(misura) - {"tipo"}
    missing = kind["params"] - keys
    if missing:
        raise CatalogError(f"{where}: parametri mancanti in 'misura': {', '.join(sorted(missing))}")
    extra = keys - kind["params"] - kind["optional"]
    if extra:
        raise CatalogError(f"{where}: parametri non previsti in 'misura': {', '.join(sorted(extra))}")
    sides = [misura[s] for s in ("numeratore", "denominatore")] if misura["tipo"] == "units_ratio" else [misura]
    for side in sides:
        if "interventi" in side:
            _check_codes(where, side["interventi"], interventi, "interventi", empty_ok=False)
        if "evento" in side and side["evento"] not in EVENTS:
            raise CatalogError(f"{where}: 'evento' deve essere uno di {', '.join(EVENTS)}")
    if "unita_conteggio" in misura and misura["unita_conteggio"] not in COUNT_UNITS:
        raise CatalogError(f"{where}: 'unita_conteggio' deve essere persona o nucleo")
    if "profili" in misura:
        _check_codes(where, misura["profili"], PROFILES, "profili", empty_ok=True)
    if "contratti" in misura:
        _check_codes(where, misura["contratti"], CONTRACTS, "contratti", empty_ok=True)
    if "tipi_sede" in misura:
        _check_codes(where, misura["tipi_sede"], SEDE_TYPES, "tipi_sede", empty_ok=False)
    for key in ("eta_min", "eta_max", "giorni_max"):
        if key in misura and not isinstance(misura[key], int):
            raise CatalogError(f"{where}: '{key}' deve essere un numero intero")
    pop = misura.get("popolazione", {})
    if not isinstance(pop, dict) or set(pop) - {"eta_min", "eta_max"}:
        raise CatalogError(f"{where}: 'popolazione' ammette solo eta_min ed eta_max")


def parse_entry(raw: dict, area: str, nome_area: str, interventi: set[str] | None = None) -> Indicator:
    """Check one YAML entry and build the Indicator (CatalogError with an Italian message otherwise)."""
    interventi = _interventi_codes() if interventi is None else interventi
    where = f"catalogo {area}, indicatore {raw.get('id', '?')}"
    missing = [f for f in REQUIRED_FIELDS if f not in raw or raw[f] is None]
    if missing:
        raise CatalogError(f"{where}: campi mancanti: {', '.join(missing)}")
    for f in ("nome", "descrizione", "unita", "fonte"):
        if not str(raw[f]).strip():
            raise CatalogError(f"{where}: il campo '{f}' è vuoto")
    if raw["direzione"] not in DIRECTIONS:
        raise CatalogError(f"{where}: 'direzione' deve essere alto o basso")
    livelli = tuple(raw["livelli"])
    if not livelli or set(livelli) - set(LEVELS):
        raise CatalogError(f"{where}: 'livelli' deve essere un sottoinsieme di {', '.join(LEVELS)}")
    formula = raw["formula"]
    if not isinstance(formula, dict) or not formula.get("numeratore") or not formula.get("denominatore"):
        raise CatalogError(f"{where}: 'formula' deve avere numeratore e denominatore")
    _check_measure(where, raw["misura"], interventi)
    k_minimo = raw["k_minimo"]
    if not isinstance(k_minimo, int) or k_minimo < 1:
        raise CatalogError(f"{where}: 'k_minimo' deve essere un intero positivo")
    return Indicator(
        id=str(raw["id"]),
        area=area,
        nome_area=nome_area,
        nome=str(raw["nome"]).strip(),
        descrizione=" ".join(str(raw["descrizione"]).split()),
        formula_numeratore=str(formula["numeratore"]).strip(),
        formula_denominatore=str(formula["denominatore"]).strip(),
        misura=dict(raw["misura"]),
        unita=str(raw["unita"]).strip(),
        direzione=raw["direzione"],
        livelli=tuple(lv for lv in LEVELS if lv in livelli),
        fonte=str(raw["fonte"]).strip(),
        riferimento=str(raw["riferimento"] or "").strip(),
        k_minimo=k_minimo,
        minori=bool(raw.get("minori", False)),
        conteggio_persone=bool(raw["conteggio_persone"]),
    )


def load_catalog(folder: Path | None = None) -> tuple[Indicator, ...]:
    """Every entry of every area file, in area order then file order."""
    folder = Path(folder or CATALOG_DIR)
    interventi = _interventi_codes()
    entries: list[Indicator] = []
    for area in AREAS:
        path = folder / f"{area}.yaml"
        if not path.exists():
            raise CatalogError(f"Manca il file del catalogo {path}")
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        if doc.get("area") != area:
            raise CatalogError(f"{path}: il campo 'area' deve essere '{area}'")
        for raw in doc.get("indicatori") or []:
            entries.append(parse_entry(raw, area, str(doc.get("nome_area") or area), interventi))
    ids = [e.id for e in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CatalogError(f"Identificativi ripetuti nel catalogo: {', '.join(dup)}")
    return tuple(entries)


@lru_cache(maxsize=1)
def catalog() -> tuple[Indicator, ...]:
    """The parsed catalog (cached for the process)."""
    return load_catalog()


def by_id() -> dict[str, Indicator]:
    return {e.id: e for e in catalog()}


def get(indicator_id: str) -> Indicator:
    """The entry with this id (KeyError with an Italian message otherwise)."""
    try:
        return by_id()[indicator_id]
    except KeyError:
        raise KeyError(f"Indicatore sconosciuto: {indicator_id}") from None
