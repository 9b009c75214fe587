"""The PPTX deck for the Assemblea dei Sindaci (python-pptx), 16:9 and editable.

The default template's layouts are widened to 16:9, so titles are real title placeholders;
text, counts and tables are real text boxes and tables; only the map and the trend are images.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc import serialized
from pptx.util import Emu, Inches, Pt

from indicators import fmt, reorganisation, views
from indicators.reports import common
from indicators.reports.common import AMBITO, ReportContext

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
BLUE = RGBColor(0x1F, 0x4E, 0x79)
GREY = RGBColor(0x5F, 0x5F, 0x5F)
RED = RGBColor(0xB7, 0x1C, 0x1C)
READING_NAME = "Lettura"  # the name of the reading text box on each indicator slide
COMPARISON_NAME = "Confronti"  # the text box of the outside comparisons under the sub-ambito table
LAYOUT_TITLE, LAYOUT_TITLE_ONLY = 0, 5


def _write_part(self, pack_uri, blob: bytes) -> None:
    """python-pptx's zip writer, storing the images as they are: they are PNGs (already deflated), and
    deflating 58 of them again was a sixth of the time of a deck."""
    stored = pack_uri.membername.startswith("ppt/media/") and blob[:8] == b"\x89PNG\r\n\x1a\n"
    self._zipf.writestr(pack_uri.membername, blob, compress_type=zipfile.ZIP_STORED if stored else None)


if hasattr(serialized, "_ZipPkgWriter"):  # python-pptx 1.0.x (pinned); another version keeps its own writer
    serialized._ZipPkgWriter.write = _write_part


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


def _widen(prs) -> None:
    """16:9 slides; stretch the 4:3 template's placeholders so the layouts stay usable."""
    factor = WIDTH / prs.slide_width
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    shapes = list(prs.slide_master.placeholders)
    for layout in prs.slide_layouts:
        shapes += list(layout.placeholders)
    for ph in shapes:
        if ph.left is not None and ph.width is not None:
            ph.left, ph.width = Emu(int(ph.left * factor)), Emu(int(ph.width * factor))


def _text(
    slide,
    left,
    top,
    width,
    height,
    text: str,
    size: int = 14,
    bold: bool = False,
    color=None,
    align=PP_ALIGN.LEFT,
    name: str | None = None,
):
    box = slide.shapes.add_textbox(left, top, width, height)
    if name:
        box.name = name
    tf = box.text_frame
    tf.word_wrap = True
    p = tf.paragraphs[0]
    p.alignment = align
    run = p.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return box


def _footer(slide, ctx: ReportContext, with_sub_ambiti: bool = False) -> None:
    text = f"{ctx.ambito_name} · {ctx.plan_name} · anno {ctx.year} · dati al {fmt.day(ctx.data_date)}"
    if with_sub_ambiti and ctx.is_provisional:
        text += " · sub-ambiti in composizione provvisoria"
    _text(slide, Inches(0.4), Inches(7.05), Inches(9.4), Inches(0.35), text, size=10, color=GREY)
    if ctx.is_demo:
        _text(
            slide,
            Inches(9.6),
            Inches(7.02),
            Inches(3.4),
            Inches(0.4),
            common.DEMO_LABEL,
            size=12,
            bold=True,
            color=RED,
            align=PP_ALIGN.RIGHT,
            name="Etichetta dati dimostrativi",
        )


def _title(slide, text: str, size: int = 28) -> None:
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.4), Inches(0.2), Inches(12.5), Inches(0.85)
    title.text = text
    tf = title.text_frame
    tf.vertical_anchor = MSO_ANCHOR.MIDDLE
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        for r in p.runs:
            r.font.size = Pt(size)
            r.font.bold = True
            r.font.color.rgb = BLUE


