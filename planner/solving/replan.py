"""Re-planning (MODEL.md section 6): the scenario of what a plan has standing when a period
starts, solved for the rest of the horizon, joined to the plan's past in one plan.

* :func:`scenario_at` - the scenario from a period on: periods from it, what the plan has
  standing at the end of the period before as ``installed`` units, ``gpu_racks`` (with the
  doors they sit behind) and ``cpu_racks`` (those still standing), the remaining budgets
  (per period as they were; the total less what was spent), targets from that period on and
  lead times counted from it.
* :func:`replan` - that scenario (or one edited from it: what was really delivered) solved,
  and the result joined to the plan's periods before it, so that
  :func:`planner.compare_plans` can hold it against the original.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from ..plan import Plan
from ..plan import accounting as acc
from ..scenario import Scenario
from .optimize import solve
from .options import SolveOptions


def _index(plan: Plan, period: str) -> int:
    periods = plan.scenario.periods
    if not plan.has_plan:
        raise ValueError(f"a {plan.status} plan has nothing standing to re-plan from")
    if period not in periods:
        raise ValueError(
            f"{period!r} is not a period of the plan (its periods: {', '.join(periods)})"
        )
    return periods.index(period)


def scenario_at(plan: Plan, period: str) -> Scenario:
    """The scenario of the plan's question from ``period`` on, starting from what the plan
    has standing at the end of the period before (the plan's own scenario for its first
    period). Raises ``ValueError`` for a period the plan does not have."""
    t = _index(plan, period)
    sc = plan.scenario
    if t == 0:
        return sc.model_copy(deep=True)
    before = sc.periods[t - 1]
    doc = sc.model_dump(mode="json")
    doc["name"] = f"{sc.name} from {period}"
    doc["periods"] = sc.periods[t:]
    if isinstance(sc.budget_usd_per_period, list):
        doc["budget_usd_per_period"] = sc.budget_usd_per_period[t:]
    if sc.budget_usd_total is not None:
        spent = float(plan.spend["total_usd"].iloc[:t].sum())
        doc["budget_usd_total"] = max(sc.budget_usd_total - spent, 0.0)
    if sc.gpu_targets is not None:
        doc["gpu_targets"] = sc.gpu_targets[t:]
    for kind in doc.get("clusters") or []:
        if kind.get("targets") is not None:
            kind["targets"] = kind["targets"][t:]
    for item in doc["rack_types"] + doc["retrofits"]:
        item["lead_periods"] = max(item["lead_periods"] - t, 0)
    _standing(plan, before, doc)
    return Scenario.model_validate(doc)


def _standing(plan: Plan, period: str, doc: dict) -> None:
    """Write into ``doc`` what the plan has standing in ``period``: racks by type and door,
    retrofit units (less the doors that come with the racks) and CPU racks left."""
    racks = plan.racks[plan.racks["period"] == period]
    units = plan.retrofits[plan.retrofits["period"] == period]
    halls = plan.halls[plan.halls["period"] == period].set_index(["site", "hall"])
    for site in doc["sites"]:
        here = units[(units["site"] == site["name"]) & (units["hall"] == "")]
        site["installed"] = {row.option: int(row.units) for row in here.itertuples() if row.units}
        site["installed"] = site["installed"] or None
        for hall in site["halls"]:
            mine = racks[(racks["site"] == site["name"]) & (racks["hall"] == hall["name"])]
            groups: dict = defaultdict(list)
            doors: dict = defaultdict(int)
            for row in mine.itertuples():
                if row.count:
                    groups[row.rack_type].append(
                        {"count": int(row.count), "rdhx": row.rdhx_option or None}
                    )
                    if row.rdhx_option:
                        doors[row.rdhx_option] += int(row.count)
            hall["gpu_racks"] = dict(groups) or None
            own = units[(units["site"] == site["name"]) & (units["hall"] == hall["name"])]
            installed = {
                row.option: int(row.units) - doors[row.option]
                for row in own.itertuples()
                if int(row.units) - doors[row.option] > 0
            }
            hall["installed"] = installed or None
            if hall.get("cpu_racks") is not None and (site["name"], hall["name"]) in halls.index:
                left = halls.loc[(site["name"], hall["name"]), "cpu_racks_left"]
                hall["cpu_racks"]["count"] = int(left)


def replan(
    plan: Plan,
    from_period: str,
    scenario: Scenario | None = None,
    options: SolveOptions | None = None,
    **fields: Any,
) -> Plan:
    """Re-plan from ``from_period``: solve :func:`scenario_at` (or ``scenario``, an edited
    copy of it: what was really delivered; its periods must be the plan's from
    ``from_period`` on) and join the result to the plan's periods before it.

    The joined plan has the original scenario, the plan's tables before ``from_period``
    and the new ones from it (CPU racks retired counted from the original fleet), and its
    objective and spend recomputed from those tables; its status, gap and solver are the
    re-plan's. When the re-plan finds no plan, that result (with its diagnosis) is returned
    as it is. Solve options as for :func:`planner.solve`.
    """
    t = _index(plan, from_period)
    sc = plan.scenario
    new_sc = scenario if scenario is not None else scenario_at(plan, from_period)
    if list(new_sc.periods) != list(sc.periods[t:]):
        raise ValueError(
            f"the re-planned scenario's periods ({', '.join(new_sc.periods)}) must be the "
            f"plan's from {from_period} on ({', '.join(sc.periods[t:])})"
        )
    new = solve(new_sc, options, **fields)
    if not new.has_plan or t == 0:
        return new
    return join(plan, new, t)


def _concat(first: pd.DataFrame, then: pd.DataFrame) -> pd.DataFrame:
    """Rows of both tables (an empty one adds nothing, and no column type)."""
    frames = [f for f in (first, then) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else then.iloc[:0].copy()


def join(plan: Plan, new: Plan, t: int) -> Plan:
    """The plan's periods before index ``t`` followed by ``new``'s, as one plan of the
    original scenario. The past is as planned, except that nothing stands in it that did not
    stand when ``new`` starts (``new.scenario``'s installed racks, units and CPU racks
    retired): a delivery that slipped is paid, and counted, from the period its rack first
    operates, as every rack is."""
    sc = plan.scenario
    racks, retrofits, halls = _past(plan, new.scenario, t)
    later = new.halls.copy()
    counts = {
        (site.name, hall.name): hall.cpu_racks.count if hall.cpu_racks else 0
        for site, hall in sc.halls()
    }
    later["cpu_racks_retired"] = [
        counts.get((row.site, row.hall), 0) - row.cpu_racks_left for row in later.itertuples()
    ]
    clusters = _clusters_within(
        plan.clusters[plan.clusters["period"].isin(set(sc.periods[:t]))], racks
    )
    first, last = sc.periods[0], sc.periods[t - 1]
    span = first if t == 1 else f"{first}-{last}"
    return Plan.from_tables(
        sc,
        _concat(racks, new.racks),
        _concat(retrofits, new.retrofits),
        _concat(halls, later),
        status=new.status,
        clusters=_concat(clusters, _carried(clusters[clusters["period"] == last], new)),
        gap=new.gap,
        solver=new.solver,
        message=f"{span} as planned, re-planned from {sc.periods[t]}: {new.message}",
        build_seconds=new.build_seconds,
        solve_seconds=new.solve_seconds,
    )


def _carried(standing: pd.DataFrame, new: Plan) -> pd.DataFrame:
    """The re-plan's clusters, with those standing at the end of the past kept where the
    re-plan formed fewer of them (clusters are never broken up, and a re-plan that counts
    every rack has no reason to form them again) and their racks are free in every period:
    racks of the type in the hall (and the site) not in another cluster."""
    table = new.clusters.copy()
    if not len(standing):
        return table
    keys = ["kind", "domain", "site", "hall", "rack_type"]
    stock = new.racks.groupby(["site", "hall", "rack_type", "period"])["count"].sum().to_dict()
    for (site, _hall, rack_type, period), n in list(stock.items()):
        stock[site, "", rack_type, period] = stock.get((site, "", rack_type, period), 0) + n
    rows = []
    for row in standing.itertuples(index=False):
        size, gpus = row.racks // row.count, row.gpus // row.count
        for period in new.scenario.periods:
            here = table[(table["period"] == period)]
            mine = here[(here[keys] == [getattr(row, k) for k in keys]).all(axis=1)]
            short = row.count - int(mine["count"].sum())
            if short <= 0:
                continue
            places = [(row.site, row.hall, row.rack_type, period)] if row.hall else []
            places.append((row.site, "", row.rack_type, period))
            used = {
                place: int(here[(here["site"] == place[0]) & (here["rack_type"] == row.rack_type)
                                & ((here["hall"] == place[1]) | (place[1] == ""))]["racks"].sum())
                for place in places
            }  # fmt: skip
            if all(stock.get(p, 0) - used[p] >= short * size for p in places):
                rows.append((row.kind, row.domain, row.site, row.hall, row.rack_type, period,
                             short, short * size, short * gpus))  # fmt: skip
    if rows:
        extra = pd.DataFrame(rows, columns=table.columns)
        table = _concat(table, extra)
        table = table.groupby(keys + ["period"], as_index=False, sort=False)[
            ["count", "racks", "gpus"]
        ].sum()[list(new.clusters.columns)]
    return table.astype({"count": int, "racks": int, "gpus": int})


def _caps(sc: Scenario, start: Scenario) -> tuple[dict, dict, dict]:
    """What ``start`` holds, by the plan tables' keys: racks ``(site, hall, type, door)``,
    units ``(site, hall or "", option)`` and CPU racks retired ``(site, hall)`` (counted from
    ``sc``'s fleet)."""
    racks, units, retired = {}, {}, {}
    for site, here in zip(sc.sites, start.sites, strict=True):
        for name, n in here.installed_units().items():
            units[site.name, "", name] = n
        for hall, now in zip(site.halls, here.halls, strict=True):
            for name, door, n in now.installed_racks():
                racks[site.name, hall.name, name, door] = n
            for name, n in now.installed_units().items():
                units[site.name, hall.name, name] = n
            was, left = hall.cpu_racks, now.cpu_racks
            retired[site.name, hall.name] = (was.count if was else 0) - (left.count if left else 0)
    return racks, units, retired


def _past(plan: Plan, start: Scenario, t: int) -> tuple[pd.DataFrame, ...]:
    """The plan's tables before period index ``t``, each count at most what ``start`` holds,
    and the liquid heat of the racks kept split as planned (CDUs first)."""
    sc = plan.scenario
    past = set(sc.periods[:t])
    rack_cap, unit_cap, retired_cap = _caps(sc, start)
    racks = plan.racks[plan.racks["period"].isin(past)].copy()
    racks["count"] = [
        min(row.count, rack_cap.get((row.site, row.hall, row.rack_type, row.rdhx_option), 0))
        for row in racks.itertuples()
    ]
    units = plan.retrofits[plan.retrofits["period"].isin(past)].copy()
    units["units"] = [
        min(row.units, unit_cap.get((row.site, row.hall, row.option), 0))
        for row in units.itertuples()
    ]
    racks, units = racks[racks["count"] > 0], units[units["units"] > 0].copy()
    installed = {
        key[1:]: n for key, n in acc.installed_stock(sc).items() if key[0] == "unit"
    }  # the first period's "added" is over what stood before it
    before = units.groupby(["site", "hall", "option"])["units"].shift(1)
    first = [installed.get((r.site, r.hall, r.option), 0) for r in units.itertuples()]
    units["added"] = units["units"] - before.fillna(pd.Series(first, index=units.index))
    units["added"] = units["added"].astype(int)
    liquid = {r.name: r.liquid_fraction * r.power_kw for r in sc.rack_types}
    heat: dict = defaultdict(float)  # (site, hall, period) -> liquid heat kept, kW
    for row in racks.itertuples():
        heat[row.site, row.hall, row.period] += liquid.get(row.rack_type, 0.0) * row.count
    halls = plan.halls[plan.halls["period"].isin(past)].copy()
    for i, row in zip(halls.index, halls.itertuples(), strict=True):
        retired = min(row.cpu_racks_retired, retired_cap.get((row.site, row.hall), 0))
        total = row.cpu_racks_retired + row.cpu_racks_left
        liquid_kw = float(heat.get((row.site, row.hall, row.period), 0.0))
        to_cdu = min(row.liquid_to_cdu_kw, liquid_kw)
        halls.loc[i, "cpu_racks_retired"] = retired
        halls.loc[i, "cpu_racks_left"] = total - retired
        halls.loc[i, "liquid_to_cdu_kw"] = to_cdu
        halls.loc[i, "liquid_to_aalc_kw"] = liquid_kw - to_cdu
    return racks.reset_index(drop=True), units.reset_index(drop=True), halls


def _clusters_within(clusters: pd.DataFrame, racks: pd.DataFrame) -> pd.DataFrame:
    """The planned clusters the past still holds racks for: in each period, rows in order,
    each kept while its racks fit those of its type left in its hall (or site)."""
    if not len(clusters):
        return clusters
    left = racks.groupby(["site", "hall", "rack_type", "period"])["count"].sum().to_dict()
    for (site, _hall, rack_type, period), n in list(left.items()):
        key = (site, "", rack_type, period)
        left[key] = left.get(key, 0) + n
    keep = []
    for row in clusters.itertuples():
        places = [(row.site, row.hall, row.rack_type, row.period)] if row.hall else []
        places.append((row.site, "", row.rack_type, row.period))
        fits = all(left.get(place, 0) >= row.racks for place in places)
        if fits:
            for place in places:
                left[place] -= row.racks
        keep.append(fits)
    return clusters[keep]
