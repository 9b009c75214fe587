"""Serving: cold start, a write lock, a load and many sessions on a real `streamlit run` of the demo.

`python -m benchmarks.serving` (or `python -m benchmarks --steps serving`). Each measure runs on a copy of
the demo warehouse (built once per run, in a temporary folder) and a dashboard server of its own
(`streamlit run app.py` with the repository's settings). With `--baseline DIR` (another version of
the code, e.g. `git archive main | tar -x -C DIR`) every measure is taken on both versions,
alternating run by run, so the two are compared under the same machine load.

* **cold**: the server is started and, the moment it answers `/_stcore/health`, a browser opens the
  Panoramica: the time from that request to the page drawn (below) is the first page's wait; the
  server's start (launch to health) is given beside it. A fresh server per run.
* **lock**: one user opens the Panoramica `--visits` times in a row (a new browser session each
  time: a full run of the page), first with nobody else on the file, then while another process
  holds DuckDB's write lock (`core.warehouse.writer`) after changing the file, as a load does.
* **cpu**: the server's CPU seconds (utime + stime of its process, from /proc) per page visit, over
  `--cpu-visits` visits in a row: by a browser that has visited before (its cache holds Streamlit's
  static files) and by browsers visiting for the first time (a new context each: ~125 static files).
* **sessions**: N sessions open the Panoramica at once; p50 and p95 of their page times, errors, the
  server's CPU per visit and memory (RSS at the end and peak), alone or while another process holds
  the write lock (`lock`) or loads `--load-rows` records through the real loader (`file`). Two kinds
  of client: headless Chromium (one browser, N contexts; `--browser-sessions`), and a protocol client
  (`--sessions`) that speaks Streamlit's websocket protocol as the browser's script does, after
  fetching the same static files a first-time browser fetches: it measures the server without N
  browsers rendering on the same cores (their CPU is reported for the Chromium runs).

"The page drawn" (Chromium): the Panoramica's title, status counters and all its tables (their count
is read once from a settled page) are on screen, with no spinner and no "running" indicator; for the
protocol client, the script run has finished (`script_finished`). An exception on the page is an error.

Prints one JSON object per line as each figure exists, and writes serving.json and serving.md to
`--out` after every step (a stopped run keeps what it measured).
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

from benchmarks.measure import loadavg
from core.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--mute-audio",
]
PAGE = ""  # the Panoramica: the default page, at the root URL
CLK_TCK = os.sysconf("SC_CLK_TCK")

GOALS = {"first_page_s": 2.0, "lock_ratio": 1.1, "cpu_per_visit_s": 0.1, "sessions": 48, "sessions_p95_s": 3.0}

# The Panoramica is drawn: title, counters, all its tables (count from a settled page), no spinner, not running.
READY_JS = """(tables) => {
  if (document.querySelector('[data-testid="stException"]')) return "error";
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.querySelector('h1')) return false;
  if (main.querySelectorAll('[data-testid="stMetric"]').length < 1) return false;
  if (main.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]').length < tables) return false;
  if (document.querySelector('[data-testid="stSpinner"]')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  return "ok";
}"""


def emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "min": min(times) if times else None,
        "max": max(times) if times else None,
    }


# --- processes ----------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu(pid: int, children: bool = False) -> float:
    """utime + stime of a process (all its threads), with its reaped children's when asked."""
    f = _stat(pid)
    if f is None:
        return 0.0
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / CLK_TCK


