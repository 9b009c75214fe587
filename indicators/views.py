"""What each screen and report shows, computed from the one tidy table.

Pure Polars transforms of `api.indicator_table(...)`: no SQL, no Streamlit.
A number on a screen and the same number in a report come from here.
"""

from __future__ import annotations

import polars as pl

STATUS_ORDER = {"non in linea": 0, "a rischio": 1, "in linea": 2, "raggiunto": 3}


def cell(table: pl.DataFrame, indicatore: str, territorio: str, anno: int) -> dict | None:
    rows = table.filter(
        (pl.col("indicatore") == indicatore) & (pl.col("territorio") == territorio) & (pl.col("anno") == anno)
    )
    return rows.row(0, named=True) if rows.height else None


def overview(table: pl.DataFrame, year: int, territorio: str = "AMBITO") -> pl.DataFrame:
    """One row per indicator for a territory: value this year and last, target 2027, status, projection."""
    this = table.filter((pl.col("territorio") == territorio) & (pl.col("anno") == year))
    prev = table.filter((pl.col("territorio") == territorio) & (pl.col("anno") == year - 1)).select(
        "indicatore",
        pl.col("valore").alias("valore_anno_prec"),
        pl.col("soppresso").alias("soppresso_anno_prec"),
    )
    out = this.join(prev, on="indicatore", how="left").with_columns(
        pl.when(pl.col("soppresso") | pl.col("soppresso_anno_prec").fill_null(False))
        .then(None)
        .otherwise(pl.col("valore") - pl.col("valore_anno_prec"))
        .alias("variazione"),
        pl.col("stato").replace_strict(STATUS_ORDER, default=None, return_dtype=pl.Int8).alias("_ordine_stato"),
    )
    return out.sort("area", "indicatore")


def furthest_behind(ov: pl.DataFrame, n: int = 5) -> pl.DataFrame:
    """The objectives furthest behind: worst status first, then the largest gap to the expected path."""
    behind = ov.filter(pl.col("stato").is_in(["non in linea", "a rischio"]))
    gap = "scarto_atteso" if "scarto_atteso" in ov.columns else "variazione"
    return behind.sort(["_ordine_stato", gap], nulls_last=True).head(n)


def status_counts(ov: pl.DataFrame) -> dict[str, int]:
    counts = dict(ov.group_by("stato").len().iter_rows())
    return {s: counts.get(s, 0) for s in ("raggiunto", "in linea", "a rischio", "non in linea")}


def level_values(
    table: pl.DataFrame, territories: pl.DataFrame, indicatore: str, year: int, livello: str
) -> pl.DataFrame:
    """territorio, nome, residenti, valore, soppresso, numeratore, denominatore, stato, riferimento,
    territorio_riferimento: one indicator-year at one level (every territory, with or without a value)."""
    wanted = [
        "territorio",
        "valore",
        "soppresso",
        "numeratore",
        "denominatore",
        "stato",
        "riferimento",
        "territorio_riferimento",
    ]
    rows = table.filter(
        (pl.col("indicatore") == indicatore) & (pl.col("anno") == year) & (pl.col("livello") == livello)
    ).select([c for c in wanted if c in table.columns])
    if livello == "comune":
        names = territories.select(pl.col("comune").alias("territorio"), "nome", "residenti")
    else:
        names = (
            territories.group_by("sub_ambito", maintain_order=True)
            .agg(pl.col("nome_sub_ambito").first().alias("nome"), pl.col("residenti").sum())
            .rename({"sub_ambito": "territorio"})
        )
    return names.join(rows, on="territorio", how="left", maintain_order="left").with_columns(
        pl.col("soppresso").fill_null(False)
    )


def ranking(values: pl.DataFrame, direzione: str) -> pl.DataFrame:
    """Best first in the indicator's direction; suppressed and missing at the bottom, unranked."""
    ranked = values.filter(pl.col("valore").is_not_null() & ~pl.col("soppresso")).sort(
        "valore", descending=direzione == "alto"
    )
    ranked = ranked.with_columns(pl.int_range(1, ranked.height + 1, dtype=pl.Int64).alias("posizione"))
    rest = values.filter(pl.col("valore").is_null() | pl.col("soppresso")).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("posizione")
    )
    return pl.concat([ranked, rest.select(ranked.columns)]).select(
        "posizione", *[c for c in ranked.columns if c != "posizione"]
    )


