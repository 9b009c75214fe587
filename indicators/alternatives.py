"""Text alternatives of the maps and charts: the numbers a chart draws, as an Italian table.

WCAG 2.1 (1.1.1, non-text content; Legge 4/2004 and the AgID guidelines): a screen reader
cannot read a Plotly canvas or SVG, so every chart on a page has its numbers beside it as a real
table («Dati del grafico», «Dati della mappa»: `ui/alternatives.py` draws them with `st.table`).
Pure Polars, no Streamlit: the table says what the chart draws, from the same frames.
"""

from __future__ import annotations

import polars as pl

from indicators import fmt, views
from indicators.charts import PROFILE_LABELS


def _text_frame(data: dict[str, list]) -> pl.DataFrame:
    return pl.DataFrame(data, schema={k: pl.String for k in data})


def trend_table(
    rows: pl.DataFrame,
    unita: str,
    baseline: float | None = None,
    targets: dict[int, float] | None = None,
    projection: tuple[float, float | None, float | None] | None = None,
    projection_year: int = 2027,
) -> pl.DataFrame:
    """What `charts.trend` draws, one row per year: value (n.p. when suppressed, never 0), the plan
    (baseline 2024, objectives 2025–2027) and the projection at 31/12/2027 with its interval."""
    targets = targets or {}
    observed = {r["anno"]: r for r in rows.iter_rows(named=True)}
    years = sorted(
        set(observed)
        | set(targets)
        | ({2024} if baseline is not None else set())
        | ({projection_year} if projection and projection[0] is not None else set())
    )
    decimals = fmt.decimals_for(unita)
    out: dict[str, list] = {"Anno": [], "Valore": [], "Piano (baseline e obiettivi)": [], "Proiezione": []}
    for year in years:
        r = observed.get(year)
        if r is None:
            value = "–"
        else:
            value = fmt.with_unit(r.get("valore"), unita, bool(r.get("soppresso")))
            if r.get("parziale"):
                value += " (da inizio anno)"
        plan = []
        if year == 2024 and baseline is not None:
            plan.append(f"baseline {fmt.with_unit(baseline, unita)}")
        if year in targets:
            plan.append(f"obiettivo {fmt.with_unit(targets[year], unita)}")
        proj = "–"
        if projection and projection[0] is not None and year == projection_year:
            central, low, high = projection
            proj = fmt.with_unit(central, unita)
            if low is not None and high is not None:
                proj += f" (tra {fmt.number(low, decimals)} e {fmt.number(high, decimals)})"
        out["Anno"].append(str(year))
        out["Valore"].append(value)
        out["Piano (baseline e obiettivi)"].append("; ".join(plan) or "–")
        out["Proiezione"].append(proj)
    return _text_frame(out)


def map_table(values: pl.DataFrame, unita: str, direzione: str | None = None, level: str = "comune") -> pl.DataFrame:
    """What a map colours: every territory with its value, best first in the indicator's direction
    (`direzione` None: largest first); n.p. and no data at the bottom, never as 0.

    `values`: territorio, nome, valore, soppresso (`views.level_values` or the like).
    """
    ranked = views.ranking(values.select("territorio", "nome", "valore", "soppresso"), direzione or "alto")
    return _text_frame(
        {
            "Posizione": ["" if p is None else str(p) for p in ranked["posizione"].to_list()],
            "Comune" if level == "comune" else "Sub-ambito": ranked["nome"].to_list(),
            "Valore": [
                fmt.with_unit(v, unita, s) if (v is not None or s) else "nessun dato"
                for v, s in zip(ranked["valore"], ranked["soppresso"])
            ],
        }
    )


def pyramid_table(pyramid: pl.DataFrame) -> pl.DataFrame:
    """What `charts.population_pyramid` draws: residents by age band and sex (`fascia, da, sesso, residenti`)."""
    wide = pyramid.pivot(on="sesso", index=["fascia", "da"], values="residenti", aggregate_function="sum").sort("da")
    males = wide["M"].to_list() if "M" in wide.columns else [0] * wide.height
    females = wide["F"].to_list() if "F" in wide.columns else [0] * wide.height
    return _text_frame(
        {
            "Fascia d'età": wide["fascia"].to_list(),
            "Maschi": [fmt.number(m or 0) for m in males],
            "Femmine": [fmt.number(f or 0) for f in females],
            "Totale": [fmt.number((m or 0) + (f or 0)) for m, f in zip(males, females)],
        }
    )


def equipe_table(staff: pl.DataFrame) -> pl.DataFrame:
    """What `charts.equipe` draws: FTE by sub-ambito and profile (`sub_ambito, profilo, fte`)."""
    by = staff.group_by("sub_ambito", "profilo").agg(pl.col("fte").sum())
    subs = sorted(by["sub_ambito"].unique().to_list())
    cells = {(r["sub_ambito"], r["profilo"]): r["fte"] for r in by.iter_rows(named=True)}
    profiles = [p for p in PROFILE_LABELS if any((s, p) in cells for s in subs)]
    data: dict[str, list] = {"Sub-ambito": subs}
    for p in profiles:
        data[f"{PROFILE_LABELS[p]} (FTE)"] = [fmt.number(cells.get((s, p), 0.0), 1) for s in subs]
    data["Totale (FTE)"] = [fmt.number(sum(cells.get((s, p), 0.0) for p in PROFILE_LABELS), 1) for s in subs]
    return _text_frame(data)


def worker_class(value: float | None, leps: float = 5000, objective: float = 4000) -> str:
    """Where a residents-per-social-worker value stands: beyond the LEPS limit, beyond the Piano's objective, within."""
    x = value or 0
    return "oltre_leps" if x > leps else ("oltre_obiettivo" if x > objective else "entro_obiettivo")


def per_worker_table(values: pl.DataFrame, leps: float = 5000, objective: float = 4000) -> pl.DataFrame:
    """What `charts.residents_per_worker` draws: residents per social worker by territory, against the
    LEPS limit and the Piano's objective (`nome, valore, soppresso`)."""
    v = values.sort("valore", nulls_last=True)
    words = {
        "oltre_leps": f"oltre il LEPS (1 ogni {fmt.number(leps)})",
        "oltre_obiettivo": f"entro il LEPS, non ancora all'obiettivo (1 ogni {fmt.number(objective)})",
        "entro_obiettivo": "entro l'obiettivo del Piano",
    }
    judged = [
        "–" if (s or x is None) else words[worker_class(x, leps, objective)]
        for x, s in zip(v["valore"], v["soppresso"].fill_null(False))
    ]
    return _text_frame(
        {
            "Territorio": v["nome"].to_list(),
            "Residenti per assistente sociale": [
                fmt.number(x, 0, s) if (x is not None or s) else "nessun dato"
                for x, s in zip(v["valore"], v["soppresso"].fill_null(False))
            ],
            "Rispetto al LEPS": judged,
        }
    )
