"""Reading a solved model's decisions back as a Plan's tables, with the model's own
account of its objective and spend (which :meth:`planner.Plan.verify` then checks)."""

from __future__ import annotations

import pandas as pd

from ..model import MONEY, RetrofitModel, total_spend, value_at
from ..plan import Plan
from ..plan import accounting as acc


def values_of(m: RetrofitModel) -> dict:
    """Snapshot of every variable's value (a later solve overwrites them)."""
    return {var.name: var.varValue for var in m.prob.variables()}


def plan_of(m: RetrofitModel, values: dict, status, gap, message, seconds, **meta) -> Plan:
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
        installed = idx.installed_units if scoped else idx.installed_site
        for key, var in store.items():
            units = whole(var)
            if not units:
                continue
            where, o, t = key
            if scoped:
                site_name, hall_name = idx.halls[where][1].name, idx.halls[where][2].name
            else:
                site_name, hall_name = sc.sites[where].name, ""
            prev = store.get((where, o, t - 1))  # none before the first: what is installed
            added = units - (whole(prev) if prev is not None else installed[where].get(o, 0))
            opt = sc.retrofits[o]
            retrofits.append(
                (site_name, hall_name, sc.periods[t], opt.name, opt.kind, units, added)
            )
    liquid_by_hall = liquid_heat(m, values)
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
        clusters=pd.DataFrame(cluster_rows(m, whole), columns=acc.CLUSTER_COLUMNS),
        message=message,
        solve_seconds=seconds,
        **meta,
    )
    # the model's own account of its objective and spend, checked by Plan.verify()
    spend = value_at(total_spend(m), values) * MONEY
    compute = value_at(m.compute, values)
    plan.total_spend_usd = float(spend)
    plan.objective = float(compute if sc.objective == "max_compute" else spend)
    return plan


def cluster_rows(m: RetrofitModel, whole) -> list[tuple]:
    """The clusters table's rows of a solution (``whole(var)``: a variable's whole value)."""
    sc, idx = m.scenario, m.index
    kinds = sc.cluster_kinds()
    rows = []
    for (c, d, r, t), var in sorted(m.k.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1])):
        count = whole(var)
        if not count:
            continue
        kind, rack = kinds[c], sc.rack_types[r]
        if kind.domain == "hall":
            site, hall = idx.halls[d][1].name, idx.halls[d][2].name
        else:
            site, hall = sc.sites[d].name, ""
        racks = count * idx.cluster_racks(c, r)
        rows.append(
            (kind.name, kind.domain, site, hall, rack.name, sc.periods[t], count, racks,
             racks * rack.gpus)
        )  # fmt: skip
    return rows


def liquid_heat(m: RetrofitModel, values: dict) -> dict:
    """Liquid heat (kW) of each hall-period at the rounded rack counts."""
    heat: dict = {}
    for (h, r, t), var in m.n.items():
        rack = m.scenario.rack_types[r]
        if rack.cooling == "liquid":
            count = round(values.get(var.name) or 0.0)
            heat[h, t] = heat.get((h, t), 0.0) + rack.liquid_fraction * rack.power_kw * count
    return heat
