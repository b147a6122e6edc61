"""The heat map of every resource's share used, per hall (site) and period."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import analysis as an
from ..plan import Plan
from .style import _axes

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


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
    if n_p > 1:  # the periods along the top of every block (every other one past 12)
        every = 1 if n_p <= 12 else 2
        cols = [k * n_p + j for k in range(len(resources)) for j in range(0, n_p, every)]
        top = ax.secondary_xaxis("top")
        top.set_xticks(
            [c + 0.5 for c in cols],
            [periods[c % n_p] for c in cols],
            rotation=90,
            fontsize=6 if len(cols) > 40 else 7,
        )
        top.tick_params(axis="x", length=2, pad=1)
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
