"""Pictures of plans: feasible build-outs, compute-cost frontier, timeline, utilisation and
bandwidth sensitivity.

Every function takes the data (from :mod:`planner.analysis`) or a plan / scenario to
compute it from, and ``ax=None``: it draws on ``ax`` or, when None, on a new figure, and
returns the Axes. Only matplotlib's object API is used (pyplot only creates new figures),
so the functions work with any backend, Agg included. Colours are the Okabe-Ito
colour-blind-safe palette, and every series also differs by hatch, marker or line style so
figures survive greyscale; heat maps use cividis. Legends sit outside the data area.

>>> import planner, planner.plots
>>> plan = planner.solve("configs/meta-2023-retrofit.yaml")
>>> ax = planner.plots.timeline(plan)
>>> ax.figure.savefig("timeline.png")
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import analysis as an
from .files import Staging
from .plan import Plan
from .scenario import Scenario

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes

#: Okabe & Ito (2008), colour-blind safe
OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--", "||", "**")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "h")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (8, 2)), (0, (3, 1, 1, 1, 1, 1)))

#: (colour, line style) of each rule's boundary in feasible-region pictures
RULE_STYLE = {
    "space": ("#000000", "-"),
    "power": ("#D55E00", "--"),
    "room_air": ("#0072B2", "-."),
    "liquid": ("#CC79A7", ":"),
    "rdhx": ("#E69F00", (0, (3, 3, 8, 3))),
    "facility_water": ("#56B4E9", (0, (12, 4))),
    "network": ("#009E73", (0, (8, 2, 2, 2, 2, 2))),
    "floor": ("#666666", (0, (1, 1))),
    "air_density": ("#444444", (0, (2, 1))),
    "lead_time": ("#888888", (0, (4, 1, 1, 1))),
    "feed": ("#999933", (0, (6, 1, 6, 1, 1, 1))),
    "budget": ("#882255", (0, (14, 2, 2, 2))),
}
#: how a hall rule's boundary reads in a site's picture (the pooled halls, see
#: planner.analysis._site_case)
SITE_TOTAL_RULES = {
    "space": "site total",
    "power": "site total",
    "room_air": "site total",
    "liquid": "site total",
    "rdhx": "site total",
    "network": "site total",
    "floor": "no hall",
    "air_density": "no hall",
    "lead_time": "no hall",
}
#: (colour, hatch, marker) of each region in feasible-region pictures
REGION_STYLE = {
    "budget": ("#56B4E9", "..", "D"),
    "plan": ("#009E73", "//", "s"),
    "none": ("#E69F00", "\\\\", "o"),
}
#: (marker, colour) of each retrofit kind's markers in timelines
KIND_STYLE = {
    "power": ("^", "#D55E00"),
    "air_cooling": ("v", "#56B4E9"),
    "cdu": ("s", "#0072B2"),
    "aalc": ("P", "#CC79A7"),
    "rdhx": ("X", "#E69F00"),
    "fabric": ("D", "#009E73"),
    "floor": ("h", "#666666"),
    "site_water": ("o", "#56B4E9"),
    "site_feed": ("*", "#F0E442"),
}
KIND_LABELS = {
    "power": "power",
    "air_cooling": "room air (CRAH)",
    "cdu": "CDU",
    "aalc": "AALC sidecar",
    "rdhx": "rear door (RDHx)",
    "fabric": "network fabric",
    "floor": "floor reinforcement",
    "site_water": "site water (chillers)",
    "site_feed": "site feed",
}


# -- shared helpers ------------------------------------------------------------------------
def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the Axes of a new figure (constrained layout: outside legends fit)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _legend_outside(ax: Axes, handles: list, **kwargs: Any):
    """A legend to the right of the axes, outside the data area."""
    options = dict(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        frameon=False,
        fontsize="small",
    )
    options.update(kwargs)
    return ax.legend(handles=handles, **options)


def _stacked_bar(ax, xs, values, bottom, colour, hatch, label: str):
    """One layer of a stacked bar chart; its legend patch."""
    from matplotlib.patches import Patch

    ax.bar(
        xs,
        values,
        bottom=bottom,
        width=0.7,
        color=colour,
        hatch=hatch,
        edgecolor="#333333",
        linewidth=0.5,
    )
    return Patch(facecolor=colour, hatch=hatch, edgecolor="#333333", label=label)


def _usd(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f}B"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    return f"${value:,.0f}"


def _compute_label(n_periods: int) -> str:
    return "compute (PFLOPS)" if n_periods == 1 else "compute (PFLOPS-periods)"


def _scenario_of(data: Any) -> Scenario | None:
    if isinstance(data, Plan):
        return data.scenario
    if isinstance(data, Scenario):
        return data
    return None


# -- 1. feasible build-outs ------------------------------------------------------------------
def feasible_region(
    data: an.FeasibleRegion | Plan | Scenario,
    hall: str | None = None,
    rack_a: str | None = None,
    rack_b: str | None = None,
    period: str | int | None = None,
    *,
    ax: Axes | None = None,
    **options: Any,
) -> Axes:
    """Whole-number mixes of two rack types one hall (or, with ``site=NAME``, a site's
    halls together) can take, as nested regions (as it stands, with the plan's retrofits,
    with the most the budget can buy), each rule's boundary for the plan's retrofit set
    (site totals for a site), the plan's point and each region's best.

    ``data``: a :class:`planner.analysis.FeasibleRegion`, or a plan / scenario passed to
    :func:`planner.analysis.feasible_region` with ``hall``, ``rack_a``, ``rack_b``,
    ``period`` and ``options`` (``site``, ``columns``, ``grid``, ``modes``, ``solver``,
    ``time_limit_s``, ``mip_gap``).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    region = (
        data
        if isinstance(data, an.FeasibleRegion)
        else an.feasible_region(data, hall, rack_a, rack_b, period, **options)
    )
    ax = _axes(ax, (11.5, 6.5))
    handles: list = []
    outer = None
    # every region is the union of one-rack cells around the points it is known to hold
    cells = region.x_limit * region.y_limit <= 1600
    for mode in ("budget", "plan", "none"):
        cols = region.columns[region.columns["retrofits"] == mode]
        cols = cols[cols["b_racks_max"] >= 0].sort_values("a_racks")
        if cols.empty:
            continue
        outer = outer if outer is not None else cols
        colour, hatch, _ = REGION_STYLE[mode]
        xs = cols["a_racks"].to_numpy(dtype=float)
        ys = cols["b_racks_max"].to_numpy(dtype=float)
        px, py = _outline(xs, ys)
        ax.fill(px, py, facecolor=colour, alpha=0.35, edgecolor="none", zorder=1)
        ax.fill(px, py, facecolor="none", edgecolor=colour, hatch=hatch, lw=0.0, zorder=1.1)
        ax.plot(px, py, color=colour, linewidth=1.4, zorder=1.2)
        # a region without area (one column, or one row) is drawn as a thick line
        if not cells and (np.ptp(xs) < 0.004 * region.x_limit or ys.max() < 0.004 * region.y_limit):
            ax.plot(px, py, color=colour, linewidth=6, zorder=1.3, solid_capstyle="butt")
        handles.append(
            Patch(
                facecolor=colour,
                alpha=0.6,
                hatch=hatch,
                edgecolor=colour,
                label=an.mode_label(mode, region.scope),
            )
        )
    # integer points, when few enough to see
    if outer is not None and cells:
        xs = outer["a_racks"].to_numpy(dtype=int)
        ys = outer["b_racks_max"].to_numpy(dtype=int)
        px, py = [], []
        for x in range(int(xs.max()) + 1):
            top = int(ys[xs >= x].max())  # held by a column at or right of x: closed downwards
            px += [x] * (top + 1)
            py += list(range(top + 1))
        ax.scatter(px, py, s=5, color="#333333", zorder=1.5, linewidths=0)
        handles.append(
            Line2D([], [], marker="o", ls="none", color="#333333", ms=3, label="feasible point")
        )

    handles += _rule_lines(ax, region)
    if region.previous is not None and (region.previous[1] or region.previous[2]):
        label, xa, yb = region.previous
        if xa:
            ax.axvline(xa, color="#555555", linestyle=(0, (1, 2)), linewidth=1.2, zorder=2)
        if yb:
            ax.axhline(yb, color="#555555", linestyle=(0, (1, 2)), linewidth=1.2, zorder=2)
        handles.append(
            Line2D(
                [],
                [],
                color="#555555",
                linestyle=(0, (1, 2)),
                linewidth=1.2,
                label=textwrap.fill(
                    f"standing in {label}: ({xa:,}, {yb:,}); racks stay, so the plan "
                    "reaches only points at or above these",
                    50,
                ),
            )
        )

    a_pf, b_pf = region.unit_pflops
    for row in region.points.itertuples(index=False):
        if row.kind == "optimum":
            marker, colour, size, face, edge = "*", "#000000", 17, "#FFFFFF", "#000000"
            what = "the plan"
        else:
            colour, _, marker = REGION_STYLE[row.kind]
            size, face, edge = 9, colour, "#000000"
            what = f"best {an.MODE_SHORT[row.kind]}"
        style = dict(marker=marker, mfc=face, mec=edge, mew=1.3, ls="none")
        ax.plot(
            row.a_racks, row.b_racks, ms=size, zorder=4 if row.kind == "optimum" else 3, **style
        )
        text = f"{what}: ({row.a_racks:,}, {row.b_racks:,}) = {row.pflops:,.0f} PFLOPS"
        stops = [
            f"+1 {name}: {why}"
            for name, why in ((region.rack_a, row.stops_a), (region.rack_b, row.stops_b))
            if why
        ]
        label = "\n".join(
            [textwrap.fill(text, 50)]
            + [textwrap.fill(s, 50, initial_indent="  ", subsequent_indent="    ") for s in stops]
        )
        handles.append(Line2D([], [], ms=size * 0.75, label=label, **style))
    ax.set_xlim(-0.03 * region.x_limit - 0.5, region.x_limit)
    ax.set_ylim(-0.03 * region.y_limit - 0.5, region.y_limit)
    where = " over the site's halls" if region.scope == "site" else ""
    ax.set_xlabel(f"{region.rack_a} racks{where} (count; {a_pf:g} PFLOPS each)")
    ax.set_ylabel(f"{region.rack_b} racks{where} (count; {b_pf:g} PFLOPS each)")
    ax.set_title(_feasible_title(region), fontsize="medium")
    ax.grid(True, color="#DDDDDD", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    _legend_outside(ax, handles, title="regions, points and limits", title_fontsize="small")
    return ax


def _feasible_title(region: an.FeasibleRegion) -> str:
    """Title of a feasible-region picture: what is drawn, where, when."""
    if region.scope == "site":
        halls = textwrap.shorten(", ".join(region.halls), 40, placeholder=", ...")
        return (
            f"Feasible build-outs of site {region.site} ({len(region.halls)} halls: {halls}), "
            f"{region.period}\n{region.scenario_name}: racks summed over the halls, spread as "
            "the rules allow;\nother racks as planned; lines: site totals with the plan's "
            "retrofits"
        )
    return (
        f"Feasible build-outs of {region.hall} ({region.site}), {region.period}\n"
        f"{region.scenario_name}: other racks as planned; lines: each rule's limit "
        "with the plan's retrofits"
    )


def _rule_label(rule: str, scope: str) -> str:
    """A rule's legend label; in a site's picture the hall rules are drawn as site totals."""
    label = f"limit: {an.RULE_LABELS[rule]}"
    if scope == "site" and rule in SITE_TOTAL_RULES:
        return f"{label} ({SITE_TOTAL_RULES[rule]})"
    return label


def _outline(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outline of the union of one-rack cells around the points ``(x, y)`` with ``x <= xs[i]``
    and ``y <= ys[i]`` for some sampled column i: the points a region closed downwards is
    known to hold. Every sampled point, the plan's and each best point among them, lies
    inside it; between sampled columns the region may reach higher than drawn."""
    order = np.argsort(xs)
    xs, ys = np.asarray(xs, dtype=float)[order], np.asarray(ys, dtype=float)[order]
    tops = np.maximum.accumulate(ys[::-1])[::-1]  # the highest column at or right of each
    px, py = [-0.5, -0.5], [-0.5, tops[0] + 0.5]
    for i in range(len(xs)):
        px += [xs[i] + 0.5, xs[i] + 0.5]
        py += [tops[i] + 0.5, tops[i + 1] + 0.5 if i + 1 < len(xs) else -0.5]
    return np.array(px), np.array(py)


def _rule_lines(ax: Axes, region: an.FeasibleRegion) -> list:
    """Draw the zero contour of each rule's slack; legend handles for those in view."""
    import contourpy
    from matplotlib.lines import Line2D

    handles = []
    if region.rules.empty:
        return handles
    for rule in an.RULE_UNITS:
        part = region.rules[region.rules["rule"] == rule]
        if part.empty:
            continue
        grid = part.pivot_table(index="b_racks", columns="a_racks", values="slack")
        z = grid.to_numpy(dtype=float)
        if not (np.nanmin(z) < 0 < np.nanmax(z)):
            continue
        gx = grid.columns.to_numpy(dtype=float)
        gy = grid.index.to_numpy(dtype=float)
        lines = contourpy.contour_generator(gx, gy, z).lines(0.0)
        colour, style = RULE_STYLE[rule]
        drawn = False
        for seg in lines:
            if len(seg) < 2:
                continue
            ax.plot(seg[:, 0], seg[:, 1], color=colour, linestyle=style, linewidth=1.8, zorder=2)
            drawn = True
        if drawn:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linestyle=style,
                    linewidth=1.8,
                    label=_rule_label(rule, region.scope),
                )
            )
    return handles


