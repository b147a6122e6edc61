"""Check a plan against every rule of the model, from the plan's tables and scenario alone.

Nothing here calls the optimisation model: usage is recomputed by
:mod:`planner.plan.accounting` from the decisions the plan states, and each rule of MODEL.md
sections 2-6 is checked on it. Each problem names its rule and place.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from ..scenario import Scenario
from . import accounting as acc
from .cluster_checks import check_cluster_table, check_clusters

REL = 1e-6  # relative tolerance on continuous quantities
ABS = 1e-3  # absolute tolerance (kW, Gbps, USD)


@dataclass(frozen=True)
class Violation:
    """A broken rule: which rule, where (site, hall, period; empty when not applicable)."""

    rule: str
    site: str
    hall: str
    period: str
    message: str

    def __str__(self) -> str:
        where = "/".join(x for x in (self.site, self.hall) if x)
        place = ", ".join(x for x in (where, self.period) if x)
        return f"[{self.rule}] {place + ': ' if place else ''}{self.message}"


def _over(used: float, cap: float) -> bool:
    return used > cap + max(ABS, REL * abs(cap))


def verify(plan) -> list[Violation]:
    """Every rule the plan breaks; an empty list means the plan is sound."""
    sc: Scenario = plan.scenario
    if plan.status not in ("optimal", "feasible"):
        return []
    found: list[Violation] = []

    def bad(rule, message, site="", hall="", period=""):
        found.append(Violation(rule, site, hall, period, message))

    _check_tables(sc, plan, bad)
    check_cluster_table(sc, plan, bad)
    if found:
        return found  # usage would be meaningless on tables that name unknown things
    _check_structure(sc, plan, bad)
    _check_resources(sc, plan, bad)
    _check_money_and_targets(sc, plan, bad)
    check_clusters(sc, plan, bad)
    return found


def _check_tables(sc: Scenario, plan, bad) -> None:
    """Names resolve, counts are whole and not negative."""
    halls = {(s.name, h.name) for s, h in sc.halls()}
    sites = {s.name for s in sc.sites}
    racks = {r.name for r in sc.rack_types}
    options = {o.name: o for o in sc.retrofits}
    periods = set(sc.periods)
    for row in plan.racks.itertuples(index=False):
        where = dict(site=row.site, hall=row.hall, period=row.period)
        if (row.site, row.hall) not in halls or row.period not in periods:
            bad("table", "racks row names an unknown site, hall or period", **where)
        if row.rack_type not in racks:
            bad("table", f"unknown rack type {row.rack_type!r}", **where)
        if row.rdhx_option and (
            row.rdhx_option not in options or options[row.rdhx_option].kind != "rdhx"
        ):
            bad("table", f"{row.rdhx_option!r} is not an RDHx option", **where)
        if row.count < 0 or row.count != int(row.count):
            bad("table", f"rack count {row.count} is not a whole number >= 0", **where)
    listed: set = set()  # (site, hall, period, option) and (site, hall, period) already read
    for row in plan.retrofits.itertuples(index=False):
        where = dict(site=row.site, hall=row.hall, period=row.period)
        # accounting keeps the last of repeated rows: two rows would state two unit counts
        if (row.site, row.hall, row.period, row.option) in listed:
            bad("table", f"{row.option!r} has more than one retrofits row here", **where)
        listed.add((row.site, row.hall, row.period, row.option))
        known = (row.site, row.hall) in halls if row.hall else row.site in sites
        if not known or row.period not in periods:
            bad("table", "retrofits row names an unknown site, hall or period", **where)
        if row.option not in options:
            bad("table", f"unknown retrofit option {row.option!r}", **where)
        elif (options[row.option].kind in ("site_water", "site_feed")) != (not row.hall):
            bad("table", f"{row.option!r} is recorded at the wrong scope", **where)
        if row.units < 0 or row.units != int(row.units):
            bad("table", f"units {row.units} is not a whole number >= 0", **where)
    for row in plan.halls.itertuples(index=False):
        where = dict(site=row.site, hall=row.hall, period=row.period)
        if (row.site, row.hall, row.period) in listed:
            bad("table", "more than one halls row for this hall and period", **where)
        listed.add((row.site, row.hall, row.period))
        if (row.site, row.hall) not in halls or row.period not in periods:
            bad("table", "halls row names an unknown site, hall or period", **where)
        if row.cpu_racks_retired < 0 or row.cpu_racks_retired != int(row.cpu_racks_retired):
            bad("table", "CPU racks retired is not a whole number >= 0", **where)
        if row.liquid_to_cdu_kw < -ABS or row.liquid_to_aalc_kw < -ABS:
            bad("liquid", "negative liquid heat flow", **where)


def _check_structure(sc: Scenario, plan, bad) -> None:
    """Lead times, cumulative decisions, where options may be used, unit limits, RDHx
    doors, floor, per-rack air density and CPU retirement."""
    state, site_units = acc.states(sc, plan.racks, plan.retrofits, plan.halls)
    options = {o.name: o for o in sc.retrofits}
    installed = acc.installed_stock(sc)

    previous: dict = {}
    for site, hall in sc.halls():
        for t, p in enumerate(sc.periods):
            where = dict(site=site.name, hall=hall.name, period=p)
            st = state[site.name, hall.name, p]
            totals: dict = defaultdict(int)
            doors_by_option: dict = defaultdict(int)
            for rack, door, n in st.racks:
                totals[rack.name] += n
                if rack.cooling == "liquid" and n:
                    residual = (1 - rack.liquid_fraction) * rack.power_kw
                    if residual > hall.max_air_rack_kw + 1e-9:
                        bad(
                            "air_density",
                            f"{rack.name} puts {residual:g} kW per rack into room "
                            f"air, above max_air_rack_kw {hall.max_air_rack_kw:g}",
                            **where,
                        )
                    if door:
                        bad("rdhx", f"liquid rack {rack.name} behind a rear door", **where)
                if rack.cooling == "air" and n:
                    if door:
                        doors_by_option[door] += n
                        if options[door].capacity < rack.power_kw:
                            bad(
                                "rdhx",
                                f"{rack.name} ({rack.power_kw:g} kW) behind {door} "
                                f"rated {options[door].capacity:g} kW per rack",
                                **where,
                            )
                    elif rack.power_kw > hall.max_air_rack_kw:
                        bad(
                            "air_density",
                            f"{n} {rack.name} racks at {rack.power_kw:g} kW "
                            f"exceed max_air_rack_kw {hall.max_air_rack_kw:g} without a rear "
                            "door",
                            **where,
                        )
                if n and rack.weight_kg > hall.floor_kg_per_position:
                    strong = [
                        o
                        for o, u in st.units.items()
                        if u > 0
                        and options[o].kind == "floor"
                        and options[o].capacity >= rack.weight_kg
                    ]
                    if not strong:
                        bad(
                            "floor",
                            f"{rack.name} weighs {rack.weight_kg:g} kg, above "
                            f"{hall.floor_kg_per_position:g} kg per position, with no floor "
                            "reinforcement strong enough",
                            **where,
                        )
            for door, n in doors_by_option.items():
                if n > st.units.get(door, 0):
                    bad(
                        "rdhx",
                        f"{n} racks behind {door} but {st.units.get(door, 0)} units installed",
                        **where,
                    )
            for name, u in st.units.items():
                if options[name].kind == "floor" and u > 1:
                    bad("floor", f"{u} units of floor option {name}; units do not stack", **where)
            have_racks = _installed(installed, "rack", site.name, hall.name)
            have_units = _installed(installed, "unit", site.name, hall.name)
            _check_racks_in_time(sc, totals, have_racks, t, bad, where)
            _check_kept(have_units, st.units, bad, where)
            for name, u in st.units.items():
                _check_option(sc, options[name], u, have_units.get(name, 0), t, bad, where, hall)
            cpu = hall.cpu_racks
            count = cpu.count if cpu else 0
            if st.cpu_retired > count:
                bad("cpu_racks", f"{st.cpu_retired} CPU racks retired of {count}", **where)
            if st.cpu_retired and (cpu is None or cpu.retire_cost_usd is None):
                bad("cpu_racks", "CPU racks retired that cannot be retired", **where)
            now = {("rack", k): v for k, v in totals.items()}
            now.update({("unit", k): v for k, v in st.units.items()})
            now["retired", ""] = st.cpu_retired
            _check_cumulative(previous.get((site.name, hall.name), {}), now, bad, where)
            previous[site.name, hall.name] = now
    for site in sc.sites:
        for t, p in enumerate(sc.periods):
            where = dict(site=site.name, period=p)
            now = {("unit", k): v for k, v in site_units[site.name, p].items()}
            have_units = _installed(installed, "unit", site.name, "")
            _check_kept(have_units, site_units[site.name, p], bad, where)
            for name, u in site_units[site.name, p].items():
                _check_option(sc, options[name], u, have_units.get(name, 0), t, bad, where, None)
            _check_cumulative(previous.get((site.name, ""), {}), now, bad, where)
            previous[site.name, ""] = now


def _installed(stock: dict, kind: str, site: str, hall: str) -> dict:
    """``{name: count}`` of one kind (``"rack"``, ``"unit"``) in a hall (``""``: the site)
    from :func:`planner.plan.accounting.installed_stock`."""
    return {name: n for (k, s, h, name), n in stock.items() if (k, s, h) == (kind, site, hall)}


def _check_racks_in_time(sc: Scenario, totals: dict, installed: dict, t: int, bad, where) -> None:
    """No rack before its type's lead time beyond those installed; installed racks stay."""
    lead = {r.name: r.lead_periods for r in sc.rack_types}
    for name, n in totals.items():
        if t < lead[name] and n > installed.get(name, 0):
            bad("lead_time", f"{name} operating before period index {lead[name]}", **where)
    for name, have in installed.items():
        if totals.get(name, 0) < have:
            bad("installed", f"{totals.get(name, 0)} {name} racks of {have} installed", **where)


