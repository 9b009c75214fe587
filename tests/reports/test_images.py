"""Report images: drawn in Python (no browser), cached by what they show and shared by PDF and PPTX,
coloured by the one palette rule (darker = better, «n.p.» hatched, no data light grey)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from openpyxl import load_workbook
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from core import warehouse
from indicators import api, palette
from indicators.reports import build_report, drawing, images, prepare
from tests.reports.conftest import FOCUS

pytestmark = pytest.mark.slow
N_FIGURES = 2 * len(api.catalog())


def _no_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Playwright cannot be imported and no Chromium is on the PATH (nor at Debian's path, for this process)."""
    for mod in ("playwright", "playwright.async_api", "playwright.sync_api"):
        monkeypatch.setitem(sys.modules, mod, None)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_pdf_pptx_and_xlsx_are_built_with_no_browser(demo_db, tmp_path, monkeypatch):
    _no_browser(monkeypatch, tmp_path)
    with warehouse.reader(demo_db) as con:
        xlsx = build_report(con, "xlsx", tmp_path / "r.xlsx", territory=FOCUS)
        pptx = build_report(con, "pptx", tmp_path / "r.pptx", territory=FOCUS)
        pdf = build_report(con, "pdf", tmp_path / "r.pdf", territory=FOCUS)
    assert "Metadati" in load_workbook(xlsx).sheetnames
    slides = Presentation(pptx).slides
    assert len(slides) > len(api.catalog())
    reader = PdfReader(pdf)
    assert len(reader.pages) > len(api.catalog())
    assert "Relazione di monitoraggio" in reader.pages[0].extract_text()


