"""Disclosure control (data contract, section 4): what audiences other than the Ufficio di Piano may see.

The protection holds for the whole public table at once, not indicator by indicator.

Populations. Every published additive column says what it counts: a `Population` (unit - persona,
nucleo, record, or ore for hours -, interventions, event, ages, conditions), read from the catalog's
measure (`layout_of`). Two columns with the same population publish the same number (the ADI
assessments with a request date are the denominator of `poverta_adi_valutati_120gg` and of
`poverta_adi_giorni_attesa`); a population can lie within another (the persons 65+ with SAD within
the persons with SAD; the numerator of a share within its denominator), and then the difference
B - A counts persons too.

Linked groups. Indicators that share a population, or whose populations lie one within the other,
form one group (`linked_groups`), and the cell of a group for a year and territory is ONE cell: it
is hidden or published as a whole, in every indicator of the group. Hiding a row hides all its
columns, so the link is transitive (a numerator shared with one indicator and a denominator with
another put all three in the group).

Primary suppression: a group cell is hidden when one of its counts of persons, households or records
of persons is between 1 and k-1 (k: the largest of the indicators publishing that count): a count
column, or the difference B - A of two nested populations (for a share: denominatore - numeratore).
Zero is not hidden (nobody is described). Population denominators (ISTAT residents) are public and
never cause suppression by themselves; a rate over them is hidden with its numerator.

Secondary suppression: for each group and year, the hierarchy gives the equations
sub-ambito = sum of its comuni, ambito = sum of the sub-ambiti, and (implied) ambito = sum of all
comuni; all the group's populations obey them with the same hidden cells. Two rules are enforced
until nothing changes (a fixed point):

1. no equation has exactly one hidden cell (it would come back by subtraction). In a two-level
   hierarchy this is enough for no hidden cell to be determined by any combination of published
   numbers, sums and the identities between indicators: every hidden cell lies on a chain of
   equations with two hidden cells each, and the same change along the chain works for every
   population of the group at once (tests/indicators/test_disclosure.py checks this with linear
   algebra on random tables of many indicators);
2. when the total of an equation is published, the hidden cells of that equation must not add up
   to 1..k-1 persons for any population (their sum is known by subtraction).

The extra cell is chosen deterministically among the published cells of the equation: first a cell
already hidden in another year of the same group and territory (stable patterns across years), then
one that brings the hidden sum to k or more, then the smallest count, then the territory code; when
no child is left, the total (parent) is hidden. All equations are processed at once, with numpy, in
rounds: the work grows with the number of cells, not with their square.

Suppressed rows keep their place in the table with `soppresso=True` and numeratore/denominatore/valore
null: they are shown as a marker, never as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

COUNT_UNITS = ("persona", "nucleo", "record")  # units that describe people: primary suppression applies
HOURS = "ore"  # an additive quantity (hours of a service): protected by secondary suppression only
EVENTS_WITHIN = {"attivo": {"attivo"}, "inizio": {"inizio", "attivo"}, "fine": {"fine", "attivo"}}
Layout = Mapping[str, Mapping[str, "Population"]]  # indicator -> published column -> population
COUNT_COLUMNS_DEFAULT: tuple[tuple[str, ...], bool] = (("numeratore",), False)


@dataclass(frozen=True)
class Population:
    """What a published column counts, for a year and territory (the link key of disclosure control)."""

    unita: str  # persona | nucleo | record | ore
    interventi: tuple[str, ...]
    evento: str = "attivo"  # attivo | inizio | fine
    eta_min: int | None = None
    eta_max: int | None = None
    condizioni: tuple[str, ...] = ()  # further conditions on the records (more conditions = fewer units)
    # populations this one is declared to lie within although the description does not show it (the
    # catalog's `complemento: true` on a ratio of two interventions); not part of the identity
    dentro: tuple[Population, ...] = field(default=(), compare=False)

    @classmethod
    def of(
        cls,
        unita: str,
        interventi,
        evento: str = "attivo",
        eta_min: int | None = None,
        eta_max: int | None = None,
        condizioni=(),
    ) -> Population:
        return cls(unita, tuple(sorted(set(interventi))), evento, eta_min, eta_max, tuple(sorted(set(condizioni))))

    @property
    def persone(self) -> bool:
        """True when it counts persons, households or records of persons (primary suppression applies)."""
        return self.unita in COUNT_UNITS

    def within(self, other: Population) -> bool:
        """Every unit counted here is counted by `other` (same territory and year); False when equal."""
        if self == other or self.unita != other.unita or not self.persone:
            return False
        if any(d == other or d.within(other) for d in self.dentro):
            return True
        ages = (other.eta_min is None or (self.eta_min is not None and self.eta_min >= other.eta_min)) and (
            other.eta_max is None or (self.eta_max is not None and self.eta_max <= other.eta_max)
        )
        return (
            set(self.interventi) <= set(other.interventi)
            and other.evento in EVENTS_WITHIN.get(self.evento, {self.evento})
            and ages
            and set(self.condizioni) >= set(other.condizioni)
        )

    def __str__(self) -> str:
        ages = "" if self.eta_min is None and self.eta_max is None else f" età {self.eta_min or 0}-{self.eta_max or ''}"
        cond = f" [{', '.join(self.condizioni)}]" if self.condizioni else ""
        return f"{self.unita} {'+'.join(self.interventi)} {self.evento}{ages}{cond}"


# --- what each measure kind counts (indicators/kinds: KIND.counts) -------------------------------


def _distinct_units_rate(m: dict) -> dict[str, Population]:
    return {
        "numeratore": Population.of(
            m["unita_conteggio"], m["interventi"], m["evento"], m.get("eta_min"), m.get("eta_max")
        )
    }


def _record_share(m: dict) -> dict[str, Population]:
    den = {"data_richiesta"} if m.get("richiede_data_richiesta") else set()
    num = set(den)
    if m.get("giorni_max") is not None:  # a record without the request date never meets the delay
        num |= {"data_richiesta", f"giorni_max={m['giorni_max']}"}
    if m.get("esito") is not None:
        num.add(f"esito={m['esito']}")
    return {
        "numeratore": Population.of("record", m["interventi"], m["evento"], condizioni=num),
        "denominatore": Population.of("record", m["interventi"], m["evento"], condizioni=den),
    }


def _units_ratio(m: dict) -> dict[str, Population]:
    return {
        c: Population.of(m["unita_conteggio"], m[c]["interventi"], m[c]["evento"])
        for c in ("numeratore", "denominatore")
    }


def _median_days(m: dict) -> dict[str, Population]:
    return {"denominatore": Population.of("record", m["interventi"], m["evento"], condizioni={"data_richiesta"})}


def _hours_per_user(m: dict) -> dict[str, Population]:
    return {
        "numeratore": Population.of(HOURS, m["interventi"]),
        "denominatore": Population.of("persona", m["interventi"]),
    }


# The persons in care with ANY intervention (units_per_fte without `interventi`). Every other count of
# persons lies within them, but they are not declared so: linking them would put every indicator on persons
# in one group, so that a small cell of one service would hide the same comune in every other service. What
# is given up: the difference "persons in care minus the persons of one service" of a sub-ambito, which is
# published by subtraction and is never checked; in an ambito it counts hundreds of persons (the demo at
# scale 1: at least 774, SA6 2023; tests/indicators/test_disclosure.py attacks the demo's public table with
# the true nesting and recovers nothing). With an explicit `interventi` list the population is
# the true one and nests like any other.
ANY_INTERVENTION = "*qualsiasi*"
ACCESSI = "accessi"  # the register of contacts: outside the interventions' codes, so nothing nests in it


def _units_per_fte(m: dict) -> dict[str, Population]:
    return {"numeratore": Population.of("persona", m.get("interventi") or [ANY_INTERVENTION])}


def _contact_rate(m: dict) -> dict[str, Population]:
    return {"numeratore": Population.of("record", [ACCESSI])}  # every contact of the year (any sede)


def _contact_share(m: dict) -> dict[str, Population]:
    # the contacts at a sede lie within every contact (org_accessi_1000), those at a spoke within them
    return {
        "numeratore": Population.of("record", [ACCESSI], condizioni=["sede", "sede=SPOKE"]),
        "denominatore": Population.of("record", [ACCESSI], condizioni=["sede"]),
    }


def _contact_days(m: dict) -> dict[str, Population]:
    # persons (not contacts) with their first contact in the year and a later first intervention
    return {
        "denominatore": Population.of("persona", [ACCESSI], "inizio", condizioni=["primo_contatto", "intervento_dopo"])
    }


# Kinds absent here publish no count of persons (staff, coverage): nothing to link.
POPULATIONS: dict[str, Callable[[dict], dict[str, Population]]] = {
    "distinct_units_rate": _distinct_units_rate,
    "record_share": _record_share,
    "units_ratio": _units_ratio,
    "median_days": _median_days,
    "hours_per_user": _hours_per_user,
    "units_per_fte": _units_per_fte,
    "contact_rate": _contact_rate,
    "contact_share": _contact_share,
    "contact_days": _contact_days,
}


def _private(indicator: str, cols: tuple[str, ...], complement: bool) -> dict[str, Population]:
    """Populations linked to nothing else (a kind without a rule, or a literal test table)."""
    out = {c: Population.of("persona", [f"{indicator}.{c}"]) for c in cols}
    if complement and "denominatore" in out:
        # the numerator of a share of persons lies within its denominator: the difference counts persons too
        out["numeratore"] = Population.of("persona", [f"{indicator}.denominatore"], condizioni=["numeratore"])
    return out


def layout_of(entry) -> dict[str, Population]:
    """The published additive columns of a catalog entry and what they count ({} when it counts no person)."""
    if not entry.conteggio_persone:
        return {}
    rule = POPULATIONS.get(entry.tipo)
    if rule is None:
        return _private(entry.id, entry.colonne_conteggio, entry.complemento)
    out = dict(rule(entry.misura))
    num, den = out.get("numeratore"), out.get("denominatore")
    if entry.complemento and num is not None and den is not None and not num.within(den):
        # the catalog says the numerator's units are among the denominator's: their difference counts too
        out["numeratore"] = replace(num, dentro=(*num.dentro, den))
    return out


def catalog_layout() -> dict[str, dict[str, Population]]:
    from indicators.definitions import catalog

    return _share_nesting({e.id: layout_of(e) for e in catalog()})


def linked_groups(layout: Layout) -> dict[str, str]:
    """indicator -> its group (named after its first indicator id): indicators publishing the same
    population, or populations one within the other, are suppressed together."""
    parent = {i: i for i in layout}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holders: dict[Population, list[str]] = {}
    for ind in sorted(layout):
        for pop in layout[ind].values():
            holders.setdefault(pop, []).append(ind)
    pops = sorted(holders, key=repr)
    pairs = [(a, b) for a in pops for b in pops if a == b or a.within(b)]
    for a, b in pairs:
        for i in holders[a] + holders[b]:
            ra, rb = find(holders[a][0]), find(i)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in layout}


def is_small(count: float | None, k: int) -> bool:
    """1 <= count <= k-1 (a count that could single out a person)."""
    return count is not None and 0 < count < k


# --- the suppression ------------------------------------------------------------------------


def _default_hierarchy() -> dict[str, str]:
    from core import territory

    sub = territory.sub_ambiti_file()
    return dict(zip(sub["comune"].to_list(), sub["sub_ambito"].to_list()))


def _layout_for(ids: list[str], count_columns, layout: Layout | None) -> dict[str, Mapping[str, Population]]:
    if layout is not None:
        return _share_nesting({i: layout.get(i, {}) for i in ids})
    if count_columns is not None:
        return {i: _private(i, *count_columns.get(i, COUNT_COLUMNS_DEFAULT)) for i in ids}
    from indicators import definitions

    entries = definitions.by_id()
    return _share_nesting(
        {i: layout_of(entries[i]) if i in entries else _private(i, *COUNT_COLUMNS_DEFAULT) for i in ids}
    )


def _share_nesting(layout: dict[str, Mapping[str, Population]]) -> dict[str, Mapping[str, Population]]:
    """Equal populations carry every nesting declared on any of them (sets keep only one of equals)."""
    declared: dict[Population, tuple[Population, ...]] = {}
    for cs in layout.values():
        for p in cs.values():
            declared[p] = tuple(dict.fromkeys((*declared.get(p, ()), *p.dentro)))
    return {i: {c: replace(p, dentro=declared[p]) for c, p in cs.items()} for i, cs in layout.items()}


@dataclass
class _Cells:
    """The group cells (one per group, year and territory) and their equations, as numpy arrays."""

    frame: pl.DataFrame  # gid, group, anno, livello, territorio
    values: np.ndarray  # [gid, local population] count of persons (nan: not published there)
    k: np.ndarray  # [gid, local population] threshold (0: not a count of persons)
    eq_parent: np.ndarray  # [eq] gid of the total
    eq_level: np.ndarray  # [eq] 0: a sub-ambito total, 1: the ambito total
    m_eq: np.ndarray  # [membership] equation
    m_gid: np.ndarray  # [membership] child gid
    series: np.ndarray  # [gid] id of (group, livello, territorio): the same cell in other years
    rank: np.ndarray  # [gid] order of the territory code

    size: np.ndarray  # [gid] the smallest published count of the cell (differences left out)

    def __post_init__(self) -> None:
        self.counts = np.nan_to_num(self.values)
        self.eq_k = self.k[self.eq_parent]  # the thresholds of the equation's populations


def _cells(part: pl.DataFrame, layout, groups: dict[str, str], k_by: Mapping[str, int], hierarchy) -> _Cells:
    # the populations of each group, with the differences of nested ones, as local columns
    pops = {p for cs in layout.values() for p in cs.values() if p.persone}
    pop_k = {p: max(k_by.get(i, 0) for i, cs in layout.items() if p in cs.values()) for p in pops}
    local: dict[tuple[str, Population], int] = {}
    diffs: list[tuple[str, int, int, int]] = []  # group, small column, big column, difference column
    for g in sorted(set(groups.values())):
        members = sorted({p for i, cs in layout.items() if groups[i] == g for p in cs.values() if p.persone}, key=repr)
        local.update({(g, p): j for j, p in enumerate(members)})
        extra = len(members)
        for small, big in ((a, b) for a in members for b in members if a.within(b)):
            diffs.append((g, local[(g, small)], local[(g, big)], extra))
            extra += 1
    width = max([1] + [j + 1 for j in local.values()] + [d[3] + 1 for d in diffs])

    # long table: one row per published count: its group cell, local column, value, threshold
    cols = [c for c in ("numeratore", "denominatore") if c in part.columns]
    mapping = pl.DataFrame(
        [
            (i, c, local[(groups[i], p)], float(pop_k[p]))
            for i, cs in layout.items()
            for c, p in cs.items()
            if c in cols and p.persone
        ],
        schema={"indicatore": pl.String, "colonna": pl.String, "col": pl.Int64, "kp": pl.Float64},
        orient="row",
    )
    keys = ["anno", "livello", "territorio"]
    grouped = part.select(
        pl.col("indicatore").replace_strict(groups, return_dtype=pl.String).alias("group"),
        "indicatore",
        *keys,
        *[pl.col(c).cast(pl.Float64) for c in cols],
    )
    frame = grouped.select("group", *keys).unique(maintain_order=True).with_row_index("gid")
    frame = frame.with_columns(pl.col("gid").cast(pl.Int64))
    cells = (
        grouped.join(frame, on=["group", *keys], how="inner")
        .unpivot(on=cols, index=["gid", "indicatore"], variable_name="colonna", value_name="v")
        .join(mapping, on=["indicatore", "colonna"], how="inner")
        .filter(pl.col("v").is_not_null() & ~pl.col("v").is_nan())
    )
    n = frame.height
    values = np.full((n, width), np.nan)
    kk = np.zeros((n, width))
    gid, col = cells["gid"].to_numpy(), cells["col"].to_numpy()
    values[gid, col] = cells["v"].to_numpy()  # twins publish the same number
    kk[gid, col] = cells["kp"].to_numpy()
    size = np.where(np.isnan(values) | (kk == 0), np.inf, values).min(axis=1)
    size = np.where(np.isinf(size), 0.0, size)
    group_of = frame["group"].to_numpy()
    for g, a, b, d in diffs:
        rows = np.flatnonzero((group_of == g) & ~np.isnan(values[:, a]) & ~np.isnan(values[:, b]))
        values[rows, d] = values[rows, b] - values[rows, a]
        kk[rows, d] = np.maximum(kk[rows, a], kk[rows, b])

    # equations: (parent, children) per group and year
    sub_of = pl.DataFrame(
        {"territorio": list(hierarchy), "_sub": list(hierarchy.values())},
        schema={"territorio": pl.String, "_sub": pl.String},
    )
    subs = frame.filter(pl.col("livello") == "sub_ambito").select(
        "group", "anno", pl.col("territorio").alias("_sub"), pl.col("gid").alias("_psub")
    )
    amb = frame.filter(pl.col("livello") == "ambito").select("group", "anno", pl.col("gid").alias("_pamb"))
    linked = (
        frame.join(sub_of, on="territorio", how="left")
        .join(subs, on=["group", "anno", "_sub"], how="left")
        .join(amb, on=["group", "anno"], how="left")
    )
    comune = pl.col("livello") == "comune"
    direct = linked.select(
        "gid",
        pl.when(comune)
        .then(pl.coalesce("_psub", "_pamb"))
        .when(pl.col("livello") == "sub_ambito")
        .then(pl.col("_pamb"))
        .alias("parent"),
    ).drop_nulls()
    # implied: ambito = sum of all comuni (when there is a sub-ambito level between them)
    implied = linked.filter(comune & pl.col("_pamb").is_not_null()).select(
        "gid", pl.col("_pamb").alias("parent"), pl.lit(1).alias("family")
    )
    members = pl.concat([direct.with_columns(pl.lit(0).alias("family")), implied], how="vertical_relaxed")
    # (the order of cells and equations does not matter: every choice is ranked by territory code)
    eqs = (
        members.select("parent", "family")
        .unique(maintain_order=True)
        .with_row_index("eq")
        .join(frame.select(pl.col("gid").alias("parent"), "livello"), on="parent", maintain_order="left")
    )
    members = members.join(eqs, on=["parent", "family"])
    series = frame.join(
        frame.select("group", "livello", "territorio").unique(maintain_order=True).with_row_index("_series"),
        on=["group", "livello", "territorio"],
        maintain_order="left",
    )["_series"].to_numpy()
    rank = frame["territorio"].rank("dense").to_numpy()
    return _Cells(
        frame=frame,
        values=values,
        k=kk,
        eq_parent=eqs["parent"].to_numpy().astype(np.int64),
        eq_level=(eqs["livello"] == "ambito").to_numpy().astype(np.int64),
        m_eq=members["eq"].to_numpy().astype(np.int64),
        m_gid=members["gid"].to_numpy().astype(np.int64),
        series=series.astype(np.int64),
        rank=rank.astype(np.int64),
        size=size,
    )


def _small(values: np.ndarray, k: np.ndarray) -> np.ndarray:
    """[..., column] True where a count of persons is 1..k-1 (nan: not published)."""
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < k)


def _secondary(c: _Cells, hidden: np.ndarray) -> np.ndarray:
    """Extend `hidden` (per gid) until both rules of the module docstring hold (a fixed point).

    Each round treats the sub-ambito equations, then (recounted) the ambito ones, so that a sub-ambito
    hidden for the ambito equation also serves its own equation."""
    hidden = hidden.copy()
    while True:
        changed = False
        for level in (0, 1):
            chosen = _partners(c, hidden, c.eq_level == level)
            if chosen.size:
                hidden[chosen] = True
                changed = True
        if not changed:
            return hidden


def _partners(c: _Cells, hidden: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The cells to hide next for the `active` equations that break a rule (one per equation)."""
    n_eq = c.eq_parent.shape[0]
    h_child = hidden[c.m_gid]
    n_hidden = np.bincount(c.m_eq, weights=h_child, minlength=n_eq) + hidden[c.eq_parent]
    sums = np.zeros((n_eq, c.counts.shape[1]))
    np.add.at(sums, c.m_eq[h_child], c.counts[c.m_gid[h_child]])
    open_total = ~hidden[c.eq_parent]
    short = (open_total[:, None] & _small(sums, c.eq_k)).any(axis=1)
    need = active & ((n_hidden == 1) | short)
    if not need.any():
        return np.zeros(0, dtype=np.int64)
    # candidates: the published children of the equations in need, in order of preference
    cand = need[c.m_eq] & ~h_child
    ce, cg = c.m_eq[cand], c.m_gid[cand]
    elsewhere = np.bincount(c.series[hidden], minlength=c.series.max() + 1)[c.series[cg]] > 0
    insufficient = open_total[ce] & _small(sums[ce] + c.counts[cg], c.eq_k[ce]).any(axis=1)
    order = np.lexsort((c.rank[cg], c.size[cg], insufficient, ~elsewhere, ce))
    ce, cg = ce[order], cg[order]
    first = np.r_[True, ce[1:] != ce[:-1]] if ce.size else np.zeros(0, dtype=bool)
    served = np.zeros(n_eq, dtype=bool)
    served[ce] = True
    # an equation with no published child left: hide its total
    parents = c.eq_parent[need & ~served & open_total]
    return np.unique(np.concatenate([cg[first], parents]))


