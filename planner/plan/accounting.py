"""Recompute what a plan uses and spends from its decision tables and the scenario alone.

This module reads only a plan's decisions (racks, retrofit units, CPU retirements and
the liquid-heat split) and the scenario; it shares no code with the optimisation model,
so that :meth:`planner.Plan.verify` is an independent check of the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from ..scenario import Scenario

RACK_COLUMNS = ["site", "hall", "period", "rack_type", "rdhx_option", "count"]
RETROFIT_COLUMNS = ["site", "hall", "period", "option", "kind", "units", "added"]
HALL_COLUMNS = [
    "site",
    "hall",
    "period",
    "cpu_racks_retired",
    "cpu_racks_left",
    "liquid_to_cdu_kw",
    "liquid_to_aalc_kw",
]
CLUSTER_COLUMNS = [
    "kind",
    "domain",
    "site",
    "hall",
    "rack_type",
    "period",
    "count",
    "racks",
    "gpus",
]
UTILISATION_COLUMNS = ["site", "hall", "period", "resource", "unit", "used", "capacity"]
SPEND_COLUMNS = [
    "period",
    "racks_usd",
    "retrofits_usd",
    "retirements_usd",
    "total_usd",
    "budget_usd",
]

#: resources of a hall (then of a site) and their units, in the order tables list them
HALL_RESOURCES = {
    "space": "positions",
    "power": "kW",
    "room_air": "kW",
    "liquid_cdu": "kW",
    "liquid_aalc": "kW",
    "rdhx_doors": "racks",
    "network": "Gbps",
}
SITE_RESOURCES = {"facility_water": "kW", "feed": "kW"}
#: every resource as a planner names it, in the order tables and pictures list them
RESOURCE_LABELS = {
    "space": "space",
    "power": "power",
    "room_air": "room air",
    "liquid_cdu": "liquid (CDU)",
    "liquid_aalc": "liquid (AALC)",
    "rdhx_doors": "rear doors",
    "network": "network",
    "facility_water": "facility water",
    "feed": "site feed",
}


@dataclass
class HallState:
    """Everything standing in one hall in one period, as the plan states it."""

    racks: list = field(default_factory=list)  # (RackType, door option name or "", count)
    units: dict = field(default_factory=dict)  # option name -> units installed
    cpu_retired: int = 0
    to_cdu_kw: float = 0.0
    to_aalc_kw: float = 0.0


def states(sc: Scenario, racks: pd.DataFrame, retrofits: pd.DataFrame, halls: pd.DataFrame):
    """``{(site, hall, period): HallState}`` for every hall and period, plus site units
    ``{(site, period): {option: units}}``. Unknown names are skipped (verify reports them)."""
    rack_types = {r.name: r for r in sc.rack_types}
    state = {
        (site.name, hall.name, p): HallState() for site, hall in sc.halls() for p in sc.periods
    }
    site_units: dict = {(site.name, p): {} for site in sc.sites for p in sc.periods}
    for row in racks.itertuples(index=False):
        key = (row.site, row.hall, row.period)
        if key in state and row.rack_type in rack_types:
            state[key].racks.append((rack_types[row.rack_type], row.rdhx_option or "", row.count))
    for row in retrofits.itertuples(index=False):
        if not row.hall:
            if (row.site, row.period) in site_units:
                site_units[row.site, row.period][row.option] = row.units
        elif (row.site, row.hall, row.period) in state:
            state[row.site, row.hall, row.period].units[row.option] = row.units
    for row in halls.itertuples(index=False):
        key = (row.site, row.hall, row.period)
        if key in state:
            st = state[key]
            st.cpu_retired = row.cpu_racks_retired
            st.to_cdu_kw = row.liquid_to_cdu_kw
            st.to_aalc_kw = row.liquid_to_aalc_kw
    return state, site_units


def _added(sc: Scenario, units: dict, kind: str) -> float:
    options = {o.name: o for o in sc.retrofits}
    return sum(
        options[name].capacity * n
        for name, n in units.items()
        if name in options and options[name].kind == kind
    )


def hall_usage(sc: Scenario, site, hall, st: HallState) -> dict[str, tuple[float, float]]:
    """``{resource: (used, capacity)}`` of one hall in one period (units: HALL_RESOURCES)."""
    cpu = hall.cpu_racks
    cpu_left = (cpu.count - st.cpu_retired) if cpu else 0
    cpu_kw = cpu.power_kw if cpu else 0.0
    cpu_gbps = cpu.network_gbps if cpu else 0.0
    options = {o.name: o for o in sc.retrofits}
    ref = sc.reference_rack.network_gbps if sc.reference_rack else 0.0

    positions = cpu_left + sum(rack.positions * n for rack, _, n in st.racks)
    positions += sum(options[o].positions * n for o, n in st.units.items() if o in options)
    power = cpu_left * cpu_kw + sum(rack.power_kw * n for rack, _, n in st.racks)
    air = cpu_left * cpu_kw + st.to_aalc_kw
    doors = 0
    for rack, door, n in st.racks:
        if rack.cooling == "liquid":
            air += (1 - rack.liquid_fraction) * rack.power_kw * n
        elif door:
            doors += n
        else:
            air += rack.power_kw * n
    network = cpu_left * cpu_gbps
    for rack, _, n in st.racks:
        gbps = rack.network_gbps if rack.network_gbps is not None else rack.network_multiple * ref
        network += gbps * n
    door_units = sum(n for o, n in st.units.items() if o in options and options[o].kind == "rdhx")
    return {
        "space": (positions, hall.positions),
        "power": (power, hall.power_kw + _added(sc, st.units, "power")),
        "room_air": (air, hall.air_cooling_kw + _added(sc, st.units, "air_cooling")),
        "liquid_cdu": (st.to_cdu_kw, _added(sc, st.units, "cdu")),
        "liquid_aalc": (st.to_aalc_kw, _added(sc, st.units, "aalc")),
        "rdhx_doors": (doors, door_units),
        "network": (network, hall.fabric_gbps + _added(sc, st.units, "fabric")),
    }


def liquid_heat_kw(st: HallState) -> float:
    """Heat the hall's liquid racks send to liquid (kW)."""
    return sum(
        rack.liquid_fraction * rack.power_kw * n
        for rack, _, n in st.racks
        if rack.cooling == "liquid"
    )