def browser_cpu() -> float:
    """CPU seconds of the Chromium processes under this process (renderers that ended included)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            f = _stat(int(d.name))
            if f is not None:
                parents[int(d.name)] = int(f[1])
                try:
                    names[int(d.name)] = (d / "comm").read_text().strip()
                except OSError:
                    names[int(d.name)] = ""

    def under_us(pid: int) -> bool:
        while pid in parents and pid > 1:
            pid = parents[pid]
            if pid == os.getpid():
                return True
        return False

    # live processes, and the ended ones their parent has reaped (a parent's "children" times)
    chromium = [pid for pid, name in names.items() if name.startswith("chrom") and under_us(pid)]
    return sum(process_cpu(pid, children=True) for pid in chromium)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` of a code tree on a warehouse; CPU and memory of its process from /proc."""

    def __init__(self, env: dict, root: Path = REPO_ROOT, timeout: float = 120.0, hide: Path | None = None) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=root,
            env={**env, "PYTHONPATH": os.pathsep.join([*([str(hide)] if hide else []), str(root)])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(self.base + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    ended = self.proc.poll() is not None
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:] if ended else ""
                    self.stop()
                    raise RuntimeError(f"il server non è partito: {err}") from None
                time.sleep(0.02)
        self.start_seconds = time.perf_counter() - t0

    def cpu_seconds(self) -> float:
        return process_cpu(self.proc.pid)

    def memory(self) -> dict:
        out = {}
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) * 1024
        except OSError:
            pass
        return {"rss_bytes": out.get("VmRSS"), "peak_rss_bytes": out.get("VmHWM")}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


@contextmanager
def server(env: dict, root: Path = REPO_ROOT, hide: Path | None = None):
    s = Server(env, root, hide=hide)
    try:
        yield s
    finally:
        s.stop()


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


class Other:
    """Another process on the warehouse during a measure: holding the write lock, or loading a file."""

    def __init__(self, kind: str | None, db: Path, env: dict, root: Path, big_file: Path | None) -> None:
        self.kind = kind
        self.proc: subprocess.Popen | None = None
        if kind is None:
            return
        env = {**env, "PYTHONPATH": str(root)}
        if kind == "lock":
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LOCK_HOLDER, str(db)],
                cwd=root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            expected = "locked"
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LOADER, str(db), str(big_file)],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                text=True,
            )
            expected = "loading"
        if expected not in self.proc.stdout.readline():
            self.finish()
            raise RuntimeError(f"il processo «{kind}» non è partito")

    def state(self) -> str | None:
        if self.proc is None:
            return None
        return "in corso alla fine" if self.proc.poll() is None else "finito durante la misura"

    def finish(self, timeout: float = 600) -> None:
        if self.proc is None:
            return
        if self.kind == "lock" and self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def write_big_file(path: Path, rows: int, seed: int = 11) -> Path:
    """A prestazioni file for the Ambito Cremasco's comuni (the benchmark generator)."""
    from benchmarks import generate
    from benchmarks.scales import SCALES, comuni_of

    generate.write_prestazioni(path, comuni_of(SCALES["ambito"]), rows, seed=seed)
    return path


# --- clients --------------------------------------------------------------------------------------


async def browser_visit(browser, url: str, tables: int, timeout: float, context=None) -> dict:
    """A browser session opening `url` (a new context unless one is given): seconds until drawn, or the error."""
    ctx = context or await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
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
        error = None
        if state == "error":
            error = (await page.locator('[data-testid="stException"]').first.inner_text())[:300]
        await page.close()
        return {"seconds": seconds, "error": error}
    finally:
        if context is None:
            await ctx.close()


async def settled_page(browser, url: str, timeout: float) -> tuple[int, list[str]]:
    """(number of tables, URLs of the server's static files) of a first visit, once idle three times in a row."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
    try:
        page = await ctx.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        await page.goto(url, timeout=timeout * 1000)
        await page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
        idle = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        for _ in range(3):
            await page.wait_for_function(idle, timeout=timeout * 1000)
            await page.wait_for_timeout(500)
        tables = await page.locator(
            '[data-testid="stMain"] :is([data-testid="stDataFrame"], [data-testid="stTable"])'
        ).count()
        origin = url.split("/", 3)[:3]
        base = "/".join(origin)
        static = sorted({u[len(base) :] for u in requested if u.startswith(base) and "/_stcore/" not in u})
        return tables, static
    finally:
        await ctx.close()


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); returns its status."""
    status = int((await reader.readline()).split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    else:
        await reader.readexactly(length)
    return status


async def fetch_all(base: str, paths: list[str], parallel: int = 6) -> None:
    """GET every path as a browser does: `parallel` keep-alive HTTP/1.1 connections to the server."""
    host, port = base.split("//", 1)[1].split(":")
    queue = list(paths)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while queue:
                path = queue.pop(0)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip\r\n\r\n".encode())
                await writer.drain()
                status = await _read_response(reader)
                if status >= 400:
                    raise RuntimeError(f"HTTP {status} per {path}")
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(min(parallel, len(paths)))))


