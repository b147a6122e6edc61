"""Near-optimal alternatives side by side: what each plan does to every metric."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..plan.metrics import METRICS
from .style import HATCHES, OKABE_ITO, _axes, _legend_outside, _usd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: the columns drawn, in order: the scenario's objective, then every metric
COLUMNS = ["objective", *METRICS]
_NAMES = {
    "halls_touched": "halls touched",
    "sites_used": "sites used",
    "liquid_share": "liquid-cooled\nshare of GPUs",
    "cdu_units": "CDU units",
    "cpu_racks_retired": "CPU racks\nretired",
    "spend_usd": "spend",
}


def _text(column: str, value: float, unit: str) -> str:
    if column == "spend_usd" or (column == "objective" and unit == "USD"):
        return _usd(value)
    if column == "liquid_share":
        return f"{value:.0%}"
    return f"{value:,.0f}"


def alternatives(data: Any, *, ax: Axes | None = None) -> Axes:
    """Grouped bars, one group per metric (and the objective), one bar per plan (the
    optimum first): each bar is the plan's value as a share of the largest value any plan
    has, labelled with the value itself, so metrics of any unit sit on one axis.

    ``data``: what :func:`planner.alternatives` returns, or its table. Plans without a
    solution are left out.
    """
    from matplotlib.patches import Patch

    table = data if isinstance(data, pd.DataFrame) else data.table
    shown = table[table["status"].isin(["optimal", "feasible"])].reset_index(drop=True)
    ax = _axes(ax, (12.0, 5.0))
    n = max(len(shown), 1)
    width = 0.8 / n
    xs = np.arange(len(COLUMNS))
    tops = shown[COLUMNS].abs().max().replace(0, 1.0)
    handles = []
    for i, row in shown.iterrows():
        colour, hatch = OKABE_ITO[i % len(OKABE_ITO)], HATCHES[i % len(HATCHES)]
        heights = [row[c] / tops[c] for c in COLUMNS]
        bars = ax.bar(xs + (i - (n - 1) / 2) * width, heights, width, color=colour,
                      hatch=hatch, edgecolor="black", linewidth=0.5)  # fmt: skip
        for bar, c in zip(bars, COLUMNS, strict=True):
            top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
            ax.annotate(_text(c, row[c], row["objective_unit"]), top, xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom",
                        fontsize="x-small", rotation=90)  # fmt: skip
        name = row["alternative"] + ("" if row["status"] == "optimal" else " (not proven)")
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="black", label=name))
    unit = shown["objective_unit"].iloc[0] if len(shown) else ""
    names = [f"objective\n({unit})" if c == "objective" else _NAMES[c] for c in COLUMNS]
    ax.set_xticks(xs, names, fontsize="small")
    ax.set_ylim(0, 1.35)
    ax.set_ylabel("share of the largest value among the plans")
    ax.set_title("Near-optimal alternatives: every plan's metrics (labels: the values)")
    ax.grid(axis="y", alpha=0.3)
    _legend_outside(ax, handles, title="plan")
    return ax