# -- 2. compute-cost frontier ----------------------------------------------------------------
def frontier(
    data: pd.DataFrame | Scenario | Plan,
    budgets: Iterable[float] | None = None,
    *,
    ax: Axes | None = None,
    **options: Any,
) -> Axes:
    """Most compute against budget (or least spend against the GPU target of a min_cost
    scenario) as a step curve over the solved points, with the points where the retrofit
    set changes numbered and listed.

    ``data``: a table from :func:`planner.analysis.frontier`, or a scenario (or plan, whose
    scenario is used and whose solution is reused where it applies) to compute it from
    with ``budgets`` and ``options``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    if isinstance(data, pd.DataFrame):
        df = data
    else:
        sc = _scenario_of(data)
        if isinstance(data, Plan):
            options.setdefault("plan", data)
        df = an.frontier(sc, budgets, **options)
    ax = _axes(ax, (11.0, 5.5))
    by_budget = "budget_usd" in df.columns
    xcol = "budget_usd" if by_budget else "gpu_target"
    ycol = "pflops_periods" if by_budget else "spend_usd"
    ok = df[df["status"].isin(["optimal", "feasible"])].sort_values(xcol)
    x = ok[xcol].to_numpy(dtype=float)
    y = ok[ycol].to_numpy(dtype=float)
    colour = OKABE_ITO[3]
    if by_budget:
        x_plot, y_plot = x / 1e6, y
    else:
        x_plot, y_plot = x, y / 1e6
    # between solved budgets the most compute is at least the last point's (steps-post);
    # against a target, spend up to the next target is at most the next point's (pre)
    ax.step(x_plot, y_plot, where="post" if by_budget else "pre", color=colour, linewidth=2)
    proven = (ok["status"] == "optimal").to_numpy()
    ax.plot(x_plot[proven], y_plot[proven], "o", color=colour, mec="#000000", ms=7, zorder=3)
    if not proven.all():
        ax.plot(
            x_plot[~proven], y_plot[~proven], "o", mfc="#FFFFFF", mec=colour, mew=2, ms=7, zorder=3
        )
    handles = [
        Line2D(
            [],
            [],
            color=colour,
            marker="o",
            mec="#000000",
            linewidth=2,
            label="solved point (one planner.solve each)",
        )
    ]
    if not proven.all():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                mfc="#FFFFFF",
                mec=colour,
                mew=2,
                ls="none",
                label="stopped early: best plan found (not proven optimal)",
            )
        )
    bad = df[~df["status"].isin(["optimal", "feasible"])]
    if not bad.empty:
        bx = bad[xcol].to_numpy(dtype=float) / (1e6 if by_budget else 1)
        ax.plot(bx, np.zeros_like(bx), "x", color=OKABE_ITO[4], ms=9, mew=2)
        handles.append(
            Line2D([], [], marker="x", color=OKABE_ITO[4], ls="none", mew=2, label="no plan found")
        )
    number = 0
    for xv, yv, row in zip(x_plot, y_plot, ok.itertuples(index=False), strict=True):
        if not row.changed:
            continue
        number += 1
        ax.annotate(
            str(number),
            (xv, yv),
            xytext=(-10, 10),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            bbox=dict(boxstyle="circle,pad=0.2", fc="#FFFFFF", ec=colour),
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=f"${number}$",
                ls="none",
                color="#000000",
                ms=8,
                label=textwrap.fill(row.label, 44),
            )
        )
    if by_budget:
        per = "each period's spend" if df.attrs.get("mode") == "per_period" else "total spend"
        ax.set_xlabel(f"budget: cap on {per} ($M)")
        ax.set_ylabel(_compute_label(df.attrs.get("n_periods", 2)))
        ax.set_title("Compute-cost frontier: most compute for each budget")
    else:
        ax.set_xlabel("GPU target in the last period (GPUs)")
        ax.set_ylabel("least total spend ($M)")
        ax.set_title("Cost frontier: least spend for each GPU target")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=max(float(np.nanmax(y_plot)) if len(y_plot) else 1.0, 1.0) * 1.12)
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend_outside(
        ax,
        handles,
        title="numbered: the retrofit set changes" if number else None,
        title_fontsize="small",
    )
    return ax


# -- 3. timeline -----------------------------------------------------------------------------
def timeline(
    data: an.Timeline | Plan,
    *,
    metric: str = "gpus",
    by: str = "rack_type",
    ax: Axes | None = None,
    spend_ax: Axes | None = None,
) -> Axes:
    """GPUs (``metric="gpus"``) or PFLOPS (``"pflops"``) operating per period, stacked by
    ``by`` ("rack_type", "hall" or "site"), with retrofit units marked above the bars in
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
    if by not in ("rack_type", "hall", "site"):
        raise ValueError("by must be 'rack_type', 'hall' or 'site'")
    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(11.5, 7.5), layout="constrained")
        ax, spend_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2.4, 1])
    periods = tl.periods
    xs = np.arange(len(periods))
    op = tl.operating.copy()
    op["group"] = op["site"] + "/" + op["hall"] if by == "hall" else op[by]
    table = op.pivot_table(
        index="period_index", columns="group", values=metric, aggfunc="sum", fill_value=0
    ).reindex(range(len(periods)), fill_value=0)
    groups = list(table.columns)
    bottom = np.zeros(len(periods))
    handles: list = []
    for i, group in enumerate(groups):
        values = table[group].to_numpy(dtype=float)
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        hatch = HATCHES[(i // len(OKABE_ITO) + i) % len(HATCHES)]
        handles.append(_stacked_bar(ax, xs, values, bottom, colour, hatch, str(group)))
        bottom += values
    total = float(bottom.max()) if len(bottom) else 0.0
    top = total if total > 0 else 1.0

    # retrofits completing in each period, one row per kind in a band above the bars
    ret = tl.retrofits
    kinds = [k for k in KIND_LABELS if k in set(ret["kind"])]
    band = 0.1 * top
    for row_i, kind in enumerate(kinds):
        level = top * 1.08 + band * (row_i + 0.5)
        marker, colour = KIND_STYLE[kind]
        done = ret[ret["kind"] == kind].groupby("period_index")["units_added"].sum()
        for t, units in done.items():
            ax.plot(t, level, marker=marker, ms=9, color=colour, mec="#000000", ls="none")
            ax.annotate(
                f"+{units:,}",
                (t, level),
                xytext=(7, 0),
                textcoords="offset points",
                va="center",
                fontsize=7.5,
            )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                color=colour,
                mec="#000000",
                ls="none",
                ms=8,
                label=f"{KIND_LABELS[kind]} units completed",
            )
        )
    if kinds:
        ax.axhline(top * 1.04, color="#999999", linewidth=0.6)
    ax.set_ylim(0, top * 1.08 + band * (len(kinds) + 0.3) if kinds else top * 1.1)
    # no value ticks in the band of retrofit markers
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=6).tick_values(0, top)
    ax.set_yticks([v for v in ticks if v <= top * 1.001])
    unit = "GPUs operating (count)" if metric == "gpus" else "compute operating (PFLOPS)"
    ax.set_ylabel(unit)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(
        f"Build-out timeline: {tl.scenario_name}"
        + ("\n(markers above the bars: retrofit units completed in the period)" if kinds else "")
    )
    ax.grid(True, axis="y", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xticks(xs, periods)
    by_label = {"rack_type": "rack type", "hall": "hall", "site": "site"}[by]
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


# -- 4. utilisation --------------------------------------------------------------------------
def utilisation(
    data: pd.DataFrame | Plan,
    *,
    period: str | None = None,
    annotate: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of the share of every resource used: one row per hall (and per site for
    facility water and feed), one column per resource (per resource and period, periods
    left to right within each resource, for multi-period plans; ``period`` picks one).
    Binding resources (>= 99.9% used) are crossed; resources with no capacity are hatched.

    ``data``: a table from :func:`planner.analysis.utilisation_matrix`, or a plan.
    ``annotate``: print the percentages in the cells (default: when the map is small).
    """
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    df = data if isinstance(data, pd.DataFrame) else an.utilisation_matrix(data)
    name = data.scenario.name if isinstance(data, Plan) else ""
    periods = list(dict.fromkeys(df.sort_values("period_index")["period"]))
    if period is not None:
        if period not in periods:
            raise ValueError(f"unknown period {period!r}")
        df = df[df["period"] == period]
        periods = [period]
    resources = [r for r in an.RESOURCE_LABELS if r in set(df["resource"])]
    # rows: each site's halls, then the site itself (facility water and feed)
    rows: list[tuple[str, str]] = []
    for site in dict.fromkeys(df["site"]):
        halls = [h for h in dict.fromkeys(df[df["site"] == site]["hall"]) if h]
        rows += [(site, h) for h in halls] + [(site, "")]
    row_of = {key: i for i, key in enumerate(rows)}
    n_p = len(periods)
    col_of = {
        (res, p): ri * n_p + pi for ri, res in enumerate(resources) for pi, p in enumerate(periods)
    }
    share = np.full((len(rows), len(col_of)), np.nan)
    binding = np.zeros_like(share, dtype=bool)
    for r in df.itertuples(index=False):
        i, j = row_of[r.site, r.hall], col_of[r.resource, r.period]
        share[i, j] = r.share
        binding[i, j] = r.binding
    n_rows, n_cols = share.shape
    own_figure = ax is None
    if ax is None:
        width = max(min(4.5 + 0.42 * n_cols, 16.0), 9.5)
        height = min(2.4 + 0.32 * n_rows, 24.0)
        ax = _axes(None, (width, max(height, 4.0)))
    import matplotlib as mpl

    cmap = mpl.colormaps["cividis"].with_extremes(bad=(1, 1, 1, 0))
    shown = np.ma.masked_invalid(np.where(np.isinf(share), 1.0, share))
    # no capacity: hatched background shows through masked cells
    ax.add_patch(
        Rectangle(
            (0, 0),
            n_cols,
            n_rows,
            facecolor="#F2F2F2",
            hatch="////",
            edgecolor="#BBBBBB",
            linewidth=0,
            zorder=0,
        )
    )
    mesh = ax.pcolormesh(
        np.arange(n_cols + 1),
        np.arange(n_rows + 1),
        shown,
        cmap=cmap,
        norm=Normalize(0.0, 1.0),
        zorder=1,
    )
    ys, xs_ = np.nonzero(binding)
    ax.scatter(xs_ + 0.5, ys + 0.5, marker="x", s=28 if n_rows > 20 else 45, c="#000000", zorder=3)
    if annotate is None:
        annotate = n_rows * n_cols <= 160
    if annotate:
        for i in range(n_rows):
            for j in range(n_cols):
                v = share[i, j]
                if not math.isfinite(v) and not math.isinf(v):
                    continue
                text = "over" if math.isinf(v) else f"{v:.0%}"
                dark = math.isfinite(v) and v < 0.55
                ax.text(
                    j + 0.5,
                    i + 0.78 if binding[i, j] else i + 0.5,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#FFFFFF" if dark else "#000000",
                    zorder=4,
                )
    # separators between resources and between sites
    for k in range(1, len(resources)):
        ax.axvline(k * n_p, color="#FFFFFF", linewidth=2.5, zorder=2)
    for i in range(1, n_rows):
        if rows[i][0] != rows[i - 1][0]:
            ax.axhline(i, color="#FFFFFF", linewidth=2.5, zorder=2)
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)
    ax.set_yticks(
        np.arange(n_rows) + 0.5,
        [f"{h}" if h else f"{s} (site)" for s, h in rows],
        fontsize=8 if n_rows > 20 else 9,
    )
    centres = np.arange(len(resources)) * n_p + n_p / 2
    ax.set_xticks(centres, [an.RESOURCE_LABELS[r] for r in resources], rotation=30, ha="right")
    ax.tick_params(axis="x", length=0)
    if n_p > 1:
        ax.set_xlabel(
            f"resource (each block: periods {periods[0]} \u2192 {periods[-1]}, left to right)"
        )
    else:
        ax.set_xlabel(f"resource ({periods[0]})")
    ax.set_ylabel("hall (site rows: facility water and feed)")
    title = "Utilisation: share of each resource's capacity used"
    ax.set_title(f"{title}\n{name}" if name else title)
    cbar = ax.figure.colorbar(mesh, ax=ax, fraction=0.03, pad=0.02, aspect=30)
    cbar.set_label("share of capacity used (%)")
    cbar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0", "25", "50", "75", "100"])
    keys = [
        Line2D([], [], marker="x", color="#000000", ls="none", ms=7, label="binding (>= 99.9%)"),
        Patch(
            facecolor="#F2F2F2",
            hatch="////",
            edgecolor="#BBBBBB",
            label="no capacity (or not applicable)",
        ),
    ]
    if own_figure:
        ax.figure.legend(
            handles=keys, loc="outside lower center", ncols=2, frameon=False, fontsize="small"
        )
    else:
        ax.set_title(
            f"{ax.get_title()}\nx: binding (>= 99.9% used); hatched: no capacity or not applicable"
        )
    return ax


# -- 5. bandwidth sensitivity ----------------------------------------------------------------
def bandwidth_sensitivity(
    data: pd.DataFrame | Scenario | Plan,
    multiples: Iterable[float] = range(24, 33, 2),
    budgets: Iterable[float | None] | None = None,
    rack_type: str | None = None,
    *,
    ax: Axes | None = None,
    **options: Any,
) -> Axes:
    """Compute achievable (least spend, for min_cost scenarios) against a rack type's
    network multiple, one line per budget level.

    ``data``: a table from :func:`planner.analysis.bandwidth_sensitivity`, or a scenario
    (or plan) to compute it from with ``multiples``, ``budgets``, ``rack_type`` and
    ``options`` (``mode``, ``pro_rata``, ``solver``, ``time_limit_s``, ``mip_gap``).
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    sc = _scenario_of(data)
    if isinstance(data, pd.DataFrame):
        df = data
    else:
        df = an.bandwidth_sensitivity(sc, multiples, budgets, rack_type, **options)
    ax = _axes(ax, (10.5, 5.5))
    min_cost = df.attrs.get("objective") == "min_cost" or (
        sc is not None and sc.objective == "min_cost"
    )
    ycol = "spend_usd" if min_cost else "pflops_periods"
    handles = []
    stopped = False
    all_y: list[float] = []
    for i, (label, part) in enumerate(df.groupby("budget_label", sort=False)):
        part = part.sort_values("network_multiple")
        ok = part["status"].isin(["optimal", "feasible"])
        y = part[ycol].where(ok).to_numpy(dtype=float)
        if min_cost:
            y = y / 1e6
        colour = OKABE_ITO[(i + 3) % len(OKABE_ITO)]
        marker = MARKERS[i % len(MARKERS)]
        style = LINESTYLES[i % len(LINESTYLES)]
        all_y += list(y)
        finite = y[np.isfinite(y)]
        change = ""
        if len(finite) > 1 and finite[0]:
            m = part["network_multiple"].to_numpy()[np.isfinite(y)]
            change = f" ({finite[-1] / finite[0] - 1:+.1%} from {m[0]:g}x to {m[-1]:g}x)"
        ax.plot(
            part["network_multiple"],
            y,
            color=colour,
            marker=marker,
            linestyle=style,
            linewidth=2,
            ms=7,
            mec="#000000",
        )
        early = (part["status"] == "feasible").to_numpy()
        if early.any():
            stopped = True
            ax.plot(
                part["network_multiple"].to_numpy()[early],
                y[early],
                ls="none",
                marker=marker,
                ms=7,
                mfc="#FFFFFF",
                mec=colour,
                mew=2,
            )
        handles.append(
            Line2D(
                [],
                [],
                color=colour,
                marker=marker,
                linestyle=style,
                linewidth=2,
                mec="#000000",
                label=f"budget: {label}{change}",
            )
        )
    if stopped:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                mfc="#FFFFFF",
                mec="#000000",
                ls="none",
                label="stopped early: best plan found",
            )
        )
    rack = str(df["rack_type"].iloc[0]) if len(df) else ""
    if sc is not None and rack:
        current = an.find_rack(sc, rack).network_multiple
        lo, hi = df["network_multiple"].min(), df["network_multiple"].max()
        if current is not None and lo <= current <= hi:
            ax.axvline(current, color="#777777", linestyle=":", linewidth=1.2)
            handles.append(
                Line2D(
                    [], [], color="#777777", linestyle=":", label=f"scenario's value ({current:g}x)"
                )
            )
        elif current is not None:
            handles.append(Line2D([], [], ls="none", label=f"scenario's value: {current:g}x"))
    if len(df) and df["network_gbps"].notna().all():
        ratio = float(df["network_gbps"].iloc[0] / df["network_multiple"].iloc[0])
        sec = ax.secondary_xaxis("top", functions=(lambda m: m * ratio, lambda g: g / ratio))
        sec.set_xlabel(f"{rack} bandwidth per rack (Gbps)")
    scope = " (other rack types pro rata)" if df.attrs.get("pro_rata") else ""
    ax.set_xlabel(f"{rack} network multiple (x a CPU-era rack's bandwidth){scope}")
    if min_cost:
        ax.set_ylabel("least total spend ($M)")
    else:
        n = sc.n_periods if sc is not None else df.attrs.get("n_periods", 2)
        ax.set_ylabel(_compute_label(n) + " achievable")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    # from zero when the lines move a lot; zoomed in (labelled with the change) otherwise
    values = np.array([v for v in all_y if math.isfinite(v)])
    if len(values) and values.max() > 0:
        spread = (values.max() - values.min()) / values.max()
        if spread > 0.2:
            ax.set_ylim(0, values.max() * 1.08)
        else:
            pad = max(values.max() - values.min(), 0.02 * values.max()) * 0.25
            ax.set_ylim(values.min() - pad, values.max() + pad)
    ax.set_title("Bandwidth sensitivity: compute against the GPU rack's network need")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend_outside(ax, handles)
    return ax


