"""The Assemblea dei Sindaci, one objective at a time: what each screen (and each printed page) says.

Pure Polars over the public indicator table: no SQL, no Streamlit. The projector page
(`pages/assemblea.py`, drawn by `ui/assemblea.py`) and the printed handout
(`indicators/reports/assemblea.py`) take their words and numbers from here, so a screen and
its page of paper say the same thing.

    options = territory_options(territories, levels, "Ambito Cremasco")
    for s in slides(table, territories, api.catalog(), 2025, options["019035"], levels):
        s.entry.nome, s.status, s.value_text, s.target_text, s.reading

A territory is chosen once for the whole session: the ambito, a sub-ambito or a comune. An
indicator that is not published for the chosen level (the organisation's, for a comune) shows the
value of the comune's sub-ambito, and the slide says so (`note`): the same rule as the reports
(`ReportContext.value_territory`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from indicators import fmt, views
from indicators.definitions import Indicator

AMBITO = "AMBITO"
BEHIND = ("non in linea", "a rischio")
NO_DATA = "nessun dato"
NO_TARGET = "senza obiettivo"

# The status badge: «meglio» blue, «peggio» orange (told apart with the common colour-vision
# deficiencies, unlike green and red), light or dark by how far; grey when there is no status.
# Text colours give at least 4.5:1 on their background (WCAG 2.1 AA); the words are always
# written, so the colour is never the only carrier (WCAG 1.4.1).
STATUS_STYLE: dict[str, tuple[str, str]] = {  # status -> (background, text)
    "raggiunto": ("#1f4e79", "#ffffff"),
    "in linea": ("#92c5de", "#111111"),
    "a rischio": ("#fdb863", "#111111"),
    "non in linea": ("#8c3d04", "#ffffff"),
}
NEUTRAL_STYLE = ("#efefef", "#111111")  # senza obiettivo, non calcolabile, nessun dato, n.p.


@dataclass(frozen=True)
class Territory:
    """A territory the Assemblea can be about."""

    code: str  # AMBITO, a sub-ambito code, a comune's ISTAT code
    name: str
    level: str  # ambito | sub_ambito | comune
    sub_ambito: str | None = None  # a comune's sub-ambito
    sub_ambito_name: str | None = None

    @property
    def label(self) -> str:
        """How the territory is named in the chooser and in titles."""
        if self.level == "comune":
            return f"Comune di {self.name}"
        if self.level == "sub_ambito":
            return f"Sub-ambito {self.code} · {self.name}"
        return self.name


def territory_options(territories: pl.DataFrame, levels: Sequence[str], ambito_name: str) -> dict[str, Territory]:
    """The territories a role may choose, in order: the ambito, the sub-ambiti by code, the comuni by name.

    `territories`: `profiles.territories` (comune, nome, sub_ambito, nome_sub_ambito). `levels`: the
    role's (`Access.levels`): no comune for the Regione.
    """
    out = {AMBITO: Territory(AMBITO, ambito_name, "ambito")}
    if "sub_ambito" in levels:
        subs = territories.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").drop_nulls("sub_ambito")
        for code, name in subs.sort("sub_ambito").iter_rows():
            out[code] = Territory(code, name, "sub_ambito")
    if "comune" in levels:
        for r in territories.sort("nome").iter_rows(named=True):
            out[r["comune"]] = Territory(r["comune"], r["nome"], "comune", r["sub_ambito"], r["nome_sub_ambito"])
    return out


def default_territory(options: dict[str, Territory], *preferred: str | None) -> str:
    """The first of `preferred` (a sindaco's comune, then the filters of the page the user came from)
    that is an option, else the ambito."""
    for code in preferred:
        if code and code in options:
            return code
    return AMBITO


@dataclass(frozen=True)
class Slide:
    """One objective on one screen: the indicator, whose value is shown, the row of the public table."""

    entry: Indicator
    year: int
    territory: Territory  # the territory chosen for the session
    value_territory: str  # whose value is shown: the territory, or a comune's sub-ambito (see `note`)
    value_territory_name: str
    map_level: str  # comune | sub_ambito
    highlight: str | None  # the territory outlined on the map
    row: dict | None  # the public table's row (None: no value computed for this territory and year)

    @property
    def value_territory_label(self) -> str:
        """Whose value: the territory's name, or «Sub-ambito X» for a comune's sub-ambito."""
        if self.value_territory == self.territory.code:
            return self.territory.name
        if self.value_territory == AMBITO:
            return "Ambito"
        return f"Sub-ambito {self.value_territory_name}"

    @property
    def is_suppressed(self) -> bool:
        return bool(self.row and self.row.get("soppresso"))

    @property
    def status(self) -> str:
        """The engine's status words («in linea», «a rischio», …); «nessun dato» without a row."""
        if self.row is None:
            return NO_DATA
        return self.row.get("stato") or NO_TARGET

    @property
    def status_style(self) -> tuple[str, str]:
        """(background, text colour) of the status badge."""
        return STATUS_STYLE.get(self.status, NEUTRAL_STYLE)

    @property
    def is_behind(self) -> bool:
        return self.status in BEHIND

    @property
    def value_text(self) -> str:
        """The value with its unit; «n.p.» when suppressed, never a number; «nessun dato» without one."""
        if self.row is None or (self.row.get("valore") is None and not self.is_suppressed):
            return NO_DATA
        return fmt.with_unit(self.row.get("valore"), self.entry.unita, self.is_suppressed)

    @property
    def target_text(self) -> str:
        """The 2027 objective with its unit («–» when the plan sets none)."""
        target = self.row.get("target_2027") if self.row else None
        return fmt.with_unit(target, self.entry.unita)

    @property
    def reading(self) -> str:
        """The sentence of `views.reading` (value, objective, status, projection)."""
        if self.row is None:
            return f"Nel {self.year}: nessun dato."
        return views.reading(self.row, self.year)

    @property
    def note(self) -> str | None:
        """Why the value shown is not the chosen territory's own."""
        if self.value_territory == self.territory.code:
            return None
        return (
            f"Questo indicatore non è calcolato per comune: il valore è quello del sub-ambito "
            f"{self.value_territory_name}, di cui fa parte {self.territory.name}."
        )


def _value_territory(entry: Indicator, territory: Territory) -> tuple[str, str]:
    if territory.level in entry.livelli:
        return territory.code, territory.name
    if territory.level == "comune" and territory.sub_ambito and "sub_ambito" in entry.livelli:
        return territory.sub_ambito, territory.sub_ambito_name or territory.sub_ambito
    return AMBITO, "Ambito"


def _map_level(entry: Indicator, levels: Sequence[str]) -> str:
    return "comune" if "comune" in entry.livelli and "comune" in levels else "sub_ambito"


def _highlight(territory: Territory, map_level: str) -> str | None:
    if territory.level == map_level:
        return territory.code
    if territory.level == "comune" and map_level == "sub_ambito":
        return territory.sub_ambito
    return None


def slide(table: pl.DataFrame, entry: Indicator, year: int, territory: Territory, levels: Sequence[str]) -> Slide:
    """The slide of one indicator for the chosen territory and year."""
    code, name = _value_territory(entry, territory)
    level = _map_level(entry, levels)
    return Slide(
        entry=entry,
        year=year,
        territory=territory,
        value_territory=code,
        value_territory_name=name,
        map_level=level,
        highlight=_highlight(territory, level),
        row=views.cell(table, entry.id, code, year),
    )


def slides(
    table: pl.DataFrame,
    entries: Iterable[Indicator],
    year: int,
    territory: Territory,
    levels: Sequence[str],
    areas: Iterable[str] | None = None,
    only_behind: bool = False,
    ids: Iterable[str] | None = None,
) -> list[Slide]:
    """The slides in catalog order: all, or those of `areas`, or only the objectives behind
    («non in linea», «a rischio»), or exactly `ids` (the objectives shown, for printing)."""
    wanted_areas = set(areas) if areas is not None else None
    wanted_ids = set(ids) if ids is not None else None
    out = []
    for entry in entries:
        if wanted_areas is not None and entry.area not in wanted_areas:
            continue
        if wanted_ids is not None and entry.id not in wanted_ids:
            continue
        s = slide(table, entry, year, territory, levels)
        if only_behind and not s.is_behind:
            continue
        out.append(s)
    return out


def trend_rows(table: pl.DataFrame, s: Slide) -> pl.DataFrame:
    """The series the trend chart of a slide draws (its value territory, every year)."""
    return views.series(table, s.entry.id, s.value_territory)


def map_caption(s: Slide, highlight_name: str | None) -> str:
    """The sentence under a slide's map: what it shows; the colours, «n.p.» and «nessun dato» are in the map's
    own legend, the values in «Dati della mappa»."""
    level = "Comuni" if s.map_level == "comune" else "Sub-ambiti"
    text = f"{level}, anno {s.year}: colori, {fmt.SUPPRESSED} (non pubblicabile) e nessun dato nella legenda."
    if highlight_name:
        text += f" Contorno evidenziato: {highlight_name}."
    return text
