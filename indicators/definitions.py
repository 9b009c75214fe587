"""The indicator catalog: one YAML file per area in `indicators/catalog/`, parsed and checked.

Every entry declares what is counted (`misura`: a measure kind of
`indicators/kinds/`, with its parameters), how to read it (`unita`, `direzione`)
and how it may be published (`conteggio_persone`, `k_minimo`, `minori`,
`complemento`). The checks are strict: an unknown key, a parameter the kind does
not accept (or on the wrong side) and a value of the wrong type are errors, with
an Italian message naming the file, the indicator and the key. The format is
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
from indicators.kinds import KINDS, Kind
from indicators.kinds._declare import Lookup, ParamProblem, check_params

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
AREAS = ("poverta", "casa", "anziani", "giovani", "famiglia", "lavoro", "organizzazione")
LEVELS = ("comune", "sub_ambito", "ambito")
DIRECTIONS = ("alto", "basso")

REQUIRED_FIELDS = (
    "id",
    "nome",
    "descrizione",
    "formula",
    "misura",
    "unita",
    "direzione",
    "livelli",
    "fonte",
    "riferimento",
    "k_minimo",
    "conteggio_persone",
)
OPTIONAL_FIELDS = ("minori", "complemento", "soglie")
FILE_FIELDS = ("area", "nome_area", "indicatori")


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
    complemento: bool = False
    """True when denominatore - numeratore is a count of persons too (shares of persons): the catalog's
    `complemento`, else the kind's default; always False when the indicator counts no persons."""
    soglie: tuple[tuple[float, str], ...] = field(default=(), hash=False, compare=False)  # (valore, nome): map classes

    @property
    def tipo(self) -> str:
        """The measure kind (a key of KINDS)."""
        return self.misura["tipo"]

    @property
    def kind(self) -> Kind:
        """The declaration of the measure kind (indicators/kinds/<tipo>.py)."""
        return KINDS[self.tipo]

    @property
    def formula(self) -> str:
        return f"{self.formula_numeratore} ÷ {self.formula_denominatore}"

    @property
    def moltiplicatore(self) -> float:
        return float(self.misura.get("moltiplicatore", 1))

    @property
    def colonne_conteggio(self) -> tuple[str, ...]:
        """Columns holding counts of persons/households (empty when nothing is disclosed about persons)."""
        return self.kind.counts if self.conteggio_persone else ()

    @property
    def k(self) -> int:
        """The effective threshold: max(setting k (or k for minors), k_minimo); 0 when not suppressed."""
        if not self.conteggio_persone:
            return 0
        return max(settings.k_min(minori=self.minori), self.k_minimo)


def _interventi_codes() -> set[str]:
    with open(settings.INTERVENTI_FILE, newline="", encoding="utf-8") as fh:
        return {r["intervento"] for r in csv.DictReader(fh)}


def _shown(value: Any) -> str:
    return "vuoto" if value is None else f"«{value}»"


