"""How a measure kind is declared (`KIND = Kind(...)` in `indicators/kinds/<tipo>.py`, beside `<tipo>.sql`).

A declaration says everything the rest of the package needs to know about a kind:

- `params`: the keys `misura` accepts besides `tipo`, each with its type, whether it is required,
  and where it goes (a `Group` is a nested mapping: the two sides of `units_ratio`, `popolazione`);
  the catalog checks an entry against this and nothing else;
- `counts`: the columns of the tidy table that count persons, households or records of persons
  (the cells disclosure control checks);
- `complement`: the default complement rule (denominatore - numeratore counts persons too), which an
  indicator may change with `complemento:` in the catalog; None when the kind has no such complement;
- `label`, `reads`, `sentences`: the Italian label, what numerator and denominator are, and the lines
  of the indicator sheet (`api.scheda`);
- `compute(ctx, entry)`: the tidy frame of one indicator (livello, territorio, anno, numeratore,
  denominatore, valore), usually one call of the kind's query (`ctx.run(SQL, params)`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from indicators.definitions import Indicator
    from indicators.kinds._compute import Context

EVENTS = ("attivo", "inizio", "fine")
COUNT_UNITS = ("persona", "nucleo")


class ParamProblem(ValueError):
    """A parameter of `misura` is wrong: `key` is its dotted path (misura.numeratore.eta_min)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"'{key}' {message}")
        self.key = key


@dataclass(frozen=True)
class Lookup:
    """What a parameter check may consult: the codes of data/interventi.csv."""

    interventi: Collection[str] = ()


def _shown(value: Any) -> str:
    return "vuoto" if value is None else f"«{value}»"


