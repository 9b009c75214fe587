"""Serving: a real `streamlit run` of the demo, opened by headless Chromium, `python -m benchmarks.serving`.

Each measure runs on a copy of the demo warehouse (built once per run, in a temporary folder)
and a dashboard server of its own (`streamlit run app.py`, the repository's settings):

* **cold**: the server is started, and as soon as it answers `/_stcore/health` one browser opens the
  Panoramica; the time from the request to the page drawn (below) is the first page's wait.
  Repeated `--runs` times, each with a fresh server.
* **lock**: one user opens the Panoramica `--visits` times in a row (a new browser session each
  time: a full run of the page), first with nobody else on the file, then while another process
  holds DuckDB's write lock (`core.warehouse.writer`) after touching the file, as a load does.
* **sessions**: N browser sessions (one Chromium, N contexts) open the Panoramica at once; p50 and
  p95 of their page times, errors, the server's CPU seconds per page visit (from /proc, the
  server process only) and its memory (RSS now and peak). With `--load`, the same while another
  process loads a large file (`--load-rows` records, through the real loader) into the warehouse.

"The page drawn" is the moment the Panoramica's main content is on screen: its title, its status
counters and all its tables, with no spinner and no "running" indicator; an exception shown on the
page counts as an error (and ends the wait). The number of tables is read once from a settled page.

Figures are printed as JSON lines and written to `--out` (serving.json, serving.md). The browser
runs on the same machine as the server: with many sessions its own CPU competes with the server's
(the report gives the machine's load average before and after each step).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from core.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu", "--mute-audio"]  # fmt: skip
PAGE = "panoramica"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The Panoramica is drawn: title, counters, all its tables (count from a settled page), no spinner, not running.
READY_JS = """(tables) => {
  if (document.querySelector('[data-testid="stException"]')) return "error";
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.querySelector('h1')) return false;
  if (main.querySelectorAll('[data-testid="stMetric"]').length < 1) return false;
  if (main.querySelectorAll('[data-testid="stDataFrame"]').length < tables) return false;
  if (document.querySelector('[data-testid="stSpinner"]')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  return "ok";
}"""


def emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on a warehouse; CPU and memory of its process from /proc."""

    def __init__(self, env: dict, timeout: float = 120.0, flags: list[str] | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", *(flags or [])],
            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(self.base + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.stderr else ""
                    self.stop()
                    raise RuntimeError(f"il server non è partito: {err}") from None
                time.sleep(0.05)
        self.start_seconds = time.perf_counter() - t0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime (all threads)

    def memory(self) -> dict:
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
        return {"rss_bytes": out.get("VmRSS"), "peak_rss_bytes": out.get("VmHWM")}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@contextmanager
def server(env: dict, flags: list[str] | None = None):
    s = Server(env, flags=flags)
    try:
        yield s
    finally:
        s.stop()


# --- the browser -------------------------------------------------------------------------------


async def open_page(browser, url: str, tables: int, timeout: float) -> dict:
    """One new browser session opening `url`: seconds until the page is drawn (READY_JS), or the error."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
    try:
        page = await ctx.new_page()
        t0 = time.perf_counter()
        try:
            await page.goto(url, wait_until="commit", timeout=timeout * 1000)
            handle = await page.wait_for_function(READY_JS, arg=tables, timeout=timeout * 1000, polling=50)
            state = await handle.json_value()
        except Exception as exc:  # a timeout or a broken page: an error of this session, the others go on
            return {"seconds": time.perf_counter() - t0, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        seconds = time.perf_counter() - t0
        if state == "error":
            text = await page.locator('[data-testid="stException"]').first.inner_text()
            return {"seconds": seconds, "error": text[:300]}
        return {"seconds": seconds, "error": None}
    finally:
        await ctx.close()


async def count_tables(browser, url: str, timeout: float) -> int:
    """The number of tables of a settled Panoramica (idle three times in a row, 500 ms apart)."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
    try:
        page = await ctx.new_page()
        await page.goto(url, timeout=timeout * 1000)
        await page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
        idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        for _ in range(3):
            await page.wait_for_function(idle, timeout=timeout * 1000)
            await page.wait_for_timeout(500)
        return await page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]').count()
    finally:
        await ctx.close()


class Browser:
    """One headless Chromium (Playwright) for the whole run."""

    async def __aenter__(self):
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        self.browser = await self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self.browser

    async def __aexit__(self, *exc) -> None:
        await self.browser.close()
        await self._pw.stop()


# --- other processes on the warehouse ----------------------------------------------------------

LOCK_HOLDER = """
import sys, time
from core import warehouse
with warehouse.writer(sys.argv[1], data=False) as con:
    warehouse.set_meta(con, "benchmark_lock", str(time.time()))  # the file changes, as when a load starts
    con.execute("CHECKPOINT")
    warehouse.set_meta(con, "benchmark_lock", str(time.time()))
    print("locked", flush=True)
    sys.stdin.read()  # until the benchmark closes the pipe
"""

LOADER = """
import sys
from core import warehouse
from etl.loader import DEMO_BUILD_TOKEN, load_files
db, csv = sys.argv[1], sys.argv[2]
with warehouse.writer(db, data=False) as con:  # the benchmark's own copy of the demo: let one more load in
    warehouse.set_meta(con, DEMO_BUILD_TOKEN, "benchmark")
print("loading", flush=True)
result = load_files([csv], db=db, demo_build="benchmark")[0]
print("loaded", result.status, result.rows_loaded, flush=True)
"""


@contextmanager
def lock_holder(db: Path, env: dict):
    """Another process holding DuckDB's write lock on `db` (after changing the file) for the block."""
    proc = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(db)], cwd=REPO_ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proc.stdout.readline()
        if "locked" not in line:
            raise RuntimeError("il processo che tiene il lucchetto non è partito")
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


