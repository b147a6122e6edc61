"""``planner.solve``: build the MILP, solve it, and read the decisions back as a Plan."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pandas as pd
import pulp

from . import accounting as acc
from .explain import diagnose
from .model import MONEY, RetrofitModel, build, total_spend
from .plan import Plan
from .prune import prune_spend
from .scenario import Scenario, load_scenario, revalidate
from .solvers import SOLVERS, SolveResult, run
from .starts import better, gap_to_bound, greedy_start, neighbourhood_start, objective_at

TIE_BREAK_GAP_SHARE = 0.01  # the spend tie-break is solved to this share of mip_gap
TIE_BREAK_TIME_SHARE = 0.05  # and keeps this share of a time limit left after the starts
GREEDY_TIME_SHARE = 0.5  # the rule-of-thumb start may use at most this share of a time limit


def check_options(solver: str, time_limit_s: float | None, mip_gap: float) -> None:
    """Raise ValueError for solve options that mean nothing: an unknown solver, a time
    limit that is not a positive number of seconds, a gap outside [0, 1]."""
    if not isinstance(solver, str) or solver.lower() not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}: choose one of {', '.join(SOLVERS)}")
    if time_limit_s is not None and (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, int | float)
        or not math.isfinite(time_limit_s)
        or time_limit_s <= 0
    ):
        raise ValueError(
            f"time_limit_s must be a number of seconds > 0 (or None), not {time_limit_s!r}"
        )
    if (
        isinstance(mip_gap, bool)
        or not isinstance(mip_gap, int | float)
        or not math.isfinite(mip_gap)
        or not 0 <= mip_gap <= 1
    ):
        raise ValueError(f"mip_gap must be a relative gap between 0 and 1, not {mip_gap!r}")


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
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    msg: bool = False,
) -> Plan:
    """Find the best plan for a scenario.

    ``max_compute`` is solved lexicographically: first the most PFLOPS-periods, then, with
    compute held at that value, the least total spend. ``min_cost`` is one solve.
    ``time_limit_s`` bounds the whole call, starting plans included; a solve stopped by it
    returns its best plan with status ``"feasible"`` and the gap. ``mip_gap`` is the
    relative gap at which the solver may stop (default 1e-4).

    The search starts from the better of the rule-of-thumb plan and, for large models, a
    plan found near the LP relaxation (:mod:`planner.starts`); the relaxation's optimum
    then also bounds the gap, and a start already within ``mip_gap`` of it is final. What
    each solver run hands back is checked by :func:`planner.solvers.run` before it is
    believed (see docs/model.md, "How a plan is checked").
    """
    check_options(solver, time_limit_s, mip_gap)
    solver = solver.lower()
    clock = Deadline(time_limit_s)
    sc = as_scenario(scenario)
    start = time.perf_counter()
    m = build(sc)
    built = time.perf_counter()
    remaining = clock.remaining

    first = _first_solve(m, solver, mip_gap, msg, clock)
    plan_meta = dict(solver=solver, build_seconds=built - start)
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
            diagnosis = diagnose(sc, solver, remaining())
            if len(diagnosis):
                message = "no plan satisfies every rule of this scenario; it would need: " + (
                    "; ".join(diagnosis["message"])
                )
        seconds = time.perf_counter() - built
        return Plan(
            sc, status, message=message, solve_seconds=seconds, diagnosis=diagnosis, **plan_meta
        )

    values = _values(m)
    status, gap, message = first.status, first.gap, _said(first)
    first_took = time.perf_counter() - built
    if sc.objective == "max_compute":
        values, status, message = _least_spend(
            m, values, first, first_took, clock, solver, mip_gap, msg, message
        )
    elif first.status != "optimal":  # min_cost stopped early: drop what its racks do not need
        values, saved = prune_spend(m, values, clock.at)
        if saved:
            message = _joined(message, f"purchases the plan does not need dropped (${saved:,.0f})")
    seconds = time.perf_counter() - built
    return _plan(m, values, status, gap, message, seconds, **plan_meta)


class Deadline:
    """The time limit of one call, counted from the moment it was made."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.began = time.perf_counter()
        self.at = None if seconds is None else self.began + seconds

    def remaining(self) -> float | None:
        """Seconds left (None: no limit; 0 once it has passed)."""
        return None if self.at is None else max(self.at - time.perf_counter(), 0.0)

    def share(self, fraction: float) -> float | None:
        """``fraction`` of the time left (None: no limit)."""
        left = self.remaining()
        return None if left is None else fraction * left

    def expired(self) -> bool:
        return self.at is not None and time.perf_counter() >= self.at


def _said(result: SolveResult) -> str:
    """A run's message with what the checks of its values found."""
    return "; ".join([result.message, *result.notes]) if result.notes else result.message


