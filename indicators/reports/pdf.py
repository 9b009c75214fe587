"""The PDF report: "Relazione di monitoraggio del Piano di Zona 2025–2027".

Built as HTML (A4, CSS print rules) with the same Plotly figures as the dashboard, rendered to PNG
and printed by headless Chromium (`images.BrowserSession`): tables break across pages with their
headers repeated, and the footer carries the page number and, for demo data, the demo label.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

from indicators import api, fmt, reorganisation, views
from indicators.reports import common
from indicators.reports.common import ReportContext
from indicators.reports.images import BrowserSession

TITLE = "Relazione di monitoraggio del Piano di Zona 2025–2027"

CSS = """
@page { size: A4; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", "Noto Sans", Arial, sans-serif; font-size: 9.5pt;
       color: #1d1d1d; line-height: 1.35; margin: 0; font-variant-ligatures: none; }
h1 { font-size: 22pt; color: #1f4e79; margin: 0 0 6mm 0; line-height: 1.15; }
h2 { font-size: 15pt; color: #1f4e79; border-bottom: 1.5pt solid #1f4e79; padding-bottom: 1.5mm; margin: 0 0 4mm 0; }
h3 { font-size: 12pt; color: #1f4e79; margin: 0 0 1.5mm 0; }
h4 { font-size: 10pt; margin: 3mm 0 1mm 0; }
p { margin: 0 0 2mm 0; }
.break { break-before: page; }
.muted { color: #5f5f5f; }
.small { font-size: 8pt; }
.demo { color: #b71c1c; font-weight: bold; }
.demo-box { border: 2pt solid #b71c1c; color: #b71c1c; font-weight: bold; font-size: 13pt; padding: 3mm 4mm;
            margin: 6mm 0; text-align: center; }
.prov-box { border: 1pt solid #ef6c00; background: #fff3e0; padding: 2mm 3mm; margin: 2mm 0; font-size: 8.5pt; }
.cover { height: 255mm; display: flex; flex-direction: column; }
.cover .top { margin-top: 35mm; }
.cover .ambito { font-size: 14pt; color: #333; margin-bottom: 2mm; }
.cover dl { display: grid; grid-template-columns: 45mm auto; row-gap: 2mm; font-size: 11pt; margin-top: 10mm; }
.cover dt { color: #5f5f5f; } .cover dd { margin: 0; font-weight: bold; }
.cover .bottom { margin-top: auto; font-size: 8.5pt; color: #5f5f5f; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { border-bottom: 0.5pt solid #cfcfcf; padding: 1.1mm 1.6mm; text-align: left; vertical-align: top; }
th { background: #eef3f8; font-weight: bold; font-size: 8.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.area td { background: #f6f6f6; font-weight: bold; color: #1f4e79; padding-top: 1.8mm; }
tr.total td { font-weight: bold; border-top: 1pt solid #888; }
.pill { display: inline-block; padding: 0.3mm 2mm; border-radius: 2mm; color: #fff; font-size: 8pt;
        font-weight: bold; white-space: nowrap; }
.pill.light { color: #1d1d1d; }
.counts { display: flex; gap: 3mm; margin: 3mm 0 5mm 0; }
.counts div { flex: 1; border-radius: 2mm; padding: 2.5mm; color: #fff; text-align: center; }
.counts b { display: block; font-size: 18pt; }
.indicator { break-before: page; }
.indicator .meta { font-size: 8pt; color: #5f5f5f; margin-bottom: 2mm; }
.reading { background: #eef3f8; border-left: 3pt solid #1f4e79; padding: 2mm 3mm; margin: 2mm 0 3mm 0;
           font-size: 10pt; }
.row { display: flex; gap: 4mm; align-items: flex-start; }
.row .map { flex: 0 0 88mm; } .row .map img { width: 88mm; }
td.unit { font-size: 7.5pt; color: #5f5f5f; }
html, body { max-width: 180mm; }
.row .side { flex: 1; }
.trend img { width: 180mm; }
.caption { font-size: 7.5pt; color: #5f5f5f; margin-top: 0.5mm; }
.scheda { border-top: 0.75pt solid #cfcfcf; padding-top: 3mm; margin-top: 3mm; }
.scheda h3, .scheda h4 { break-after: avoid; } .scheda table, .scheda ul { break-inside: avoid; }
table.summary td:first-child { width: 38%; }
.scheda ul { margin: 1mm 0 2mm 5mm; padding: 0; } .scheda li { margin: 0 0 0.6mm 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; color: #444; }
table.rio th.num { white-space: normal; } table.rio td:first-child { width: 32%; }
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text))


def _pill(stato: str) -> str:
    color = common.STATUS_COLORS.get(stato, "#bdbdbd")
    light = " light" if stato in ("a rischio", "senza obiettivo") else ""
    return f'<span class="pill{light}" style="background:{color}">{_e(stato)}</span>'


def _inline_md(text: str) -> str:
    """**bold** and `code` of the catalog's Markdown, escaped."""
    out = _e(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def markdown_html(md: str) -> str:
    """The small Markdown subset of `api.scheda` (headings, bullets, paragraphs) as HTML."""
    parts: list[str] = []
    in_list = False
    for line in md.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{_inline_md(stripped[2:])}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        if not stripped:
            continue
        if stripped.startswith("## "):
            parts.append(f"<h4>{_inline_md(stripped[3:])}</h4>")
        elif stripped.startswith("# "):
            parts.append(f"<h3>{_inline_md(stripped[2:])}</h3>")
        else:
            parts.append(f"<p>{_inline_md(stripped)}</p>")
    if in_list:
        parts.append("</ul>")
    return "\n".join(parts)


def scheda_markdown(indicator_id: str) -> str:
    """The catalog's indicator sheet without the status rule (printed once in the notes).

    Baselines and targets come from the public table instead (`_targets_table`): the sheet's own
    table reads the raw `obiettivi`, which could show a baseline that disclosure control hides.
    """
    md = api.scheda(indicator_id).split("## Come si calcola lo stato")[0]
    # the counting rules common to every indicator are printed once, in the notes
    return "\n".join(line for line in md.splitlines() if not line.startswith("Ogni persona (o nucleo)"))


# --- sections ---------------------------------------------------------------------------------


def _cover(ctx: ReportContext) -> str:
    demo = f'<div class="demo-box">{_e(common.DEMO_NOTE)}</div>' if ctx.is_demo else ""
    prov = f'<div class="prov-box">{_e(common.PROVISIONAL_NOTE)}</div>' if ctx.is_provisional else ""
    return f"""
<section class="cover">
  <div class="top">
    <div class="ambito">{_e(ctx.ambito_name)} · {_e(ctx.ambito.get("provincia", ""))}</div>
    <h1>{_e(TITLE)}</h1>
    {demo}
    <dl>
      <dt>Periodo</dt><dd>anno {_e(ctx.year_label)}</dd>
      <dt>Territorio</dt><dd>{_e(ctx.focus_label)}</dd>
      <dt>Dati aggiornati al</dt><dd>{_e(fmt.day(ctx.data_date))}</dd>
      <dt>Relazione generata il</dt><dd>{_e(fmt.moment(ctx.generated_at))}</dd>
      <dt>Capofila</dt><dd>{_e(ctx.ambito.get("capofila", ""))}</dd>
      <dt>Ente gestore</dt><dd>{_e(ctx.ambito.get("ente_gestore", ""))}</dd>
    </dl>
  </div>
  <div class="bottom">
    {prov}
    <p>Documento per l'Assemblea dei Sindaci e Regione {_e(ctx.ambito.get("regione", ""))}. Segreto statistico
    applicato: «{fmt.SUPPRESSED}» = dato non pubblicabile (riguarda troppo poche persone), mai 0.</p>
  </div>
</section>"""


def _summary(ctx: ReportContext) -> str:
    status_t = ctx.status_territory()
    ov = ctx.summary_frame()
    counts = views.status_counts(ov)
    boxes = "".join(
        f'<div style="background:{common.STATUS_COLORS[s]};{"color:#1d1d1d" if s == "a rischio" else ""}">'
        f"<b>{counts[s]}</b>{_e(s)}</div>"
        for s in common.STATUSES
    )
    other = ov.height - sum(counts.values())
    is_comune = ctx.territory_level == "comune"
    head_value = f"Valore {ctx.year}" + (f"<br>{_e(ctx.territory_name)}" if is_comune else "")
    status_head = f"<br>{_e(ctx.territory_label(status_t))}" if is_comune else ""
    rows = []
    for _area, nome_area, entries in ctx.areas():
        rows.append(f'<tr class="area"><td colspan="7">{_e(nome_area)}</td></tr>')
        for e in entries:
            v = ctx.cell(e.id, ctx.value_territory(e))
            s = ctx.cell(e.id, status_t) or {}
            value = _e(common.value_number(v, e.unita))
            if ctx.value_territory(e) != ctx.territory:
                value += f'<br><span class="muted small">{_e(ctx.territory_label(ctx.value_territory(e)))}</span>'
            rows.append(
                f"<tr><td>{_e(e.nome)}</td><td class='unit'>{_e(common.unit_label(e.unita))}</td>"
                f"<td class='num'>{value}</td>"
                f"<td class='num'>{_e(common.plain_number(s.get('obiettivo'), e.unita))}</td>"
                f"<td class='num'>{_e(common.plain_number(s.get('target_2027'), e.unita))}</td>"
                f"<td class='num'>{_e(common.plain_number(s.get('proiezione_2027'), e.unita))}</td>"
                f"<td>{_pill(common.status_text(s))}</td></tr>"
            )
    behind = views.furthest_behind(ov)
    names = {e.id: e.nome for e in ctx.entries}
    behind_items = "".join(
        f"<li><b>{_e(names.get(r['indicatore'], r['indicatore']))}</b>: {_e(views.reading(r, ctx.year))}</li>"
        for r in behind.iter_rows(named=True)
    )
    note_comune = (
        f"<p class='small muted'>Per i comuni il Piano non fissa obiettivi: obiettivi, proiezione e stato sono "
        f"quelli del sub-ambito {_e(ctx.territory_label(status_t))}.</p>"
        if is_comune
        else ""
    )
    return f"""
<section class="break">
  <h2>Sintesi: lo stato degli obiettivi</h2>
  <p>Stato al {_e(ctx.year_label)} di ciascun obiettivo per <b>{_e(ctx.territory_label(status_t))}</b>, rispetto
  alla retta che va dalla baseline 2024 all'obiettivo 2027 ({ov.height} indicatori; {other} senza obiettivo o
  non calcolabili).</p>
  <div class="counts">{boxes}</div>
  {note_comune}
  <table class="summary">
    <thead><tr><th>Indicatore</th><th>Unità di misura</th><th class="num">{head_value}</th>
    <th class="num">Obiettivo {ctx.year}{status_head}</th>
    <th class="num">Obiettivo 2027</th><th class="num">Proiezione 2027</th><th>Stato{status_head}</th></tr></thead>
    <tbody>{"".join(rows)}</tbody>
  </table>
  <h3>Gli obiettivi più indietro</h3>
  <ul>{behind_items or "<li>Nessun obiettivo è in ritardo.</li>"}</ul>
</section>"""


def _sub_ambito_table(ctx: ReportContext, entry) -> str:
    rows = []
    for item in ctx.sub_ambito_rows(entry):
        r = item["riga"] or {}
        cls = ' class="total"' if item["codice"] == common.AMBITO else ""
        mark = " ◄" if item["codice"] in (ctx.territory, ctx.parent_sub_ambito) else ""
        rows.append(
            f"<tr{cls}><td>{_e(item['etichetta'])}{mark}</td>"
            f"<td class='num'>{_e(common.value_number(item['riga'], entry.unita))}</td>"
            f"<td class='num'>{_e(common.plain_number(r.get('obiettivo'), entry.unita))}</td>"
            f"<td>{_pill(common.status_text(item['riga']))}</td></tr>"
        )
    prov = f" ({common.PROVISIONAL_LABEL})" if ctx.is_provisional else ""
    return f"""
<table>
  <thead><tr><th>Sub-ambito{_e(prov)}</th><th class="num">Valore {ctx.year}</th>
  <th class="num">Obiettivo {ctx.year}</th><th>Stato</th></tr></thead>
  <tbody>{"".join(rows)}</tbody>
</table>
<div class="caption">Valori in {_e(common.unit_label(entry.unita))}. {fmt.SUPPRESSED} = non pubblicabile;
{common.NOT_AVAILABLE} = non disponibile. ◄ = territorio della relazione.</div>"""


def _indicator(ctx: ReportContext, entry, first_of_area: str | None, images: dict[str, Path]) -> str:
    level = ctx.map_level(entry)
    subject = common.reading_subject(ctx, entry)
    area_title = f"<h2>{_e(first_of_area)}</h2>" if first_of_area else ""
    map_caption = (
        f"Mappa per {'comune' if level == 'comune' else 'sub-ambito'}, anno {ctx.year}. In grigio: "
        f"{fmt.SUPPRESSED} (non pubblicabile) o nessun dato."
        + (" Bordo rosso: il territorio della relazione." if ctx.territory_level != "ambito" else "")
        + (" Punti: hub e spoke." if entry.area == "organizzazione" else "")
    )
    direction = api.DIRECTION_LABELS[entry.direzione]
    return f"""
<section class="indicator">
  {area_title}
  <h3>{_e(entry.nome)}</h3>
  <div class="meta">{_e(entry.descrizione)} · Unità: {_e(entry.unita)} · {_e(direction)} ·
    <code>{_e(entry.id)}</code></div>
  <div class="reading"><b>{_e(subject)}.</b> {_e(common.reading(ctx, entry))}</div>
  <div class="row">
    <div class="map"><img src="{images[f"map_{entry.id}"].name}" alt="Mappa {_e(entry.nome)}">
      <div class="caption">{_e(map_caption)}</div></div>
    <div class="side">{_sub_ambito_table(ctx, entry)}</div>
  </div>
  <div class="trend"><img src="{images[f"trend_{entry.id}"].name}" alt="Andamento {_e(entry.nome)}">
    <div class="caption">Andamento per {_e(subject)}: valori osservati (il cerchio vuoto è l'anno in corso, da inizio
    anno), baseline 2024, obiettivi 2025–2027 e proiezione al 31/12/2027 con intervallo all'80%.
    {fmt.SUPPRESSED} = non pubblicabile.</div></div>
</section>"""


def _targets_table(ctx: ReportContext, entry) -> str:
    rows = []
    for item in ctx.sub_ambito_rows(entry):
        r = item["riga"] or {}
        cells = [r.get("baseline"), r.get("target_2025"), r.get("target_2026"), r.get("target_2027")]
        rows.append(
            f"<tr><td>{_e(item['etichetta'])}</td>"
            + "".join(f"<td class='num'>{_e(common.plain_number(c, entry.unita))}</td>" for c in cells)
            + "</tr>"
        )
    return (
        f"<h4>Baseline e obiettivi ({_e(common.unit_label(entry.unita))})</h4><table class='small'><thead><tr>"
        "<th>Territorio</th><th class='num'>Baseline 2024</th><th class='num'>Obiettivo 2025</th>"
        "<th class='num'>Obiettivo 2026</th><th class='num'>Obiettivo 2027</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _schede(ctx: ReportContext) -> str:
    items = [
        f'<div class="scheda">{markdown_html(scheda_markdown(e.id))}{_targets_table(ctx, e)}</div>' for e in ctx.entries
    ]
    return f"""
<section class="break">
  <h2>Schede degli indicatori</h2>
  <p>Definizione di ogni indicatore, come è calcolato e i suoi obiettivi (baseline nascosta dove il dato del 2024 non
  è pubblicabile). La regola dello stato è nelle note di metodo.</p>
  {"".join(items)}
</section>"""


def _text_table(rows: list[list[str]], numeric_from: int = 1, css: str = "small rio") -> str:
    """A table of text cells (header row first); columns from `numeric_from` right-aligned."""
    head = "".join(f"<th{' class=num' if j >= numeric_from else ''}>{_e(c)}</th>" for j, c in enumerate(rows[0]))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if j >= numeric_from else ''}>{_e(c)}</td>" for j, c in enumerate(r))
        + "</tr>"
        for r in rows[1:]
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _reorganisation(ctx: ReportContext) -> str:
    """The «Riorganizzazione» section: pilot vs others, proximity, équipe load, equity (text and tables)."""
    sec = ctx.reorganisation
    if sec is None:
        return ""
    pilot = (
        _text_table(sec.pilot_rows(), numeric_from=2)
        if len(sec.pilot_rows()) > 1
        else "<p><b>Nessuna stima pubblicabile</b> per questo documento.</p>"
    )
    notes = "".join(f"<p class='small muted'>{_e(n)}</p>" for n in (*sec.pilot_notes, *sec.notes))
    prox_notes = "".join(f"<p class='small muted'>{_e(n)}</p>" for n in sec.proximity_notes)
    load = f"<p>{_e(sec.caseload_note)}</p>" if sec.caseload_note else ""
    return f"""
<section class="break">
  <h2>Riorganizzazione: il nuovo modello alla prova</h2>
  <h3>Sub-ambiti pilota e altri</h3>
  <p>{_e(sec.design)}</p>
  {f'<div class="reading">{_e(sec.p_min)}</div>' if sec.p_min else ""}
  {pilot}
  {notes}
  <h3>Vicinanza dei punti di accesso (hub e spoke)</h3>
  {_text_table(sec.proximity_rows())}
  {prox_notes}
  <h3>Carico delle équipe ({sec.year})</h3>
  {load}
  {_text_table(sec.caseload_rows())}
  <p class="small muted">Persone con almeno un intervento attivo nell'anno per operatore a tempo pieno in servizio al
  31 dicembre. {fmt.SUPPRESSED} = non pubblicabile.</p>
  <h3>Equità tra sub-ambiti ({sec.year})</h3>
  <p class="small">Disparità (CV): di quanto i valori dei sub-ambiti si scostano in media dal loro valore medio (0% =
  tutti uguali; ogni sub-ambito pesa per i suoi residenti); «Dal {reorganisation.baseline_year(sec.equity)}»: se la
  disparità si restringe o si allarga.</p>
  {_text_table(sec.equity_rows())}
</section>"""


def _notes(ctx: ReportContext) -> str:
    paragraphs = "".join(f"<h4>{_e(title)}</h4><p>{_e(text)}</p>" for title, text in common.method_notes(ctx))
    sub_rows = "".join(
        f"<tr><td>{_e(code)}</td><td>{_e(name)}</td><td>{_e(', '.join(comuni))}</td></tr>"
        for code, name, comuni in common.composition(ctx)
    )
    prov = " (PROVVISORIA)" if ctx.is_provisional else ""
    return f"""
<section class="break">
  <h2>Note di metodo</h2>
  {paragraphs}
  {markdown_html(api.status_rule_text())}
  <h4>Composizione dei sub-ambiti{_e(prov)}</h4>
  <table class="small"><thead><tr><th>Codice</th><th>Sub-ambito</th><th>Comuni</th></tr></thead>
  <tbody>{sub_rows}</tbody></table>
</section>"""


def report_html(ctx: ReportContext, images: dict[str, Path]) -> str:
    """The whole report as one HTML document (images referenced by file name)."""
    sections = [_cover(ctx), _summary(ctx)]
    for _, nome_area, entries in ctx.areas():
        for i, e in enumerate(entries):
            sections.append(_indicator(ctx, e, nome_area if i == 0 else None, images))
    sections += [_reorganisation(ctx), _schede(ctx), _notes(ctx)]
    return (
        f'<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>{_e(TITLE)}</title>'
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def footer_html(ctx: ReportContext) -> str:
    demo = f'<br><b style="color:#b71c1c">{_e(common.DEMO_LABEL)}</b>' if ctx.is_demo else ""
    return (
        '<div style="font-family: DejaVu Sans, sans-serif; font-size: 7pt; color: #555; width: 100%; '
        'margin: 0 15mm; display: flex; justify-content: space-between; align-items: flex-end;">'
        f"<span>{_e(ctx.ambito_name)} · Monitoraggio {_e(ctx.plan_name)} · anno {ctx.year} · "
        f"{_e(ctx.focus_label)}{demo}</span>"
        '<span style="white-space: nowrap; padding-left: 4mm;">pagina <span class="pageNumber"></span> di '
        '<span class="totalPages"></span></span></div>'
    )


def write_pdf(ctx: ReportContext, out: Path) -> Path:
    """Render the figures, lay out the HTML and print it to `out` (one Chromium session)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pdz-report-") as tmp, BrowserSession(Path(tmp)) as browser:
        images = browser.render(common.figures(ctx))
        (Path(tmp) / "report.html").write_text(report_html(ctx, images), encoding="utf-8")
        browser.print_pdf("report.html", out, footer_html(ctx))
    return out
