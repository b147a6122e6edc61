"""``planner.solve``: build the MILP, solve it, and read the decisions back as a Plan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pulp

from ..model import RetrofitModel, build, total_spend
from ..plan import Plan
from ..scenario import Scenario, load_scenario, revalidate
from .diagnose import diagnose
from .highs import threads
from .options import Deadline, SolveOptions
from .prune import prune_spend
from .readback import plan_of, values_of
from .search import neighbourhood_search
from .solvers import SolveResult, run
from .starts import (
    NEIGHBOURHOOD_MIN_INTEGERS,
    NEIGHBOURHOOD_TIME_SHARE,
    better,
    gap_to_bound,
    given_start,
    greedy_start,
    neighbourhood_start,
    objective_at,
    relaxation,
)

TIE_BREAK_GAP_SHARE = 0.01  # the spend tie-break is solved to this share of mip_gap
TIE_BREAK_TIME_SHARE = 0.05  # and keeps this share of a time limit left after the starts
GREEDY_TIME_SHARE = 0.5  # the rule-of-thumb start may use at most this share of a time limit
SEARCH_MIN_INTEGERS = 5000  # method "auto" searches models with this many whole numbers
# the share of the search's time for its start from the split LP relaxation (the whole
# relaxation's neighbourhood MILP needed about 12 s at 100 halls; 0.3 of the time left was
# not always enough)
SEARCH_START_SHARE = 0.5


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """The scenario to solve: a file is loaded; a Scenario object is validated again,
    since it may have been changed in place after it was loaded (``ScenarioError`` with
    the paths of its problems)."""
    if isinstance(scenario, Scenario):
        return revalidate(scenario)
    if isinstance(scenario, str | Path):
        return load_scenario(scenario)
    raise TypeError(f"expected a Scenario or a scenario file, not {type(scenario).__name__}")


def solve(
    scenario: Scenario | str | Path,
    options: SolveOptions | None = None,
    risk: Any = None,
    client: Any = None,
    start: Plan | str | Path | None = None,
    **fields: Any,
) -> Plan:
    """Find the best plan for a scenario.

    With ``risk`` (delivery cases and their weights, e.g. ``{0: 0.6, 1: 0.3, 2: 0.1}``
    periods late), the plan that hedges them: retrofits shared by every case, racks per
    case, the most expected PFLOPS-periods; a :class:`~planner.solving.hedge.Hedge` is
    returned instead of a Plan (see :func:`planner.solving.hedge.solve_hedged`).

    ``max_compute`` is solved lexicographically: first the most PFLOPS-periods, then, with
    compute held at that value, the least total spend. ``min_cost`` is one solve.
    How it is solved is ``options`` (:class:`~planner.solving.options.SolveOptions`), or
    its fields as keywords: ``solver="highs"|"cbc"``, ``time_limit_s`` (bounds the whole
    call, starting plans included; a solve stopped by it returns its best plan with status
    ``"feasible"`` and the gap), ``mip_gap`` (the relative gap at which the solver may
    stop, default 1e-4), ``threads``, ``msg``, ``method`` (``"auto"``, ``"milp"`` or
    ``"search"``) and ``workers``. The fleet search (:mod:`planner.solving.search`) solves
    its neighbourhoods in ``workers`` local processes, or on a ``dask.distributed``
    ``client`` (a Client or a scheduler address, e.g. ``"tcp://host:8786"``) when given.

    The search starts from the best of the user's ``start``, the rule-of-thumb plan and,
    for large models, a plan found near the LP relaxation (:mod:`planner.solving.starts`;
    for the fleet search, the relaxation split among groups of sites); the relaxation's optimum
    then also bounds the gap, and a start already within ``mip_gap`` of it is final. What
    each solver run hands back is checked by :func:`planner.solving.solvers.run` before it is
    believed (see docs/model.md, "How a plan is checked").
    """
    opts = SolveOptions.of(options, **fields)
    solver, time_limit_s = opts.solver, opts.time_limit_s
    clock = Deadline(time_limit_s)
    sc = as_scenario(scenario)
    if risk is not None:
        from .hedge import solve_hedged

        return solve_hedged(sc, risk, opts)
    if isinstance(client, str):  # a scheduler's address: reached before any work is done
        from .runners import dask_client

        with dask_client(client) as connected:
            again = opts.replace(time_limit_s=clock.limit())
            return solve(sc, again, client=connected, start=start)
    began = time.perf_counter()
    m = build(sc)
    built = time.perf_counter()

    given, note = (None, "") if start is None else given_start(m, _plan_of(start))
    first = _first_solve(m, opts, clock, client, given)
    if note:
        first.notes.append(note)
    plan_meta = dict(solver=solver, build_seconds=built - began)
    if not first.has_solution:
        message = {
            "infeasible": "no plan satisfies every rule of this scenario: GPU targets, "
            "budgets, lead times or CPU racks that cannot be retired are the usual causes",
            "unbounded": "the objective is unbounded: a cost or capacity is missing",
        }.get(first.status, f"no plan found ({first.message or 'solver error'})")
        if first.status == "error" and time_limit_s is not None and clock.expired():
            message = f"no plan found within the time limit of {time_limit_s:g} s"
        status = "infeasible" if first.status == "infeasible" else "error"
        diagnosis = None
        if status == "infeasible" and not clock.expired():
            diagnosis = diagnose(sc, opts.replace(time_limit_s=clock.limit()))
            if len(diagnosis):
                message = "no plan satisfies every rule of this scenario; it would need: " + (
                    "; ".join(diagnosis["message"])
                )
        seconds = time.perf_counter() - built
        return Plan(
            sc, status, message=message, solve_seconds=seconds, diagnosis=diagnosis, **plan_meta
        )

    values = values_of(m)
    status, gap, message = first.status, first.gap, _said(first)
    first_took = time.perf_counter() - built
    if sc.objective == "max_compute":
        values, status, message = least_spend(m, values, first, first_took, clock, opts, message)
    elif first.status != "optimal":  # min_cost stopped early: drop what its racks do not need
        values, saved = prune_spend(m, values, clock.at)
        if saved:
            message = _joined(message, f"purchases the plan does not need dropped (${saved:,.0f})")
    seconds = time.perf_counter() - built
    return plan_of(m, values, status, gap, message, seconds, **plan_meta)


def _plan_of(start: Plan | str | Path) -> Plan:
    """A start given as a Plan or a plan file (``PlanFileError`` naming a broken one)."""
    if isinstance(start, Plan):
        return start
    if isinstance(start, str | Path):
        return Plan.from_json(start)
    raise TypeError(f"start must be a Plan or a plan file, not {type(start).__name__}")


def _said(result: SolveResult) -> str:
    """A run's message with what the checks of its values found."""
    return "; ".join([result.message, *result.notes]) if result.notes else result.message


