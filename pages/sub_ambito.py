"""Sub-ambito: its comuni with hub and spokes, population, équipe, social workers vs LEPS, indicators."""

from __future__ import annotations

import polars as pl
import streamlit as st

from indicators import alternatives, charts, fmt, maps, views
from ui import figures, session, tables
from ui.alternatives import CHART, MAP, chart_data
from ui.banners import banners
from ui.downloads import report_downloads
from ui.filters import frame
from ui.geo import map_config, published_geojson

f = frame(page="Sub-ambito")
subs = f.territories.select("sub_ambito", "nome_sub_ambito", "pilota", "provvisorio").unique("sub_ambito")
code = f.sub_ambito or subs.sort("sub_ambito")["sub_ambito"][0]
info = subs.filter(pl.col("sub_ambito") == code).row(0, named=True)
st.title(f"Sub-ambito {info['nome_sub_ambito']} ({code})")
banners(f)
if not f.sub_ambito:
    st.info("Scegliere un sub-ambito nella barra laterale; è mostrato il primo.")
report_downloads(f, code)

comuni = f.territories.filter(pl.col("sub_ambito") == code)
left, right = st.columns([3, 2])
with left:
    sub_table = session.sub_ambiti_table(f)
    sedi = session.sedi(f).filter(pl.col("sub_ambito") == code)
    if f.access.sees_comuni:
        values = comuni.select(
            pl.col("comune").alias("territorio"),
            "nome",
            pl.col("residenti").cast(pl.Float64).alias("valore"),
            pl.lit(False).alias("soppresso"),
            "residenti",
        )
        fig = figures.cached(  # residents: context, neither better nor worse (a neutral scale)
            f,
            ("residents_map", code),
            maps.choropleth,
            values,
            sub_table.filter(pl.col("sub_ambito") == code),
            "comune",
            "residenti",
            direzione=None,
            sedi=sedi,
            publish=published_geojson,
        )
    else:  # the Regione: sub-ambiti only, this one outlined
        values = (
            f.territories.group_by("sub_ambito")
            .agg(
                pl.col("nome_sub_ambito").first().alias("nome"),
                pl.col("residenti").sum().cast(pl.Float64).alias("valore"),
            )
            .select(pl.col("sub_ambito").alias("territorio"), "nome", "valore", pl.lit(False).alias("soppresso"))
        )
        fig = figures.cached(
            f,
            ("residents_map", code),
            maps.choropleth,
            values,
            sub_table,
            "sub_ambito",
            "residenti",
            direzione=None,
            highlight=code,
            sedi=sedi,
            publish=published_geojson,
        )
    st.plotly_chart(
        fig, key="sub_map", config=map_config(), alt=f"Mappa dei residenti e delle sedi. Valori in «{MAP}»."
    )
    st.caption(
        f"{comuni.height} comuni, {fmt.number(comuni['residenti'].sum())} residenti (ISTAT). "
        + ("Sub-ambito pilota del nuovo modello." if info["pilota"] else "Non ancora nel pilota.")
    )
    level = "comune" if f.access.sees_comuni else "sub_ambito"
    chart_data(MAP, alternatives.map_table(values, "residenti", level=level), "residenti (ISTAT)")
with right:
    pyramid = session.population_pyramid(f, comuni["comune"].to_list())
    st.plotly_chart(
        figures.cached(f, ("pyramid", code), charts.population_pyramid, pyramid, title="Popolazione per età e sesso"),
        key="pyramid",
        alt=f"Piramide della popolazione per età e sesso. Valori in «{CHART}».",
    )
    chart_data(CHART, alternatives.pyramid_table(pyramid), "popolazione per età e sesso")

st.subheader("Équipe multidisciplinare")
staff = session.equipe(f)
left, right = st.columns(2)
with left:
    names = dict(subs.select("sub_ambito", "nome_sub_ambito").iter_rows())  # sub-ambiti by name, not SA1…SA6
    named = staff.with_columns(pl.col("sub_ambito").replace_strict(names, default=pl.col("sub_ambito")))
    st.plotly_chart(
        figures.cached(
            f, ("equipe", session.equipe_date(f.year)), charts.equipe, named, title="FTE per profilo e sub-ambito"
        ),
        key="equipe",
        alt=f"Équipe per profilo e sub-ambito, in FTE. Valori in «{CHART}».",
    )
    chart_data(CHART, alternatives.equipe_table(named), "FTE per profilo e sub-ambito")
with right:
    per_as = views.level_values(f.table, f.territories, "org_residenti_per_as", f.year, "sub_ambito")
    st.plotly_chart(
        figures.cached(
            f,
            ("per_as", f.year),
            charts.residents_per_worker,
            per_as,
            title=f"Residenti per assistente sociale ({f.year})",
        ),
        key="per_as",
        alt=f"Residenti per assistente sociale per sub-ambito, con il limite LEPS. Valori in «{CHART}».",
    )
    chart_data(CHART, alternatives.per_worker_table(per_as), f"residenti per assistente sociale ({f.year})")
own = staff.filter(pl.col("sub_ambito") == code)
tables.summary(
    pl.DataFrame(
        {
            "Profilo": [fmt.PROFILE_LABELS.get(p, p) for p in own["profilo"]],
            "Contratto": [fmt.CONTRACT_LABELS.get(c, c) for c in own["contratto"]],
            "Persone": [fmt.number(n) for n in own["persone"]],
            "FTE (tempo pieno equivalente)": [fmt.number(v, 1) for v in own["fte"]],
        }
    ),
    empty="Nessun operatore in servizio in questo sub-ambito nell'anno scelto.",
)
SEDI = {"HUB": "sede principale", "SPOKE": "sportello"}
st.caption(
    "Sedi: "
    + (", ".join(f"{r['nome']} ({SEDI.get(r['tipo'], r['tipo'])})" for r in sedi.iter_rows(named=True)) or "nessuna")
)

st.subheader(f"Indicatori del sub-ambito rispetto all'ambito ({f.year})")
comparison = views.territory_comparison(f.table, f.year, "-", code)
shown = views.comparison_display(comparison, f.name_of(code), with_comune=False)
tables.summary(shown, empty=f"Nessun indicatore calcolato per il {f.year}.")