def _table(
    slide,
    left,
    top,
    width,
    rows: list[list[str]],
    col_widths: list[float],
    size: int = 12,
    row_height: float = 0.34,
    status_col: int | None = None,
):
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, Inches(row_height * len(rows)))
    table = shape.table
    for j, w in enumerate(col_widths):
        table.columns[j].width = Inches(w)
    for i, values in enumerate(rows):
        table.rows[i].height = Inches(row_height)
        for j, value in enumerate(values):
            cell = table.cell(i, j)
            cell.text = value
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            para = cell.text_frame.paragraphs[0]
            para.alignment = PP_ALIGN.RIGHT if (j > 0 and j != status_col and i > 0) else PP_ALIGN.LEFT
            for r in para.runs:
                r.font.size = Pt(size)
                r.font.bold = i == 0
            if i > 0 and j == status_col and value in common.STATUS_COLORS:
                cell.fill.solid()
                cell.fill.fore_color.rgb = _rgb(common.STATUS_COLORS[value])
                light = value in ("a rischio", "senza obiettivo", "non calcolabile")
                for r in para.runs:
                    r.font.color.rgb = RGBColor(0x1D, 0x1D, 0x1D) if light else RGBColor(0xFF, 0xFF, 0xFF)
    return shape


# --- slides -----------------------------------------------------------------------------------


def _title_slide(prs, ctx: ReportContext) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE])
    slide.shapes.title.text = f"Monitoraggio del {ctx.plan_name}"
    for p in slide.shapes.title.text_frame.paragraphs:
        for r in p.runs:
            r.font.color.rgb = BLUE
            r.font.bold = True
    subtitle = slide.placeholders[1]
    subtitle.text = (
        f"{ctx.ambito_name} · Assemblea dei Sindaci\n"
        f"Anno {ctx.year_label} · {ctx.focus_label}\n"
        f"Dati aggiornati al {fmt.day(ctx.data_date)} · generato il {fmt.day(ctx.generated_at.date())}"
    )
    for p in subtitle.text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(20)
            r.font.color.rgb = GREY
    if ctx.is_demo:
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(2.2), Inches(0.5), Inches(8.9), Inches(0.8))
        box.name = "Etichetta dati dimostrativi"
        box.fill.solid()
        box.fill.fore_color.rgb = RGBColor(0xFF, 0xEB, 0xEE)
        box.line.color.rgb = RED
        tf = box.text_frame
        tf.text = common.DEMO_LABEL + ": numeri inventati per provare lo strumento"
        for r in tf.paragraphs[0].runs:
            r.font.size, r.font.bold, r.font.color.rgb = Pt(20), True, RED
        tf.paragraphs[0].alignment = PP_ALIGN.CENTER
    _footer(slide, ctx)


