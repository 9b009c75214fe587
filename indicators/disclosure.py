"""Disclosure control (data contract, section 4): what audiences other than the Ufficio di Piano may see.

Primary suppression: a cell is hidden when one of its counts of persons or
households is between 1 and k-1: the numerator, the denominator when it counts
persons (or records of persons), and, for shares of persons, the complement
denominator - numerator. Zero is not hidden (nobody is described). Population
denominators are public and never cause suppression by themselves.

Secondary suppression: within each indicator and year, the hierarchy gives the
equations  sub-ambito = sum of its comuni  and  ambito = sum of the sub-ambiti
(ambito = sum of all comuni follows from these). An equation with exactly one
hidden cell would give it back by subtraction, so one more cell of that
equation is hidden, and this repeats until no equation has exactly one hidden
cell (a fixed point). In a two-level hierarchy this is enough: every hidden
cell then lies on a chain of equations with two hidden cells each, so it
cannot be computed from the published ones (a test checks this with linear
algebra on random hierarchies). The extra cell is chosen deterministically:
first a cell already hidden in another year of the same indicator and
territory (stable patterns across years), then the smallest count, then the
territory code; when the only hidden cell is a child and no other child is
published, the parent is hidden.

Suppressed rows keep their place in the table with `soppresso=True` and
numeratore/denominatore/valore null: they are shown as a marker, never as 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import polars as pl

Key = tuple[str, int, str, str]  # indicatore, anno, livello, territorio
COUNT_COLUMNS_DEFAULT: tuple[tuple[str, ...], bool] = (("numeratore",), False)


def _count_spec(count_columns: Mapping[str, tuple[tuple[str, ...], bool]] | None, ids: list[str]) -> dict:
    if count_columns is not None:
        return {i: count_columns.get(i, COUNT_COLUMNS_DEFAULT) for i in ids}
    from indicators.definitions import by_id

    known = by_id()
    return {
        i: ((known[i].colonne_conteggio, known[i].complemento) if i in known else COUNT_COLUMNS_DEFAULT) for i in ids
    }


def _default_hierarchy() -> dict[str, str]:
    from core import territory

    sub = territory.sub_ambiti_file()
    return dict(zip(sub["comune"].to_list(), sub["sub_ambito"].to_list()))


def is_small(count: float | None, k: int) -> bool:
    """1 <= count <= k-1 (a count that could single out a person)."""
    return count is not None and 0 < count < k


def primary_cells(df: pl.DataFrame, k_by_indicator: Mapping[str, int], spec: Mapping) -> set[Key]:
    """Cells with a count of persons in 1..k-1 (numerator, person denominator, complement)."""
    hidden: set[Key] = set()
    for row in df.iter_rows(named=True):
        ind = row["indicatore"]
        k = k_by_indicator.get(ind, 0)
        cols, complement = spec[ind]
        if k <= 1 or not cols:
            continue
        counts = [row[c] for c in cols]
        if complement and row["numeratore"] is not None and row["denominatore"] is not None:
            counts.append(row["denominatore"] - row["numeratore"])
        if any(is_small(c, k) for c in counts):
            hidden.add((ind, row["anno"], row["livello"], row["territorio"]))
    return hidden


def secondary_cells(
    df: pl.DataFrame,
    hidden: set[Key],
    hierarchy: Mapping[str, str],
    spec: Mapping,
) -> set[Key]:
    """Extend `hidden` until no hierarchy equation has exactly one hidden cell (see module docstring)."""
    hidden = set(hidden)
    size: dict[Key, float] = {}
    years_of: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    present: dict[tuple[str, int], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in df.iter_rows(named=True):
        key = (row["indicatore"], row["anno"], row["livello"], row["territorio"])
        cols, _ = spec[row["indicatore"]]
        values = [row[c] for c in cols if row[c] is not None]
        size[key] = min(values) if values else 0.0
        years_of[(row["indicatore"], row["livello"], row["territorio"])].append(row["anno"])
        present[(row["indicatore"], row["anno"])][row["livello"]].add(row["territorio"])

    # The equations of each indicator and year: (parent, children), children non-empty.
    equations: list[tuple[Key, list[Key]]] = []
    for (ind, anno), levels in sorted(present.items()):
        if not spec[ind][0]:
            continue
        comuni, subs = levels.get("comune", set()), levels.get("sub_ambito", set())
        for sub in sorted(subs):
            children = sorted(c for c in comuni if hierarchy.get(c) == sub)
            if children:
                equations.append(((ind, anno, "sub_ambito", sub), [(ind, anno, "comune", c) for c in children]))
        if "AMBITO" in levels.get("ambito", set()):
            # ambito = its sub-ambiti + any comune outside them (all comuni when there is no sub-ambito level)
            orphans = sorted(c for c in comuni if hierarchy.get(c) not in subs)
            children = [(ind, anno, "sub_ambito", s) for s in sorted(subs)] + [
                (ind, anno, "comune", c) for c in orphans
            ]
            if children:
                equations.append(((ind, anno, "ambito", "AMBITO"), children))

    def hidden_elsewhere(key: Key) -> bool:
        ind, anno, livello, terr = key
        return any((ind, y, livello, terr) in hidden for y in years_of[(ind, livello, terr)] if y != anno)

    def preference(key: Key) -> tuple:
        return (not hidden_elsewhere(key), size.get(key, 0.0), key[3])

    changed = True
    while changed:
        changed = False
        for parent, children in equations:
            cells = [parent, *children]
            hidden_here = [c for c in cells if c in hidden]
            if len(hidden_here) != 1:
                continue
            candidates = [c for c in children if c not in hidden]
            if not candidates:  # the only hidden cell is the single child: hide the parent
                candidates = [parent]
            hidden.add(min(candidates, key=preference))
            changed = True
    return hidden


def suppress_small_cells(
    df: pl.DataFrame,
    k_by_indicator: Mapping[str, int],
    hierarchy: Mapping[str, str] | None = None,
    count_columns: Mapping[str, tuple[tuple[str, ...], bool]] | None = None,
) -> pl.DataFrame:
    """The table with primary and secondary suppression applied (contract section 4).

    `k_by_indicator`: the threshold k of each indicator; indicators absent or with k <= 1 are not
    suppressed (e.g. residents per social worker, which counts no assisted person).
    `hierarchy`: comune -> sub-ambito (default: the territory file of the ambito).
    `count_columns`: per indicator, (columns that count persons, whether denominatore - numeratore
    counts persons too); default from the catalog. Suppressed rows get `soppresso=True` and null
    numeratore, denominatore and valore.
    """
    if df.is_empty():
        return df
    ids = df["indicatore"].unique().to_list()
    spec = _count_spec(count_columns, ids)
    hierarchy = _default_hierarchy() if hierarchy is None else hierarchy
    relevant = [i for i in ids if k_by_indicator.get(i, 0) > 1 and spec[i][0]]
    part = df.filter(pl.col("indicatore").is_in(relevant))
    hidden = secondary_cells(part, primary_cells(part, k_by_indicator, spec), hierarchy, spec)
    if not hidden:
        return df.with_columns(pl.col("soppresso").fill_null(False)) if "soppresso" in df.columns else df
    marks = pl.DataFrame(
        [list(h) for h in hidden],
        schema={"indicatore": pl.String, "anno": df.schema["anno"], "livello": pl.String, "territorio": pl.String},
        orient="row",
    ).with_columns(pl.lit(True).alias("_hide"))
    out = df.join(marks, on=["indicatore", "anno", "livello", "territorio"], how="left", maintain_order="left")
    hide = pl.col("_hide").fill_null(False)
    return out.with_columns(
        *(pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in ("numeratore", "denominatore", "valore")),
        (hide | pl.col("soppresso").fill_null(False)).alias("soppresso")
        if "soppresso" in df.columns
        else hide.alias("soppresso"),
    ).drop("_hide")
