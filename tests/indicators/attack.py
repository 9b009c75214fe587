"""An attacker on the public indicator table (data contract, section 4), for the disclosure tests.

What the attacker knows: every published row (`python -m indicators compute --public`), the catalog
(the public indicator sheets say what each count counts), the comune -> sub-ambito hierarchy, and the
ISTAT population (public). What the attacker does: one linear system over ALL published numbers,
solved for every hidden count at once:

- unknowns: the count of each population (what a column counts: unit, interventions, event, ages,
  conditions) for each year and territory - one unknown per population, so two indicators that
  publish the same count share it; the hours of a service (additive too);
- for two populations one inside the other (A within B), the unknown difference D = B - A, with
  B - A - D = 0 (the complement of a share is such a difference: denominatore - numeratore);
- equations: sub-ambito = sum of its comuni and ambito = sum of the sub-ambiti, for every population;
  valore = numeratore / denominatore x moltiplicatore for every published value of a share or ratio;
- known: every published count; with `guess_zero_differences`, a difference that is 0 wherever it is
  published is taken as 0 everywhere (an attacker's guess that two nested counts are twins: the
  persons with SAD and the persons 65+ with SAD on the demo).

A hidden unknown is recovered when the system determines it (its unit vector lies in the row space of
the equations restricted to the hidden unknowns); its value is then the least-squares solution.

This module reads the catalog on its own (it does not ask `indicators.disclosure` which counts are
linked), so the tests check the defender against an independent reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

# A population: (unit, interventions, event, age min, age max, conditions). Hashable and comparable.
Pop = tuple


def catalog_populations(entries: Iterable) -> dict[str, dict[str, Pop]]:
    """The attacker's reading of the catalog: indicator -> published column -> population counted."""
    out: dict[str, dict[str, Pop]] = {}
    for e in entries:
        if not e.conteggio_persone:
            continue
        m, kind = e.misura, e.tipo
        if kind == "distinct_units_rate":
            out[e.id] = {
                "numeratore": (
                    m["unita_conteggio"],
                    frozenset(m["interventi"]),
                    m["evento"],
                    m.get("eta_min"),
                    m.get("eta_max"),
                    frozenset(),
                )
            }
        elif kind == "record_share":
            den_cond = {"data_richiesta"} if m.get("richiede_data_richiesta") else set()
            num_cond = set(den_cond)
            if m.get("giorni_max") is not None:
                num_cond |= {"data_richiesta", f"giorni<={m['giorni_max']}"}
            if m.get("esito") is not None:
                num_cond.add(f"esito={m['esito']}")
            base = ("record", frozenset(m["interventi"]), m["evento"], None, None)
            out[e.id] = {"numeratore": (*base, frozenset(num_cond)), "denominatore": (*base, frozenset(den_cond))}
        elif kind == "units_ratio":
            u = m["unita_conteggio"]
            out[e.id] = {
                c: (u, frozenset(m[c]["interventi"]), m[c]["evento"], None, None, frozenset())
                for c in ("numeratore", "denominatore")
            }
        elif kind == "median_days":
            out[e.id] = {
                "denominatore": (
                    "record",
                    frozenset(m["interventi"]),
                    m["evento"],
                    None,
                    None,
                    frozenset({"data_richiesta"}),
                )
            }
        elif kind == "hours_per_user":
            out[e.id] = {
                "numeratore": ("ore", frozenset(m["interventi"]), "attivo", None, None, frozenset()),
                "denominatore": ("persona", frozenset(m["interventi"]), "attivo", None, None, frozenset()),
            }
        elif kind == "units_per_fte":  # the sheet: persons with any intervention (or `interventi`) active
            codes = frozenset(m.get("interventi") or all_interventions())
            out[e.id] = {"numeratore": ("persona", codes, "attivo", None, None, frozenset())}
        elif kind in ("contact_rate", "contact_share"):  # records of the contacts' register (accessi)
            every = ("record", frozenset({"accessi"}), "attivo", None, None)
            if kind == "contact_rate":
                out[e.id] = {"numeratore": (*every, frozenset())}
            else:
                out[e.id] = {
                    "numeratore": (*every, frozenset({"in sede", "spoke"})),
                    "denominatore": (*every, frozenset({"in sede"})),
                }
        elif kind == "contact_days":
            out[e.id] = {
                "denominatore": (
                    "persona",
                    frozenset({"accessi: primo contatto"}),
                    "inizio",
                    None,
                    None,
                    frozenset({"intervento dopo"}),
                )
            }
        else:
            raise AssertionError(f"l'attaccante non sa leggere la misura {kind} di {e.id}")
    return out


