"""Compute as a rack type's network multiple varies (24-32x a CPU rack's)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..scenario import Scenario
from ..solving import SolveOptions
from .common import find_rack, solve_all
from .frontier import _objective_columns, whole_gpus, with_budget


def bandwidth_rack(sc: Scenario) -> str:
    """The rack type a bandwidth sweep varies by default: one whose network multiple is in
    the 24-32x range reported for GPU racks, else the first with a network multiple, else
    the first rack type."""
    with_multiple = [r for r in sc.rack_types if r.network_multiple is not None]
    in_range = [r for r in with_multiple if 24 <= r.network_multiple <= 32]
    pick = (in_range or with_multiple or list(sc.rack_types))[0]
    return pick.name


def default_multiples(sc: Scenario, rack_type: str) -> list[float]:
    """The multiples a bandwidth sweep covers by default: 24, 26, ..., 32 (the range reported
    for GPU racks) when the rack type's own multiple is in it, else 0.5x to 1.5x its own
    (a rack at 72x is swept over 36x-108x, not over a range it is far from)."""
    rack = find_rack(sc, rack_type)
    ref = sc.reference_rack.network_gbps if sc.reference_rack else None
    own = rack.network_multiple
    if own is None and rack.network_gbps is not None and ref:
        own = rack.network_gbps / ref
    if own is None or 24 <= own <= 32:
        return [24.0, 26.0, 28.0, 30.0, 32.0]
    return [round(own * f, 1) for f in (0.5, 0.75, 1.0, 1.25, 1.5)]


def with_multiple(
    sc: Scenario, rack_type: str, multiple: float, pro_rata: bool = False
) -> Scenario:
    """The scenario with ``rack_type``'s bandwidth set to ``multiple`` x the reference
    rack's; with ``pro_rata`` every other rack type's bandwidth scales by the same factor."""
    if sc.reference_rack is None:
        raise ValueError("a network multiple needs reference_rack.network_gbps")
    ref = sc.reference_rack.network_gbps
    rack = find_rack(sc, rack_type)
    old = rack.network_gbps if rack.network_gbps is not None else rack.network_multiple * ref
    factor = multiple * ref / old if old else 1.0
    data = sc.model_dump()
    for item in data["rack_types"]:
        gbps = item["network_gbps"]
        if gbps is None:
            gbps = item["network_multiple"] * ref
        if item["name"] == rack_type:
            item["network_multiple"], item["network_gbps"] = float(multiple), None
        elif pro_rata:
            item["network_multiple"], item["network_gbps"] = None, gbps * factor
    return Scenario.model_validate(data)


def bandwidth_sensitivity(
    scenario: Scenario,
    multiples: Iterable[float] | None = None,
    budgets: Iterable[float | None] | None = None,
    rack_type: str | None = None,
    *,
    mode: str = "total",
    pro_rata: bool = False,
    options: SolveOptions | None = None,
    **fields: Any,
) -> pd.DataFrame:
    """Compute achievable (least spend for ``min_cost``) as ``rack_type``'s network
    multiple goes over ``multiples`` (x the reference CPU rack's bandwidth; None: see
    :func:`default_multiples`), for each budget in ``budgets`` (USD, applied with
    :func:`with_budget`; None = the scenario's own budgets, the default). One solve per
    (budget, multiple), solved at the same time in worker processes with a progress bar
    (:func:`planner.analysis.common.solve_all`).

    Columns: ``rack_type, network_multiple, network_gbps, budget_usd`` (NaN = the
    scenario's), ``budget_label, status, pflops_periods, spend_usd, gpus_last_period,
    solve_seconds``.
    """

    rack_type = rack_type or bandwidth_rack(scenario)
    find_rack(scenario, rack_type)
    multiples = default_multiples(scenario, rack_type) if multiples is None else list(multiples)
    budgets = [None] if budgets is None else list(budgets)
    opts = SolveOptions.of(options, **fields)
    ref = scenario.reference_rack.network_gbps if scenario.reference_rack else math.nan
    points = [(budget, float(m)) for budget in budgets for m in multiples]
    cases = {b: with_budget(scenario, b, mode) for b in budgets}
    asked = [with_multiple(cases[b], rack_type, m, pro_rata) for b, m in points]
    rows = []
    for (budget, m), plan in zip(points, solve_all(asked, opts, "Bandwidth"), strict=True):
        rows.append(
            {
                "rack_type": rack_type,
                "network_multiple": m,
                "network_gbps": m * ref,
                "budget_usd": math.nan if budget is None else float(budget),
                "budget_label": "scenario's budgets"
                if budget is None
                else f"${budget / 1e6:,.0f}M {'total' if mode == 'total' else 'per period'}",
                "status": plan.status,
                **_objective_columns(plan),
                "solve_seconds": plan.solve_seconds,
            }
        )
    df = whole_gpus(pd.DataFrame(rows))
    df.attrs.update(pro_rata=pro_rata, objective=scenario.objective, n_periods=scenario.n_periods)
    return df