def start_load(db: Path, csv: Path, env: dict) -> subprocess.Popen:
    """Another process loading `csv` into `db` through the real loader (returns when it has started)."""
    proc = subprocess.Popen([sys.executable, "-c", LOADER, str(db), str(csv)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    if "loading" not in proc.stdout.readline():
        raise RuntimeError("il caricamento non è partito")
    return proc


def write_big_file(path: Path, rows: int, seed: int = 11) -> Path:
    """A prestazioni file for the Ambito Cremasco's comuni (the benchmark generator)."""
    from benchmarks import generate
    from benchmarks.scales import SCALES, comuni_of

    comuni = comuni_of(SCALES["ambito"])
    generate.write_prestazioni(path, comuni, rows, seed=seed)
    return path


# --- the measures ------------------------------------------------------------------------------


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times) if times else None,
        "min": min(times) if times else None,
    }


class Bench:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.demo = folder / "demo.duckdb"
        self.url_path = f"/{PAGE}"
        self.tables: int | None = None

    def env(self, db: Path) -> dict:
        return {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(self.folder / "secret.key"),
                "PYTHONPATH": str(REPO_ROOT)}  # fmt: skip

    def fresh_copy(self, name: str) -> Path:
        """A copy of the demo warehouse (its key beside it is shared: same folder)."""
        db = self.folder / f"{name}.duckdb"
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
        shutil.copyfile(self.demo, db)
        return db

    def build_demo(self) -> None:
        from demo.build import build_demo

        t0 = time.perf_counter()
        os.environ["PDZ_SECRET"] = str(self.folder / "secret.key")
        build_demo(self.demo, scale=self.args.demo_scale)
        emit({"kind": "demo", "seconds": time.perf_counter() - t0, "bytes": self.demo.stat().st_size})

    async def calibrate(self, browser) -> None:
        db = self.fresh_copy("calibrate")
        with server(self.env(db)) as s:
            self.tables = await count_tables(browser, s.base + self.url_path, self.args.timeout)
        emit({"kind": "calibrate", "tables": self.tables})

    async def cold(self, browser) -> list[dict]:
        out = []
        for run in range(self.args.runs):
            db = self.fresh_copy("cold")
            load_before = loadavg()
            with server(self.env(db)) as s:
                visit = await open_page(browser, s.base + self.url_path, self.tables, self.args.timeout)
                second = await open_page(browser, s.base + self.url_path, self.tables, self.args.timeout)
                row = {"kind": "cold", "run": run, "server_start_seconds": s.start_seconds,
                       "first_page_seconds": visit["seconds"], "error": visit["error"],
                       "second_page_seconds": second["seconds"], "second_error": second["error"],
                       "loadavg_before": load_before, "loadavg_after": loadavg(), **s.memory()}  # fmt: skip
            emit(row)
            out.append(row)
        return out

    async def _visits(self, browser, s: Server, n: int) -> list[dict]:
        return [await open_page(browser, s.base + self.url_path, self.tables, self.args.timeout) for _ in range(n)]

    async def lock(self, browser) -> list[dict]:
        """One user, pages in a row: without, then with another process holding the write lock."""
        out = []
        for run in range(self.args.runs):
            db = self.fresh_copy("lock")
            env = self.env(db)
            with server(env) as s:
                await open_page(browser, s.base + self.url_path, self.tables, self.args.timeout)  # warm
                load_before = loadavg()
                free = await self._visits(browser, s, self.args.visits)
                with lock_holder(db, env):
                    locked = await self._visits(browser, s, self.args.visits)
                free_t = [v["seconds"] for v in free]
                locked_t = [v["seconds"] for v in locked]
                row = {"kind": "lock", "run": run, "free": summary(free_t), "locked": summary(locked_t),
                       "free_median": statistics.median(free_t), "locked_median": statistics.median(locked_t),
                       "errors": sum(1 for v in free + locked if v["error"]),
                       "error_samples": [v["error"] for v in free + locked if v["error"]][:3],
                       "loadavg_before": load_before, "loadavg_after": loadavg()}  # fmt: skip
            emit(row)
            out.append(row)
        return out

    async def sessions(self, browser, n: int, load: str | None) -> dict:
        """N sessions at once on a warm server (one visit first), optionally while a load runs."""
        db = self.fresh_copy(f"sessions{n}")
        env = self.env(db)
        with server(env) as s:
            await open_page(browser, s.base + self.url_path, self.tables, self.args.timeout)  # warm: snapshot, caches
            other = None
            if load == "lock":
                holder = lock_holder(db, env)
                holder.__enter__()
            elif load == "file":
                other = start_load(db, self.big_file, env)
            load_before = loadavg()
            cpu0 = s.cpu_seconds()
            t0 = time.perf_counter()
            visits = await asyncio.gather(
                *(open_page(browser, s.base + self.url_path, self.tables, self.args.timeout) for _ in range(n))
            )
            wall = time.perf_counter() - t0
            cpu = s.cpu_seconds() - cpu0
            mem = s.memory()
            load_state = None
            if load == "lock":
                holder.__exit__(None, None, None)
            elif other is not None:
                load_state = "in corso alla fine" if other.poll() is None else "finito durante la misura"
                other.wait(timeout=self.args.timeout * 4)
        times = [v["seconds"] for v in visits]
        row = {"kind": "sessions", "sessions": n, "load": load, **summary(times), "wall_seconds": wall,
               "errors": sum(1 for v in visits if v["error"]),
               "error_samples": sorted({v["error"] for v in visits if v["error"]})[:3],
               "server_cpu_seconds": cpu, "cpu_per_visit": cpu / n, "load_state": load_state,
               "loadavg_before": load_before, "loadavg_after": loadavg(), **mem}  # fmt: skip
        emit(row)
        return row