def test_the_pptx_made_after_the_pdf_reuses_every_image(demo_db, tmp_path, monkeypatch):
    cache = images.ImageCache()
    monkeypatch.setattr(images, "CACHE", cache)
    seen: list[tuple[float, str]] = []
    with warehouse.reader(demo_db) as con:
        pdf = build_report(con, "pdf", tmp_path / "r.pdf", territory=FOCUS, progress=lambda f, t: seen.append((f, t)))
    assert (cache.draws, cache.hits) == (N_FIGURES, 0)
    # the progress reported every figure and ended at 1
    assert seen[-1][0] == 1.0 and [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert sum(t.startswith("Mappe e grafici") for _, t in seen) == N_FIGURES
    # a new connection on the same warehouse version: same figures, nothing drawn again
    with warehouse.reader(demo_db) as con:
        ctx = prepare(con, FOCUS)
        pptx = build_report(con, "pptx", tmp_path / "r.pptx", territory=FOCUS)
    assert (cache.draws, cache.hits) == (N_FIGURES, N_FIGURES)
    pngs = images.report_images(ctx, cache=cache)
    assert cache.draws == N_FIGURES
    # the PPTX carries the cached PNGs byte for byte
    blobs = {s.image.blob for slide in Presentation(pptx).slides for s in slide.shapes if s.shape_type == 13}
    assert blobs == set(pngs.values())
    # the PDF carries the same pixels (the PNG data passed through, decoded here by pypdf)
    first = next(p for p in PdfReader(pdf).pages if p.images)
    embedded = [np.asarray(i.image.convert("RGB")) for i in first.images]
    first_map = _pixels(pngs[f"map_{api.catalog()[0].id}"])
    first_trend = _pixels(pngs[f"trend_{api.catalog()[0].id}"])
    assert any(e.shape == first_map.shape and (e == first_map).all() for e in embedded)
    assert any(e.shape == first_trend.shape and (e == first_trend).all() for e in embedded)


def test_a_changed_number_changes_only_the_images_that_show_it(demo_db):
    with warehouse.reader(demo_db) as con:
        ctx = prepare(con, FOCUS)
    before = {name: images.spec_key(s) for name, s in images.specs(ctx).items()}
    assert before == {name: images.spec_key(s) for name, s in images.specs(ctx).items()}  # stable
    entry = next(e for e in ctx.entries if "comune" in e.livelli)
    comune = ctx.territories.filter(pl.col("sub_ambito") != FOCUS)["comune"][0]
    hit = (pl.col("indicatore") == entry.id) & (pl.col("territorio") == comune) & (pl.col("anno") == ctx.year)
    assert ctx.table.filter(hit).height == 1
    ctx.table = ctx.table.with_columns(
        pl.when(hit).then(pl.lit(123.0)).otherwise(pl.col("valore")).alias("valore"),
        pl.when(hit).then(pl.lit(False)).otherwise(pl.col("soppresso")).alias("soppresso"),
    )
    after = {name: images.spec_key(s) for name, s in images.specs(ctx).items()}
    assert {n for n in before if before[n] != after[n]} == {f"map_{entry.id}"}


# --- the colour rule: the dashboard's (palette.py), painted --------------------------------------------


def _square(code: str, x: float) -> dict:
    ring = [[x, 45.0], [x + 0.1, 45.0], [x + 0.1, 45.1], [x, 45.1], [x, 45.0]]
    return {"type": "Feature", "id": code, "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _geometry() -> str:
    """Four squares side by side, A B D C (west to east); sub-ambiti A+B+D and C."""
    comuni = {"type": "FeatureCollection", "features": [_square(c, 9.0 + 0.1 * i) for i, c in enumerate("ABDC")]}
    subs = {"type": "FeatureCollection", "features": [_square("S1", 9.0), _square("S2", 9.3)]}
    subs["features"][0]["geometry"]["coordinates"][0] = [
        [9.0, 45.0],
        [9.3, 45.0],
        [9.3, 45.1],
        [9.0, 45.1],
        [9.0, 45.0],
    ]
    return drawing.register_geometry("test-four-squares-abd-c", comuni, subs)


def _hex(c: str) -> tuple[int, int, int]:
    return tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


@pytest.mark.parametrize("direzione", ["alto", "basso"])
def test_map_paints_the_palette_classes_np_grey_and_no_data_white_outlined(direzione):
    values, suppressed = [10.0, 20.0, None, None], [False, False, True, False]  # A, B, C (n.p.), D (no data)
    classes = palette.map_classes(values, direzione, suppressed=suppressed)
    areas = tuple(
        drawing.Area(code, colour, key == palette.KEY_NO_DATA)
        for code, colour, key in zip("ABCD", classes.colours, classes.keys, strict=True)
    )
    legend = tuple(drawing.LegendItem(f"{e.label} ({e.count})", e.colour, e.outline) for e in classes.legend)
    spec = drawing.MapSpec(level="comune", areas=areas, legend_title="%", legend=legend, geometry=_geometry())
    tpl = drawing._map_template(spec.geometry, spec.level, spec.highlight, spec.names, spec.sedi)
    px = _pixels(drawing.map_png(spec))

    def centre(code: str) -> tuple[int, int]:
        ys, xs = np.nonzero(tpl.labels == tpl.codes.index(code) + 1)
        return int(np.median(ys)), int(np.median(xs))

    def colour(code: str) -> tuple:
        y, x = centre(code)
        return tuple(int(v) for v in px[y, x])

    best, worst = ("B", "A") if direzione == "alto" else ("A", "B")
    assert colour(best) == _hex(palette.BETTER_DARK) and colour(worst) == _hex(palette.WORSE_DARK)
    assert colour("C") == _hex(palette.SUPPRESSED)  # n.p.: grey, never a colour of the scale
    assert colour("D") == _hex(palette.NO_DATA)  # no data: white...
    (_, xb), (yd, xd) = centre("B"), centre("D")
    between = px[yd, xb:xd]  # ...with a grey outline on its border with B, where A|B have a white one
    grey = np.abs(between.astype(int) - _hex(palette.NO_DATA_OUTLINE)).sum(axis=1) < 60
    assert grey.any()
    ya, xa = centre("A")
    ab = px[ya, xa:xb]
    assert (ab == 255).all(axis=1).any() and not (
        np.abs(ab.astype(int) - _hex(palette.NO_DATA_OUTLINE)).sum(axis=1) < 60
    ).any()


def test_report_maps_colour_each_territory_as_the_dashboard_map(demo_db):
    """The one rule: every territory of every report map has the colour of the dashboard's figure."""
    from indicators import maps, views

    with warehouse.reader(demo_db) as con:
        ctx = prepare(con, FOCUS)
    specs = images.specs(ctx)
    for e in ctx.entries:
        level = ctx.map_level(e)
        values = views.level_values(ctx.table, ctx.territories, e.id, ctx.year, level)
        fig = maps.choropleth(values, ctx.sub_table, level, e.unita, e.direzione, thresholds=e.soglie)
        dashboard = {loc: t.colorscale[0][1] for t in fig.data if t.type == "choropleth" for loc in (t.locations or ())}
        report = {a.code: a.colour for a in specs[f"map_{e.id}"].areas}
        assert dashboard and report == dashboard, e.id
        shown = {n for t in fig.data if t.type == "scattergeo" and t.showlegend for n in [t.name]}
        assert {i.label for i in specs[f"map_{e.id}"].legend} <= shown, e.id


def test_axis_numbers_are_round_and_never_written_twice():
    from indicators import fmt

    assert drawing.nice_ticks(0, 1.18, decimals=1) == [0.0, 0.5, 1.0]  # not 0,2 / 0,8 from a 0,25 step
    assert drawing.nice_ticks(0, 1.18, decimals=0) == [0.0, 1.0]
    assert drawing.nice_ticks(0, 7080, decimals=0) == [0.0, 2000.0, 4000.0, 6000.0]
    for lo, hi, d in [(3.95, 4.05, 1), (55.2, 100, 1), (4.0, 4.0001, 1)]:
        labels = [fmt.number(t, d) for t in drawing.nice_ticks(lo, hi, decimals=d)]
        assert labels and len(labels) == len(set(labels)), labels
