"""`python -m indicators`: the indicator table from the command line (data contract, section 5).

    python -m indicators compute [--db PATH] [--public] [--year Y] [--format json|csv] [--out FILE]
    python -m indicators evaluate [--db PATH] [--indicator ID]... [--public] [--format json|csv] [--out FILE]
    python -m indicators equity [--db PATH] [--indicator ID]... [--public] [--dettaglio] [--format json|csv]
                                [--out FILE]

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
EXTRA_KEYS = ("area", "parziale", "nome", "unita", "direzione", "stato", "obiettivo", "baseline", "riferimento")

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


# --- evaluate: the pilot against the other sub-ambiti (issue 13, part 1; contract section 5) ---------------


def _csv_safe(df: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe (contract, section 4)."""
    risky = pl.col(pl.String).str.contains(r"^[=+\-@\t\r]")
    return df.with_columns(pl.when(risky).then("'" + pl.col(pl.String)).otherwise(pl.col(pl.String)).name.keep())


def _write(text: str, out: Path | None, rows: int) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"Scritte {rows} righe in {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _analysis_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, help="database (predefinito: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument(
        "--indicator",
        action="append",
        dest="indicators",
        default=None,
        metavar="ID",
        help="solo questo indicatore (ripetibile; predefinito: tutti quelli per comune)",
    )
    p.add_argument("--public", action="store_true", help="usa solo i valori pubblicabili (segreto statistico)")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="data dei dati (AAAA-MM-GG)")
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", type=Path, default=None, help="file di uscita (predefinito: schermo)")


def _equity_arguments(p: argparse.ArgumentParser) -> None:
    _analysis_arguments(p)
    p.add_argument(
        "--dettaglio",
        action="store_true",
        help="una riga per sub-ambito: lo scarto dal valore dell'ambito (invece del riepilogo)",
    )


def _unknown_indicators(ids: list[str] | None) -> list[str]:
    from indicators.api import catalog

    known = {e.id for e in catalog()}
    return [i for i in ids or [] if i not in known]


def _analysis_inputs(args: argparse.Namespace, with_residents: bool = False):
    """(indicator table, sub_ambiti, residents or None) from the warehouse, or an exit status on error."""
    from indicators.api import indicator_table

    unknown = _unknown_indicators(args.indicators)
    if unknown:
        print(
            f"Errore: indicatore sconosciuto: {', '.join(unknown)}. Gli identificativi validi sono quelli della "
            "colonna «indicatore» di `python -m indicators compute`.",
            file=sys.stderr,
        )
        return 2
    try:
        with warehouse.reader(args.db or settings.db_path()) as con:
            from indicators import equity, evaluation

            table = indicator_table(con, "pubblico" if args.public else "ufficio", as_of=args.as_of)
            sub = evaluation.sub_ambiti_frame(con)
            residents = equity.sub_ambito_residents(con) if with_residents else None
    except (FileNotFoundError, warehouse.WarehouseBusy) as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    return table, sub, residents


def evaluation_csv(results: list[dict]) -> str:
    """The evaluate objects as CSV: lists joined with '|' (avvertenze with ' | '), start dates as SA=date."""
    from indicators.evaluation import EXTRA_KEYS, RESULT_KEYS

    def flat(r: dict) -> dict:
        row = {k: r.get(k) for k in (*RESULT_KEYS, *EXTRA_KEYS)}
        row["sub_ambiti_pilota"] = "|".join(r["sub_ambiti_pilota"])
        row["anni_prima"] = "|".join(map(str, r["anni_prima"]))
        row["anni_dopo"] = "|".join(map(str, r["anni_dopo"]))
        row["avvertenze"] = " | ".join(r["avvertenze"])
        row["date_avvio"] = "|".join(f"{s}={d}" for s, d in r.get("date_avvio", {}).items())
        return row

    schema = {k: pl.String for k in (*RESULT_KEYS, *EXTRA_KEYS)}
    schema.update(
        {
            k: pl.Float64
            for k in (
                "effetto",
                "ic_basso",
                "ic_alto",
                "livello_confidenza",
                "p_value",
                "p_minimo",
                "effetto_placebo",
                "p_value_placebo",
            )
        }
    )
    schema.update({k: pl.Int64 for k in ("n_comuni_pilota", "n_comuni_altri", "n_assegnazioni")})
    return _csv_safe(pl.DataFrame([flat(r) for r in results], schema=schema, orient="row")).write_csv()


def run_evaluate(args: argparse.Namespace) -> int:
    from indicators.evaluation import EXTRA_KEYS, RESULT_KEYS, evaluate

    inputs = _analysis_inputs(args)
    if isinstance(inputs, int):
        return inputs
    table, sub, _ = inputs
    results = evaluate(table, sub, args.indicators)
    if args.format == "json":
        objs = [{k: _json_number(r.get(k)) for k in (*RESULT_KEYS, *EXTRA_KEYS)} for r in results]
        text = json.dumps(objs, ensure_ascii=False, indent=1) + "\n"
    else:
        text = evaluation_csv(results)
    _write(text, args.out, len(results))
    return 0


def run_equity(args: argparse.Namespace) -> int:
    from indicators.equity import equity_table, sub_ambito_gaps

    inputs = _analysis_inputs(args, with_residents=True)
    if isinstance(inputs, int):
        return inputs
    table, _, residents = inputs
    if args.indicators:
        table = table.filter(pl.col("indicatore").is_in(args.indicators))
    out = sub_ambito_gaps(table) if args.dettaglio else equity_table(table, residents)
    if args.format == "json":
        rows = [{k: _json_number(v) for k, v in r.items()} for r in out.iter_rows(named=True)]
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    else:
        text = _csv_safe(out).write_csv()
    _write(text, args.out, out.height)
    return 0


register(
    "evaluate",
    "confronta i sub-ambiti pilota con gli altri, prima e dopo l'avvio (differenza nelle differenze per comune)",
    _analysis_arguments,
    run_evaluate,
)
register(
    "equity",
    "distanze tra sub-ambiti per indicatore e anno (coefficiente di variazione, rapporto max/min, più lontano)",
    _equity_arguments,
    run_equity,
)


# --- access: minutes from each comune to the nearest access point of its sub-ambito (indicators.proximity) ---


def _access_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, help="database (predefinito: PDZ_DB o data/warehouse.duckdb)")
    p.add_argument(
        "--soglia-minuti",
        type=float,
        default=None,
        dest="soglia_minuti",
        help="soglia in minuti (predefinita: PDZ_SOGLIA_MINUTI, 20)",
    )
    p.add_argument(
        "--sede-ipotetica",
        action="append",
        default=[],
        dest="sedi_ipotetiche",
        metavar="COMUNE",
        help="comune (codice ISTAT o nome) per un nuovo spoke ipotetico; ripetibile; nulla è salvato",
    )
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--out", type=Path, default=None, help="file di uscita (predefinito: schermo)")


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
        text = _csv_safe(pl.DataFrame(rows, infer_schema_length=None)).write_csv()
    for note in notes:
        print(note, file=sys.stderr)
    _write(text, args.out, len(rows))
    return 0


register(
    "access",
    "minuti e km da ogni comune al punto di accesso più vicino del suo sub-ambito",
    _access_arguments,
    run_access,
)


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