def series(table: pl.DataFrame, indicatore: str, territorio: str) -> pl.DataFrame:
    """The indicator over the years for one territory (anno, valore, soppresso, parziale, ...)."""
    return table.filter((pl.col("indicatore") == indicatore) & (pl.col("territorio") == territorio)).sort("anno")


def plan_targets(rows: pl.DataFrame) -> tuple[float | None, dict[int, float], tuple | None]:
    """(baseline 2024, {year: target}, projection (central, low, high)) from a territory's series."""
    if rows.height == 0:
        return None, {}, None
    last = rows.sort("anno").row(-1, named=True)
    baseline = last.get("baseline")
    targets = {}
    for year in (2025, 2026, 2027):
        value = last.get(f"target_{year}")
        if value is not None:
            targets[year] = value
    projection = None
    if last.get("proiezione_2027") is not None and not last.get("soppresso"):
        projection = (last["proiezione_2027"], last.get("proiezione_min"), last.get("proiezione_max"))
    return baseline, targets, projection


def sub_ambito_of(territories: pl.DataFrame, comune: str) -> str | None:
    """The sub-ambito of a comune (None when unknown)."""
    hit = territories.filter(pl.col("comune") == comune)["sub_ambito"]
    return hit[0] if hit.len() else None


def plan_owner(rows: pl.DataFrame) -> str | None:
    """Whose plan the baseline and target lines of a territory's series are, when not its own:
    «dell'ambito» or «del sub-ambito» (a comune read on a borrowed plan); None for its own plan."""
    if rows.height == 0 or "territorio_riferimento" not in rows.columns:
        return None
    last = rows.sort("anno").row(-1, named=True)
    ref = last.get("territorio_riferimento")
    if ref is None or ref == last["territorio"]:
        return None
    return REFERENCE_OWNER["ambito"] if ref == "AMBITO" else REFERENCE_OWNER["sub_ambito"]


def territory_comparison(table: pl.DataFrame, year: int, comune: str, sub_ambito: str | None) -> pl.DataFrame:
    """Every indicator for a comune next to its sub-ambito and the ambito."""
    base = table.filter(pl.col("anno") == year)

    def pick(territorio: str | None, suffix: str) -> pl.DataFrame:
        rows = base.filter(pl.col("territorio") == (territorio or "-"))
        return rows.select(
            "indicatore", pl.col("valore").alias(f"valore_{suffix}"), pl.col("soppresso").alias(f"soppresso_{suffix}")
        )

    catalog_cols = base.select("indicatore", "area", "nome", "unita", "direzione").unique("indicatore")
    return (
        catalog_cols.join(pick(comune, "comune"), on="indicatore", how="left")
        .join(pick(sub_ambito, "sub_ambito"), on="indicatore", how="left")
        .join(pick("AMBITO", "ambito"), on="indicatore", how="left")
        .sort("area", "indicatore")
    )


STATUS_ICON = {"raggiunto": "✅", "in linea": "🟢", "a rischio": "🟠", "non in linea": "🔴"}
# Whose plan a status uses (`riferimento` of indicator_table), as words.
REFERENCE_LABELS = {
    "comune": "rispetto all'obiettivo del comune",
    "sub_ambito": "rispetto all'obiettivo del sub-ambito",
    "ambito": "rispetto al percorso dell'ambito",
}
REFERENCE_SHORT = {
    "comune": "obiettivo del comune",
    "sub_ambito": "obiettivo del sub-ambito",
    "ambito": "percorso dell'ambito",
}
REFERENCE_OWNER = {"comune": "del comune", "sub_ambito": "del sub-ambito", "ambito": "dell'ambito"}


def reference_label(riferimento: str | None) -> str:
    """«rispetto al percorso dell'ambito», ... ('' without a reference)."""
    return REFERENCE_LABELS.get(riferimento or "", "")


def status_text(row: dict) -> str:
    """The status cell of a table: icon and words; «n.p.» for a suppressed value (never a status)."""
    from indicators import fmt

    if row.get("soppresso"):
        return f"⚪ {fmt.SUPPRESSED}"
    stato = row.get("stato") or "senza obiettivo"
    return f"{STATUS_ICON.get(stato, '⚪')} {stato}"


