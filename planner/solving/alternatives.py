"""One near-optimal alternative: the plan that minimises (or maximises) a metric among the
plans whose objective is within a slack of the optimum (modelling to generate alternatives).

With ``C*`` the optimum's objective and ``s`` the slack, the plans considered are those of
the scenario's MILP that also satisfy

* ``max_compute``: ``compute >= (1 - s) C*`` (PFLOPS-periods);
* ``min_cost``: ``spend <= (1 + s) C*`` (USD).

Among them the alternative is found in stages, each holding what the one before found:

1. the metric's best value ``mu*`` (a share, such as the liquid-cooled share of GPUs, by
   Dinkelbach's method: ``max num - lambda den`` until that is 0, ``lambda`` the share);
2. with the metric held at ``mu*``, the scenario's own objective (most compute, or least
   spend), so that the alternative gives up no more than the metric asks;
3. for ``max_compute``, with compute held, the least spend (as :func:`planner.solve`).

Each stage starts from the one before (stage 1 from the optimum itself, which satisfies
the slack), so a stage stopped by its time limit keeps a sound plan.
"""

from __future__ import annotations

import time

import pulp

from ..model import MONEY, RetrofitModel, build, total_spend, value_at
from ..model.metrics import BUILDERS, MetricTerms
from ..plan import Plan
from ..plan.metrics import METRICS
from ..scenario import Scenario
from .optimize import _compute_slack
from .options import Deadline, SolveOptions
from .readback import plan_of, values_of
from .solvers import SolveResult, run
from .starts import start_values

#: shares of an alternative's time limit for its stages (the last gets what is left)
STAGE_SHARES = (0.6, 0.6)
#: Dinkelbach iterations at most (each a MILP; in practice 2-4 are needed)
MAX_RATIO_STEPS = 20
#: a share is optimal when ``num - lambda den`` cannot grow past this share of ``den``
RATIO_TOLERANCE = 1e-6


def parse_metric(spec: str | tuple[str, str]) -> tuple[str, str]:
    """``"halls_touched"`` (its default sense), ``"max:halls_touched"`` or
    ``("halls_touched", "max")`` -> ``(name, sense)``; ValueError naming the known metrics."""
    if isinstance(spec, tuple | list) and len(spec) == 2:
        name, sense = spec
    elif isinstance(spec, str):
        sense, _, name = spec.rpartition(":")
        name, sense = name.strip(), sense.strip()
    else:
        raise ValueError(f"a metric is a name, 'min:name' or 'max:name', not {spec!r}")
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}: choose from {', '.join(METRICS)}")
    sense = sense or METRICS[name][1]
    if sense not in ("min", "max"):
        raise ValueError(f"metric {spec!r}: the sense is 'min' or 'max', not {sense!r}")
    return name, sense


def add_slack(m: RetrofitModel, optimum: float, slack: float) -> None:
    """The plans within ``slack`` of the optimum's objective ``optimum`` (PFLOPS-periods, or
    USD): ``compute >= (1 - slack) optimum`` or ``spend <= (1 + slack) optimum``, each with
    a tolerance far below one rack or one dollar."""
    if m.scenario.objective == "max_compute":
        floor = (1 - slack) * optimum - _compute_slack(m, optimum)
        m.add(list(m.compute.items()), pulp.LpConstraintGE, floor - m.compute.constant, "slack")
    else:
        spend = total_spend(m)
        top = ((1 + slack) * optimum + 1e-6 * max(abs(optimum), 1.0)) / MONEY
        m.add(list(spend.items()), pulp.LpConstraintLE, top - spend.constant, "slack")