def hidden_cells(
    df: pl.DataFrame,
    k_by_indicator: Mapping[str, int],
    hierarchy: Mapping[str, str],
    layout: Layout,
) -> pl.DataFrame:
    """indicatore, anno, livello, territorio of the rows to hide (primary and secondary suppression)."""
    groups = linked_groups(layout)
    c = _cells(df, layout, groups, k_by_indicator, hierarchy)
    primary = _small(c.values, c.k).any(axis=1)
    hidden = _secondary(c, primary)
    hid = c.frame.filter(pl.Series(hidden)).select("group", "anno", "livello", "territorio")
    rows = df.select("indicatore", "anno", "livello", "territorio").with_columns(
        pl.col("indicatore").replace_strict(groups, return_dtype=pl.String).alias("group")
    )
    return rows.join(hid, on=["group", "anno", "livello", "territorio"], how="semi").drop("group")


def suppress_small_cells(
    df: pl.DataFrame,
    k_by_indicator: Mapping[str, int],
    hierarchy: Mapping[str, str] | None = None,
    count_columns: Mapping[str, tuple[tuple[str, ...], bool]] | None = None,
    layout: Layout | None = None,
) -> pl.DataFrame:
    """The table with primary and secondary suppression applied (contract section 4).

    `k_by_indicator`: the threshold k of each indicator; indicators absent or with k <= 1 are not
    suppressed (e.g. residents per social worker, which counts no assisted person).
    `hierarchy`: comune -> sub-ambito (default: the territory file of the ambito).
    `layout`: per indicator, published column -> `Population` (default: from the catalog, `layout_of`).
    `count_columns` (literal tables): per indicator, (columns that count persons, whether
    denominatore - numeratore counts persons too), each indicator linked to no other.
    Suppressed rows get `soppresso=True` and null numeratore, denominatore and valore.
    """
    if df.is_empty():
        return df
    ids = sorted(df["indicatore"].unique().to_list())
    lay = _layout_for(ids, count_columns, layout)
    hierarchy = _default_hierarchy() if hierarchy is None else hierarchy
    relevant = [i for i in ids if k_by_indicator.get(i, 0) > 1 and any(p.persone for p in lay[i].values())]
    part = df.filter(pl.col("indicatore").is_in(relevant))
    marks = (
        hidden_cells(part, k_by_indicator, hierarchy, {i: lay[i] for i in relevant})
        if not part.is_empty()
        else pl.DataFrame(
            schema={"indicatore": pl.String, "anno": df.schema["anno"], "livello": pl.String, "territorio": pl.String}
        )
    )
    marks = marks.unique().with_columns(pl.lit(True).alias("_hide"))
    out = df.join(marks, on=["indicatore", "anno", "livello", "territorio"], how="left", maintain_order="left")
    hide = pl.col("_hide").fill_null(False)
    previous = pl.col("soppresso").fill_null(False) if "soppresso" in df.columns else pl.lit(False)
    return out.with_columns(
        *(pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ("numeratore", "denominatore", "valore")),
        (hide | previous).alias("soppresso"),
    ).drop("_hide")
