"""Starting plans for the MILP: where the solver's search begins, and a bound to measure
the gap against when the solver has none.

* :func:`given_start`: a plan the user gives (``planner.solve(..., start=plan)``), used
  when it is sound for the scenario being solved.
* :func:`greedy_start`: the rule-of-thumb plan (:func:`planner.baseline.greedy`) as
  variable values. Cheap and always sound, so a solve stopped by its time limit keeps at
  least that plan; on large synthetic fleets it is 20-30 % short of the optimum.
* :func:`neighbourhood_start`, for large models: the LP relaxation (whose optimum bounds
  the MILP's), then the MILP restricted to the relaxation's neighbourhood, every
  whole-number decision at most its LP value rounded up (a RENS-style neighbourhood in
  which doing nothing stays feasible). Far smaller than the whole MILP, it finds plans
  within a few percent of the bound in a fraction of the time (benchmarks/README.md).
"""

from __future__ import annotations

import math
import time

import pulp

from ..model import RetrofitModel, total_spend, value_at
from ..plan import Plan
from .options import SolveOptions
from .solvers import SolveResult, run

#: models with at least this many whole-number decisions get a neighbourhood start
NEIGHBOURHOOD_MIN_INTEGERS = 1000
#: share of the remaining time limit the neighbourhood MILP may use
NEIGHBOURHOOD_TIME_SHARE = 0.3


def greedy_start(m: RetrofitModel, deadline: float | None = None) -> dict[str, float] | None:
    """The rule-of-thumb plan (:func:`planner.baseline.greedy`) as a first incumbent for
    HiGHS: a solve stopped by its time limit then always returns a plan at least as good.
    ``deadline`` (a ``time.perf_counter()`` reading) stops the rule of thumb early with
    what it has placed so far. ``None`` when the greedy plan is not usable (no plan, or a
    scenario it cannot fill)."""
    from ..plan.baseline import greedy

    try:
        plan = greedy(m.scenario, deadline=deadline)
    except Exception:  # a starting point is optional: never let it stop the solve
        return None
    if not plan.has_plan or plan.verify():
        return None
    return start_values(m, plan)


def start_values(m: RetrofitModel, plan: Plan) -> dict[str, float]:
    """Values of the model's variables (by name) that reproduce ``plan``'s tables: racks and
    doors, retrofit units, CPU racks retired, clusters and the liquid split."""
    sc, idx = m.scenario, m.index
    hall_of = {(site.name, hall.name): h for h, (_, site, hall) in enumerate(idx.halls)}
    site_of = {site.name: s for s, site in enumerate(sc.sites)}
    rack_of = {rack.name: r for r, rack in enumerate(sc.rack_types)}
    option_of = {opt.name: o for o, opt in enumerate(sc.retrofits)}
    period_of = {label: t for t, label in enumerate(sc.periods)}
    values: dict[str, float] = {}

    def put(store: dict, key: tuple, value: float) -> None:
        var = store.get(key)
        if var is not None and value:
            values[var.name] = values.get(var.name, 0.0) + float(value)

    for row in plan.racks.itertuples(index=False):
        h, r, t = hall_of[row.site, row.hall], rack_of[row.rack_type], period_of[row.period]
        put(m.n, (h, r, t), row.count)
        if row.rdhx_option:
            put(m.z, (h, r, option_of[row.rdhx_option], t), row.count)
    for row in plan.retrofits.itertuples(index=False):
        o, t = option_of[row.option], period_of[row.period]
        if row.hall:
            put(m.u, (hall_of[row.site, row.hall], o, t), row.units)
        else:
            put(m.w, (site_of[row.site], o, t), row.units)
    kind_of = {kind.name: c for c, kind in enumerate(sc.cluster_kinds())}
    for row in plan.clusters.itertuples(index=False):
        c, r, t = kind_of[row.kind], rack_of[row.rack_type], period_of[row.period]
        d = hall_of[row.site, row.hall] if row.hall else site_of[row.site]
        put(m.k, (c, d, r, t), row.count)
    for row in plan.halls.itertuples(index=False):
        h, t = hall_of[row.site, row.hall], period_of[row.period]
        put(m.x, (h, t), row.cpu_racks_retired)
        put(m.qc, (h, t), row.liquid_to_cdu_kw)
        put(m.qa, (h, t), row.liquid_to_aalc_kw)
    return values


