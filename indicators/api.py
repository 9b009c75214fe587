"""One function for every consumer: the dashboard, the reports and the CLI call `indicator_table`.

    indicator_table(con, "ufficio")   # unsuppressed, for the Ufficio di Piano
    indicator_table(con, "pubblico")  # disclosure control applied (Assemblea, Regione, exports)

Both come with targets, status, projection and catalog metadata, so a number on a
screen and the same number in a report come from this one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import polars as pl

from core import settings
from indicators import definitions, targets
from indicators.disclosure import suppress_small_cells
from indicators.engine import default_as_of, indicator_values

AUDIENCES = ("ufficio", "pubblico")
LEVEL_LABELS = {"comune": "comune", "sub_ambito": "sub-ambito", "ambito": "ambito"}
DIRECTION_LABELS = {"alto": "più alto è meglio", "basso": "più basso è meglio"}


def catalog() -> tuple[definitions.Indicator, ...]:
    """The parsed catalog: Indicator dataclasses (id, area, nome, descrizione, unita, direzione, ...)."""
    return definitions.catalog()


def area_names() -> dict[str, str]:
    """Area code -> its Italian name (`nome_area`), in catalog order."""
    return {e.area: e.nome_area for e in catalog()}


def indicator(indicator_id: str) -> definitions.Indicator:
    """One entry of the catalog (KeyError for an unknown id)."""
    return definitions.get(indicator_id)


def k_by_indicator() -> dict[str, int]:
    """The effective threshold of each indicator (0 = not suppressed: it counts no assisted person)."""
    return {e.id: e.k for e in catalog()}


def hierarchy(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """comune -> sub-ambito, as loaded in the warehouse."""
    return dict(con.execute("SELECT comune, sub_ambito FROM sub_ambiti").fetchall())


def catalog_frame() -> pl.DataFrame:
    """The catalog metadata as a frame: indicatore, nome, nome_area, unita, direzione, k."""
    rows = [
        {
            "indicatore": e.id,
            "nome": e.nome,
            "nome_area": e.nome_area,
            "unita": e.unita,
            "direzione": e.direzione,
            "k": e.k,
        }
        for e in catalog()
    ]
    schema = {
        "indicatore": pl.String,
        "nome": pl.String,
        "nome_area": pl.String,
        "unita": pl.String,
        "direzione": pl.String,
        "k": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def for_levels(table: pl.DataFrame, levels: Sequence[str]) -> pl.DataFrame:
    """The rows of `table` at the territorial levels a role may see (`core.users.levels_for`).

    Every consumer that serves a role (the dashboard's frame, Esporta, the three reports) filters
    through here, so a screen and a file never disagree on what a role sees. Unknown levels are an
    error (a typo must not silently show nothing, nor everything).
    """
    unknown = set(levels) - set(LEVEL_LABELS)
    if unknown:
        raise ValueError(f"Livelli territoriali sconosciuti: {', '.join(sorted(unknown))}.")
    if set(LEVEL_LABELS) <= set(levels):
        return table
    return table.filter(pl.col("livello").is_in(list(levels)))


def indicator_table(
    con: duckdb.DuckDBPyConnection,
    audience: str,
    years: list[int] | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """The tidy indicator table for an audience, with targets, status, projection and metadata.

    audience: 'ufficio' (unsuppressed) or 'pubblico' (disclosure control, contract section 4).
    Columns: indicatore, area, livello, territorio, anno, numeratore, denominatore, valore, parziale,
    soppresso, then baseline, obiettivo_finale, proiezione_2027, proiezione_min, proiezione_max,
    target_2025, target_2026, target_2027 (one per plan year), obiettivo (target of the row's year),
    atteso (expected value on the plan line), stato,
    obiettivo_atteso (the projection meets the final target), riferimento (whose plan the status
    uses: 'comune', 'sub_ambito', 'ambito', or null without a status), territorio_riferimento (that
    plan's territory code), nome, nome_area, unita, direzione, k.
    Baseline, targets, atteso and stato are those of the reference: a comune without a plan of its
    own is judged against its sub-ambito's plan, else the ambito's path (`targets.reference_plans`).
    In the public table, status and projection use published values only, and the baseline of a
    territory (and the expected value computed from it) is neither shown nor used when its baseline-year cell
    is suppressed (the row then falls back to the next reference).
    """
    if audience not in AUDIENCES:
        raise ValueError(f"Pubblico sconosciuto: «{audience}». Usare 'ufficio' o 'pubblico'.")
    as_of = as_of or default_as_of(con)
    values = indicator_values(con, years=years, as_of=as_of)
    if audience == "pubblico":
        values = suppress_small_cells(values, k_by_indicator(), hierarchy(con))
    hidden_baselines = None
    if audience == "pubblico":  # a baseline whose baseline-year cell is suppressed is neither shown nor used
        b_year = targets.plan_years()[0]
        hidden_baselines = values.filter((pl.col("anno") == b_year) & pl.col("soppresso")).select(
            "indicatore", "territorio"
        )
    table = targets.with_targets(
        values, targets.load_targets(con), as_of, hierarchy=hierarchy(con), hidden_baselines=hidden_baselines
    )
    return table.join(catalog_frame(), on="indicatore", how="left", maintain_order="left")


# --- the status rule and the target editor ------------------------------------------


def status_rule_text(direzione: str | None = None) -> str:
    """How the status is computed, in Italian (Markdown): the rule of `targets.status`."""
    b_year, years = targets.plan_years()
    last = max(years)
    good = f" ({DIRECTION_LABELS[direzione]})" if direzione in DIRECTION_LABELS else " (nella direzione buona)"
    return "\n".join(
        [
            "## Come si calcola lo stato",
            "",
            f"Si confronta il valore con la retta che va dalla baseline {b_year} (B) all'obiettivo finale {last} "
            f"(T): il valore atteso è E = B + f × (T − B), dove f è la parte di piano trascorsa (0 al 31/12/{b_year}, "
            f"1 al 31/12/{last}; per l'anno in corso, alla data dei dati).",
            "",
            f"- **raggiunto**: il valore ha già raggiunto l'obiettivo finale{good};",
            "- **in linea**: il valore è uguale o migliore del valore atteso E;",
            "- **a rischio**: è peggiore di E, ma di non più della metà del progresso atteso fino a quel momento "
            "(se l'obiettivo è mantenere la baseline: di non più del 5% dell'obiettivo);",
            "- **non in linea**: è più lontano;",
            "- **senza obiettivo**: manca la baseline o l'obiettivo; **non calcolabile**: manca il valore "
            "(denominatore zero o dato non pubblicabile).",
            "",
            "I confronti si fanno sui numeri come sono pubblicati (con i decimali mostrati nel cruscotto e nei "
            "report): un valore che si legge uguale alla baseline o all'obiettivo non è mai giudicato peggiore.",
            "",
            "**Rispetto a quale obiettivo.** Ogni territorio è confrontato con il proprio obiettivo, se l'Ufficio "
            "di Piano ne ha fissato uno (baseline e obiettivo finale). Un comune senza obiettivo proprio è "
            "confrontato con l'obiettivo del suo sub-ambito («rispetto all'obiettivo del sub-ambito») e, se manca "
            "anche quello, con il percorso dell'ambito («rispetto al percorso dell'ambito»): il valore del comune "
            "si legge sulla retta B → T del riferimento. Un sub-ambito senza obiettivo proprio è confrontato con "
            "il percorso dell'ambito. Ogni stato dice rispetto a che cosa è calcolato.",
            "",
            f"La proiezione al 31/12/{last} prolunga la retta dei minimi quadrati degli anni completi, con un "
            f"intervallo di previsione all'{int(targets.PROJECTION_LEVEL * 100)}%.",
        ]
    )


def plan_rows(con: duckdb.DuckDBPyConnection, indicatore: str, territorio: str) -> pl.DataFrame:
    """The editable plan of one indicator and territory: anno, tipo, valore (null where not set).

    One row for the baseline year (BASELINE) and one per plan year (TARGET).
    """
    b_year, years = targets.plan_years()
    current = targets.load_targets(con).filter(
        (pl.col("indicatore") == indicatore) & (pl.col("territorio") == territorio)
    )
    have = {(r["anno"], r["tipo"]): r["valore"] for r in current.iter_rows(named=True)}
    keys = [(b_year, "BASELINE"), *[(a, "TARGET") for a in years]]
    return pl.DataFrame(
        {"anno": [a for a, _ in keys], "tipo": [t for _, t in keys], "valore": [have.get(k) for k in keys]},
        schema={"anno": pl.Int32, "tipo": pl.String, "valore": pl.Float64},
    )


def save_plan_rows(db, indicatore: str, territorio: str, rows: pl.DataFrame) -> list[str]:
    """Write the edited plan (anno, tipo, valore) of one indicator and territory; empty values delete.

    The write is `etl.targets.save_plan_rows` (etl is the one writer of the warehouse), checked
    against this catalog. With any error nothing is written and the Italian messages are
    returned; [] on success. `db`: the warehouse path (a short write).
    """
    from etl import targets as target_writer

    return target_writer.save_plan_rows(db, indicatore, territorio, rows, catalog=definitions.by_id())


# --- the indicator sheet ----------------------------------------------------------


def _misura_text(e: definitions.Indicator) -> list[str]:
    """The sheet's lines about the measure: the kind's label and sentences (indicators/kinds/<tipo>.py)."""
    return e.kind.describe(e.misura)


def scheda(indicator_id: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """The indicator sheet in Italian (Markdown), generated from the catalog; with a connection,
    also the baselines and targets recorded in `obiettivi`."""
    e = indicator(indicator_id)
    b_year, years = targets.plan_years()
    k_line = (
        f"{e.k} (soglia minima dei conteggi pubblicati: max(impostazione {'PDZ_K_MINORI' if e.minori else 'PDZ_K'}"
        f" = {settings.k_min(minori=e.minori)}, minimo dell'indicatore = {e.k_minimo}))"
        if e.conteggio_persone
        else "non si applica: l'indicatore non conta persone assistite"
    )
    lines = [
        f"# {e.nome}",
        "",
        f"`{e.id}` · area **{e.nome_area}**",
        "",
        e.descrizione,
        "",
        "## Definizione",
        "",
        f"- **Numeratore**: {e.formula_numeratore}",
        f"- **Denominatore**: {e.formula_denominatore}",
        *_misura_text(e),
        f"- **Unità di misura**: {e.unita}",
        f"- **Direzione**: {e.direzione} ({DIRECTION_LABELS[e.direzione]})",
        f"- **Livelli territoriali**: {', '.join(LEVEL_LABELS[lv] for lv in e.livelli)}",
        f"- **Fonte**: {e.fonte}",
        f"- **Riferimento normativo o LEPS**: {e.riferimento or '—'}",
        f"- **Segreto statistico (k)**: {k_line}",
        "",
        "Ogni persona (o nucleo) è contata una sola volta per territorio e anno; l'età è quella al 31 dicembre; "
        "un intervento è attivo nell'anno se inizia entro il 31 dicembre e non termina prima del 1° gennaio. "
        "La popolazione è quella ISTAT dell'ultimo anno disponibile. L'anno in corso è calcolato da inizio anno "
        "alla data dei dati (valore parziale).",
        "",
        status_rule_text(e.direzione),
    ]
    if con is not None:
        t = targets.load_targets(con).filter(pl.col("indicatore") == e.id)
        lines += ["", "## Baseline e obiettivi", ""]
        if t.is_empty():
            lines.append("Nessuna baseline o obiettivo registrato.")
        else:
            lines += ["| territorio | anno | tipo | valore |", "|---|---|---|---|"]
            for r in t.iter_rows(named=True):
                v = "—" if r["valore"] is None else f"{r['valore']:.2f}".replace(".", ",")
                lines.append(f"| {r['territorio']} | {r['anno']} | {r['tipo']} | {v} |")
    return "\n".join(lines) + "\n"