def reference_summary(ov: pl.DataFrame) -> str:
    """How many statuses of an overview use each reference, in Italian: «12 rispetto all'obiettivo del
    sub-ambito, 3 rispetto al percorso dell'ambito» ('' when none has a status)."""
    if "riferimento" not in ov.columns:
        return ""
    counts = dict(ov.filter(pl.col("riferimento").is_not_null()).group_by("riferimento").len().iter_rows())
    parts = [f"{counts[r]} {REFERENCE_LABELS[r]}" for r in ("comune", "sub_ambito", "ambito") if counts.get(r)]
    return ", ".join(parts)


def reading(row: dict, year: int) -> str:
    """One line in Italian for a mayor: value, target, status, projection."""
    from indicators import fmt

    unita = row.get("unita") or ""
    if row.get("soppresso"):
        return f"Nel {year}: dato non pubblicabile ({fmt.SUPPRESSED}), riguarda troppo poche persone."
    parts = [
        f"Nel {year}{' (da inizio anno)' if row.get('parziale') else ''}: {fmt.with_unit(row.get('valore'), unita)}"
    ]
    own = row.get("riferimento") in (None, row.get("livello"))
    if row.get("target_2027") is not None:
        whose = "" if own else f" {REFERENCE_OWNER.get(row.get('riferimento'), '')}"
        parts.append(f"obiettivo 2027{whose}: {fmt.with_unit(row['target_2027'], unita)}")
    if row.get("stato") and row["stato"] in STATUS_ICON:
        parts.append(f"stato: {row['stato']}" + ("" if own else f" {reference_label(row.get('riferimento'))}"))
    text = "; ".join(parts)
    if row.get("proiezione_2027") is not None:
        low, high = row.get("proiezione_min"), row.get("proiezione_max")
        text += f". Proiezione al 31/12/2027: {fmt.with_unit(row['proiezione_2027'], unita)}"
        if low is not None and high is not None:
            text += f" (tra {fmt.number(low, fmt.decimals_for(unita))} e {fmt.number(high, fmt.decimals_for(unita))})"
    return text + "."


def _bare(value: float | None, unita: str, hidden: bool = False) -> str:
    """A value without its unit (the unit is in the indicator's cell: the table fits at 768 px); a
    percentage keeps its %."""
    from indicators import fmt

    if hidden:
        return fmt.SUPPRESSED
    if value is None:
        return "–"
    return fmt.number(value, fmt.decimals_for(unita, value)) + ("%" if unita.strip() == "%" else "")


def _bare_difference(value: float | None, unita: str) -> str:
    """A signed difference without its unit; of a percentage, in points («+17,5 punti»)."""
    from indicators import fmt

    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{fmt.number(abs(value), fmt.decimals_for(unita, abs(value)))}" + (
        " punti" if unita.strip() == "%" else ""
    )


def _unit_suffix(unita: str) -> str:
    """« (per 1.000 residenti)» after an indicator's name; nothing for a percentage (its values say %)."""
    return "" if unita.strip() in ("%", "") else f" ({unita})"


def overview_display(ov: pl.DataFrame, year: int, show_reference: bool | None = None) -> pl.DataFrame:
    """The overview as Italian text columns, for screens and reports. `show_reference`: a column
    saying whose plan each status uses (default: when the rows use more than one; else the
    caption says it once). The unit once, in the indicator's cell; the numbers without it, so that
    the table fits at 768 px."""
    rows = []
    borrowed = mixed_references(ov) if show_reference is None else show_reference
    for r in ov.iter_rows(named=True):
        unita = r.get("unita") or ""
        row = {"Stato": status_text(r)}
        if borrowed:
            row["Rispetto a"] = REFERENCE_SHORT.get(r.get("riferimento") or "", "–")
        rows.append(
            row
            | {
                "Indicatore": f"{r['nome']}{_unit_suffix(unita)}",
                f"Valore {year}": _bare(r.get("valore"), unita, bool(r.get("soppresso"))),
                f"Variazione sul {year - 1}": _bare_difference(r.get("variazione"), unita),
                "Obiettivo 2027": _bare(r.get("target_2027"), unita),
                "Proiezione 2027": _bare(r.get("proiezione_2027"), unita, bool(r.get("soppresso"))),
            }
        )
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def ranking_display(ranked: pl.DataFrame, unita: str) -> pl.DataFrame:
    from indicators import fmt

    return pl.DataFrame(
        {
            "Posizione": ["" if p is None else str(p) for p in ranked["posizione"].to_list()],
            "Territorio": ranked["nome"].to_list(),
            "Valore": [fmt.with_unit(v, unita, s) for v, s in zip(ranked["valore"], ranked["soppresso"])],
            "Numeratore": [fmt.number(v, 0, s) for v, s in zip(ranked["numeratore"], ranked["soppresso"])],
            "Denominatore": [fmt.number(v, 0, s) for v, s in zip(ranked["denominatore"], ranked["soppresso"])],
        }
    )