def _least_spend(m, values, first, first_took, clock, solver, mip_gap, msg, message):
    """The least-spend tie-break of ``max_compute``: ``(values, status, message)``.

    With compute held at the first solve's value, the least total spend: exactly, by the
    MILP, when there is no time limit or the first solve proved its optimum with time to
    spare (at least twice what it took); otherwise, or after a tie-break that stops early,
    by dropping every purchase the plan's racks do not need (:func:`planner.prune.
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
        second = run(
            m.prob, solver, clock.remaining(), mip_gap * TIE_BREAK_GAP_SHARE, msg, start=values
        )
        if second.has_solution:
            values = _values(m)
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


def _first_solve(m: RetrofitModel, solver: str, mip_gap: float, msg: bool, clock: Deadline):
    """The scenario's primary solve, from the better of the starting plans. A start within
    ``mip_gap`` of the LP bound is final; a solve that finds nothing in time falls back on
    the start; the LP bound tightens the gap where it proves more than the solver did."""
    remaining = clock.remaining
    greedy_by = None if clock.at is None else time.perf_counter() + clock.share(GREEDY_TIME_SHARE)
    start_at = greedy_start(m, deadline=greedy_by)
    bound = None
    if solver == "highs" and not clock.expired():
        near, bound = neighbourhood_start(m, remaining(), mip_gap)
        start_at = better(m, near, start_at)
    close = bound is not None and start_at is not None
    if close and gap_to_bound(m, objective_at(m, start_at), bound) <= mip_gap:
        return _taken(m, start_at, bound)
    first = run(m.prob, solver, _share(remaining(), m.scenario), mip_gap, msg, start=start_at)
    if not first.has_solution and first.status != "infeasible" and start_at is not None:
        why = "the solver found no plan in time: the starting plan is returned"
        first = _taken(m, start_at, bound, why)
    if bound is not None and first.has_solution:
        lp_gap = gap_to_bound(m, first.objective, bound)
        if first.gap is None or lp_gap < first.gap:
            first.gap = lp_gap
            if lp_gap <= mip_gap:
                first.status = "optimal"
    return first


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
        return SolveResult("optimal", objective, gap, 0.0, "within the gap of the LP bound")
    return SolveResult("feasible", objective, gap, 0.0, why)


def _compute_slack(m: RetrofitModel, best: float) -> float:
    """Slack on the compute held while minimising spend: enough to absorb the solver's
    tolerances, never as much as half the smallest rack's PFLOPS (or dropping that rack to
    save its capex would pass as a tie)."""
    smallest = min((c for c in m.compute.values() if c > 0), default=1.0)
    return min(1e-6 * max(1.0, abs(best or 0.0)), 0.5 * smallest)


def _values(m: RetrofitModel) -> dict:
    """Snapshot of every variable's value (a later solve overwrites them)."""
    return {var.name: var.varValue for var in m.prob.variables()}


def _plan(m: RetrofitModel, values: dict, status, gap, message, seconds, **meta) -> Plan:
    """Read the decisions into a Plan's tables."""
    sc, idx = m.scenario, m.index

    def whole(var) -> int:
        value = values.get(var.name)
        return 0 if value is None else round(value)

    def flow(store, key) -> float:
        var = store.get(key)
        return max(values.get(var.name) or 0.0, 0.0) if var is not None else 0.0

    racks, retrofits, halls = [], [], []
    for (h, r, t), var in sorted(m.n.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        _, site, hall = idx.halls[h]
        total = whole(var)
        behind = 0
        for rr, o, z in m.z_at[h, t]:
            if rr == r and whole(z):
                racks.append(
                    (
                        site.name,
                        hall.name,
                        sc.periods[t],
                        sc.rack_types[r].name,
                        sc.retrofits[o].name,
                        whole(z),
                    )
                )
                behind += whole(z)
        if total - behind:
            racks.append(
                (site.name, hall.name, sc.periods[t], sc.rack_types[r].name, "", total - behind)
            )
    for store, scoped in ((m.u, True), (m.w, False)):
        for key, var in store.items():
            units = whole(var)
            if not units:
                continue
            where, o, t = key
            if scoped:
                site_name, hall_name = idx.halls[where][1].name, idx.halls[where][2].name
            else:
                site_name, hall_name = sc.sites[where].name, ""
            prev = store.get((where, o, t - 1))
            added = units - (whole(prev) if prev is not None else 0)
            opt = sc.retrofits[o]
            retrofits.append(
                (site_name, hall_name, sc.periods[t], opt.name, opt.kind, units, added)
            )
    liquid_by_hall = _liquid_heat(m, values)
    for h, (_, site, hall) in enumerate(idx.halls):
        count = hall.cpu_racks.count if hall.cpu_racks else 0
        for t, p in enumerate(sc.periods):
            retired = whole(m.x[h, t]) if (h, t) in m.x else 0
            heat = liquid_by_hall.get((h, t), 0.0)
            to_cdu = min(flow(m.qc, (h, t)), heat)
            to_aalc = heat - to_cdu
            halls.append((site.name, hall.name, p, retired, count - retired, to_cdu, to_aalc))

    plan = Plan(
        sc,
        status,
        gap=gap,
        racks=pd.DataFrame(racks, columns=acc.RACK_COLUMNS),
        retrofits=pd.DataFrame(retrofits, columns=acc.RETROFIT_COLUMNS),
        halls=pd.DataFrame(halls, columns=acc.HALL_COLUMNS),
        message=message,
        solve_seconds=seconds,
        **meta,
    )
    # the model's own account of its objective and spend, checked by Plan.verify()
    spend = (
        sum(
            price * (values.get(var.name) or 0.0)
            for t in m.periods
            for var, price in m.spend[t].items()
        )
        * MONEY
    )
    compute = sum(coef * (values.get(var.name) or 0.0) for var, coef in m.compute.items())
    plan.total_spend_usd = float(spend)
    plan.objective = float(compute if sc.objective == "max_compute" else spend)
    return plan


def _liquid_heat(m: RetrofitModel, values: dict) -> dict:
    """Liquid heat (kW) of each hall-period at the rounded rack counts."""
    heat: dict = {}
    for (h, r, t), var in m.n.items():
        rack = m.scenario.rack_types[r]
        if rack.cooling == "liquid":
            count = round(values.get(var.name) or 0.0)
            heat[h, t] = heat.get((h, t), 0.0) + rack.liquid_fraction * rack.power_kw * count
    return heat