def _check_kept(installed: dict, units: dict, bad, where) -> None:
    """Installed units are never removed."""
    for name, have in installed.items():
        if units.get(name, 0) < have:
            bad("installed", f"{units.get(name, 0)} units of {name} of {have} installed", **where)


def _check_option(sc, opt, units, have, t, bad, where, hall) -> None:
    """Units of one option (``have`` of them installed before the first period)."""
    if units <= have:
        return  # what is installed may stand anywhere, whatever its lead time or the list
    if t < opt.lead_periods:
        bad("lead_time", f"{opt.name} installed before period index {opt.lead_periods}", **where)
    if opt.max_units is not None and units > opt.max_units:
        bad("max_units", f"{units} units of {opt.name}, max_units {opt.max_units}", **where)
    if hall is not None:
        if hall.retrofits is not None and opt.name not in hall.retrofits:
            bad("availability", f"{opt.name} is not allowed in this hall", **where)
        if opt.kind in ("cdu", "rdhx") and not hall.facility_water:
            bad(
                "facility_water",
                f"{opt.name} ({opt.kind}) in a hall without facility water",
                **where,
            )


def _check_cumulative(before: dict, now: dict, bad, where) -> None:
    for key in before.keys() | now.keys():
        if now.get(key, 0) < before.get(key, 0):
            what = {"rack": "racks of", "unit": "units of", "retired": "CPU racks retired"}[key[0]]
            bad(
                "cumulative",
                f"{what} {key[1]} fall from {before.get(key, 0)} to {now.get(key, 0)}",
                **where,
            )


