"""Equity across sub-ambiti on a literal table: dispersion, furthest sub-ambito and trend computed by hand.

Residents: SA1 1,000, SA2 2,000, SA3 1,000. Values (ambito value in brackets):

    2024 (baseline): 10, 20, 30 (21)   weighted mean (10,000 + 40,000 + 30,000) / 4,000 = 20,
                     variance (1,000·100 + 0 + 1,000·100) / 4,000 = 50, cv = √50 / 20 = 0.35355,
                     max/min = 3, furthest from 21: SA1 (−11)
    2025:            15, 20, 25 (20)   mean 20, variance (1,000·25 + 1,000·25) / 4,000 = 12.5,
                     cv = √12.5 / 20 = 0.17678 (−50%: "si restringe"), max/min = 5/3
    2026 (partial):  SA2 hidden        no cv, ratio or furthest sub-ambito
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from indicators import equity as eq

RESIDENTS = pl.DataFrame({"sub_ambito": ["SA1", "SA2", "SA3"], "residenti": [1000, 2000, 1000]})


def table(direzione: str = "alto") -> pl.DataFrame:
    rows = []
    data = {2024: ((10, 20, 30), 21, False), 2025: ((15, 20, 25), 20, False), 2026: ((12, None, 25), 19, True)}
    for anno, (vals, amb, partial) in data.items():
        for sa, v in zip(("SA1", "SA2", "SA3"), vals):
            rows.append(
                {
                    "indicatore": "x",
                    "livello": "sub_ambito",
                    "territorio": sa,
                    "anno": anno,
                    "valore": None if v is None else float(v),
                    "parziale": partial,
                    "soppresso": v is None,
                    "direzione": direzione,
                }
            )
        rows.append(
            {
                "indicatore": "x",
                "livello": "ambito",
                "territorio": "AMBITO",
                "anno": anno,
                "valore": float(amb),
                "parziale": partial,
                "soppresso": False,
                "direzione": direzione,
            }
        )
    return pl.DataFrame(rows).with_columns(pl.col("anno").cast(pl.Int32))


def test_dispersion_furthest_and_trend_by_hand() -> None:
    out = eq.equity_table(table(), RESIDENTS, baseline_year=2024, plan_years=(2025, 2026, 2027))
    rows = {r["anno"]: r for r in out.iter_rows(named=True)}
    b = rows[2024]
    assert b["media_ponderata"] == pytest.approx(20.0)
    assert b["cv"] == pytest.approx(math.sqrt(50) / 20)
    assert b["rapporto_max_min"] == pytest.approx(3.0)
    assert (b["sub_ambito_min"], b["valore_min"], b["sub_ambito_max"], b["valore_max"]) == ("SA1", 10, "SA3", 30)
    assert (b["piu_lontano"], b["scarto_piu_lontano"]) == ("SA1", pytest.approx(-11.0))
    assert rows[2025]["cv"] == pytest.approx(math.sqrt(12.5) / 20)
    assert rows[2025]["rapporto_max_min"] == pytest.approx(25 / 15)
    hidden = rows[2026]
    assert hidden["sub_ambiti_nascosti"] == 1 and hidden["cv"] is None and hidden["piu_lontano"] is None
    # the trend compares the last complete plan year (2025; 2026 is partial) with the baseline
    assert {r["tendenza"] for r in rows.values()} == {eq.NARROWS}
    assert (b["anno_confronto"], b["cv_confronto"]) == (2025, pytest.approx(math.sqrt(12.5) / 20))


def test_widening_stable_and_unknown() -> None:
    base = table().filter(pl.col("anno") == 2024)
    wide = base.with_columns(pl.lit(2025, dtype=pl.Int32).alias("anno"), (pl.col("valore") * 1.0).alias("valore"))
    wide = wide.with_columns(
        pl.when(pl.col("territorio") == "SA3").then(40.0).otherwise(pl.col("valore")).alias("valore")
    )  # 10, 20, 40: wider
    same = base.with_columns(pl.lit(2025, dtype=pl.Int32).alias("anno"), (pl.col("valore") * 2).alias("valore"))
    assert eq.equity_table(pl.concat([base, wide]), RESIDENTS, 2024, (2025,))["tendenza"][0] == eq.WIDENS
    # the cv does not depend on the scale: doubling every value leaves it unchanged
    assert eq.equity_table(pl.concat([base, same]), RESIDENTS, 2024, (2025,))["tendenza"][0] == eq.STABLE
    assert eq.equity_table(base, RESIDENTS, 2024, (2025,))["tendenza"][0] == eq.UNKNOWN


def test_gaps_rank_and_direction() -> None:
    gaps = eq.sub_ambito_gaps(table("basso")).filter(pl.col("anno") == 2024)
    got = {r["sub_ambito"]: r for r in gaps.iter_rows(named=True)}
    assert [r["sub_ambito"] for r in gaps.iter_rows(named=True)] == ["SA1", "SA3", "SA2"]  # |−11| > |9| > |−1|
    assert got["SA1"]["scarto"] == pytest.approx(-11) and got["SA1"]["scarto_relativo"] == pytest.approx(-11 / 21)
    # lower is better: SA3 (30 > 21) is the one behind
    assert (got["SA1"]["peggiore"], got["SA3"]["peggiore"]) == (False, True)