# -- every plot that fits a plan ---------------------------------------------------------------
SWEEP_KINDS = ("frontier", "bandwidth")


def sweep_solves(plan: Plan, points: int = 5) -> int:
    """Extra solves the frontier and bandwidth plots of :func:`plot_all` would take."""
    return (points - 1) + (len(range(24, 33, 2)) if _bandwidth_fits(plan.scenario) else 0)


def _bandwidth_fits(sc: Scenario) -> bool:
    return sc.reference_rack is not None and sc.objective == "max_compute"


def plot_all(
    plan: Plan,
    directory: str | Path | Staging,
    *,
    sweeps: str = "auto",
    sweep_seconds: float = 20.0,
    points: int = 5,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    dpi: int = 150,
    note=None,
) -> list[Path]:
    """Write the plots that fit the plan as PNG files in ``directory`` (a folder, or a
    :class:`~planner.files.Staging` of one being written); return their paths. Each file
    is written in one step; in a folder given by path, the plots of an earlier run that
    this one does not draw are removed (see :mod:`planner.files`).

    * ``utilisation.png`` always; ``timeline.png`` for multi-period plans;
    * ``feasible.png`` for the first hall with two deployable rack types
      (:func:`planner.analysis.default_pair`);
    * ``frontier.png`` (``points`` budgets up to the plan's spend, or GPU targets for
      min_cost, the plan reused for its own point) and ``bandwidth.png`` (max_compute
      scenarios with a reference rack: multiples 24..32 of the default rack type) need
      extra solves: ``sweeps="all"`` draws them, ``"none"`` skips them, ``"auto"`` draws
      them when the extra solves, estimated from the plan's own solve time, should take
      at most ``sweep_seconds``. Each sweep solve stops after ``time_limit_s`` or, when
      that is None, after five times the plan's own solve time (at least 5 s), and is
      drawn with the best plan found by then.

    ``note``: called with a message for each plot skipped and why.
    """
    import matplotlib.pyplot as plt

    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    if sweeps not in ("auto", "all", "none"):
        raise ValueError("sweeps must be 'auto', 'all' or 'none'")
    note = note or (lambda message: None)
    if not isinstance(directory, Staging):
        with Staging(directory) as staged:
            return plot_all(
                plan,
                staged,
                sweeps=sweeps,
                sweep_seconds=sweep_seconds,
                points=points,
                solver=solver,
                time_limit_s=time_limit_s,
                mip_gap=mip_gap,
                dpi=dpi,
                note=note,
            )
    sc = plan.scenario
    opts = dict(solver=solver, time_limit_s=time_limit_s, mip_gap=mip_gap)
    written: list[Path] = []

    def save(name: str, ax: Axes) -> None:
        try:
            path = directory.write(
                f"{name}.png", lambda p: ax.figure.savefig(p, dpi=dpi, format="png")
            )
        finally:
            plt.close(ax.figure)
        written.append(path)

    if sc.n_periods > 1:
        save("timeline", timeline(plan))
    save("utilisation", utilisation(plan))
    pair = an.default_pair(plan)
    if pair is None:
        note("feasible.png skipped: no hall has two deployable rack types")
    else:
        save("feasible", feasible_region(plan, *pair, columns=40, grid=61, **opts))
    per_solve = max(plan.solve_seconds + plan.build_seconds, 0.01)
    estimate = per_solve * sweep_solves(plan, points)
    if sweeps == "none" or (sweeps == "auto" and estimate > sweep_seconds):
        why = "--sweeps none" if sweeps == "none" else f"about {estimate:.0f} s of extra solves"
        note(
            f"frontier.png and bandwidth.png skipped ({why}); draw them with "
            "`planner plot frontier|bandwidth CONFIG` or --sweeps all"
        )
        return written
    # a changed scenario can be much harder than the plan's: bound each sweep solve
    if time_limit_s is None:
        opts["time_limit_s"] = max(5.0, 5 * per_solve)
    if sc.objective == "min_cost":
        save("frontier", frontier(plan, points=points, **opts))
    else:
        budgets = an.default_budgets(sc, points, plan)
        save("frontier", frontier(plan, budgets, **opts))
    if _bandwidth_fits(sc):
        save("bandwidth", bandwidth_sensitivity(sc, **opts))
    else:
        note("bandwidth.png skipped: needs a max_compute scenario with a reference_rack")
    return written
