"""`python -m etl`: load, demo, status, rejected (DATA_CONTRACT.md section 5)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from etl import db as warehouse
from etl import settings
from etl.loader import fmt_int, load_files
from etl.schemas import TABLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description="Carica e controlla i dati del Piano di Zona.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("load", help="valida e carica file CSV/XLSX/Parquet")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--table", choices=sorted(TABLES), help="tabella di destinazione (altrimenti dedotta)")
    p.add_argument("--db", type=Path, help="database (default: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument("--json", action="store_true", help="un oggetto JSON per file")

    p = sub.add_parser("demo", help="crea il database con dati dimostrativi sintetici")
    p.add_argument("--db", type=Path)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--scale", type=float, default=1.0)

    p = sub.add_parser("status", help="righe per tabella e storico dei caricamenti")
    p.add_argument("--db", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("rejected", help="righe scartate con i motivi")
    p.add_argument("--db", type=Path)
    p.add_argument("--batch", help="solo questo caricamento")
    p.add_argument("--out", type=Path, help="file CSV di destinazione (altrimenti a video)")

    args = parser.parse_args(argv)
    try:
        return {"load": cmd_load, "demo": cmd_demo, "status": cmd_status, "rejected": cmd_rejected}[args.command](args)
    except (warehouse.WarehouseBusy, FileNotFoundError) as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1


def cmd_load(args: argparse.Namespace) -> int:
    results = load_files(args.files, table=args.table, db=args.db)
    for r in results:
        if args.json:
            print(json.dumps(r.as_json(), ensure_ascii=False))
        else:
            print(r.summary_it())
    return 0 if all(r.status in ("loaded", "duplicate") for r in results) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from etl.demo_build import build_demo

    path = Path(args.db or settings.db_path())
    summary = build_demo(path, seed=args.seed, scale=args.scale)
    print(summary)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with warehouse.reader(args.db) as con:
        status = warehouse_status(con)
    if args.json:
        print(json.dumps(status, ensure_ascii=False, default=str))
        return 0
    print("Righe per tabella:")
    for table, n in status["tables"].items():
        print(f"  {table:<14} {fmt_int(n):>12}")
    print(f"Dati dimostrativi: {'sì' if status['demo'] else 'no'}")
    print("Caricamenti (più recenti per primi):")
    for b in status["batches"][:20]:
        print(
            f"  {b['ended_at'] or '':<19}  {b['status']:<9} {b['tabella'] or '-':<12} {b['file']}: "
            f"lette {fmt_int(b['rows_read'])}, caricate {fmt_int(b['rows_loaded'])}, "
            f"scartate {fmt_int(b['rows_rejected'])}" + (f" — {b['error']}" if b["error"] else "")
        )
    return 0


def warehouse_status(con) -> dict:
    tables = {t: warehouse.scalar(con, f'SELECT count(*) FROM "{t}"') for t in TABLES}  # names from our registry
    batches = warehouse.query_pl(
        con,
        "SELECT batch_id, file, tabella, sha256, status, rows_read, rows_loaded, rows_rejected, "
        "strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started_at, "
        "strftime(ended_at, '%Y-%m-%d %H:%M:%S') AS ended_at, error, fonte "
        "FROM caricamenti ORDER BY ended_at DESC, batch_id DESC",
    ).to_dicts()
    return {"tables": tables, "batches": batches, "demo": warehouse.get_meta(con, "demo") == "true"}


def cmd_rejected(args: argparse.Namespace) -> int:
    from etl.queries import rejected_rows

    with warehouse.reader(args.db) as con:
        df = rejected_rows(con, args.batch)
    if args.out:
        df.write_csv(args.out)
        print(f"{fmt_int(df.height)} motivi di scarto scritti in {args.out}")
    else:
        sys.stdout.write(df.write_csv())
    return 0