def least_spend(m, values, first, first_took, clock, opts: SolveOptions, message: str):
    """The least-spend tie-break of ``max_compute``: ``(values, status, message)``.

    With compute held at the first solve's value, the least total spend: exactly, by the
    MILP, when there is no time limit or the first solve proved its optimum with time to
    spare (at least twice what it took); otherwise, or after a tie-break that stops early,
    by dropping every purchase the plan's racks do not need (:func:`planner.solving.prune.
    prune_spend`): a sound plan with the same compute, whose spend may not be the least.
    """
    status = first.status
    left = clock.remaining()
    exact = left is None or (first.status == "optimal" and left >= 2 * first_took)
    if exact:
        best = first.objective
        if m.compute.items():
            m.prob.addConstraint(
                pulp.LpConstraint(
                    m.compute, pulp.LpConstraintGE, "keep_compute", best - _compute_slack(m, best)
                )
            )
        m.prob.sense = pulp.LpMinimize
        m.prob.setObjective(total_spend(m))
        # a relative gap on spend would let junk purchases through (1e-4 of $1.5B is $150k)
        tie_break = opts.replace(
            time_limit_s=clock.limit(), mip_gap=opts.mip_gap * TIE_BREAK_GAP_SHARE
        )
        second = run(m.prob, tie_break, start=values)
        if second.has_solution:
            values = values_of(m)
            if second.notes:
                message = _joined(message, "least-spend tie-break: " + "; ".join(second.notes))
            if second.status == "optimal":
                return values, status, message
        why = "stopped early" if second.has_solution else "found no plan in time"
        message = _joined(message, f"least-spend tie-break {why}: spend may not be the least")
    else:
        message = _joined(
            message, "no time for the exact least-spend tie-break: spend may not be the least"
        )
    values, saved = prune_spend(m, values, clock.at)
    if saved:
        message = _joined(message, f"purchases the racks do not need dropped (${saved:,.0f})")
    return values, "feasible", message