def comparison_display(
    comparison: pl.DataFrame, sub_name: str, with_comune: bool, comune_name: str | None = None, ambito_name="Ambito"
) -> pl.DataFrame:
    """Indicator by indicator: comune (optional), its sub-ambito and the ambito, as Italian text."""
    from indicators import fmt

    out = []
    for r in comparison.iter_rows(named=True):
        unita = r.get("unita") or ""
        row = {"Indicatore": r["nome"]}
        if with_comune:
            row[comune_name or "Comune"] = fmt.with_unit(r.get("valore_comune"), unita, bool(r.get("soppresso_comune")))
        row[f"Sub-ambito {sub_name}"] = fmt.with_unit(
            r.get("valore_sub_ambito"), unita, bool(r.get("soppresso_sub_ambito"))
        )
        row[ambito_name] = fmt.with_unit(r.get("valore_ambito"), unita, bool(r.get("soppresso_ambito")))
        out.append(row)
    return pl.DataFrame(out) if out else pl.DataFrame()


# --- the mayor's page: a comune against its plan, its sub-ambito and the ambito -----------------------


def positions(table: pl.DataFrame, territories: pl.DataFrame, year: int, comune: str) -> pl.DataFrame:
    """indicatore, posizione_sub_ambito, su_sub_ambito, posizione_ambito, su_ambito: the comune's rank
    (1 = best in the indicator's direction, ties share the better rank) among the comuni of its
    sub-ambito and of the ambito that have a published value. Null where the comune's own value is
    missing or suppressed: a rank is only given for a number that is shown."""
    sub_of = territories.select(pl.col("comune").alias("territorio"), "sub_ambito")
    own = sub_of.filter(pl.col("territorio") == comune)["sub_ambito"]
    sub = own[0] if own.len() else None
    rows = (
        table.filter(
            (pl.col("anno") == year)
            & (pl.col("livello") == "comune")
            & pl.col("valore").is_not_null()
            & ~pl.col("soppresso")
        )
        .select("indicatore", "territorio", "valore", "direzione")
        .join(sub_of, on="territorio", how="left")
        .with_columns(pl.when(pl.col("direzione") == "alto").then(-pl.col("valore")).otherwise("valore").alias("_k"))
    )
    ambito = rows.with_columns(
        pl.col("_k").rank("min").over("indicatore").cast(pl.Int64).alias("posizione_ambito"),
        pl.len().over("indicatore").cast(pl.Int64).alias("su_ambito"),
    )
    in_sub = rows.filter(pl.col("sub_ambito") == sub).with_columns(
        pl.col("_k").rank("min").over("indicatore").cast(pl.Int64).alias("posizione_sub_ambito"),
        pl.len().over("indicatore").cast(pl.Int64).alias("su_sub_ambito"),
    )
    mine = (
        ambito.filter(pl.col("territorio") == comune)
        .select("indicatore", "posizione_ambito", "su_ambito")
        .join(
            in_sub.filter(pl.col("territorio") == comune).select("indicatore", "posizione_sub_ambito", "su_sub_ambito"),
            on="indicatore",
            how="left",
        )
    )
    return mine.select("indicatore", "posizione_sub_ambito", "su_sub_ambito", "posizione_ambito", "su_ambito")


def comune_overview(table: pl.DataFrame, territories: pl.DataFrame, year: int, comune: str) -> pl.DataFrame:
    """One row per indicator published by comune: the comune's overview row (value, status, reference,
    targets, projection) with its sub-ambito's and the ambito's values and its positions."""
    row = territories.filter(pl.col("comune") == comune)
    sub = row["sub_ambito"][0] if row.height else None
    ov = overview(table, year, comune)
    comparison = territory_comparison(table, year, comune, sub).select(
        "indicatore", "valore_sub_ambito", "soppresso_sub_ambito", "valore_ambito", "soppresso_ambito"
    )
    return (
        ov.join(comparison, on="indicatore", how="left")
        .join(positions(table, territories, year, comune), on="indicatore", how="left")
        .sort("area", "indicatore")
    )


