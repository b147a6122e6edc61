"""How much compute a plan keeps when deliveries slip, against a plan that hedged them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..plan import Plan
from ..solving.hedge import Hedge
from ..solving.stress import stress

#: the comparison's columns (PFLOPS-periods the scenario counts; USD)
RISK_COLUMNS = [
    "case",
    "weight",
    "plan_pflops_periods",
    "hedged_pflops_periods",
    "plan_spend_usd",
    "hedged_spend_usd",
]


def hedge_against(plan: Plan, hedge: Hedge, **options: Any) -> pd.DataFrame:
    """One row per delivery case of ``hedge``: what ``plan`` (made for on-time delivery)
    keeps in that case, its retrofits held and racks re-planned (:func:`planner.stress`),
    against what the hedged plan has there; and both spends. ``options`` are those of
    :func:`planner.solve`. ``table.attrs`` holds the expected PFLOPS-periods of each."""
    rows = []
    for case in hedge.cases:
        kept = stress(plan, case.slips, **options).plan
        hedged = hedge.plans[case.name]
        rows.append(
            (case.name, case.weight, kept.objective if kept.has_plan else 0.0,
             hedged.objective, kept.total_spend_usd if kept.has_plan else 0.0,
             hedged.total_spend_usd)
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=RISK_COLUMNS)
    for who in ("plan", "hedged"):
        table.attrs[f"{who}_expected"] = float(
            (table["weight"] * table[f"{who}_pflops_periods"]).sum()
        )
    return table
