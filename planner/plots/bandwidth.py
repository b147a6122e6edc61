"""Compute against a GPU rack's network multiple, one line per budget."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import analysis as an
from ..plan import Plan
from ..plan.numbers import percent
from ..scenario import Scenario
from .style import (
    LINESTYLES,
    MARKERS,
    OKABE_ITO,
    _axes,
    _compute_label,
    _legend_outside,
    _scenario_of,
)

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


def bandwidth_sensitivity(
    data: pd.DataFrame | Scenario | Plan,
    multiples: Iterable[float] | None = None,
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
            change = (
                f" ({percent(finite[-1] / finite[0] - 1, signed=True)} from {m[0]:g}x "
                f"to {m[-1]:g}x)"
            )
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
    scope = "other rack types pro rata" if df.attrs.get("pro_rata") else "other rack types fixed"
    ax.set_xlabel(f"swept: network multiple of {rack} (x a CPU-era rack's bandwidth; {scope})")
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
