"""A plan that hedges late deliveries: retrofits chosen once, racks per delivery case.

Cases ``c`` (on time, one period late, ...) have weights ``p[c]`` summing to 1 and slips
(:func:`planner.solving.stress.slipped`). The hedged model holds one copy of the
scenario's MILP per case, each on its slipped scenario, and ties their retrofits together:

* ``u_c[h,o,t] = u_0[h,o,t]`` and ``w_c[s,o,t] = w_0[s,o,t]`` for every case ``c``: units
  are ordered before anyone knows which case comes (non-anticipative, two-stage);
* racks, doors, CPU racks retired, the liquid split and clusters are each case's own;
* every rule and budget holds in every case;
* objective: ``max (1 - lambda) sum_c p[c] C_c + lambda theta`` with ``theta <= C_c`` for
  every case, ``C_c`` the PFLOPS-periods case c counts and ``lambda`` the weight on the
  worst case (0: the expected compute);
* then, with that held, the least expected spend.

The plan made for on-time delivery, its retrofits held and its racks re-planned in each
case (:func:`planner.solving.stress.stress`), is one solution of this model, so the hedged
plan is never worse in expectation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pulp

from ..model import RetrofitModel, build, expr, total_spend
from ..plan import Plan
from ..scenario import Problem, Scenario, ScenarioError
from .options import Deadline, SolveOptions
from .readback import plan_of
from .solvers import run
from .stress import slipped

#: the hedge's table (one row per case), with units
HEDGE_COLUMNS = ["case", "weight", "status", "pflops_periods", "total_spend_usd", "verified"]


@dataclass(frozen=True)
class Case:
    """One delivery case: its ``name``, ``weight`` (a probability) and ``slips``."""

    name: str
    weight: float
    slips: Mapping[str, int] = field(default_factory=dict)


def cases_of(risk: Any) -> tuple[list[Case], float]:
    """The cases and worst-case weight of a ``risk`` given as

    * ``{0: 0.6, 1: 0.3, 2: 0.1}``: periods every rack type is late -> weight;
    * a list of ``{"name", "weight", "slips"}`` (or :class:`Case`);
    * ``{"cases": <either of those>, "worst_case_weight": 0.5}``.

    Raises :class:`~planner.ScenarioError` naming each problem by its path under ``risk``:
    weights must be > 0 and sum to 1, names distinct, ``worst_case_weight`` in [0, 1]."""
    worst, problems = 0.0, []
    if isinstance(risk, Mapping) and "cases" in risk:
        worst = risk.get("worst_case_weight", 0.0)
        risk = risk["cases"]
        if not isinstance(worst, int | float) or isinstance(worst, bool) or not 0 <= worst <= 1:
            problems.append(
                Problem("risk.worst_case_weight", f"a share from 0 to 1, not {worst!r}")
            )
    cases: list[Case] = []
    if isinstance(risk, Mapping):
        for late, weight in risk.items():
            ok = isinstance(late, int) and not isinstance(late, bool) and late >= 0
            if not ok:
                problems.append(Problem(f"risk[{late!r}]", "a key is whole periods late (>= 0)"))
                continue
            name = "on time" if late == 0 else f"{late} period{'s' * (late > 1)} late"
            cases.append(Case(name, weight, {"rack_types[*].lead_periods": late}))
    elif isinstance(risk, Sequence) and not isinstance(risk, str):
        for i, case in enumerate(risk):
            if isinstance(case, Case):
                cases.append(case)
            elif isinstance(case, Mapping) and set(case) <= {"name", "weight", "slips"}:
                slips = dict(case.get("slips") or {})
                cases.append(Case(str(case.get("name", f"case {i}")), case.get("weight"), slips))
            else:
                problems.append(Problem(f"risk[{i}]", "a case is {name, weight, slips}"))
    else:
        problems.append(Problem("risk", "cases as {periods late: weight} or a list of cases"))
    for i, case in enumerate(cases):
        w = case.weight
        if (
            not isinstance(w, int | float)
            or isinstance(w, bool)
            or not (math.isfinite(w) and w > 0)
        ):
            problems.append(Problem(f"risk[{i}].weight", f"a weight is a number > 0, not {w!r}"))
    names = [c.name for c in cases]
    if len(set(names)) < len(names):
        problems.append(Problem("risk", f"case names must differ: {names}"))
    if not cases and not problems:
        problems.append(Problem("risk", "no case given"))
    if not problems:
        total = sum(c.weight for c in cases)
        if abs(total - 1) > 1e-6:
            problems.append(Problem("risk", f"the weights sum to {total:g}; they must sum to 1"))
    if problems:
        raise ScenarioError(problems)
    return cases, float(worst)


@dataclass
class Hedge:
    """A hedged plan: ``plans`` (case name -> Plan of that case's slipped scenario, all with
    the same retrofits), the ``cases``, ``table`` (one row per case, :data:`HEDGE_COLUMNS`)
    and the expected and worst PFLOPS-periods. ``plan`` is the first case's (on time)."""

    cases: list[Case]
    plans: dict[str, Plan]
    table: pd.DataFrame
    status: str
    message: str = ""
    worst_case_weight: float = 0.0
    solve_seconds: float = 0.0

    @property
    def plan(self) -> Plan:
        return self.plans[self.cases[0].name]

    @property
    def expected_pflops_periods(self) -> float:
        return float((self.table["weight"] * self.table["pflops_periods"]).sum())

    @property
    def worst_pflops_periods(self) -> float:
        return float(self.table["pflops_periods"].min())

    def verify(self) -> list[str]:
        """Every case's plan checked by :meth:`planner.Plan.verify` on its own scenario, and
        the retrofits the same in every case: ``[]`` when all holds."""
        found = [f"{name}: {v}" for name, p in self.plans.items() for v in p.verify()]
        first = _retrofits(self.plan)
        for name, plan in self.plans.items():
            if not _retrofits(plan).equals(first):
                found.append(f"{name}: its retrofits differ from {self.cases[0].name}'s")
        return found


