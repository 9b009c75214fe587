"""What each input table looks like (DATA_CONTRACT.md section 2).

A column has a kind that decides how it is parsed and checked:
text, code (upper-cased, from a closed list), date, decimal, integer,
bool, comune (ISTAT code or name of a comune of the ambito),
codice_fiscale (any accepted person identifier: etl/identifiers.py),
intervento (from data/interventi.csv), codice_sorgente (a code of another
system, compared upper-cased without spaces), sub_ambito, sede (an id_sede
already loaded in `sedi`).

What each column means, in Italian, and the value of the templates' example row:
`COLUMN_DOCS` at the end (`column_doc`); `etl/templates.py` builds the downloadable
templates from these specs and docs, so a template never drifts from what the loader checks.
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

# Values published by others (ISTAT, INPS, Regione) for territories around the ambito: shown beside the
# ambito's own values, never mixed with them (indicators/comparisons.py).
CONFRONTI = TableSpec(
    name="confronti",
    label="confronti con altri territori",
    columns=(
        Column("indicatore", "indicatore", required=True, aliases=("id indicatore", "codice indicatore")),
        Column("territorio", required=True, aliases=("territorio di confronto", "area geografica")),
        Column("anno", "integer", required=True, min_value=1990, max_value=2100, aliases=("anno di riferimento",)),
        Column("valore", "decimal", required=True, min_value=0),
        Column("fonte", required=True, aliases=("fonte del dato", "fonte dati")),
        Column("nota", aliases=("note", "definizione")),
    ),
    key=("indicatore", "territorio", "anno"),
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
    t.name: t for t in (PRESTAZIONI, OPERATORI, SEDI, OBIETTIVI, SUB_AMBITI, CODIFICHE, CONFRONTI, DISTANZE, ACCESSI)
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


# --- what each column means (the templates' instructions) --------------------------------------------


@dataclass(frozen=True)
class ColumnDoc:
    """What a column means, in Italian, and the value of the templates' example row.

    `esempio` None: the template takes a value the loader accepts from the warehouse's reference data
    or from the column's kind (a comune, a sub-ambito, an indicator, a catalogue code, the synthetic
    codice fiscale: `etl/templates.py`); "" leaves the cell empty. Whether a column is required, its
    format and its allowed values come from the `Column` itself, never from here.
    """

    descrizione: str
    esempio: str | None = None


COLUMN_DOCS: dict[str, dict[str, ColumnDoc]] = {
    "prestazioni": {
        "id_prestazione": ColumnDoc(
            "Identificativo del record nel sistema di origine, unico per fonte. Non deve contenere il codice "
            "fiscale né altro che identifichi la persona.",
            "PRE-2025-000123",
        ),
        "fonte": ColumnDoc(
            "Sistema da cui proviene il record (per esempio cartella_sociale, sil). Con id_prestazione forma la "
            "chiave: un record caricato di nuovo sostituisce il precedente.",
            "cartella_sociale",
        ),
        "codice_fiscale": ColumnDoc(
            "Codice fiscale della persona: controllato (formato, carattere di controllo, data di nascita), usato per "
            "riconoscere la stessa persona in record diversi e sostituito da uno pseudonimo: non viene mai conservato. "
            "Sesso e anno di nascita sono ricavati dal codice. Quello dell'esempio è fittizio (cognome e nome XXX XXX: "
            "nessuna persona ha questo codice)."
        ),
        "comune_residenza": ColumnDoc("Comune di residenza della persona: deve essere un comune dell'ambito."),
        "intervento": ColumnDoc(
            "Tipo di intervento, con un codice del catalogo degli interventi (decide l'area).", "SAD"
        ),
        "data_richiesta": ColumnDoc(
            "Data della domanda, non successiva alla data di inizio: serve per i tempi di attesa.", "15/01/2025"
        ),
        "data_inizio": ColumnDoc("Data di inizio dell'intervento.", "03/02/2025"),
        "data_fine": ColumnDoc(
            "Data di fine, non precedente alla data di inizio; vuota se l'intervento è in corso.", "30/06/2025"
        ),
        "ore": ColumnDoc("Ore erogate nel record (per gli interventi misurati in ore, come SAD e ADM).", "48,5"),
        "importo_euro": ColumnDoc("Importo erogato nel record, in euro.", "1.250,00"),
        "esito": ColumnDoc(
            "Esito dell'intervento; ASSUNZIONE = lavoro ottenuto (per i tirocini). Vuoto se non rilevato.", "CONCLUSO"
        ),
        "id_nucleo": ColumnDoc(
            "Identificativo del nucleo familiare (pseudonimizzato come il codice fiscale): le persone dello stesso "
            "nucleo sono contate una volta negli indicatori per nucleo; se manca, il nucleo è la persona.",
            "NUCLEO-000045",
        ),
        "sistema_codifica": ColumnDoc(
            "Al posto di intervento: il sistema a cui appartiene codice_intervento (per esempio il nome della "
            "cartella sociale, SIUSS, ISTAT). La tabella codifiche dice a quale intervento corrisponde il codice; "
            "una riga con un codice non ancora associato resta in attesa di codifica, non è scartata.",
            "",
        ),
        "codice_intervento": ColumnDoc(
            "Il codice dell'intervento nel sistema indicato in sistema_codifica (da compilare insieme).", ""
        ),
        "sesso": ColumnDoc(
            "M o F, per le persone senza codice fiscale completo (codice provvisorio, STP, ENI); con un codice "
            "fiscale è ricavato dal codice e questa colonna è ignorata.",
            "",
        ),
        "anno_nascita": ColumnDoc(
            "Anno di nascita (dal 1900 all'anno in corso), per le persone senza codice fiscale completo; senza, la "
            "persona ha età non nota ed è esclusa dagli indicatori per fascia d'età.",
            "",
        ),
    },
    "codifiche": {
        "sistema": ColumnDoc(
            "Il sistema di codifica (lo stesso valore di sistema_codifica nelle prestazioni).", "CARTELLA_ESEMPIO"
        ),
        "codice": ColumnDoc(
            "Il codice nel sistema (lo stesso valore di codice_intervento nelle prestazioni).", "DOM-ANZ"
        ),
        "intervento": ColumnDoc("Il codice del catalogo degli interventi a cui corrisponde."),
        "descrizione": ColumnDoc(
            "Che cosa significa il codice nel suo sistema.", "Assistenza domiciliare anziani (esempio)"
        ),
    },
    "operatori": {
        "id_operatore": ColumnDoc(
            "Identificativo dell'operatore (matricola interna, non il codice fiscale).", "OP-0001"
        ),
        "profilo": ColumnDoc("Profilo professionale.", "ASSISTENTE_SOCIALE"),
        "sub_ambito": ColumnDoc("Sub-ambito (équipe) in cui lavora l'operatore."),
        "fte": ColumnDoc("Tempo pieno equivalente: 1 = tempo pieno, 0,5 = metà tempo.", "1"),
        "contratto": ColumnDoc(
            "Tipo di contratto (il rapporto residenti per assistente sociale conta gli INDETERMINATO).", "INDETERMINATO"
        ),
        "data_inizio": ColumnDoc("Data di inizio del servizio nell'équipe.", "01/09/2023"),
        "data_fine": ColumnDoc("Data di fine del servizio; vuota se l'operatore è in servizio.", ""),
    },
    "sedi": {
        "id_sede": ColumnDoc("Identificativo della sede.", "SEDE-01"),
        "nome": ColumnDoc("Nome della sede.", "Sportello sociale (esempio)"),
        "tipo": ColumnDoc("HUB = sede centrale dell'équipe; SPOKE = punto di accesso decentrato.", "SPOKE"),
        "comune": ColumnDoc("Comune in cui si trova la sede (dell'ambito)."),
        "indirizzo": ColumnDoc("Indirizzo della sede.", "Via dell'Esempio 1"),
        "lat": ColumnDoc("Latitudine in gradi decimali (WGS 84), per la mappa.", "45,3640"),
        "lon": ColumnDoc("Longitudine in gradi decimali (WGS 84), per la mappa.", "9,6830"),
        "sub_ambito": ColumnDoc("Sub-ambito servito dalla sede; se manca, quello del comune."),
    },
    "obiettivi": {
        "indicatore": ColumnDoc("Codice dell'indicatore del catalogo."),
        "territorio": ColumnDoc("AMBITO o il codice di un sub-ambito.", "AMBITO"),
        "anno": ColumnDoc(
            "Anno: quello della baseline per il tipo BASELINE, uno degli anni del piano per il tipo TARGET."
        ),
        "tipo": ColumnDoc("BASELINE = valore di partenza; TARGET = obiettivo dell'anno.", "BASELINE"),
        "valore": ColumnDoc("Valore nell'unità di misura dell'indicatore.", "12,5"),
    },
    "sub_ambiti": {
        "comune": ColumnDoc("Comune dell'ambito: ognuno compare una volta sola."),
        "sub_ambito": ColumnDoc("Codice del sub-ambito a cui appartiene il comune."),
        "nome_sub_ambito": ColumnDoc("Nome del sub-ambito."),
        "pilota": ColumnDoc("sì se il sub-ambito è nella sperimentazione del nuovo modello."),
        "data_avvio_pilota": ColumnDoc("Data di avvio della sperimentazione; vuota se il sub-ambito non è pilota."),
        "provvisorio": ColumnDoc("sì finché la composizione non è quella ufficiale."),
    },
    "confronti": {
        "indicatore": ColumnDoc("Codice dell'indicatore del catalogo a cui si riferisce il valore."),
        "territorio": ColumnDoc(
            "Territorio del valore, fuori dall'ambito: per esempio Provincia di Cremona, Lombardia, Italia.",
            "Lombardia",
        ),
        "anno": ColumnDoc("Anno a cui si riferisce il valore.", "2022"),
        "valore": ColumnDoc(
            "Valore pubblicato dalla fonte, nell'unità di misura dell'indicatore (convertire se serve: una "
            "percentuale per 10 dà il valore per 1.000).",
            "1,0",
        ),
        "fonte": ColumnDoc(
            "Chi ha pubblicato il dato e dove (ente, tavola, anno di pubblicazione): compare accanto al valore.",
            "esempio — sostituire con il dato ufficiale",
        ),
        "nota": ColumnDoc(
            "Note sul dato: definizione non identica, popolazione di riferimento, tavola usata.",
            "valore di esempio, non è una statistica",
        ),
    },
    "distanze": {
        "comune_origine": ColumnDoc("Comune di partenza (dell'ambito)."),
        "comune_destinazione": ColumnDoc("Comune di arrivo (dell'ambito)."),
        "minuti": ColumnDoc("Tempo di percorrenza su strada, in minuti.", "12,5"),
        "km": ColumnDoc("Distanza su strada in chilometri (oppure la colonna metri).", "9,8"),
        "metri": ColumnDoc("Distanza su strada in metri, se non si indicano i km: viene convertita in km.", ""),
    },
    "accessi": {
        "id_accesso": ColumnDoc(
            "Identificativo del contatto, unico. Non deve contenere il codice fiscale né altro che identifichi "
            "la persona.",
            "ACC-2025-000001",
        ),
        "data_accesso": ColumnDoc("Data del contatto allo sportello o alla sede.", "15/01/2025"),
        "id_sede": ColumnDoc("Codice della sede (hub o sportello) già caricata nella tabella delle sedi.", "SEDE-01"),
        "comune_residenza": ColumnDoc("Comune di residenza di chi si è rivolto alla sede (dell'ambito)."),
        "codice_fiscale": ColumnDoc(
            "Codice fiscale della persona, facoltativo: serve a collegare il contatto ai servizi ricevuti. "
            "Non viene conservato: viene sostituito da uno pseudonimo; sesso e anno di nascita ne sono ricavati."
        ),
        "esito": ColumnDoc(
            "INFORMAZIONE = solo informazioni; INVIO_SERVIZIO = inviato ad altro servizio; PRESA_IN_CARICO = presa in "
            "carico.",
            "PRESA_IN_CARICO",
        ),
    },
}


def column_doc(table: str, column: str) -> ColumnDoc | None:
    """The meaning and example of a column (None when nobody has described it yet: a test fails then)."""
    return COLUMN_DOCS.get(table, {}).get(column)
