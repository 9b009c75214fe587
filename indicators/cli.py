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

from core import settings, warehouse

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
        text = table.select(keys).write_csv()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"Scritte {table.height} righe in {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


register("compute", "calcola la tabella degli indicatori (JSON o CSV)", _compute_arguments, run_compute)


# --- access: minutes from each comune to the nearest access point of its sub-ambito (indicators.proximity) ---


def _access_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, help="database (predefinito: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument("--soglia-minuti", type=float, default=None, dest="soglia_minuti",
                   help="soglia in minuti (predefinita: PDZ_SOGLIA_MINUTI, 20)")  # fmt: skip
    p.add_argument(
        "--sede-ipotetica", action="append", default=[], dest="sedi_ipotetiche", metavar="COMUNE",
        help="comune (codice ISTAT o nome) per un nuovo spoke ipotetico; ripetibile; nulla è salvato",
    )  # fmt: skip
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", type=Path, default=None, help="file di uscita (predefinito: schermo)")


def _csv_safe(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def run_access(args: argparse.Namespace) -> int:
    from indicators import proximity

    try:
        with warehouse.reader(args.db or settings.db_path()) as con:
            rows, notes = proximity.access_records(con, args.soglia_minuti, args.sedi_ipotetiche)
    except (FileNotFoundError, warehouse.WarehouseBusy, ValueError) as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    else:
        safe = [{k: _csv_safe(v) for k, v in row.items()} for row in rows]
        text = pl.DataFrame(safe, infer_schema_length=None).write_csv()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        notes.append(f"Scritte {len(rows)} righe in {args.out}")
    else:
        sys.stdout.write(text)
    for note in notes:
        print(note, file=sys.stderr)
    return 0


register("access", "minuti e km da ogni comune al punto di accesso più vicino del suo sub-ambito", _access_arguments,
         run_access)  # fmt: skip


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
    return args.run(args)
