"""Esporta i dati: the indicator table of this view as CSV or Excel (every download is logged).

The table is the frame's: public (disclosure control) for everyone but the Ufficio di Piano
in its own view, and for the Regione only the ambito and the sub-ambiti.
"""

from __future__ import annotations

import io

import polars as pl
import streamlit as st

from core.spreadsheet import write_csv
from indicators import api
from indicators import cli as indicators_cli
from indicators.fmt import italian_frame
from ui.banners import banners
from ui.downloads import download_button
from ui.filters import frame

f = frame(page="Esporta i dati")
st.title("Esporta i dati")
banners(f)

levels = {"ambito": "Ambito", "sub_ambito": "Sub-ambiti", "comune": "Comuni"}
allowed = [lv for lv in levels if lv in f.access.levels]
chosen = st.multiselect("Livelli territoriali", allowed, default=allowed, format_func=levels.get, key="exp_livelli")
all_years = st.toggle("Tutti gli anni", value=False, key="exp_anni", help=f"Altrimenti solo il {f.year}.")

table = api.for_levels(f.table, [lv for lv in chosen or allowed if lv in f.access.levels])  # the role's rule
if not all_years:
    table = table.filter(pl.col("anno") == f.year)
export_names = table.select("territorio").unique()
labels = export_names.with_columns(
    pl.col("territorio").map_elements(f.name_of, return_dtype=pl.String).alias("nome_territorio")
)
keys = [*indicators_cli.CONTRACT_KEYS, *[k for k in indicators_cli.EXTRA_KEYS if k in table.columns]]
export = (
    table.select(keys)
    .join(labels, on="territorio", how="left", maintain_order="left")
    .sort("indicatore", "livello", "territorio", "anno")
)
export = export.select(*keys[:3], "nome_territorio", *keys[3:])
view = "pubblica (segreto statistico applicato)" if f.is_public else "Ufficio di Piano (dati completi)"
st.caption(
    f"{export.height} righe, vista {view}. Le celle non pubblicabili hanno `soppresso = true` e valori vuoti. "
    "CSV con separatore ; e virgola decimale (Excel in italiano)."
)
preview = export.head(200).with_columns(pl.col("anno").cast(pl.String))
st.dataframe(italian_frame(preview, {"numeratore": 0, "denominatore": 0}), hide_index=True, width="stretch")

what = f"indicatori, vista {f.audience}, livelli {', '.join(chosen or allowed)}, " + (
    "tutti gli anni" if all_years else f"anno {f.year}"
)
suffix = "tutti_gli_anni" if all_years else str(f.year)


def excel() -> bytes:
    buffer = io.BytesIO()
    export.write_excel(buffer, worksheet="indicatori")
    return buffer.getvalue()


left, right = st.columns(2)  # the files are written on click (a regional table takes seconds in Excel)
with left:
    download_button(
        f,
        "Scarica CSV",
        lambda: write_csv(export, separator=";", decimal_comma=True),
        f"indicatori_{f.audience}_{suffix}.csv",
        "text/csv",
        what,
        icon=":material/download:",
        key="exp_csv",
    )
with right:
    download_button(
        f,
        "Scarica Excel",
        excel,
        f"indicatori_{f.audience}_{suffix}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        what,
        icon=":material/download:",
        key="exp_xlsx",
    )
