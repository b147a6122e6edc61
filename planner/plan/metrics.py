"""What a plan does to a fleet, in the terms facilities teams weigh alternatives by.

Computed from a plan's tables and its scenario alone (like :mod:`.accounting`), so that
the alternatives :func:`planner.alternatives` finds can be checked against what the model
says it optimised. Every metric counts the state at the end of the horizon (decisions are
cumulative) against what is already installed (MODEL.md section 6).
"""

from __future__ import annotations

from collections import defaultdict

from ..scenario import Scenario
from . import accounting as acc

#: metric name -> (unit, default sense, what it counts)
METRICS: dict[str, tuple[str, str, str]] = {
    "halls_touched": (
        "halls",
        "min",
        "halls that get any GPU rack or hall retrofit unit beyond what is installed",
    ),
    "sites_used": (
        "sites",
        "min",
        "sites that get any GPU rack or retrofit unit (hall or site scope) beyond what is "
        "installed",
    ),
    "liquid_share": (
        "share",
        "max",
        "share of the GPUs operating in the last period that sit in liquid-cooled racks "
        "(0 when there are none)",
    ),
    "cdu_units": ("units", "min", "CDU units standing in the last period, installed included"),
    "cpu_racks_retired": ("racks", "min", "CPU racks retired by the last period"),
    "spend_usd": ("USD", "min", "total spend over the horizon"),
}


def plan_metrics(plan) -> dict[str, float]:
    """Every metric of :data:`METRICS` for a plan with decisions (``{name: value}``)."""
    sc: Scenario = plan.scenario
    last = sc.periods[-1]
    have = acc.installed_stock(sc)
    types = {r.name: r for r in sc.rack_types}
    racks = plan.racks[plan.racks["period"] == last]
    units = plan.retrofits[plan.retrofits["period"] == last]
    final: dict = defaultdict(int)
    for row in racks.itertuples(index=False):
        final["rack", row.site, row.hall, row.rack_type] += int(row.count)
    for row in units.itertuples(index=False):
        final["unit", row.site, row.hall, row.option] += int(row.units)
    grown = {key for key, n in final.items() if n > have.get(key, 0)}
    gpus = sum(types[t].gpus * n for (k, _s, _h, t), n in final.items() if k == "rack")
    liquid = sum(
        types[t].gpus * n
        for (k, _s, _h, t), n in final.items()
        if k == "rack" and types[t].cooling == "liquid"
    )
    cdu = {o.name for o in sc.retrofits if o.kind == "cdu"}
    retired = plan.halls[plan.halls["period"] == last]["cpu_racks_retired"]
    return {
        "halls_touched": float(len({(s, h) for _k, s, h, _n in grown if h})),
        "sites_used": float(len({s for _k, s, _h, _n in grown})),
        "liquid_share": liquid / gpus if gpus else 0.0,
        "cdu_units": float(
            sum(n for (k, _s, _h, o), n in final.items() if k == "unit" and o in cdu)
        ),
        "cpu_racks_retired": float(retired.sum()),
        "spend_usd": float(plan.spend["total_usd"].sum()),
    }
