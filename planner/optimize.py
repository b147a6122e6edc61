"""``planner.solve``: build the MILP, solve it, and read the decisions back as a Plan."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pulp

from . import accounting as acc
from .explain import diagnose
from .model import MONEY, RetrofitModel, build, total_spend
from .plan import Plan
from .scenario import Scenario, load_scenario
from .solvers import run

TIE_BREAK_GAP_SHARE = 0.01  # the spend tie-break is solved to this share of mip_gap


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
    ``time_limit_s`` bounds the whole call; a solve stopped by it returns its best plan
    with status ``"feasible"`` and the gap. ``mip_gap`` is the relative gap at which the
    solver may stop (default 1e-4).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    start = time.perf_counter()
    m = build(sc)
    built = time.perf_counter()
    deadline = None if time_limit_s is None else built + time_limit_s

    def remaining() -> float | None:
        return None if deadline is None else max(deadline - time.perf_counter(), 0.0)

    first = run(m.prob, solver, remaining(), mip_gap, msg, start=_greedy_start(m))
    seconds = first.seconds
    plan_meta = dict(solver=solver, build_seconds=built - start)
    if not first.has_solution:
        message = {
            "infeasible": "no plan satisfies every rule of this scenario: GPU targets, "
            "budgets, lead times or CPU racks that cannot be retired are the usual causes",
            "unbounded": "the objective is unbounded: a cost or capacity is missing",
        }.get(first.status, f"no plan found ({first.message or 'solver error'})")
        if first.status == "error" and time_limit_s is not None:
            message = f"no plan found within the time limit of {time_limit_s:g} s"
        status = "infeasible" if first.status == "infeasible" else "error"
        diagnosis = None
        if status == "infeasible":
            diagnosis = diagnose(sc, solver, remaining())
            if len(diagnosis):
                message = "no plan satisfies every rule of this scenario; it would need: " + (
                    "; ".join(diagnosis["message"])
                )
        return Plan(
            sc, status, message=message, solve_seconds=seconds, diagnosis=diagnosis, **plan_meta
        )

    values = _values(m)
    status, gap, message = first.status, first.gap, first.message
    if sc.objective == "max_compute":
        best = pulp.value(m.compute)
        m.prob.addConstraint(
            pulp.LpConstraint(
                m.compute, pulp.LpConstraintGE, "keep_compute", best - _compute_slack(m, best)
            )
        )
        m.prob.sense = pulp.LpMinimize
        m.prob.setObjective(total_spend(m))
        # a relative gap on spend would let junk purchases through (1e-4 of $1.5B is $150k)
        second = run(m.prob, solver, remaining(), mip_gap * TIE_BREAK_GAP_SHARE, msg, start=values)
        seconds += second.seconds
        if second.has_solution:
            values = _values(m)
            if second.status != "optimal":
                message = "least-spend tie-break stopped early: spend may not be the least"
                status = "feasible"
        else:
            message = "least-spend tie-break found no plan in time: spend may not be the least"
            status = "feasible"
    return _plan(m, values, status, gap, message, seconds, **plan_meta)


def _greedy_start(m: RetrofitModel) -> dict[str, float] | None:
    """The rule-of-thumb plan (:func:`planner.baseline.greedy`) as a first incumbent for
    HiGHS: a solve stopped by its time limit then always returns a plan at least as good.
    ``None`` when the greedy plan is not usable (no plan, or a scenario it cannot fill)."""
    from .baseline import greedy

    try:
        plan = greedy(m.scenario)
    except Exception:  # a starting point is optional: never let it stop the solve
        return None
    if not plan.has_plan or plan.verify():
        return None
    return start_values(m, plan)


def start_values(m: RetrofitModel, plan: Plan) -> dict[str, float]:
    """Values of the model's variables (by name) that reproduce ``plan``'s tables: racks and
    doors, retrofit units, CPU racks retired and the liquid split."""
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
    for row in plan.halls.itertuples(index=False):
        h, t = hall_of[row.site, row.hall], period_of[row.period]
        put(m.x, (h, t), row.cpu_racks_retired)
        put(m.qc, (h, t), row.liquid_to_cdu_kw)
        put(m.qa, (h, t), row.liquid_to_aalc_kw)
    return values


def _compute_slack(m: RetrofitModel, best: float) -> float:
    """Slack on the compute held while minimising spend: enough to absorb the solver's
    tolerances, never as much as half the smallest rack's PFLOPS (or dropping that rack to
    save its capex would pass as a tie)."""
    smallest = min((c for c in m.compute.values() if c > 0), default=1.0)
    return min(1e-6 * max(1.0, abs(best)), 0.5 * smallest)


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
