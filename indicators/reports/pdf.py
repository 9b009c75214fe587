"""The PDF report: "Relazione di monitoraggio del Piano di Zona 2025–2027".

Laid out with ReportLab (platypus): A4, tables that break across pages with their header repeated,
a footer with "pagina X di Y" and, for demo data, the demo label on every page. The maps and
charts are the PNGs of `images.py` (shared with the PPTX and cached), embedded as they are: the
PNG's compressed pixels go into the PDF unchanged (a PDF image with the PNG predictor), so no
image is decoded or compressed again. Fonts: DejaVu Sans, shipped with matplotlib. No browser.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable
from functools import lru_cache, partial
from html import escape
from pathlib import Path

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable, TopPadder

from indicators import api, fmt, reorganisation, views
from indicators.reports import common
from indicators.reports.common import ReportContext

TITLE = "Relazione di monitoraggio del Piano di Zona 2025–2027"
FONT, BOLD, MONO = "PDZSans", "PDZSans-Bold", "PDZMono"
PAGE_W, PAGE_H = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * mm, 16 * mm, 18 * mm
WIDTH = PAGE_W - 2 * MARGIN_X  # 180 mm
MAP_W = 88 * mm
GAP = 4 * mm

rl_config.useA85 = 0  # binary streams: ASCII85 only makes the file bigger and slower to write

BLUE = colors.HexColor("#1f4e79")
TEXT = colors.HexColor("#1d1d1d")
MUTED = colors.HexColor("#5f5f5f")
RED = colors.HexColor("#b71c1c")
RULE = colors.HexColor("#cfcfcf")
HEAD_BG = colors.HexColor("#eef3f8")
AREA_BG = colors.HexColor("#f6f6f6")


@lru_cache(maxsize=1)
def _fonts() -> None:
    """DejaVu Sans from matplotlib's data (the same glyphs as the figures), registered once."""
    import matplotlib
    from reportlab.lib.fonts import addMapping

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"), (MONO, "DejaVuSansMono.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, BOLD)
    addMapping(FONT, 0, 1, FONT)
    addMapping(FONT, 1, 1, BOLD)


def _style(name: str, **kw) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 9.5, "leading": 12.8, "textColor": TEXT, "spaceAfter": 2 * mm}
    base.update(kw)
    return ParagraphStyle(name, **base)


class _Styles:
    def __init__(self) -> None:
        self.body = _style("body")
        self.h1 = _style("h1", fontName=BOLD, fontSize=22, leading=25.3, textColor=BLUE, spaceAfter=6 * mm)
        self.h2 = _style(
            "h2", fontName=BOLD, fontSize=15, leading=18, textColor=BLUE, spaceAfter=1.5 * mm, keepWithNext=1
        )
        self.h3 = _style(
            "h3", fontName=BOLD, fontSize=12, leading=14.5, textColor=BLUE, spaceAfter=1.5 * mm, keepWithNext=1
        )
        self.h4 = _style(
            "h4", fontName=BOLD, fontSize=10, leading=12.5, spaceBefore=3 * mm, spaceAfter=1 * mm, keepWithNext=1
        )
        self.small = _style("small", fontSize=8, leading=10.4)
        self.muted = _style("muted", fontSize=8, leading=10.4, textColor=MUTED)
        self.caption = _style("caption", fontSize=7.5, leading=9.6, textColor=MUTED, spaceBefore=0.5 * mm, spaceAfter=0)
        self.meta = _style("meta", fontSize=8, leading=10.4, textColor=MUTED, spaceAfter=2 * mm)
        self.reading = _style("reading", fontSize=10, leading=13.5, spaceAfter=0)
        self.bullet = _style("bullet", leftIndent=5 * mm, bulletIndent=1.5 * mm, spaceAfter=0.6 * mm)
        self.cell = _style("cell", fontSize=9, leading=11.5, spaceAfter=0)
        self.cell_small = _style("cell_small", fontSize=8, leading=10, spaceAfter=0)
        self.cell_unit = _style("cell_unit", fontSize=7.5, leading=9.2, textColor=MUTED, spaceAfter=0)
        self.num = _style("num", fontSize=9, leading=11.5, alignment=TA_RIGHT, spaceAfter=0)
        self.num_small = _style("num_small", fontSize=8, leading=10, alignment=TA_RIGHT, spaceAfter=0)
        self.head = _style("head", fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0)
        self.head_num = _style("head_num", fontName=BOLD, fontSize=8.5, leading=10.5, alignment=TA_RIGHT, spaceAfter=0)
        self.area = _style("area", fontName=BOLD, fontSize=9, leading=11.5, textColor=BLUE, spaceAfter=0)
        self.ambito = _style("ambito", fontSize=14, leading=17, textColor=colors.HexColor("#333333"), spaceAfter=2 * mm)
        self.dt = _style("dt", fontSize=11, leading=14, textColor=MUTED, spaceAfter=0)
        self.dd = _style("dd", fontName=BOLD, fontSize=11, leading=14, spaceAfter=0)
        self.demo = _style(
            "demo", fontName=BOLD, fontSize=13, leading=16.5, textColor=RED, alignment=TA_CENTER, spaceAfter=0
        )
        self.bottom = _style("bottom", fontSize=8.5, leading=11, textColor=MUTED)


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=False)


