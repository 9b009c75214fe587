"""`python -m benchmarks`: generate, load, compare, report; scale by scale.

Each step runs in its own process with a time budget and a memory guard
(`benchmarks.measure`), and the report is rewritten after every step, so a run
stopped at any point (or a scale that does not fit the machine) leaves the
figures measured so far. A step that fails or is stopped is recorded with the
reason and the run goes on with what still makes sense.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

from benchmarks import generate, measure, report
from benchmarks.scales import SCALES, Scale, comuni_of, parse_scales, sub_ambito_of, write_ambito_folder
from core.settings import REPO_ROOT

# Bytes per record, measured on this generator's files, to check the disk before a scale:
# CSV ~92, our warehouse ~60, the DuckDB floor ~35, SQLite ~110 (with margin).
DISK_BYTES_PER_ROW = 92 + 70 + 40 + 130
PANDAS_CHUNK_ROWS = 1_000_000


def machine() -> dict:
    import duckdb
    import pandas
    import polars
    import streamlit

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu,
        "nproc": os.cpu_count(),
        "ram_bytes": measure.total_memory(),
        "available_bytes_start": measure.available_memory(),
        "loadavg_start": measure.loadavg(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "streamlit": streamlit.__version__,
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out.resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.t0 = time.perf_counter()
        self.results: dict = {
            "started_at": datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(["python -m benchmarks", *sys.argv[1:]])
            if args.command_line is None
            else args.command_line,
            "machine": machine(),
            "settings": {
                "budget_seconds": args.budget,
                "pandas_budget_seconds": args.pandas_budget,
                "dashboard_budget_seconds": args.dashboard_budget,
                "memory_guard_bytes": self.memory_guard(),
                "repeat": args.repeat,
            },
            "scales": {},
        }

    def memory_guard(self) -> int:
        guard = int(self.args.memory_gib * measure.GIB)
        return min(guard, int(measure.available_memory() * 0.9))

    def save(self) -> tuple[Path, Path]:
        self.results["seconds"] = time.perf_counter() - self.t0
        self.results["loadavg_end"] = measure.loadavg()
        return report.write(self.results, self.out)

    def log(self, text: str) -> None:
        if not self.args.quiet:
            print(f"[{time.perf_counter() - self.t0:7.1f}s] {text}", file=sys.stderr, flush=True)

    # --- one scale ----------------------------------------------------------------------

    def run_scale(self, scale: Scale) -> None:
        folder = self.out / scale.name
        entry: dict = {"name": scale.name, "label": scale.label, "rows": scale.rows, "steps": {}, "notes": []}
        self.results["scales"][scale.name] = entry
        try:
            self._run_scale(scale, folder, entry)
            entry.setdefault("status", "completa")
        except _Stop as stop:
            entry["status"] = f"parziale: {stop}"
            entry["notes"].append(f"{scale.label}: {stop}")
            self.log(f"{scale.name}: fermata ({stop})")
        except Exception as exc:  # never crash the whole run: record and go on with the next scale
            entry["status"] = f"parziale: errore imprevisto ({type(exc).__name__}: {str(exc)[:200]})"
            self.log(entry["status"])
        finally:
            if not self.args.keep:
                self._cleanup(folder)
            self.save()

    def _run_scale(self, scale: Scale, folder: Path, entry: dict) -> None:
        need = scale.rows * DISK_BYTES_PER_ROW
        free = measure.free_disk(self.out)
        entry["disk_free_bytes"] = free
        if free < need:
            raise _Stop(
                f"spazio su disco insufficiente: servono circa {report.fmt_bytes(need)}, "
                f"liberi {report.fmt_bytes(free)}"
            )
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        comuni = comuni_of(scale)
        ambito = write_ambito_folder(scale, folder / "ambito", comuni)
        subs = sub_ambito_of(scale, ambito)
        entry.update(
            comuni=comuni.height, sub_ambiti=subs["sub_ambito"].n_unique(), residenti=int(comuni["residenti"].sum())
        )
        env = {
            "PDZ_DB": str(folder / "warehouse.duckdb"),
            "PDZ_SECRET": str(folder / "secret.key"),
            "PDZ_AMBITO_DIR": str(ambito),
            "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }

        self.log(f"{scale.name}: genero {scale.rows:,} record per {comuni.height} comuni")
        csv = folder / "prestazioni.csv"
        gen = generate.write_prestazioni(csv, comuni, scale.rows, seed=self.args.seed)
        entry.update(csv_bytes=gen.bytes, generate_seconds=gen.seconds, bad_rows=gen.bad_rows, persons=gen.persons)
        operatori = generate.write_operatori(folder / "operatori.csv", subs, comuni)
        sedi = generate.write_sedi(folder / "sedi.csv", subs, comuni)
        self.save()

        # the fixed cost of a load: a 1-record file into a fresh warehouse (imports, schema, reference data)
        tiny = folder / "una_riga.csv"
        with open(csv, encoding="utf-8") as src, open(tiny, "w", encoding="utf-8") as dst:
            dst.write(src.readline() + src.readline())
        fixed = self._load(tiny, env, folder, "fixed")
        entry["steps"]["fixed"] = fixed
        self.save()

        # (a) our load and (b) the floor, paired: run by run, one after the other (the last load's warehouse is
        # the one the indicators and pages read)
        load_runs, floor_runs = [], []
        for run in range(self.args.load_runs):
            self.log(f"{scale.name}: nostro caricamento ({run + 1} di {self.args.load_runs})")
            load = self._load(csv, env, folder, "load")
            load_runs.append(load)
            entry["steps"]["load"] = load
            self.save()
            self.log(
                f"{scale.name}: caricamento {load['status']} in {load['seconds']:.1f} s, "
                f"picco {load['peak_rss'] / measure.GIB:.2f} GiB"
            )
            self.log(f"{scale.name}: pavimento DuckDB ({run + 1} di {self.args.load_runs})")
            floor_db = folder / "floor.duckdb"
            floor = measure.run(
                [measure.python(), "-m", "benchmarks.steps", "floor", "--csv", str(csv), "--db", str(floor_db)],
                env,
                self.args.budget,
                self.memory_guard(),
                cwd=REPO_ROOT,
            )
            floor_runs.append(self._step(floor))
            entry["steps"]["floor"] = floor_runs[-1]
            floor_db.unlink(missing_ok=True)
            entry["steps"]["paired"] = {
                "load_seconds": [r["seconds"] for r in load_runs],
                "load_status": [r["status"] for r in load_runs],
                "floor_seconds": [r["seconds"] for r in floor_runs],
                "floor_status": [r["status"] for r in floor_runs],
                "loadavg": [*entry["steps"].get("paired", {}).get("loadavg", []), measure.loadavg()],
            }
            self.save()
            if load["status"] != "ok":
                break
        if load["status"] == "ok":
            extra = measure.run(
                [measure.python(), "-m", "etl", "load", str(operatori), str(sedi), "--json"],
                env,
                self.args.budget,
                self.memory_guard(),
                cwd=REPO_ROOT,
            )
            if not extra.ok:
                entry["notes"].append(f"{scale.label}: operatori e sedi non caricati ({extra.why()})")

        # (c) pandas + SQLite
        self.log(f"{scale.name}: pandas + SQLite")
        entry["steps"]["pandas"] = self._pandas(csv, env, folder, scale)
        self.save()

        # (d, e) indicators and pages
        if load["status"] != "ok":
            raise _Stop("caricamento non riuscito: indicatori e pagine non misurati")
        self.log(f"{scale.name}: indicatori e pagine")
        cmd = [
            measure.python(),
            "-m",
            "benchmarks.dashboard",
            "--repeat",
            str(self.args.repeat),
            "--page-timeout",
            str(self.args.budget),
        ]
        if self.args.skip_pages:
            cmd.append("--skip-pages")
        dash = measure.run(cmd, env, self.args.dashboard_budget, self.memory_guard(), cwd=REPO_ROOT)
        entry["steps"]["dashboard"] = self._dashboard(dash)
        self.save()
        if not dash.ok:
            where = entry["steps"]["dashboard"].get("stopped_at", "")
            raise _Stop(f"indicatori e pagine: {dash.why()}, durante: {where}")

    def _step(self, r: measure.Run) -> dict:
        out = r.as_json()
        if not r.ok:
            out["error"] = r.why()
        return out

    def _load(self, csv: Path, env: dict, folder: Path, name: str) -> dict:
        for p in (folder / "warehouse.duckdb", folder / "warehouse.duckdb.wal", folder / "secret.key"):
            p.unlink(missing_ok=True)
        r = measure.run(
            [measure.python(), "-m", "etl", "load", str(csv), "--json"],
            env,
            self.args.budget,
            self.memory_guard(),
            cwd=REPO_ROOT,
        )
        out = self._step(r)
        try:
            out["result"] = json.loads(r.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            out["result"] = None
        if r.ok and (out["result"] or {}).get("status") != "loaded":
            out["status"] = "failed"
            out["error"] = f"il caricamento non ha caricato il file: {out['result']}"
        if out["status"] == "ok":  # `seconds`: the records' load, compared with the floor; the values apart
            out["values_seconds"] = kept_values_seconds(folder / "warehouse.duckdb")
            out["seconds_with_values"] = out["seconds"]
            out["seconds"] -= out["values_seconds"] or 0.0
        return out

    def _pandas(self, csv: Path, env: dict, folder: Path, scale: Scale) -> dict:
        db = folder / "pandas.sqlite"
        base = [measure.python(), "-m", "benchmarks.steps", "pandas", "--csv", str(csv), "--db", str(db)]
        out: dict
        if scale.rows <= self.args.pandas_max_rows:
            r = measure.run(base, env, self.args.pandas_budget, self.memory_guard(), cwd=REPO_ROOT)
            out = self._step(r)
            db.unlink(missing_ok=True)
            if r.ok:
                return out
        else:
            out = {
                "status": "skipped",
                "reason": f"oltre {report.it_number(self.args.pandas_max_rows)} righe: non eseguito per intero",
                "seconds": None,
            }
        # an honest estimate: the first rows, timed, extrapolated linearly (labelled "stima" in the report)
        n = min(PANDAS_CHUNK_ROWS, scale.rows)
        chunk = measure.run(
            [*base, "--nrows", str(n)], env, self.args.pandas_budget, self.memory_guard(), cwd=REPO_ROOT
        )
        db.unlink(missing_ok=True)
        out["chunk"] = self._step(chunk)
        out["chunk_rows"] = n
        if chunk.ok:
            out["estimate_seconds"] = chunk.seconds * scale.rows / n
            out["estimate_method"] = f"lineare dalle prime {n} righe ({chunk.seconds:.1f} s)"
        return out

    def _dashboard(self, r: measure.Run) -> dict:
        out = self._step(r)
        ind, pages = {}, []
        for line in r.stdout.splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if obj.get("kind") == "indicators":
                ind[obj["audience"]] = obj
            elif obj.get("kind") == "compute":
                out["compute"] = obj
            elif obj.get("kind") == "page":
                pages.append(obj)
            elif obj.get("kind") == "app_cold":
                out["app_cold"] = obj["seconds"]
                out["app_cold_exception"] = obj.get("exception")
        out["indicators"] = ind
        out["pages"] = pages
        if not r.ok:  # where it stopped: the figures printed before are kept
            out["stopped_at"] = report.dashboard_stop_point(out)
        return out

    # --- reports on the demo warehouse -------------------------------------------------------------

    def run_reports(self) -> None:
        """XLSX, PPTX and PDF on the demo warehouse (`benchmarks.reports`), in their own process."""
        folder = self.out / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "demo.duckdb"
        self.log("report: database dimostrativo e report XLSX, PPTX, PDF")
        cmd = [
            measure.python(),
            "-m",
            "benchmarks.reports",
            "--db",
            str(db),
            "--out",
            str(folder / "file"),
            "--repeat",
            str(self.args.repeat),
            "--territory",
            self.args.report_territory,
        ]
        if not db.exists():
            cmd += ["--build", "--demo-scale", str(self.args.demo_scale)]
        r = measure.run(cmd, {"PYTHONPATH": str(REPO_ROOT)}, self.args.budget, self.memory_guard(), cwd=REPO_ROOT)
        entry = self._step(r)
        for line in r.stdout.splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if obj.get("kind") == "reports":
                entry["measure"] = obj
            elif obj.get("kind") == "demo":
                entry["demo_seconds"] = obj["seconds"]
        self.results["reports"] = entry
        self.save()
        if not self.args.keep:
            for name in ("demo.duckdb", "demo.duckdb.wal", "secret.key"):
                (folder / name).unlink(missing_ok=True)

    # --- serving: cold start, write lock, load, many sessions (`benchmarks.serving`) ----------------

    def run_serving(self) -> None:
        """`python -m benchmarks.serving` in its own process; its figures go into this report."""
        folder = self.out / "serving"
        self.log("servire le pagine: avvio, lucchetto, CPU per visita, sessioni insieme")
        cmd = [
            measure.python(),
            "-m",
            "benchmarks.serving",
            "--out",
            str(folder),
            "--runs",
            str(self.args.repeat),
            *self.args.serving_args.split(),
        ]
        r = measure.run(
            cmd, {"PYTHONPATH": str(REPO_ROOT)}, self.args.dashboard_budget, self.memory_guard(), cwd=REPO_ROOT
        )
        entry = self._step(r)
        try:
            entry["results"] = json.loads((folder / "serving.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            entry["results"] = None
        self.results["serving"] = entry
        self.save()

    def _cleanup(self, folder: Path) -> None:
        for name in (
            "prestazioni.csv",
            "una_riga.csv",
            "warehouse.duckdb",
            "warehouse.duckdb.wal",
            "floor.duckdb",
            "pandas.sqlite",
            "secret.key",
            "users.toml",
        ):
            (folder / name).unlink(missing_ok=True)


def kept_values_seconds(db: Path) -> float | None:
    """How long the load spent computing the indicator values it kept (`meta.valori_secondi`), if it did."""
    from core import warehouse
    from etl import stored_values

    with warehouse.reader(db) as con:
        seconds = warehouse.get_meta(con, stored_values.SECONDS)
    return float(seconds) if seconds else None


class _Stop(Exception):
    """A scale cannot go on (Italian message): its figures so far are kept."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark del caricamento, degli indicatori e delle pagine a scala di ambito, regione e Italia.",
    )
    p.add_argument(
        "--scales",
        default="ambito,lombardia",
        help=f"scale separate da virgole ({', '.join(SCALES)}); 'ambito:3000' cambia il numero di record",
    )
    p.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "benchmarks", help="cartella dei risultati")
    p.add_argument("--keep", action="store_true", help="conserva CSV e database generati")
    p.add_argument("--budget", type=float, default=1800.0, help="secondi massimi per ogni passo (default 1800)")
    p.add_argument("--pandas-budget", type=float, default=900.0, help="secondi massimi per pandas + SQLite")
    p.add_argument(
        "--dashboard-budget",
        type=float,
        default=3600.0,
        help="secondi massimi per indicatori e pagine di una scala (default 3600)",
    )
    p.add_argument(
        "--pandas-max-rows",
        type=int,
        default=10_000_000,
        help="oltre questo numero di record pandas è solo stimato da un blocco",
    )
    p.add_argument("--memory-gib", type=float, default=16.0, help="limite di memoria di ogni passo (GiB)")
    p.add_argument("--repeat", type=int, default=3, help="esecuzioni a caldo per indicatori e pagine (mediana)")
    p.add_argument(
        "--load-runs",
        type=int,
        default=3,
        help="coppie caricamento + pavimento, alternate (mediana e intervallo del rapporto)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-pages", action="store_true", help="misura gli indicatori ma non le pagine")
    p.add_argument(
        "--steps",
        default="scales,reports",
        help="passi separati da virgole: scales (caricamento, indicatori, pagine per scala), reports (XLSX, PPTX, "
        "PDF sul database dimostrativo), serving (avvio, lucchetto, CPU per visita, sessioni insieme: Chromium, "
        "circa 30 minuti)",
    )
    p.add_argument("--demo-scale", type=float, default=1.0, help="scala del database dimostrativo dei report")
    p.add_argument("--report-territory", default="SA2", help="territorio dei report misurati (predefinito SA2)")
    p.add_argument("--serving-args", default="", help="argomenti per `python -m benchmarks.serving` (tra virgolette)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(command_line=None)
    return p


def run_benchmarks(argv: list[str] | None = None) -> dict:
    """Run the benchmarks; returns the results (also written to --out as JSON and Markdown)."""
    args = build_parser().parse_args(argv)
    if argv is not None:
        args.command_line = " ".join(["python -m benchmarks", *argv])
    steps = {x.strip() for x in args.steps.split(",") if x.strip()}
    if not steps or steps - {"scales", "reports", "serving"}:
        raise ValueError(f"Passi sconosciuti: «{args.steps}». Usare scales, reports, serving (uno o più).")
    scales = parse_scales(args.scales) if "scales" in steps else []
    bench = Bench(args)
    for scale in scales:
        bench.run_scale(scale)
    if "reports" in steps:
        bench.run_reports()
    if "serving" in steps:
        bench.run_serving()
    md, js = bench.save()
    bench.results["files"] = [str(md), str(js)]
    return bench.results


def main(argv: list[str] | None = None) -> int:
    try:
        results = run_benchmarks(argv)
    except ValueError as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 2
    print(Path(results["files"][0]).read_text(encoding="utf-8"))
    print("Risultati: " + ", ".join(results["files"]), file=sys.stderr)
    return 0
