"""One function for every consumer: the dashboard, the reports and the CLI call `indicator_table`.

    indicator_table(con, "ufficio")   # unsuppressed, for the Ufficio di Piano
    indicator_table(con, "pubblico")  # disclosure control applied (Assemblea, Regione, exports)

Both come with targets, status, projection and catalog metadata, so a number on a
screen and the same number in a report come from this one function.
"""

from __future__ import annotations

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
KIND_LABELS = {
    "distinct_units_rate": "persone o nuclei distinti ogni N residenti",
    "record_share": "quota percentuale di interventi",
    "units_ratio": "rapporto tra nuclei o persone distinti",
    "median_days": "mediana dei giorni di attesa",
    "hours_per_user": "ore per utente",
    "staff_ratio": "residenti per operatore a tempo pieno",
    "staff_fte_rate": "operatori a tempo pieno ogni N residenti",
    "coverage_share": "quota di residenti coperti",
    "units_per_fte": "persone in carico per operatore a tempo pieno",
    "contact_rate": "contatti ai punti di accesso ogni N residenti",
    "contact_share": "quota percentuale di contatti agli sportelli spoke",
    "contact_days": "mediana dei giorni dal primo contatto al primo intervento",
}


def catalog() -> tuple[definitions.Indicator, ...]:
    """The parsed catalog: Indicator dataclasses (id, area, nome, descrizione, unita, direzione, ...)."""
    return definitions.catalog()


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
        {"indicatore": e.id, "nome": e.nome, "nome_area": e.nome_area, "unita": e.unita, "direzione": e.direzione,
         "k": e.k}
        for e in catalog()
    ]  # fmt: skip
    schema = {"indicatore": pl.String, "nome": pl.String, "nome_area": pl.String, "unita": pl.String,
              "direzione": pl.String, "k": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


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
    obiettivo_atteso (the projection meets the final target), nome, nome_area, unita, direzione, k.
    In the public table, status and projection use published values only, and the baseline of a
    territory is hidden when its baseline-year cell is suppressed.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"Pubblico sconosciuto: «{audience}». Usare 'ufficio' o 'pubblico'.")
    as_of = as_of or default_as_of(con)
    values = indicator_values(con, years=years, as_of=as_of)
    if audience == "pubblico":
        values = suppress_small_cells(values, k_by_indicator(), hierarchy(con))
    table = targets.with_targets(values, targets.load_targets(con), as_of)
    if audience == "pubblico":
        b_year = targets.plan_years()[0]
        hidden_base = (
            values.filter((pl.col("anno") == b_year) & pl.col("soppresso"))
            .select("indicatore", "territorio")
            .unique()
            .with_columns(pl.lit(True).alias("_base_hidden"))
        )
        table = (
            table.join(hidden_base, on=["indicatore", "territorio"], how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("_base_hidden").fill_null(False))
                .then(None)
                .otherwise(pl.col("baseline"))
                .alias("baseline")
            )
            .drop("_base_hidden")
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


def save_plan_rows(db, indicatore: str, territorio: str, rows: pl.DataFrame) -> list[str]:
    """Write the edited plan (anno, tipo, valore) of one indicator and territory; empty values delete.

    Every row is checked first (`targets.set_target` rules); with any error nothing is written and the
    Italian messages are returned. Returns [] on success. `db`: the warehouse path (a short write).
    """
    from core import warehouse

    parsed, errors = [], []
    with warehouse.writer(db) as con:
        for r in rows.iter_rows(named=True):
            try:
                anno = int(r["anno"])
                valore = _cell_value(r.get("valore"))
                tipo = targets.check_target(con, indicatore, territorio, anno, str(r["tipo"]), valore)
                parsed.append((anno, tipo, valore))
            except (TypeError, ValueError) as exc:
                errors.append(f"{r.get('anno')} {r.get('tipo')}: {exc}")
        if errors:
            return errors
        for anno, tipo, valore in parsed:
            if valore is None:
                targets.remove_target(con, indicatore, territorio, anno, tipo)
            else:
                targets.set_target(con, indicatore, territorio, anno, tipo, valore)
    return []


# --- the indicator sheet ----------------------------------------------------------


def _misura_text(e: definitions.Indicator) -> list[str]:
    m = e.misura
    lines = [f"- Tipo di misura: {KIND_LABELS.get(e.tipo, e.tipo)} (`{e.tipo}`)"]
    if e.tipo == "units_ratio":
        for side in ("numeratore", "denominatore"):
            lines.append(f"- Interventi al {side}: {', '.join(m[side]['interventi'])} (evento: {m[side]['evento']})")
    elif "interventi" in m:
        lines.append(f"- Interventi: {', '.join(m['interventi'])}")
    if "evento" in m:
        ev = {"attivo": "attivi nell'anno", "inizio": "iniziati nell'anno", "fine": "terminati nell'anno"}
        lines.append(f"- Periodo: interventi {ev[m['evento']]}")
    if "unita_conteggio" in m:
        lines.append(f"- Si contano: {'nuclei familiari' if m['unita_conteggio'] == 'nucleo' else 'persone'} distinti")
    if "eta_min" in m or "eta_max" in m:
        lines.append(f"- Età al 31 dicembre: da {m.get('eta_min', 0)} a {m.get('eta_max', 'oltre')}")
    if m.get("popolazione"):
        p = m["popolazione"]
        lines.append(
            f"- Popolazione di riferimento: residenti da {p.get('eta_min', 0)} a {p.get('eta_max', 'oltre')} anni"
        )
    if m.get("moltiplicatore") and e.tipo not in ("record_share",):
        lines.append(f"- Moltiplicatore: {int(m['moltiplicatore']):,}".replace(",", "."))
    return lines


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
