"""Charts shared by the dashboard and the reports (Plotly, Italian formats).

Readable on a projector: large fonts, few colours, labels on the lines.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from indicators import fmt

FONT = {"size": 15}
COLOR_VALUE = "#1f4e79"
COLOR_TARGET = "#2e7d32"
COLOR_BASELINE = "#6d6d6d"
COLOR_PROJECTION = "#ef6c00"
PROFILE_COLORS = {
    "ASSISTENTE_SOCIALE": "#1f4e79",
    "EDUCATORE": "#4e8ac8",
    "PSICOLOGO": "#9cc3e6",
    "AMMINISTRATIVO": "#bdbdbd",
    "ALTRO": "#e0e0e0",
}
PROFILE_LABELS = {
    "ASSISTENTE_SOCIALE": "Assistenti sociali",
    "EDUCATORE": "Educatori",
    "PSICOLOGO": "Psicologi",
    "AMMINISTRATIVO": "Amministrativi",
    "ALTRO": "Altro",
}


def _layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title} if title else None,
        font=FONT,
        height=height,
        margin={"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
        title_x=0,
        separators=fmt.ITALIAN_SEPARATORS,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0, "font": {"size": 12}},
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#e6e6e6", zeroline=False)
    return fig


def trend(
    values: pl.DataFrame,
    unita: str,
    baseline: float | None = None,
    targets: dict[int, float] | None = None,
    projection: tuple[float, float, float] | None = None,
    title: str | None = None,
    height: int = 380,
    projection_year: int = 2027,
    owner: str | None = None,
) -> go.Figure:
    """Observed values by year, the 2024 baseline, the 2025–2027 targets and the projection to 2027.

    `values`: anno, valore, soppresso, parziale (one territory). Suppressed years are
    gaps marked "n.p.", never zeros. `projection`: (central, low, high) at 31/12/2027.
    `owner`: whose plan the baseline and targets are when not the territory's own (e.g.
    "dell'ambito" for a comune read on the ambito's path): it names the lines.
    """
    whose = f" {owner}" if owner else ""
    decimals = fmt.decimals_for(unita)
    d3 = fmt.d3_format(decimals)
    v = values.sort("anno")
    shown = v.with_columns(
        pl.when(pl.col("soppresso").fill_null(False)).then(None).otherwise(pl.col("valore")).alias("y")
    )
    fig = go.Figure()
    complete = shown.filter(~pl.col("parziale").fill_null(False))
    fig.add_trace(
        go.Scatter(
            x=complete["anno"].to_list(),
            y=complete["y"].to_list(),
            mode="lines+markers+text",
            name="Valore",
            line={"color": COLOR_VALUE, "width": 3},
            marker={"size": 9},
            text=[fmt.number(y, decimals) if y is not None else fmt.SUPPRESSED for y in complete["y"].to_list()],
            textposition="top center",
            hovertemplate="%{x}: %{y:" + d3 + "} " + unita + "<extra></extra>",
        )
    )
    hidden = v.filter(pl.col("soppresso").fill_null(False))
    if hidden.height:  # suppressed years: an explicit marker on the axis, never a zero or a silent gap
        fig.add_trace(
            go.Scatter(
                x=hidden["anno"].to_list(),
                y=[0] * hidden.height,
                mode="markers+text",
                name=fmt.SUPPRESSED_HELP,
                marker={"symbol": "x-thin-open", "size": 12, "color": "#9e9e9e"},
                text=[fmt.SUPPRESSED] * hidden.height,
                textposition="top center",
                textfont={"color": "#757575"},
                hovertemplate="%{x}: dato non pubblicabile<extra></extra>",
            )
        )
    partial = shown.filter(pl.col("parziale").fill_null(False))
    if partial.height:
        fig.add_trace(
            go.Scatter(
                x=partial["anno"].to_list(),
                y=partial["y"].to_list(),
                mode="markers+text",
                name="Anno in corso (parziale)",
                marker={"size": 11, "color": "white", "line": {"color": COLOR_VALUE, "width": 2}},
                text=[fmt.number(y, decimals) if y is not None else fmt.SUPPRESSED for y in partial["y"].to_list()],
                textposition="top center",
                hovertemplate="%{x} (da inizio anno): %{y:" + d3 + "}<extra></extra>",
            )
        )
    if baseline is not None:
        fig.add_trace(
            go.Scatter(
                x=[2024],
                y=[baseline],
                mode="markers",
                name=f"Baseline 2024{whose}",
                marker={"symbol": "diamond", "size": 13, "color": COLOR_BASELINE},
                hovertemplate="Baseline 2024: %{y:" + d3 + "}<extra></extra>",
            )
        )
    if targets:
        years = sorted(targets)
        fig.add_trace(
            go.Scatter(
                x=years,
                y=[targets[y] for y in years],
                mode="lines+markers",
                name=f"Obiettivo{whose}",
                line={"color": COLOR_TARGET, "dash": "dash", "width": 2},
                marker={"symbol": "star", "size": 13},
                hovertemplate="Obiettivo %{x}: %{y:" + d3 + "}<extra></extra>",
            )
        )
    if projection and projection[0] is not None:
        central, low, high = projection
        last = complete.drop_nulls("y").tail(1)
        if last.height:
            x0, y0 = int(last["anno"][0]), float(last["y"][0])
            fig.add_trace(
                go.Scatter(
                    x=[x0, projection_year, projection_year, x0],
                    y=[y0, high, low, y0],
                    fill="toself",
                    fillcolor="rgba(239,108,0,0.15)",
                    line={"width": 0},
                    mode="lines",
                    name="Intervallo della proiezione",
                    hoverinfo="skip",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=[x0, projection_year],
                    y=[y0, central],
                    mode="lines+markers",
                    name="Proiezione al 31/12/2027",
                    line={"color": COLOR_PROJECTION, "dash": "dot", "width": 2},
                    hovertemplate="Proiezione %{x}: %{y:" + d3 + "}<extra></extra>",
                )
            )
    fig.update_xaxes(dtick=1, tickformat="d")
    top = max([y for t in fig.data for y in (t.y or []) if y is not None] or [1])
    fig.update_yaxes(title={"text": unita}, tickformat=d3, range=[0, top * 1.18 or 1])
    return _layout(fig, title, height)


def population_pyramid(pyramid: pl.DataFrame, title: str | None = None, height: int = 420) -> go.Figure:
    """`pyramid`: fascia, da, sesso, residenti (from profiles.population_pyramid)."""
    order = pyramid.select("fascia", "da").unique().sort("da")["fascia"].to_list()
    fig = go.Figure()
    for sesso, label, color, sign in (("M", "Maschi", "#4e8ac8", -1), ("F", "Femmine", "#d9822b", 1)):
        part = pyramid.filter(pl.col("sesso") == sesso)
        by_band = dict(zip(part["fascia"], part["residenti"]))
        xs = [sign * by_band.get(b, 0) for b in order]
        fig.add_trace(
            go.Bar(
                y=order,
                x=xs,
                orientation="h",
                name=label,
                marker_color=color,
                customdata=[fmt.number(abs(x)) for x in xs],
                hovertemplate="%{y}: %{customdata}<extra>" + label + "</extra>",
            )
        )
    top = max([abs(x) for t in fig.data for x in t.x] or [1])
    ticks = [round(top * f, -2) for f in (-1, -0.5, 0, 0.5, 1)]
    fig.update_layout(barmode="relative", bargap=0.08)
    fig.update_xaxes(tickvals=ticks, ticktext=[fmt.number(abs(t)) for t in ticks], title={"text": "residenti"})
    return _layout(fig, title, height)


def equipe(staff: pl.DataFrame, title: str | None = None, height: int = 360) -> go.Figure:
    """FTE by sub-ambito and profile, stacked (`staff`: sub_ambito, profilo, fte)."""
    by = staff.group_by("sub_ambito", "profilo").agg(pl.col("fte").sum()).sort("sub_ambito")
    subs = by["sub_ambito"].unique().sort().to_list()
    fig = go.Figure()
    for profilo, label in PROFILE_LABELS.items():
        part = dict(by.filter(pl.col("profilo") == profilo).select("sub_ambito", "fte").iter_rows())
        if not part:
            continue
        fig.add_trace(
            go.Bar(
                x=subs,
                y=[part.get(s, 0) for s in subs],
                name=label,
                marker_color=PROFILE_COLORS[profilo],
                hovertemplate="%{x}: %{y:,.1f} FTE<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title={"text": "FTE (tempo pieno equivalente)"}, tickformat=",.1f")
    return _layout(fig, title, height)


def residents_per_worker(
    values: pl.DataFrame, leps: float = 5000, objective: float = 4000, title: str | None = None, height: int = 360
) -> go.Figure:
    """Residents per social worker by territory against the LEPS line (`values`: nome, valore, soppresso)."""
    from indicators import palette

    v = values.sort("valore", nulls_last=True)
    # the maps' colour rule: above the LEPS limit clearly worse (dark orange), within the objective blue
    colors = list(
        palette.classify(
            v["valore"].to_list(),
            "basso",
            [palette.Threshold(leps, "limite LEPS"), palette.Threshold(objective, "obiettivo LEPS")],
            v["soppresso"].fill_null(False).to_list() if "soppresso" in v.columns else None,
        ).colours
    )
    fig = go.Figure(
        go.Bar(
            x=v["nome"].to_list(),
            y=v["valore"].to_list(),
            marker_color=colors,
            text=[fmt.number(x) for x in v["valore"].to_list()],
            textposition="outside",
            hovertemplate="%{x}: %{y:,.0f} residenti per assistente sociale<extra></extra>",
            showlegend=False,
        )
    )
    for y, label, dash in ((leps, "LEPS: 1 ogni 5.000", "dash"), (objective, "Obiettivo: 1 ogni 4.000", "dot")):
        fig.add_hline(y=y, line_dash=dash, line_color="#424242", annotation_text=label, annotation_position="top left")
    fig.update_yaxes(title={"text": "residenti per assistente sociale"}, tickformat=",.0f", rangemode="tozero")
    return _layout(fig, title, height)
