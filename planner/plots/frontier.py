"""The compute-cost frontier: most compute against budget, least spend against target."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import analysis as an
from ..plan import Plan
from ..scenario import Scenario
from .style import OKABE_ITO, _axes, _compute_label, _legend_outside, _scenario_of

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


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