def _summary_slide(prs, ctx: ReportContext) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    status_t = ctx.status_territory()
    _title(slide, f"Sintesi {ctx.year}: a che punto sono gli obiettivi")
    ov = ctx.summary_frame()
    counts = views.status_counts(ov)
    _text(
        slide,
        Inches(0.4),
        Inches(1.05),
        Inches(12.5),
        Inches(0.45),
        f"Stato dei {ov.height} obiettivi per {ctx.territory_label(status_t)} rispetto alla retta baseline 2024 → "
        f"obiettivo 2027",
        size=16,
        color=GREY,
    )
    for i, s in enumerate(common.STATUSES):
        left = Inches(0.4 + i * 3.15)
        box = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, Inches(1.6), Inches(2.95), Inches(1.25))
        box.name = f"Conteggio {s}"
        box.fill.solid()
        box.fill.fore_color.rgb = _rgb(common.STATUS_COLORS[s])
        box.line.fill.background()
        tf = box.text_frame
        dark = s == "a rischio"
        tf.text = str(counts[s])
        tf.add_paragraph().text = s
        for k, p in enumerate(tf.paragraphs):
            p.alignment = PP_ALIGN.CENTER
            for r in p.runs:
                r.font.size = Pt(36 if k == 0 else 18)
                r.font.bold = k == 0
                r.font.color.rgb = RGBColor(0x1D, 0x1D, 0x1D) if dark else RGBColor(0xFF, 0xFF, 0xFF)
    behind = views.furthest_behind(ov)
    names = {e.id: e for e in ctx.entries}
    _text(
        slide,
        Inches(0.4),
        Inches(3.05),
        Inches(12.5),
        Inches(0.45),
        "Gli obiettivi più indietro",
        size=18,
        bold=True,
        color=BLUE,
    )
    rows = [["Indicatore", "Unità di misura", f"Valore {ctx.year}", "Obiettivo 2027", "Proiezione 2027", "Stato"]]
    for r in behind.iter_rows(named=True):
        e = names[r["indicatore"]]
        rows.append(
            [
                e.nome,
                e.unita,
                common.value_number(r, e.unita),
                common.plain_number(r.get("target_2027"), e.unita),
                common.plain_number(r.get("proiezione_2027"), e.unita),
                common.status_text(r),
            ]
        )
    if len(rows) == 1:
        rows.append(["Nessun obiettivo è in ritardo", "", "", "", "", ""])
    _table(
        slide,
        Inches(0.4),
        Inches(3.55),
        Inches(12.5),
        rows,
        [4.6, 2.9, 1.3, 1.3, 1.3, 1.1],
        size=13,
        row_height=0.45,
        status_col=5,
    )
    if ctx.territory_level == "comune":
        _text(
            slide,
            Inches(0.4),
            Inches(6.5),
            Inches(12.5),
            Inches(0.4),
            f"Per i comuni il Piano non fissa obiettivi: lo stato è quello del sub-ambito "
            f"{ctx.territory_label(status_t)}.",
            size=12,
            color=GREY,
        )
    _footer(slide, ctx, with_sub_ambiti=ctx.territory_level != "ambito")


def _section_slide(prs, ctx: ReportContext, nome_area: str, entries) -> None:
    """The area's indicators at a glance: value, 2027 target and status for the status territory."""
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, nome_area, size=34)
    status_t = ctx.status_territory()
    _text(
        slide,
        Inches(0.4),
        Inches(1.1),
        Inches(12.5),
        Inches(0.45),
        f"{len(entries)} indicatori · {ctx.territory_label(status_t)} · anno {ctx.year}",
        size=16,
        color=GREY,
    )
    rows = [["Indicatore", "Unità di misura", f"Valore {ctx.year}", "Obiettivo 2027", "Stato"]]
    for e in entries:
        r = ctx.cell(e.id, status_t)
        rows.append(
            [
                e.nome,
                e.unita,
                common.value_number(r, e.unita),
                common.plain_number((r or {}).get("target_2027"), e.unita),
                common.status_text(r),
            ]
        )
    _table(
        slide,
        Inches(0.4),
        Inches(1.75),
        Inches(12.5),
        rows,
        [5.0, 3.1, 1.5, 1.5, 1.4],
        size=15,
        row_height=0.6,
        status_col=4,
    )
    _footer(slide, ctx, with_sub_ambiti=ctx.territory_level != "ambito")


