"""The data behind the planner's plots, as tidy tables from real solves and real checks.

Nothing here draws; :mod:`planner.plots` draws what these functions return, and the tests
check these tables. Column names carry their unit (``spend_usd``, ``pflops_periods``).

* feasible build-outs of two rack types: :func:`feasible_points`, :func:`feasible_region`
  (:mod:`.feasible`), from a hall's region decided point by point (:mod:`.hall_region`,
  with :mod:`.case` and :mod:`.doors`), a site's (:mod:`.site_region`) and the MILP's,
  one solve per column (:mod:`.milp_region`);
* :func:`stranded`: GPUs a plan's racks leave outside every training cluster;
* :func:`frontier`: most compute against budget, or least spend against a GPU target;
* :func:`timeline`: what operates per period; :func:`utilisation_matrix`: every resource's
  share used; :func:`bandwidth_sensitivity`: compute against a network multiple.
"""

from .bandwidth import bandwidth_rack, bandwidth_sensitivity, default_multiples, with_multiple
from .common import (
    BINDING_SHARE,
    MODE_LABELS,
    MODE_SHORT,
    MODES,
    RESOURCE_LABELS,
    RULE_LABELS,
    RULE_UNITS,
    default_pair,
    deployable,
    find_hall,
    find_rack,
    find_site,
    mode_label,
    period_index,
    site_pair,
    snapshot,
    snapshot_scenario,
)
from .feasible import FeasibleRegion, feasible_points, feasible_region
from .frontier import (
    change_label,
    default_budgets,
    frontier,
    retrofit_set,
    with_budget,
    with_target,
)
from .stranding import STRANDED_COLUMNS, stranded
from .timeline import Timeline, timeline
from .utilisation import utilisation_matrix

__all__ = [
    "BINDING_SHARE",
    "MODES",
    "MODE_LABELS",
    "MODE_SHORT",
    "RESOURCE_LABELS",
    "RULE_LABELS",
    "RULE_UNITS",
    "STRANDED_COLUMNS",
    "FeasibleRegion",
    "Timeline",
    "bandwidth_rack",
    "default_multiples",
    "bandwidth_sensitivity",
    "change_label",
    "default_budgets",
    "default_pair",
    "deployable",
    "feasible_points",
    "feasible_region",
    "find_hall",
    "find_rack",
    "find_site",
    "frontier",
    "mode_label",
    "period_index",
    "retrofit_set",
    "site_pair",
    "snapshot",
    "snapshot_scenario",
    "stranded",
    "timeline",
    "utilisation_matrix",
    "with_budget",
    "with_multiple",
    "with_target",
]
