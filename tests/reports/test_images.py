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


# --- the colour rule, on a drawing of four squares ----------------------------------------------------


def _square(code: str, x: float) -> dict:
    ring = [[x, 45.0], [x + 0.1, 45.0], [x + 0.1, 45.1], [x, 45.1], [x, 45.0]]
    return {"type": "Feature", "id": code, "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _geometry() -> str:
    comuni = {"type": "FeatureCollection", "features": [_square(c, 9.0 + 0.1 * i) for i, c in enumerate("ABCD")]}
    subs = {"type": "FeatureCollection", "features": [_square("S1", 9.0), _square("S2", 9.2)]}
    subs["features"][0]["geometry"]["coordinates"][0] = [
        [9.0, 45.0],
        [9.2, 45.0],
        [9.2, 45.1],
        [9.0, 45.1],
        [9.0, 45.0],
    ]
    subs["features"][1]["geometry"]["coordinates"][0] = [
        [9.2, 45.0],
        [9.4, 45.0],
        [9.4, 45.1],
        [9.2, 45.1],
        [9.2, 45.0],
    ]
    return drawing.register_geometry("test-four-squares", comuni, subs)


def _area_colours(spec: drawing.MapSpec) -> dict[str, dict[tuple, int]]:
    """For each area, its colours in the PNG (well inside the area) and how many pixels each."""
    tpl = drawing._map_template(spec.geometry, spec.level, spec.highlight, drawing._map_names(spec), spec.sedi)
    px = _pixels(drawing.map_png(spec))
    out = {}
    for i, code in enumerate(tpl.codes, start=1):
        ys, xs = np.nonzero(tpl.labels == i)
        cy, cx = int(np.median(ys)), int(np.median(xs))
        patch = px[cy - 20 : cy + 20, cx - 20 : cx + 20].reshape(-1, 3)
        colours, counts = np.unique(patch, axis=0, return_counts=True)
        out[code] = {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts, strict=True)}
    return out


def _hex(c: str) -> tuple[int, int, int]:
    return tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


@pytest.mark.parametrize("direzione", ["alto", "basso"])
def test_map_darkest_is_best_np_hatched_no_data_grey(direzione):
    areas = (
        drawing.Area("A", "A", 10.0, False),
        drawing.Area("B", "B", 20.0, False),
        drawing.Area("C", "C", None, True),  # suppressed
        drawing.Area("D", "D", None, False),  # no data
    )
    spec = drawing.MapSpec(level="comune", unita="%", direzione=direzione, areas=areas, geometry=_geometry())
    colours = _area_colours(spec)

    def main(code: str) -> tuple:
        return max(colours[code], key=colours[code].get)

    best, worst = ("B", "A") if direzione == "alto" else ("A", "B")
    assert main(best) == _hex(palette.RAMP[-1])  # the darkest blue, whatever the direction
    assert main(worst) == _hex(palette.RAMP[0])
    assert main("D") == _hex(palette.NO_DATA_COLOR) and len(colours["D"]) == 1  # plain light grey
    hatch = colours["C"]  # white with grey stripes: both present, neither a colour of the ramp
    assert hatch.get(_hex(palette.SUPPRESSED_FACE), 0) > 200
    assert sum(n for c, n in hatch.items() if max(c) < 200) > 100
    assert not {_hex(c) for c in palette.RAMP} & set(hatch)


def test_palette_ramp_is_sequential_and_dark_means_better():
    def lightness(c: str) -> float:
        r, g, b = _hex(c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light = [lightness(c) for c in palette.RAMP]
    assert light == sorted(light, reverse=True)  # one hue, lightness only: readable by colour-blind readers
    assert palette.ramp("alto")[-1] == palette.ramp("basso")[0] == palette.RAMP[-1]
    assert palette.plotly_colorscale("basso")[0] == [0.0, palette.RAMP[-1]]
    assert lightness(palette.NO_DATA_COLOR) > light[0] - 30 and palette.NO_DATA_COLOR not in palette.RAMP


def test_axis_numbers_are_round_and_never_written_twice():
    from indicators import fmt

    assert drawing.nice_ticks(0, 1.18, decimals=1) == [0.0, 0.5, 1.0]  # not 0,2 / 0,8 from a 0,25 step
    assert drawing.nice_ticks(0, 1.18, decimals=0) == [0.0, 1.0]
    assert drawing.nice_ticks(0, 7080, decimals=0) == [0.0, 2000.0, 4000.0, 6000.0]
    for lo, hi, d in [(3.95, 4.05, 1), (55.2, 100, 1), (4.0, 4.0001, 1)]:
        labels = [fmt.number(t, d) for t in drawing.nice_ticks(lo, hi, decimals=d)]
        assert labels and len(labels) == len(set(labels)), labels
