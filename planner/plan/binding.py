"""The limits a plan binds: every resource of every hall and site at (or within a tolerance
of) its capacity, and the budgets it spends to the cap, from the plan's own tables."""

from __future__ import annotations

import math

import pandas as pd

#: share of capacity at or above which a limit counts as binding
BINDING_SHARE = 0.999


def binding(plan, tolerance: float = 1 - BINDING_SHARE) -> pd.DataFrame:
    """Limits that bind, or are within ``tolerance`` (a share of capacity) of binding.

    Returns ``site, hall, period, resource, unit, used, capacity, share_used, slack`` for every
    hall or site resource with ``used >= (1 - tolerance) x capacity`` (capacity > 0), plus
    ``budget`` rows (hall "" and site "") for periods whose spend reaches the budget; sorted
    by period, site and hall.
    """
    columns = [
        "site",
        "hall",
        "period",
        "resource",
        "unit",
        "used",
        "capacity",
        "share_used",
        "slack",
    ]
    if not plan.has_plan:
        return pd.DataFrame(columns=columns)
    util = plan.utilisation
    util = util[(util["capacity"] > 0) & util["capacity"].notna()].copy()
    util["share_used"] = util["used"] / util["capacity"]
    util["slack"] = util["capacity"] - util["used"]
    rows = util[util["share_used"] >= 1 - tolerance]
    spend = plan.spend
    money = spend[spend["budget_usd"].notna() & (spend["budget_usd"] > 0)]
    money = money[money["total_usd"] >= (1 - tolerance) * money["budget_usd"]]
    budget_rows = pd.DataFrame(
        {
            "site": "",
            "hall": "",
            "period": money["period"],
            "resource": "budget",
            "unit": "USD",
            "used": money["total_usd"],
            "capacity": money["budget_usd"],
            "share_used": money["total_usd"] / money["budget_usd"],
            "slack": money["budget_usd"] - money["total_usd"],
        }
    )
    total = plan.scenario.budget_usd_total
    extra = []
    if total:
        spent = float(spend["total_usd"].sum())
        if spent >= (1 - tolerance) * total:
            extra.append(
                ("", "", "", "budget_total", "USD", spent, total, spent / total, total - spent)
            )
    frames = [f for f in (rows, budget_rows, pd.DataFrame(extra, columns=columns)) if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)[columns]
    order = {p: i for i, p in enumerate(plan.scenario.periods)}
    out["_t"] = out["period"].map(order).fillna(math.inf)
    return (
        out.sort_values(["_t", "site", "hall"], kind="stable")
        .drop(columns="_t")
        .reset_index(drop=True)
    )
