"""Solving a scenario: from its model to a checked plan.

* :mod:`.options`: :class:`SolveOptions` (solver, time limit, gap, threads) and deadlines;
* :mod:`.highs` and :mod:`.solvers`: running HiGHS or CBC and checking what they hand back;
* :mod:`.starts`: where a search starts (the rule-of-thumb plan, the LP relaxation);
* :mod:`.prune`: least spend for a plan's racks when time is short;
* :mod:`.diagnose`: why a scenario has no plan;
* :mod:`.optimize`: :func:`solve`; :mod:`.readback`: its decisions as a Plan;
* :mod:`.replan`: :func:`replan` and :func:`scenario_at`, re-planning from a period on;
* :mod:`.alternatives`: one near-optimal alternative; :mod:`.stress`: late deliveries;
  :mod:`.hedge`: a plan that hedges them.
"""

from .diagnose import diagnose
from .hedge import Hedge
from .highs import SolverUnavailable
from .optimize import solve
from .options import SOLVERS, Deadline, SolveOptions
from .replan import replan, scenario_at
from .solvers import SolveResult, SolverFailed, run
from .stress import Stress, slipped, stress

__all__ = [
    "SOLVERS",
    "Deadline",
    "Hedge",
    "SolveOptions",
    "SolveResult",
    "SolverFailed",
    "SolverUnavailable",
    "Stress",
    "diagnose",
    "replan",
    "run",
    "scenario_at",
    "slipped",
    "solve",
    "stress",
]
