"""The Assemblea's handout: the objectives shown on the projector, one per A4 landscape page.

Each page is a screen of the Assemblea mode on paper (`indicators/assemblea.py` gives both their
words and numbers): the objective, its value, the 2027 objective and the status in words, the
reading sentence, the map and the trend side by side. Public table always (disclosure control
on: «n.p.»), demo label on every page. The maps and charts are the report's own images
(`images.report_images`: drawn in Python, cached, shared with the PDF and PPTX reports), laid
out with ReportLab like the PDF report (`pdf.py`). No browser.

    with warehouse.reader(db) as con:
        write_handout(con, "assemblea.pdf", territory="019035", year=2025, ids=["anziani_sad_copertura_65"])
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

import duckdb
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from core.users import ALL_LEVELS
from indicators import assemblea, fmt
from indicators.reports import common
from indicators.reports.common import ReportContext, ReportError, prepare
from indicators.reports.pdf import (
    BLUE,
    BOLD,
    FONT,
    HEAD_BG,
    MUTED,
    RED,
    RULE,
    PNGImage,
    _box,
    _e,
    _fonts,
    _style,
    build_document,
)

TITLE = "Assemblea dei Sindaci"
MIME = "application/pdf"
PAGE_W, PAGE_H = landscape(A4)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 12 * mm, 11 * mm, 15 * mm
WIDTH = PAGE_W - 2 * MARGIN_X  # 273 mm
GAP = 6 * mm
MAP_W = 108 * mm
FIGURES_H = 92 * mm  # the tallest a figure may be, so that one objective fits its page

Progress = Callable[[float, str], None]


class _Styles:
    def __init__(self) -> None:
        self.top = _style("top", fontSize=8, leading=10, textColor=MUTED, spaceAfter=0)
        self.demo = _style("demo", fontName=BOLD, fontSize=8, leading=10, textColor=RED, spaceAfter=0, alignment=2)
        self.area = _style("area", fontSize=9, leading=11, textColor=MUTED, spaceAfter=0.5 * mm)
        self.h1 = _style("h1", fontName=BOLD, fontSize=20, leading=23, textColor=BLUE, spaceAfter=1 * mm)
        self.descr = _style("descr", fontSize=8.5, leading=10.8, spaceAfter=2.5 * mm)
        self.label = _style("label", fontSize=8.5, leading=10.5, textColor=MUTED, spaceAfter=0.5 * mm)
        self.value = _style("value", fontName=BOLD, fontSize=15, leading=18, spaceAfter=0)
        self.reading = _style("reading", fontSize=10.5, leading=13.5, spaceAfter=0)
        self.note = _style("note", fontSize=8.5, leading=10.5, textColor=MUTED, spaceAfter=0)
        self.caption = _style("caption", fontSize=7.5, leading=9.4, textColor=MUTED, spaceBefore=1 * mm, spaceAfter=0)


def handout_slides(ctx: ReportContext, ids: Iterable[str] | None = None) -> list[assemblea.Slide]:
    """The slides of the objectives `ids` (all when None), in catalog order, for the report's territory."""
    options = assemblea.territory_options(ctx.territories, ctx.levels, ctx.ambito.get("nome_breve", "Ambito"))
    territory = options.get(ctx.territory)
    if territory is None:
        raise ReportError(f"Territorio non disponibile per questo ruolo: «{ctx.territory_name}».")
    wanted = list(ids) if ids is not None else None
    out = assemblea.slides(ctx.table, ctx.entries, ctx.year, territory, ctx.levels, ids=wanted)
    if not out:
        raise ReportError("Nessun obiettivo da stampare: sceglierne almeno uno.")
    return out


def _fit(png: bytes, width: float, height: float) -> PNGImage:
    """The image as wide as `width` allows without being taller than `height`."""
    image = PNGImage(png, width)
    return image if image.height <= height else PNGImage(png, width * height / image.height)


def _cell(label: str, value: str, st: _Styles, background=None, text=None) -> list[Flowable]:
    value_style = st.value if text is None else _style("v", fontName=BOLD, fontSize=15, leading=18, textColor=text)
    label_style = st.label if text is None else _style("l", fontSize=8.5, leading=10.5, textColor=text)
    return [Paragraph(_e(label), label_style), Paragraph(_e(value), value_style)]