@dataclass(frozen=True)
class Param:
    """One parameter of `misura`: its type (`doc`, in Italian) and whether it is required."""

    required: bool = True
    doc: str = ""

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        """An Italian sentence saying what is wrong with the value (None when it is fine)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Interventi(Param):
    doc: str = "elenco di codici di intervento"

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if not isinstance(value, list) or not value:
            return f"deve essere un elenco non vuoto di codici di intervento (per esempio [SAD]), non {_shown(value)}"
        unknown = [str(c) for c in value if c not in lookup.interventi]
        if unknown:
            return f"contiene codici sconosciuti: {', '.join(unknown)} (i codici sono in data/interventi.csv)"
        return None


@dataclass(frozen=True)
class Choice(Param):
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.doc:
            object.__setattr__(self, "doc", "/".join(self.values))

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if value not in self.values:
            return f"deve essere uno di {', '.join(self.values)}, non {_shown(value)}"
        return None


@dataclass(frozen=True)
class Codes(Param):
    """A list of codes from a closed list (empty = all, when `empty_ok`)."""

    values: tuple[str, ...] = ()
    empty_ok: bool = False

    def __post_init__(self) -> None:
        if not self.doc:
            empty = ", vuoto = tutti" if self.empty_ok else ""
            object.__setattr__(self, "doc", f"elenco tra {'/'.join(self.values)}{empty}")

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if not isinstance(value, list) or (not value and not self.empty_ok):
            return (
                f"deve essere un elenco{'' if self.empty_ok else ' non vuoto'} di codici tra {', '.join(self.values)}"
            )
        unknown = [str(c) for c in value if c not in self.values]
        if unknown:
            return f"contiene codici sconosciuti: {', '.join(unknown)} (ammessi: {', '.join(self.values)})"
        return None


@dataclass(frozen=True)
class Integer(Param):
    required: bool = False
    doc: str = "intero ≥ 0"

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"deve essere un numero intero maggiore o uguale a 0, non {_shown(value)}"
        return None


@dataclass(frozen=True)
class Number(Param):
    doc: str = "numero > 0"

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            return f"deve essere un numero maggiore di 0 (per esempio 100), non {_shown(value)}"
        return None


@dataclass(frozen=True)
class Flag(Param):
    required: bool = False
    doc: str = "true/false"

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if not isinstance(value, bool):
            return f"deve essere true o false, non {_shown(value)}"
        return None


@dataclass(frozen=True)
class Group(Param):
    """A nested mapping with its own parameters (a side of a ratio, the reference population)."""

    fields: Mapping[str, Param] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.doc:
            object.__setattr__(self, "doc", "{" + ", ".join(_param_doc(k, p) for k, p in self.fields.items()) + "}")

    def problem(self, value: Any, lookup: Lookup) -> str | None:
        if not isinstance(value, dict):
            return f"deve contenere {', '.join(self.fields)} (una mappa YAML), non {_shown(value)}"
        return None


def _param_doc(name: str, p: Param) -> str:
    optional = "" if p.required else "?"
    return f"`{name}`{optional} {p.doc}" if isinstance(p, Group) else f"`{name}`{optional} ({p.doc})"


def _accepted_at(params: Mapping[str, Param], key: str, path: str) -> list[str]:
    """The mappings inside `params` (dotted paths) that accept `key`: where a misplaced key goes."""
    out = []
    for name, p in params.items():
        if name == key:
            out.append(path)
        if isinstance(p, Group):
            out += _accepted_at(p.fields, key, f"{path}.{name}")
    return out


def check_params(
    params: Mapping[str, Param], values: Mapping[str, Any], lookup: Lookup, path: str, kind: Kind, root: str = "misura"
) -> None:
    """Every key known (and at its place), every required key present, every value of its type; else ParamProblem."""
    for key in values:
        if key not in params:
            here = _accepted_at(kind.params, key, root)
            if here:
                hint = f"va messo in {' o '.join(f'«{h}»' for h in here)}. Spostarlo"
            else:
                accepted = ", ".join(params) or "nessun parametro"
                hint = f"«{path}» ammette solo {accepted}. Toglierlo o correggerne il nome"
            raise ParamProblem(f"{path}.{key}", f"non è ammesso qui per il tipo di misura {kind.name}: {hint}")
    for key, p in params.items():
        where = f"{path}.{key}"
        if key not in values or values[key] is None:
            if p.required:
                raise ParamProblem(where, f"manca: il tipo di misura {kind.name} lo richiede ({p.doc}). Aggiungerlo")
            continue
        message = p.problem(values[key], lookup)
        if message:
            raise ParamProblem(where, message)
        if isinstance(p, Group):
            check_params(p.fields, values[key], lookup, where, kind, root)


# --- the sentences of the indicator sheet -------------------------------------------------

Sentence = Callable[[Mapping[str, Any]], list[str]]
_EVENT_TEXT = {"attivo": "attivi nell'anno", "inizio": "iniziati nell'anno", "fine": "terminati nell'anno"}


def interventi_line(m: Mapping[str, Any]) -> list[str]:
    return [f"- Interventi: {', '.join(m['interventi'])}"] if "interventi" in m else []


def sides_lines(m: Mapping[str, Any]) -> list[str]:
    return [
        f"- Interventi al {side}: {', '.join(m[side]['interventi'])} (evento: {m[side]['evento']})"
        for side in ("numeratore", "denominatore")
    ]


def evento_line(m: Mapping[str, Any]) -> list[str]:
    return [f"- Periodo: interventi {_EVENT_TEXT[m['evento']]}"] if "evento" in m else []


def unita_line(m: Mapping[str, Any]) -> list[str]:
    if "unita_conteggio" not in m:
        return []
    return [f"- Si contano: {'nuclei familiari' if m['unita_conteggio'] == 'nucleo' else 'persone'} distinti"]


def eta_line(m: Mapping[str, Any]) -> list[str]:
    if "eta_min" not in m and "eta_max" not in m:
        return []
    return [f"- Età al 31 dicembre: da {m.get('eta_min', 0)} a {m.get('eta_max', 'oltre')}"]


def popolazione_line(m: Mapping[str, Any]) -> list[str]:
    p = m.get("popolazione")
    if not p:
        return []
    return [f"- Popolazione di riferimento: residenti da {p.get('eta_min', 0)} a {p.get('eta_max', 'oltre')} anni"]


def moltiplicatore_line(m: Mapping[str, Any]) -> list[str]:
    return [f"- Moltiplicatore: {int(m['moltiplicatore']):,}".replace(",", ".")] if m.get("moltiplicatore") else []


# --- the declaration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One measure kind (see the module docstring); `name` is set by the registry from the module's name."""

    label: str
    reads: str
    params: Mapping[str, Param]
    counts: tuple[str, ...]
    complement: bool | None
    compute: Callable[[Context, Indicator], pl.DataFrame]
    sentences: tuple[Sentence, ...] = ()
    name: str = ""
    # The counts of distinct persons or households an entry reads (`distinct_units_rate.measure`), declared so
    # that the engine counts those of every entry of a run in one query (`Context.units`).
    units: Callable[[Context, Indicator], list[dict]] | None = None

    def describe(self, misura: Mapping[str, Any]) -> list[str]:
        """The lines of the indicator sheet about the measure."""
        lines = [f"- Tipo di misura: {self.label} (`{self.name}`)"]
        for sentence in self.sentences:
            lines += sentence(misura)
        return lines

    def params_doc(self) -> str:
        """The parameters in one line, for the README table (`?` = optional)."""
        return ", ".join(_param_doc(k, p) for k, p in self.params.items())