def door_heat_kw(st: HallState) -> float:
    """Heat of air racks behind rear doors (kW), all sent to the site water loop."""
    return sum(rack.power_kw * n for rack, door, n in st.racks if door and rack.cooling == "air")


def utilisation(sc: Scenario, racks, retrofits, halls) -> pd.DataFrame:
    """Every resource of every hall and site in every period: used against capacity.

    Site rows have an empty ``hall``. A ``capacity`` of NaN means no cap (a null feed).
    """
    state, site_units = states(sc, racks, retrofits, halls)
    rows = []
    for site in sc.sites:
        for p in sc.periods:
            it_kw = air_kw = water_kw = 0.0
            for hall in site.halls:
                st = state[site.name, hall.name, p]
                usage = hall_usage(sc, site, hall, st)
                for res, (used, cap) in usage.items():
                    rows.append((site.name, hall.name, p, res, HALL_RESOURCES[res], used, cap))
                it_kw += usage["power"][0]
                air_kw += usage["room_air"][0]
                water_kw += st.to_cdu_kw + door_heat_kw(st)
            units = site_units[site.name, p]
            water_cap = site.facility_water_kw + _added(sc, units, "site_water")
            feed_used = it_kw + site.air_overhead * air_kw + site.liquid_overhead * water_kw
            feed_cap = (
                math.nan if site.feed_kw is None else site.feed_kw + _added(sc, units, "site_feed")
            )
            rows.append((site.name, "", p, "facility_water", "kW", water_kw, water_cap))
            rows.append((site.name, "", p, "feed", "kW", feed_used, feed_cap))
    df = pd.DataFrame(rows, columns=UTILISATION_COLUMNS)
    return df.astype({"used": float, "capacity": float})


def _stock(sc: Scenario, state: dict, site_units: dict, period: str) -> dict:
    """What stands in one period: ``{(kind, site, hall, name): count}`` for racks by type,
    retrofit units by option (hall "" for site scope) and CPU racks retired."""
    stock: dict = defaultdict(int)
    for site, hall in sc.halls():
        st = state[site.name, hall.name, period]
        for rack, _, n in st.racks:
            stock["rack", site.name, hall.name, rack.name] += n
        for name, n in st.units.items():
            stock["unit", site.name, hall.name, name] += n
        stock["retired", site.name, hall.name, ""] += st.cpu_retired
    for site in sc.sites:
        for name, n in site_units[site.name, period].items():
            stock["unit", site.name, "", name] += n
    return stock


