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
    """territorio, nome, valore, soppresso, numeratore, denominatore: one indicator-year at one level."""
    rows = table.filter(
        (pl.col("indicatore") == indicatore) & (pl.col("anno") == year) & (pl.col("livello") == livello)
    ).select("territorio", "valore", "soppresso", "numeratore", "denominatore")
    if livello == "comune":
        names = territories.select(pl.col("comune").alias("territorio"), "nome")
    else:
        names = territories.select(pl.col("sub_ambito").alias("territorio"), pl.col("nome_sub_ambito").alias("nome"))
        names = names.unique("territorio")
    return names.join(rows, on="territorio", how="left").with_columns(pl.col("soppresso").fill_null(False))


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


def reading(row: dict, year: int) -> str:
    """One line in Italian for a mayor: value, target, status, projection."""
    from indicators import fmt

    unita = row.get("unita") or ""
    if row.get("soppresso"):
        return f"Nel {year}: dato non pubblicabile ({fmt.SUPPRESSED}), riguarda troppo poche persone."
    parts = [
        f"Nel {year}{' (da inizio anno)' if row.get('parziale') else ''}: {fmt.with_unit(row.get('valore'), unita)}"
    ]
    if row.get("target_2027") is not None:
        parts.append(f"obiettivo 2027: {fmt.with_unit(row['target_2027'], unita)}")
    if row.get("stato") and row["stato"] in STATUS_ICON:
        parts.append(f"stato: {row['stato']}")
    text = "; ".join(parts)
    if row.get("proiezione_2027") is not None:
        low, high = row.get("proiezione_min"), row.get("proiezione_max")
        text += f". Proiezione al 31/12/2027: {fmt.with_unit(row['proiezione_2027'], unita)}"
        if low is not None and high is not None:
            text += f" (tra {fmt.number(low, fmt.decimals_for(unita))} e {fmt.number(high, fmt.decimals_for(unita))})"
    return text + "."


def overview_display(ov: pl.DataFrame, year: int) -> pl.DataFrame:
    """The overview as Italian text columns, for screens and reports."""
    from indicators import fmt

    rows = []
    for r in ov.iter_rows(named=True):
        unita = r.get("unita") or ""
        rows.append(
            {
                "Stato": f"{STATUS_ICON.get(r.get('stato'), '⚪')} {r.get('stato') or 'senza obiettivo'}",
                "Indicatore": r["nome"],
                f"Valore {year}": fmt.with_unit(r.get("valore"), unita, bool(r.get("soppresso"))),
                f"Variazione sul {year - 1}": _signed(r.get("variazione"), unita),
                "Obiettivo 2027": fmt.with_unit(r.get("target_2027"), unita),
                "Proiezione 2027": fmt.with_unit(r.get("proiezione_2027"), unita, bool(r.get("soppresso"))),
            }
        )
    return pl.DataFrame(rows) if rows else pl.DataFrame()


def _signed(value: float | None, unita: str) -> str:
    from indicators import fmt

    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return sign + fmt.with_unit(abs(value), unita)


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