def given_start(m: RetrofitModel, plan: Plan) -> tuple[dict[str, float] | None, str]:
    """A plan given by the user as a start (say, last quarter's plan, or a longer run's):
    its decision tables laid on this model's scenario and checked rule by rule there.
    ``(values, "")``, or ``(None, why it is not used)``: a start that breaks a rule of
    this scenario, or names a site, hall, rack type, option or period it does not have."""
    if not plan.has_plan:
        return None, f"the given start is a {plan.status} plan with nothing in it: not used"
    try:
        here = Plan.from_tables(
            m.scenario, plan.racks, plan.retrofits, plan.halls, clusters=plan.clusters
        )
        problems = here.verify()
        values = None if problems else start_values(m, here)
    except (KeyError, ValueError) as exc:
        return None, f"the given start does not fit this scenario ({exc!r}): not used"
    if problems:
        return None, (
            f"the given start breaks {len(problems)} rule(s) of this scenario "
            f"(first: {problems[0]}): not used"
        )
    return values, ""


def objective_at(m: RetrofitModel, values: dict[str, float]) -> float:
    """The scenario's objective (PFLOPS-periods, or model money for ``min_cost``) at
    ``values``."""
    return value_at(m.compute if m.scenario.objective == "max_compute" else total_spend(m), values)


def better(m: RetrofitModel, a: dict | None, b: dict | None) -> dict | None:
    """The better of two starts by the scenario's objective (either may be None)."""
    if a is None or b is None:
        return a if b is None else b
    maximise = m.scenario.objective == "max_compute"
    va, vb = objective_at(m, a), objective_at(m, b)
    return a if (va >= vb if maximise else va <= vb) else b


def gap_to_bound(m: RetrofitModel, objective: float, bound: float) -> float:
    """Relative gap of ``objective`` to a bound on the optimum (an LP relaxation's)."""
    diff = bound - objective if m.scenario.objective == "max_compute" else objective - bound
    return max(diff, 0.0) / max(abs(objective), 1e-9)


def relaxation(
    m: RetrofitModel, options: SolveOptions
) -> tuple[dict[str, float] | None, float | None]:
    """The LP relaxation (HiGHS, interior point; at most half of ``options.time_limit_s``):
    ``(values, optimum)``, the optimum a bound on the MILP's (from above for
    ``max_compute``, below for ``min_cost``); ``(None, None)`` when it is not solved. The
    model's variable values are overwritten."""
    limit = None if options.time_limit_s is None else 0.5 * options.time_limit_s
    relaxed = run(m.prob, options.replace(solver="highs", time_limit_s=limit), relax=True)
    if relaxed.status != "optimal":
        return None, None
    return {var.name: var.varValue or 0.0 for var in m.prob.variables()}, relaxed.objective


def neighbourhood_start(
    m: RetrofitModel, options: SolveOptions, share: float = NEIGHBOURHOOD_TIME_SHARE
) -> tuple[dict[str, float] | None, float | None]:
    """An LP-guided start for a large model, and the LP bound: ``(values, bound)``.

    1. Solve the LP relaxation (HiGHS, interior point; at most half the time left): its
       optimum ``bound`` bounds the MILP's optimum (from above for ``max_compute``, below
       for ``min_cost``).
    2. Solve the MILP with every whole-number decision ``v <= ceil(v_LP)`` (a RENS-style
       neighbourhood), within ``share`` (NEIGHBOURHOOD_TIME_SHARE) of the time left (without a
       limit: ten seconds plus twice the relaxation's time), then restore the bounds.

    Either part may come back ``None`` (small models are skipped: ``(None, None)``). The
    model's variable values are overwritten; its bounds are not changed."""
    integers = [var for var in m.prob.variables() if var.cat == pulp.LpInteger]
    if len(integers) < NEIGHBOURHOOD_MIN_INTEGERS:
        return None, None
    began = time.perf_counter()
    time_limit_s = options.time_limit_s
    _, bound = relaxation(m, options)
    if bound is None:
        return None, None
    used = time.perf_counter() - began
    if time_limit_s is None:
        limit = 10.0 + 2 * used
    else:
        limit = share * (time_limit_s - used)
        if limit <= 0:
            return None, bound
    saved = [(var, var.upBound) for var in integers]
    for var in integers:
        top = math.ceil((var.varValue or 0.0) - 1e-6)
        var.upBound = max(top, var.lowBound or 0)
    try:
        found: SolveResult = run(m.prob, options.replace(solver="highs", time_limit_s=limit))
    finally:
        for var, up in saved:
            var.upBound = up
    if not found.has_solution:
        return None, bound
    return {var.name: var.varValue or 0.0 for var in m.prob.variables()}, bound
