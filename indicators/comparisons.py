"""Outside comparisons: what others publish for the province, the region, Italy, shown beside the ambito.

The `confronti` table holds values that ISTAT, INPS or Regione publish for territories around the
ambito (DATA_CONTRACT.md §6), loaded by the Ufficio di Piano like any other file. They are not
computed here and describe no person of the ambito: they never enter the tidy indicator table,
the disclosure control, the targets or the status. These functions read them apart and put them
beside the ambito's own values only when showing them, each with its year and its source.

    outside = outside_values(con)                      # every loaded comparison
    beside(outside, table, "anziani_sad_copertura_65", unita, 2025, [("AMBITO", "Ambito")])
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from core.warehouse import has_table, query_pl
from indicators import fmt

TABLE = "confronti"
SCHEMA = {
    "indicatore": pl.String,
    "territorio": pl.String,
    "anno": pl.Int32,
    "valore": pl.Float64,
    "fonte": pl.String,
    "nota": pl.String,
}
OWN_SOURCE = "dati dei servizi dell'ambito (calcolati da questo strumento)"
HEADING = "Confronto con altri territori"
EXPLANATION = (
    "Valori pubblicati da altre fonti per territori più ampi, caricati dall'Ufficio di Piano: non sono calcolati "
    "da questo strumento e possono riferirsi a un anno diverso o a una definizione non identica (vedere la fonte)."
)
DISPLAY_COLUMNS = ("Territorio", "Anno", "Valore", "Fonte")


def outside_values(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """indicatore, territorio, anno, valore, fonte, nota: every loaded comparison, in the order loaded.

    A warehouse (or snapshot) older than the table has none: an empty frame, never an error.
    """
    if not has_table(con, TABLE):
        return pl.DataFrame(schema=SCHEMA)
    frame = query_pl(con, "SELECT indicatore, territorio, anno, valore, fonte, nota FROM confronti ORDER BY rowid")
    return frame.cast(SCHEMA)  # type: ignore[arg-type]


def latest(outside: pl.DataFrame, indicatore: str, year: int) -> pl.DataFrame:
    """For one indicator, each territory's most recent value not later than `year` (territories in load order).

    A value published for a later year than the one shown is left out: it would compare different years
    the other way round (and the ambito's later value is not there yet).
    """
    rows = outside.filter((pl.col("indicatore") == indicatore) & (pl.col("anno") <= year))
    if rows.is_empty():
        return rows
    order = rows.with_row_index("_ordine").group_by("territorio").agg(pl.col("_ordine").min())
    newest = rows.sort("anno", descending=True, maintain_order=True).unique("territorio", keep="first")
    return newest.join(order, on="territorio").sort("_ordine").drop("_ordine")


def source_text(row: dict) -> str:
    """The source as written, with the note (a different definition, the table used) when there is one."""
    return row["fonte"] + (f" — {row['nota']}" if row.get("nota") else "")


def _year_label(row: dict) -> str:
    return f"{row['anno']} (da inizio anno)" if row.get("parziale") else str(row["anno"])


def beside(
    outside: pl.DataFrame,
    table: pl.DataFrame,
    indicatore: str,
    unita: str,
    year: int,
    own: Sequence[tuple[str, str]],
) -> pl.DataFrame:
    """Territorio, Anno, Valore, Fonte: the own territories' values for `year` (from the indicator table
    of the audience, suppression included), then each outside territory's latest value. Empty when no
    comparison is loaded for the indicator: the own values alone are shown elsewhere.

    `own`: (territorio code in the table, label), e.g. [("019035", "Crema"), ("AMBITO", "Ambito Cremasco")];
    a territory without a value that year is left out.
    """
    others = latest(outside, indicatore, year)
    if others.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in DISPLAY_COLUMNS})
    rows = []
    for code, label in own:
        cell = table.filter(
            (pl.col("indicatore") == indicatore) & (pl.col("territorio") == code) & (pl.col("anno") == year)
        )
        if cell.is_empty():
            continue
        r = cell.row(0, named=True)
        value = fmt.with_unit(r["valore"], unita, bool(r.get("soppresso")))
        rows.append({"Territorio": label, "Anno": _year_label(r), "Valore": value, "Fonte": OWN_SOURCE})
    for r in others.iter_rows(named=True):
        rows.append(
            {
                "Territorio": r["territorio"],
                "Anno": str(r["anno"]),
                "Valore": fmt.with_unit(r["valore"], unita),
                "Fonte": source_text(r),
            }
        )
    return pl.DataFrame(rows, schema={c: pl.String for c in DISPLAY_COLUMNS})


def note_text(outside: pl.DataFrame, indicatore: str, unita: str, year: int) -> str | None:
    """One line for a report, under the indicator's table: each outside territory's value and year, in the
    indicator's unit, then the sources (as written in `fonte`; the notes stay in the dashboard and the XLSX).

    None when no comparison is loaded for the indicator.
    """
    others = latest(outside, indicatore, year)
    if others.is_empty():
        return None
    values = "; ".join(
        f"{r['territorio']} {fmt.number(r['valore'], fmt.decimals_for(unita, r['valore']))} ({r['anno']})"
        for r in others.iter_rows(named=True)
    )
    sources = list(dict.fromkeys(others["fonte"].to_list()))
    label = "Fonte" if len(sources) == 1 else "Fonti"
    intro = f"{HEADING}, in {unita} (valori di altre fonti, non calcolati da questo strumento)"
    return f"{intro}: {values}. {label}: {'; '.join(sources)}."


def all_rows(outside: pl.DataFrame, names: dict[str, tuple[str, str]]) -> pl.DataFrame:
    """Every comparison with the indicator's name and unit (`names`: id -> (nome, unita)), for exports:
    Indicatore, Codice indicatore, Unità di misura, Territorio, Anno, Valore (a number), Fonte, Nota."""
    return outside.select(
        pl.col("indicatore")
        .replace_strict({k: v[0] for k, v in names.items()}, default=pl.col("indicatore"))
        .alias("Indicatore"),
        pl.col("indicatore").alias("Codice indicatore"),
        pl.col("indicatore").replace_strict({k: v[1] for k, v in names.items()}, default="").alias("Unità di misura"),
        pl.col("territorio").alias("Territorio"),
        pl.col("anno").alias("Anno"),
        pl.col("valore").alias("Valore"),
        pl.col("fonte").alias("Fonte"),
        pl.col("nota").fill_null("").alias("Nota"),
    )
