"""Feasible build-outs: which mixes of two rack types a hall (or a site) takes."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import analysis as an
from ..plan import Plan
from ..scenario import Scenario
from .style import REGION_STYLE, RULE_STYLE, SITE_TOTAL_RULES, _axes, _legend_outside

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


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

    # the rules' lines are the plan's retrofit set's: drawn over the region they bound
    own = region.columns[
        (region.columns["retrofits"] == "plan") & (region.columns["b_racks_max"] >= 0)
    ]
    box = (
        (float(own["a_racks"].max()) + 1, float(own["b_racks_max"].max()) + 1)
        if len(own)
        else (region.x_limit, region.y_limit)
    )
    handles += _rule_lines(ax, region, box)
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
    points = list(region.points.itertuples(index=False))
    plan_at = next(((p.a_racks, p.b_racks) for p in points if p.kind == "optimum"), None)
    also = [
        an.MODE_SHORT[p.kind]
        for p in points
        if p.kind != "optimum" and (p.a_racks, p.b_racks) == plan_at
    ]
    for row in points:
        if row.kind != "optimum" and (row.a_racks, row.b_racks) == plan_at:
            continue  # the plan's own point: said once, with the plan
        if row.kind == "optimum":
            marker, colour, size, face, edge = "*", "#000000", 17, "#FFFFFF", "#000000"
            what = "the plan" + (f" (also the best {' and '.join(also)})" if also else "")
        else:
            colour, _, marker = REGION_STYLE[row.kind]
            size, face, edge = 9, colour, "#000000"
            what = f"best {an.MODE_SHORT[row.kind]}"
        style = dict(marker=marker, mfc=face, mec=edge, mew=1.3, ls="none")
        ax.plot(
            row.a_racks, row.b_racks, ms=size, zorder=4 if row.kind == "optimum" else 3, **style
        )
        text = f"{what}: ({row.a_racks:,}, {row.b_racks:,}) = {row.pflops:,.0f} PFLOPS"
        stops = [  # what stops one more rack: said for the plan only
            f"+1 {name}: {why}"
            for name, why in ((region.rack_a, row.stops_a), (region.rack_b, row.stops_b))
            if why and row.kind == "optimum"
        ]
        label = "\n".join(
            [textwrap.fill(text, 44)]
            + [textwrap.fill(s, 44, initial_indent="  ", subsequent_indent="    ") for s in stops]
        )
        handles.append(Line2D([], [], ms=size * 0.75, label=label, **style))
    x_top, y_top = region.x_limit, region.y_limit
    if len(own) and (box[0] * 3 < x_top or box[1] * 3 < y_top):
        # the budget region dwarfs the plan's: frame the plan's, say where the rest goes
        x_top, y_top = min(x_top, box[0] * 1.5 + 2), min(y_top, box[1] * 1.5 + 2)
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                label=textwrap.fill(
                    f"zoomed to the plan's region: the budget's reaches "
                    f"({region.x_limit:,.0f}, {region.y_limit:,.0f})",
                    44,
                ),
            )
        )
    ax.set_xlim(-0.03 * x_top - 0.5, x_top)
    ax.set_ylim(-0.03 * y_top - 0.5, y_top)
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
        "with the plan's retrofits, over their region"
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


def _rule_lines(ax: Axes, region: an.FeasibleRegion, box: tuple[float, float]) -> list:
    """Draw the zero contour of each rule's slack (for the plan's retrofit set) within
    ``box`` (the plan's region: outside it the other regions' retrofits change the limit,
    so a line there would contradict them); legend handles for those drawn."""
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
            seg = np.array(seg, dtype=float)
            seg[(seg[:, 0] > box[0]) | (seg[:, 1] > box[1])] = np.nan
            if len(seg) < 2 or np.isnan(seg).all():
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
