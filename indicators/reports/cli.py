"""`python -m indicators report --format pdf|pptx|xlsx --out FILE [--db PATH] [--territory T] [--year Y]
[--ruolo R]` (with `--ruolo regione`, the report the Regione may receive: no value of any comune)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core import settings, users, warehouse
from indicators import cli


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("pdf", "pptx", "xlsx"), required=True, help="formato del report")
    p.add_argument("--out", type=Path, required=True, help="file di uscita")
    p.add_argument("--db", type=Path, default=None, help="database (predefinito: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument(
        "--territory",
        default=None,
        help="AMBITO (predefinito), un codice di sub-ambito (SA1…) o il codice ISTAT di un comune",
    )
    p.add_argument("--year", type=int, default=None, help="anno (predefinito: l'ultimo anno completo)")
    p.add_argument(
        "--ruolo",
        choices=tuple(users.ROLES),
        default="ufficio_di_piano",
        help="ruolo di chi riceve il report: regione = solo ambito e sub-ambiti, nessun valore per comune "
        "(predefinito: ufficio_di_piano, tutti i livelli)",
    )


def run(args: argparse.Namespace) -> int:
    from indicators.reports import ReportError, prepare, write_report

    started = time.monotonic()
    try:
        with warehouse.reader(args.db or settings.db_path()) as con:  # released before the slow drawing
            ctx = prepare(con, args.territory, args.year, levels=users.levels_for(args.ruolo))
        path = write_report(ctx, args.format, args.out)
    except (FileNotFoundError, warehouse.WarehouseBusy, ReportError) as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    print(f"Report {args.format.upper()} scritto in {path} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0


cli.register("report", "report PDF, PPTX o XLSX (segreto statistico applicato)", add_arguments, run)
