"""The reorganisation, shown (issue 13, part 5): what the «Riorganizzazione» page and the reports' section say.

Everything here is built from the functions behind the command line (`evaluation.evaluate` and
`pilot_trends`, `equity.equity_table` and `sub_ambito_gaps`, `proximity.nearest_access`,
`access_summary` and `what_if`, `workload.caseload`), so a number on the page, in a report and from
`python -m indicators evaluate|equity|access` is the same number. The functions here only select,
join and phrase: the sentences a mayor reads (`pilot_reading`, `p_min_sentence`), the tables that go
beside each chart as its accessible alternative (`*_display`: Italian text, numbers 1.234,5), and the
report section (`report_section`).

Audiences: the indicator table given is the audience's (`indicator_table(con, "pubblico")` for
everyone but the Ufficio di Piano's office view), so disclosure control applies as in the CLI with
`--public`: a hidden comune cell refuses the estimate (the avvertenze say why), a hidden sub-ambito
value shows «n.p.». `levels` (the role's, `core.users.levels_for`) drops comune rows for the Regione:
the pilot's group means and the estimate are sums over many comuni, never one comune's value.
Proximity and staff are public figures (ISTAT residents, the sedi, FTE): not subject to suppression.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import duckdb
import polars as pl

from core.users import ALL_LEVELS
from indicators import definitions, equity, evaluation, fmt, proximity, workload

SUB_AMBITO_COLUMNS = ("anno", "sub_ambito", "nome", "gruppo", "valore", "soppresso", "parziale")
PROFILE_TEXT = {workload.EQUIPE: "équipe (tutti i profili)", "ASSISTENTE_SOCIALE": "assistenti sociali"}
TREND_TEXT = {
    equity.NARROWS: "si restringe",
    equity.WIDENS: "si allarga",
    equity.STABLE: "stabile",
    equity.UNKNOWN: "non valutabile",
}


# --- numbers in words -------------------------------------------------------------------------


def num(value: float | None, unita: str = "", signed: bool = False) -> str:
    """1,2 (decimals by the unit; '–' when missing); `signed` puts + before a positive number."""
    if value is None:
        return "–"
    text = fmt.number(value, fmt.decimals_for(unita, value) if unita else 1)
    return f"+{text}" if signed and value > 0 and text.strip("0,") else text


def with_unit(text: str, unita: str) -> str:
    return f"{text}%" if unita.strip() == "%" else f"{text} {unita}".strip()


def _years(years: Sequence[int]) -> str:
    years = sorted(years)
    if not years:
        return ""
    if len(years) == 1:
        return f"nel {years[0]}"
    if years == list(range(years[0], years[-1] + 1)):
        return f"nel {years[0]}–{years[-1]}"
    return "negli anni " + ", ".join(map(str, years))


def p_text(p: float | None) -> str:
    return "–" if p is None else fmt.number(p, 3)


# --- the pilot --------------------------------------------------------------------------------


def pilot_results(table: pl.DataFrame, sub_ambiti: pl.DataFrame) -> list[dict]:
    """`evaluation.evaluate` on every indicator published by comune (the CLI's `evaluate`)."""
    return evaluation.evaluate(table, sub_ambiti)


def n_assignments(sub_ambiti: pl.DataFrame) -> tuple[int, int, int]:
    """(pilot sub-ambiti, all sub-ambiti, ways of choosing the pilots among them)."""
    design = evaluation.pilot_design(sub_ambiti)
    n_pilots, n_all = len(design.pilots), len(design.pilots) + len(design.others)
    return n_pilots, n_all, math.comb(n_all, n_pilots) if n_pilots else 0


def p_min_fraction(p_min: float | None, ways: int) -> str:
    """'1/15' for p_minimo = 1/15 with 15 ways (2/20 reads 1/10)."""
    if p_min is None or not ways:
        return "–"
    frac = Fraction(round(p_min * ways), ways)
    return f"{frac.numerator}/{frac.denominator}"


def p_min_sentence(sub_ambiti: pl.DataFrame) -> str | None:
    """The limit of the design in one sentence (None without a pilot and a comparison)."""
    n_pilots, n_all, ways = n_assignments(sub_ambiti)
    if not n_pilots or n_pilots == n_all:
        return None
    p_min = (2.0 if 2 * n_pilots == n_all else 1.0) / ways
    return (
        f"Con {n_pilots} sub-ambiti pilota su {n_all} la prova più forte possibile è p = {p_min_fraction(p_min, ways)} "
        f"({p_text(p_min)}): ci sono solo {ways} modi di scegliere {n_pilots} sub-ambiti pilota tra {n_all}, e "
        "nessun dato può dare un p più piccolo. Un p più alto non dimostra che il pilota non funzioni: dice che "
        "con così pochi sub-ambiti non si può distinguere l'effetto dalle differenze tra territori."
    )


def design_sentence(sub_ambiti: pl.DataFrame) -> str:
    """Which sub-ambiti are pilots and since when, in one sentence."""
    design = evaluation.pilot_design(sub_ambiti)
    names = dict(sub_ambiti.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").iter_rows())
    if not design.pilots:
        return "Nessun sub-ambito è indicato come pilota del nuovo modello: non c'è un confronto da fare."
    pilots = ", ".join(f"{s} {names.get(s, '')}".strip() for s in design.pilots)
    starts = sorted(set(design.starts.values()))
    when = f"dal {fmt.day(starts[0])}" if len(starts) == 1 else "da date diverse"
    others = ", ".join(f"{s} {names.get(s, '')}".strip() for s in design.others)
    return f"Sub-ambiti pilota del nuovo modello ({when}): {pilots}. Confronto con gli altri: {others}."


def is_good(effetto: float, direzione: str) -> bool:
    return (effetto > 0) == (direzione == "alto")


def verdict(result: dict, direzione: str) -> str:
    """A short reading of one estimate: which way, and whether it stands out from the territories' noise."""
    effetto, low, high = result.get("effetto"), result.get("ic_basso"), result.get("ic_alto")
    if effetto is None:
        return "stima non disponibile"
    if abs(effetto) < 1e-12:
        return "nessuna differenza"
    side = "a favore dei pilota" if is_good(effetto, direzione) else "a sfavore dei pilota"
    if low is None or high is None or low <= 0 <= high:
        return f"{side}, ma non distinguibile dal caso"
    return f"{side}, netta"


def pilot_reading(result: dict, entry: definitions.Indicator, sub_ambiti: pl.DataFrame) -> list[str]:
    """The estimate in plain Italian for a mayor (Markdown sentences): what changed, how sure, the p-value.

    When the design or disclosure control does not allow an estimate, one sentence says so and the
    avvertenze (shown apart) say why.
    """
    unita = entry.unita
    effetto = result.get("effetto")
    if effetto is None:
        return [
            "**La stima non è disponibile per questo indicatore.** Il motivo è nelle avvertenze qui sotto; "
            "l'andamento dei due gruppi resta leggibile nel grafico."
        ]
    before, after = _years(result["anni_prima"]), _years(result["anni_dopo"])
    size = with_unit(num(abs(effetto), unita), unita)
    better = "meglio" if is_good(effetto, entry.direzione) else "peggio"
    direction = "più alto è meglio" if entry.direzione == "alto" else "più basso è meglio"
    lines = [
        f"**Che cosa è cambiato.** Dal periodo prima dell'avvio ({before}) a quello dopo ({after}), il valore nei "
        f"comuni pilota è cambiato di {size} {'in più' if effetto > 0 else 'in meno'} rispetto agli altri comuni: "
        f"per questo indicatore ({direction}) i comuni pilota sono andati **{better}** degli altri."
    ]
    low, high, level = result.get("ic_basso"), result.get("ic_alto"), result.get("livello_confidenza")
    if low is not None and high is not None:
        contains = low <= 0 <= high
        lines.append(
            f"**Quanto è sicuro.** Tenendo conto di quanto cambiano i territori anche senza pilota, l'effetto "
            f"plausibile va da {with_unit(num(low, unita, signed=True), unita)} a "
            f"{with_unit(num(high, unita, signed=True), unita)} (un intervallo così contiene l'effetto vero "
            f"{fmt.number((level or 0) * 100, 1)} volte su 100). "
            + (
                "L'intervallo comprende lo zero: i dati sono compatibili anche con **nessun effetto** del pilota."
                if contains
                else "L'intervallo non comprende lo zero."
            )
        )
    else:
        lines.append(
            "**Quanto è sicuro.** Con così pochi sub-ambiti non si può calcolare un intervallo: i dati sono "
            "compatibili con effetti molto diversi."
        )
    p, ways = result.get("p_value"), result.get("n_assegnazioni")
    if p is not None:
        n_pilots, n_all, total = n_assignments(sub_ambiti)
        times = round(p * ways) if ways else None
        exhaustive = ways == total
        lines.append(
            f"**p-value = {p_text(p)}**"
            + (
                f": se il pilota non avesse cambiato nulla, una differenza almeno così grande uscirebbe in {times} "
                f"dei {ways} modi di scegliere {n_pilots} sub-ambiti pilota tra {n_all}."
                if exhaustive and times is not None
                else ": la quota di scelte casuali dei sub-ambiti pilota che danno una differenza almeno così grande."
            )
        )
    return lines


def sub_ambito_series(table: pl.DataFrame, sub_ambiti: pl.DataFrame, indicatore: str) -> pl.DataFrame:
    """The published sub-ambito values of one indicator by year, each with its group (pilota / altri).

    Columns: SUB_AMBITO_COLUMNS. The lines beside the group means of `evaluation.pilot_trends`: a public
    view hides some comune values (then the group mean is not shown) but rarely a sub-ambito's.
    """
    design = evaluation.pilot_design(sub_ambiti)
    names = sub_ambiti.select("sub_ambito", pl.col("nome_sub_ambito").alias("nome")).unique("sub_ambito")
    rows = table.filter((pl.col("indicatore") == indicatore) & (pl.col("livello") == "sub_ambito"))
    schema = {
        "anno": pl.Int32,
        "sub_ambito": pl.String,
        "nome": pl.String,
        "gruppo": pl.String,
        "valore": pl.Float64,
        "soppresso": pl.Boolean,
        "parziale": pl.Boolean,
    }
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    out = rows.select("anno", pl.col("territorio").alias("sub_ambito"), "valore", "soppresso", "parziale").join(
        names, on="sub_ambito", how="left"
    )
    out = out.with_columns(
        pl.when(pl.col("sub_ambito").is_in(list(design.pilots)))
        .then(pl.lit(evaluation.GROUP_PILOT))
        .otherwise(pl.lit(evaluation.GROUP_OTHERS))
        .alias("gruppo"),
        pl.when(pl.col("soppresso")).then(None).otherwise(pl.col("valore")).alias("valore"),
    )
    return out.select(list(schema)).cast(schema).sort("anno", "sub_ambito")


def pilot_overview(results: list[dict], entries: dict[str, definitions.Indicator]) -> pl.DataFrame:
    """One row per indicator: indicatore, nome, unita, effetto, ic_basso, ic_alto, p_value, esito."""
    rows = []
    for r in results:
        e = entries.get(r["indicatore"])
        if e is None:
            continue
        rows.append(
            {
                "indicatore": e.id,
                "nome": e.nome,
                "unita": e.unita,
                "effetto": r["effetto"],
                "ic_basso": r["ic_basso"],
                "ic_alto": r["ic_alto"],
                "p_value": r["p_value"],
                "esito": verdict(r, e.direzione),
            }
        )
    schema = {
        "indicatore": pl.String,
        "nome": pl.String,
        "unita": pl.String,
        "effetto": pl.Float64,
        "ic_basso": pl.Float64,
        "ic_alto": pl.Float64,
        "p_value": pl.Float64,
        "esito": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def pilot_overview_display(overview: pl.DataFrame) -> pl.DataFrame:
    """The overview as Italian text (the table of the page and of the reports)."""
    return pl.DataFrame(
        {
            "Indicatore": overview["nome"].to_list(),
            "Unità": overview["unita"].to_list(),
            "Effetto stimato": [num(v, u, signed=True) for v, u in zip(overview["effetto"], overview["unita"])],
            "Intervallo": [
                "–" if lo is None or hi is None else f"da {num(lo, u, signed=True)} a {num(hi, u, signed=True)}"
                for lo, hi, u in zip(overview["ic_basso"], overview["ic_alto"], overview["unita"])
            ],
            "p-value": [p_text(p) for p in overview["p_value"]],
            "Lettura": overview["esito"].to_list(),
        },
        schema={k: pl.String for k in ("Indicatore", "Unità", "Effetto stimato", "Intervallo", "p-value", "Lettura")},
    )


GROUP_LABELS = {evaluation.GROUP_PILOT: "Comuni pilota", evaluation.GROUP_OTHERS: "Altri comuni"}


def trends_display(trends: pl.DataFrame, series: pl.DataFrame, unita: str) -> pl.DataFrame:
    """The chart's table: one row per year with the two group means and each sub-ambito's value."""
    years = sorted(set(trends["anno"].to_list()) | set(series["anno"].to_list()))
    out: dict[str, list[str]] = {"Anno": [], "Periodo": []}
    periods = dict(zip(trends["anno"].to_list(), trends["periodo"].to_list()))
    partial = set(series.filter(pl.col("parziale"))["anno"].to_list()) | set(
        trends.filter(pl.col("parziale"))["anno"].to_list()
    )
    groups = [g for g in GROUP_LABELS if trends.filter(pl.col("gruppo") == g).height]
    subs = series.select("sub_ambito", "nome", "gruppo").unique("sub_ambito").sort("sub_ambito").rows()
    for g in groups:
        out[f"{GROUP_LABELS[g]} (media)"] = []
    for s, name, g in subs:
        out[f"{s} {name or ''}".strip() + (" (pilota)" if g == evaluation.GROUP_PILOT else "")] = []
    for y in years:
        out["Anno"].append(f"{y} (da inizio anno)" if y in partial else str(y))
        out["Periodo"].append(periods.get(y, ""))
        for g in groups:
            row = trends.filter((pl.col("anno") == y) & (pl.col("gruppo") == g))
            hidden = row.height and row["valori_nascosti"][0] > 0
            value = row["valore"][0] if row.height else None
            out[f"{GROUP_LABELS[g]} (media)"].append(fmt.SUPPRESSED if hidden else num(value, unita))
        for s, name, g in subs:
            row = series.filter((pl.col("anno") == y) & (pl.col("sub_ambito") == s))
            key = f"{s} {name or ''}".strip() + (" (pilota)" if g == evaluation.GROUP_PILOT else "")
            if not row.height:
                out[key].append("–")
            else:
                out[key].append(fmt.SUPPRESSED if row["soppresso"][0] else num(row["valore"][0], unita))
    return pl.DataFrame(out, schema={k: pl.String for k in out})


# --- proximity ----------------------------------------------------------------------------------


def proximity_display(summary: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """`proximity.access_summary` as Italian text: residents (and 75+) beyond the threshold by territory."""
    return pl.DataFrame(
        {
            "Territorio": [names.get(t, t) for t in summary["territorio"]],
            "Comuni": [fmt.number(v) for v in summary["comuni"]],
            "Comuni oltre": [fmt.number(v) for v in summary["comuni_oltre"]],
            "Residenti oltre la soglia": [
                f"{fmt.number(a)} su {fmt.number(b)} ({num(q, '%')}%)" if q is not None else "–"
                for a, b, q in zip(summary["residenti_oltre"], summary["residenti"], summary["quota_oltre"])
            ],
            "75 anni e più oltre la soglia": [
                f"{fmt.number(a)} su {fmt.number(b)} ({num(q, '%')}%)" if q is not None else "–"
                for a, b, q in zip(summary["residenti_75_oltre"], summary["residenti_75"], summary["quota_75_oltre"])
            ],
            "Minuti medi": [num(v) for v in summary["minuti_medi"]],
            "Minuti max": [num(v) for v in summary["minuti_max"]],
            "Metodo": [METHOD_LABELS.get(m, m) for m in summary["metodo"]],
        }
    )


METHOD_LABELS = {proximity.MATRICE: "strada", proximity.LINEA_ARIA: "linea d'aria", "misto": "misto"}


def per_comune_display(per_comune: pl.DataFrame) -> pl.DataFrame:
    """`proximity.nearest_access` as Italian text, one row per comune (not for the Regione)."""
    return pl.DataFrame(
        {
            "Comune": per_comune["nome"].to_list(),
            "Sub-ambito": per_comune["sub_ambito"].to_list(),
            "Sede più vicina": [
                "nessuna" if s is None else f"{n} ({t.lower()})"
                for s, n, t in zip(per_comune["sede"], per_comune["nome_comune_sede"], per_comune["tipo_sede"])
            ],
            "Minuti": [num(v) for v in per_comune["minuti"]],
            "Km": [num(v) for v in per_comune["km"]],
            "Residenti": [fmt.number(v) for v in per_comune["residenti"]],
            "Oltre la soglia": ["sì" if v else "no" for v in per_comune["oltre_soglia"]],
            "Metodo": [METHOD_LABELS.get(m, m) for m in per_comune["metodo"]],
        }
    )


def threshold_text(soglia: float) -> str:
    return fmt.number(soglia, 0 if float(soglia).is_integer() else 1)


def proximity_thresholds(soglia: float) -> list[tuple[float, str]]:
    """The map's classes (`maps.choropleth(thresholds=)`): blue within the threshold (dark within half of it),
    orange beyond it (dark beyond one and a half times it)."""
    return [(soglia / 2, "metà della soglia"), (float(soglia), "la soglia"), (soglia * 1.5, "1,5 volte la soglia")]


def farthest_sentence(
    per_comune: pl.DataFrame,
    summary: pl.DataFrame,
    names: dict[str, str],
    soglia: float,
    sees_comuni: bool = True,
    method: str = "",
) -> str:
    """Who is furthest from an access point: the comune (or, for the Regione, the sub-ambito of it), and the
    residents beyond the threshold when there are none (a zero needs saying in words)."""
    amb = summary.filter(pl.col("livello") == "ambito").row(0, named=True)
    far = per_comune.filter(pl.col("minuti").is_not_null()).sort("minuti", descending=True)
    text = ""
    if amb["residenti_oltre"] == 0:
        text = (
            f"Con la soglia di {threshold_text(soglia)} minuti nessun residente è lontano dal proprio punto di "
            "accesso. "
        )
    if far.height:
        r = far.row(0, named=True)
        sub = names.get(r["sub_ambito"], r["sub_ambito"])
        where = (
            f"il comune più lontano è {r['nome']} ({sub})"
            if sees_comuni
            else (f"il comune più lontano è nel sub-ambito {sub}")
        )
        text += f"{where[0].upper()}{where[1:]}: {num(r['minuti'])} minuti{method}."
    return text.strip()


def what_if_sentences(result: proximity.WhatIf, names: dict[str, str], sub_ambito: str | None) -> list[str]:
    """What a hypothetical spoke changes: comuni nearer, residents beyond the threshold before and after."""
    soglia = threshold_text(result.soglia_minuti)
    lines = []
    if result.gia_con_sede:
        lines.append("Ha già una sede e resta com'è: " + ", ".join(names.get(c, c) for c in result.gia_con_sede) + ".")
    if not result.nuove_sedi:
        return lines
    nearer = result.confronto.filter(pl.col("differenza_minuti") < 0)
    where = ", ".join(names.get(c, c) for c in result.nuove_sedi)
    lines.append(
        f"Con un nuovo spoke a {where}: {nearer.height} "
        + ("comune avrebbe" if nearer.height == 1 else "comuni avrebbero")
        + " un punto di accesso più vicino"
        + (f" (in media {num(-nearer['differenza_minuti'].mean())} minuti in meno)." if nearer.height else ".")
    )
    for territorio in ("AMBITO", sub_ambito):
        if territorio is None:
            continue
        row = result.riepilogo.filter(pl.col("territorio") == territorio)
        if not row.height:
            continue
        r = row.row(0, named=True)
        label = "Nell'ambito" if territorio == "AMBITO" else f"Nel sub-ambito {names.get(territorio, territorio)}"
        lines.append(
            f"{label}, residenti oltre {soglia} minuti: da {fmt.number(r['residenti_oltre_prima'])} a "
            f"{fmt.number(r['residenti_oltre_dopo'])}; di 75 anni e più: da "
            f"{fmt.number(r['residenti_75_oltre_prima'])} a {fmt.number(r['residenti_75_oltre_dopo'])}."
        )
    lines.append("È solo un'ipotesi: nulla è stato salvato.")
    return lines


def what_if_display(result: proximity.WhatIf) -> pl.DataFrame:
    """The comuni whose nearest access point changes with the hypothesis (minutes before and after)."""
    changed = result.confronto.filter(pl.col("differenza_minuti").fill_null(-1) < 0).sort("differenza_minuti")
    return pl.DataFrame(
        {
            "Comune": changed["nome"].to_list(),
            "Minuti oggi": [num(v) for v in changed["minuti_prima"]],
            "Minuti con il nuovo spoke": [num(v) for v in changed["minuti_dopo"]],
            "Differenza": [num(v, signed=True) for v in changed["differenza_minuti"]],
            "Residenti": [fmt.number(v) for v in changed["residenti"]],
        },
        schema=dict.fromkeys(
            ("Comune", "Minuti oggi", "Minuti con il nuovo spoke", "Differenza", "Residenti"), pl.String
        ),
    )


# --- équipe load ---------------------------------------------------------------------------------


def caseload_year(load: pl.DataFrame, year: int) -> pl.DataFrame:
    """`workload.caseload` for one year, one row per territory (ambito first): persons in care, FTE and
    persons per FTE of the équipe and of the social workers, residents per social worker (LEPS)."""
    rows = load.filter(pl.col("anno") == year)
    keys = ["livello", "territorio"]
    equipe = rows.filter(pl.col("profilo") == workload.EQUIPE).select(
        *keys,
        "persone_in_carico",
        pl.col("fte").alias("fte_equipe"),
        pl.col("casi_per_fte").alias("per_fte_equipe"),
        "residenti_per_as",
        "leps_max",
        "leps_obiettivo",
        "soppresso",
    )
    social = rows.filter(pl.col("profilo") == "ASSISTENTE_SOCIALE").select(
        *keys, pl.col("fte").alias("fte_as"), pl.col("casi_per_fte").alias("per_as")
    )
    return equipe.join(social, on=keys, how="left", maintain_order="left")


def caseload_display(rows: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """`caseload_year` as Italian text (persons hidden for the public view show n.p.)."""

    def hidden_or(values, flags, digits=0):
        return [fmt.SUPPRESSED if h else fmt.number(v, digits) for v, h in zip(values, flags)]

    flags = rows["soppresso"].fill_null(False).to_list()
    return pl.DataFrame(
        {
            "Territorio": [names.get(t, t) for t in rows["territorio"]],
            "Persone in carico": hidden_or(rows["persone_in_carico"], flags),
            "Operatori (FTE)": [fmt.number(v, 1) for v in rows["fte_equipe"]],
            "Persone per operatore": hidden_or(rows["per_fte_equipe"], flags),
            "Assistenti sociali (FTE)": [fmt.number(v, 1) for v in rows["fte_as"]],
            "Persone per assistente sociale": hidden_or(rows["per_as"], flags),
            "Residenti per assistente sociale (LEPS ≤ 5.000)": [fmt.number(v) for v in rows["residenti_per_as"]],
        }
    )


def caseload_sentence(rows: pl.DataFrame, names: dict[str, str]) -> str | None:
    """Where the load is highest, and the sub-ambiti above the LEPS ratio."""
    subs = rows.filter((pl.col("livello") == "sub_ambito") & ~pl.col("soppresso").fill_null(False))
    subs = subs.filter(pl.col("per_fte_equipe").is_not_null())
    if subs.is_empty():
        return None
    top = subs.sort("per_fte_equipe", descending=True).row(0, named=True)
    over = subs.filter(pl.col("residenti_per_as") > pl.col("leps_max"))["territorio"].to_list()
    amb = rows.filter(pl.col("livello") == "ambito")
    amb_text = ""
    if amb.height and amb["per_fte_equipe"][0] is not None and not amb["soppresso"][0]:
        amb_text = f" (ambito: {fmt.number(amb['per_fte_equipe'][0])})"
    text = (
        f"Il carico più alto è nel sub-ambito {names.get(top['territorio'], top['territorio'])}: "
        f"{fmt.number(top['per_fte_equipe'])} persone in carico per operatore a tempo pieno dell'équipe{amb_text}."
    )
    if over:
        text += (
            " Sopra il livello essenziale di 5.000 residenti per assistente sociale: "
            + ", ".join(names.get(t, t) for t in over)
            + "."
        )
    else:
        text += " Tutti i sub-ambiti rispettano il livello essenziale di 5.000 residenti per assistente sociale."
    return text


# --- equity --------------------------------------------------------------------------------------


def equity_year(eq: pl.DataFrame, year: int, entries: dict[str, definitions.Indicator]) -> pl.DataFrame:
    """`equity.equity_table` for one year, with the indicator's name and unit."""
    rows = eq.filter(pl.col("anno") == year)
    meta = pl.DataFrame(
        {
            "indicatore": list(entries),
            "nome": [e.nome for e in entries.values()],
            "unita": [e.unita for e in entries.values()],
        },
    )
    return rows.join(meta, on="indicatore", how="inner", maintain_order="left")


def baseline_year(rows: pl.DataFrame) -> int:
    """The plan's baseline year the equity trend starts from (ambito.toml), e.g. 2024."""
    if rows.height and rows["anno_baseline"][0] is not None:
        return int(rows["anno_baseline"][0])
    from indicators.targets import plan_years

    return plan_years()[0]


def equity_display(rows: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """`equity_year` as Italian text: dispersion, max/min, the furthest sub-ambito and the trend."""
    return pl.DataFrame(
        {
            "Indicatore": rows["nome"].to_list(),
            "Disparità (CV)": ["–" if v is None else f"{fmt.number(v * 100, 1)}%" for v in rows["cv"]],
            "Massimo / minimo": ["–" if v is None else fmt.number(v, 2) for v in rows["rapporto_max_min"]],
            "Sub-ambito più lontano": [
                "–" if s is None else f"{names.get(s, s)} ({num(d, u, signed=True)})"
                for s, d, u in zip(rows["piu_lontano"], rows["scarto_piu_lontano"], rows["unita"])
            ],
            f"Dal {baseline_year(rows)}": [
                TREND_TEXT.get(t, t)
                + ("" if b is None or c is None else f" ({fmt.number(b * 100, 1)}% → {fmt.number(c * 100, 1)}%)")
                for t, b, c in zip(rows["tendenza"], rows["cv_baseline"], rows["cv_confronto"])
            ],
        }
    )


def equity_gaps(table: pl.DataFrame, indicatore: str, year: int) -> pl.DataFrame:
    """`equity.sub_ambito_gaps` of one indicator and year."""
    return equity.sub_ambito_gaps(table.filter((pl.col("indicatore") == indicatore) & (pl.col("anno") == year)))


def gaps_display(gaps: pl.DataFrame, names: dict[str, str], unita: str) -> pl.DataFrame:
    """`equity.sub_ambito_gaps` for one indicator and year: each sub-ambito against the ambito."""
    rows = gaps.sort("sub_ambito")
    return pl.DataFrame(
        {
            "Sub-ambito": [names.get(s, s) for s in rows["sub_ambito"]],
            "Valore": [fmt.SUPPRESSED if h else num(v, unita) for v, h in zip(rows["valore"], rows["soppresso"])],
            "Ambito": [num(v, unita) for v in rows["valore_ambito"]],
            "Scarto": [
                fmt.SUPPRESSED if h else num(v, unita, signed=True) for v, h in zip(rows["scarto"], rows["soppresso"])
            ],
            "Rispetto all'ambito": [
                "–" if p is None else ("peggio" if p else "meglio o uguale") for p in rows["peggiore"]
            ],
        }
    )


# --- the reports' section ------------------------------------------------------------------------


@dataclass
class Section:
    """The «Riorganizzazione» section of a report: the frames (numbers, for the XLSX) and the sentences;
    `*_rows()` give the text tables (header row first) of the PDF and the PPTX."""

    year: int
    design: str
    p_min: str | None
    results: list[dict]  # evaluation.evaluate on the public table, every indicator published by comune
    pilot: pl.DataFrame  # pilot_overview of the results
    pilot_notes: list[str]
    soglia: float
    proximity: pl.DataFrame  # proximity.access_summary (ambito, then the sub-ambiti)
    proximity_notes: list[str]
    caseload: pl.DataFrame  # caseload_year
    caseload_note: str | None
    equity: pl.DataFrame  # equity_year, the indicators with a dispersion
    names: dict[str, str]  # territory code -> label
    notes: list[str] = field(default_factory=list)

    @property
    def estimated(self) -> pl.DataFrame:
        return self.pilot.filter(pl.col("effetto").is_not_null())

    def pilot_rows(self) -> list[list[str]]:
        return _rows(pilot_overview_display(self.estimated))

    def proximity_rows(self) -> list[list[str]]:
        return _rows(proximity_display(self.proximity, self.names))

    def caseload_rows(self) -> list[list[str]]:
        return _rows(caseload_display(self.caseload, self.names))

    def equity_rows(self, limit: int | None = None) -> list[list[str]]:
        rows = self.equity if limit is None else self.equity.sort("cv", descending=True).head(limit)
        return _rows(equity_display(rows, self.names))


def _rows(df: pl.DataFrame) -> list[list[str]]:
    return [list(df.columns)] + [list(r) for r in df.iter_rows()]


def report_section(
    con: duckdb.DuckDBPyConnection,
    table: pl.DataFrame,
    year: int,
    levels: Sequence[str] = ALL_LEVELS,
    full_table: pl.DataFrame | None = None,
    soglia_minuti: float | None = None,
    entries: Sequence[definitions.Indicator] | None = None,
    as_of: date | None = None,
) -> Section:
    """The section from the report's public table (already cut to the reader's `levels`) and the warehouse.

    The pilot is estimated on `full_table`, the same public table with its comune rows (sums over many
    comuni, never a comune's value; a hidden comune cell refuses the estimate, as `evaluate --public`
    does); without it, `table` is used.
    """
    from core import settings

    entries = {e.id: e for e in (entries or definitions.catalog())}
    sub = evaluation.sub_ambiti_frame(con)
    names = {k: f"{k} {v}" for k, v in sub.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").iter_rows()}
    names["AMBITO"] = "Ambito"
    results = pilot_results(full_table if full_table is not None else table, sub)
    overview = pilot_overview(results, entries)
    missing = overview.filter(pl.col("effetto").is_null()).height
    pilot_notes = []
    if missing:
        pilot_notes.append(
            f"Per {missing} indicatori su {overview.height} la stima non si può fare o non si può pubblicare (per "
            "esempio perché il valore di qualche comune è nascosto dal segreto statistico, o manca un anno completo "
            "dopo l'avvio): l'Ufficio di Piano la vede nel cruscotto, con il motivo."
        )
    pilot_notes.append(
        "Metodo: differenza nelle differenze per comune (variazione media dopo − prima nei comuni pilota meno quella "
        "negli altri comuni, ogni comune pesato con il suo denominatore); p-value e intervallo per randomizzazione "
        "su tutte le scelte possibili dei sub-ambiti pilota (docs/METODO_VALUTAZIONE.md)."
    )
    soglia = settings.access_threshold_minutes() if soglia_minuti is None else float(soglia_minuti)
    per_comune = proximity.nearest_access(con, soglia)
    prox_notes = [
        f"Soglia: {threshold_text(soglia)} minuti dal punto di accesso più vicino del proprio sub-ambito.",
        *proximity.method_notes(per_comune),
    ]
    load = caseload_year(workload.caseload(con, table=table, years=[year], as_of=as_of), year)
    eq = equity_year(equity.equity_table(table, equity.sub_ambito_residents(con)), year, entries)
    return Section(
        year=year,
        design=design_sentence(sub),
        p_min=p_min_sentence(sub),
        results=results,
        pilot=overview,
        pilot_notes=pilot_notes,
        soglia=soglia,
        proximity=proximity.access_summary(per_comune),
        proximity_notes=prox_notes,
        caseload=load,
        caseload_note=caseload_sentence(load, names),
        equity=eq.filter(pl.col("cv").is_not_null()),
        names=names,
        notes=[] if "comune" in levels else ["Valori per ambito e sub-ambito soltanto (nessun valore comunale)."],
    )