def _retrofits(plan: Plan) -> pd.DataFrame:
    cols = ["site", "hall", "period", "option", "units"]
    return plan.retrofits[cols].sort_values(cols).reset_index(drop=True)


def _rename(m: RetrofitModel, tag: str) -> None:
    """Prefix every variable of a case's model with its tag (names stay unique when the
    cases' rows go into one problem)."""
    seen = set()
    stores = (m.n, m.z, m.u, m.w, m.x, m.qc, m.qa, m.k)
    for var in [*m.prob.variables(), *(v for s in stores for v in s.values())]:
        if id(var) not in seen:
            seen.add(id(var))
            var.name = f"{tag}{var.name}"


def _joint(sc: Scenario, cases: list[Case], worst: float):
    """The hedged MILP: one model per case (variables and rows prefixed by the case), the
    retrofits tied across cases, and the objective set. Returns ``(problem, models,
    objective)``."""
    models = []
    prob = pulp.LpProblem("hedge", pulp.LpMaximize)
    for c, case in enumerate(cases):
        m = build(slipped(sc, case.slips))
        _rename(m, f"c{c}_")
        for row in m.prob.constraints():
            prob.addConstraint(row, f"c{c}_{row.name}")
        models.append(m)
    first = models[0]
    for c, m in enumerate(models[1:], start=1):
        for store, other in ((m.u, first.u), (m.w, first.w)):
            if set(store) != set(other):
                raise RuntimeError("the cases' retrofit decisions differ: a slip moved one")
            for key, var in store.items():
                name = f"share_{c}_" + "_".join(map(str, key))
                same = expr([(var, 1.0), (other[key], -1.0)])
                prob.addConstraint(pulp.LpConstraint(same, pulp.LpConstraintEQ, name, 0.0))
    goal = expr((v, case.weight * coef) for case, m in zip(cases, models, strict=True)
                for v, coef in m.compute.items())  # fmt: skip
    if worst > 0:
        theta = prob.add_variable("theta", 0, None)
        for c, m in enumerate(models):
            prob.addConstraint(pulp.LpConstraint(
                expr([(theta, 1.0), *((v, -k) for v, k in m.compute.items())]),
                pulp.LpConstraintLE, f"worst_{c}", 0.0))  # fmt: skip
        goal = expr([*((v, (1 - worst) * k) for v, k in goal.items()), (theta, worst)])
    prob.setObjective(goal)
    return prob, models, goal


def _least_expected_spend(prob, models, cases, goal, best, values, options, clock):
    """With the objective held at ``best`` (to a millionth, at most 1e-3), the least
    expected spend, from ``values``: ``(values, proven)``."""
    tol = min(1e-6 * max(1.0, abs(best)), 1e-3)
    prob.addConstraint(pulp.LpConstraint(goal, pulp.LpConstraintGE, "keep", best - tol))
    prob.sense = pulp.LpMinimize
    prob.setObjective(expr((v, case.weight * k) for case, m in zip(cases, models, strict=True)
                           for v, k in total_spend(m).items()))  # fmt: skip
    tie = options.replace(time_limit_s=clock.limit(), mip_gap=options.mip_gap * 0.01)
    second = run(prob, tie, start=values)
    if second.has_solution:
        values = {v.name: v.varValue for v in prob.variables()}
    return values, second.status == "optimal"


def solve_hedged(sc: Scenario, risk: Any, options: SolveOptions) -> Hedge:
    """The hedged plan of a ``max_compute`` scenario over the delivery cases of ``risk``
    (:func:`cases_of`), as the module docstring states."""
    if sc.objective != "max_compute":
        raise ValueError("a hedged plan maximises expected compute: the scenario's objective "
                         "must be max_compute")  # fmt: skip
    cases, worst = cases_of(risk)
    began, clock = time.perf_counter(), Deadline(options.time_limit_s)
    prob, models, goal = _joint(sc, cases, worst)
    result = run(prob, options.replace(time_limit_s=clock.limit()))
    status, message = result.status, result.message
    if result.has_solution:
        values = {v.name: v.varValue for v in prob.variables()}
        left = clock.remaining()
        if result.status == "optimal" and (left is None or left > 0):
            values, proven = _least_expected_spend(
                prob, models, cases, goal, result.objective, values, options, clock
            )
            if not proven:
                status, message = "feasible", "least expected spend tie-break stopped early"
    seconds = time.perf_counter() - began
    plans, rows = {}, []
    for case, m in zip(cases, models, strict=True):
        if result.has_solution:
            plan = plan_of(m, values, status, result.gap, message, seconds, solver=options.solver)
        else:
            plan = Plan(m.scenario, "infeasible" if status == "infeasible" else "error",
                        message=message, solve_seconds=seconds)  # fmt: skip
        plans[case.name] = plan
        rows.append((case.name, case.weight, plan.status, plan.objective,
                     plan.total_spend_usd if plan.has_plan else None,
                     not plan.verify() if plan.has_plan else None))  # fmt: skip
    table = pd.DataFrame(rows, columns=HEDGE_COLUMNS)
    return Hedge(cases, plans, table, status, message, worst, seconds)