_RESOURCE_RULE = {
    "space": "space",
    "power": "power",
    "room_air": "room_air",
    "liquid_cdu": "liquid",
    "liquid_aalc": "liquid",
    "rdhx_doors": "rdhx",
    "network": "network",
    "facility_water": "facility_water",
    "feed": "feed",
}


def _check_resources(sc: Scenario, plan, bad) -> None:
    """Every resource within capacity; liquid heat fully served by CDUs and AALC."""
    usage = acc.utilisation(sc, plan.racks, plan.retrofits, plan.halls)
    for row in usage.itertuples(index=False):
        if not math.isnan(row.capacity) and _over(row.used, row.capacity):
            bad(
                _RESOURCE_RULE[row.resource],
                f"{row.resource} uses {row.used:,.6g} {row.unit} of {row.capacity:,.6g}",
                site=row.site,
                hall=row.hall,
                period=row.period,
            )
    state, _ = acc.states(sc, plan.racks, plan.retrofits, plan.halls)
    for (site, hall, p), st in state.items():
        heat = acc.liquid_heat_kw(st)
        served = st.to_cdu_kw + st.to_aalc_kw
        if abs(served - heat) > max(ABS, REL * heat):
            bad(
                "liquid",
                f"liquid heat {heat:,.6g} kW but {served:,.6g} kW served by CDU and AALC",
                site=site,
                hall=hall,
                period=p,
            )


def _check_money_and_targets(sc: Scenario, plan, bad) -> None:
    """Budgets per period and in total, GPU targets, and the stated objective and spend."""
    spend = acc.spend(sc, plan.racks, plan.retrofits, plan.halls)
    for row in spend.itertuples(index=False):
        if not math.isnan(row.budget_usd) and _over(row.total_usd, row.budget_usd):
            bad(
                "budget",
                f"spend ${row.total_usd:,.0f} over budget ${row.budget_usd:,.0f}",
                period=row.period,
            )
        if row.total_usd < -ABS:
            bad("cumulative", f"negative spend ${row.total_usd:,.0f}", period=row.period)
    total = float(spend["total_usd"].sum())
    if sc.budget_usd_total is not None and _over(total, sc.budget_usd_total):
        bad("budget_total", f"total spend ${total:,.0f} over ${sc.budget_usd_total:,.0f}")
    gpus = acc.gpus(sc, plan.racks)
    if sc.gpu_targets is not None:
        for p, target in zip(sc.periods, sc.gpu_targets, strict=True):
            if gpus[p] < target - 1e-9:
                bad("target", f"{gpus[p]:,} GPUs operating, target {target:,.0f}", period=p)
    objective = (
        float(acc.counted_pflops(sc, plan.racks, plan.clusters).sum())
        if sc.objective == "max_compute"
        else total
    )
    if plan.objective is None or abs(plan.objective - objective) > max(ABS, REL * abs(objective)):
        bad(
            "objective",
            f"plan states objective {plan.objective} but its tables give {objective:,.6g}",
        )
    if abs(plan.total_spend_usd - total) > max(ABS, REL * abs(total)):
        bad(
            "objective",
            f"plan states spend ${plan.total_spend_usd:,.0f} but its tables give ${total:,.0f}",
        )
