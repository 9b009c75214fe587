"""`python -m etl`: load, demo, init, status, rejected (DATA_CONTRACT.md section 5), users."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import settings, spreadsheet, warehouse
from core.failures import run_command
from core.users import ROLES as USER_ROLES
from core.users import UsersError
from etl.loader import LoadRefused, fmt_int, load_files
from etl.queries import SHOWN_STATUS_SQL
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

    p = sub.add_parser("init", help="crea un database vuoto per i dati reali (al posto di quello dimostrativo, se c'è)")
    p.add_argument("--db", type=Path, help="database (default: PDZ_DB o data/warehouse.duckdb)")

    p = sub.add_parser("status", help="righe per tabella e storico dei caricamenti")
    p.add_argument("--db", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("rejected", help="righe scartate con i motivi")
    p.add_argument("--db", type=Path)
    p.add_argument("--batch", help="solo questo caricamento")
    p.add_argument("--out", type=Path, help="file CSV di destinazione (altrimenti a video)")

    p = sub.add_parser("users", help="account del cruscotto: add, remove, reset, list")
    users_sub = p.add_subparsers(dest="users_command", required=True)
    u = users_sub.add_parser("add", help="aggiunge un account")
    u.add_argument("username", help="nome utente (per l'accesso OIDC: l'email)")
    u.add_argument("--role", "--ruolo", dest="role", required=True, choices=sorted(USER_ROLES))
    u.add_argument("--comune", help="per il ruolo sindaco: codice ISTAT o nome del comune")
    u.add_argument("--password-stdin", action="store_true", help="legge la password dalla prima riga dell'input")
    u.add_argument("--oidc", action="store_true", help="nessuna password: identità OIDC (username = email)")
    u = users_sub.add_parser("reset", help="imposta una nuova password")
    u.add_argument("username")
    u.add_argument("--password-stdin", action="store_true")
    u = users_sub.add_parser("remove", help="elimina un account")
    u.add_argument("username")
    u = users_sub.add_parser("list", help="elenca gli account (mai le password)")
    u.add_argument("--json", action="store_true")
    for u in users_sub.choices.values():
        u.add_argument("--users-file", type=Path, help="file degli utenti (default: PDZ_USERS o users.toml)")
        u.add_argument("--db", type=Path, help="database per il registro accessi (default: PDZ_DB)")

    args = parser.parse_args(argv)
    commands = {
        "load": cmd_load,
        "demo": cmd_demo,
        "init": cmd_init,
        "status": cmd_status,
        "rejected": cmd_rejected,
        "users": cmd_users,
    }
    # every failure in Italian, no traceback (core/failures.py)
    return run_command(lambda: commands[args.command](args), expected=(FileNotFoundError, UsersError, LoadRefused))


def cmd_load(args: argparse.Namespace) -> int:
    keep_indicator_values()
    results = load_files(args.files, table=args.table, db=args.db, indicator_ids=catalog_indicator_ids())
    for r in results:
        if args.json:
            print(json.dumps(r.as_json(), ensure_ascii=False))
        else:
            print(r.summary_it())
    return 0 if all(r.status in ("loaded", "duplicate") for r in results) else 1


def catalog_indicator_ids() -> list[str]:
    """The catalog's indicator ids, handed to the loader to check an `obiettivi` file.

    The CLI is a composition root (the contract fixes `python -m etl load`): the one place in etl/
    that imports indicators/ (tests/test_architecture.py lists it), so the loader itself does not.
    """
    from indicators.catalog import indicator_ids

    return indicator_ids()


def keep_indicator_values() -> None:
    """Every load keeps the indicator values beside the records (etl/stored_values.py): the computation is
    handed in here, by the composition root, so that the loader never imports indicators/."""
    from indicators.engine import keep_values

    keep_values()


def cmd_demo(args: argparse.Namespace) -> int:
    from demo.build import NotADemoWarehouse, build_demo

    path = Path(args.db or settings.db_path())
    try:
        summary = build_demo(path, seed=args.seed, scale=args.scale)
    except NotADemoWarehouse as exc:
        print(f"Errore: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from etl.initialise import init_real

    print(init_real(args.db))
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
    print(f"Righe in attesa di codifica: {fmt_int(status['in_attesa'])}")
    print(f"Dati dimostrativi: {'sì' if status['demo'] else 'no'}")
    kept = status["valori_indicatori"]
    if kept is not None and kept["validi"]:
        seconds = f"{kept['secondi'] or 0:.1f}".replace(".", ",")
        print(f"Valori degli indicatori: {fmt_int(kept['righe'])} righe, calcolati dopo il caricamento in {seconds} s")
    else:
        print(
            "Valori degli indicatori: non conservati per questi dati (il cruscotto e i report li calcolano a ogni "
            "lettura; li conserva il prossimo caricamento)"
        )
    if status.get("reali_nel_dimostrativo"):
        print(
            "Attenzione: il database dimostrativo contiene anche dati reali ("
            + ", ".join(status["reali_nel_dimostrativo"])
            + "): il cruscotto chiede l'accesso. Per separarli: `python -m etl init`."
        )
    print("Caricamenti (più recenti per primi):")
    for b in status["batches"][:20]:
        print(
            f"  {b['ended_at'] or b['started_at'] or '':<19}  {b['status']:<10} {b['tabella'] or '-':<12} {b['file']}: "
            f"lette {fmt_int(b['rows_read'])}, caricate {fmt_int(b['rows_loaded'])}, "
            f"scartate {fmt_int(b['rows_rejected'])}"
            + (f", in attesa {fmt_int(b['rows_held'])}" if b["rows_held"] else "")
            + (f" — {b['error']}" if b["error"] else "")
        )
    return 0


def warehouse_status(con) -> dict:
    from etl.held import held_count

    # names from our registry; a table newer than the warehouse (not yet created by a load) counts 0
    tables = {
        t: warehouse.scalar(con, f'SELECT count(*) FROM "{t}"') if warehouse.has_table(con, t) else 0 for t in TABLES
    }
    batches = warehouse.query_pl(
        con,
        f"SELECT batch_id, file, tabella, sha256, {SHOWN_STATUS_SQL} AS status, rows_read, rows_loaded, "
        "rows_rejected, rows_read - rows_loaded - rows_rejected AS rows_held, "
        "strftime(started_at, '%Y-%m-%d %H:%M:%S') AS started_at, "
        "strftime(ended_at, '%Y-%m-%d %H:%M:%S') AS ended_at, error, fonte "
        "FROM caricamenti ORDER BY coalesce(ended_at, started_at) DESC, batch_id DESC",
    ).to_dicts()
    from etl.queries import real_loads_in_demo

    demo = warehouse.get_meta(con, "demo") == "true"
    return {
        "tables": tables,
        "batches": batches,
        "demo": demo,
        "reali_nel_dimostrativo": real_loads_in_demo(con),
        "in_attesa": held_count(con),
        "valori_indicatori": kept_values_status(con),
    }


def kept_values_status(con) -> dict | None:
    """The indicator values kept by the last load (etl/stored_values.py): rows, date of the data, seconds,
    and whether they are the ones this version would compute (else readers compute them); None: none kept."""
    from etl import stored_values
    from indicators.engine import kept_as_of

    if not warehouse.has_table(con, stored_values.TABLE):
        return None
    seconds = warehouse.get_meta(con, stored_values.SECONDS)
    return {
        "righe": warehouse.scalar(con, f"SELECT count(*) FROM {stored_values.TABLE}"),
        "data_dei_dati": warehouse.get_meta(con, stored_values.AS_OF),
        "secondi": float(seconds) if seconds else None,
        "validi": kept_as_of(con) is not None,
    }


def cmd_rejected(args: argparse.Namespace) -> int:
    from etl.queries import rejected_rows

    with warehouse.reader(args.db) as con:
        df = rejected_rows(con, args.batch)
    if args.out:
        spreadsheet.write_csv(df, args.out)
        print(f"{fmt_int(df.height)} motivi di scarto scritti in {args.out}")
    else:
        sys.stdout.write(spreadsheet.write_csv(df))
    return 0


# --- users -------------------------------------------------------------------------


def _read_password(args: argparse.Namespace) -> str:
    """From the first line of standard input (--password-stdin) or a prompt typed twice; never argv."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UsersError("Nessuna password ricevuta sullo standard input.")
        return password
    import getpass

    if not sys.stdin.isatty():
        raise UsersError("Nessun terminale per chiedere la password: usare --password-stdin.")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Ripetere la password: "):
        raise UsersError("Le due password non coincidono.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from core import users

    path = args.users_file or settings.users_path(args.db)
    action = args.users_command
    if action == "list":
        accounts = users.load_accounts(path)
        rows = [
            {
                "utente": a.utente,
                "ruolo": a.ruolo,
                "comune": a.comune,
                "accesso": "password" if a.is_local else "oidc",
                "creato": a.creato,
                "aggiornato": a.aggiornato,
            }
            for a in accounts.values()
        ]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
            return 0
        if not rows:
            print(f"Nessun account in {path}.")
            return 0
        names = users.ambito_comuni()
        for r in sorted(rows, key=lambda r: r["utente"]):
            where = f" ({names.get(r['comune'], r['comune'])})" if r["comune"] else ""
            print(f"{r['utente']:<40} {r['ruolo']}{where} [{r['accesso']}]")
        return 0
    # The audit entry is written first (`before_save`), then the users file: a change is never unaudited.
    # If the entry cannot be written nothing changes; if the file cannot be written, the failure is logged too.
    audited: list[str] = []

    def audit_first(account: users.Account) -> None:
        detail = {
            "add": f"ruolo {account.ruolo}" + (f", comune {account.comune}" if account.comune else ""),
            "reset": "password reimpostata",
            "remove": "account eliminato",
        }[action]
        if not _audit_users(args, action, "ok", detail):
            raise UsersError(
                "Impossibile scrivere la modifica nel registro degli accessi del database (disco pieno o database "
                "occupato): l'account non è stato modificato. Liberare spazio o riprovare tra poco."
            )
        audited.append(detail)

    try:
        if action == "add":
            password = None if args.oidc else _read_password(args)
            account = users.add_user(args.username, args.role, args.comune, password, path, before_save=audit_first)
            print(f"Account «{account.utente}» creato ({audited[0]}) in {path}.")
        elif action == "reset":
            account = users.reset_password(args.username, _read_password(args), path, before_save=audit_first)
            print(f"Password di «{account.utente}» reimpostata.")
        else:
            users.remove_user(args.username, path, before_save=audit_first)
            print(f"Account «{users.normalize_username(args.username)}» eliminato.")
    except OSError as exc:
        if audited:  # the entry says the change was made: say it was not
            _audit_users(args, action, "fallito", f"{audited[0]}: file degli utenti non scritto ({exc.strerror})")
        raise UsersError(
            f"Impossibile scrivere il file degli utenti {path} ({exc.strerror or exc}): nessuna modifica agli "
            "account. Controllare lo spazio su disco e i permessi, poi riprovare."
        ) from exc
    return 0


def _audit_users(args: argparse.Namespace, action: str, esito: str, detail: str) -> bool:
    """An account change in the audit log when the warehouse exists (never create it from here).

    True when the entry is written (or there is no warehouse to write it in), False when it could not be.
    """
    import getpass

    from etl import audit

    db = Path(args.db or settings.db_path())
    if not db.exists():
        return True
    who = f"riga di comando ({getpass.getuser()})"
    try:
        return audit.record("utenti", who, None, f"{action} {args.username}", esito, detail, db=db)
    except Exception as exc:  # a full disk, a damaged file: the caller refuses the change
        print(f"audit: voce non scritta ({type(exc).__name__})", file=sys.stderr)
        return False
