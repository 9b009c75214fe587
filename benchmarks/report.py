"""The report: figures, ratios and goals per scale, as Markdown and JSON.

Every figure comes from `results` (what `benchmarks.cli` measured); nothing is
typed in by hand. A step that did not finish shows why ("oltre 600 s",
"interrotto: oltre il limite di memoria") instead of a number; an extrapolated
figure is marked "stima".
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

GIB = 1024**3
MIB = 1024**2

# The goals of the issues (16 for the load and the indicators); page thresholds: `national` applies to the
# regional and national scales.
GOALS = {
    "load_vs_floor_max": 2.0,
    "pandas_vs_load_min": 1.0,  # faster than pandas + SQLite (issue 16; an earlier goal asked 5x)
    "indicators_s": {"ambito": 0.3, "lombardia": 3.0, "italia": 10.0},
    "page_s": {"ambito": 0.3, "national": 2.0},
    "national_load_rss_bytes": 4 * GIB,
}


def dashboard_stop_point(dash: dict) -> str:
    """Where a stopped indicators-and-pages run was (Italian), from what it printed."""
    if len(dash.get("indicators") or {}) < 2:
        return "calcolo degli indicatori"
    if dash.get("app_cold") is None:
        return "primo avvio del cruscotto (copia del database in memoria e indicatori)"
    return f"pagine ({len(dash.get('pages') or [])} misurate)"


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarise(scale: dict) -> dict:
    """Figures, ratios and goals of one scale from its raw steps."""
    steps = scale.get("steps", {})
    load, floor, pandas, dash = (steps.get(k) or {} for k in ("load", "floor", "pandas", "dashboard"))
    rows = scale.get("rows") or 0
    out: dict = {}
    if load.get("status") == "ok":
        out["load_s"] = load["seconds"]
        out["load_rows_per_s"] = rows / load["seconds"]
        out["load_rss"] = load["peak_rss"]
    if floor.get("status") == "ok":
        out["floor_s"] = floor["seconds"]
        out["floor_rows_per_s"] = rows / floor["seconds"]
        out["floor_rss"] = floor["peak_rss"]
    pandas_s = pandas.get("seconds") if pandas.get("status") == "ok" else pandas.get("estimate_seconds")
    if pandas_s:
        out["pandas_s"] = pandas_s
        out["pandas_is_estimate"] = pandas.get("status") != "ok"
        out["pandas_rows_per_s"] = rows / pandas_s
    if pandas.get("status") == "ok":
        out["pandas_rss"] = pandas["peak_rss"]
    if "load_s" in out and "floor_s" in out:
        out["ratio_load_floor"] = out["load_s"] / out["floor_s"]
    paired = steps.get("paired") or {}
    pairs = [
        (a, b)
        for a, b, sa, sb in zip(
            paired.get("load_seconds", []),
            paired.get("floor_seconds", []),
            paired.get("load_status", []),
            paired.get("floor_status", []),
        )
        if sa == sb == "ok"
    ]
    if pairs:  # ours and the floor alternated run by run: the median of the ratios, and their range
        ratios = [a / b for a, b in pairs]
        out.update(
            load_s=median([a for a, _ in pairs]),
            floor_s=median([b for _, b in pairs]),
            ratio_load_floor=median(ratios),
            ratio_load_floor_range=(min(ratios), max(ratios)),
            load_s_range=(min(a for a, _ in pairs), max(a for a, _ in pairs)),
            floor_s_range=(min(b for _, b in pairs), max(b for _, b in pairs)),
            paired_runs=len(pairs),
        )
        out["load_rows_per_s"] = rows / out["load_s"]
        out["floor_rows_per_s"] = rows / out["floor_s"]
    if "load_s" in out and pandas_s:
        out["ratio_pandas_load"] = pandas_s / out["load_s"]
    if load.get("status") == "ok" and load.get("values_seconds") is not None:
        out["values_s"] = load["values_seconds"]
    compute = dash.get("compute") or {}
    if compute.get("runs"):
        out["compute_s"] = median(compute["runs"])
    ind = dash.get("indicators") or {}
    for audience, m in ind.items():
        out[f"indicators_{audience}_s"] = median(m.get("runs", []))
        out[f"indicators_{audience}_cold_s"] = m.get("cold")
    page_medians = {p["page"]: median(p.get("runs", [])) for p in dash.get("pages", [])}
    out["pages"] = page_medians
    out["page_errors"] = {p["page"]: p["exception"] for p in dash.get("pages", []) if p.get("exception")}
    done = [v for v in page_medians.values() if v is not None]
    if done:
        out["page_max_s"] = max(done)
        out["page_max_name"] = max((v, k) for k, v in page_medians.items() if v is not None)[1]
    if dash.get("app_cold") is not None:
        out["app_cold_s"] = dash["app_cold"]
    if dash.get("peak_rss"):
        out["dashboard_rss"] = dash["peak_rss"]
    out["goals"] = goals(scale["name"], out, load)
    return out


def goals(name: str, s: dict, load: dict) -> list[dict]:
    """Each goal: what, threshold, measured, met (True/False/None when not measured)."""
    level = "ambito" if name == "ambito" else "national"
    where = {"ambito": "ambito", "italia": "nazionale"}.get(name, "nazionale, applicata alla regione")
    # the indicators' threshold of the scale (a custom scale takes the next larger one's)
    indicator_level = name if name in GOALS["indicators_s"] else "italia"
    indicator_where = {"ambito": "ambito", "lombardia": "regione", "italia": "nazionale"}[indicator_level]
    ind = [s.get(f"indicators_{a}_s") for a in ("ufficio", "pubblico")]
    ind_max = max(ind) if all(x is not None for x in ind) else None
    pages_ok = s.get("page_max_s") if s.get("pages") and not s.get("page_errors") else None
    out = [
        _goal(
            "caricamento entro 2× il pavimento DuckDB",
            "≤ 2,0×",
            s.get("ratio_load_floor"),
            lambda v: v <= GOALS["load_vs_floor_max"],
            "ratio",
        ),
        _goal(
            "caricamento più veloce di pandas + SQLite",
            f"≥ {it_number(GOALS['pandas_vs_load_min'], 1)}×",
            s.get("ratio_pandas_load"),
            lambda v: v >= GOALS["pandas_vs_load_min"],
            "ratio",
        ),
        _goal(
            f"tutti gli indicatori, come li legge il cruscotto (soglia {indicator_where})",
            f"< {it_number(GOALS['indicators_s'][indicator_level], 1)} s",
            ind_max,
            lambda v: v < GOALS["indicators_s"][indicator_level],
            "s",
        ),
        _goal(
            f"calcolo di tutti gli indicatori, fatto una volta dopo ogni caricamento (soglia {indicator_where})",
            f"< {it_number(GOALS['indicators_s'][indicator_level], 1)} s",
            s.get("compute_s"),
            lambda v: v < GOALS["indicators_s"][indicator_level],
            "s",
        ),
        _goal(
            f"ogni pagina (soglia {where})",
            f"< {it_number(GOALS['page_s'][level], 1)} s",
            pages_ok,
            lambda v: v < GOALS["page_s"][level],
            "s",
        ),
    ]
    if name == "italia" or level == "national":
        rss = s.get("load_rss") if load.get("status") == "ok" else None
        if load.get("status") == "memory":
            rss = load.get("peak_rss")
        out.append(
            _goal(
                "memoria di picco del caricamento" + ("" if name == "italia" else " (soglia nazionale)"),
                "< 4 GiB",
                rss,
                lambda v: v < GOALS["national_load_rss_bytes"],
                "bytes",
            )
        )
    return out


def _goal(what: str, threshold: str, value, test, unit: str) -> dict:
    return {
        "goal": what,
        "threshold": threshold,
        "value": value,
        "unit": unit,
        "met": None if value is None else bool(test(value)),
    }


# --- formatting ------------------------------------------------------------------------


def it_number(x: float, decimals: int = 0) -> str:
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    if x < 1:
        return f"{it_number(x * 1000, 0)} ms"
    return f"{it_number(x, 1 if x < 100 else 0)} s"


def fmt_bytes(x: float | None) -> str:
    if not x:
        return "—"
    if x >= GIB:
        return f"{it_number(x / GIB, 2)} GiB"
    return f"{it_number(x / MIB, 0 if x >= 10 * MIB else 1)} MiB"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{it_number(x, 1)}×"


def _paired_ratio(summary: dict) -> str:
    """The load-to-floor ratio: with paired runs, their median, range and number."""
    ratio, spread = summary.get("ratio_load_floor"), summary.get("ratio_load_floor_range")
    if ratio is None or not spread or summary.get("paired_runs", 1) < 2:
        return fmt_ratio(ratio)
    low, high = spread
    return f"{fmt_ratio(ratio)} [{it_number(low, 1)}–{it_number(high, 1)}], {summary['paired_runs']} coppie alternate"


def fmt_value(g: dict) -> str:
    v = g["value"]
    if v is None:
        return "non misurato"
    return {"ratio": fmt_ratio, "s": fmt_s, "bytes": fmt_bytes}[g["unit"]](v)


def _cell_step(scale: dict, step: str, figure: str) -> str:
    """A step's figure, or why it has none."""
    run = (scale.get("steps") or {}).get(step)
    s = scale.get("summary", {})
    if run is None:
        return "non eseguito"
    if step == "pandas" and run.get("status") != "ok":
        est = run.get("estimate_seconds")
        why = _why(run)
        if figure == "s" and est:
            return f"stima {fmt_s(est)} ({why})"
        if figure == "rate" and est:
            return f"stima {it_number(scale['rows'] / est)}"
        chunk = run.get("chunk") or {}
        if figure == "rss" and chunk.get("status") == "ok":
            return f"{fmt_bytes(chunk.get('peak_rss'))} per le prime {it_number(run.get('chunk_rows', 0))} righe"
        return why
    if run.get("status") != "ok":
        return _why(run)
    if figure == "s":
        spread = s.get(f"{step}_s_range")
        if spread and s.get("paired_runs", 1) > 1:  # the median of the paired runs, and their range
            return f"{fmt_s(s[f'{step}_s'])} [{fmt_s(spread[0])}–{fmt_s(spread[1])}]"
        return fmt_s(run["seconds"])
    if figure == "rate":
        return it_number(s.get(f"{step}_rows_per_s", 0))
    if figure == "rss":
        return fmt_bytes(run.get("peak_rss"))
    return "—"


