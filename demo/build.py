"""Build the demo warehouse: synthetic files → the real loader → targets.

The warehouse is built beside the target path and moved into place when
complete, so a dashboard never sees half a demo. A warehouse holding real
data (any load not made by this builder) is never overwritten. Every write
goes through etl (`load_files`, `record_meta`): etl/ is the one writer.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from pathlib import Path

from core import warehouse
from demo.generate import generate_demo_files
from etl.loader import LoadResult, fmt_int, load_files, record_meta
from indicators.catalog import indicator_ids

# Demo targets: the improvement over the 2024 baseline planned for 2027, in the
# indicator's good direction (a rate up 15%, a waiting time down 15%).
DEMO_IMPROVEMENT_2027 = 0.15


class NotADemoWarehouse(RuntimeError):
    """The path holds real data: the demo refuses to replace it."""


def build_demo(db: Path | str, seed: int = 42, scale: float = 1.0) -> str:
    """Create (or rebuild) the demo warehouse at `db`; returns an Italian summary."""
    db = Path(db)
    if db.exists() and not _is_demo(db):
        raise NotADemoWarehouse(
            f"{db} contiene dati reali: i dati dimostrativi non lo sostituiscono. Indicare un altro --db."
        )
    t0 = time.perf_counter()
    db.parent.mkdir(parents=True, exist_ok=True)
    building = db.with_name(f".{db.name}.building-{os.getpid()}")
    for leftover in (building, Path(str(building) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="pdz_demo_") as tmp:
            files = generate_demo_files(Path(tmp), seed=seed, scale=scale)
            ids = indicator_ids()
            results = load_files([f for f in files if f.suffix != ".json"], db=building, indicator_ids=ids)
            record_meta(building, {"demo": "true", "demo_seed": str(seed), "demo_scale": str(scale)})
            with warehouse.reader(building) as con:
                targets = _write_demo_targets(con, Path(tmp) / "obiettivi_dimostrativi.csv")
            results += load_files([targets], table="obiettivi", db=building, indicator_ids=ids)
            failed = [r for r in results if r.status == "failed"]
            if failed:
                raise RuntimeError("; ".join(r.summary_it() for r in failed))
        os.replace(building, db)
    finally:
        for leftover in (building, Path(str(building) + ".wal")):
            leftover.unlink(missing_ok=True)
    return _summary(db, results, time.perf_counter() - t0)


def _is_demo(db: Path) -> bool:
    with warehouse.reader(db) as con:
        if warehouse.scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'") == 0:
            return warehouse.scalar(con, "SELECT count(*) FROM information_schema.tables") == 0
        loads = warehouse.scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'caricamenti'")
        has_loads = loads and warehouse.scalar(con, "SELECT count(*) FROM caricamenti") > 0
        return warehouse.get_meta(con, "demo") == "true" or not has_loads


def _write_demo_targets(con, path: Path) -> Path:
    """Baselines = the 2024 values; targets move linearly to a 15% improvement in 2027."""
    from indicators.api import catalog
    from indicators.engine import indicator_values

    entries = {e.id: e for e in catalog()}
    base = indicator_values(con, years=[2024])
    base = base.filter(base["livello"].is_in(["ambito", "sub_ambito"]) & base["valore"].is_not_null())
    rows = []
    for r in base.iter_rows(named=True):
        entry = entries.get(r["indicatore"])
        if entry is None:
            continue
        b = float(r["valore"])
        sign = 1 if entry.direzione == "alto" else -1
        final = b * (1 + sign * DEMO_IMPROVEMENT_2027)
        if entry.unita.strip() == "%":
            final = min(final, 100.0)
        rows.append([r["indicatore"], r["territorio"], 2024, "BASELINE", round(b, 3)])
        for i, anno in enumerate((2025, 2026, 2027), start=1):
            rows.append([r["indicatore"], r["territorio"], anno, "TARGET", round(b + (final - b) * i / 3, 3)])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["indicatore", "territorio", "anno", "tipo", "valore"])
        w.writerows(rows)
    return path


def _summary(db: Path, results: list[LoadResult], seconds: float) -> str:
    read = sum(r.rows_read for r in results)
    loaded = sum(r.rows_loaded for r in results)
    rejected = sum(r.rows_rejected for r in results)
    lines = [
        f"Database dimostrativo (dati sintetici) creato in {db} in {seconds:.1f} secondi: "
        f"{len(results)} file, lette {fmt_int(read)} righe, caricate {fmt_int(loaded)}, scartate {fmt_int(rejected)} "
        "(righe volutamente errate, per mostrare il controllo di qualità)."
    ]
    lines += ["  " + r.summary_it() for r in results]
    return "\n".join(lines)