def installed_stock(sc: Scenario) -> dict:
    """What stands before the first period (MODEL.md section 6), keyed as :func:`_stock`:
    installed racks by type, retrofit units by option (rear doors of installed racks
    included; hall "" for site scope)."""
    stock: dict = defaultdict(int)
    for site, hall in sc.halls():
        for name, _door, n in hall.installed_racks():
            stock["rack", site.name, hall.name, name] += n
        for name, n in hall.installed_units().items():
            stock["unit", site.name, hall.name, name] += n
    for site in sc.sites:
        for name, n in site.installed_units().items():
            stock["unit", site.name, "", name] += n
    return stock


def spend(sc: Scenario, racks, retrofits, halls) -> pd.DataFrame:
    """Spend per period (USD): capex of racks first operating, units installed and CPU
    racks retired in that period (increments over the period before, and in the first
    period over what is already installed), with the period's budget (NaN = no cap)."""
    state, site_units = states(sc, racks, retrofits, halls)
    capex = {r.name: r.capex_usd for r in sc.rack_types}
    cost = {o.name: o.cost_usd for o in sc.retrofits}
    retire = {
        (site.name, hall.name): hall.cpu_racks.retire_cost_usd or 0.0
        for site, hall in sc.halls()
        if hall.cpu_racks is not None
    }
    rows = []
    before: dict = installed_stock(sc)  # what is already there was paid for
    for p, budget in zip(sc.periods, sc.budgets(), strict=True):
        now = _stock(sc, state, site_units, p)
        usd = defaultdict(float)
        for key in now.keys() | before.keys():
            kind, site, hall, name = key
            change = now.get(key, 0) - before.get(key, 0)
            if kind == "rack":
                price = capex.get(name, 0.0)
            elif kind == "unit":
                price = cost.get(name, 0.0)
            else:
                price = retire.get((site, hall), 0.0)
            usd[kind] += price * change
        rows.append(
            (
                p,
                usd["rack"],
                usd["unit"],
                usd["retired"],
                sum(usd.values()),
                math.nan if budget is None else budget,
            )
        )
        before = now
    return pd.DataFrame(rows, columns=SPEND_COLUMNS)


def compute_pflops(sc: Scenario, racks: pd.DataFrame) -> pd.Series:
    """PFLOPS operating in each period (index: period labels, in order)."""
    pflops = {r.name: r.pflops for r in sc.rack_types}
    per = defaultdict(float)
    for row in racks.itertuples(index=False):
        per[row.period] += pflops.get(row.rack_type, 0.0) * row.count
    return pd.Series([per[p] for p in sc.periods], index=pd.Index(sc.periods, name="period"))


def gpus(sc: Scenario, racks: pd.DataFrame) -> pd.Series:
    """GPUs operating in each period (index: period labels, in order)."""
    count = {r.name: r.gpus for r in sc.rack_types}
    per = defaultdict(int)
    for row in racks.itertuples(index=False):
        per[row.period] += count.get(row.rack_type, 0) * row.count
    return pd.Series([per[p] for p in sc.periods], index=pd.Index(sc.periods, name="period"))


# -- training clusters (MODEL.md section 5) ------------------------------------------------------
def cluster_size(sc: Scenario, kind: str, rack_type: str) -> int | None:
    """Racks of ``rack_type`` one cluster of ``kind`` takes, ``ceil(gpus / gpus per rack)``;
    None when either is unknown or the rack has no GPUs."""
    kinds = {k.name: k for k in sc.cluster_kinds()}
    racks = {r.name: r for r in sc.rack_types}
    if kind not in kinds or rack_type not in racks or racks[rack_type].gpus <= 0:
        return None
    return math.ceil(kinds[kind].gpus / racks[rack_type].gpus)


def clustered_pflops(sc: Scenario, clusters: pd.DataFrame) -> pd.Series:
    """PFLOPS of the racks in clusters in each period: ``count x racks per cluster x pflops``
    (the racks per cluster recomputed from the scenario, not read from the table)."""
    pflops = {r.name: r.pflops for r in sc.rack_types}
    per = defaultdict(float)
    for row in clusters.itertuples(index=False):
        size = cluster_size(sc, row.kind, row.rack_type) or 0
        per[row.period] += pflops.get(row.rack_type, 0.0) * size * row.count
    return pd.Series([per[p] for p in sc.periods], index=pd.Index(sc.periods, name="period"))


def counted_pflops(sc: Scenario, racks: pd.DataFrame, clusters: pd.DataFrame) -> pd.Series:
    """The PFLOPS the objective counts in each period: every rack's, or with
    ``compute_counts: clustered`` only those of racks in clusters."""
    if sc.compute_counts == "clustered":
        return clustered_pflops(sc, clusters)
    return compute_pflops(sc, racks)