def _page(ctx: ReportContext, s: assemblea.Slide, n: int, total: int, images: dict[str, bytes]) -> list[Flowable]:
    st = _Styles()
    background, text = s.status_style
    top = Table(
        [
            [
                Paragraph(
                    _e(
                        f"{TITLE} · {ctx.ambito_name} · {s.territory.label} · anno {ctx.year_label} · "
                        f"obiettivo {n} di {total}"
                    ),
                    st.top,
                ),
                Paragraph(_e(common.DEMO_LABEL) if ctx.is_demo else "", st.demo),
            ]
        ],
        colWidths=[WIDTH - 70 * mm, 70 * mm],
        style=TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.75, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
            ]
        ),
    )
    third = (WIDTH - 2 * GAP) / 3
    boxes = Table(
        [
            [
                _cell(f"Valore {s.year} · {s.value_territory_label}", s.value_text, st),
                "",
                _cell("Obiettivo 2027", s.target_text, st),
                "",
                _cell("Stato", s.status, st, colors.HexColor(background), colors.HexColor(text)),
            ]
        ],
        colWidths=[third, GAP, third, GAP, third],
        style=TableStyle(
            [
                ("BOX", (0, 0), (0, 0), 0.75, RULE),
                ("BOX", (2, 0), (2, 0), 0.75, RULE),
                ("BACKGROUND", (4, 0), (4, 0), colors.HexColor(background)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        ),
    )
    highlight = ctx.territory_label(s.highlight) if s.highlight else None
    if highlight and s.map_level == "sub_ambito":
        highlight = f"sub-ambito {highlight}"
    trend_w = WIDTH - MAP_W - GAP
    figures = Table(
        [
            [
                [
                    _fit(images[f"map_{s.entry.id}"], MAP_W, FIGURES_H),
                    Paragraph(_e(assemblea.map_caption(s, highlight)), st.caption),
                ],
                [
                    _fit(images[f"trend_{s.entry.id}"], trend_w, FIGURES_H),
                    Paragraph(
                        _e(
                            f"Andamento per {s.value_territory_label}: valori osservati, baseline 2024, obiettivi "
                            f"2025–2027 e proiezione al 31/12/2027. {fmt.SUPPRESSED_HELP}."
                        ),
                        st.caption,
                    ),
                ],
            ]
        ],
        colWidths=[MAP_W + GAP, trend_w],
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
    out: list[Flowable] = [
        top,
        Spacer(1, 2.5 * mm),
        Paragraph(_e(s.entry.nome_area), st.area),
        Paragraph(_e(s.entry.nome), st.h1),
        Paragraph(_e(s.entry.descrizione), st.descr),
        boxes,
        Spacer(1, 2.5 * mm),
        _box(
            [Paragraph(f"<b>{_e(s.value_territory_label)}.</b> {_e(s.reading)}", st.reading)],
            background=HEAD_BG,
            left_rule=BLUE,
            padding=2.5 * mm,
            width=WIDTH,
        ),
    ]
    if s.note:
        out += [Spacer(1, 1.5 * mm), Paragraph(_e(s.note), st.note)]
    return out + [Spacer(1, 3 * mm), figures]


def _footer(ctx: ReportContext, canv, number: int, total: int) -> None:
    canv.saveState()
    canv.setFont(FONT, 7)
    canv.setFillColor(colors.HexColor("#555555"))
    text = (
        f"{ctx.ambito_name} · {ctx.plan_name} · dati al {fmt.day(ctx.data_date)} · segreto statistico applicato "
        f"({fmt.SUPPRESSED} = non pubblicabile)"
    )
    canv.drawString(MARGIN_X, 8 * mm, text)
    if ctx.is_demo:
        canv.setFont(BOLD, 7)
        canv.setFillColor(RED)
        canv.drawString(MARGIN_X, 11.2 * mm, common.DEMO_LABEL)
        canv.setFont(FONT, 7)
        canv.setFillColor(colors.HexColor("#555555"))
    canv.drawRightString(PAGE_W - MARGIN_X, 8 * mm, f"pagina {number} di {total}")
    canv.restoreState()


def write_handout_ctx(
    ctx: ReportContext, out: Path | str, ids: Iterable[str] | None = None, progress: Progress | None = None
) -> Path:
    """The handout of an already prepared context (images from the report's cache, or drawn now)."""
    from indicators.reports.images import report_images

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    slides = handout_slides(ctx, ids)
    shown = dataclasses.replace(ctx, entries=tuple(s.entry for s in slides))  # draw only what is printed

    def drawn(done: int, total: int) -> None:
        if progress:
            progress(0.05 + 0.85 * done / total, f"Mappe e grafici: {done} di {total}")

    images = report_images(shown, drawn)
    if progress:
        progress(0.92, "Impagino il PDF…")
    _fonts()
    story: list[Flowable] = []
    for i, s in enumerate(slides, start=1):
        if i > 1:
            story.append(PageBreak())
        story += _page(ctx, s, i, len(slides), images)
    build_document(
        out,
        story,
        pagesize=(PAGE_W, PAGE_H),
        margins=(MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM),
        title=f"{TITLE} – {ctx.focus_label}, anno {ctx.year}" + (f" – {common.DEMO_LABEL}" if ctx.is_demo else ""),
        author=ctx.ambito_name,
        footer=partial(_footer, ctx),
    )
    if progress:
        progress(1.0, "Pronto")
    return out


def write_handout(
    con: duckdb.DuckDBPyConnection,
    out: Path | str,
    territory: str | None = None,
    year: int | None = None,
    ids: Iterable[str] | None = None,
    levels: Sequence[str] = ALL_LEVELS,
    progress: Progress | None = None,
) -> Path:
    """Write the handout of the objectives `ids` (all when None) for a territory and year to `out`.

    Raises ReportError (Italian message) for an unknown territory or year, no objective, or a level the
    role may not see.
    """
    if progress:
        progress(0.0, "Leggo i dati pubblici…")
    return write_handout_ctx(prepare(con, territory, year, levels=levels), out, ids, progress)


def handout_bytes(
    con: duckdb.DuckDBPyConnection,
    territory: str | None,
    year: int | None,
    ids: Iterable[str] | None,
    *,
    levels: Sequence[str],
    progress: Progress | None = None,
) -> bytes:
    """The handout as bytes (for a download button); `levels` required, as for `reports.report_bytes`."""
    with tempfile.TemporaryDirectory(prefix="pdz-download-") as tmp:
        return write_handout(con, Path(tmp) / "assemblea.pdf", territory, year, ids, levels, progress).read_bytes()


def filename(territory: str | None, year: int | None, count: int) -> str:
    """e.g. 'assemblea_019035_2025_3_obiettivi.pdf'."""
    what = "1_obiettivo" if count == 1 else f"{count}_obiettivi"
    return f"assemblea_{(territory or 'AMBITO').upper()}_{year}_{what}.pdf"