def all_interventions() -> list[str]:
    """The codes of data/interventi.csv (public: the catalog of interventions)."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "interventi.csv"
    with path.open(encoding="utf-8") as f:
        return [row["intervento"] for row in csv.DictReader(f)]


def within(small: Pop, big: Pop) -> bool:
    """Every unit counted by `small` is counted by `big` (same territory and year); False when equal."""
    if small == big or small[0] != big[0] or small[0] == "ore":
        return False
    lo_s, hi_s, lo_b, hi_b = small[3], small[4], big[3], big[4]
    ages = (lo_b is None or (lo_s is not None and lo_s >= lo_b)) and (
        hi_b is None or (hi_s is not None and hi_s <= hi_b)
    )
    return small[1] <= big[1] and (small[2] == big[2] or big[2] == "attivo") and ages and small[5] >= big[5]


def linear_kinds(entries: Iterable) -> dict[str, float]:
    """indicator -> multiplier, for the indicators whose valore is numeratore / denominatore x multiplier."""
    linear = ("record_share", "units_ratio", "hours_per_user", "contact_share")
    return {e.id: e.moltiplicatore for e in entries if e.tipo in linear}


@dataclass
class Recovered:
    """A count of a suppressed row that the attacker knows: published by another row, or determined."""

    indicatore: str
    colonna: str
    population: Pop
    anno: int
    livello: str
    territorio: str
    value: float


def recover(
    rows: Iterable[Mapping],
    populations: Mapping[str, Mapping[str, Pop]],
    hierarchy: Mapping[str, str],
    multipliers: Mapping[str, float] | None = None,
    contains: Callable[[Pop, Pop], bool] = within,
    guess_zero_differences: bool = True,
) -> list[Recovered]:
    """Every count of a suppressed row that the public rows give away (see the module docstring):
    published by another row that counts the same population, or determined by the equations.

    rows: dicts with indicatore, anno, livello, territorio, numeratore, denominatore, valore, soppresso.
    populations: indicator -> column -> population (columns not listed are public or not additive).
    """
    multipliers = multipliers or {}
    by_year: dict[int, list[Mapping]] = defaultdict(list)
    for r in rows:
        if r["indicatore"] in populations:
            by_year[int(r["anno"])].append(r)
    found: list[Recovered] = []
    for anno in sorted(by_year):
        found += _recover_year(
            anno, by_year[anno], populations, hierarchy, multipliers, contains, guess_zero_differences
        )
    return found


def _recover_year(anno, rows, populations, hierarchy, multipliers, contains, guess) -> list[Recovered]:
    index: dict[tuple, int] = {}
    known: dict[int, float] = {}

    def var(key: tuple) -> int:
        if key not in index:
            index[key] = len(index)
        return index[key]

    present: dict[Pop, set[tuple[str, str]]] = defaultdict(set)
    equations: list[tuple[dict[int, float], float]] = []  # (coefficients, constant): sum c_i x_i = constant
    for r in rows:
        cols = populations[r["indicatore"]]
        place = (r["livello"], r["territorio"])
        ids = {}
        for col, pop in cols.items():
            present[pop].add(place)
            ids[col] = var(("pop", pop, *place))
            if not r["soppresso"] and r[col] is not None:
                known[ids[col]] = float(r[col])
        mult = multipliers.get(r["indicatore"])
        if mult and not r["soppresso"] and r["valore"] is not None and len(ids) == 2:
            # numeratore - valore / mult x denominatore = 0
            equations.append(({ids["numeratore"]: 1.0, ids["denominatore"]: -float(r["valore"]) / mult}, 0.0))
    # hierarchy: parent - sum of children = 0, for every population
    for pop, places in present.items():
        comuni = {t for lv, t in places if lv == "comune"}
        subs = {t for lv, t in places if lv == "sub_ambito"}
        for s in subs:
            kids = [c for c in comuni if hierarchy.get(c) == s]
            if kids:
                eq = {var(("pop", pop, "sub_ambito", s)): 1.0}
                eq.update({var(("pop", pop, "comune", c)): -1.0 for c in kids})
                equations.append((eq, 0.0))
        if ("ambito", "AMBITO") in places:
            kids = [("sub_ambito", s) for s in subs] + [("comune", c) for c in comuni if hierarchy.get(c) not in subs]
            if kids:
                eq = {var(("pop", pop, "ambito", "AMBITO")): 1.0}
                eq.update({var(("pop", pop, *k)): -1.0 for k in kids})
                equations.append((eq, 0.0))
    # nested populations: big - small - difference = 0
    pops = sorted(present, key=repr)
    for small in pops:
        for big in pops:
            if not contains(small, big):
                continue
            places = sorted(present[small] & present[big])
            diffs = []
            for place in places:
                d = var(("diff", (big, small), *place))
                equations.append(({var(("pop", big, *place)): 1.0, var(("pop", small, *place)): -1.0, d: -1.0}, 0.0))
                b, s = index[("pop", big, *place)], index[("pop", small, *place)]
                if b in known and s in known:
                    known[d] = known[b] - known[s]
                diffs.append(d)
            published = [known[d] for d in diffs if d in known]
            if guess and published and all(v == 0 for v in published):
                for d in diffs:
                    known[d] = 0.0
    solved = _solve(index, known, equations)
    solved.update({key: known[i] for key, i in index.items() if i in known})
    found = []
    for r in rows:
        if not r["soppresso"]:
            continue
        for col, pop in populations[r["indicatore"]].items():
            key = ("pop", pop, r["livello"], r["territorio"])
            if key in solved:
                found.append(Recovered(r["indicatore"], col, pop, anno, r["livello"], r["territorio"], solved[key]))
    return found


def _solve(index: dict[tuple, int], known: dict[int, float], equations) -> dict[tuple, float]:
    """The hidden unknowns the equations determine, with their values (per connected block)."""
    keys = {i: k for k, i in index.items()}
    hidden = sorted(i for i in keys if i not in known)
    # reduce every equation to its hidden unknowns; group them in connected blocks (union-find)
    parent = {i: i for i in hidden}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    reduced = []
    for coef, const in equations:
        h = {i: c for i, c in coef.items() if i not in known}
        if not h:
            continue
        rhs = const - sum(c * known[i] for i, c in coef.items() if i in known)
        reduced.append((h, rhs))
        first, *rest = h
        for i in rest:
            a, b = find(first), find(i)
            if a != b:
                parent[max(a, b)] = min(a, b)
    blocks: dict[int, list[tuple[dict[int, float], float]]] = defaultdict(list)
    for h, rhs in reduced:
        blocks[find(next(iter(h)))].append((h, rhs))
    out: dict[tuple, float] = {}
    for eqs in blocks.values():
        cols = sorted({i for h, _ in eqs for i in h})
        pos = {i: j for j, i in enumerate(cols)}
        a = np.zeros((len(eqs), len(cols)))
        b = np.zeros(len(eqs))
        for r, (h, rhs) in enumerate(eqs):
            for i, c in h.items():
                a[r, pos[i]] = c
            b[r] = rhs
        _, s, vt = np.linalg.svd(a)
        rank = int((s > 1e-9 * max(1.0, s.max(initial=0.0))).sum())
        null = vt[rank:]
        x = np.linalg.lstsq(a, b, rcond=None)[0]
        for i, j in pos.items():
            if null.shape[0] == 0 or np.abs(null[:, j]).max() < 1e-9:
                out[keys[i]] = float(x[j])
    return out
