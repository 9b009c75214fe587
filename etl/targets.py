"""The target editor's writes: one baseline or target into `obiettivi`, checked first.

`etl/` is the one writer of the warehouse, and sits below `indicators/`: the checks need
the catalog (which indicators exist, at which levels, which are percentages), so the
caller hands it in (`catalog`: indicator id -> an entry with `livelli` and `unita`, such
as `indicators.definitions.by_id()`); nothing here imports `indicators`.

The same rules as the loader's for an `obiettivi` file (`etl/validate.py`): a known
indicator, AMBITO, a known sub-ambito or a comune of the ambito (ISTAT code), BASELINE
in the baseline year only and TARGET in the plan years only (both from
`core.settings.plan_years`). The editor adds three: the indicator is computed at the
territory's level, and a value is a finite number, not negative, and at most 100 for a
percentage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

from core import warehouse
from core.settings import plan_years
from etl.schemas import OBIETTIVI

TIPI = OBIETTIVI.column("tipo").values  # ("BASELINE", "TARGET"): the file's rule and the editor's


class CatalogEntry(Protocol):
    """What the checks read of an indicator (`indicators.definitions.Indicator` has both)."""

    livelli: tuple[str, ...]
    unita: str


Catalog = Mapping[str, CatalogEntry]


def _validate(
    con: duckdb.DuckDBPyConnection, indicatore: str, territorio: str, anno: int, tipo: str, catalog: Catalog
) -> str:
    if indicatore not in catalog:
        raise ValueError(f"Indicatore sconosciuto: «{indicatore}». Usare un indicatore del catalogo.")
    entry = catalog[indicatore]
    subs = [r[0] for r in con.execute("SELECT DISTINCT sub_ambito FROM sub_ambiti ORDER BY 1").fetchall()]
    comuni = {r[0] for r in con.execute("SELECT comune FROM sub_ambiti").fetchall()}
    if territorio != "AMBITO" and territorio not in subs and territorio not in comuni:
        raise ValueError(
            f"Territorio sconosciuto: «{territorio}». Usare AMBITO, un codice di sub-ambito ({', '.join(subs)}) "
            "o il codice ISTAT a 6 cifre di un comune dell'ambito (per esempio 019035)."
        )
    livello = "ambito" if territorio == "AMBITO" else ("comune" if territorio in comuni else "sub_ambito")
    if livello not in entry.livelli:
        raise ValueError(f"L'indicatore «{indicatore}» non è calcolato a livello di {livello.replace('_', '-')}.")
    b_year, years = plan_years()
    if isinstance(anno, bool) or not isinstance(anno, int) or not b_year <= anno <= max(years):
        raise ValueError(f"Anno non valido: {anno}. Gli obiettivi riguardano gli anni dal {b_year} al {max(years)}.")
    tipo_norm = str(tipo).strip().upper()
    if tipo_norm not in TIPI:
        raise ValueError(f"Tipo non valido: «{tipo}». Usare BASELINE o TARGET.")
    if tipo_norm == "BASELINE" and anno != b_year:
        raise ValueError(f"La baseline si riferisce solo al {b_year}, non al {anno}.")
    if tipo_norm == "TARGET" and anno not in years:
        raise ValueError(
            f"Gli obiettivi (TARGET) riguardano gli anni del piano {', '.join(map(str, years))}, non il {anno}."
        )
    return tipo_norm


def check_target(
    con: duckdb.DuckDBPyConnection,
    indicatore: str,
    territorio: str,
    anno: int,
    tipo: str,
    valore: float | None,
    *,
    catalog: Catalog,
) -> str:
    """The checks of `set_target` without writing; returns the normalised tipo. `valore` None = a deletion."""
    tipo = _validate(con, indicatore, territorio, anno, tipo, catalog)
    if valore is None:
        return tipo
    if isinstance(valore, bool) or not isinstance(valore, int | float) or not math.isfinite(valore):
        raise ValueError(f"Valore non valido: «{valore}». Serve un numero (per esempio 12,5).")
    if valore < 0:
        raise ValueError(f"Valore non valido: {valore}. Gli indicatori non possono essere negativi.")
    if catalog[indicatore].unita.strip() == "%" and valore > 100:
        raise ValueError(f"Valore non valido: {valore}. Una percentuale non può superare 100.")
    return tipo


def set_target(
    con: duckdb.DuckDBPyConnection,
    indicatore: str,
    territorio: str,
    anno: int,
    tipo: str,
    valore: float,
    *,
    catalog: Catalog,
) -> None:
    """Write one baseline or target into `obiettivi` (replacing the previous value for the same key).

    Raises ValueError with an Italian message for an unknown indicator or territory, a year outside
    the plan (baseline year .. last plan year), BASELINE not in the baseline year or TARGET not in a
    plan year, a value that is not a finite number, negative, or above 100 for a percentage.
    """
    if valore is None:
        raise ValueError(
            "Valore non valido: vuoto. Serve un numero (per esempio 12,5); per togliere un obiettivo "
            "usare remove_target."
        )
    tipo = check_target(con, indicatore, territorio, anno, tipo, valore, catalog=catalog)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM obiettivi WHERE indicatore = ? AND territorio = ? AND anno = ? AND upper(tipo) = ?",
            [indicatore, territorio, anno, tipo],
        )
        con.execute(
            "INSERT INTO obiettivi (indicatore, territorio, anno, tipo, valore, batch_id) VALUES (?, ?, ?, ?, ?, ?)",
            [indicatore, territorio, anno, tipo, float(valore), "editor"],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def remove_target(
    con: duckdb.DuckDBPyConnection, indicatore: str, territorio: str, anno: int, tipo: str, *, catalog: Catalog
) -> int:
    """Delete one baseline or target (same validation as `set_target`); returns the rows removed."""
    tipo = _validate(con, indicatore, territorio, anno, tipo, catalog)
    before = con.execute("SELECT count(*) FROM obiettivi").fetchall()[0][0]
    con.execute(
        "DELETE FROM obiettivi WHERE indicatore = ? AND territorio = ? AND anno = ? AND upper(tipo) = ?",
        [indicatore, territorio, anno, tipo],
    )
    return before - con.execute("SELECT count(*) FROM obiettivi").fetchall()[0][0]


def _cell_value(v) -> float | None:
    """A number from an editor cell (None, NaN and '' mean "no target")."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, str):
        v = v.strip().replace(".", "").replace(",", ".") if "," in v else v.strip()
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"Valore non valido: «{v}». Serve un numero (per esempio 12,5).") from None
    return None if x != x else x  # NaN: empty cell


def save_plan_rows(
    db: Path | str, indicatore: str, territorio: str, rows: pl.DataFrame, *, catalog: Catalog
) -> list[str]:
    """Write the edited plan (anno, tipo, valore) of one indicator and territory; empty values delete.

    Every row is checked first (`set_target` rules); with any error nothing is written and the
    Italian messages are returned. Returns [] on success. `db`: the warehouse path (a short write).
    """
    parsed, errors = [], []
    with warehouse.writer(db, values=False) as con:  # targets: the indicator values stay as they are
        for r in rows.iter_rows(named=True):
            try:
                anno = int(r["anno"])
                valore = _cell_value(r.get("valore"))
                tipo = check_target(con, indicatore, territorio, anno, str(r["tipo"]), valore, catalog=catalog)
                parsed.append((anno, tipo, valore))
            except (TypeError, ValueError) as exc:
                errors.append(f"{r.get('anno')} {r.get('tipo')}: {exc}")
        if errors:
            return errors
        for anno, tipo, valore in parsed:
            if valore is None:
                remove_target(con, indicatore, territorio, anno, tipo, catalog=catalog)
            else:
                set_target(con, indicatore, territorio, anno, tipo, valore, catalog=catalog)
    return []