POSITION_COLUMN = "Posizione"  # «2° su 8 · 13° su 40»: in the sub-ambito · in the ambito


def _position_text(pos: int | None, n: int | None) -> str:
    return "–" if pos is None or not n else f"{pos}° su {n}"


def mixed_references(rows: pl.DataFrame) -> bool:
    """Whether the statuses of `rows` use more than one reference (then each row says whose)."""
    return "riferimento" in rows.columns and len(set(rows["riferimento"].drop_nulls().to_list())) > 1


def comune_overview_display(
    rows: pl.DataFrame, year: int, comune_name: str, sub_name: str, show_reference: bool | None = None
) -> pl.DataFrame:
    """The mayor's table as Italian text: status (and its reference when they differ across rows),
    the indicator with its unit, the comune's value, the target, its sub-ambito and the ambito, and
    its positions. Numbers without the unit (it is in the indicator's cell) so the table fits."""
    num = _bare
    show_reference = mixed_references(rows) if show_reference is None else show_reference
    out = []
    for r in rows.iter_rows(named=True):
        unita = r.get("unita") or ""
        row = {"Stato": status_text(r)}
        if show_reference:
            row["Rispetto a"] = "–" if r.get("soppresso") else REFERENCE_SHORT.get(r.get("riferimento") or "", "–")
        out.append(
            row
            | {
                "Indicatore": f"{r['nome']}{_unit_suffix(unita)}",
                f"{comune_name} {year}": num(r.get("valore"), unita, bool(r.get("soppresso"))),
                "Obiettivo 2027": num(r.get("target_2027"), unita, False),
                "Sub-ambito": num(r.get("valore_sub_ambito"), unita, bool(r.get("soppresso_sub_ambito"))),
                "Ambito": num(r.get("valore_ambito"), unita, bool(r.get("soppresso_ambito"))),
                POSITION_COLUMN: _position_text(r.get("posizione_sub_ambito"), r.get("su_sub_ambito"))
                + " · "
                + _position_text(r.get("posizione_ambito"), r.get("su_ambito")),
            }
        )
    return pl.DataFrame(out) if out else pl.DataFrame()


def map_table(classified: pl.DataFrame, unita: str, direzione: str | None, level: str) -> pl.DataFrame:
    """The text alternative of a map (and the searchable list beside it): territory, value, colour
    class, and status with its reference when it is not the territory's own; best first, n.p. and no
    data last. `classified`: `maps.map_classes` output (territorio, nome, valore, soppresso, classe_etichetta,
    optional stato, riferimento)."""
    from indicators import fmt

    shown = classified.filter(pl.col("valore").is_not_null() & ~pl.col("soppresso"))
    rest = classified.filter(pl.col("valore").is_null() | pl.col("soppresso"))
    rest = rest.sort("soppresso", "nome", descending=[True, False])
    ordered = pl.concat([shown.sort("valore", descending=direzione != "basso"), rest])
    decimals = fmt.decimals_for(unita)
    suffix = "%" if unita.strip() == "%" else ""
    data = {
        "Comune" if level == "comune" else "Sub-ambito": ordered["nome"].to_list(),
        "Valore": [
            fmt.SUPPRESSED if s else ("nessun dato" if v is None else fmt.number(v, decimals) + suffix)
            for v, s in zip(ordered["valore"], ordered["soppresso"])
        ],
        "Sulla mappa": ordered["classe_etichetta"].to_list(),
    }
    status_classes = set(ordered["classe"].to_list()) & set(STATUS_ORDER)
    if "stato" in ordered.columns and direzione and not status_classes:  # classes by thresholds or quartiles
        data["Stato"] = [status_text(r) for r in ordered.iter_rows(named=True)]
    refs = set(ordered["riferimento"].drop_nulls().to_list()) if "riferimento" in ordered.columns else set()
    if direzione and refs - {level}:  # statuses on a borrowed plan: say whose, per row when they differ
        data["Rispetto a"] = [
            REFERENCE_SHORT.get(r.get("riferimento") or "", "–") if not r["soppresso"] else "–"
            for r in ordered.iter_rows(named=True)
        ]
    return pl.DataFrame(data, schema={k: pl.String for k in data})