def solve_alternative(
    sc: Scenario,
    optimum: Plan,
    slack: float,
    metric: str,
    sense: str,
    options: SolveOptions,
) -> Plan:
    """The alternative that takes ``metric`` to its ``sense`` within ``slack`` of
    ``optimum`` (a plan of ``sc``): status ``optimal`` when every stage was proven,
    ``feasible`` when one stopped early (its message says which); its ``gap`` is the metric
    stage's relative gap (None when unknown)."""
    began = time.perf_counter()
    clock = Deadline(options.time_limit_s)
    m = build(sc)
    add_slack(m, optimum.objective, slack)
    terms = BUILDERS[metric](m, sense)
    values = terms.fill(start_values(m, optimum))
    notes: list[str] = []
    if terms.value is None:
        values, first = _ratio(m, terms, sense, values, options, clock, notes)
    else:
        m.prob.sense = pulp.LpMinimize if sense == "min" else pulp.LpMaximize
        m.prob.setObjective(terms.value)
        first = _stage(m, options, clock, STAGE_SHARES[0], values, notes, metric)
    if first.has_solution:
        values = values_of(m)
    else:
        seconds = time.perf_counter() - began
        return Plan(sc, "error", message=first.message, solve_seconds=seconds)
    proven = first.status == "optimal"
    _hold(m, terms, sense, values)
    maximise = sc.objective == "max_compute"
    m.prob.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
    m.prob.setObjective(m.compute if maximise else total_spend(m))
    second = _stage(m, options, clock, STAGE_SHARES[1], values, notes, "objective")
    if second.has_solution:
        values, proven = values_of(m), proven and second.status == "optimal"
        if maximise:
            best = second.objective
            m.add(list(m.compute.items()), pulp.LpConstraintGE,
                  best - _compute_slack(m, best) - m.compute.constant, "keep_compute")  # fmt: skip
            m.prob.sense = pulp.LpMinimize
            m.prob.setObjective(total_spend(m))
            tie = options.replace(mip_gap=options.mip_gap * 0.01)
            third = _stage(m, tie, clock, 1.0, values, notes, "least spend")
            if third.has_solution:
                values, proven = values_of(m), proven and third.status == "optimal"
            else:
                proven = False
    else:
        proven = False
    status = "optimal" if proven else "feasible"
    message = "; ".join(notes) if notes else "optimal"
    return plan_of(m, values, status, first.gap, message, time.perf_counter() - began)


def _stage(
    m: RetrofitModel, options, clock: Deadline, share: float, start, notes, what: str
) -> SolveResult:
    """One stage's solve from ``start``, within ``share`` of the time left; a stage that
    stops early or finds nothing says so in ``notes``."""
    limit = clock.share(share)
    result = run(m.prob, options.replace(time_limit_s=limit), start=start)
    if result.status != "optimal":
        said = result.message or result.status
        notes.append(f"{what} stage not proven optimal ({said})")
    return result


def _hold(m: RetrofitModel, terms: MetricTerms, sense: str, values: dict) -> None:
    """Hold the metric at its value at ``values``: a whole-number metric to within half a
    unit, spend to within a dollar, a share ``num / den`` by ``num - share den`` (>= 0 for
    max, <= 0 for min) to within ``RATIO_TOLERANCE`` of the GPUs counted."""
    if terms.value is None:
        e = terms.numerator - terms.at(values) * terms.denominator
        at, tol = 0.0, RATIO_TOLERANCE * max(1.0, value_at(terms.denominator, values))
    else:
        e, at = terms.value, value_at(terms.value, values)
        tol = max(0.5 if terms.scale == 1.0 else 1.0 / terms.scale, 1e-9 * abs(at))
    if sense == "min":
        m.add(list(e.items()), pulp.LpConstraintLE, at + tol - e.constant, "hold_metric")
    else:
        m.add(list(e.items()), pulp.LpConstraintGE, at - tol - e.constant, "hold_metric")


def _ratio(m, terms: MetricTerms, sense: str, values, options, clock, notes):
    """Dinkelbach's method for a share ``num / den``: from the optimum's share ``lambda``,
    optimise ``num - lambda den``; while that beats 0 by more than the tolerance, the
    solution's share is better: take it as ``lambda`` and go again. Returns the best
    solution's values (also set on the model) and the last run, its gap 0 when the share
    is proven best and None when not."""
    maximise = sense == "max"
    m.prob.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
    result = SolveResult("optimal", None, 0.0, 0.0)
    for _ in range(MAX_RATIO_STEPS):
        share = terms.at(values)
        m.prob.setObjective(terms.numerator - share * terms.denominator)
        result = _stage(m, options, clock, STAGE_SHARES[0] / 2, values, notes, "share")
        if not result.has_solution:
            return values, result
        found = values_of(m)
        gain = result.objective if maximise else -result.objective
        if gain <= RATIO_TOLERANCE * max(1.0, value_at(terms.denominator, found)):
            break  # no plan has a better share than lambda
        values = found
        if result.status != "optimal":
            break
    for var in m.prob.variables():  # the model holds the best share found
        var.varValue = values.get(var.name, 0.0)
    result.gap = 0.0 if result.status == "optimal" else None
    return values, result
