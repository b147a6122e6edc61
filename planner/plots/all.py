"""Every plot that fits a plan, written as PNG files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import analysis as an
from ..plan import Plan
from ..plan.files import Staging
from ..scenario import Scenario
from ..solving import SolveOptions
from ..solving.pool import workers_for
from .bandwidth import bandwidth_sensitivity
from .clusters import cluster_map
from .feasible import feasible_region
from .frontier import frontier
from .timeline import timeline
from .utilisation import utilisation

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


SWEEP_KINDS = ("frontier", "bandwidth")


def sweep_solves(plan: Plan, points: int = 5) -> int:
    """Extra solves the frontier and bandwidth plots of :func:`plot_all` would take."""
    return sum(n for n, _ in _sweeps(plan, points).values())


def _sweeps(plan: Plan, points: int) -> dict[str, tuple[int, int]]:
    """``{plot: (solves at the same time, solves before them)}`` of the sweep plots: the
    frontier's budgets (the plan reused for its own point; with targets, a least-spend
    solve first) and the bandwidth's five multiples."""
    sc = plan.scenario
    targets = bool(sc.gpu_targets) or any(kind.targets for kind in sc.cluster_kinds())
    first = 1 if targets and sc.objective == "max_compute" else 0
    found = {"frontier": (points - 1, first)}
    if _bandwidth_fits(sc):
        found["bandwidth"] = (len(range(24, 33, 2)), 0)
    return found


def sweep_limit(plan: Plan) -> float:
    """Seconds each sweep solve may take by default: three times the plan's own build and
    solve, at least 5 s (a changed scenario can be much harder than the plan's)."""
    return max(5.0, 3 * (plan.solve_seconds + plan.build_seconds))


def _timing(plan: Plan, kind: str, points: int, limit: float | None) -> tuple:
    """``(solves, at once, rounds, seconds per solve, limit)`` of one sweep plot: solves
    before the sweep one at a time, then the sweep's as :func:`solve_all` runs them."""
    together, before = _sweeps(plan, points)[kind]
    limit = sweep_limit(plan) if limit is None else limit
    per = min(max(plan.solve_seconds + plan.build_seconds, 0.01), limit)
    at_once = min(workers_for(together, per), together)
    return together + before, at_once, before + math.ceil(together / at_once), per, limit


def sweep_estimate(plan: Plan, kind: str, points: int = 5, limit: float | None = None) -> str:
    """What a sweep plot will take, in words: ``about 23 s (5 solves, 2 at a time, each
    stopped at 24 s; at most 74 s)``. Calibrated on the shipped scenarios: each solve is
    taken to last as long as the plan's own (measured within 1.5x of that on 2 cores, each
    worker with half the threads); the most is every round running to its limit."""
    solves, at_once, rounds, per, limit = _timing(plan, kind, points, limit)
    return (
        f"about {rounds * per:.0f} s ({solves} solves, {at_once} at a time, each "
        f"stopped at {limit:.0f} s; at most {rounds * limit:.0f} s)"
    )


def estimate_seconds(plan: Plan, points: int = 5) -> float:
    """Expected seconds of every sweep plot together (see :func:`sweep_estimate`)."""
    total = 0.0
    for kind in _sweeps(plan, points):
        _, _, rounds, per, _ = _timing(plan, kind, points, None)
        total += rounds * per
    return total


def _bandwidth_fits(sc: Scenario) -> bool:
    return sc.reference_rack is not None and sc.objective == "max_compute"


def plot_all(
    plan: Plan,
    directory: str | Path | Staging,
    *,
    sweeps: str = "auto",
    sweep_seconds: float = 20.0,
    points: int = 5,
    dpi: int = 150,
    note=None,
    options: SolveOptions | None = None,
    **fields: Any,
) -> list[Path]:
    """Write the plots that fit the plan as PNG files in ``directory`` (a folder, or a
    :class:`~planner.plan.files.Staging` of one being written); return their paths. Each file
    is written in one step; in a folder given by path, the plots of an earlier run that
    this one does not draw are removed (see :mod:`planner.plan.files`).

    * ``utilisation.png`` always; ``timeline.png`` for multi-period plans; ``clusters.png``
      (the cluster map) for scenarios with cluster kinds;
    * ``feasible.png`` for the first hall with two deployable rack types
      (:func:`planner.analysis.default_pair`);
    * ``frontier.png`` (``points`` budgets up to the plan's spend, or GPU targets for
      min_cost, the plan reused for its own point) and ``bandwidth.png`` (max_compute
      scenarios with a reference rack: multiples 24..32 of the default rack type) need
      extra solves: ``sweeps="all"`` draws them, ``"none"`` skips them, ``"auto"`` draws
      them when the extra solves, estimated from the plan's own solve time, should take
      at most ``sweep_seconds`` (:func:`sweep_estimate`). The sweep solves run at the same
      time in worker processes; each stops after the options' ``time_limit_s`` or, when
      that is None, after :func:`sweep_limit`, and is drawn with the best plan found by
      then (hollow markers: not proven optimal).

    ``note``: called with a message for each plot skipped and why.
    """
    import matplotlib.pyplot as plt

    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    if sweeps not in ("auto", "all", "none"):
        raise ValueError("sweeps must be 'auto', 'all' or 'none'")
    note = note or (lambda message: None)
    opts = SolveOptions.of(options, **fields)
    if not isinstance(directory, Staging):
        with Staging(directory) as staged:
            return plot_all(
                plan,
                staged,
                sweeps=sweeps,
                sweep_seconds=sweep_seconds,
                points=points,
                dpi=dpi,
                note=note,
                options=opts,
            )
    sc = plan.scenario
    written: list[Path] = []

    def save(name: str, ax: Axes) -> None:
        try:
            path = directory.write(
                f"{name}.png", lambda p: ax.figure.savefig(p, dpi=dpi, format="png")
            )
        finally:
            plt.close(ax.figure)
        written.append(path)

    if sc.n_periods > 1:
        save("timeline", timeline(plan))
    save("utilisation", utilisation(plan))
    if sc.cluster_kinds():
        save("clusters", cluster_map(plan))
    pair = an.default_pair(plan)
    if pair is None:
        note("feasible.png skipped: no hall has two deployable rack types")
    else:
        save("feasible", feasible_region(plan, *pair, columns=40, grid=61, options=opts))
    estimate = estimate_seconds(plan, points)
    if sweeps == "none" or (sweeps == "auto" and estimate > sweep_seconds):
        why = (
            "--sweeps none"
            if sweeps == "none"
            else f"about {estimate:.0f} s of extra solves: "
            + "; ".join(f"{k} {sweep_estimate(plan, k, points)}" for k in _sweeps(plan, points))
        )
        note(
            f"frontier.png and bandwidth.png skipped ({why}); draw them with "
            "`planner plot frontier|bandwidth CONFIG` or --sweeps all"
        )
        return written
    # a changed scenario can be much harder than the plan's: bound each sweep solve
    if opts.time_limit_s is None:
        opts = opts.replace(time_limit_s=sweep_limit(plan))
    if sc.objective == "min_cost":
        save("frontier", frontier(plan, points=points, options=opts))
    else:
        budgets = an.default_budgets(sc, points, plan)
        save("frontier", frontier(plan, budgets, options=opts))
    if _bandwidth_fits(sc):
        save("bandwidth", bandwidth_sensitivity(sc, options=opts))
    else:
        note("bandwidth.png skipped: needs a max_compute scenario with a reference_rack")
    return written
