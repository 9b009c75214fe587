"""The pilot of the new model, measured (issue 13, part 1): pilot sub-ambiti against the others.

Pure functions on the tidy indicator table (`indicators.api.indicator_table`) and the `sub_ambiti`
table (comune, sub_ambito, pilota, data_avvio_pilota), so the page, the reports and the CLI call
the same code:

    pilot_trends(table, sub_ambiti, "anziani_sad_copertura_65")  # the two groups year by year
    evaluate(table, sub_ambiti)                                   # one result per indicator (contract §6)

**Periods.** Complete calendar years only (`parziale` false). "Before" = the complete years before the
year in which the first pilot started; "after" = the complete years from the first year in which every
pilot was running for the whole year: the year of a start counts as "after" only when the start is on
1 January, otherwise it is a transition year, left out. Years between the two windows are left out.

**The estimate** (difference in differences at comune level): for each comune c,
    Δc = mean of its values in the "after" years − mean of its values in the "before" years;
    effetto = Σ_pilot wc·Δc / Σ_pilot wc  −  Σ_others wc·Δc / Σ_others wc,
with wc = the comune's mean denominator over the years used (population for rates per residents,
records for shares). For rates per residents this equals the change of the group's pooled rate,
so a large comune counts in proportion to its people, and a comune of 200 residents does not
weigh as much as Crema. A comune without a value in either period is left out (said in avvertenze).

**Public view.** When disclosure control hides comune values of the years used, the same estimate is
made on the published sub-ambito values (each sub-ambito one unit, weighted by its mean denominator;
`metodo` and `avvertenze` say so): it uses only what is already published, so it reveals nothing new.
For rates per residents with steady denominators it equals the comune-level estimate (the pooled rate
of a group is its comuni's denominator-weighted mean). Hidden sub-ambito values too → refused.

**Inference** (randomisation inference over the sub-ambiti, the unit the pilot was assigned to):
every way of choosing the same number of pilot sub-ambiti among those in the comparison (15 ways for
2 of 6; past `MAX_ASSIGNMENTS`, a seeded random sample) gives a placebo effect. `p_value` = share of
assignments whose |effect| is at least the observed |effect| (the observed one included), so the
smallest possible p-value is 1/15 for 2 of 6 (`p_minimo`; 2/M when pilots and others are as many,
because swapping the two groups gives the same |effect|). The interval inverts the same test:
every effect τ whose "pilot comuni shifted by τ" data is not rejected at 1 − level, so with 15
assignments a nominal 90% interval covers the true effect 14/15 = 93.3% of the time, and that
realised level is what `livello_confidenza` says. Exact when the pilots are exchangeable with the
other sub-ambiti; tests check its coverage on simulated data.

Why not a wild cluster bootstrap: with 6 clusters of which 2 treated its coverage is known to be far
from nominal (MacKinnon and Webb 2017-2018, few treated clusters), and the only package for it pulls
in numba; randomisation inference is exact by design here and needs ~40 lines of numpy.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

LEVEL = 0.90  # nominal level of the interval; the realised one is reported (see module docstring)
MAX_ASSIGNMENTS = 20_000  # beyond this many possible assignments, a seeded random sample of this size
SEED = 13
GROUP_PILOT, GROUP_OTHERS = "pilota", "altri"
PERIOD_BEFORE, PERIOD_TRANSITION, PERIOD_AFTER, PERIOD_PARTIAL = "prima", "transizione", "dopo", "anno parziale"

METHOD = (
    "Differenza nelle differenze per comune: variazione media (anni dopo − anni prima) nei comuni pilota meno "
    "quella negli altri comuni, ogni comune pesato con il suo denominatore medio. p-value e intervallo per "
    "randomizzazione: tutte le assegnazioni dello stesso numero di sub-ambiti pilota{m}."
)
METHOD_SUB_AMBITO = (
    "Differenza nelle differenze per sub-ambito (vista pubblica: valori dei sub-ambiti già pubblicati, perché "
    "quelli di alcuni comuni sono nascosti per il segreto statistico): variazione media (anni dopo − anni prima) "
    "nei sub-ambiti pilota meno quella negli altri, ogni sub-ambito pesato con il suo denominatore medio. p-value e "
    "intervallo per randomizzazione: tutte le assegnazioni dello stesso numero di sub-ambiti pilota{m}."
)
RESULT_KEYS = (
    "indicatore",
    "sub_ambiti_pilota",
    "data_avvio",
    "anni_prima",
    "anni_dopo",
    "effetto",
    "ic_basso",
    "ic_alto",
    "livello_confidenza",
    "p_value",
    "p_minimo",
    "n_comuni_pilota",
    "n_comuni_altri",
    "metodo",
    "avvertenze",
)
EXTRA_KEYS = ("unita", "effetto_placebo", "p_value_placebo", "n_assegnazioni", "date_avvio")


def _it_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _it_number(x: float, digits: int = 2) -> str:
    s = f"{x:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return s.rstrip("0").rstrip(",") if "," in s else s


def _years_text(years: list[int]) -> str:
    years = sorted(years)
    return years[0].__str__() if len(years) == 1 else ", ".join(map(str, years[:-1])) + f" e {years[-1]}"


# --- the design: which sub-ambiti, which years --------------------------------------------------


@dataclass(frozen=True)
class PilotDesign:
    """Pilot and comparison sub-ambiti, start dates, and the year windows they imply."""

    pilots: tuple[str, ...]
    others: tuple[str, ...]
    starts: dict[str, date] = field(default_factory=dict)
    refusals: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> date | None:
        """The first start (the pilot's `data_avvio`)."""
        return min(self.starts.values()) if self.starts else None

    @property
    def last_before_year(self) -> int | None:
        return self.start.year - 1 if self.start else None

    @property
    def first_after_year(self) -> int | None:
        if not self.starts:
            return None
        return max(d.year if (d.month, d.day) == (1, 1) else d.year + 1 for d in self.starts.values())

    def period(self, year: int, partial: bool = False) -> str:
        """'prima', 'dopo', 'transizione' or 'anno parziale' for a year of the table."""
        if partial:
            return PERIOD_PARTIAL
        if self.start is None:
            return PERIOD_TRANSITION
        if year <= self.last_before_year:
            return PERIOD_BEFORE
        if year >= self.first_after_year:
            return PERIOD_AFTER
        return PERIOD_TRANSITION


def _as_date(v) -> date | None:
    if v is None or isinstance(v, date):
        return v
    text = str(v).strip()
    return date.fromisoformat(text[:10]) if text else None


def pilot_design(sub_ambiti: pl.DataFrame) -> PilotDesign:
    """Read the pilot from the `sub_ambiti` table (one row per comune; a sub-ambito is a pilot when any of
    its rows says so, and starts on the earliest date given)."""
    rows = sub_ambiti.select("sub_ambito", "pilota", "data_avvio_pilota").to_dicts()
    pilot: dict[str, bool] = {}
    starts: dict[str, date] = {}
    for r in rows:
        sa = r["sub_ambito"]
        pilot[sa] = pilot.get(sa, False) or bool(r["pilota"])
        d = _as_date(r["data_avvio_pilota"])
        if r["pilota"] and d is not None:
            starts[sa] = min(d, starts.get(sa, d))
    pilots = tuple(sorted(s for s, p in pilot.items() if p))
    others = tuple(sorted(s for s, p in pilot.items() if not p))
    refusals, notes = [], []
    if not pilots:
        refusals.append(
            "Nessun sub-ambito è indicato come pilota (colonna «pilota» della tabella dei sub-ambiti): non c'è "
            "un gruppo pilota da confrontare. Indicare i sub-ambiti pilota e la data di avvio."
        )
    missing = [s for s in pilots if s not in starts]
    if missing:
        refusals.append(
            f"Manca la data di avvio del pilota per {', '.join(missing)}: indicarla nella colonna "
            "«data_avvio_pilota» della tabella dei sub-ambiti."
        )
    if pilots and len(others) < 2:
        refusals.append(
            f"Servono almeno due sub-ambiti non pilota per il confronto; ce n'è {len(others)}: "
            "con meno di due non si può distinguere l'effetto del pilota dalle differenze tra territori."
        )
    starts = {s: d for s, d in starts.items() if s in pilots and s not in missing}
    if starts and not missing:
        dates = sorted(set(starts.values()))
        first, after = min(dates), max(d.year if (d.month, d.day) == (1, 1) else d.year + 1 for d in dates)
        left_out = list(range(first.year, after))
        if len(dates) > 1:
            each = ", ".join(f"{s} dal {_it_date(d)}" for s, d in sorted(starts.items()))
            notes.append(
                f"I sub-ambiti pilota sono partiti in date diverse ({each}): «prima» sono gli anni completi "
                f"prima del {first.year}, «dopo» quelli dal {after}, quando tutti i pilota erano avviati"
                + (
                    f"; il {left_out[0]} è escluso come anno di transizione."
                    if len(left_out) == 1
                    else f"; {_years_text(left_out)} sono esclusi come anni di transizione."
                    if left_out
                    else "."
                )
            )
        elif left_out:
            notes.append(
                f"Il pilota è partito il {_it_date(first)}, non il 1° gennaio: il {first.year} è un anno di "
                "transizione ed è escluso dal confronto."
            )
    return PilotDesign(pilots, others, starts, tuple(refusals), tuple(notes))


# --- randomisation inference (numpy core, also used by the simulation tests) ------------------------


@dataclass(frozen=True)
class Inference:
    p_value: float
    p_min: float
    n_assignments: int
    exhaustive: bool
    ci_low: float | None
    ci_high: float | None
    level: float | None  # realised coverage of the interval (None: no interval possible)


def assignments(n_clusters: int, n_treated: int, observed: tuple[int, ...], seed: int = SEED) -> np.ndarray:
    """Every choice of `n_treated` clusters among `n_clusters` (0/1 matrix, one row each, the observed one
    first); a seeded random sample past MAX_ASSIGNMENTS."""
    total = math.comb(n_clusters, n_treated)
    if total <= MAX_ASSIGNMENTS:
        combos = [tuple(observed)] + [
            c for c in itertools.combinations(range(n_clusters), n_treated) if c != tuple(observed)
        ]
    else:
        rng = np.random.default_rng(seed)
        combos = [tuple(observed)] + [
            tuple(rng.choice(n_clusters, n_treated, replace=False)) for _ in range(MAX_ASSIGNMENTS - 1)
        ]
    out = np.zeros((len(combos), n_clusters))
    for i, c in enumerate(combos):
        out[i, list(c)] = 1.0
    return out


def contrasts(cluster: np.ndarray, weights: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """One row per assignment: the comune weights of the estimate (treated: +w/Σw, others: −w/Σw)."""
    treated = assign[:, cluster]  # (M, comuni)
    wt = treated * weights
    wc = (1.0 - treated) * weights
    return wt / wt.sum(axis=1, keepdims=True) - wc / wc.sum(axis=1, keepdims=True)


def did(delta: np.ndarray, weights: np.ndarray, is_treated: np.ndarray) -> float:
    """Weighted mean of `delta` over the treated comuni minus the same over the others."""
    t = np.asarray(is_treated, dtype=bool)
    return float(np.average(delta[t], weights=weights[t]) - np.average(delta[~t], weights=weights[~t]))


def randomization_inference(
    delta: np.ndarray,
    weights: np.ndarray,
    cluster: np.ndarray,
    treated_clusters: tuple[int, ...],
    level: float = LEVEL,
    seed: int = SEED,
) -> Inference:
    """p-value and test-inversion interval for the weighted difference in mean change.

    `delta`, `weights`, `cluster`: one entry per comune (cluster = index of its sub-ambito, 0..K-1);
    `treated_clusters`: indices of the pilot sub-ambiti.
    """
    n_clusters = int(cluster.max()) + 1
    assign = assignments(n_clusters, len(treated_clusters), tuple(sorted(treated_clusters)), seed)
    exhaustive = math.comb(n_clusters, len(treated_clusters)) <= MAX_ASSIGNMENTS
    lmat = contrasts(cluster, weights, assign)
    treated = assign[0, cluster]
    b = lmat @ delta  # effect of each assignment on the data
    a = lmat @ treated  # how much of a constant pilot shift τ each assignment picks up (a[0] = 1)
    theta = b[0]
    m = len(b)
    scale = 1.0 + abs(theta) + float(np.abs(b).max())
    tol = 1e-9 * scale

    def p_at(tau: np.ndarray) -> np.ndarray:
        tau = np.atleast_1d(tau)
        obs = np.abs(theta - tau)
        alt = np.abs(b[:, None] - a[:, None] * tau[None, :])
        return (alt >= obs[None, :] - tol).mean(axis=0)

    p_value = float(p_at(np.array([0.0]))[0])
    symmetric = exhaustive and 2 * len(treated_clusters) == n_clusters
    p_min = (2.0 if symmetric else 1.0) / m
    alpha = 1.0 - level
    steps = math.floor(alpha / p_min + 1e-9)
    if steps == 0:
        return Inference(p_value, p_min, m, exhaustive, None, None, None)
    realised = 1.0 - steps * p_min
    # The p-value is a step function of τ that changes only where |b_j − a_j τ| = |θ − τ|.
    others_b, others_a = b[1:], a[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cuts = np.concatenate([(theta - others_b) / (1.0 - others_a), (theta + others_b) / (1.0 + others_a)])
    cuts = np.unique(cuts[np.isfinite(cuts)])
    if cuts.size == 0:
        return Inference(p_value, p_min, m, exhaustive, None, None, realised)
    span = float(cuts.max() - cuts.min()) + scale
    probe = np.concatenate([[cuts.min() - span], cuts, (cuts[:-1] + cuts[1:]) / 2, [cuts.max() + span]])
    accepted = probe[p_at(probe) > alpha + 1e-12]
    if accepted.size == 0:  # cannot happen: τ = θ has p = 1
        return Inference(p_value, p_min, m, exhaustive, None, None, realised)
    low = None if accepted.min() <= cuts.min() - span else float(accepted.min())
    high = None if accepted.max() >= cuts.max() + span else float(accepted.max())
    return Inference(p_value, p_min, m, exhaustive, low, high, realised)


# --- from the tidy table to the comparison ------------------------------------------------------


def _comune_rows(table: pl.DataFrame, sub_ambiti: pl.DataFrame, indicatore: str) -> pl.DataFrame:
    sub = sub_ambiti.select("comune", "sub_ambito").unique("comune", keep="first")
    return (
        table.filter((pl.col("indicatore") == indicatore) & (pl.col("livello") == "comune"))
        .select("territorio", "anno", "valore", "denominatore", "parziale", "soppresso")
        .rename({"territorio": "comune"})
        .join(sub, on="comune", how="inner")
    )


def _sub_ambito_rows(table: pl.DataFrame, indicatore: str) -> pl.DataFrame:
    """The published sub-ambito values, shaped like `_comune_rows` (each sub-ambito a unit of its own cluster)."""
    return (
        table.filter((pl.col("indicatore") == indicatore) & (pl.col("livello") == "sub_ambito"))
        .select("territorio", "anno", "valore", "denominatore", "parziale", "soppresso")
        .with_columns(pl.col("territorio").alias("sub_ambito"))
        .rename({"territorio": "comune"})
    )


def _comune_changes(rows: pl.DataFrame, before: list[int], after: list[int]) -> pl.DataFrame:
    """comune, sub_ambito, prima, dopo, delta, peso (mean denominator over the years used)."""
    used = rows.filter(pl.col("anno").is_in(before + after) & pl.col("valore").is_not_null())
    return (
        used.group_by("comune", "sub_ambito")
        .agg(
            pl.col("valore").filter(pl.col("anno").is_in(before)).mean().alias("prima"),
            pl.col("valore").filter(pl.col("anno").is_in(after)).mean().alias("dopo"),
            pl.col("denominatore").mean().alias("peso"),
        )
        .with_columns((pl.col("dopo") - pl.col("prima")).alias("delta"))
        .sort("comune")
    )


def _unit(table: pl.DataFrame, indicatore: str) -> str | None:
    if "unita" not in table.columns:
        return None
    u = table.filter(pl.col("indicatore") == indicatore)["unita"].drop_nulls()
    return u[0] if len(u) else None


def by_sub_ambito(result: dict) -> bool:
    """Whether a result was estimated on the published sub-ambito values (public view, comune values hidden)."""
    return str(result.get("metodo") or "").startswith(METHOD_SUB_AMBITO.split("(", 1)[0])


def _empty_result(indicatore: str, design: PilotDesign | None) -> dict:
    return {
        "indicatore": indicatore,
        "sub_ambiti_pilota": list(design.pilots) if design else [],
        "data_avvio": design.start.isoformat() if design and design.start else None,
        "anni_prima": [],
        "anni_dopo": [],
        "effetto": None,
        "ic_basso": None,
        "ic_alto": None,
        "livello_confidenza": None,
        "p_value": None,
        "p_minimo": None,
        "n_comuni_pilota": 0,
        "n_comuni_altri": 0,
        "metodo": METHOD.format(m=""),
        "avvertenze": [],
        "unita": None,
        "effetto_placebo": None,
        "p_value_placebo": None,
        "n_assegnazioni": None,
        "date_avvio": {s: d.isoformat() for s, d in sorted(design.starts.items())} if design else {},
    }


def evaluate_indicator(table: pl.DataFrame, sub_ambiti: pl.DataFrame, indicatore: str, level: float = LEVEL) -> dict:
    """The comparison for one indicator: the contract's keys (`RESULT_KEYS`) and a few extra
    (`EXTRA_KEYS`). When the comparison cannot be made, `effetto` is null and `avvertenze` says why."""
    design = pilot_design(sub_ambiti)
    out = _empty_result(indicatore, design)
    out["unita"] = _unit(table, indicatore)
    notes: list[str] = out["avvertenze"]
    n_clusters_all = len(design.pilots) + len(design.others)
    if design.pilots and design.others:
        out["p_minimo"] = (2.0 if 2 * len(design.pilots) == n_clusters_all else 1.0) / math.comb(
            n_clusters_all, len(design.pilots)
        )
    ind_rows = table.filter(pl.col("indicatore") == indicatore)
    if ind_rows.is_empty():
        notes.append(f"L'indicatore «{indicatore}» non ha valori nella tabella: non c'è niente da confrontare.")
        return out
    rows = _comune_rows(table, sub_ambiti, indicatore)
    if rows.is_empty():
        notes.append(
            "L'indicatore non è calcolato per comune (solo per sub-ambito e ambito): il confronto tra comuni "
            "pilota e altri comuni non si applica."
        )
        return out
    if design.refusals:
        notes.extend(design.refusals)
        return out
    notes.extend(design.notes)

    years = rows.select("anno", "parziale").unique().sort("anno")
    partial = years.filter(pl.col("parziale"))["anno"].to_list()
    complete = years.filter(~pl.col("parziale"))["anno"].to_list()
    before = [y for y in complete if design.period(y) == PERIOD_BEFORE]
    after = [y for y in complete if design.period(y) == PERIOD_AFTER]
    out["anni_prima"], out["anni_dopo"] = before, after
    if partial:
        notes.append(
            f"Il {_years_text(partial)} non è ancora completo (anno in corso): è escluso dal confronto, che usa "
            "solo anni interi."
        )
    refused = False
    if not before:
        notes.append(
            f"Nessun anno completo prima dell'avvio del pilota ({_it_date(design.start)}): servono i dati di "
            f"almeno un anno intero fino al {design.last_before_year}."
        )
        refused = True
    if not after:
        notes.append(
            f"Nessun anno completo dopo l'avvio del pilota: il primo anno «dopo» è il {design.first_after_year}. "
            f"La stima sarà possibile quando ci saranno i dati dell'intero {design.first_after_year}."
        )
        refused = True
    if refused:
        return out

    window = rows.filter(pl.col("anno").is_in(before + after))
    hidden = window.filter(pl.col("soppresso"))
    by_sub_ambito = False
    if hidden.height:
        rows = _sub_ambito_rows(table, indicatore)
        hidden_subs = rows.filter(pl.col("anno").is_in(before + after) & pl.col("soppresso"))
        if rows.is_empty() or hidden_subs.height:
            n_subs = hidden_subs.height
            also = f" e {n_subs} {'valore' if n_subs == 1 else 'valori'} dei sub-ambiti" if n_subs else ""
            notes.append(
                f"{hidden.height} valori comunali degli anni usati ({hidden['comune'].n_unique()} comuni){also} sono "
                "nascosti per il segreto statistico (vista pubblica): senza di essi la stima non si può fare, e "
                "togliere quei territori darebbe un confronto distorto. La stima è disponibile all'Ufficio di Piano."
            )
            return out
        by_sub_ambito = True
        notes.append(
            f"Vista pubblica: {hidden.height} valori comunali degli anni usati ({hidden['comune'].n_unique()} comuni) "
            "sono nascosti per il segreto statistico, quindi la stima usa i valori dei sub-ambiti già pubblicati "
            "(ognuno pesato con il suo denominatore medio) invece dei singoli comuni: stessa domanda, stesso test. "
            "Per i tassi sui residenti il risultato coincide con quello per comune dell'Ufficio di Piano; per "
            "mediane e quote può scostarsene un poco."
        )
        out["metodo"] = METHOD_SUB_AMBITO

    changes = _comune_changes(rows, before, after)
    usable = changes.filter(pl.col("delta").is_not_null() & pl.col("peso").is_not_null() & (pl.col("peso") > 0))
    dropped = changes.height - usable.height + (rows["comune"].n_unique() - changes.height)
    if dropped:
        one, many = (
            ("sub-ambito è escluso", "sub-ambiti sono esclusi")
            if by_sub_ambito
            else ("comune è escluso", "comuni sono esclusi")
        )
        notes.append(
            f"{dropped} {one if dropped == 1 else many}: senza un valore sia prima sia dopo l'avvio (per esempio "
            "denominatore zero)."
        )
    pilot_rows = usable.filter(pl.col("sub_ambito").is_in(list(design.pilots)))
    other_rows = usable.filter(~pl.col("sub_ambito").is_in(list(design.pilots)))
    if by_sub_ambito:  # the comuni of the sub-ambiti used
        members = sub_ambiti.unique("comune", keep="first")
        out["n_comuni_pilota"] = members.filter(pl.col("sub_ambito").is_in(pilot_rows["sub_ambito"].to_list())).height
        out["n_comuni_altri"] = members.filter(pl.col("sub_ambito").is_in(other_rows["sub_ambito"].to_list())).height
    else:
        out["n_comuni_pilota"], out["n_comuni_altri"] = pilot_rows.height, other_rows.height
    if pilot_rows.is_empty():
        notes.append("Nessun territorio pilota ha valori sia prima sia dopo l'avvio: il confronto non si può fare.")
        return out
    other_clusters = other_rows["sub_ambito"].n_unique()
    if other_clusters < 2:
        notes.append(
            f"Solo {other_clusters} sub-ambiti non pilota hanno comuni con valori prima e dopo l'avvio: ne "
            "servono almeno due per il confronto."
        )
        return out

    effect, inf = _compare(usable, design.pilots, level)
    n_clusters, n_treated = usable["sub_ambito"].n_unique(), pilot_rows["sub_ambito"].n_unique()
    out.update(
        effetto=effect,
        ic_basso=inf.ci_low,
        ic_alto=inf.ci_high,
        livello_confidenza=inf.level if (inf.ci_low is not None and inf.ci_high is not None) else None,
        p_value=inf.p_value,
        p_minimo=inf.p_min,
        n_assegnazioni=inf.n_assignments,
        metodo=(METHOD_SUB_AMBITO if by_sub_ambito else METHOD).format(
            m=f" ({inf.n_assignments})" if inf.exhaustive else f" ({inf.n_assignments} estratte a caso)"
        ),
    )
    if inf.ci_low is None or inf.ci_high is None:
        notes.append(
            f"Con {inf.n_assignments} modi di scegliere i sub-ambiti pilota il p-value più piccolo possibile è "
            f"{_it_number(inf.p_min, 3)}: un intervallo di confidenza al {_it_number(level * 100)}% non è "
            "determinabile (i dati sono compatibili con qualunque effetto)."
        )
    else:
        notes.append(
            f"L'intervallo copre l'effetto vero nel {_it_number(inf.level * 100, 1)}% dei casi (livello esatto con "
            f"{inf.n_assignments} assegnazioni possibili, invece del {_it_number(level * 100)}% richiesto)."
        )
    if inf.exhaustive and inf.p_min > 0.01:
        fraction = f"{round(inf.p_min * inf.n_assignments)}/{inf.n_assignments}"
        notes.append(
            f"Solo {n_clusters} sub-ambiti, di cui {n_treated} pilota: il p-value non può scendere sotto "
            f"{fraction} = {_it_number(inf.p_min, 3)}, e un effetto anche reale può non distinguersi dalle "
            "differenze tra territori."
        )
    if len(before) >= 2:
        last = max(before)
        placebo = (
            _comune_changes(rows, [y for y in before if y != last], [last])
            .filter(pl.col("delta").is_not_null())
            .drop("peso")
            .join(usable.select("comune", "peso"), on="comune", how="inner")  # the estimate's weights
        )
        if (
            placebo.filter(pl.col("sub_ambito").is_in(list(design.pilots))).height
            and placebo.filter(~pl.col("sub_ambito").is_in(list(design.pilots)))["sub_ambito"].n_unique() >= 2
        ):
            pl_effect, pinf = _compare(placebo, design.pilots, level)
            out["effetto_placebo"], out["p_value_placebo"] = pl_effect, pinf.p_value
            if pinf.p_value <= 1.0 - level + 1e-12:
                notes.append(
                    f"Già prima dell'avvio i comuni pilota si muovevano diversamente dagli altri (nel {last} rispetto "
                    f"agli anni precedenti: {_it_number(pl_effect)}): parte dell'effetto stimato può venire da "
                    "questa tendenza e non dal pilota."
                )
    else:
        notes.append(
            "Un solo anno prima dell'avvio: non si può controllare se pilota e altri avevano già andamenti diversi."
        )
    return out


def _compare(changes: pl.DataFrame, pilots: tuple[str, ...], level: float) -> tuple[float, Inference]:
    """Effect and randomisation inference on comune rows (sub_ambito, delta, peso)."""
    clusters = sorted(changes["sub_ambito"].unique().to_list())
    index = {s: i for i, s in enumerate(clusters)}
    cluster = np.array([index[s] for s in changes["sub_ambito"].to_list()])
    treated = tuple(index[s] for s in clusters if s in pilots)
    delta = changes["delta"].to_numpy().astype(float)
    weights = changes["peso"].to_numpy().astype(float)
    effect = did(delta, weights, changes["sub_ambito"].is_in(list(pilots)).to_numpy())
    return effect, randomization_inference(delta, weights, cluster, treated, level)


def comparable_indicators(table: pl.DataFrame) -> list[str]:
    """The indicators published by comune, in table order."""
    ids = table.filter(pl.col("livello") == "comune")["indicatore"]
    return list(dict.fromkeys(ids.to_list()))


def evaluate(
    table: pl.DataFrame,
    sub_ambiti: pl.DataFrame,
    indicators: list[str] | None = None,
    level: float = LEVEL,
) -> list[dict]:
    """One result per indicator (default: every indicator published by comune)."""
    ids = indicators if indicators else comparable_indicators(table)
    return [evaluate_indicator(table, sub_ambiti, i, level) for i in ids]


# --- the descriptive table ------------------------------------------------------------------------


def pilot_trends(table: pl.DataFrame, sub_ambiti: pl.DataFrame, indicatore: str) -> pl.DataFrame:
    """The two groups year by year, in the indicator's unit.

    Columns: indicatore, anno, gruppo ('pilota' | 'altri'), valore (the group's mean of its comuni's
    values, each comune weighted by its mean denominator over the years of the comparison: the weights
    of the estimate, so that with no missing value effetto = (mean after − mean before) of 'pilota'
    − the same of 'altri'), n_comuni, valori_nascosti (suppressed comune cells: then valore is null),
    periodo ('prima', 'transizione', 'dopo', 'anno parziale'), parziale, data_avvio (the first start,
    for the chart's marker), unita, media_di ('comuni', or 'sub-ambiti' in the public view when comune
    values are hidden and the published sub-ambito values are averaged instead, as the estimate does;
    n_comuni then counts sub-ambiti). Empty when there is no pilot or no comune row.
    """
    design = pilot_design(sub_ambiti)
    rows = _comune_rows(table, sub_ambiti, indicatore)
    averaged = "comuni"
    if rows["soppresso"].any():
        subs = _sub_ambito_rows(table, indicatore)
        if not subs.is_empty() and subs["soppresso"].sum() < rows["soppresso"].sum():
            rows, averaged = subs, "sub-ambiti"
    schema = {
        "indicatore": pl.String,
        "anno": pl.Int32,
        "gruppo": pl.String,
        "valore": pl.Float64,
        "n_comuni": pl.Int64,
        "valori_nascosti": pl.Int64,
        "periodo": pl.String,
        "parziale": pl.Boolean,
        "data_avvio": pl.Date,
        "unita": pl.String,
        "media_di": pl.String,
    }
    if rows.is_empty() or not design.pilots:
        return pl.DataFrame(schema=schema)
    complete = rows.filter(~pl.col("parziale"))["anno"].unique().to_list()
    compared = [y for y in complete if design.period(y) in (PERIOD_BEFORE, PERIOD_AFTER)] or complete
    weights = (
        rows.filter(pl.col("anno").is_in(compared) & pl.col("valore").is_not_null())
        .group_by("comune")
        .agg(pl.col("denominatore").mean().alias("peso"))
    )
    if design.start is None:
        period = pl.lit(PERIOD_TRANSITION)
    else:
        period = (
            pl.when(pl.col("anno") <= design.last_before_year)
            .then(pl.lit(PERIOD_BEFORE))
            .when(pl.col("anno") >= design.first_after_year)
            .then(pl.lit(PERIOD_AFTER))
            .otherwise(pl.lit(PERIOD_TRANSITION))
        )
    counted = pl.col("valore").is_not_null() & pl.col("peso").is_not_null()
    out = (
        rows.join(weights, on="comune", how="left")
        .with_columns(
            pl.when(pl.col("sub_ambito").is_in(list(design.pilots)))
            .then(pl.lit(GROUP_PILOT))
            .otherwise(pl.lit(GROUP_OTHERS))
            .alias("gruppo")
        )
        .group_by("anno", "parziale", "gruppo")
        .agg(
            ((pl.col("valore") * pl.col("peso")).filter(counted).sum() / pl.col("peso").filter(counted).sum()).alias(
                "valore"
            ),
            counted.sum().cast(pl.Int64).alias("n_comuni"),
            pl.col("soppresso").sum().cast(pl.Int64).alias("valori_nascosti"),
        )
        .with_columns(
            pl.when((pl.col("valori_nascosti") > 0) | (pl.col("n_comuni") == 0))
            .then(None)
            .otherwise(pl.col("valore"))
            .alias("valore"),
            pl.when(pl.col("parziale")).then(pl.lit(PERIOD_PARTIAL)).otherwise(period).alias("periodo"),
            pl.lit(indicatore).alias("indicatore"),
            pl.lit(design.start, dtype=pl.Date).alias("data_avvio"),
            pl.lit(_unit(table, indicatore), dtype=pl.String).alias("unita"),
            pl.lit(averaged).alias("media_di"),
        )
        .sort("anno", pl.col("gruppo") != GROUP_PILOT)
    )
    return out.select(list(schema)).cast(schema)


# --- reading the warehouse (for the CLI and the page) ------------------------------------------------


def sub_ambiti_frame(con) -> pl.DataFrame:
    """comune, sub_ambito, nome_sub_ambito, pilota, data_avvio_pilota as loaded in the warehouse."""
    from core.warehouse import query_pl

    return query_pl(
        con, "SELECT comune, sub_ambito, nome_sub_ambito, pilota, data_avvio_pilota FROM sub_ambiti ORDER BY comune"
    )