def _first_solve(
    m: RetrofitModel,
    opts: SolveOptions,
    clock: Deadline,
    client: Any = None,
    given: dict | None = None,
) -> SolveResult:
    """The scenario's primary solve, from the best of the starting plans (``given``: the
    user's). A start within ``mip_gap`` of the LP bound is final; a solve that finds
    nothing in time falls back on the start; the LP bound tightens the gap where it
    proves more than the solver did."""
    remaining = clock.remaining
    start_at = better(m, given, greedy_start(m, deadline=clock.after(GREEDY_TIME_SHARE)))
    bound = None
    mip_gap = opts.mip_gap
    searching = _searching(m, opts)
    relaxed = None
    if opts.solver == "highs" and not clock.expired() and searching:
        relaxed, bound = relaxation(m, opts.replace(time_limit_s=clock.limit()))
    elif opts.solver == "highs" and not clock.expired():
        limited = opts.replace(time_limit_s=clock.limit())
        near, bound = neighbourhood_start(m, limited, NEIGHBOURHOOD_TIME_SHARE)
        start_at = better(m, near, start_at)
    close = bound is not None and start_at is not None
    if close and gap_to_bound(m, objective_at(m, start_at), bound) <= mip_gap:
        return _taken(m, start_at, bound)
    left = _share(remaining(), m.scenario)
    if start_at is not None and searching:
        return _searched(m, start_at, bound, opts, left, client, relaxed)
    first = (
        run(m.prob, opts.replace(time_limit_s=left), start=start_at)
        if left is None or left > 0
        else SolveResult("error", None, None, 0.0, "no time left for this solve")
    )
    if not first.has_solution and first.status != "infeasible" and start_at is not None:
        why = "the solver found no plan in time: the starting plan is returned"
        first = _taken(m, start_at, bound, why)
    said = f"gap to {'HiGHS' if opts.solver == 'highs' else 'CBC'}'s own bound"
    if bound is not None and first.has_solution:
        lp_gap = gap_to_bound(m, first.objective, bound)
        if first.gap is None or lp_gap <= first.gap:  # a tie names the LP
            first.gap, first.bound, said = lp_gap, bound, "gap to the LP relaxation's bound"
            if lp_gap <= mip_gap:
                first.status = "optimal"
    if first.status == "feasible":  # the plan states the bound its gap is measured against
        first.notes.append(said if first.gap is not None else "no bound: gap unknown")
    return first


def _searching(m: RetrofitModel, opts: SolveOptions) -> bool:
    """Whether the neighbourhood search runs: asked for (on a model large enough to need
    one), or ``auto`` with a time limit on a model of SEARCH_MIN_INTEGERS or more."""
    if opts.solver != "highs" or opts.method == "milp":
        return False
    integers = sum(1 for v in m.prob.variables() if v.cat == pulp.LpInteger)
    if opts.method == "search":
        return integers >= NEIGHBOURHOOD_MIN_INTEGERS
    return opts.time_limit_s is not None and integers >= SEARCH_MIN_INTEGERS


def _searched(
    m,
    start: dict,
    bound: float | None,
    opts: SolveOptions,
    seconds,
    client: Any = None,
    relaxed: dict | None = None,
) -> SolveResult:
    """The neighbourhood search from ``start`` for ``seconds`` (None: until it stalls), its
    plan set on the model; its gap is to the LP relaxation's bound, the best the planner
    holds (unknown without one)."""
    deadline = None if seconds is None else time.perf_counter() + seconds
    values, log = neighbourhood_search(
        m, start, deadline, opts.mip_gap, opts.threads or threads(),
        workers=opts.workers, client=client, relaxed=relaxed,
        split_s=None if seconds is None else SEARCH_START_SHARE * seconds,
    )  # fmt: skip
    said = "gap to the LP relaxation's bound" if bound is not None else "no bound: gap unknown"
    result = _taken(m, values, bound, f"{log.text()}; {said}")
    if result.gap is not None and result.gap <= opts.mip_gap:
        result.status = "optimal"
    return result


def _joined(first: str, then: str) -> str:
    """``then`` after the first solve's message, unless that only said it was optimal."""
    return then if not first or first == "Optimal" else f"{first}; {then}"


def _share(seconds: float | None, sc: Scenario) -> float | None:
    """Time for the compute solve of a time-limited ``max_compute`` solve: all but
    ``TIE_BREAK_TIME_SHARE`` of what is left, kept for the least-spend tie-break."""
    if seconds is None or sc.objective != "max_compute":
        return seconds
    return seconds * (1 - TIE_BREAK_TIME_SHARE)


def _taken(
    m: RetrofitModel, values: dict[str, float], bound: float | None, why: str | None = None
) -> SolveResult:
    """A starting plan taken as the solve's result (the model's variables are set to it):
    ``optimal`` when it is within the gap of the LP bound (no ``why``), else ``feasible``
    with the gap to the bound (unknown without one)."""
    for var in m.prob.variables():
        var.varValue = values.get(var.name, 0.0)
    objective = objective_at(m, values)
    gap = None if bound is None else gap_to_bound(m, objective, bound)
    if why is None:
        return SolveResult(
            "optimal", objective, gap, 0.0, "within the gap of the LP bound", bound=bound
        )
    return SolveResult("feasible", objective, gap, 0.0, why, bound=bound)


def _compute_slack(m: RetrofitModel, best: float) -> float:
    """Slack on the compute held while minimising spend: enough to absorb the solver's
    tolerances, never as much as half the smallest rack's PFLOPS (or dropping that rack to
    save its capex would pass as a tie)."""
    smallest = min((c for c in m.compute.values() if c > 0), default=1.0)
    return min(1e-6 * max(1.0, abs(best or 0.0)), 0.5 * smallest)
