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

from .all import plot_all, sweep_solves
from .alternatives import alternatives
from .bandwidth import bandwidth_sensitivity
from .clusters import cluster_map
from .feasible import feasible_region
from .frontier import frontier
from .risk import delivery_cases
from .style import HATCHES, KIND_LABELS, KIND_STYLE, LINESTYLES, MARKERS, OKABE_ITO, RULE_STYLE
from .timeline import timeline
from .utilisation import utilisation

__all__ = [
    "HATCHES",
    "KIND_LABELS",
    "KIND_STYLE",
    "LINESTYLES",
    "MARKERS",
    "OKABE_ITO",
    "RULE_STYLE",
    "alternatives",
    "bandwidth_sensitivity",
    "cluster_map",
    "delivery_cases",
    "feasible_region",
    "frontier",
    "plot_all",
    "sweep_solves",
    "timeline",
    "utilisation",
]
