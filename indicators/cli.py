"""`python -m indicators`: the indicator table from the command line (data contract, section 5).

    python -m indicators compute [--db PATH] [--public] [--year Y] [--format json|csv] [--out FILE]

Subcommands register themselves in `COMMANDS` (name -> (add_arguments, run)), so another
module can add one (e.g. `report`) without touching this parser.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from core import settings, spreadsheet, warehouse
from core.failures import run_command

CONTRACT_KEYS = ("indicatore", "livello", "territorio", "anno", "numeratore", "denominatore", "valore", "soppresso")
EXTRA_KEYS = ("area", "parziale", "nome", "unita", "direzione", "stato", "obiettivo", "baseline")

Command = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]
COMMANDS: dict[str, Command] = {}


def register(
    name: str,
    help_text: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """Add a subcommand: `add_arguments(parser)` declares its options, `run(args)` returns the exit status."""
    COMMANDS[name] = (add_arguments, run, help_text)


def _compute_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, help="database (predefinito: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument("--public", action="store_true", help="applica il segreto statistico (vista pubblica)")
    p.add_argument("--year", type=int, default=None, help="solo questo anno")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="data dei dati (AAAA-MM-GG)")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", type=Path, default=None, help="file di uscita (predefinito: schermo)")


def _json_number(v):
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return None
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
    return v


def records(table: pl.DataFrame) -> list[dict]:
    """The contract's JSON objects: contract keys first, then a few extra keys."""
    keys = [*CONTRACT_KEYS, *[k for k in EXTRA_KEYS if k in table.columns]]
    return [{k: _json_number(v) for k, v in row.items()} for row in table.select(keys).iter_rows(named=True)]


def compute_table(db: Path | None, public: bool, year: int | None, as_of: date | None = None) -> pl.DataFrame:
    from indicators.api import indicator_table

    with warehouse.reader(db or settings.db_path()) as con:
        table = indicator_table(con, "pubblico" if public else "ufficio", as_of=as_of)
    if year is not None:
        table = table.filter(pl.col("anno") == year)
    return table


def run_compute(args: argparse.Namespace) -> int:
    try:
        table = compute_table(args.db, args.public, args.year, args.as_of)
    except (FileNotFoundError, warehouse.WarehouseBusy) as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        text = json.dumps(records(table), ensure_ascii=False, indent=1) + "\n"
    else:
        keys = [*CONTRACT_KEYS, *[k for k in EXTRA_KEYS if k in table.columns]]
        text = spreadsheet.write_csv(table.select(keys))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"Scritte {table.height} righe in {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


register("compute", "calcola la tabella degli indicatori (JSON o CSV)", _compute_arguments, run_compute)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indicators", description="Indicatori del Piano di Zona")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_arguments, run, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: args.run(args))  # every failure in Italian, no traceback (core/failures.py)