def _indicator_slide(prs, ctx: ReportContext, entry, images: dict[str, bytes]) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, entry.nome, size=26)
    direction = "più alto è meglio" if entry.direzione == "alto" else "più basso è meglio"
    subtitle = f"{entry.nome_area} · {entry.unita} · {direction}"
    _text(slide, Inches(0.4), Inches(0.95), Inches(12.5), Inches(0.4), subtitle, size=13, color=GREY)
    slide.shapes.add_picture(io.BytesIO(images[f"map_{entry.id}"]), Inches(0.3), Inches(1.45), height=Inches(4.45))
    level = ctx.map_level(entry)
    _text(
        slide,
        Inches(0.3),
        Inches(5.95),
        Inches(5.7),
        Inches(0.3),
        f"Mappa per {'comune' if level == 'comune' else 'sub-ambito'}, {ctx.year}. Blu = meglio, arancione = peggio; "
        f"grigio: {fmt.SUPPRESSED}; bianco: nessun dato"
        + ("; contorno nero: territorio scelto" if ctx.territory_level != "ambito" else ""),
        size=10,
        color=GREY,
    )
    slide.shapes.add_picture(io.BytesIO(images[f"trend_{entry.id}"]), Inches(6.1), Inches(1.4), width=Inches(6.9))
    rows_data = ctx.sub_ambito_rows(entry)
    names = dict(ctx.sub_ambiti)  # sub-ambiti by name, as on the screens (never SA1…SA6)
    header = [f"{ctx.year}"] + [
        names.get(r["codice"], r["codice"]) if r["codice"] != AMBITO else "Ambito" for r in rows_data
    ]
    values = ["Valore"] + [common.value_number(r["riga"], entry.unita) for r in rows_data]
    prov = " (provvisori)" if ctx.is_provisional else ""
    _text(
        slide,
        Inches(6.1),
        Inches(4.5),
        Inches(6.9),
        Inches(0.3),
        f"Valori per sub-ambito{prov}, in {common.unit_label(entry.unita)}",
        size=11,
        color=GREY,
    )
    statuses = ["Stato"] + [common.status_text(r["riga"]) for r in rows_data]
    table = _table(
        slide,
        Inches(6.1),
        Inches(4.8),
        Inches(6.9),
        [header, values, statuses],
        [0.9] + [6.0 / (len(header) - 1)] * (len(header) - 1),
        size=11,
        row_height=0.36,
    )
    for j in range(1, len(header)):  # names are longer than codes: smaller, wrapped
        for para in table.table.cell(0, j).text_frame.paragraphs:
            for r in para.runs:
                r.font.size = Pt(9)
    for j, s in enumerate(statuses[1:], start=1):
        cell = table.table.cell(2, j)
        para = cell.text_frame.paragraphs[0]
        para.alignment = PP_ALIGN.CENTER
        for r in para.runs:
            r.font.size = Pt(9)
        if s in common.STATUS_COLORS:
            cell.fill.solid()
            cell.fill.fore_color.rgb = _rgb(common.STATUS_COLORS[s])
            if s not in ("a rischio", "senza obiettivo", "non calcolabile"):
                for r in para.runs:
                    r.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
    note = common.comparison_note(ctx, entry)
    if note:  # the outside territories' values under the table, with their source
        _text(
            slide, Inches(6.1), Inches(5.92), Inches(6.9), Inches(0.5), note, size=9, color=GREY, name=COMPARISON_NAME
        )
    subject = common.reading_subject(ctx, entry)
    box = _text(slide, Inches(0.4), Inches(6.45), Inches(12.5), Inches(0.55), "", size=15, name=READING_NAME)
    p = box.text_frame.paragraphs[0]
    p.runs[0].text = f"{subject}. "
    p.runs[0].font.bold = True
    run = p.add_run()
    run.text = common.reading(ctx, entry)
    run.font.size = Pt(15)
    _footer(slide, ctx, with_sub_ambiti=True)


def _paragraphs(slide, left, top, width, height, lines: list[str], size: int = 13) -> None:
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        r = p.add_run()
        r.text = line
        r.font.size = Pt(size)
        p.space_after = Pt(4)


