"""The build-out over time: what operates per period, retrofits, spend against budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import analysis as an
from ..plan import Plan
from .style import HATCHES, KIND_LABELS, KIND_STYLE, OKABE_ITO, _legend_outside, _stacked_bar

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


def timeline(
    data: an.Timeline | Plan,
    *,
    metric: str = "gpus",
    by: str = "rack_type",
    ax: Axes | None = None,
    spend_ax: Axes | None = None,
) -> Axes:
    """GPUs (``metric="gpus"``) or PFLOPS (``"pflops"``) operating per period, stacked by
    ``by`` ("rack_type", "hall", "site", or "cluster": by training cluster kind, with the
    racks in no cluster apart), with retrofit units marked above the bars in
    the period they complete, and spend per period against the budget.

    With ``ax=None`` a two-panel figure is made (operating capacity above, spend below);
    with ``ax`` given, spend is drawn on ``spend_ax`` when given (else left out).
    Returns the capacity Axes.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    tl = data if isinstance(data, an.Timeline) else an.timeline(data)
    if metric not in ("gpus", "pflops"):
        raise ValueError("metric must be 'gpus' or 'pflops'")
    if by not in ("rack_type", "hall", "site", "cluster"):
        raise ValueError("by must be 'rack_type', 'hall', 'site' or 'cluster'")
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(11.5, 7.5), layout="constrained")
        ax, spend_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2.4, 1])
    periods = tl.periods
    xs = np.arange(len(periods))
    if by == "cluster":
        op = tl.by_cluster.assign(group=tl.by_cluster["cluster"])
    else:
        op = tl.operating.copy()
        op["group"] = op["site"] + "/" + op["hall"] if by == "hall" else op[by]
    table = op.pivot_table(
        index="period_index", columns="group", values=metric, aggfunc="sum", fill_value=0
    ).reindex(range(len(periods)), fill_value=0)
    groups = list(table.columns)
    if by == "cluster":  # kinds in file order, the racks in no cluster last
        groups = [g for g in dict.fromkeys(op["group"]) if g in groups]
    bottom = np.zeros(len(periods))
    bars: list = []
    for i, group in enumerate(groups):
        values = table[group].to_numpy(dtype=float)
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        hatch = HATCHES[(i // len(OKABE_ITO) + i) % len(HATCHES)]
        bars.append(_stacked_bar(ax, xs, values, bottom, colour, hatch, str(group)))
        bottom += values
    handles: list = bars[::-1]  # the legend reads top down, as the stack does
    total = float(bottom.max()) if len(bottom) else 0.0
    top = total if total > 0 else 1.0

    # retrofits completing in each period, one row per kind in a band above the bars, and
    # CPU racks retired (whatever they cost, they free the positions and power the GPU racks
    # take): hollow black markers, told apart by shape, never by the bars' colours
    ret = tl.retrofits
    rows = [k for k in KIND_LABELS if k in set(ret["kind"])]
    retired = tl.retired
    if retired is not None and retired["cpu_racks_retired"].any():
        rows = ["retired", *rows]
    band = 0.1 * top
    for row_i, kind in enumerate(rows):
        level = top * 1.08 + band * (row_i + 0.5)
        if kind == "retired":
            marker, label = "x", "CPU racks retired"
            done = retired.set_index("period_index")["cpu_racks_retired"]
            done = done[done > 0]
            text = "-{:,}"
        else:
            marker, label = KIND_STYLE[kind][0], f"{KIND_LABELS[kind]} units completed"
            done = ret[ret["kind"] == kind].groupby("period_index")["units_added"].sum()
            text = "+{:,}"
        style = dict(marker=marker, ms=9, mfc="#FFFFFF", mec="#000000", mew=1.4, ls="none")
        for t, units in done.items():
            ax.plot(t, level, color="#000000", **style)
            ax.annotate(
                text.format(int(units)),
                (t, level),
                xytext=(7, 0),
                textcoords="offset points",
                va="center",
                fontsize=7.5,
            )
        handles.append(Line2D([], [], color="#000000", label=label, **style))
    if rows:
        ax.axhline(top * 1.04, color="#999999", linewidth=0.6)
    ax.set_ylim(0, top * 1.08 + band * (len(rows) + 0.3) if rows else top * 1.1)
    # no value ticks in the band of retrofit markers
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=6).tick_values(0, top)
    ax.set_yticks([v for v in ticks if v <= top * 1.001])
    unit = "GPUs operating (count)" if metric == "gpus" else "compute operating (PFLOPS)"
    ax.set_ylabel(unit)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(
        f"Build-out timeline: {tl.scenario_name}"
        + (
            "\n(markers above the bars: retrofit units completed and CPU racks retired in the "
            "period)"
            if rows
            else ""
        )
    )
    ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xticks(xs, periods)
    by_label = {
        "rack_type": "rack type",
        "hall": "hall",
        "site": "site",
        "cluster": "cluster kind",
    }[by]
    _legend_outside(ax, handles, title=f"by {by_label}; retrofits", title_fontsize="small")
    if spend_ax is not None:
        _spend_panel(spend_ax, tl, xs)
    else:
        ax.set_xlabel("period")
    return ax


def _spend_panel(ax: Axes, tl: an.Timeline, xs: np.ndarray) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    spend = tl.spend.sort_values("period_index")
    bottom = np.zeros(len(xs))
    handles = []
    parts = (
        ("racks_usd", "racks", OKABE_ITO[3], ""),
        ("retrofits_usd", "retrofits", OKABE_ITO[0], "//"),
        ("retirements_usd", "CPU rack retirements", OKABE_ITO[1], ".."),
    )
    for col, label, colour, hatch in parts:
        values = spend[col].to_numpy(dtype=float) / 1e6
        if not np.any(values):
            continue
        handles.append(_stacked_bar(ax, xs, values, bottom, colour, hatch, label))
        bottom += values
    budget = spend["budget_usd"].to_numpy(dtype=float) / 1e6
    if np.any(np.isfinite(budget)):
        ax.plot(xs, budget, ls="none", marker="_", ms=28, mew=2.5, color="#000000")
        ax.plot(xs, budget, ls=":", color="#000000", linewidth=1)
        handles.append(
            Line2D([], [], marker="_", ms=14, mew=2.5, color="#000000", ls=":", label="budget")
        )
    else:
        handles.append(Line2D([], [], ls="none", label="no per-period budget cap"))
    top = np.nanmax(np.concatenate([bottom, budget[np.isfinite(budget)], [1e-9]]))
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_ylabel("spend per period ($M)")
    ax.set_xlabel("period")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title("Spend per period against the budget", fontsize="medium")
    _legend_outside(ax, handles)