def _inline_md(text: str) -> str:
    """**bold** and `code` of the catalog's Markdown, escaped, as ReportLab paragraph markup."""
    out = _e(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", rf'<font face="{MONO}" size="7.5" color="#444444">\1</font>', out)


def markdown_flowables(md: str, st: _Styles) -> list[Flowable]:
    """The small Markdown subset of `api.scheda` (headings, bullets, paragraphs) as flowables."""
    out: list[Flowable] = []
    for line in md.splitlines():
        s = line.strip()
        if not s:
            continue
        if s.startswith("- "):
            out.append(Paragraph(_inline_md(s[2:]), st.bullet, bulletText="•"))
        elif s.startswith("## "):
            out.append(Paragraph(_inline_md(s[3:]), st.h4))
        elif s.startswith("# "):
            out.append(Paragraph(_inline_md(s[2:]), st.h3))
        else:
            out.append(Paragraph(_inline_md(s), st.body))
    return out


def scheda_markdown(indicator_id: str) -> str:
    """The catalog's indicator sheet without the status rule (printed once in the notes).

    Baselines and targets come from the public table instead (`_targets_table`): the sheet's own
    table reads the raw `obiettivi`, which could show a baseline that disclosure control hides.
    """
    md = api.scheda(indicator_id).split("## Come si calcola lo stato")[0]
    # the counting rules common to every indicator are printed once, in the notes
    return "\n".join(line for line in md.splitlines() if not line.startswith("Ogni persona (o nucleo)"))


# --- flowables ----------------------------------------------------------------------------------------


class _PNGXObject(pdfdoc.PDFImageXObject):
    """A PDF image whose data is the PNG's own zlib stream (PNG predictors): nothing re-encoded."""

    def __init__(self, name: str, png: bytes) -> None:
        self.name = name
        self.width, self.height, self.streamContent = _png_parts(png)
        self.mask = None

    def format(self, document):
        stream = pdfdoc.PDFStream(content=self.streamContent)
        d = stream.dictionary
        d["Type"] = pdfdoc.PDFName("XObject")
        d["Subtype"] = pdfdoc.PDFName("Image")
        d["Width"] = self.width
        d["Height"] = self.height
        d["BitsPerComponent"] = 8
        d["ColorSpace"] = pdfdoc.PDFName("DeviceRGB")
        d["Filter"] = pdfdoc.PDFName("FlateDecode")
        d["DecodeParms"] = pdfdoc.PDFDictionary(
            {"Predictor": 15, "Colors": 3, "BitsPerComponent": 8, "Columns": self.width}
        )
        d["Length"] = len(self.streamContent)
        return stream.format(document)


def _png_parts(png: bytes) -> tuple[int, int, bytes]:
    """(width, height, concatenated IDAT data) of an 8-bit RGB, non-interlaced PNG."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width, height = 8, [], 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data)
            if (depth, color, interlace) != (8, 2, 0):
                raise ValueError("PNG must be 8-bit RGB, not interlaced")
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
        pos += 12 + length
    return width, height, b"".join(idat)


class PNGImage(Flowable):
    """A PNG at a given width (height from its aspect), embedded without re-encoding."""

    def __init__(self, png: bytes, width: float) -> None:
        super().__init__()
        w, h = struct.unpack(">II", png[16:24])
        self.png, self.width, self.height = png, width, width * h / w

    def wrap(self, *_):
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        name = "png" + hashlib.sha1(self.png).hexdigest()[:20]
        reg = canv._doc.getXObjectName(name)
        if not canv._doc.idToObject.get(reg):
            obj = _PNGXObject(name, self.png)
            canv._setXObjects(obj)
            canv._doc.Reference(obj, reg)
            canv._doc.addForm(name, obj)
        canv._currentPageHasImages = 1
        canv.saveState()
        canv.scale(self.width, self.height)
        canv._code.append(f"/{reg} Do")
        canv.restoreState()
        canv._formsinuse.append(name)


class Pill(Flowable):
    """The status as a coloured rounded label, as on the dashboard."""

    def __init__(self, stato: str, size: float = 7.5) -> None:
        super().__init__()
        self.stato, self.size = stato, size
        self.width = pdfmetrics.stringWidth(stato, BOLD, size) + 3.6 * mm
        self.height = size * 1.45

    def wrap(self, *_):
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(colors.HexColor(common.STATUS_COLORS.get(self.stato, "#bdbdbd")))
        c.roundRect(0, 0, self.width, self.height, self.height / 2, stroke=0, fill=1)
        light = self.stato in ("a rischio", "senza obiettivo")
        c.setFillColor(TEXT if light else colors.white)
        c.setFont(BOLD, self.size)
        c.drawCentredString(self.width / 2, self.height * 0.28, self.stato)


class CountBox(Flowable):
    """One of the four status counts of the summary (number above, status below)."""

    def __init__(self, count: int, stato: str, width: float) -> None:
        super().__init__()
        self.count, self.stato, self.width, self.height = count, stato, width, 17 * mm

    def wrap(self, *_):
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(colors.HexColor(common.STATUS_COLORS[self.stato]))
        c.roundRect(0, 0, self.width, self.height, 2 * mm, stroke=0, fill=1)
        c.setFillColor(TEXT if self.stato == "a rischio" else colors.white)
        c.setFont(BOLD, 18)
        c.drawCentredString(self.width / 2, self.height - 9 * mm, str(self.count))
        c.setFont(FONT, 9.5)
        c.drawCentredString(self.width / 2, 3 * mm, self.stato)


def _box(
    content: list[Flowable],
    background=None,
    border=None,
    border_width: float = 1,
    left_rule=None,
    padding: float = 2.5 * mm,
    width: float = WIDTH,
) -> Table:
    cmds = [
        ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding),
        ("TOPPADDING", (0, 0), (-1, -1), padding * 0.8),
        ("BOTTOMPADDING", (0, 0), (-1, -1), padding * 0.8),
    ]
    if background is not None:
        cmds.append(("BACKGROUND", (0, 0), (-1, -1), background))
    if border is not None:
        cmds.append(("BOX", (0, 0), (-1, -1), border_width, border))
    if left_rule is not None:
        cmds.append(("LINEBEFORE", (0, 0), (0, -1), 3, left_rule))
    return Table([[content]], colWidths=[width], style=TableStyle(cmds))


def _grid(
    rows: list[list],
    widths: list[float],
    header_rows: int = 1,
    extra: list | None = None,
    numbers: tuple[int, ...] = (),
    size: float = 9,
) -> Table:
    """A table in the report's style: shaded header repeated on every page, thin rules between rows.

    Cells given as plain strings are drawn as they are (no paragraph layout: a report has thousands
    of them), in `size` points, right-aligned in the `numbers` columns.
    """
    cmds = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size * 1.25),
        ("TEXTCOLOR", (0, 0), (-1, -1), TEXT),
        *[("ALIGN", (c, 0), (c, -1), "RIGHT") for c in numbers],
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 1.6 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 1.6 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.1 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.1 * mm),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_BG),
    ]
    return Table(rows, colWidths=widths, repeatRows=header_rows, style=TableStyle(cmds + (extra or [])), hAlign="LEFT")


def _h2(text: str, st: _Styles) -> list[Flowable]:
    return [
        Paragraph(_e(text), st.h2),
        HRFlowable(width="100%", thickness=1.5, color=BLUE, spaceBefore=0, spaceAfter=4 * mm),
    ]


# --- sections ---------------------------------------------------------------------------------


def _cover(ctx: ReportContext, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [
        Spacer(1, 35 * mm),
        Paragraph(f"{_e(ctx.ambito_name)} · {_e(ctx.ambito.get('provincia', ''))}", st.ambito),
        Paragraph(_e(TITLE), st.h1),
    ]
    if ctx.is_demo:
        out += [
            Spacer(1, 2 * mm),
            _box([Paragraph(_e(common.DEMO_NOTE), st.demo)], border=RED, border_width=2, padding=3.5 * mm),
            Spacer(1, 4 * mm),
        ]
    facts = [
        ("Periodo", f"anno {ctx.year_label}"),
        ("Territorio", ctx.focus_label),
        ("Dati aggiornati al", fmt.day(ctx.data_date)),
        ("Relazione generata il", fmt.moment(ctx.generated_at)),
        ("Capofila", ctx.ambito.get("capofila", "")),
        ("Ente gestore", ctx.ambito.get("ente_gestore", "")),
    ]
    out.append(Spacer(1, 6 * mm))
    out.append(
        Table(
            [[Paragraph(_e(k), st.dt), Paragraph(_e(v), st.dd)] for k, v in facts],
            colWidths=[45 * mm, WIDTH - 45 * mm],
            hAlign="LEFT",
            style=TableStyle(
                [
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ]
            ),
        )
    )
    bottom: list[Flowable] = []
    if ctx.is_provisional:
        bottom += [
            _box(
                [Paragraph(_e(common.PROVISIONAL_NOTE), _style("prov", fontSize=8.5, leading=11, spaceAfter=0))],
                background=colors.HexColor("#fff3e0"),
                border=colors.HexColor("#ef6c00"),
                padding=2.5 * mm,
            ),
            Spacer(1, 2 * mm),
        ]
    bottom.append(
        Paragraph(
            f"Documento per l'Assemblea dei Sindaci e Regione {_e(ctx.ambito.get('regione', ''))}. Segreto statistico "
            f"applicato: «{fmt.SUPPRESSED}» = dato non pubblicabile (riguarda troppo poche persone), mai 0.",
            st.bottom,
        )
    )
    out += [TopPadder(KeepTogether(bottom)), PageBreak()]
    return out


def _summary(ctx: ReportContext, st: _Styles) -> list[Flowable]:
    status_t = ctx.status_territory()
    ov = ctx.summary_frame()
    counts = views.status_counts(ov)
    other = ov.height - sum(counts.values())
    is_comune = ctx.territory_level == "comune"
    out = _h2("Sintesi: lo stato degli obiettivi", st)
    out.append(
        Paragraph(
            f"Stato al {_e(ctx.year_label)} di ciascun obiettivo per <b>{_e(ctx.territory_label(status_t))}</b>, "
            f"rispetto alla retta che va dalla baseline 2024 all'obiettivo 2027 ({ov.height} indicatori; {other} senza "
            "obiettivo o non calcolabili).",
            st.body,
        )
    )
    box_w = (WIDTH - 3 * 3 * mm) / 4
    boxes = Table(
        [[CountBox(counts[s], s, box_w) for s in common.STATUSES]],
        colWidths=[box_w + 3 * mm] * 3 + [box_w],
        hAlign="LEFT",
        style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]),
    )
    out += [Spacer(1, 1 * mm), boxes, Spacer(1, 4 * mm)]
    if is_comune:
        out.append(
            Paragraph(
                "Per i comuni il Piano non fissa obiettivi: obiettivi, proiezione e stato sono quelli del sub-ambito "
                f"{_e(ctx.territory_label(status_t))}.",
                st.muted,
            )
        )
    head_value = f"Valore {ctx.year}" + (f"<br/>{_e(ctx.territory_name)}" if is_comune else "")
    status_head = f"<br/>{_e(ctx.territory_label(status_t))}" if is_comune else ""
    rows: list[list] = [
        [
            Paragraph("Indicatore", st.head),
            Paragraph("Unità di misura", st.head),
            Paragraph(head_value, st.head_num),
            Paragraph(f"Obiettivo {ctx.year}{status_head}", st.head_num),
            Paragraph("Obiettivo 2027", st.head_num),
            Paragraph("Proiezione 2027", st.head_num),
            Paragraph(f"Stato{status_head}", st.head),
        ]
    ]
    extra = []
    for _area, nome_area, entries in ctx.areas():
        extra += [("SPAN", (0, len(rows)), (-1, len(rows))), ("BACKGROUND", (0, len(rows)), (-1, len(rows)), AREA_BG)]
        rows.append([Paragraph(_e(nome_area), st.area), "", "", "", "", "", ""])
        for e in entries:
            v = ctx.cell(e.id, ctx.value_territory(e))
            s = ctx.cell(e.id, status_t) or {}
            value = _e(common.value_number(v, e.unita))
            if ctx.value_territory(e) != ctx.territory:
                value += (
                    f'<br/><font size="7.5" color="#5f5f5f">{_e(ctx.territory_label(ctx.value_territory(e)))}</font>'
                )
            rows.append(
                [
                    Paragraph(_e(e.nome), st.cell),
                    Paragraph(_e(common.unit_label(e.unita)), st.cell_unit),
                    Paragraph(value, st.num) if "<br/>" in value else common.value_number(v, e.unita),
                    common.plain_number(s.get("obiettivo"), e.unita),
                    common.plain_number(s.get("target_2027"), e.unita),
                    common.plain_number(s.get("proiezione_2027"), e.unita),
                    Pill(common.status_text(s)),
                ]
            )
    widths = [46 * mm, 21 * mm, 20 * mm, 22 * mm, 22 * mm, 23 * mm, 26 * mm]
    out.append(_grid(rows, widths, extra=extra, numbers=(2, 3, 4, 5)))
    out.append(Spacer(1, 3 * mm))
    behind = views.furthest_behind(ov)
    names = {e.id: e.nome for e in ctx.entries}
    items = [
        Paragraph(
            f"<b>{_e(names.get(r['indicatore'], r['indicatore']))}</b>: {_e(views.reading(r, ctx.year))}",
            st.bullet,
            bulletText="•",
        )
        for r in behind.iter_rows(named=True)
    ]
    out += [
        Paragraph("Gli obiettivi più indietro", st.h3),
        *(items or [Paragraph("Nessun obiettivo è in ritardo.", st.bullet, bulletText="•")]),
    ]
    return out


def _sub_ambito_table(ctx: ReportContext, entry, st: _Styles, width: float) -> list[Flowable]:
    prov = (
        f'<br/><font name="{FONT}" size="7" color="#5f5f5f">({common.PROVISIONAL_LABEL})</font>'
        if ctx.is_provisional
        else ""
    )
    rows: list[list] = [
        [
            Paragraph(f"Sub-ambito{prov}", st.head),
            Paragraph(f"Valore {ctx.year}", st.head_num),
            Paragraph(f"Obiettivo {ctx.year}", st.head_num),
            Paragraph("Stato", st.head),
        ]
    ]
    extra = []
    for item in ctx.sub_ambito_rows(entry):
        r = item["riga"] or {}
        total = item["codice"] == common.AMBITO
        mark = " ◄" if item["codice"] in (ctx.territory, ctx.parent_sub_ambito) else ""
        label = f"<b>{_e(item['etichetta'])}{mark}</b>" if total else f"{_e(item['etichetta'])}{mark}"
        if total:
            extra += [
                ("LINEABOVE", (0, len(rows)), (-1, len(rows)), 1, colors.HexColor("#888888")),
                ("FONTNAME", (1, len(rows)), (2, len(rows)), BOLD),
            ]
        rows.append(
            [
                Paragraph(label, st.cell),
                common.value_number(item["riga"], entry.unita),
                common.plain_number(r.get("obiettivo"), entry.unita),
                Pill(common.status_text(item["riga"]), size=7),
            ]
        )
    pill_w = max(p.width for *_, p in rows[1:]) + 3.2 * mm
    widths = [width - 2 * 19 * mm - pill_w, 19 * mm, 19 * mm, pill_w]
    return [
        _grid(rows, widths, extra=extra, numbers=(1, 2)),
        Paragraph(
            f"Valori in {_e(common.unit_label(entry.unita))}. {fmt.SUPPRESSED} = non pubblicabile; "
            f"{common.NOT_AVAILABLE} = non disponibile. ◄ = territorio della relazione.",
            st.caption,
        ),
        *_comparison(ctx, entry, st),
    ]


def _comparison(ctx: ReportContext, entry, st: _Styles) -> list[Flowable]:
    """The outside territories' values under the table, with their source (nothing when none is loaded)."""
    note = common.comparison_note(ctx, entry)
    return [Paragraph(_e(note), st.caption)] if note else []


def _indicator(
    ctx: ReportContext, entry, first_of_area: str | None, images: dict[str, bytes], st: _Styles
) -> list[Flowable]:
    level = ctx.map_level(entry)
    subject = common.reading_subject(ctx, entry)
    map_caption = (
        f"Mappa per {'comune' if level == 'comune' else 'sub-ambito'}, anno {ctx.year}. Blu = meglio, arancione = "
        f"peggio; grigio: {fmt.SUPPRESSED} (non pubblicabile); bianco: nessun dato."
        + (" Contorno nero: il territorio della relazione." if ctx.territory_level != "ambito" else "")
        + (" Punti: hub e spoke." if entry.area == "organizzazione" else "")
    )
    direction = api.DIRECTION_LABELS[entry.direzione]
    out: list[Flowable] = [PageBreak()]
    if first_of_area:
        out += _h2(first_of_area, st)
    side_w = WIDTH - MAP_W - GAP
    row = Table(
        [
            [
                [PNGImage(images[f"map_{entry.id}"], MAP_W), Paragraph(_e(map_caption), st.caption)],
                _sub_ambito_table(ctx, entry, st, side_w),
            ]
        ],
        colWidths=[MAP_W + GAP, side_w],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), GAP),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    out += [
        Paragraph(_e(entry.nome), st.h3),
        Paragraph(
            f"{_e(entry.descrizione)} · Unità: {_e(entry.unita)} · {_e(direction)} · "
            f'<font face="{MONO}" size="7.5" color="#444444">{_e(entry.id)}</font>',
            st.meta,
        ),
        _box(
            [Paragraph(f"<b>{_e(subject)}.</b> {_e(common.reading(ctx, entry))}", st.reading)],
            background=HEAD_BG,
            left_rule=BLUE,
            padding=3 * mm,
        ),
        Spacer(1, 3 * mm),
        row,
        Spacer(1, 3 * mm),
        PNGImage(images[f"trend_{entry.id}"], WIDTH),
        Paragraph(
            f"Andamento per {_e(subject)}: valori osservati (il cerchio vuoto è l'anno in corso, da inizio "
            "anno), baseline 2024, obiettivi 2025–2027 e proiezione al 31/12/2027 con intervallo all'80%. "
            f"{fmt.SUPPRESSED} = non pubblicabile.",
            st.caption,
        ),
    ]
    return out


