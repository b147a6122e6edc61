"""What operates per period: racks, GPUs and PFLOPS, retrofits as they complete, spend
against budget."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..plan import Plan


@dataclass
class Timeline:
    """The tables behind a build-out timeline (see :func:`timeline`)."""

    #: ``period, period_index, site, hall, rack_type, racks, gpus, pflops``
    operating: pd.DataFrame
    #: ``period, period_index, site, hall, option, kind, units_added, units, capacity_added``
    #: (capacity in the kind's unit); one row per retrofit that completes in a period
    retrofits: pd.DataFrame
    #: ``period, period_index, racks_usd, retrofits_usd, retirements_usd, total_usd,
    #: budget_usd``
    spend: pd.DataFrame
    periods: list[str]
    scenario_name: str
    #: ``period, period_index, cluster, gpus, pflops``: GPUs and PFLOPS operating in
    #: clusters of each kind, and ``"not in a cluster"`` for the rest
    by_cluster: pd.DataFrame | None = None
    #: ``period, period_index, cpu_racks_retired, cpu_racks_retired_total``: CPU racks
    #: retired across the fleet in the period, and by its end
    retired: pd.DataFrame | None = None


def timeline(plan: Plan) -> Timeline:
    """Racks, GPUs and PFLOPS operating per period by site, hall and rack type; retrofit
    units by the period they complete (are first installed); spend against budget."""
    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    sc = plan.scenario
    order = {p: i for i, p in enumerate(sc.periods)}
    racks = {r.name: r for r in sc.rack_types}
    op = (
        plan.racks.groupby(["period", "site", "hall", "rack_type"], sort=False)["count"]
        .sum()
        .reset_index()
        .rename(columns={"count": "racks"})
    )
    op["racks"] = op["racks"].astype(int)
    op["gpus"] = [racks[r].gpus * n for r, n in zip(op["rack_type"], op["racks"], strict=True)]
    op["pflops"] = [racks[r].pflops * n for r, n in zip(op["rack_type"], op["racks"], strict=True)]
    op.insert(1, "period_index", op["period"].map(order).astype(int))
    op = op.sort_values(["period_index", "site", "hall", "rack_type"]).reset_index(drop=True)

    options = {o.name: o for o in sc.retrofits}
    rf = plan.retrofits[plan.retrofits["added"] > 0]
    ret = pd.DataFrame(
        {
            "period": rf["period"],
            "period_index": rf["period"].map(order).astype(int),
            "site": rf["site"],
            "hall": rf["hall"],
            "option": rf["option"],
            "kind": rf["kind"],
            "units_added": rf["added"].astype(int),
            "units": rf["units"].astype(int),
            "capacity_added": [
                options[o].capacity * n for o, n in zip(rf["option"], rf["added"], strict=True)
            ],
        }
    )
    ret = ret.sort_values(["period_index", "site", "hall", "option"]).reset_index(drop=True)
    spend = plan.spend.copy()
    spend.insert(1, "period_index", spend["period"].map(order).astype(int))
    total = plan.halls.groupby("period")["cpu_racks_retired"].sum().reindex(sc.periods).fillna(0)
    retired = pd.DataFrame(
        {
            "period": list(sc.periods),
            "period_index": range(sc.n_periods),
            "cpu_racks_retired": total.diff().fillna(total).astype(int).to_numpy(),
            "cpu_racks_retired_total": total.astype(int).to_numpy(),
        }
    )
    return Timeline(
        op, ret, spend, list(sc.periods), sc.name, _by_cluster(plan, op, order), retired
    )


NOT_CLUSTERED = "not in a cluster"


def _by_cluster(plan: Plan, op: pd.DataFrame, order: dict) -> pd.DataFrame:
    """GPUs and PFLOPS per period in clusters of each kind, and outside any cluster."""
    pflops = {r.name: r.pflops for r in plan.scenario.rack_types}
    rows = []
    cl = plan.clusters
    for period, t in order.items():
        here = cl[cl["period"] == period]
        total_gpus = float(op.loc[op["period"] == period, "gpus"].sum())
        total_pflops = float(op.loc[op["period"] == period, "pflops"].sum())
        for kind, group in here.groupby("kind", sort=False):
            gpus = float(group["gpus"].sum())
            flops = float(
                sum(pflops[r] * n for r, n in zip(group["rack_type"], group["racks"], strict=True))
            )
            rows.append((period, t, kind, gpus, flops))
            total_gpus -= gpus
            total_pflops -= flops
        rows.append((period, t, NOT_CLUSTERED, max(total_gpus, 0.0), max(total_pflops, 0.0)))
    return pd.DataFrame(rows, columns=["period", "period_index", "cluster", "gpus", "pflops"])
