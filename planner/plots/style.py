"""What every picture shares: colour-blind-safe colours, hatches, markers and line
styles that survive greyscale, the style of each rule and retrofit kind, and small helpers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..plan import Plan
from ..scenario import Scenario

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


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
#: planner.analysis.site_region)
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