def _targets_table(ctx: ReportContext, entry, st: _Styles) -> list[Flowable]:
    rows: list[list] = [["Territorio", "Baseline 2024", "Obiettivo 2025", "Obiettivo 2026", "Obiettivo 2027"]]
    for item in ctx.sub_ambito_rows(entry):
        r = item["riga"] or {}
        cells = [r.get("baseline"), r.get("target_2025"), r.get("target_2026"), r.get("target_2027")]
        rows.append([item["etichetta"]] + [common.plain_number(c, entry.unita) for c in cells])
    bold = [("FONTNAME", (0, 0), (-1, 0), BOLD), ("FONTSIZE", (0, 0), (-1, 0), 8.5)]
    return [
        Paragraph(f"Baseline e obiettivi ({_e(common.unit_label(entry.unita))})", st.h4),
        _grid(rows, [60 * mm] + [30 * mm] * 4, extra=bold, numbers=(1, 2, 3, 4), size=8),
    ]


def _schede(ctx: ReportContext, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [
        PageBreak(),
        *_h2("Schede degli indicatori", st),
        Paragraph(
            "Definizione di ogni indicatore, come è calcolato e i suoi obiettivi (baseline nascosta dove il dato "
            "del 2024 non è pubblicabile). La regola dello stato è nelle note di metodo.",
            st.body,
        ),
    ]
    for e in ctx.entries:
        flow = markdown_flowables(scheda_markdown(e.id), st)
        out += [
            CondPageBreak(40 * mm),
            HRFlowable(width="100%", thickness=0.75, color=RULE, spaceBefore=3 * mm, spaceAfter=3 * mm),
        ]
        out += flow
        out.append(KeepTogether(_targets_table(ctx, e, st)))
    return out


def _text_grid(rows: list[list[str]], widths: list[float], st: _Styles, numeric_from: int = 1) -> Table:
    """A table of text cells (header row first): cells wrap, columns from `numeric_from` right-aligned."""
    head = [Paragraph(_e(c), st.head_num if j >= numeric_from else st.head) for j, c in enumerate(rows[0])]
    body = [
        [Paragraph(_e(c), st.num_small if j >= numeric_from else st.cell_small) for j, c in enumerate(r)]
        for r in rows[1:]
    ]
    return _grid([head, *body], widths)


def _reorganisation(ctx: ReportContext, st: _Styles) -> list[Flowable]:
    """The «Riorganizzazione» section: pilot vs others, proximity, équipe load, equity (text and tables)."""
    sec = ctx.reorganisation
    if sec is None:
        return []
    out: list[Flowable] = [PageBreak(), *_h2("Riorganizzazione: il nuovo modello alla prova", st)]
    out += [Paragraph("Sub-ambiti pilota e altri", st.h3), Paragraph(_e(sec.design), st.body)]
    if sec.p_min:
        out += [
            _box([Paragraph(_e(sec.p_min), st.reading)], background=HEAD_BG, left_rule=BLUE, padding=3 * mm),
            Spacer(1, 2 * mm),
        ]
    pilot = sec.pilot_rows()
    if len(pilot) > 1:
        out.append(_text_grid(pilot, [52 * mm, 26 * mm, 22 * mm, 30 * mm, 16 * mm, 34 * mm], st, numeric_from=2))
    else:
        out.append(Paragraph("<b>Nessuna stima pubblicabile</b> per questo documento.", st.body))
    out += [Paragraph(_e(n), st.muted) for n in (*sec.pilot_notes, *sec.notes)]
    out += [Paragraph("Vicinanza dei punti di accesso (hub e spoke)", st.h3)]
    out.append(
        _text_grid(sec.proximity_rows(), [36 * mm, 14 * mm, 14 * mm, 31 * mm, 29 * mm, 16 * mm, 16 * mm, 24 * mm], st)
    )
    out += [Paragraph(_e(n), st.muted) for n in sec.proximity_notes]
    out += [CondPageBreak(60 * mm), Paragraph(f"Carico delle équipe ({sec.year})", st.h3)]
    if sec.caseload_note:
        out.append(Paragraph(_e(sec.caseload_note), st.body))
    out.append(_text_grid(sec.caseload_rows(), [38 * mm, 20 * mm, 20 * mm, 22 * mm, 24 * mm, 26 * mm, 30 * mm], st))
    out.append(
        Paragraph(
            "Persone con almeno un intervento attivo nell'anno per operatore a tempo pieno in servizio al 31 "
            f"dicembre. {fmt.SUPPRESSED} = non pubblicabile.",
            st.muted,
        )
    )
    out += [CondPageBreak(60 * mm), Paragraph(f"Equità tra sub-ambiti ({sec.year})", st.h3)]
    out.append(
        Paragraph(
            "Disparità (CV): di quanto i valori dei sub-ambiti si scostano in media dal loro valore medio (0% = tutti "
            "uguali; ogni sub-ambito pesa per i suoi residenti); «Dal "
            f"{reorganisation.baseline_year(sec.equity)}»: se la disparità si restringe o si allarga.",
            st.small,
        )
    )
    out.append(_text_grid(sec.equity_rows(), [62 * mm, 20 * mm, 20 * mm, 40 * mm, 38 * mm], st))
    return out


def _notes(ctx: ReportContext, st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), *_h2("Note di metodo", st)]
    for title, text in common.method_notes(ctx):
        out += [Paragraph(_e(title), st.h4), Paragraph(_e(text), st.body)]
    out += markdown_flowables(api.status_rule_text(), st)
    prov = " (PROVVISORIA)" if ctx.is_provisional else ""
    rows: list[list] = [[Paragraph("Codice", st.head), Paragraph("Sub-ambito", st.head), Paragraph("Comuni", st.head)]]
    rows += [
        [
            Paragraph(_e(code), st.cell_small),
            Paragraph(_e(name), st.cell_small),
            Paragraph(_e(", ".join(comuni)), st.cell_small),
        ]
        for code, name, comuni in common.composition(ctx)
    ]
    out += [Paragraph(f"Composizione dei sub-ambiti{_e(prov)}", st.h4), _grid(rows, [18 * mm, 42 * mm, 120 * mm])]
    return out