def _reorganisation_slides(prs, ctx: ReportContext) -> None:
    """Pilot vs others, proximity, équipe load, equity: one slide each, text and tables."""
    sec = ctx.reorganisation
    if sec is None:
        return
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, "Riorganizzazione: sub-ambiti pilota e altri")
    lines = [sec.design] + ([sec.p_min] if sec.p_min else [])
    _paragraphs(slide, Inches(0.4), Inches(1.05), Inches(12.5), Inches(1.5), lines, size=13)
    rows = sec.pilot_rows()
    shown, more = rows[:8], len(rows) - 8  # 7 estimates fit; the others are in the PDF and the workbook
    notes = list(sec.pilot_notes[:1]) + sec.notes
    if more > 0:
        notes.insert(0, f"Altre {more} stime nella relazione PDF e nel foglio Excel.")
    top = 2.6
    if len(shown) > 1:
        _table(
            slide,
            Inches(0.4),
            Inches(top),
            Inches(12.5),
            shown,
            [3.9, 1.6, 1.3, 1.9, 1.0, 2.8],
            size=12,
            row_height=0.38,
        )
        top += 0.38 * len(shown) + 0.15
    else:
        notes.insert(0, "Nessuna stima pubblicabile per questo documento.")
    _paragraphs(slide, Inches(0.4), Inches(top), Inches(12.5), Inches(1.1), notes, size=11)
    _footer(slide, ctx, with_sub_ambiti=True)

    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, f"Vicinanza dei punti di accesso (soglia {reorganisation.threshold_text(sec.soglia)} minuti)")
    rows = sec.proximity_rows()
    _table(
        slide,
        Inches(0.4),
        Inches(1.2),
        Inches(12.5),
        rows,
        [2.6, 0.9, 1.2, 2.3, 2.3, 1.0, 1.1, 1.1],
        size=12,
        row_height=0.45,
    )
    _paragraphs(
        slide, Inches(0.4), Inches(1.35 + 0.45 * len(rows)), Inches(12.5), Inches(1.4), sec.proximity_notes, size=11
    )
    _footer(slide, ctx, with_sub_ambiti=True)

    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, f"Carico delle équipe ({sec.year})")
    rows = sec.caseload_rows()
    if sec.caseload_note:
        _paragraphs(slide, Inches(0.4), Inches(1.05), Inches(12.5), Inches(0.9), [sec.caseload_note], size=14)
    _table(
        slide,
        Inches(0.4),
        Inches(2.0),
        Inches(12.5),
        rows,
        [2.9, 1.4, 1.2, 1.8, 1.6, 1.8, 1.8],
        size=12,
        row_height=0.45,
    )
    _footer(slide, ctx, with_sub_ambiti=True)

    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, f"Equità tra sub-ambiti ({sec.year}): dove la distanza è maggiore")
    rows = sec.equity_rows(limit=10)
    note = (
        "Disparità (CV): di quanto i sub-ambiti si scostano in media dal loro valore medio (0% = tutti uguali). "
        "I 10 indicatori con la disparità più alta; tutti nella relazione PDF e nel foglio Excel."
    )
    _paragraphs(slide, Inches(0.4), Inches(1.0), Inches(12.5), Inches(0.6), [note], size=12)
    _table(slide, Inches(0.4), Inches(1.65), Inches(12.5), rows, [4.6, 1.5, 1.4, 2.6, 2.4], size=11, row_height=0.42)
    _footer(slide, ctx, with_sub_ambiti=True)


def _notes_slide(prs, ctx: ReportContext) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
    _title(slide, "Note di metodo")
    box = slide.shapes.add_textbox(Inches(0.4), Inches(1.15), Inches(12.5), Inches(5.8))
    tf = box.text_frame
    tf.word_wrap = True
    first = True
    for title, text in common.method_notes(ctx):
        p = tf.paragraphs[0] if first else tf.add_paragraph()
        first = False
        r = p.add_run()
        r.text = f"{title}. "
        r.font.bold, r.font.size = True, Pt(12)
        r = p.add_run()
        r.text = text
        r.font.size = Pt(12)
        p.space_after = Pt(6)
    _footer(slide, ctx)


def write_pptx(
    ctx: ReportContext,
    out: Path,
    images: dict[str, bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Title, summary, one section slide per area, one slide per indicator, notes. No browser."""
    from indicators.reports.images import report_images

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = images if images is not None else report_images(ctx, progress)
    prs = Presentation()
    _widen(prs)
    prs.core_properties.title = f"Monitoraggio {ctx.plan_name} – {ctx.ambito_name}" + (
        f" – {common.DEMO_LABEL}" if ctx.is_demo else ""
    )
    _title_slide(prs, ctx)
    _summary_slide(prs, ctx)
    for _, nome_area, entries in ctx.areas():
        _section_slide(prs, ctx, nome_area, entries)
        for e in entries:
            _indicator_slide(prs, ctx, e, images)
    _reorganisation_slides(prs, ctx)
    _notes_slide(prs, ctx)
    prs.save(str(out))
    return out