async def protocol_visit(base: str, static: list[str], timeout: float, parallel: int = 6) -> dict:
    """A first-time visitor without a browser: the page's static files (as a browser fetches them, on six
    keep-alive connections), then a session on Streamlit's websocket that runs the page; seconds until the
    run has finished."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    t0 = time.perf_counter()
    try:
        await fetch_all(base, static, parallel)
        msg = BackMsg()
        state = msg.rerun_script
        state.page_name = PAGE
        state.context_info.timezone = "Europe/Rome"
        state.context_info.locale = "it-IT"
        state.context_info.url = f"{base}/{PAGE}"
        ws_url = "ws://" + base.split("//", 1)[1] + "/_stcore/stream"
        async with asyncio.timeout(timeout):
            async with websockets.connect(ws_url, subprotocols=["streamlit"], origin=base, max_size=None) as ws:
                await ws.send(msg.SerializeToString())
                while True:
                    fm = ForwardMsg()
                    fm.ParseFromString(await ws.recv())
                    kind = fm.WhichOneof("type")
                    if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                        if fm.delta.new_element.WhichOneof("type") == "exception":
                            error = fm.delta.new_element.exception.message[:300]
                            return {"seconds": time.perf_counter() - t0, "error": error}
                    elif kind == "script_finished" and fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                        return {"seconds": time.perf_counter() - t0, "error": None}
    except Exception as exc:  # noqa: BLE001  (a refused connection, a timeout: this session's error)
        return {"seconds": time.perf_counter() - t0, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


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


# --- the measures -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, folder: Path, results: dict) -> None:
        self.args = args
        self.folder = folder
        self.results = results
        self.demo = folder / "demo.duckdb"
        self.trees = [("nostro", REPO_ROOT)] + ([("base", args.baseline.resolve())] if args.baseline else [])
        self.hide = self._hidden_modules(args.baseline_hide) if args.baseline else None
        self.tables = 0
        self.static: list[str] = []
        self.big_file: Path | None = None

    def _hidden_modules(self, names: str) -> Path:
        """A folder of stand-ins that make `import NAME` fail, put first on the baseline server's path: the
        baseline runs as it did before those packages were installed."""
        folder = self.folder / "nascosti"
        folder.mkdir(exist_ok=True)
        for name in filter(None, (n.strip() for n in names.split(","))):
            (folder / f"{name}.py").write_text(f"raise ModuleNotFoundError('{name}: nascosto dal benchmark')\n")
        return folder

    def serve(self, env: dict, root: Path):
        """The server of a tree (the baseline without the hidden packages)."""
        return server(env, root, hide=self.hide if root != REPO_ROOT else None)

    def env(self, db: Path) -> dict:
        return {**os.environ, "PDZ_DB": str(db), "PDZ_SECRET": str(self.folder / "secret.key")}

    def copy(self, name: str) -> Path:
        """A copy of the demo warehouse (its key beside it is shared: same folder)."""
        db = self.folder / f"{name}.duckdb"
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
        shutil.copyfile(self.demo, db)
        return db

    def url(self, s: Server) -> str:
        return f"{s.base}/{PAGE}"

    def record(self, step: str, row: dict) -> None:
        row = {"kind": step, **row}
        emit(row)
        self.results.setdefault(step, []).append(row)

    def build(self) -> None:
        from demo.build import build_demo

        t0 = time.perf_counter()
        os.environ["PDZ_SECRET"] = str(self.folder / "secret.key")
        build_demo(self.demo, scale=self.args.demo_scale)
        self.results["demo"] = {"seconds": time.perf_counter() - t0, "bytes": self.demo.stat().st_size}
        if "file" in self.args.load and "sessions" in self.args.steps:
            self.big_file = write_big_file(self.folder / "prestazioni_grandi.csv", self.args.load_rows)

    async def calibrate(self, browser) -> None:
        with server(self.env(self.copy("calibrate"))) as s:
            self.tables, self.static = await settled_page(browser, self.url(s), self.args.timeout)
        self.results["page"] = {"tables": self.tables, "static_files": len(self.static)}
        emit({"kind": "calibrate", **self.results["page"]})

    async def cold(self, browser) -> None:
        for run in range(self.args.runs):
            for label, root in self.trees:
                db = self.copy("cold")
                before = loadavg()
                with self.serve(self.env(db), root) as s:
                    first = await browser_visit(browser, self.url(s), self.tables, self.args.timeout)
                    cpu_first = s.cpu_seconds()
                    second = await browser_visit(browser, self.url(s), self.tables, self.args.timeout)
                    self.record(
                        "cold",
                        {
                            "tree": label,
                            "run": run,
                            "server_start_s": s.start_seconds,
                            "first_page_s": first["seconds"],
                            "error": first["error"],
                            "second_page_s": second["seconds"],
                            "second_error": second["error"],
                            "server_cpu_until_first_page_s": cpu_first,
                            "loadavg_before": before,
                            "loadavg_after": loadavg(),
                            **s.memory(),
                        },
                    )

    async def lock(self, browser) -> None:
        for run in range(self.args.runs):
            for label, root in self.trees:
                db = self.copy("lock")
                env = self.env(db)
                with self.serve(env, root) as s:
                    await browser_visit(browser, self.url(s), self.tables, self.args.timeout)  # warm
                    before = loadavg()
                    free = [
                        await browser_visit(browser, self.url(s), self.tables, self.args.timeout)
                        for _ in range(self.args.visits)
                    ]
                    holder = Other("lock", db, env, root, None)
                    try:
                        locked = [
                            await browser_visit(browser, self.url(s), self.tables, self.args.timeout)
                            for _ in range(self.args.visits)
                        ]
                    finally:
                        holder.finish()
                free_t, locked_t = [v["seconds"] for v in free], [v["seconds"] for v in locked]
                errors = [v["error"] for v in free + locked if v["error"]]
                self.record(
                    "lock",
                    {
                        "tree": label,
                        "run": run,
                        "free_median_s": statistics.median(free_t),
                        "locked_median_s": statistics.median(locked_t),
                        "free": free_t,
                        "locked": locked_t,
                        "errors": len(errors),
                        "error_samples": errors[:3],
                        "loadavg_before": before,
                        "loadavg_after": loadavg(),
                    },
                )

    async def cpu(self, browser) -> None:
        n = self.args.cpu_visits
        for run in range(self.args.runs):
            for label, root in self.trees:
                with self.serve(self.env(self.copy("cpu")), root) as s:
                    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
                    try:
                        await browser_visit(browser, self.url(s), self.tables, self.args.timeout, ctx)  # warm + cache
                        before = loadavg()
                        c0 = s.cpu_seconds()
                        returning = [
                            await browser_visit(browser, self.url(s), self.tables, self.args.timeout, ctx)
                            for _ in range(n)
                        ]
                        c1 = s.cpu_seconds()
                    finally:
                        await ctx.close()
                    first_time = [
                        await browser_visit(browser, self.url(s), self.tables, self.args.timeout) for _ in range(n)
                    ]
                    c2 = s.cpu_seconds()
                errors = [v["error"] for v in returning + first_time if v["error"]]
                self.record(
                    "cpu",
                    {
                        "tree": label,
                        "run": run,
                        "visits": n,
                        "returning_cpu_per_visit_s": (c1 - c0) / n,
                        "first_time_cpu_per_visit_s": (c2 - c1) / n,
                        "returning_median_s": statistics.median(v["seconds"] for v in returning),
                        "first_time_median_s": statistics.median(v["seconds"] for v in first_time),
                        "errors": len(errors),
                        "loadavg_before": before,
                        "loadavg_after": loadavg(),
                    },
                )

    async def sessions(self, browser) -> None:
        plans = [("chromium", n) for n in self.args.browser_sessions] + [("protocollo", n) for n in self.args.sessions]
        for client, n in plans:
            for load in self.args.load:
                for run in range(self.args.runs):
                    for label, root in self.trees:
                        await self._burst(browser, client, n, None if load == "none" else load, run, label, root)

    async def _burst(self, browser, client: str, n: int, load: str | None, run: int, label: str, root: Path) -> None:
        db = self.copy("sessions")
        env = self.env(db)
        with self.serve(env, root) as s:
            await browser_visit(browser, self.url(s), self.tables, self.args.timeout)  # warm: snapshot, caches
            other = Other(load, db, env, root, self.big_file)
            try:
                before = loadavg()
                c0, b0, t0 = s.cpu_seconds(), browser_cpu(), time.perf_counter()
                if client == "chromium":
                    jobs = [browser_visit(browser, self.url(s), self.tables, self.args.timeout) for _ in range(n)]
                else:
                    jobs = [protocol_visit(s.base, self.static, self.args.timeout) for _ in range(n)]
                visits = await asyncio.gather(*jobs)
                wall, cpu = time.perf_counter() - t0, s.cpu_seconds() - c0
                bcpu = browser_cpu() - b0 if client == "chromium" else None
                mem, load_state = s.memory(), other.state()
            finally:
                other.finish()
        times = [v["seconds"] for v in visits]
        errors = [v["error"] for v in visits if v["error"]]
        self.record(
            "sessions",
            {
                "tree": label,
                "client": client,
                "sessions": n,
                "load": load or "none",
                "run": run,
                **summary(times),
                "wall_s": wall,
                "errors": len(errors),
                "error_samples": sorted(set(errors))[:3],
                "server_cpu_s": cpu,
                "server_cpu_per_visit_s": cpu / n,
                "browser_cpu_s": bcpu,
                "load_state": load_state,
                "loadavg_before": before,
                "loadavg_after": loadavg(),
                **mem,
            },
        )


# --- the report -------------------------------------------------------------------------------------


def _median_range(values: list[float]) -> tuple[float, float, float] | None:
    values = [v for v in values if v is not None]
    return (statistics.median(values), min(values), max(values)) if values else None


def _it(x: float | None, decimals: int = 2) -> str:
    return "—" if x is None else f"{x:,.{decimals}f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _mr(values: list[float], decimals: int = 2, unit: str = " s") -> str:
    m = _median_range(values)
    if m is None:
        return "—"
    return f"{_it(m[0], decimals)}{unit} [{_it(m[1], decimals)}–{_it(m[2], decimals)}]"


def summarise(results: dict) -> dict:
    """Medians and ranges per measure and version, and the goals (ours)."""
    out: dict = {"goals": []}

    def rows(step: str, tree: str = "nostro", **match) -> list[dict]:
        return [
            r for r in results.get(step, []) if r.get("tree") == tree and all(r.get(k) == v for k, v in match.items())
        ]

    def goal(what: str, threshold: str, value, met) -> None:
        out["goals"].append({"goal": what, "threshold": threshold, "value": value, "met": met})

    cold = rows("cold")
    if cold:
        m = _median_range([r["first_page_s"] for r in cold if not r["error"]])
        goal(
            "prima pagina nel browser dopo `streamlit run` (demo), dalla richiesta al disegno",
            f"< {_it(GOALS['first_page_s'], 0)} s",
            m,
            None if m is None else m[0] < GOALS["first_page_s"],
        )
    lock = rows("lock")
    if lock:
        ratios = [r["locked_median_s"] / r["free_median_s"] for r in lock]
        m = _median_range(ratios)
        goal(
            "pagina mentre un altro processo tiene il lucchetto di scrittura, ÷ senza lucchetto",
            f"≤ {_it(GOALS['lock_ratio'], 1)}× (non più lenta, a meno del rumore)",
            m,
            m[0] <= GOALS["lock_ratio"],
        )
    cpu = rows("cpu")
    if cpu:
        labels = (
            ("returning_cpu_per_visit_s", "browser che ha già visitato il cruscotto"),
            ("first_time_cpu_per_visit_s", "browser alla prima visita (~125 file statici)"),
        )
        for key, label in labels:
            m = _median_range([r[key] for r in cpu])
            goal(
                f"CPU del server per visita della Panoramica, {label}",
                f"≤ {_it(GOALS['cpu_per_visit_s'], 1)} s",
                m,
                m[0] <= GOALS["cpu_per_visit_s"],
            )
    for client in ("protocollo", "chromium"):
        big = rows("sessions", client=client, sessions=GOALS["sessions"], load="none")
        if big:
            m = _median_range([r["p95"] for r in big])
            errors = sum(r["errors"] for r in big)
            who = "client di protocollo (file statici + websocket)" if client == "protocollo" else "Chromium"
            goal(
                f"{GOALS['sessions']} sessioni insieme sulla Panoramica, p95 ({who})",
                f"< {_it(GOALS['sessions_p95_s'], 0)} s, nessun errore",
                m,
                m[0] < GOALS["sessions_p95_s"] and errors == 0,
            )
    return out


def markdown(results: dict) -> str:
    """The serving section of the benchmark report (Italian), from the raw rows."""
    s = summarise(results)
    trees = sorted(
        {r["tree"] for step in ("cold", "lock", "cpu", "sessions") for r in results.get(step, [])},
        key=lambda t: t != "nostro",
    )
    name = {"nostro": "questa versione", "base": "versione di confronto (--baseline)"}
    page = results.get("page", {})
    lines = [
        "## Servire le pagine: avvio, lucchetto, caricamento, molte sessioni",
        "",
        f"`{results.get('command', 'python -m benchmarks.serving')}` · database dimostrativo (scala "
        f"{results.get('args', {}).get('demo_scale', 1)}) · Panoramica con {page.get('tables', '?')} tabelle e "
        f"{page.get('static_files', '?')} file statici alla prima visita · {results.get('nproc', '?')} core · "
        f"carico medio all'inizio {results.get('loadavg_start', '—')}, alla fine {results.get('loadavg_end', '—')} · "
        f"mediana [minimo–massimo] di {results.get('args', {}).get('runs', '?')} esecuzioni"
        + (", le due versioni alternate" if len(trees) > 1 else "")
        + ".",
        "",
    ]
    if results.get("cold"):
        lines += ["| avvio a freddo | " + " | ".join(name[t] for t in trees) + " |", "|---|" + "---|" * len(trees)]
        for key, label in (
            ("server_start_s", "avvio del server (fino a /_stcore/health)"),
            ("first_page_s", "**prima pagina**, dalla richiesta al disegno"),
            ("second_page_s", "seconda pagina (nuova sessione)"),
            ("server_cpu_until_first_page_s", "CPU del server fino alla prima pagina"),
        ):
            cells = [_mr([r[key] for r in results["cold"] if r["tree"] == t]) for t in trees]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if results.get("lock"):
        lines += [
            "| un utente, pagine in fila | " + " | ".join(name[t] for t in trees) + " |",
            "|---|" + "---|" * len(trees),
        ]
        labels = (
            ("free_median_s", "senza altri processi sul file"),
            ("locked_median_s", "mentre un altro processo tiene il lucchetto di scrittura"),
        )
        for key, label in labels:
            cells = [_mr([r[key] for r in results["lock"] if r["tree"] == t]) for t in trees]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if results.get("cpu"):
        lines += [
            "| CPU del server per visita | " + " | ".join(name[t] for t in trees) + " |",
            "|---|" + "---|" * len(trees),
        ]
        for key, label in (
            ("returning_cpu_per_visit_s", "browser che ha già visitato (file statici in cache)"),
            ("first_time_cpu_per_visit_s", "browser alla prima visita"),
        ):
            cells = [_mr([r[key] for r in results["cpu"] if r["tree"] == t], 3) for t in trees]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if results.get("sessions"):
        lines += [
            "| client | sessioni | in corso | versione | p50 | p95 | errori | CPU server / visita | CPU Chromium | "
            "RSS server (picco) | carico medio |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        keys = []
        for r in results["sessions"]:
            k = (r["client"], r["sessions"], r["load"], r["tree"])
            if k not in keys:
                keys.append(k)
        load_name = {"none": "niente", "lock": "lucchetto", "file": "caricamento"}
        for client, n, load, tree in keys:
            rs = [
                r
                for r in results["sessions"]
                if (r["client"], r["sessions"], r["load"], r["tree"]) == (client, n, load, tree)
            ]
            bcpu = [r["browser_cpu_s"] / n for r in rs if r.get("browser_cpu_s") is not None]
            peak = max((r.get("peak_rss_bytes") or 0) for r in rs) / 1024**2
            lines.append(
                f"| {client} | {n} | {load_name[load]} | {name[tree]} | {_mr([r['p50'] for r in rs], 1)} | "
                f"{_mr([r['p95'] for r in rs], 1)} | {sum(r['errors'] for r in rs)} | "
                f"{_mr([r['server_cpu_per_visit_s'] for r in rs], 3)} | "
                f"{_mr(bcpu, 2) + ' per sessione' if bcpu else '—'} | {_it(peak, 0)} MiB | "
                f"{rs[-1]['loadavg_before'].split(',')[0]} |"
            )
        lines.append("")
    if s["goals"]:
        lines += ["| obiettivo | soglia | misurato (questa versione) | raggiunto |", "|---|---|---|---|"]
        for g in s["goals"]:
            v = g["value"]
            value = "—" if v is None else f"{_it(v[0], 2)} [{_it(v[1], 2)}–{_it(v[2], 2)}]"
            met = {True: "sì", False: "**no**", None: "non misurato"}[g["met"]]
            lines.append(f"| {g['goal']} | {g['threshold']} | {value} | {met} |")
    return "\n".join(lines) + "\n"


def write(results: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    results["summary"] = summarise(results)
    md, js = out / "serving.md", out / "serving.json"
    md.write_text(markdown(results), encoding="utf-8")
    js.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return md, js


async def run(args: argparse.Namespace, folder: Path, results: dict) -> dict:
    bench = Bench(args, folder, results)
    bench.build()
    async with Browser() as browser:
        await bench.calibrate(browser)
        for step in args.steps:
            await getattr(bench, step)(browser)
            results["loadavg_end"] = loadavg()
            write(results, args.out)
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", default="cold,lock,cpu,sessions", help="cold, lock, cpu, sessions (virgole)")
    p.add_argument("--sessions", default="1,8,48", help="sessioni insieme, client di protocollo (virgole)")
    p.add_argument("--browser-sessions", default="1,4", help="sessioni insieme in Chromium (virgole; vuoto: nessuna)")
    p.add_argument(
        "--load",
        default="none,lock,file",
        help="in corso durante le sessioni: none, lock (un processo tiene il lucchetto), file (un caricamento)",
    )
    p.add_argument("--load-rows", type=int, default=500_000, help="righe del file caricato durante le sessioni")
    p.add_argument("--runs", type=int, default=3, help="ripetizioni di ogni misura (mediana e intervallo)")
    p.add_argument("--visits", type=int, default=5, help="pagine in fila per la misura del lucchetto")
    p.add_argument("--cpu-visits", type=int, default=10, help="visite in fila per la CPU per visita")
    p.add_argument("--timeout", type=float, default=180.0, help="secondi massimi per una pagina")
    p.add_argument("--demo-scale", type=float, default=1.0, help="scala dei dati dimostrativi (1 = il demo)")
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="un'altra versione del codice da misurare alternata a questa (es. git archive main)",
    )
    p.add_argument(
        "--baseline-hide",
        default="httptools,uvloop,orjson",
        help="pacchetti nascosti alla versione di confronto (installati con questa versione)",
    )
    p.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "benchmarks")
    return p


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    args.sessions, args.browser_sessions = _ints(args.sessions), _ints(args.browser_sessions)
    args.load = [x.strip() for x in args.load.split(",") if x.strip()]
    unknown = set(args.steps) - {"cold", "lock", "cpu", "sessions"} or set(args.load) - {"none", "lock", "file"}
    if unknown:
        print(f"Errore: valori sconosciuti: {', '.join(sorted(unknown))}.", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"Errore: serve Chromium in {CHROMIUM} (apt-get install chromium).", file=sys.stderr)
        return 2
    if args.baseline and not (args.baseline / "app.py").exists():
        print(f"Errore: {args.baseline} non contiene app.py.", file=sys.stderr)
        return 2
    results: dict = {
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "loadavg_start": loadavg(),
        "nproc": os.cpu_count(),
        "command": " ".join(["python -m benchmarks.serving", *(argv or sys.argv[1:])]),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory(prefix="pdz_serving_") as tmp:
        asyncio.run(run(args, Path(tmp), results))
    md, js = write(results, args.out)
    print(md.read_text(encoding="utf-8"))
    print(f"Risultati: {md}, {js}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
