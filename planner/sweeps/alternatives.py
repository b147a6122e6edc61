"""Near-optimal alternatives (modelling to generate alternatives, as energy planners do).

>>> found = planner.alternatives("configs/legacy-hall.yaml", slack=0.02,
...                              metrics=["halls_touched", "max:liquid_share"])
>>> found.table      # one row per plan: the optimum, then each alternative, with its metrics
>>> found.plans["min halls_touched"]

The optimum is solved first; then, for each metric, the plan that takes it to its best
(``min`` or ``max``) among the plans whose objective is within ``slack`` of the optimum's
(:mod:`planner.solving.alternatives`), in parallel: local worker processes or a
``dask.distributed`` client, as sweeps are run. Every plan is checked by
:meth:`planner.Plan.verify` and against the slack, and the table says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..plan import Plan
from ..plan.metrics import METRICS, plan_metrics
from ..scenario import Scenario
from ..solving import SolveOptions, solve
from ..solving.alternatives import parse_metric, solve_alternative
from ..solving.optimize import as_scenario
from ..solving.progress import progress_bar
from ..solving.runners import check_workers, run_points

__all__ = ["TABLE_COLUMNS", "Alternatives", "alternatives", "parse_slack"]

#: the table's columns (docs/sweeps.md), the metrics of :data:`planner.plan.metrics.METRICS`
#: between ``metric_gap`` and ``pflops_periods``
TABLE_COLUMNS = [
    "alternative",
    "metric",
    "sense",
    "status",
    "objective",
    "objective_unit",
    "objective_vs_optimum",
    "within_slack",
    "verified",
    "metric_gap",
    *METRICS,
    "pflops_periods",
    "gpus",
    "solve_seconds",
    "error",
]
_UNITS = {"max_compute": "PFLOPS-periods", "min_cost": "USD"}


@dataclass
class Alternatives:
    """What :func:`alternatives` found: ``table`` (one row per plan, the optimum first),
    ``plans`` (label -> Plan; the optimum's label is ``"optimum"``) and the ``slack``.
    Unpacks as ``table, plans = planner.alternatives(...)``."""

    table: pd.DataFrame
    plans: dict[str, Plan] = field(default_factory=dict)
    slack: float = 0.0

    @property
    def optimum(self) -> Plan:
        return self.plans["optimum"]

    def __iter__(self) -> Iterator[Any]:
        return iter((self.table, self.plans))

    def plot(self, ax=None):
        """The alternatives side by side (:func:`planner.plots.alternatives`)."""
        from ..plots.alternatives import alternatives as draw

        return draw(self, ax=ax)


def parse_slack(value: float | str) -> float:
    """A slack as a share of the optimum: ``0.02``, ``"0.02"`` or ``"2%"``; ValueError
    unless it is a number from 0 up to (not including) 1."""
    text = str(value).strip()
    try:
        slack = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(
            f"slack {value!r}: a share such as 0.02 or a percentage such as 2%"
        ) from None
    if not (math.isfinite(slack) and 0 <= slack < 1):
        raise ValueError(f"slack {value!r}: it must be at least 0 and below 1 (100%)")
    return slack


def label(metric: str, sense: str) -> str:
    return f"{sense} {metric}"


def alternative_point(payload: dict, point: dict, options: dict) -> dict[str, Any]:
    """One alternative (a task for :mod:`planner.solving.runners`): never raises; a
    failure is a row with status ``error`` and its reason."""
    began = time.perf_counter()
    try:
        optimum = Plan.from_dict(payload["optimum"])
        plan = solve_alternative(
            optimum.scenario,
            optimum,
            payload["slack"],
            point["metric"],
            point["sense"],
            SolveOptions(**options),
        )
        row = {"status": plan.status, "metric_gap": plan.gap, "plan": plan.to_dict(), "error": ""}
        if not plan.has_plan:
            row["error"] = plan.message or plan.status
    except Exception as exc:  # a bug or a missing solver: the other alternatives go on
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}", "plan": None}
    row["solve_seconds"] = time.perf_counter() - began
    return row


def _within(plan: Plan, optimum: Plan, slack: float) -> bool:
    """Whether a plan's objective is within ``slack`` of the optimum's (a millionth of
    tolerance, as the model's own)."""
    best, got = optimum.objective, plan.objective
    tol = 1e-6 * max(abs(best), 1.0)
    if plan.scenario.objective == "max_compute":
        return got >= (1 - slack) * best - tol
    return got <= (1 + slack) * best + tol


def _record(name, metric, sense, plan: Plan | None, row: dict, optimum: Plan, slack) -> dict:
    record = {
        "alternative": name,
        "metric": metric,
        "sense": sense,
        "status": row.get("status", ""),
        "objective_unit": _UNITS[optimum.scenario.objective],
        "metric_gap": row.get("metric_gap"),
        "solve_seconds": row.get("solve_seconds"),
        "error": row.get("error", ""),
    }
    if plan is not None and plan.has_plan:
        gpus = plan.gpus()
        record.update(
            objective=plan.objective,
            objective_vs_optimum=plan.objective / optimum.objective if optimum.objective else 1.0,
            within_slack=_within(plan, optimum, slack),
            verified=not plan.verify(),
            pflops_periods=float(plan.pflops().sum()),
            gpus=int(gpus.iloc[-1]) if len(gpus) else 0,
            **plan_metrics(plan),
        )
    return record


def _table(records: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
    for name in ("objective", "objective_vs_optimum", "metric_gap", "pflops_periods",
                 "solve_seconds", *METRICS):  # fmt: skip
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    table["gpus"] = table["gpus"].astype("Int64")
    for name in ("within_slack", "verified"):
        table[name] = table[name].astype("boolean")
    for name in ("alternative", "metric", "sense", "status", "objective_unit", "error"):
        table[name] = table[name].fillna("").astype(str)
    return table


def alternatives(
    scenario: Scenario | str | Path,
    slack: float | str = 0.02,
    metrics: Sequence[str | tuple[str, str]] | None = None,
    workers: int | None = None,
    client: Any = None,
    options: SolveOptions | None = None,
    progress: bool = True,
    **fields: Any,
) -> Alternatives:
    """Plans within ``slack`` of the optimum that each take one metric to its best.

    ``scenario``: a Scenario or a scenario file. ``slack``: a share of the optimum's
    objective (``0.02`` or ``"2%"``): for ``max_compute`` at least ``(1 - slack)`` of its
    PFLOPS-periods, for ``min_cost`` at most ``(1 + slack)`` of its spend. ``metrics``:
    names of :data:`planner.plan.metrics.METRICS` (``halls_touched``, ``sites_used``,
    ``liquid_share``, ``cdu_units``, ``cpu_racks_retired``, ``spend_usd``), each in its
    default sense or as ``"min:name"`` / ``"max:name"``; default all, in their default
    senses. ``workers``, ``client``, ``options`` (or its fields as keywords; a time limit
    is per plan) and ``progress`` are those of :func:`planner.sweep`.

    Returns :class:`Alternatives`: the table (columns :data:`TABLE_COLUMNS`, documented in
    docs/sweeps.md) and the plans. An alternative that fails is a row with its reason in
    ``error``. When the scenario has no plan, the table is the optimum's row alone.
    Raises ScenarioError for an invalid scenario and ValueError for a bad slack, metric
    or ``workers``.
    """
    slack = parse_slack(slack)
    specs = list(dict.fromkeys(parse_metric(s) for s in (metrics or list(METRICS))))
    check_workers(workers)
    sc = as_scenario(scenario)
    opts = SolveOptions.of(options, **fields)
    optimum = solve(sc, opts)
    found = Alternatives(pd.DataFrame(), {"optimum": optimum}, slack)
    said = {"status": optimum.status, "metric_gap": optimum.gap,
            "solve_seconds": optimum.solve_seconds,
            "error": "" if optimum.has_plan else optimum.message}  # fmt: skip
    records = [_record("optimum", "", "", optimum, said, optimum, slack)]
    if optimum.has_plan:
        payload = {"optimum": optimum.to_dict(), "slack": slack}
        points = [{"metric": name, "sense": sense} for name, sense in specs]
        rows: list[dict | None] = [None] * len(points)
        with progress_bar(len(points), f"Alternatives {sc.name}", progress, "plan") as advance:

            def done(i: int, row: dict) -> None:
                rows[i] = row
                advance()

            run_points(alternative_point, payload, points, opts.as_dict(), done, workers, client)
        for (name, sense), row in zip(specs, rows, strict=True):
            plan = Plan.from_dict(row["plan"]) if row.get("plan") else None
            key = label(name, sense)
            if plan is not None:
                found.plans[key] = plan
            records.append(_record(key, name, sense, plan, row, optimum, slack))
    found.table = _table(records)
    return found
