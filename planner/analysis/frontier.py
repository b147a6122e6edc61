"""Most compute against budget (or least spend against a GPU target): one solve per
point, and where the retrofit set changes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..plan import Plan
from ..scenario import Scenario
from ..solving import SolveOptions, solve
from .common import solve_all


def with_budget(sc: Scenario, budget_usd: float | None, mode: str = "total") -> Scenario:
    """The scenario with a budget: ``mode="total"`` sets ``budget_usd_total`` (per-period
    caps kept); ``"per_period"`` sets every period's cap (total cap kept). None keeps the
    scenario's budgets."""
    if budget_usd is None:
        return sc
    data = sc.model_dump()
    if mode == "total":
        data["budget_usd_total"] = float(budget_usd)
    elif mode == "per_period":
        data["budget_usd_per_period"] = float(budget_usd)
    else:
        raise ValueError(f"budget mode must be 'total' or 'per_period', not {mode!r}")
    return Scenario.model_validate(data)


def with_target(sc: Scenario, gpus: float) -> Scenario:
    """The scenario with the last period's GPU target set to ``gpus`` and earlier targets
    scaled in proportion (all equal to ``gpus`` when the scenario has none)."""
    data = sc.model_dump()
    old = sc.gpu_targets
    if old and old[-1] > 0:
        data["gpu_targets"] = [float(g) * gpus / old[-1] for g in old]
    else:
        data["gpu_targets"] = [float(gpus)] * sc.n_periods
    return Scenario.model_validate(data)


def retrofit_set(plan: Plan) -> dict[tuple[str, str], int]:
    """``{(option, where): units}`` installed by the last period (where = hall or site)."""
    if not plan.has_plan or plan.retrofits.empty:
        return {}
    last = plan.scenario.periods[-1]
    rows = plan.retrofits[(plan.retrofits["period"] == last) & (plan.retrofits["units"] > 0)]
    return {
        (row.option, row.hall or row.site): int(row.units) for row in rows.itertuples(index=False)
    }


def _describe(items: set) -> str:
    """``{(option, where)}`` as ``cdu-1200kw (a1, b1); fabric-256gpu (a2)``."""
    by: dict = defaultdict(list)
    for option, where in sorted(items):
        by[option].append(where)
    return "; ".join(f"{o} ({', '.join(w)})" for o, w in by.items())


def change_label(before: set, after: set, limit: int = 4) -> str:
    """What changed between two retrofit sets, as ``+cdu-1200kw in a1, -aalc-20kw in b2``
    grouped by option, at most ``limit`` options named."""
    parts = []
    for sign, items in (("+", after - before), ("-", before - after)):
        by: dict = defaultdict(list)
        for option, where in sorted(items):
            by[option].append(where)
        parts += [f"{sign}{o} in {', '.join(w)}" for o, w in by.items()]
    if len(parts) > limit:
        parts = parts[:limit] + [f"+{len(parts) - limit} more"]
    return ", ".join(parts)


def _objective_columns(plan: Plan) -> dict:
    if not plan.has_plan:
        return {"pflops_periods": math.nan, "spend_usd": math.nan, "gpus_last_period": math.nan}
    return {
        "pflops_periods": float(plan.pflops().sum()),
        "spend_usd": float(plan.total_spend_usd),
        "gpus_last_period": float(plan.gpus().iloc[-1]),
    }


def _sweep_rows(plans: list[tuple[float, Plan]], key: str) -> pd.DataFrame:
    rows = []
    before: set | None = None
    for value, plan in plans:
        units = retrofit_set(plan)
        now = set(units)
        changed = before is not None and plan.has_plan and now != before
        rows.append(
            {
                key: value,
                "status": plan.status,
                **_objective_columns(plan),
                "retrofits": _describe(now),
                "changed": bool(changed),
                "label": change_label(before, now) if changed else "",
                "solve_seconds": plan.solve_seconds,
            }
        )
        if plan.has_plan:
            before = now
    return whole_gpus(pd.DataFrame(rows))


