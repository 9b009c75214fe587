"""The charts of the «Riorganizzazione» page (Plotly, Italian formats, readable on a projector).

Each chart has a table beside it with the same numbers (`indicators.reorganisation.*_display`), the
alternative for screen readers. Suppressed values are gaps marked «n.p.», never zeros.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from indicators import evaluation, fmt, palette
from indicators.charts import COLOR_VALUE, FONT

# The groups are neither better nor worse: not the palette's blue («meglio») and orange («peggio»).
COLOR_PILOT = "#6a51a3"  # purple: the pilot sub-ambiti
COLOR_OTHERS = "#525252"  # dark grey: the other sub-ambiti
COLOR_WORSE, COLOR_BETTER = palette.WORSE_DARK, palette.BETTER_DARK  # the maps' one colour rule


def _layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0} if title else None,
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        separators=fmt.ITALIAN_SEPARATORS,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "font": {"size": 13}},
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#e6e6e6", zeroline=False)
    return fig


def start_x(start: date) -> float:
    """Where a date falls on an axis of whole years (the point of year Y at Y): 1 January 2025 -> 2024.5."""
    return start.year - 0.5 + (start.timetuple().tm_yday - 1) / 365.0


def pilot_chart(
    trends: pl.DataFrame,
    series: pl.DataFrame,
    unita: str,
    start: date | None,
    title: str | None = None,
    height: int = 440,
) -> go.Figure:
    """The two groups year by year (thick: `evaluation.pilot_trends`), each sub-ambito (thin: its published
    value) and the start of the pilot (vertical line). Year-to-date values are hollow markers."""
    decimals = fmt.decimals_for(unita)
    d3 = fmt.d3_format(decimals)
    fig = go.Figure()
    colors = {evaluation.GROUP_PILOT: COLOR_PILOT, evaluation.GROUP_OTHERS: COLOR_OTHERS}
    for (sub, name, group), rows in series.sort("anno").group_by(["sub_ambito", "nome", "gruppo"], maintain_order=True):
        fig.add_trace(
            go.Scatter(
                x=rows["anno"].to_list(),
                y=rows["valore"].to_list(),
                mode="lines",
                name=f"{sub} {name}",
                line={"color": colors[group], "width": 1.2, "dash": "dot"},
                opacity=0.55,
                legendgroup=group,
                showlegend=False,
                hovertemplate=f"{sub} {name}" + ": %{y:" + d3 + "} " + unita + "<extra>%{x}</extra>",
            )
        )
    labels = {evaluation.GROUP_PILOT: "Comuni pilota", evaluation.GROUP_OTHERS: "Altri comuni"}
    for group, label in labels.items():
        rows = trends.filter(pl.col("gruppo") == group).sort("anno")
        if rows.is_empty():
            continue
        complete = rows.filter(~pl.col("parziale"))
        fig.add_trace(
            go.Scatter(
                x=complete["anno"].to_list(),
                y=complete["valore"].to_list(),
                mode="lines+markers+text",
                name=label,
                line={"color": colors[group], "width": 4},
                marker={"size": 10},
                legendgroup=group,
                text=[fmt.number(v, decimals) if v is not None else fmt.SUPPRESSED for v in complete["valore"]],
                textposition="top center" if group == evaluation.GROUP_PILOT else "bottom center",
                textfont={"color": colors[group]},
                hovertemplate=label + ": %{y:" + d3 + "} " + unita + "<extra>%{x}</extra>",
            )
        )
        partial = rows.filter(pl.col("parziale"))
        if partial.height:
            fig.add_trace(
                go.Scatter(
                    x=partial["anno"].to_list(),
                    y=partial["valore"].to_list(),
                    mode="markers",
                    name=f"{label}: anno in corso (parziale)",
                    legendgroup=group,
                    showlegend=False,
                    marker={"size": 11, "color": "white", "line": {"color": colors[group], "width": 2}},
                    hovertemplate=label + " (da inizio anno): %{y:" + d3 + "}<extra>%{x}</extra>",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            name="Sub-ambiti (linee sottili)",
            line={"color": "#9e9e9e", "width": 1.2, "dash": "dot"},
        )
    )
    if start is not None:
        x = start_x(start)
        fig.add_vline(x=x, line={"color": "#424242", "width": 2, "dash": "dash"})
        fig.add_annotation(
            x=x,
            y=1.0,
            yref="paper",
            text=f"Avvio del pilota ({fmt.day(start)})",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font={"size": 13, "color": "#424242"},
        )
    with_values = series.filter(pl.col("valore").is_not_null())["anno"].to_list()
    years = sorted(set(with_values) | set(trends.filter(pl.col("valore").is_not_null())["anno"].to_list()))
    fig.update_xaxes(dtick=1, tickformat="d", range=[min(years) - 0.4, max(years) + 0.4] if years else None)
    values = [v for t in fig.data for v in (t.y or []) if v is not None]
    top = max(values or [1])
    fig.update_yaxes(title={"text": unita}, tickformat=d3, range=[0, top * 1.2 or 1])
    return _layout(fig, title, height)


def caseload_chart(rows: pl.DataFrame, names: dict[str, str], title: str | None = None, height: int = 400) -> go.Figure:
    """Persons in care per full-time operator by sub-ambito: the whole équipe and the social workers."""
    subs = rows.filter(pl.col("livello") == "sub_ambito").sort("territorio")
    hidden = subs["soppresso"].fill_null(False).to_list()
    labels = [names.get(t, t) for t in subs["territorio"]]
    fig = go.Figure()
    for column, label, color in (
        ("per_fte_equipe", "Per operatore dell'équipe (tutti i profili)", "#9cc3e6"),
        ("per_as", "Per assistente sociale", COLOR_VALUE),
    ):
        values = [None if h else v for v, h in zip(subs[column].to_list(), hidden)]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=values,
                name=label,
                marker_color=color,
                text=[fmt.SUPPRESSED if h else fmt.number(v) for v, h in zip(values, hidden)],
                textposition="outside",
                hovertemplate="%{x}: %{y:,.0f} persone<extra>" + label + "</extra>",
            )
        )
    amb = rows.filter(pl.col("livello") == "ambito")
    if labels and amb.height and amb["per_as"][0] is not None and not amb["soppresso"].fill_null(False)[0]:
        level = amb["per_as"][0]  # a line in the legend (a label on the chart would cover the bars' numbers)
        fig.add_trace(
            go.Scatter(
                x=[labels[0], labels[-1]],
                y=[level, level],
                mode="lines",
                line={"color": COLOR_VALUE, "dash": "dash", "width": 1.5},
                name=f"Ambito: {fmt.number(level)} persone per assistente sociale",
                hoverinfo="skip",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title={"text": "persone in carico per FTE"}, tickformat=",.0f")
    return _layout(fig, title, height)


def gaps_chart(
    gaps: pl.DataFrame, names: dict[str, str], unita: str, title: str | None = None, height: int = 360
) -> go.Figure:
    """Each sub-ambito's distance from the ambito's value (bars), orange where it is worse, blue where not."""
    rows = gaps.sort("sub_ambito", descending=True)
    decimals = fmt.decimals_for(unita)
    hidden = rows["soppresso"].fill_null(False).to_list()
    values = [None if h else v for v, h in zip(rows["scarto"].to_list(), hidden)]
    colors = [COLOR_WORSE if p else COLOR_BETTER for p in rows["peggiore"].fill_null(False).to_list()]
    fig = go.Figure(
        go.Bar(
            y=[names.get(s, s) for s in rows["sub_ambito"]],
            x=values,
            orientation="h",
            marker_color=colors,
            text=[
                fmt.SUPPRESSED if h else ("+" if v and v > 0 else "") + fmt.number(v, decimals)
                for v, h in zip(values, hidden)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:+" + fmt.d3_format(decimals)[1:] + "} " + unita + "<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": "#424242", "width": 1.5})
    fig.update_xaxes(
        title={"text": f"scarto dal valore dell'ambito ({unita})"}, tickformat=fmt.d3_format(decimals), zeroline=False
    )
    fig.update_layout(showlegend=False)
    return _layout(fig, title, height)
