"""Late deliveries: what the plan made for on-time delivery keeps in each case, against
the plan that hedged them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .style import HATCHES, OKABE_ITO, _axes, _legend_outside

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def delivery_cases(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bars per delivery case (weight in the label): the on-time plan's PFLOPS-periods
    there (its retrofits held, racks re-planned) beside the hedged plan's, and a last
    pair for the expectation over the cases.

    ``table``: from :func:`planner.insight.hedge_against`.
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    ax = _axes(ax, (10.0, 4.5))
    names = [f"{c}\n(weight {w:.0%})" for c, w in zip(table["case"], table["weight"], strict=True)]
    names.append("expected")
    xs = np.arange(len(names))
    series = [("plan", "made for on-time delivery"), ("hedged", "hedged")]
    handles = []
    for i, (who, label) in enumerate(series):
        values = [*table[f"{who}_pflops_periods"], table.attrs.get(f"{who}_expected", np.nan)]
        colour, hatch = OKABE_ITO[i + 4], HATCHES[i]
        bars = ax.bar(xs + (i - 0.5) * 0.38, values, 0.38, color=colour, hatch=hatch,
                      edgecolor="black", linewidth=0.5)  # fmt: skip
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center",
                        fontsize="x-small")  # fmt: skip
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="black", label=label))
    ax.set_xticks(xs, names, fontsize="small")
    ax.set_ylabel("PFLOPS-periods")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title("Compute kept when GPU deliveries slip")
    ax.grid(axis="y", alpha=0.3)
    _legend_outside(ax, handles, title="plan")
    return ax
