"""What each input table looks like (DATA_CONTRACT.md section 2).

A column has a kind that decides how it is parsed and checked:
text, code (upper-cased, from a closed list), date, decimal, integer,
bool, comune (ISTAT code or name of a comune of the ambito),
codice_fiscale (any accepted person identifier: etl/identifiers.py),
intervento (from data/interventi.csv), codice_sorgente (a code of another
system, compared upper-cased without spaces), sub_ambito, sede (an id_sede
already loaded in `sedi`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.normalize import header_key


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    default: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_exclusive: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    label: str  # Italian, for messages
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # date pairs that must be ordered: (earlier, later, reason)
    date_order: tuple[tuple[str, str, str], ...] = field(default=())
    # replace: the file is the whole table (the sub-ambito composition)
    replace_all: bool = False
    # groups of columns of which a file must have at least one whole group (beside `required`)
    required_one_of: tuple[tuple[str, ...], ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def header_map(self) -> dict[str, str]:
        """Normalised header → canonical column name (names and aliases)."""
        out: dict[str, str] = {}
        for c in self.columns:
            for alias in (c.name, *c.aliases):
                out[header_key(alias)] = c.name
        return out


ESITI = ("IN_CORSO", "CONCLUSO", "INTERROTTO", "ASSUNZIONE")
PROFILI = ("ASSISTENTE_SOCIALE", "EDUCATORE", "PSICOLOGO", "AMMINISTRATIVO", "ALTRO")
CONTRATTI = ("INDETERMINATO", "DETERMINATO", "ALTRO")
SESSI = ("M", "F")

PRESTAZIONI = TableSpec(
    name="prestazioni",
    label="prestazioni",
    columns=(
        Column("id_prestazione", required=True, aliases=("id", "codice prestazione", "id intervento")),
        Column("fonte", default="cartella_sociale", aliases=("sistema", "sistema fonte", "origine")),
        Column("codice_fiscale", "codice_fiscale", required=True, aliases=("cf", "cod fiscale", "codicefisc")),
        Column("comune_residenza", "comune", required=True, aliases=("comune", "comune di residenza", "residenza")),
        # `intervento`, or the code of another system that `codifiche` maps to one (`required_one_of`)
        Column("intervento", "intervento", aliases=("codice intervento", "tipo intervento")),
        Column("data_richiesta", "date", aliases=("data domanda", "data della richiesta")),
        Column("data_inizio", "date", required=True, aliases=("inizio", "data avvio", "data di inizio")),
        Column("data_fine", "date", aliases=("fine", "data di fine", "data chiusura")),
        Column("ore", "decimal", min_value=0, aliases=("ore erogate", "numero ore")),
        Column("importo_euro", "decimal", min_value=0, aliases=("importo", "importo €", "importo eur", "euro")),
        Column("esito", "code", values=ESITI),
        Column("id_nucleo", aliases=("nucleo", "id nucleo familiare", "nucleo familiare")),
        Column("sistema_codifica", "codice_sorgente", aliases=("sistema di codifica", "codifica")),
        Column("codice_intervento", "codice_sorgente"),
        # for identifiers that do not encode them (provisional codice fiscale, STP, ENI)
        Column("sesso", "code", values=SESSI, aliases=("genere",)),
        Column("anno_nascita", "integer", aliases=("anno di nascita", "anno nascita")),
    ),
    key=("fonte", "id_prestazione"),
    required_one_of=(("intervento",), ("sistema_codifica", "codice_intervento")),
    date_order=(
        ("data_richiesta", "data_inizio", "data della richiesta successiva alla data di inizio"),
        ("data_inizio", "data_fine", "data di fine precedente alla data di inizio"),
    ),
)

OPERATORI = TableSpec(
    name="operatori",
    label="operatori",
    columns=(
        Column("id_operatore", required=True, aliases=("operatore", "id")),
        Column("profilo", "code", required=True, values=PROFILI, aliases=("qualifica", "profilo professionale")),
        Column("sub_ambito", "sub_ambito", required=True, aliases=("subambito", "equipe")),
        Column("fte", "decimal", required=True, min_value=0, max_value=1, min_exclusive=True, aliases=("fte", "tempo")),
        Column("contratto", "code", values=CONTRATTI, aliases=("tipo contratto",)),
        Column("data_inizio", "date", aliases=("inizio", "data assunzione")),
        Column("data_fine", "date", aliases=("fine", "data cessazione")),
    ),
    key=("id_operatore",),
    date_order=(("data_inizio", "data_fine", "data di fine precedente alla data di inizio"),),
)

SEDI = TableSpec(
    name="sedi",
    label="sedi",
    columns=(
        Column("id_sede", required=True, aliases=("sede", "id")),
        Column("nome", aliases=("denominazione",)),
        Column("tipo", "code", required=True, values=("HUB", "SPOKE"), aliases=("tipologia",)),
        Column("comune", "comune", required=True),
        Column("indirizzo", aliases=("via",)),
        Column("lat", "decimal", min_value=-90, max_value=90, aliases=("latitudine",)),
        Column("lon", "decimal", min_value=-180, max_value=180, aliases=("longitudine", "lng")),
        Column("sub_ambito", "sub_ambito", aliases=("subambito",)),
    ),
    key=("id_sede",),
)

OBIETTIVI = TableSpec(
    name="obiettivi",
    label="obiettivi",
    columns=(
        Column("indicatore", "indicatore", required=True, aliases=("id indicatore", "codice indicatore")),
        Column("territorio", "territorio", required=True),
        Column("anno", "integer", required=True),
        Column("tipo", "code", required=True, values=("BASELINE", "TARGET")),
        Column("valore", "decimal", required=True),
    ),
    key=("indicatore", "territorio", "anno", "tipo"),
)

SUB_AMBITI = TableSpec(
    name="sub_ambiti",
    label="sub-ambiti",
    columns=(
        Column("comune", "comune", required=True),
        Column("sub_ambito", required=True, aliases=("subambito", "codice sub ambito")),
        Column("nome_sub_ambito", aliases=("nome", "denominazione")),
        Column("pilota", "bool", default="false"),
        Column("data_avvio_pilota", "date", aliases=("avvio pilota",)),
        Column("provvisorio", "bool", default="false"),
    ),
    key=("comune",),
    replace_all=True,
)

CODIFICHE = TableSpec(
    name="codifiche",
    label="codifiche",
    columns=(
        Column("sistema", "codice_sorgente", required=True, aliases=("sistema codifica", "sistema di codifica")),
        Column("codice", "codice_sorgente", required=True, aliases=("codice sorgente", "codice origine")),
        Column("intervento", "intervento", required=True, aliases=("intervento catalogo", "codice catalogo")),
        Column("descrizione", aliases=("denominazione",)),
    ),
    key=("sistema", "codice"),
)

# The road matrix between comuni (minutes and km by road). Also read in the layout of ISTAT's
# «matrici delle distanze» (regional .txt files, `;` and decimal comma): Name, Origine, Destinazione,
# Total_Minu (minutes), Total_Mete (metres); `Name` is ignored, metres become km.
DISTANZE = TableSpec(
    name="distanze",
    label="distanze tra comuni",
    columns=(
        Column("comune_origine", "comune", required=True, aliases=("origine", "comune di origine")),
        Column("comune_destinazione", "comune", required=True, aliases=("destinazione", "comune di destinazione")),
        Column("minuti", "decimal", required=True, min_value=0, aliases=("tempo minuti", "total_minu", "tempo")),
        Column("km", "decimal", min_value=0, aliases=("chilometri", "distanza km", "distanza")),
        Column("metri", "decimal", min_value=0, aliases=("total_mete", "distanza metri")),
    ),
    key=("comune_origine", "comune_destinazione"),
)

ESITI_ACCESSO = ("INFORMAZIONE", "INVIO_SERVIZIO", "PRESA_IN_CARICO")

# Contacts at the hub and spoke access points; the codice fiscale is optional and, when given,
# pseudonymised exactly like in prestazioni (never stored).
ACCESSI = TableSpec(
    name="accessi",
    label="accessi",
    columns=(
        Column("id_accesso", required=True, aliases=("id contatto", "codice accesso", "id")),
        Column("data_accesso", "date", required=True, aliases=("data contatto", "data", "data dell'accesso")),
        Column("id_sede", "sede", required=True, aliases=("sede", "codice sede")),
        Column("comune_residenza", "comune", required=True, aliases=("comune", "comune di residenza", "residenza")),
        Column("codice_fiscale", "codice_fiscale", aliases=("cf", "cod fiscale", "codicefisc")),
        Column("esito", "code", values=ESITI_ACCESSO, aliases=("esito contatto", "esito accesso")),
    ),
    key=("id_accesso",),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (PRESTAZIONI, OPERATORI, SEDI, OBIETTIVI, SUB_AMBITI, CODIFICHE, DISTANZE, ACCESSI)
}

# A header read as another column when its companion is absent: without `sistema_codifica`, a column
# «codice intervento» holds catalogue codes (`intervento`), as in files written before the coded columns.
READ_ALONE_AS = {("prestazioni", "codice_intervento"): ("sistema_codifica", "intervento")}


def match_columns(spec: TableSpec, headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map file headers to canonical names; returns (file header → column, unknown headers)."""
    hmap = spec.header_map()
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    taken: set[str] = set()
    # exact canonical names win over aliases
    for h in headers:
        key = header_key(h)
        if key in {header_key(c.name) for c in spec.columns} and hmap[key] not in taken:
            mapping[h] = hmap[key]
            taken.add(hmap[key])
    for h in headers:
        if h in mapping:
            continue
        target = hmap.get(header_key(h))
        if target and target not in taken:
            mapping[h] = target
            taken.add(target)
        else:
            unknown.append(h)
    for (table, column), (companion, target) in READ_ALONE_AS.items():
        found = set(mapping.values())
        if spec.name == table and column in found and companion not in found and target not in found:
            mapping = {h: (target if c == column else c) for h, c in mapping.items()}
    return mapping, unknown


def missing_columns(spec: TableSpec, found: set[str]) -> list[str]:
    """Required columns absent from `found`; for `required_one_of`, the groups joined by «oppure»."""
    missing = [c for c in spec.required if c not in found]
    if spec.required_one_of and not any(set(group) <= found for group in spec.required_one_of):
        missing.append(" oppure ".join(" e ".join(group) for group in spec.required_one_of))
    return missing


def infer_table(headers: list[str]) -> str | None:
    """The table whose required columns the headers cover best (all of them), or None."""
    best, best_score = None, -1.0
    for spec in TABLES.values():
        mapping, _ = match_columns(spec, headers)
        found = set(mapping.values())
        if not set(spec.required) <= found:
            continue
        score = len(found) / len(spec.columns) + len(spec.required) / 100
        if score > best_score:
            best, best_score = spec.name, score
    return best
