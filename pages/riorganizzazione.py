"""Riorganizzazione: is the new model working, where and for whom? Pilot vs other sub-ambiti, proximity of
the access points (with a what-if), équipe load, equity across sub-ambiti (issue 13, part 5).

Thin: the numbers and sentences come from `indicators.reorganisation` (the functions behind
`python -m indicators evaluate|equity|access`), cached by `ui.reorganisation`.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from core import settings
from indicators import api, evaluation, fmt, maps, proximity
from indicators import reorganisation as rio
from indicators import reorganisation_charts as charts
from ui import reorganisation as data
from ui import session
from ui.banners import banners
from ui.filters import frame
from ui.geo import map_config, published_geojson

f = frame(page="Riorganizzazione")
st.title("Riorganizzazione: il nuovo modello alla prova")
banners(f)
st.markdown(
    "Il nuovo modello sostituisce l'assistente sociale che gira tra i comuni con **un'équipe per sub-ambito**, "
    "un **hub** centrale e sportelli **spoke** vicini ai cittadini, avviati prima in alcuni sub-ambiti pilota. "
    "Qui: se i sub-ambiti pilota vanno meglio degli altri, quanto sono vicini i punti di accesso, quanto sono "
    "carichi gli operatori e se i sub-ambiti si avvicinano o si allontanano tra loro."
)

entries = {e.id: e for e in api.catalog()}
results, sub = data.pilot(f)
names = {k: f"{k} {v}" for k, v in sub.select("sub_ambito", "nome_sub_ambito").unique("sub_ambito").iter_rows()}
names["AMBITO"] = "Ambito"
tab_pilot, tab_access, tab_load, tab_equity = st.tabs(
    ["Pilota e altri sub-ambiti", "Vicinanza dei punti di accesso", "Carico delle équipe", "Equità tra sub-ambiti"]
)

# --- pilot vs others ----------------------------------------------------------------------------
with tab_pilot:
    st.markdown(rio.design_sentence(sub))
    by_id = {r["indicatore"]: r for r in results}
    ids = [i for i in by_id if i in entries]
    if not ids:
        st.info("Nessun indicatore è calcolato per comune: il confronto tra comuni pilota e altri non si può fare.")
    else:
        first = next((i for i in ids if by_id[i]["effetto"] is not None), ids[0])
        chosen = st.selectbox(
            "Indicatore",
            ids,
            index=ids.index(first),
            key="rio_indicatore",
            format_func=lambda i: entries[i].nome + ("" if by_id[i]["effetto"] is not None else " (senza stima)"),
            help="Gli indicatori calcolati per comune. «Senza stima»: il confronto non si può fare o pubblicare "
            "(il motivo è nelle avvertenze).",
        )
        entry, result = entries[chosen], by_id[chosen]
        table = data.full_table(f)
        trends = evaluation.pilot_trends(table, sub, chosen)
        series = rio.sub_ambito_series(table, sub, chosen)
        start = evaluation.pilot_design(sub).start
        st.plotly_chart(
            charts.pilot_chart(trends, series, entry.unita, start, title=f"{entry.nome} ({entry.unita})"),
            key="rio_trend",
            alt=f"Andamento di {entry.nome}: comuni pilota e altri comuni, con l'avvio del pilota. I valori sono "
            "nella tabella qui sotto.",
        )
        notes = [f"Linee spesse: media dei comuni di ciascun gruppo ({entry.unita}); linee sottili: i sub-ambiti."]
        if trends.filter(pl.col("valori_nascosti") > 0).height:
            notes.append(
                "Negli anni senza la media di un gruppo, il valore di qualche comune è nascosto per il segreto "
                "statistico: la media non si può mostrare, i sub-ambiti sì."
            )
        if trends.filter(pl.col("parziale")).height:
            notes.append("L'ultimo anno è in corso (punto vuoto): non entra nel confronto.")
        st.caption(" ".join(notes))
        with st.expander("Dati del grafico: i valori per anno, gruppo e sub-ambito"):
            st.dataframe(rio.trends_display(trends, series, entry.unita), hide_index=True, width="stretch")

        st.subheader("La stima: il pilota ha fatto la differenza?")
        if result["effetto"] is not None:
            level = result["livello_confidenza"]
            c1, c2, c3 = st.columns(3)
            c1.metric(
                "Effetto stimato",
                rio.with_unit(rio.num(result["effetto"], entry.unita, True), entry.unita),
                help="Variazione nei comuni pilota meno variazione negli altri comuni (dopo − prima).",
            )
            low, high = (rio.num(result[k], entry.unita, True) for k in ("ic_basso", "ic_alto"))
            interval = "non calcolabile" if result["ic_basso"] is None else f"{low} … {high}"
            c2.metric(f"Intervallo ({fmt.number((level or 0) * 100, 1)}%)", interval)
            c3.metric("p-value", rio.p_text(result["p_value"]))
        for line in rio.pilot_reading(result, entry, sub):
            st.markdown(line)
        limit = rio.p_min_sentence(sub)
        if limit:
            st.info(limit, icon=":material/info:")
        if result["avvertenze"]:
            with st.expander("Avvertenze su questa stima", expanded=result["effetto"] is None):
                for note in result["avvertenze"]:
                    st.markdown(f"- {note}")
        with st.expander("Tutti gli indicatori: stima, intervallo e p-value"):
            st.dataframe(
                rio.pilot_overview_display(rio.pilot_overview(results, entries)), hide_index=True, width="stretch"
            )
            st.caption(
                "Metodo: differenza nelle differenze per comune, ogni comune pesato con il suo denominatore; p-value e "
                "intervallo per randomizzazione su tutte le scelte possibili dei sub-ambiti pilota."
            )

# --- proximity of the access points ---------------------------------------------------------------
with tab_access:
    default = settings.access_threshold_minutes()
    soglia = st.slider(
        "Soglia in minuti",
        min_value=1,
        max_value=max(60, int(round(default))),
        value=max(1, int(round(default))),
        step=1,
        key="rio_soglia",
        help="Oltre quanti minuti un punto di accesso è considerato lontano "
        f"(predefinita: {rio.threshold_text(default)}).",
    )
    per_comune = data.nearest(f, soglia)
    summary = proximity.access_summary(per_comune)
    line_only = per_comune.filter(pl.col("metodo") == proximity.LINEA_ARIA).height == per_comune.height
    for note in proximity.method_notes(per_comune):
        (st.warning if line_only else st.caption)(note)
    method = " (stima in linea d'aria)" if line_only else ""
    amb = summary.filter(pl.col("livello") == "ambito").row(0, named=True)
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"Residenti oltre {soglia} minuti",
        f"{fmt.number(amb['residenti_oltre'])}",
        help=f"su {fmt.number(amb['residenti'])} residenti ({rio.num(amb['quota_oltre'])}%)",
    )
    c2.metric(
        f"Di 75 anni e più oltre {soglia} minuti",
        f"{fmt.number(amb['residenti_75_oltre'])}",
        help=f"su {fmt.number(amb['residenti_75'])} ({rio.num(amb['quota_75_oltre'])}%)",
    )
    c3.metric(
        "Minuti medi" + method, rio.num(amb["minuti_medi"]), help="Media dei minuti dei comuni pesata con i residenti."
    )
    st.markdown(rio.farthest_sentence(per_comune, summary, names, soglia, f.access.sees_comuni, method))
    sedi = session.sedi(f)
    if f.access.sees_comuni:
        highlight = f.comune or f.own_comune
        values = proximity.map_values(per_comune).with_columns(per_comune["residenti"])  # the largest are named
        fig = maps.choropleth(
            values,
            session.sub_ambiti_table(f),
            "comune",
            "minuti",
            "basso",
            title=f"Minuti dal punto di accesso più vicino del proprio sub-ambito{method}",
            highlight=highlight,
            sedi=sedi,
            publish=published_geojson,
            thresholds=rio.proximity_thresholds(soglia),
            legend_title="Minuti",
        )
        st.plotly_chart(
            fig,
            key="rio_map",
            config=map_config(),
            alt="Mappa dei minuti dal punto di accesso più vicino, per comune, con hub e spoke. I valori sono nella "
            "tabella «Tutti i comuni» qui sotto.",
        )
        if highlight:
            own = per_comune.filter(pl.col("comune") == highlight)
            if own.height:
                r = own.row(0, named=True)
                where = (
                    "nessuna sede nel sub-ambito"
                    if r["sede"] is None
                    else (
                        f"sede più vicina a {r['nome_comune_sede']} ({r['tipo_sede'].lower()}), "
                        f"{rio.num(r['minuti'])} minuti e {rio.num(r['km'])} km{method}"
                    )
                )
                st.markdown(f"**{r['nome']}**: {where}.")
    else:  # the Regione: sub-ambiti only
        values = summary.filter(pl.col("livello") == "sub_ambito").select(
            "territorio",
            pl.col("territorio").replace_strict(names, default=None).alias("nome"),
            pl.col("quota_oltre").alias("valore"),
            pl.lit(False).alias("soppresso"),
        )
        fig = maps.choropleth(
            values,
            session.sub_ambiti_table(f),
            "sub_ambito",
            "%",
            "basso",
            title=f"Residenti oltre {soglia} minuti dal punto di accesso{method}",
            sedi=sedi,
            publish=published_geojson,
            legend_title=f"% residenti oltre {soglia} minuti",
        )
        st.plotly_chart(
            fig,
            key="rio_map",
            config=map_config(),
            alt=f"Mappa dei residenti oltre {soglia} minuti per sub-ambito, con hub e spoke. I valori sono nella "
            "tabella per sub-ambito qui sotto.",
        )
    st.caption(
        "Blu: entro la soglia (più scuro: entro metà); arancione: oltre la soglia (più scuro: oltre una volta "
        "e mezza). Simboli: hub e spoke (punti di accesso). Senza colore: nessuna sede nel proprio "
        "sub-ambito."
    )
    st.markdown(f"**Per sub-ambito** (soglia {soglia} minuti)")
    st.dataframe(rio.proximity_display(summary, names), hide_index=True, width="stretch")
    if f.access.sees_comuni:
        with st.expander("Tutti i comuni: sede più vicina e minuti"):
            st.dataframe(rio.per_comune_display(per_comune), hide_index=True, width="stretch")

    st.subheader("E se si aprisse un nuovo spoke?")
    hosting = data.comuni_with_sede(f)
    comuni = f.territories.filter(~pl.col("comune").is_in(list(hosting))).sort("nome")
    comune_names = dict(zip(comuni["comune"], comuni["nome"]))
    options = [None, *comune_names]
    preset = f.comune or f.own_comune
    candidate = st.selectbox(
        "Comune dove ipotizzare un nuovo spoke",
        options,
        key="rio_ipotesi",
        index=options.index(preset) if preset in options else 0,
        format_func=lambda c: "— scegliere un comune senza sede —" if c is None else comune_names[c],
        help="Si calcola che cosa cambierebbe; nulla viene salvato.",
    )
    if candidate:
        result = data.what_if(f, candidate, soglia)
        all_names = dict(zip(f.territories["comune"], f.territories["nome"])) | names
        sub_of = f.territories.filter(pl.col("comune") == candidate)["sub_ambito"][0]
        for line in rio.what_if_sentences(result, all_names, sub_of):
            st.markdown(line)
        if f.access.sees_comuni:
            st.dataframe(rio.what_if_display(result), hide_index=True, width="stretch")
    else:
        st.caption("Scegliere un comune per vedere quanti minuti e quanti residenti oltre la soglia cambierebbero.")

# --- équipe load --------------------------------------------------------------------------------
with tab_load:
    load_all = data.caseload(f)
    load_years = sorted(load_all["anno"].unique().to_list())
    year = f.year if f.year in load_years else (load_years[-1] if load_years else f.year)
    load = rio.caseload_year(load_all, year)
    st.markdown(
        f"Persone con almeno un intervento attivo nel {year} per operatore a tempo pieno (FTE) in servizio al "
        "31 dicembre, per sub-ambito: l'équipe intera e gli assistenti sociali. Accanto, i residenti per "
        "assistente sociale confrontati con il livello essenziale (LEPS: non più di 5.000; obiettivo 4.000)."
    )
    if load.is_empty():
        st.info(f"Nessun dato sull'organico per il {year}.")
    else:
        sentence = rio.caseload_sentence(load, names)
        if sentence:
            st.markdown(sentence)
        st.plotly_chart(
            charts.caseload_chart(load, names, title=f"Persone in carico per operatore ({year})"),
            key="rio_load",
            alt="Persone in carico per operatore dell'équipe e per assistente sociale, per sub-ambito. I valori "
            "sono nella tabella qui sotto.",
        )
        st.dataframe(rio.caseload_display(load, names), hide_index=True, width="stretch")
        if f.is_public:
            st.caption(fmt.SUPPRESSED_HELP)

# --- equity ----------------------------------------------------------------------------------------
with tab_equity:
    eq = rio.equity_year(data.equity_table(f), f.year, entries)
    st.markdown(
        f"Quanto sono distanti tra loro i sub-ambiti nel {f.year}. **Disparità (CV)**: di quanto i valori dei "
        "sub-ambiti si scostano in media dal loro valore medio, in percentuale (0% = tutti uguali; ogni "
        f"sub-ambito pesa per i suoi residenti). **Dal {rio.baseline_year(eq)}**: se la disparità si restringe o si "
        "allarga rispetto all'anno di riferimento del Piano."
    )
    if eq.is_empty():
        st.info(f"Nessun valore per sub-ambito nel {f.year}.")
    else:
        counts = eq["tendenza"].value_counts()
        narrows = dict(zip(counts["tendenza"], counts["count"]))
        st.markdown(
            f"Su {eq.height} indicatori la distanza tra sub-ambiti **si restringe** per "
            f"{narrows.get('si restringe', 0)}, **si allarga** per {narrows.get('si allarga', 0)}, è stabile per "
            f"{narrows.get('stabile', 0)} (non valutabile: {narrows.get('non valutabile', 0)})."
        )
        eq_ids = eq["indicatore"].to_list()
        pick = st.selectbox(
            "Indicatore",
            eq_ids,
            key="rio_equita",
            format_func=lambda i: entries[i].nome,
            index=eq_ids.index(chosen) if ids and chosen in eq_ids else 0,
        )
        gaps = rio.equity_gaps(f.table, pick, f.year)
        st.plotly_chart(
            charts.gaps_chart(
                gaps,
                names,
                entries[pick].unita,
                title=f"{entries[pick].nome}: ogni sub-ambito rispetto all'ambito ({f.year})",
            ),
            key="rio_gaps",
            alt=f"Scarto di ogni sub-ambito dal valore dell'ambito per {entries[pick].nome}. I valori sono nella "
            "tabella qui sotto.",
        )
        st.caption(
            "Arancione: peggio del valore dell'ambito; blu: uguale o meglio (secondo la direzione "
            f"dell'indicatore: {api.DIRECTION_LABELS.get(entries[pick].direzione, '')})."
        )
        st.dataframe(rio.gaps_display(gaps, names, entries[pick].unita), hide_index=True, width="stretch")
        st.markdown("**Tutti gli indicatori**")
        st.dataframe(rio.equity_display(eq, names), hide_index=True, width="stretch", height="content")