def _check_keys(where: str, raw: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
    unknown = [str(k) for k in raw if k not in allowed]
    if unknown:
        raise CatalogError(
            f"{where}: chiave sconosciuta '{prefix}{unknown[0]}' (ammesse: {', '.join(allowed)}). "
            "Correggere il nome o toglierla."
        )


def _check_measure(where: str, misura: Any, interventi: set[str]) -> Kind:
    if not isinstance(misura, dict) or misura.get("tipo") not in KINDS:
        tipo = misura.get("tipo") if isinstance(misura, dict) else None
        raise CatalogError(f"{where}: 'misura.tipo' deve essere uno di {', '.join(KINDS)}, non {_shown(tipo)}")
    kind = KINDS[misura["tipo"]]
    values = {k: v for k, v in misura.items() if k != "tipo"}
    try:
        check_params(kind.params, values, Lookup(interventi=interventi), "misura", kind)
    except ParamProblem as exc:
        raise CatalogError(f"{where}: {exc}") from None
    return kind


def _check_flag(where: str, raw: dict, key: str) -> None:
    if key in raw and not isinstance(raw[key], bool):
        raise CatalogError(f"{where}: '{key}' deve essere true o false, non {_shown(raw[key])}")


def _complement(where: str, raw: dict, kind: Kind) -> bool:
    """The indicator's complement rule: the catalog's `complemento`, else the kind's default."""
    if not raw["conteggio_persone"]:
        if raw.get("complemento"):
            raise CatalogError(
                f"{where}: 'complemento: true' vale solo con 'conteggio_persone: true' (l'indicatore non conta "
                "persone). Togliere 'complemento'."
            )
        return False
    if "complemento" not in raw:
        return bool(kind.complement)
    if kind.complement is None:
        raise CatalogError(
            f"{where}: 'complemento' non si applica al tipo di misura {kind.name} (denominatore − numeratore "
            "non è un conteggio di persone). Togliere 'complemento'."
        )
    return raw["complemento"]


def parse_entry(
    raw: dict, area: str, nome_area: str, interventi: set[str] | None = None, file: str | None = None
) -> Indicator:
    """Check one YAML entry and build the Indicator (CatalogError with an Italian message otherwise).

    The message names the file (`file`, by default `<area>.yaml`), the indicator and the key.
    """
    interventi = _interventi_codes() if interventi is None else interventi
    if not isinstance(raw, dict):
        raise CatalogError(f"catalogo {file or area + '.yaml'}: ogni voce di 'indicatori' deve essere una mappa YAML")
    where = f"catalogo {file or area + '.yaml'}, indicatore {raw.get('id', '?')}"
    _check_keys(where, raw, REQUIRED_FIELDS + OPTIONAL_FIELDS)
    missing = [f for f in REQUIRED_FIELDS if f not in raw or raw[f] is None]
    if missing:
        raise CatalogError(f"{where}: campi mancanti: {', '.join(missing)}")
    if not isinstance(raw["id"], str) or not raw["id"].strip():
        raise CatalogError(f"{where}: 'id' deve essere un testo (per esempio casa_nuclei_sostenuti_1000)")
    for f in ("nome", "descrizione", "unita", "fonte", "riferimento"):
        if not isinstance(raw[f], str):
            raise CatalogError(f"{where}: '{f}' deve essere un testo, non {_shown(raw[f])}")
    for f in ("nome", "descrizione", "unita", "fonte"):
        if not raw[f].strip():
            raise CatalogError(f"{where}: il campo '{f}' è vuoto")
    if raw["direzione"] not in DIRECTIONS:
        raise CatalogError(f"{where}: 'direzione' deve essere alto o basso, non {_shown(raw['direzione'])}")
    livelli = raw["livelli"]
    if not isinstance(livelli, list) or not livelli or set(livelli) - set(LEVELS):
        raise CatalogError(f"{where}: 'livelli' deve essere un sottoinsieme di {', '.join(LEVELS)}")
    formula = raw["formula"]
    if not isinstance(formula, dict):
        raise CatalogError(f"{where}: 'formula' deve avere numeratore e denominatore")
    _check_keys(where, formula, ("numeratore", "denominatore"), "formula.")
    if not all(isinstance(formula.get(s), str) and formula[s].strip() for s in ("numeratore", "denominatore")):
        raise CatalogError(f"{where}: 'formula' deve avere numeratore e denominatore (in parole)")
    kind = _check_measure(where, raw["misura"], interventi)
    k_minimo = raw["k_minimo"]
    if isinstance(k_minimo, bool) or not isinstance(k_minimo, int) or k_minimo < 1:
        raise CatalogError(f"{where}: 'k_minimo' deve essere un intero positivo, non {_shown(k_minimo)}")
    for f in ("minori", "conteggio_persone", "complemento"):
        _check_flag(where, raw, f)
    soglie = raw.get("soglie") or []
    if not isinstance(soglie, list) or not all(
        isinstance(t, dict) and isinstance(t.get("valore"), int | float) and str(t.get("nome") or "").strip()
        for t in soglie
    ):
        raise CatalogError(f"{where}: 'soglie' deve essere un elenco di voci con valore (numero) e nome")
    return Indicator(
        id=raw["id"],
        area=area,
        nome_area=nome_area,
        nome=raw["nome"].strip(),
        descrizione=" ".join(raw["descrizione"].split()),
        formula_numeratore=formula["numeratore"].strip(),
        formula_denominatore=formula["denominatore"].strip(),
        misura=dict(raw["misura"]),
        unita=raw["unita"].strip(),
        direzione=raw["direzione"],
        livelli=tuple(lv for lv in LEVELS if lv in livelli),
        fonte=raw["fonte"].strip(),
        riferimento=raw["riferimento"].strip(),
        k_minimo=k_minimo,
        minori=raw.get("minori", False),
        conteggio_persone=raw["conteggio_persone"],
        complemento=_complement(where, raw, kind),
        soglie=tuple((float(t["valore"]), str(t["nome"]).strip()) for t in soglie),
    )


# The same safe loader in C (libyaml) when PyYAML was built with it: 10x faster at every server start.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_catalog(folder: Path | None = None) -> tuple[Indicator, ...]:
    """Every entry of every area file, in area order then file order."""
    folder = Path(folder or CATALOG_DIR)
    interventi = _interventi_codes()
    entries: list[Indicator] = []
    for area in AREAS:
        path = folder / f"{area}.yaml"
        if not path.exists():
            raise CatalogError(f"Manca il file del catalogo {path.name} (area {area})")
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_SAFE_LOADER) or {}
        where = f"catalogo {path.name}"
        if not isinstance(doc, dict):
            raise CatalogError(f"{where}: il file deve contenere area, nome_area e indicatori")
        _check_keys(where, doc, FILE_FIELDS)
        if doc.get("area") != area:
            raise CatalogError(f"{where}: il campo 'area' deve essere '{area}'")
        if not isinstance(doc.get("indicatori") or [], list):
            raise CatalogError(f"{where}: 'indicatori' deve essere un elenco di voci")
        for raw in doc.get("indicatori") or []:
            entries.append(parse_entry(raw, area, str(doc.get("nome_area") or area), interventi, path.name))
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