async def run(args: argparse.Namespace, folder: Path) -> dict:
    bench = Bench(args, folder)
    results: dict = {"started_at": datetime.now().isoformat(timespec="seconds"), "loadavg_start": loadavg(),
                     "nproc": os.cpu_count(), "args": vars(args) | {"out": str(args.out)}}  # fmt: skip
    bench.build_demo()
    if "file" in args.load:
        bench.big_file = write_big_file(folder / "prestazioni_grandi.csv", args.load_rows)
    async with Browser() as browser:
        await bench.calibrate(browser)
        results["tables"] = bench.tables
        if "cold" in args.steps:
            results["cold"] = await bench.cold(browser)
        if "lock" in args.steps:
            results["lock"] = await bench.lock(browser)
        if "sessions" in args.steps:
            results["sessions"] = []
            for n in args.sessions:
                for load in [None, *[x for x in args.load if x != "none"]]:
                    for run_ in range(args.runs):
                        row = await bench.sessions(browser, n, load)
                        row["run"] = run_
                        results["sessions"].append(row)
    results["loadavg_end"] = loadavg()
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", default="cold,lock,sessions", help="cold, lock, sessions (separate da virgole)")
    p.add_argument("--sessions", default="1,4,48", help="numeri di sessioni contemporanee (virgole)")
    p.add_argument("--load", default="none,lock,file",
                   help="con che cosa in corso: none, lock (un processo tiene il lucchetto), file (un caricamento)")
    p.add_argument("--load-rows", type=int, default=500_000, help="righe del file caricato durante la misura")
    p.add_argument("--runs", type=int, default=3, help="ripetizioni di ogni misura (mediana e intervallo)")
    p.add_argument("--visits", type=int, default=5, help="pagine in fila per la misura del lucchetto")
    p.add_argument("--timeout", type=float, default=120.0, help="secondi massimi per una pagina")
    p.add_argument("--demo-scale", type=float, default=1.0, help="scala dei dati dimostrativi (1 = il demo)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "benchmarks")
    return p  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    args.sessions = [int(x) for x in args.sessions.split(",") if x.strip()]
    args.load = [x.strip() for x in args.load.split(",") if x.strip()]
    if not Path(CHROMIUM).exists():
        print(f"Errore: serve Chromium in {CHROMIUM} (apt-get install chromium).", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pdz_serving_") as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"Risultati: {args.out / 'serving.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
