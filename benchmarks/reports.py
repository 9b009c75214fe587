"""The reports step: XLSX, PPTX and PDF on the demo warehouse, as the dashboard makes them.

`python -m benchmarks.reports --db FILE [--build] [--repeat 3] [--territory SA2] [--out DIR]`

One process, like the Streamlit server: `prepare` + write, timed per report. Rounds are
interleaved (xlsx, pdf, pptx in each round, so the three share the machine's load) and each
report of a round starts with an empty image cache ("dati nuovi": the first report after a
load, every map and chart drawn). Then the warm case: the PPTX after the PDF of the same data
version (the images come from the cache), and the same for the PDF after the PPTX. The first
report of the process (imports, boundaries, fonts) is timed apart. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

GOAL_SECONDS = 5.0  # PDF and PPTX, each
GOAL_RATIO_XLSX = 3.0  # ... and at most 3× the XLSX of the same run


CPU: dict[str, list[float]] = {}  # process CPU seconds of each measured report (less sensitive to load)


def _timed(fn, name: str | None = None) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if name:
        CPU.setdefault(name, []).append(time.process_time() - c0)
    return time.perf_counter() - t0


def measure(db: Path, out: Path, repeat: int = 3, territory: str = "SA2") -> dict:
    t0 = time.perf_counter()
    from core import warehouse
    from indicators.reports import build_report, images

    imports = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    CPU.clear()

    def build(fmt: str, cold: bool, name: str | None = None) -> float:
        if cold:
            images.CACHE.clear()

        def run() -> None:
            with warehouse.reader(db) as con:
                build_report(con, fmt, out / f"report.{fmt}", territory=territory)

        return _timed(run, name)

    first = build("pdf", cold=True)  # the process's first report: boundaries, fonts, templates
    runs: dict[str, list[float]] = {k: [] for k in ("xlsx", "pdf", "pptx", "pptx_after_pdf", "pdf_after_pptx")}
    load = [os.getloadavg()[0]]
    for _ in range(repeat):
        runs["xlsx"].append(build("xlsx", cold=True, name="xlsx"))
        runs["pdf"].append(build("pdf", cold=True, name="pdf"))
        runs["pptx_after_pdf"].append(build("pptx", cold=False, name="pptx_after_pdf"))
        runs["pptx"].append(build("pptx", cold=True, name="pptx"))
        runs["pdf_after_pptx"].append(build("pdf", cold=False, name="pdf_after_pptx"))
        load.append(os.getloadavg()[0])
    return {
        "kind": "reports",
        "territory": territory,
        "imports_s": imports,
        "first_pdf_s": first,
        "runs": runs,
        "cpu": CPU,
        "images_drawn": images.CACHE.draws,
        "loadavg": load,
        "sizes": {fmt: (out / f"report.{fmt}").stat().st_size for fmt in ("xlsx", "pptx", "pdf")},
    }


def summarise(m: dict) -> dict:
    """Medians, ranges, ratios to the XLSX and the goals of issue 16 (met / not met)."""
    runs = m.get("runs") or {}
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    rng = {k: (min(v), max(v)) for k, v in runs.items() if v}
    ratio = {k: med[k] / med["xlsx"] for k in med if k != "xlsx" and med.get("xlsx")}
    cpu = {k: statistics.median(v) for k, v in (m.get("cpu") or {}).items() if v}
    goals = []
    for fmt, label in (("pdf", "PDF"), ("pptx", "PPTX")):
        for case, what in (
            (fmt, "dati nuovi"),
            (f"{fmt}_after_{'pptx' if fmt == 'pdf' else 'pdf'}", "immagini in cache"),
        ):
            v = med.get(case)
            goals.append(
                {
                    "goal": f"{label} ({what}) < {GOAL_SECONDS:.0f} s",
                    "value": v,
                    "unit": "s",
                    "threshold": f"< {GOAL_SECONDS:.0f} s",
                    "met": None if v is None else v < GOAL_SECONDS,
                }
            )
            r = ratio.get(case)
            goals.append(
                {
                    "goal": f"{label} ({what}) ≤ 3× XLSX",
                    "value": r,
                    "unit": "ratio",
                    "threshold": "≤ 3,0×",
                    "met": None if r is None else r <= GOAL_RATIO_XLSX,
                }
            )
    return {"median": med, "range": rng, "ratio_xlsx": ratio, "cpu_median": cpu, "goals": goals}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports")
    p.add_argument("--db", type=Path, required=True, help="warehouse (with --build: created as demo warehouse)")
    p.add_argument("--build", action="store_true", help="build the demo warehouse at --db first")
    p.add_argument("--out", type=Path, default=None, help="folder of the sample reports (default: beside --db)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--territory", default="SA2")
    p.add_argument("--demo-scale", type=float, default=1.0, help="with --build: the demo's scale")
    args = p.parse_args(argv)
    if args.build:
        from demo.build import build_demo

        t0 = time.perf_counter()
        build_demo(args.db, scale=args.demo_scale)
        print(json.dumps({"kind": "demo", "seconds": time.perf_counter() - t0}), flush=True)
    result = measure(args.db, args.out or args.db.parent / "reports", args.repeat, args.territory)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