def whole_gpus(df: pd.DataFrame) -> pd.DataFrame:
    """``gpus_last_period`` as whole numbers (nullable: a point with no plan has none)."""
    if "gpus_last_period" in df:
        df["gpus_last_period"] = df["gpus_last_period"].round().astype("Int64")
    return df


def default_budgets(
    sc: Scenario, points: int = 5, plan: Plan | None = None, options: SolveOptions | None = None
) -> list:
    """``points`` budgets up to the scenario's optimal spend: from a fifth of it, or, when
    the scenario has GPU or cluster targets (which smaller budgets cannot meet), from the
    least spend that meets them (one ``min_cost`` solve), evenly spaced."""

    plan = plan if plan is not None else solve(sc, options)
    if not plan.has_plan or plan.total_spend_usd <= 0:
        return []
    top = plan.total_spend_usd
    targets = sc.gpu_targets or any(kind.targets for kind in sc.cluster_kinds())
    if targets and sc.objective == "max_compute":
        cheapest = type(sc).model_validate(sc.model_dump() | {"objective": "min_cost"})
        least = solve(cheapest, options)
        if least.has_plan and least.total_spend_usd < top:
            low = least.total_spend_usd
            step = (top - low) / max(points - 1, 1)
            return [low + step * i for i in range(points)]
    return [top * (i + 1) / points for i in range(points)]


def frontier(
    scenario: Scenario,
    budgets: Iterable[float] | None = None,
    *,
    targets: Iterable[float] | None = None,
    mode: str = "total",
    points: int = 5,
    plan: Plan | None = None,
    options: SolveOptions | None = None,
    **fields: Any,
) -> pd.DataFrame:
    """Most compute against budget, one :func:`planner.solve` per budget (``max_compute``
    scenarios), or least spend against the last period's GPU target (``min_cost``).

    ``budgets`` (USD) are applied by :func:`with_budget` with ``mode`` ("total": a cap on
    spend over all periods, the scenario's per-period caps kept; "per_period": every
    period's cap). Default: ``points`` budgets up to the scenario's optimal spend (one
    extra solve, or ``plan`` when given). ``targets`` (GPUs in the last period, earlier
    targets in proportion; :func:`with_target`) default to 25%..125% of the scenario's.

    Rows are sorted by budget (target). Columns: ``budget_usd`` (or ``gpu_target``),
    ``status, pflops_periods, spend_usd, gpus_last_period, retrofits`` (the retrofit set
    installed by the last period), ``changed`` (the set differs from the previous
    point's), ``label`` (``+option in hall`` / ``-option in hall``), ``solve_seconds``.
    """

    opts = SolveOptions.of(options, **fields)
    if scenario.objective == "min_cost":
        if targets is None:
            base = scenario.gpu_targets[-1] if scenario.gpu_targets else 0.0
            targets = [base * f for f in np.linspace(0.25, 1.25, points)]
        values = sorted(float(v) for v in targets)
        solved = solve_all([with_target(scenario, v) for v in values], opts, "Frontier")
        plans = list(zip(values, solved, strict=True))
        df = _sweep_rows(plans, "gpu_target")
        df.attrs.update(objective=scenario.objective, n_periods=scenario.n_periods)
        return df
    if budgets is None:
        budgets = default_budgets(scenario, points, plan, opts)
    values = sorted(float(v) for v in budgets)

    def reuse(v: float) -> bool:
        return (
            plan is not None
            and plan.status == "optimal"
            and mode == "total"
            and plan.scenario is scenario
            and v >= plan.total_spend_usd
            and (scenario.budget_usd_total is None or v <= scenario.budget_usd_total)
        )

    todo = [v for v in values if not reuse(v)]
    asked = [with_budget(scenario, v, mode) for v in todo]
    hint = plan.solve_seconds + plan.build_seconds if plan is not None else None
    solved = dict(zip(todo, solve_all(asked, opts, "Frontier", seconds_each=hint), strict=True))
    plans = [(v, solved.get(v, plan)) for v in values]
    df = _sweep_rows(plans, "budget_usd")
    df.attrs.update(objective=scenario.objective, n_periods=scenario.n_periods, mode=mode)
    return df
