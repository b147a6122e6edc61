"""Every plot that fits a plan, written as PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import analysis as an
from ..plan import Plan
from ..plan.files import Staging
from ..scenario import Scenario
from ..solving import SolveOptions
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
    return (points - 1) + (len(range(24, 33, 2)) if _bandwidth_fits(plan.scenario) else 0)


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
      at most ``sweep_seconds``. Each sweep solve stops after the options'
      ``time_limit_s`` or, when that is None, after five times the plan's own solve time
      (at least 5 s), and is drawn with the best plan found by then.

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
    per_solve = max(plan.solve_seconds + plan.build_seconds, 0.01)
    estimate = per_solve * sweep_solves(plan, points)
    if sweeps == "none" or (sweeps == "auto" and estimate > sweep_seconds):
        why = "--sweeps none" if sweeps == "none" else f"about {estimate:.0f} s of extra solves"
        note(
            f"frontier.png and bandwidth.png skipped ({why}); draw them with "
            "`planner plot frontier|bandwidth CONFIG` or --sweeps all"
        )
        return written
    # a changed scenario can be much harder than the plan's: bound each sweep solve
    if opts.time_limit_s is None:
        opts = opts.replace(time_limit_s=max(5.0, 5 * per_solve))
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