def _why(run: dict) -> str:
    status = run.get("status")
    if status == "timeout":
        return f"oltre {it_number(run.get('budget_seconds', 0))} s"
    if status == "memory":
        return f"oltre il limite di memoria ({fmt_bytes(run.get('memory_guard'))})"
    if status == "skipped":
        return run.get("reason", "non eseguito")
    if status == "failed":
        return "errore: " + (run.get("error") or "")[:120]
    return status or "—"


def markdown(results: dict) -> str:
    scales = [s for s in results["scales"].values()]
    m = results["machine"]
    lines = [
        "# pdz-monitor: prestazioni",
        "",
        f"Macchina: {m['cpu_model']}, {m['nproc']} core, {fmt_bytes(m['ram_bytes'])} di RAM; "
        f"Python {m['python']}, DuckDB {m['duckdb']}, Polars {m['polars']}, pandas {m['pandas']}, "
        f"Streamlit {m['streamlit']}. Carico medio all'avvio {m['loadavg_start']}, alla fine "
        f"{results.get('loadavg_end', '—')}. Avvio {results['started_at']}, durata {fmt_s(results.get('seconds'))}.",
        "",
    ]
    if not scales:  # only the reports step was asked for
        lines += reports_markdown(results["reports"]) if results.get("reports") else []
        return "\n".join(lines) + "\n"
    lines += ["| misura | " + " | ".join(s["label"] for s in scales) + " |", "|---|" + "---|" * len(scales)]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    warm = f"a caldo, mediana di {(results.get('settings') or {}).get('repeat', 3)}"

    row("record nel file", [it_number(s["rows"]) for s in scales])
    row("comuni / sub-ambiti", [f"{it_number(s.get('comuni', 0))} / {s.get('sub_ambiti', '—')}" for s in scales])
    row("dimensione del CSV", [fmt_bytes(s.get("csv_bytes")) for s in scales])
    row("generazione del CSV (a blocchi)", [fmt_s(s.get("generate_seconds")) for s in scales])
    row("costo fisso di un caricamento (file di 1 riga)", [_cell_step(s, "fixed", "s") for s in scales])
    row("**nostro caricamento** (`python -m etl load`)", [_cell_step(s, "load", "s") for s in scales])
    row("  righe/s", [_cell_step(s, "load", "rate") for s in scales])
    row("  memoria di picco (RSS)", [_cell_step(s, "load", "rss") for s in scales])
    row("  righe caricate / scartate (attese)", [_load_counts(s) for s in scales])
    row(
        "  poi: valori degli indicatori calcolati e conservati (non inclusi sopra)",
        [fmt_s(s["summary"].get("values_s")) for s in scales],
    )
    row("pavimento: DuckDB `read_csv` senza controlli", [_cell_step(s, "floor", "s") for s in scales])
    row("  righe/s", [_cell_step(s, "floor", "rate") for s in scales])
    row("  memoria di picco (RSS)", [_cell_step(s, "floor", "rss") for s in scales])
    row("pandas `read_csv` + `to_sql` SQLite", [_cell_step(s, "pandas", "s") for s in scales])
    row("  righe/s", [_cell_step(s, "pandas", "rate") for s in scales])
    row("  memoria di picco (RSS)", [_cell_step(s, "pandas", "rss") for s in scales])
    row("**rapporto nostro ÷ pavimento**", [_paired_ratio(s["summary"]) for s in scales])
    row(
        "**rapporto pandas+SQLite ÷ nostro** (quante volte più veloci)",
        [
            fmt_ratio(s["summary"].get("ratio_pandas_load"))
            + (" (stima)" if s["summary"].get("pandas_is_estimate") and s["summary"].get("ratio_pandas_load") else "")
            for s in scales
        ],
    )
    row(
        f"calcolo di tutti gli indicatori, senza i valori conservati ({warm})",
        [fmt_s(s["summary"].get("compute_s")) for s in scales],
    )
    row(
        f"indicatori, vista Ufficio ({warm})",
        [fmt_s(s["summary"].get("indicators_ufficio_s")) for s in scales],
    )
    row(
        f"indicatori, vista pubblica ({warm})",
        [fmt_s(s["summary"].get("indicators_pubblico_s")) for s in scales],
    )
    row(
        "indicatori, prima esecuzione (a freddo, Ufficio)",
        [fmt_s(s["summary"].get("indicators_ufficio_cold_s")) for s in scales],
    )
    row(
        "primo avvio del cruscotto (copia in memoria + indicatori)",
        [fmt_s(s["summary"].get("app_cold_s")) for s in scales],
    )
    row("memoria di picco del processo del cruscotto", [fmt_bytes(s["summary"].get("dashboard_rss")) for s in scales])
    all_pages = []
    for s in scales:
        for p in s["summary"].get("pages", {}):
            if p not in all_pages:
                all_pages.append(p)
    for p in all_pages:
        cells = []
        for s in scales:
            v = s["summary"].get("pages", {}).get(p)
            err = s["summary"].get("page_errors", {}).get(p)
            cells.append(("errore" if err else fmt_s(v)) if (v is not None or err) else "—")
        row(f"pagina `{p.removeprefix('pages/').removesuffix('.py')}` ({warm})", cells)
    row("stato della scala", [s.get("status", "—") for s in scales])
    lines += ["", "## Obiettivi", "", "| scala | obiettivo | soglia | misurato | raggiunto |", "|---|---|---|---|---|"]
    for s in scales:
        for g in s["summary"].get("goals", []):
            met = {True: "sì", False: "**no**", None: "non misurato"}[g["met"]]
            lines.append(f"| {s['label']} | {g['goal']} | {g['threshold']} | {fmt_value(g)} | {met} |")
    if results.get("reports"):
        lines += reports_markdown(results["reports"])
    serving = results.get("serving")
    if serving:  # `--steps serving`: its own section (benchmarks/serving.py)
        from benchmarks import serving as serving_report

        lines += [""] + (
            serving_report.markdown(serving["results"]).splitlines()
            if serving.get("results")
            else ["## Servire le pagine", "", f"Non misurato: {_why(serving)}."]
        )
    notes = [n for s in scales for n in s.get("notes", [])]
    if notes:
        lines += ["", "## Note", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _load_counts(s: dict) -> str:
    r = ((s.get("steps") or {}).get("load") or {}).get("result")
    if not r:
        return "—"
    loaded, rejected = it_number(r.get("rows_loaded", 0)), it_number(r.get("rows_rejected", 0))
    return f"{loaded} / {rejected} ({it_number(s.get('bad_rows', 0))})"


def reports_markdown(entry: dict) -> list[str]:
    """The reports step: medians [range] of 3 interleaved rounds, ratios to the XLSX, goals."""
    lines = ["", "## Report sul database dimostrativo (XLSX, PPTX, PDF)", ""]
    m = entry.get("measure")
    if entry.get("status") != "ok" or not m:
        return lines + [f"Non misurati: {_why(entry) if entry.get('status') != 'ok' else 'nessun risultato'}."]
    s = entry["summary"]
    med, rng, ratio = s["median"], s["range"], s["ratio_xlsx"]
    load = ", ".join(it_number(x, 2) for x in m.get("loadavg", []))
    lines += [
        f"Territorio {m['territory']}; un processo come il server del cruscotto (lettura dei dati + scrittura del "
        f"file, senza l'avvio di Python); {len(m['runs']['xlsx'])} giri alternati, mediana [minimo–massimo]. "
        f"Carico medio durante la misura: {load}. Primo report del processo (import, confini, caratteri): "
        f"{fmt_s(m.get('first_pdf_s'))}.",
        "",
        "| report | mediana [min–max] | rapporto con XLSX | CPU del processo (mediana) | rapporto CPU con XLSX |",
        "|---|---|---|---|---|",
    ]
    labels = {
        "xlsx": "XLSX",
        "pdf": "PDF, dati nuovi (immagini da disegnare)",
        "pptx": "PPTX, dati nuovi (immagini da disegnare)",
        "pptx_after_pdf": "PPTX dopo il PDF degli stessi dati (immagini in cache)",
        "pdf_after_pptx": "PDF dopo il PPTX degli stessi dati (immagini in cache)",
    }
    for key, label in labels.items():
        if key in med:
            lo, hi = rng[key]
            r = "—" if key == "xlsx" else fmt_ratio(ratio.get(key))
            cpu = s.get("cpu_median", {})
            c = cpu.get(key)
            rc = "—" if key == "xlsx" or not c or not cpu.get("xlsx") else fmt_ratio(c / cpu["xlsx"])
            lines.append(f"| {label} | {fmt_s(med[key])} [{fmt_s(lo)}–{fmt_s(hi)}] | {r} | {fmt_s(c)} | {rc} |")
    lines += ["", "| obiettivo | soglia | misurato | raggiunto |", "|---|---|---|---|"]
    for g in s["goals"]:
        met = {True: "sì", False: "**no**", None: "non misurato"}[g["met"]]
        lines.append(f"| {g['goal']} | {g['threshold']} | {fmt_value(g)} | {met} |")
    return lines


def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    from benchmarks import reports

    for s in results["scales"].values():
        s["summary"] = summarise(s)
    rep = results.get("reports")
    if rep and rep.get("measure"):
        rep["summary"] = reports.summarise(rep["measure"])
    md = out_dir / "benchmark.md"
    js = out_dir / "benchmark.json"
    md.write_text(markdown(results), encoding="utf-8")
    js.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return md, js


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.report DIR`: rewrite benchmark.md from DIR/benchmark.json."""
    import sys

    out_dir = Path((argv or sys.argv[1:])[0])
    results = json.loads((out_dir / "benchmark.json").read_text(encoding="utf-8"))
    for s in results["scales"].values():
        dash = (s.get("steps") or {}).get("dashboard")
        if dash and dash.get("status") != "ok":
            dash.setdefault("stopped_at", dashboard_stop_point(dash))
            if "durante" not in s.get("status", ""):
                s["status"] = f"{s.get('status', 'parziale')}, durante: {dash['stopped_at']}"
                s["notes"] = [f"{s['label']}: {s['status'].removeprefix('parziale: ')}"]
    md, _ = write(results, out_dir)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
