"""One subprocess, measured: wall time, peak RSS, a time budget and a memory guard.

Peak RSS is the kernel's own figure for the process (`ru_maxrss`), read by
GNU time (`/usr/bin/time -f %M`) so it is exact even for short runs. Not
`os.wait4` on our own child: Linux carries the parent's high-water mark over
fork and exec, so every child would report at least this process's size. While the process runs, the
resident memory of its whole process tree is sampled from /proc every 0.1 s:
past the memory guard the tree is killed (the figure then says "oltre").
Nothing here needs psutil.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
GIB = 1024**3


@dataclass
class Run:
    """What happened to one measured subprocess."""

    status: str  # ok | failed | timeout | memory
    seconds: float
    peak_rss: int  # bytes (the largest process of the tree when killed, else the process itself)
    returncode: int | None
    stdout: str
    stderr: str
    budget_seconds: float
    memory_guard: int

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_json(self) -> dict:
        out = asdict(self)
        out["stdout"] = self.stdout[-2000:]
        out["stderr"] = self.stderr[-2000:]
        return out

    def why(self) -> str:
        """Italian: why the run has no figure (for the report)."""
        if self.status == "timeout":
            return f"interrotto: oltre il tempo massimo di {self.budget_seconds:.0f} s"
        if self.status == "memory":
            return f"interrotto: oltre il limite di memoria di {self.memory_guard / GIB:.1f} GiB".replace(".", ",")
        if self.status == "failed":
            tail = (self.stderr.strip().splitlines() or ["?"])[-1][:200]
            return f"errore (codice {self.returncode}): {tail}"
        return ""


def loadavg() -> str:
    """The machine's load average (1, 5, 15 minutes), as text."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def python() -> str:
    return sys.executable


def available_memory() -> int:
    """MemAvailable from /proc/meminfo (bytes)."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def total_memory() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def free_disk(path: Path) -> int:
    path = Path(path)
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants (bytes)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss(p)
        todo += _children(p)
    return total


def run(
    cmd: list[str],
    env: dict[str, str] | None = None,
    budget_seconds: float = 600.0,
    memory_guard: int | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `cmd` to the end, or until the time budget or the memory guard stops it."""
    guard = memory_guard or int(available_memory() * 0.85)
    full_env = {**os.environ, **(env or {})}
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(prefix="pdz_rss_", delete=False) as rss_file,
    ):
        wrapped = [gnu_time, "-f", "%M", "-o", rss_file.name, *cmd] if gnu_time else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, env=full_env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        status, sampled_peak, rusage, wait_status = "ok", 0, None, 0
        while True:
            pid, wait_status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            elapsed = time.perf_counter() - t0
            rss = tree_rss(proc.pid)
            sampled_peak = max(sampled_peak, rss)
            if elapsed > budget_seconds or rss > guard:
                status = "timeout" if elapsed > budget_seconds else "memory"
                _kill_tree(proc.pid)
                _, wait_status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.1 if elapsed > 2 else 0.02)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped by wait4: keep Popen quiet
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    reported = _read_kib(Path(rss_file.name)) if gnu_time else 0
    Path(rss_file.name).unlink(missing_ok=True)
    # GNU time's figure when the process ended by itself; the sampled peak when it was stopped
    # (GNU time dies with it); without GNU time, the sampled peak (may miss a short spike).
    peak = reported or sampled_peak
    if status == "ok" and proc.returncode != 0:
        status = "failed"
    return Run(status, seconds, peak, proc.returncode, stdout, stderr, budget_seconds, guard)


def _read_kib(path: Path) -> int:
    try:
        lines = [x for x in path.read_text().split() if x.isdigit()]
    except OSError:
        return 0
    return int(lines[-1]) * 1024 if lines else 0


def _kill_tree(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the process leads its own session (start_new_session)
    except ProcessLookupError:
        pass