def story(ctx: ReportContext, images: dict[str, bytes]) -> list[Flowable]:
    """The whole report as ReportLab flowables."""
    _fonts()
    st = _Styles()
    out = _cover(ctx, st) + _summary(ctx, st)
    for _, nome_area, entries in ctx.areas():
        for i, e in enumerate(entries):
            out += _indicator(ctx, e, nome_area if i == 0 else None, images, st)
    return out + _reorganisation(ctx, st) + _schede(ctx, st) + _notes(ctx, st)


# --- pages ------------------------------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds the pages until the end, then draws each footer with «pagina X di Y»."""

    def __init__(self, *args, footer: Callable[[Canvas, int, int], None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


def _footer(ctx: ReportContext, canv: Canvas, number: int, total: int) -> None:
    canv.saveState()
    canv.setFont(FONT, 7)
    canv.setFillColor(colors.HexColor("#555555"))
    y = 10 * mm
    if ctx.is_demo:
        canv.setFont(BOLD, 7)
        canv.setFillColor(RED)
        canv.drawString(MARGIN_X, y, common.DEMO_LABEL)
        y += 3.2 * mm
        canv.setFont(FONT, 7)
        canv.setFillColor(colors.HexColor("#555555"))
    canv.drawString(
        MARGIN_X, y, f"{ctx.ambito_name} · Monitoraggio {ctx.plan_name} · anno {ctx.year} · {ctx.focus_label}"
    )
    canv.drawRightString(PAGE_W - MARGIN_X, 10 * mm, f"pagina {number} di {total}")
    canv.restoreState()


def build_document(
    out: Path,
    flowables: list[Flowable],
    *,
    pagesize: tuple[float, float],
    margins: tuple[float, float, float],
    title: str,
    author: str,
    footer: Callable[[Canvas, int, int], None],
    subject: str = "",
) -> None:
    """Every PDF of the house (report, Assemblea handout): one body frame inside the margins (side, top,
    bottom), Italian document metadata, and `footer` drawn on each page with «pagina X di Y»."""
    side, top, bottom = margins
    page_w, page_h = pagesize
    doc = BaseDocTemplate(
        str(out),
        pagesize=pagesize,
        leftMargin=side,
        rightMargin=side,
        topMargin=top,
        bottomMargin=bottom,
        title=title,
        author=author,
        subject=subject,
        lang="it-IT",
    )
    frame = Frame(
        side,
        bottom,
        page_w - 2 * side,
        page_h - top - bottom,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(flowables, canvasmaker=partial(_NumberedCanvas, footer=footer))


def write_pdf(
    ctx: ReportContext,
    out: Path,
    images: dict[str, bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Draw (or take from the cache) the figures, lay out the report and write it to `out`."""
    from indicators.reports.images import report_images

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = images if images is not None else report_images(ctx, progress)
    build_document(
        out,
        story(ctx, images),
        pagesize=A4,
        margins=(MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM),
        title=TITLE + (f" – {common.DEMO_LABEL}" if ctx.is_demo else ""),
        author=ctx.ambito_name,
        subject=f"{ctx.focus_label}, anno {ctx.year}",
        footer=partial(_footer, ctx),
    )
    return out
