"""The data behind the planner's plots, as tidy tables from real solves and real checks.

Nothing here draws; :mod:`planner.plots` draws what these functions return, and the tests
check these tables. Column names carry their unit (``spend_usd``, ``pflops_periods``).

* :func:`feasible_points` / :func:`feasible_region`: which whole-number mixes of two rack
  types one hall (or, with ``site=``, one site's halls together) can take in one period.
  For a hall as it stands and with the plan's retrofits, each point is decided by
  building the candidate's tables and checking them with :mod:`planner.accounting` (or,
  with ``check="verify"``, with :meth:`Plan.verify`), never with the MILP. The "most the
  budget can buy" region, and every region of a site (the racks spread over its halls as
  the rules allow), are found with the MILP, one solve per column.
* :func:`frontier`: most compute against budget (or least spend against a GPU target), one
  :func:`planner.solve` per point.
* :func:`timeline`: racks, GPUs and PFLOPS operating per period, retrofits as they
  complete, and spend against budget.
* :func:`utilisation_matrix`: share of every resource used, per hall (site) and period.
* :func:`bandwidth_sensitivity`: compute as a rack type's network multiple varies.

How the feasible region is defined (see ``docs/plots.md``)
-----------------------------------------------------------
The picture is a snapshot of one period ``t`` (default: the last). :func:`snapshot` turns
the plan into a one-period plan of everything standing in ``t``: racks, retrofit units and
CPU racks retired by ``t``, with the period's lead times (an item can exist if its
``lead_periods <= t``) and, as budget, the scenario's per-period budgets summed over periods
``0..t`` (and ``budget_usd_total``): what was spent on everything standing in ``t`` must fit
in what could have been spent by then. A plan's own snapshot passes ``Plan.verify()``.

A point ``(x, y)`` puts ``x`` racks of type A and ``y`` of type B in the hall; every other
decision is held as in the plan (other rack types in the hall, CPU racks retired, every
other hall with its rear doors and liquid split, site-scope units) or at zero when a
scenario is given instead of a plan. The hall's own rear-door assignment and CDU/AALC
split are chosen for the point: a point is feasible if some choice passes every rule.
``retrofits`` picks the hall's retrofit units: ``"none"`` (the hall as it stands),
``"plan"`` (the plan's units in ``t``) or ``"budget"`` (whatever the budget can buy,
anywhere, with CPU retirements free too: the MILP of the snapshot with the two rack counts
fixed). Removing a rack never breaks a rule here (no GPU targets in a snapshot), so each
region is closed downwards: the budget region is found as the largest ``y`` for each
``x`` (one MILP per column).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from . import accounting as acc
from .plan import Plan
from .scenario import Hall, RackType, Scenario, Site
from .verify import ABS, REL

Retrofits = Literal["none", "plan", "budget"]
MODES: tuple[str, ...] = ("none", "plan", "budget")
MODE_LABELS = {
    "none": "the hall as it stands",
    "plan": "with the plan's retrofits",
    "budget": "with the most the budget can buy",
}

MODE_SHORT = {"none": "as it stands", "plan": "with the plan's retrofits", "budget": "with budget"}
#: rules whose boundary a feasible-region plot can draw, and the unit of their slack
RULE_UNITS = {
    "space": "positions",
    "power": "kW",
    "room_air": "kW",
    "liquid": "kW",
    "rdhx": "racks",
    "facility_water": "kW",
    "network": "Gbps",
    "floor": "racks",
    "air_density": "racks",
    "lead_time": "racks",
    "feed": "kW",
    "budget": "USD",
}
RULE_LABELS = {
    "space": "space",
    "power": "power",
    "room_air": "room air",
    "liquid": "liquid (CDU + AALC)",
    "rdhx": "rear doors",
    "facility_water": "facility water",
    "network": "network",
    "floor": "floor",
    "air_density": "per-rack air density",
    "lead_time": "lead time",
    "feed": "site feed",
    "budget": "budget",
}
#: resources of a utilisation matrix, in column order, with labels
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
BINDING_SHARE = 0.999  # a resource at or above this share of its capacity binds

SolveOptions = dict


def mode_label(mode: str, scope: str = "hall") -> str:
    """A retrofit set's label; in a site's picture "as it stands" is the site's."""
    label = MODE_LABELS[mode]
    return label.replace("the hall", "the site") if scope == "site" else label


def _tol(cap: float) -> float:
    """The tolerance ``Plan.verify`` allows on a continuous quantity."""
    return max(ABS, REL * abs(cap))


def _over(used: float, cap: float) -> bool:
    return used > cap + _tol(cap)


# -- snapshots ---------------------------------------------------------------------------
def period_index(sc: Scenario, period: str | int | None) -> int:
    """Index of a period given by label or index (None = the last period)."""
    if period is None:
        return sc.n_periods - 1
    if isinstance(period, int) and not isinstance(period, bool):
        if -sc.n_periods <= period < sc.n_periods:
            return period % sc.n_periods
        raise ValueError(f"period index {period} out of range (0..{sc.n_periods - 1})")
    if str(period) in sc.periods:
        return sc.periods.index(str(period))
    raise ValueError(f"unknown period {period!r} (the scenario has: {', '.join(sc.periods)})")


def snapshot_scenario(sc: Scenario, period: str | int | None = None) -> Scenario:
    """A one-period scenario of period ``t``: lead times mapped to 0 (available by ``t``)
    or 1 (not yet: never, in one period), budget = per-period budgets summed over
    ``0..t`` (None if any is uncapped), ``budget_usd_total`` kept, objective max_compute,
    no GPU targets."""
    t = period_index(sc, period)
    data = sc.model_dump()
    data["periods"] = [sc.periods[t]]
    budgets = sc.budgets()[: t + 1]
    data["budget_usd_per_period"] = None if any(b is None for b in budgets) else sum(budgets)
    data["objective"] = "max_compute"
    data["gpu_targets"] = None
    for item in data["rack_types"] + data["retrofits"]:
        item["lead_periods"] = 0 if item["lead_periods"] <= t else 1
    return Scenario.model_validate(data)


def snapshot(source: Plan | Scenario, period: str | int | None = None) -> Plan:
    """Everything standing in one period of a plan, as a plan of :func:`snapshot_scenario`.

    A scenario (no plan) gives the empty snapshot: no racks, no units, no CPU rack retired.
    """
    if isinstance(source, Plan):
        if not source.has_plan:
            raise ValueError(f"the plan has no decisions (status {source.status})")
        sc = source.scenario
    else:
        sc = source
    t = period_index(sc, period)
    snap = snapshot_scenario(sc, t)
    label = sc.periods[t]
    if not isinstance(source, Plan):
        empty = [
            pd.DataFrame(columns=c)
            for c in (acc.RACK_COLUMNS, acc.RETROFIT_COLUMNS, acc.HALL_COLUMNS)
        ]
        return Plan.from_tables(snap, *empty)
    racks = source.racks[source.racks["period"] == label].copy()
    retrofits = source.retrofits[source.retrofits["period"] == label].copy()
    retrofits["added"] = retrofits["units"]
    halls = source.halls[source.halls["period"] == label].copy()
    return Plan.from_tables(snap, racks, retrofits, halls, source.status)


def find_hall(sc: Scenario, hall: str) -> tuple[Site, Hall]:
    """A hall by name, or by ``site/hall`` when hall names repeat across sites."""
    site_name, _, hall_name = hall.rpartition("/")
    found = [
        (s, h)
        for s, h in sc.halls()
        if h.name == hall_name and (not site_name or s.name == site_name)
    ]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{s.name}/{h.name}" for s, h in sc.halls())
    if not found:
        raise ValueError(f"unknown hall {hall!r} (the scenario has: {known})")
    raise ValueError(f"hall {hall!r} is in several sites: name it as site/hall ({known})")


def _named(items, name: str, what: str):
    """The item of ``items`` called ``name``; a ValueError listing the names if none is."""
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(item.name for item in items)
    raise ValueError(f"unknown {what} {name!r} (the scenario has: {known})")


def find_rack(sc: Scenario, name: str) -> RackType:
    """A rack type by name."""
    return _named(sc.rack_types, name, "rack type")


def deployable(sc: Scenario) -> dict[tuple[str, str], list[str]]:
    """``{(site, hall): rack types}`` that can ever stand in each hall (some allowed
    retrofit set makes room for them within the horizon), in catalog order."""
    from .model import Index  # structure only: which options each hall may use

    idx = Index.of(sc)
    return {
        (s.name, hh.name): [sc.rack_types[r].name for r in idx.racks[h]]
        for h, (_, s, hh) in enumerate(idx.halls)
    }


def default_pair(source: Plan | Scenario) -> tuple[str, str, str] | None:
    """``(site/hall, rack_a, rack_b)`` for a feasible-region picture, or None.

    The first hall (file order) where the plan places racks and two rack types are
    deployable, else the first hall with two deployable types; the plan's rack types in
    that hall come first (most PFLOPS first), then the other deployable types by PFLOPS.
    """
    sc = source.scenario if isinstance(source, Plan) else source
    placed = _placed_pflops(source)
    candidates = []
    fits = deployable(sc)
    for site, hall in sc.halls():
        types = fits[site.name, hall.name]
        if len(types) < 2:
            continue
        here = {r: placed.get((site.name, hall.name, r), 0.0) for r in types}
        used = any(v > 0 for v in here.values())
        order = sorted(types, key=lambda r: (-here[r], -find_rack(sc, r).pflops))
        candidates.append((not used, f"{site.name}/{hall.name}", order[0], order[1]))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[0])  # stable: file order among equals
    return candidates[0][1:]


def _placed_pflops(source: Plan | Scenario) -> dict:
    """``{(site, hall, rack type): PFLOPS}`` the plan places in its last period (empty for a
    scenario)."""
    placed: dict = defaultdict(float)
    if isinstance(source, Plan) and source.has_plan:
        sc = source.scenario
        pflops = {r.name: r.pflops for r in sc.rack_types}
        last = source.racks[source.racks["period"] == sc.periods[-1]]
        for row in last.itertuples(index=False):
            placed[row.site, row.hall, row.rack_type] += pflops[row.rack_type] * row.count
    return placed


def find_site(sc: Scenario, name: str) -> Site:
    """A site by name."""
    return _named(sc.sites, name, "site")


def site_pair(source: Plan | Scenario, site: str) -> tuple[str, str] | None:
    """``(rack_a, rack_b)`` for a site's feasible-region picture, or None: of the rack types
    deployable in some hall of the site, the plan's in that site first (most PFLOPS over its
    halls first), then the others by PFLOPS."""
    sc = source.scenario if isinstance(source, Plan) else source
    s = find_site(sc, site)
    fits = deployable(sc)
    types = [r.name for r in sc.rack_types if any(r.name in fits[s.name, h.name] for h in s.halls)]
    if len(types) < 2:
        return None
    placed = _placed_pflops(source)
    here = {r: sum(placed.get((s.name, h.name, r), 0.0) for h in s.halls) for r in types}
    order = sorted(types, key=lambda r: (-here[r], -find_rack(sc, r).pflops))
    return order[0], order[1]


# -- one hall, one period: deciding a point ------------------------------------------------
@dataclass
class _Case:
    """Everything about one hall in a snapshot that a point (x, y) does not change."""

    snap: Plan
    site: Site
    hall: Hall
    a: RackType
    b: RackType
    mode: str
    others: dict  # other rack types in the hall: name -> count
    units: dict  # hall-scope units: option name -> units
    cpu_retired: int
    other_it_kw: float
    other_air_kw: float
    other_water_kw: float
    water_cap_kw: float
    feed_cap_kw: float | None
    spend_base_usd: float
    budget_usd: float | None
    base_tables: tuple = ()  # snapshot tables without this hall's A/B racks (verify path)
    options: dict = field(default_factory=dict)

    @property
    def sc(self) -> Scenario:
        return self.snap.scenario

    def added(self, kind: str) -> float:
        return sum(
            self.options[o].capacity * n
            for o, n in self.units.items()
            if o in self.options and self.options[o].kind == kind
        )

    def doors(self) -> list[tuple[float, str, int]]:
        """Installed rear-door options: (capacity kW per rack, name, units), largest first."""
        out = [
            (self.options[o].capacity, o, n)
            for o, n in self.units.items()
            if n > 0 and o in self.options and self.options[o].kind == "rdhx"
        ]
        return sorted(out, reverse=True)

    def racks(self, x: float, y: float) -> list[tuple[RackType, float]]:
        types = {r.name: r for r in self.sc.rack_types}
        out = [(types[name], n) for name, n in self.others.items() if n]
        out += [(self.a, x), (self.b, y)]
        return [(r, n) for r, n in out if n]

    def spend(self, x: float, y: float) -> float:
        return self.spend_base_usd + self.a.capex_usd * x + self.b.capex_usd * y


def _site_caps(sc: Scenario, site: Site, units: dict) -> tuple[float, float | None]:
    """The site's facility-water capacity and feed cap (None: no cap) with its site-scope
    ``units`` (option name -> units) added (kW)."""
    options = {o.name: o for o in sc.retrofits}

    def added(kind: str) -> float:
        return sum(options[o].capacity * n for o, n in units.items() if options[o].kind == kind)

    feed = None if site.feed_kw is None else site.feed_kw + added("site_feed")
    return site.facility_water_kw + added("site_water"), feed


def _budget_cap(sc: Scenario) -> float | None:
    """The one-period snapshot's budget: the tighter of its period cap and total cap."""
    caps = [c for c in (sc.budgets()[0], sc.budget_usd_total) if c is not None]
    return min(caps) if caps else None


def _case(snap: Plan, hall: str, rack_a: str, rack_b: str, mode: str) -> _Case:
    if mode not in ("none", "plan"):
        raise ValueError(f"unknown retrofit set {mode!r} for a point check")
    sc = snap.scenario
    site, h = find_hall(sc, hall)
    a, b = find_rack(sc, rack_a), find_rack(sc, rack_b)
    if a.name == b.name:
        raise ValueError("rack_a and rack_b must be different rack types")
    here = (snap.racks["site"] == site.name) & (snap.racks["hall"] == h.name)
    others = (
        snap.racks[here & ~snap.racks["rack_type"].isin([a.name, b.name])]
        .groupby("rack_type")["count"]
        .sum()
        .to_dict()
    )
    racks = snap.racks[~(here & snap.racks["rack_type"].isin([a.name, b.name]))]
    in_hall = (snap.retrofits["site"] == site.name) & (snap.retrofits["hall"] == h.name)
    units = (
        dict(zip(snap.retrofits[in_hall]["option"], snap.retrofits[in_hall]["units"], strict=True))
        if mode == "plan"
        else {}
    )
    retrofits = snap.retrofits if mode == "plan" else snap.retrofits[~in_hall]
    halls = snap.halls
    row = halls[(halls["site"] == site.name) & (halls["hall"] == h.name)]
    retired = int(row["cpu_racks_retired"].iloc[0]) if len(row) else 0

    state, site_units = acc.states(sc, racks, retrofits, halls)
    p = sc.periods[0]
    it = air = water = 0.0
    for other in site.halls:
        if other.name == h.name:
            continue
        st = state[site.name, other.name, p]
        usage = acc.hall_usage(sc, site, other, st)
        it += usage["power"][0]
        air += usage["room_air"][0]
        water += st.to_cdu_kw + acc.door_heat_kw(st)
    options = {o.name: o for o in sc.retrofits}
    water_cap, feed_cap = _site_caps(sc, site, site_units[site.name, p])
    base_racks = racks[~((racks["site"] == site.name) & (racks["hall"] == h.name))]
    spend_base = float(acc.spend(sc, racks, retrofits, halls)["total_usd"].sum())
    return _Case(
        snap=snap,
        site=site,
        hall=h,
        a=a,
        b=b,
        mode=mode,
        others=others,
        units=units,
        cpu_retired=retired,
        other_it_kw=it,
        other_air_kw=air,
        other_water_kw=water,
        water_cap_kw=water_cap,
        feed_cap_kw=feed_cap,
        spend_base_usd=spend_base,
        budget_usd=_budget_cap(sc),
        base_tables=(base_racks, retrofits, halls),
        options=options,
    )


def _site_case(snap: Plan, site: Site, a: RackType, b: RackType) -> _Case:
    """The site's halls pooled into one, with the snapshot's retrofit units, for drawing
    each rule's boundary as a site total.

    The pooled hall's positions, power, room air and fabric are the sums over the site's
    halls less what their CPU racks left standing use; its units (CDUs, sidecars, rear
    doors, power, air, fabric, floors) and its other rack types are summed; its per-rack air
    limit and floor rating are the largest of any hall. Site water, feed and budget are the
    site's. Every rule on it is implied by the halls' rules summed, so a point beyond a
    total's boundary is infeasible; a point within every total may still not fit the halls
    one by one.
    """
    sc = snap.scenario
    racks = snap.racks
    ab = (racks["site"] == site.name) & racks["rack_type"].isin([a.name, b.name])
    others = racks[(racks["site"] == site.name) & ~ab].groupby("rack_type")["count"].sum()
    base = racks[~ab]
    state, site_units = acc.states(sc, base, snap.retrofits, snap.halls)
    p = sc.periods[0]
    units: dict = defaultdict(int)
    positions = 0
    power = air = fabric = 0.0
    for hall in site.halls:
        st = state[site.name, hall.name, p]
        for option, n in st.units.items():
            units[option] += n
        cpu = hall.cpu_racks
        left = (cpu.count - st.cpu_retired) if cpu else 0
        positions += hall.positions - left
        power += hall.power_kw - left * (cpu.power_kw if cpu else 0.0)
        air += hall.air_cooling_kw - left * (cpu.power_kw if cpu else 0.0)
        fabric += hall.fabric_gbps - left * (cpu.network_gbps if cpu else 0.0)
    pooled = Hall.model_construct(
        name=f"{site.name} (all halls)",
        positions=positions,
        power_kw=power,
        air_cooling_kw=air,
        max_air_rack_kw=max(h.max_air_rack_kw for h in site.halls),
        floor_kg_per_position=max(h.floor_kg_per_position for h in site.halls),
        fabric_gbps=fabric,
        facility_water=any(h.facility_water for h in site.halls),
        retrofits=None,
        cpu_racks=None,
    )
    water_cap, feed_cap = _site_caps(sc, site, site_units[site.name, p])
    return _Case(
        snap=snap,
        site=site,
        hall=pooled,
        a=a,
        b=b,
        mode="plan",
        others=others.to_dict(),
        units=dict(units),
        cpu_retired=0,
        other_it_kw=0.0,
        other_air_kw=0.0,
        other_water_kw=0.0,
        water_cap_kw=water_cap,
        feed_cap_kw=feed_cap,
        spend_base_usd=float(acc.spend(sc, base, snap.retrofits, snap.halls)["total_usd"].sum()),
        budget_usd=_budget_cap(sc),
        options={o.name: o for o in sc.retrofits},
    )


@dataclass
class _Thermal:
    """The quantities of a point that the rear-door and liquid-split choice acts on (kW).

    With ``S`` = heat sent to the site water loop by this hall (door heat ``D`` plus the
    liquid heat served by CDUs ``qc``), every cooling rule is a bound on ``S`` or on ``qc``:
    room air ``air0 + L - S <= air_cap``, facility water ``water_other + S <= water_cap``,
    site feed ``feed0 + (liquid_overhead - air_overhead) S <= feed_cap``, CDUs
    ``qc <= cdu_cap``, sidecars ``L - qc <= aalc_cap``.
    """

    liquid: float  # L: heat of liquid racks to liquid
    air0: float  # heat into room air with no rear door and no sidecar heat
    it: float  # IT power of the hall
    cpu_left: int
    air_cap: float
    cdu_cap: float
    aalc_cap: float
    door_types: list  # (rack, count, mandatory), air racks only


def _thermal(case: _Case, x: float, y: float) -> _Thermal:
    hall = case.hall
    cpu = hall.cpu_racks
    cpu_left = (cpu.count - case.cpu_retired) if cpu else 0
    cpu_kw = cpu.power_kw if cpu else 0.0
    liquid = 0.0
    air0 = cpu_left * cpu_kw
    it = cpu_left * cpu_kw
    door_types = []
    for rack, n in case.racks(x, y):
        it += rack.power_kw * n
        if rack.cooling == "liquid":
            liquid += rack.liquid_fraction * rack.power_kw * n
            air0 += (1 - rack.liquid_fraction) * rack.power_kw * n
        else:
            air0 += rack.power_kw * n
            door_types.append((rack, n, rack.power_kw > hall.max_air_rack_kw))
    return _Thermal(
        liquid=liquid,
        air0=air0,
        it=it,
        cpu_left=cpu_left,
        air_cap=hall.air_cooling_kw + case.added("air_cooling"),
        cdu_cap=case.added("cdu"),
        aalc_cap=case.added("aalc"),
        door_types=door_types,
    )


def _doors_at_least(doors: list, power_kw: float) -> int:
    return sum(n for cap, _, n in doors if cap >= power_kw)


def _door_counts(types: list, doors: list, lo: float, hi: float) -> list[int] | None:
    """Racks of each air type behind a door, with door heat in ``[lo, hi]`` kW, or None.

    ``types``: (rack, count, mandatory). Door options are nested (a door of capacity c
    takes any rack of at most c kW), so counts ``k`` are assignable iff, for every type,
    the racks of that power or more are no more than the doors of that capacity or more.
    Types are taken by power, largest first; the last optional type is solved for, the
    others enumerated.
    """
    order = sorted(range(len(types)), key=lambda i: -types[i][0].power_kw)
    power = [types[i][0].power_kw for i in order]
    count = [int(round(types[i][1])) for i in order]
    must = [types[i][2] for i in order]
    cap = [_doors_at_least(doors, p) for p in power]
    optional = [i for i in range(len(order)) if not must[i] and cap[i] > 0]
    last = optional[-1] if optional else None
    k = [count[i] if must[i] else 0 for i in range(len(order))]
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))

    def assignable() -> bool:
        total = 0
        for i in range(len(order)):
            total += k[i]
            if total > cap[i]:
                return False
        return True

    def heat() -> float:
        return sum(p * n for p, n in zip(power, k, strict=True))

    def room(i: int) -> int:
        """Most racks of sorted type i behind doors, others as set."""
        best = count[i]
        total = 0
        for j in range(len(order)):
            total += k[j] if j != i else 0
            if j >= i:
                best = min(best, cap[j] - total)
        return best

    def search(pos: int) -> bool:
        if pos == len(optional) - 1 or not optional:
            if last is None:
                return assignable() and lo - eps <= heat() <= hi + eps
            k[last] = 0
            if not assignable():
                return False
            most = room(last)
            rest = heat()
            p = power[last]
            first = max(0, math.ceil((lo - rest) / p - 1e-9))
            final = min(most, math.floor((hi - rest) / p + 1e-9))
            if first > final:
                return False
            k[last] = first
            return True
        i = optional[pos]
        for n in range(0, count[i] + 1):
            k[i] = n
            if search(pos + 1):
                return True
        k[i] = 0
        return False

    if not search(0):
        return None
    out = [0] * len(types)
    for pos, i in enumerate(order):
        out[i] = k[pos]
    return out


def _door_rows(types: list, counts: list[int], doors: list) -> list[tuple[RackType, str, int]]:
    """Assign counted racks to door options (largest racks first) and list
    ``(rack, door option or "", count)`` rows."""
    left = {name: n for _, name, n in doors}
    caps = {name: c for c, name, _ in doors}
    rows = []
    for (rack, n, _), k in sorted(
        zip(types, counts, strict=True), key=lambda tk: -tk[0][0].power_kw
    ):
        need = k
        # smallest adequate doors first: larger ones can take every rack this one can
        for name in sorted(left, key=lambda o: caps[o]):
            if need == 0:
                break
            if caps[name] >= rack.power_kw and left[name] > 0:
                use = min(need, left[name])
                rows.append((rack, name, use))
                left[name] -= use
                need -= use
        if n - k:
            rows.append((rack, "", int(round(n - k))))
    return rows


def _completion(case: _Case, x: int, y: int) -> acc.HallState | None:
    """A rear-door assignment and liquid split that make the point pass every cooling
    rule, as the hall's state; None when there is none."""
    th = _thermal(case, x, y)
    site = case.site
    liquid = th.liquid
    q_lo = max(0.0, liquid - th.aalc_cap - _tol(th.aalc_cap))
    q_hi = min(liquid, th.cdu_cap + _tol(th.cdu_cap))
    if q_lo > q_hi:
        return None
    s_lo = th.air0 + liquid - th.air_cap - _tol(th.air_cap)
    s_hi = case.water_cap_kw + _tol(case.water_cap_kw) - case.other_water_kw
    if case.feed_cap_kw is not None:
        feed0 = (
            case.other_it_kw
            + th.it
            + site.air_overhead * (case.other_air_kw + th.air0 + liquid)
            + site.liquid_overhead * case.other_water_kw
        )
        slope = site.liquid_overhead - site.air_overhead
        room = case.feed_cap_kw + _tol(case.feed_cap_kw) - feed0
        if slope > 0:
            s_hi = min(s_hi, room / slope)
        elif slope < 0:
            s_lo = max(s_lo, room / slope)
        elif room < 0:
            return None
    if s_lo > s_hi:
        return None
    doors = case.doors()
    counts = _door_counts(th.door_types, doors, s_lo - q_hi, s_hi - q_lo)
    if counts is None:
        return None
    d = sum(rack.power_kw * k for (rack, _, _), k in zip(th.door_types, counts, strict=True))
    lo, hi = max(s_lo, d + q_lo), min(s_hi, d + q_hi)
    qc = min(max((lo + hi) / 2 - d, q_lo), q_hi)
    # within the capacities themselves where the other rules allow (not just their tolerance)
    strict_lo, strict_hi = max(0.0, liquid - th.aalc_cap), min(liquid, th.cdu_cap)
    if strict_lo <= strict_hi:
        strict = min(max(qc, strict_lo), strict_hi)
        if lo <= d + strict <= hi:
            qc = strict
    rows = _door_rows(th.door_types, counts, doors)
    rows += [(rack, "", n) for rack, n in case.racks(x, y) if rack.cooling == "liquid"]
    return acc.HallState(
        racks=rows,
        units=dict(case.units),
        cpu_retired=case.cpu_retired,
        to_cdu_kw=qc,
        to_aalc_kw=liquid - qc,
    )


def _broken(case: _Case, st: acc.HallState, x: int, y: int) -> list[str]:
    """Rules the hall state breaks, from planner.accounting's usage and the rules of
    MODEL.md section 2 (names as ``Plan.verify`` gives them)."""
    sc, hall, site = case.sc, case.hall, case.site
    found = []
    usage = acc.hall_usage(sc, site, hall, st)
    for res, (used, cap) in usage.items():
        if _over(used, cap):
            found.append(
                {"liquid_cdu": "liquid", "liquid_aalc": "liquid", "rdhx_doors": "rdhx"}.get(
                    res, res
                )
            )
    if (
        abs(st.to_cdu_kw + st.to_aalc_kw - acc.liquid_heat_kw(st)) > _tol(acc.liquid_heat_kw(st))
        or min(st.to_cdu_kw, st.to_aalc_kw) < -ABS
    ):
        found.append("liquid")
    options = case.options
    for rack, door, n in st.racks:
        if not n:
            continue
        if rack.lead_periods > 0:
            found.append("lead_time")
        if rack.cooling == "liquid" and (1 - rack.liquid_fraction) * rack.power_kw > (
            hall.max_air_rack_kw + 1e-9
        ):
            found.append("air_density")
        if rack.cooling == "air":
            if door and options[door].capacity < rack.power_kw:
                found.append("rdhx")
            if not door and rack.power_kw > hall.max_air_rack_kw:
                found.append("air_density")
        if rack.weight_kg > hall.floor_kg_per_position and not any(
            u > 0 and options[o].kind == "floor" and options[o].capacity >= rack.weight_kg
            for o, u in st.units.items()
        ):
            found.append("floor")
    behind: dict = defaultdict(int)
    for _, door, n in st.racks:
        if door:
            behind[door] += n
    if any(n > st.units.get(door, 0) for door, n in behind.items()):
        found.append("rdhx")
    water = case.other_water_kw + st.to_cdu_kw + acc.door_heat_kw(st)
    if _over(water, case.water_cap_kw):
        found.append("facility_water")
    if case.feed_cap_kw is not None:
        feed = (
            case.other_it_kw
            + usage["power"][0]
            + site.air_overhead * (case.other_air_kw + usage["room_air"][0])
            + site.liquid_overhead * water
        )
        if _over(feed, case.feed_cap_kw):
            found.append("feed")
    if case.budget_usd is not None and _over(case.spend(x, y), case.budget_usd):
        found.append("budget")
    return sorted(set(found))


def _verify_point(case: _Case, st: acc.HallState) -> list[str]:
    """Rules ``Plan.verify`` finds broken by the snapshot with this hall state."""
    racks, retrofits, halls = case.base_tables
    site, hall, p = case.site.name, case.hall.name, case.sc.periods[0]
    rack_rows = list(racks.itertuples(index=False, name=None))
    rack_rows += [
        (site, hall, p, rack.name, door, int(round(n))) for rack, door, n in st.racks if n
    ]
    cpu = case.hall.cpu_racks.count if case.hall.cpu_racks else 0
    mine = (site, hall, p, case.cpu_retired, cpu - case.cpu_retired, st.to_cdu_kw, st.to_aalc_kw)
    hall_rows = [
        row for row in halls.itertuples(index=False, name=None) if (row[0], row[1]) != (site, hall)
    ]
    plan = Plan.from_tables(
        case.sc,
        pd.DataFrame(rack_rows, columns=acc.RACK_COLUMNS),
        retrofits,
        pd.DataFrame(hall_rows + [mine], columns=acc.HALL_COLUMNS),
    )
    return sorted({v.rule for v in plan.verify()})


def _alone_slacks(case: _Case, x: float, y: float) -> dict[str, float]:
    """Each rule's slack at a point when the door and liquid choices serve that rule alone
    (units in RULE_UNITS; negative = broken). Zero crossings are the rules' boundaries."""
    th = _thermal(case, x, y)
    sc, hall, site = case.sc, case.hall, case.site
    st = acc.HallState(
        racks=[(rack, "", n) for rack, n in case.racks(x, y)],
        units=case.units,
        cpu_retired=case.cpu_retired,
    )
    usage = acc.hall_usage(sc, site, hall, st)
    out = {res: usage[res][1] - usage[res][0] for res in ("space", "power", "network")}
    doors = case.doors()
    # door heat at its most (greedy by rack power: optimal on nested door options) and least
    d_max = d_must = 0.0
    taken = 0.0
    door_slack = math.inf
    must_taken = 0.0
    for rack, n, must in sorted(th.door_types, key=lambda t: -t[0].power_kw):
        room = _doors_at_least(doors, rack.power_kw)
        k = max(0.0, min(n, room - taken))
        taken += k
        d_max += rack.power_kw * k
        if must:
            d_must += rack.power_kw * n
            must_taken += n
            door_slack = min(door_slack, room - must_taken)
    liquid = th.liquid
    out["liquid"] = th.cdu_cap + th.aalc_cap - liquid
    out["rdhx"] = door_slack
    s_max = d_max + min(liquid, th.cdu_cap)
    s_min = d_must + max(0.0, liquid - th.aalc_cap)
    out["room_air"] = th.air_cap - (th.air0 + liquid - s_max)
    out["facility_water"] = case.water_cap_kw - (case.other_water_kw + s_min)
    if case.feed_cap_kw is not None:
        best = s_max if site.liquid_overhead < site.air_overhead else s_min
        feed = (
            case.other_it_kw
            + th.it
            + site.air_overhead * (case.other_air_kw + th.air0 + liquid - best)
            + site.liquid_overhead * (case.other_water_kw + best)
        )
        out["feed"] = case.feed_cap_kw - feed
    if case.budget_usd is not None:
        out["budget"] = case.budget_usd - case.spend(x, y)
    # rack types that cannot stand here at all: the boundary is half a rack from the axis
    for rule in ("floor", "air_density", "lead_time"):
        out[rule] = math.inf
    for rack, n in ((case.a, x), (case.b, y)):
        banned = []
        if rack.lead_periods > 0:
            banned.append("lead_time")
        if rack.cooling == "liquid" and (1 - rack.liquid_fraction) * rack.power_kw > (
            hall.max_air_rack_kw + 1e-9
        ):
            banned.append("air_density")
        if (
            rack.cooling == "air"
            and rack.power_kw > hall.max_air_rack_kw
            and not any(cap >= rack.power_kw for cap, _, _ in doors)
        ):
            banned.append("air_density")
        if rack.weight_kg > hall.floor_kg_per_position and not any(
            u > 0 and case.options[o].kind == "floor" and case.options[o].capacity >= rack.weight_kg
            for o, u in case.units.items()
        ):
            banned.append("floor")
        for rule in banned:
            out[rule] = min(out[rule], 0.5 - n)
    return out


def _check(case: _Case, x: int, y: int, check: str = "accounting") -> tuple[bool, list[str]]:
    """Whether the point is feasible, and the rules it breaks when it is not (those of the
    chosen completion, or, when no door/split choice passes the cooling rules, the rules
    broken even with the choice that favours each alone; "cooling (coupled)" when each
    cooling rule could be met alone but not all at once)."""
    st = _completion(case, x, y)
    if st is not None:
        broken = _verify_point(case, st) if check == "verify" else _broken(case, st, x, y)
        return not broken, broken
    slack = _alone_slacks(case, x, y)
    broken = [r for r, s in slack.items() if s < -_tol(0.0)]
    return False, broken or ["cooling (coupled)"]


def _largest(ok, hi: int) -> int:
    """Largest n in [0, hi] with ok(n), for ok closed downwards; -1 if not ok(0)."""
    if not ok(0):
        return -1
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _bound(hall: Hall, rack: RackType) -> int:
    """Most racks of a type that a hall's positions hold."""
    return hall.positions // rack.positions


#: model capacity rows (planner.model's Limit.rule) as the rules of a picture
LIMIT_RULES = {"liquid_cdu": "liquid", "liquid_aalc": "liquid", "budget_total": "budget"}


def _fix(var, value: float) -> None:
    """Hold a model variable at one value."""
    var.lowBound = var.upBound = value


def _pin(m, snap: Plan, free: set, mode: str, bare: set, bare_site: int | None) -> None:
    """Hold in the snapshot's MILP ``m`` what a picture holds.

    Every rack count but the ``free`` (hall index, rack index) pairs is held as in the
    snapshot. For ``mode`` "plan" and "none" every retrofit unit and CPU retirement is held
    as in the snapshot too, except that "none" holds the units of the ``bare`` halls (and of
    site ``bare_site``, when given) at zero; "budget" leaves units and retirements free.
    Rear doors and the liquid split are always free.
    """
    sc = m.scenario
    names = [r.name for r in sc.rack_types]
    counts = snap.racks.groupby(["site", "hall", "rack_type"])["count"].sum().to_dict()
    for (h, r, _t), var in m.n.items():
        if (h, r) not in free:
            _, site, hall = m.index.halls[h]
            _fix(var, counts.get((site.name, hall.name, names[r]), 0))
    if mode == "budget":
        return
    options = [o.name for o in sc.retrofits]
    units = snap.retrofits.groupby(["site", "hall", "option"])["units"].sum().to_dict()
    for (h, o, _t), var in m.u.items():
        _, site, hall = m.index.halls[h]
        held = units.get((site.name, hall.name, options[o]), 0)
        _fix(var, 0 if mode == "none" and h in bare else held)
    for (s, o, _t), var in m.w.items():
        held = units.get((sc.sites[s].name, "", options[o]), 0)
        _fix(var, 0 if mode == "none" and s == bare_site else held)
    retired = snap.halls.groupby(["site", "hall"])["cpu_racks_retired"].sum().to_dict()
    for (h, _t), var in m.x.items():
        _, site, hall = m.index.halls[h]
        _fix(var, retired.get((site.name, hall.name), 0))


class _MilpRegion:
    """A region decided by the snapshot's MILP: racks of types A and B free in ``halls``
    (one hall, or every hall of a site) with their totals ``x`` and ``y`` over those halls
    as two more variables, everything else held by :func:`_pin` for the retrofit set
    ``mode``. A point is feasible when some spread over the halls, rear-door assignment and
    liquid split (and, for "budget", some purchase within the budget) passes every rule.

    ``site_scope``: "none" also holds the site's site-scope units at zero (the site as it
    stands). ``explain``: :meth:`stops` names the rules that stop one more rack, from the
    elastic twin of the model.
    """

    def __init__(
        self,
        snap: Plan,
        site: Site,
        halls: Sequence[Hall],
        a: RackType,
        b: RackType,
        mode: str,
        opts: SolveOptions,
        *,
        site_scope: bool = False,
        explain: bool = False,
        elastic: bool = False,
    ):
        from .model import build

        if a.name == b.name:
            raise ValueError("rack_a and rack_b must be different rack types")
        if mode not in MODES:
            raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {mode!r}")
        self.args = (snap, site, halls, a, b, mode, opts)
        self.site_scope, self.explain = site_scope, explain
        self.a, self.b, self.opts = a, b, opts
        sc = snap.scenario
        self.m = m = build(sc, elastic=elastic)
        self.elastic_objective = m.prob.objective
        wanted = {hall.name for hall in halls}
        hs = {
            h
            for h, (_, s, hall) in enumerate(m.index.halls)
            if s.name == site.name and hall.name in wanted
        }
        names = [r.name for r in sc.rack_types]
        ra, rb = names.index(a.name), names.index(b.name)
        s_index = [s.name for s in sc.sites].index(site.name)
        free = {(h, r) for h in hs for r in (ra, rb)}
        _pin(m, snap, free, mode, hs, s_index if site_scope else None)
        self.ta = self._total([m.n[h, ra, 0] for h in sorted(hs) if (h, ra, 0) in m.n], "total_a")
        self.tb = self._total([m.n[h, rb, 0] for h in sorted(hs) if (h, rb, 0) in m.n], "total_b")
        self._twin: _MilpRegion | None = None

    def _total(self, parts: list, name: str):
        """An integer variable equal to the sum of ``parts``; None when there are none (the
        rack type can stand in none of the halls)."""
        import pulp

        from .model import expr

        if not parts:
            return None
        total = self.m.prob.add_variable(name, 0, sum(v.upBound for v in parts), pulp.LpInteger)
        total.cap = total.upBound
        terms = [(v, 1.0) for v in parts] + [(total, -1.0)]
        self.m.prob.addConstraint(pulp.LpConstraint(expr(terms), pulp.LpConstraintEQ, name, 0))
        return total

    def _hold(self, total, value: int | None) -> bool:
        """Hold a total at ``value`` (None: free); False when it cannot take that value."""
        if total is None:
            return not value
        if value is None:
            total.lowBound, total.upBound = 0, total.cap
            return True
        if value > total.cap:
            return False
        _fix(total, value)
        return True

    def _solve(self, terms: list, sense: int, gap_below: float | None = None) -> float | None:
        """Optimise ``sum(terms)``; None when no decision passes every rule. ``gap_below``:
        the objective's largest value, to set the relative MIP gap below one unit of it, so
        that a whole-number objective is the integer optimum."""
        import pulp

        from .model import expr
        from .solvers import run

        objective = expr(terms)
        self.m.prob.sense = sense
        self.m.prob.setObjective(objective)
        opts = dict(self.opts)
        if gap_below is not None:
            opts["mip_gap"] = min(opts.get("mip_gap") or 1.0, 0.5 / (1.0 + gap_below))
        if not run(self.m.prob, **opts).has_solution:
            return None
        return float(pulp.value(objective) or 0.0)

    def _most(self, total) -> int:
        """Largest value of a total with the other held; -1 when nothing passes."""
        import pulp

        if total is None:
            found = self._solve(list(self.m.compute.items()), pulp.LpMaximize)
            return -1 if found is None else 0
        found = self._solve([(total, 1.0)], pulp.LpMaximize, total.cap)
        return -1 if found is None else int(round(found))

    def largest_y(self, x: int) -> int:
        """Largest total of B with a total of ``x`` racks of A (-1: none)."""
        if not self._hold(self.ta, x):
            return -1
        self._hold(self.tb, None)
        return self._most(self.tb)

    def largest_x(self) -> int:
        """Largest total of A with no rack of B (-1: not even the empty point)."""
        self._hold(self.tb, 0)
        self._hold(self.ta, None)
        return self._most(self.ta)

    def best(self, columns: dict[int, int], step: int) -> tuple[int, int] | None:
        """The point with the most PFLOPS: the MILP's, or a better sampled column top."""
        import pulp

        known = [(x, y) for x, y in columns.items() if y >= 0]
        self._hold(self.ta, None)
        self._hold(self.tb, None)
        terms = [(t, r.pflops) for t, r in ((self.ta, self.a), (self.tb, self.b)) if t is not None]
        if self._solve(terms, pulp.LpMaximize) is not None:
            known.append(tuple(int(round(t.varValue or 0)) if t else 0 for t in (self.ta, self.tb)))
        return _best(self.a, self.b, known)

    def shortfall(self, x: int, y: int) -> str:
        """The rules broken at ``(x, y)`` by the least shortfall that makes it fit (elastic
        model only: each capacity rule may be exceeded, measured relative to its size), with
        the halls where they are broken; "" when it fits."""
        import pulp

        for total, rack, n in ((self.ta, self.a, x), (self.tb, self.b, y)):
            if total is None and n:
                return _absent(rack)
            if not self._hold(total, n):
                return RULE_LABELS["space"]
        m = self.m
        m.prob.sense = pulp.LpMinimize
        m.prob.setObjective(self.elastic_objective)
        from .solvers import run

        if not run(m.prob, **self.opts).has_solution:
            return "rear doors, floor or per-rack air density"
        found: dict = defaultdict(set)
        for name, f in m.shortfall.items():
            limit = m.limits[name]
            if (f.varValue or 0.0) > 1e-6 * max(1.0, limit.scale):
                where = m.index.halls[limit.hall][2].name if limit.hall is not None else ""
                found[LIMIT_RULES.get(limit.rule, limit.rule)].add(where)
        parts = []
        for rule in [*RULE_LABELS, *sorted(set(found) - set(RULE_LABELS))]:
            if rule in found:
                halls = ", ".join(sorted(w for w in found[rule] if w))
                parts.append(RULE_LABELS.get(rule, rule) + (f" in {halls}" if halls else ""))
        return ", ".join(parts)

    def stops(self, x: int, y: int) -> tuple[str, str]:
        """The rules that stop one more rack of type A, and of type B ("" when not
        ``explain``)."""
        if not self.explain:
            return "", ""
        if self._twin is None:
            self._twin = _MilpRegion(*self.args, site_scope=self.site_scope, elastic=True)
        return self._twin.shortfall(x + 1, y), self._twin.shortfall(x, y + 1)


def _absent(rack: RackType) -> str:
    """Why a rack type can stand in none of a picture's halls in the snapshot."""
    if rack.lead_periods > 0:
        return RULE_LABELS["lead_time"]
    return "no hall can take it (floor, per-rack air density or liquid cooling)"


class _CheckRegion:
    """A hall's region with its retrofit units held ("none" or "plan"), decided point by
    point by the checker (:func:`_check`); a column's top by bisection (closed downwards)."""

    def __init__(self, case: _Case):
        self.case = case
        self.a, self.b = case.a, case.b
        self.extent_x: int | None = None
        self.extent_y: int | None = None

    def ok(self, x: int, y: int) -> bool:
        return _check(self.case, x, y)[0]

    def largest_x(self) -> int:
        if self.extent_x is None:
            self.extent_x = _largest(lambda x: self.ok(x, 0), _bound(self.case.hall, self.a))
        return self.extent_x

    def largest_y(self, x: int) -> int:
        by = _bound(self.case.hall, self.b)
        if self.extent_y is None:
            self.extent_y = _largest(lambda y: self.ok(0, y), by)
        hi = self.extent_y if self.extent_y >= 0 else by
        return _largest(lambda y: self.ok(x, y), hi)

    def best(self, columns: dict[int, int], step: int) -> tuple[int, int] | None:
        """The sampled point with the most PFLOPS, refined over the columns within ``step``
        of it (the best point may sit between two sampled columns)."""
        best = _best(self.a, self.b, [(x, y) for x, y in columns.items() if y >= 0])
        if best is None or step <= 1:
            return best
        near = range(max(0, best[0] - step), min(best[0] + step, self.largest_x()) + 1)
        cand = [(x, self.largest_y(x)) for x in near]
        return _best(self.a, self.b, [p for p in cand if p[1] >= 0] + [best])

    def stops(self, x: int, y: int) -> tuple[str, str]:
        return _binding(self.case, x, y)


def _region(
    snap: Plan,
    site: Site,
    halls: Sequence[Hall],
    a: RackType,
    b: RackType,
    mode: str,
    opts: SolveOptions,
    site_scope: bool,
) -> _MilpRegion | _CheckRegion:
    """How a region is decided: by the checker for one hall with its units held, else by the
    MILP (the budget region, and every region of a site)."""
    if mode not in MODES:
        raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {mode!r}")
    if not site_scope and mode != "budget":
        return _CheckRegion(_case(snap, f"{site.name}/{halls[0].name}", a.name, b.name, mode))
    return _MilpRegion(
        snap, site, halls, a, b, mode, opts, site_scope=site_scope, explain=site_scope
    )


def _opts(solver: str, time_limit_s: float | None, mip_gap: float) -> SolveOptions:
    return {"solver": solver, "time_limit_s": time_limit_s, "mip_gap": mip_gap}


def _totals(snap: Plan, site: Site, halls: Sequence[Hall], a: RackType, b: RackType) -> tuple:
    """Racks of types A and B standing in the halls in the snapshot."""
    names = {h.name for h in halls}
    here = snap.racks[(snap.racks["site"] == site.name) & snap.racks["hall"].isin(names)]
    by = here.groupby("rack_type")["count"].sum()
    return int(by.get(a.name, 0)), int(by.get(b.name, 0))


def _scope(
    source: Plan | Scenario,
    sc: Scenario,
    hall: str | None,
    site: str | None,
    rack_a: str | None,
    rack_b: str | None,
) -> tuple[Site, list[Hall], RackType, RackType]:
    """The site, the halls of the picture and its two rack types: one hall (``hall``, by
    default :func:`default_pair`'s), or every hall of ``site`` (racks by default
    :func:`site_pair`'s)."""
    if site is not None and hall is not None:
        raise ValueError("give a hall or a site, not both")
    if site is not None:
        s = find_site(sc, site)
        halls = list(s.halls)
        if rack_a is None or rack_b is None:
            pair = site_pair(source, s.name)
            if pair is None:
                raise ValueError(f"site {site!r} has fewer than two deployable rack types")
            rack_a, rack_b = rack_a or pair[0], rack_b or pair[1]
    else:
        if hall is None or rack_a is None or rack_b is None:
            pair = default_pair(source)
            if pair is None:
                raise ValueError("no hall has two deployable rack types: give hall and racks")
            hall, rack_a, rack_b = hall or pair[0], rack_a or pair[1], rack_b or pair[2]
        s, h = find_hall(sc, hall)
        halls = [h]
    a, b = find_rack(sc, rack_a), find_rack(sc, rack_b)
    if a.name == b.name:
        raise ValueError("rack_a and rack_b must be different rack types")
    return s, halls, a, b


def feasible_points(
    source: Plan | Scenario,
    hall: str | None,
    rack_a: str,
    rack_b: str,
    period: str | int | None = None,
    retrofits: Retrofits = "plan",
    *,
    site: str | None = None,
    x_max: int | None = None,
    y_max: int | None = None,
    step: int | None = None,
    max_points: int = 2500,
    check: Literal["accounting", "verify"] = "accounting",
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
) -> pd.DataFrame:
    """Every point of a lattice ``x = 0, step, ..., x_max`` racks of ``rack_a`` by
    ``y = 0, step, ..., y_max`` racks of ``rack_b`` in ``hall`` in ``period`` (default: the
    last), with whether it is feasible. With ``hall=None, site=NAME``, ``x`` and ``y`` are
    the racks of the two types over all the site's halls, spread over them as the rules
    allow.

    One hall, ``retrofits="none"|"plan"``: each point's tables are built (the hall's
    rear-door assignment and CDU/AALC split chosen for the point, everything else as in the
    plan's snapshot, see the module docstring) and checked with planner.accounting
    (``check="accounting"``) or ``Plan.verify()`` (``check="verify"``, slower, same
    answers). ``"budget"``, and every retrofit set of a site: ``y <= `` the MILP's largest
    ``y`` for that ``x`` (one solve per lattice column). Bounds default to the positions of
    the hall (the site's halls); ``step`` to keep the lattice within ``max_points``.

    Columns: ``site, hall`` ("" for a site), ``period, retrofits, rack_a, rack_b, a_racks,
    b_racks, feasible, broken`` (rules broken, ";"-separated; "" when feasible or decided
    by the MILP), ``gpus, pflops, capex_usd`` (of the two rack types at the point).
    """
    if retrofits not in MODES:
        raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {retrofits!r}")
    snap = snapshot(source, period)
    sc = snap.scenario
    s, halls, a, b = _scope(source, sc, hall, site, rack_a, rack_b)
    x_max = sum(_bound(h, a) for h in halls) if x_max is None else x_max
    y_max = sum(_bound(h, b) for h in halls) if y_max is None else y_max
    if step is None:
        step = max(1, math.ceil(math.sqrt((x_max + 1) * (y_max + 1) / max_points)))
    xs = range(0, x_max + 1, step)
    ys = range(0, y_max + 1, step)
    rows = []
    if site is None and retrofits != "budget":
        case = _case(snap, f"{s.name}/{halls[0].name}", a.name, b.name, retrofits)
        for x in xs:
            for y in ys:
                ok, broken = _check(case, x, y, check)
                rows.append((x, y, ok, ";".join(broken)))
    else:
        opts = _opts(solver, time_limit_s, mip_gap)
        region = _MilpRegion(snap, s, halls, a, b, retrofits, opts, site_scope=site is not None)
        for x in xs:
            top = region.largest_y(x)
            rows += [(x, y, y <= top, "") for y in ys]
    df = pd.DataFrame(rows, columns=["a_racks", "b_racks", "feasible", "broken"])
    df.insert(0, "rack_b", b.name)
    df.insert(0, "rack_a", a.name)
    df.insert(0, "retrofits", retrofits)
    df.insert(0, "period", sc.periods[0])
    df.insert(0, "hall", "" if site is not None else halls[0].name)
    df.insert(0, "site", s.name)
    df["gpus"] = a.gpus * df["a_racks"] + b.gpus * df["b_racks"]
    df["pflops"] = a.pflops * df["a_racks"] + b.pflops * df["b_racks"]
    df["capex_usd"] = a.capex_usd * df["a_racks"] + b.capex_usd * df["b_racks"]
    return df


@dataclass
class FeasibleRegion:
    """What a feasible-region picture shows (see :func:`feasible_region`)."""

    site: str
    hall: str  # "" for a site's picture
    period: str
    rack_a: str
    rack_b: str
    scenario_name: str
    #: ``retrofits, a_racks, b_racks_max``: the largest feasible y for each sampled x
    #: (-1: none), per retrofit set; non-increasing in x, and every marked point's x is one
    columns: pd.DataFrame
    #: ``rule, unit, a_racks, b_racks, slack``: each rule's slack with the plan's retrofit
    #: set on a grid (the zero contour is the rule's boundary; for a site, the site total)
    rules: pd.DataFrame
    #: ``kind, label, a_racks, b_racks, stops_a, stops_b``: the plan's point (kind
    #: "optimum") and the best point (most PFLOPS) of each region (kind: its retrofit set),
    #: with the rules that stop one more rack of type A (``stops_a``) and of type B
    points: pd.DataFrame
    x_limit: float
    y_limit: float
    unit_pflops: tuple[float, float] = (0.0, 0.0)
    #: ``(period, a_racks, b_racks)`` standing in the hall in the period before (racks are
    #: never removed, so a plan reaches only points at or above these), or None
    previous: tuple[str, int, int] | None = None
    #: "hall" (one hall) or "site" (racks summed over the site's halls)
    scope: str = "hall"
    #: the halls of the picture
    halls: tuple[str, ...] = ()


def _columns_of(top: int, columns: int, extents: Iterable[int], px: int) -> set[int]:
    """The sampled columns: ``columns`` evenly spaced over ``0..top``, each region's widest
    column and the plan's ``px``."""
    n = min(columns, top + 1)
    out = {int(round(v)) for v in np.linspace(0, top, n)}
    return out | {v for v in extents if v >= 0} | {px}


def _fill(regions: dict, extent_x: dict, tops: dict, xs: Iterable[int]) -> None:
    """Each region's largest y on the columns ``xs`` it does not know yet (-1 beyond the
    region's widest column)."""
    for m, region in regions.items():
        for x in sorted(set(xs)):
            if x not in tops[m]:
                tops[m][x] = region.largest_y(x) if x <= extent_x[m] else -1


def _closed(tops: dict[int, int]) -> dict[int, int]:
    """Column tops made non-increasing in x. A region closed downwards that holds (x', y)
    holds (x, y) for every x < x', so a point found in a later column holds in every earlier
    one (this changes a column only when a solve stopped short of its optimum)."""
    out: dict[int, int] = {}
    most = -1
    for x in sorted(tops, reverse=True):
        most = max(most, tops[x])
        out[x] = most
    return dict(sorted(out.items()))


def feasible_region(
    source: Plan | Scenario,
    hall: str | None = None,
    rack_a: str | None = None,
    rack_b: str | None = None,
    period: str | int | None = None,
    *,
    site: str | None = None,
    columns: int = 60,
    grid: int = 81,
    modes: Sequence[str] = MODES,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
) -> FeasibleRegion:
    """The data of a feasible-region picture: for each retrofit set in ``modes`` the largest
    feasible ``y`` on up to ``columns`` sampled values of ``x`` (exact per column: the
    regions are closed downwards) plus the columns of every marked point, each rule's slack
    with the plan's retrofits on a ``grid`` x ``grid`` lattice, the plan's point and each
    region's best point.

    ``hall``, ``rack_a``, ``rack_b`` default to :func:`default_pair`. With ``site=NAME``
    (and no hall) the picture is of the racks of two types over all the site's halls
    (racks default to :func:`site_pair`): every region is decided by the MILP, and the
    rules' boundaries are site totals. A MILP region costs one solve of the period's
    snapshot per sampled column.
    """
    snap = snapshot(source, period)
    sc = snap.scenario
    s, halls, a, b = _scope(source, sc, hall, site, rack_a, rack_b)
    site_scope = site is not None
    scope = "site" if site_scope else "hall"
    opts = _opts(solver, time_limit_s, mip_gap)
    regions = {m: _region(snap, s, halls, a, b, m, opts, site_scope) for m in modes}
    extent_x = {m: r.largest_x() for m, r in regions.items()}
    px, py = _totals(snap, s, halls, a, b) if isinstance(source, Plan) else (0, 0)
    top_x = max([px, 1, *extent_x.values()])
    tops: dict = {m: {} for m in regions}
    _fill(regions, extent_x, tops, _columns_of(top_x, columns, extent_x.values(), px))
    step = math.ceil(top_x / max(min(columns, top_x + 1) - 1, 1))
    best = {m: r.best(tops[m], step) for m, r in regions.items()}
    _fill(regions, extent_x, tops, [p[0] for p in best.values() if p is not None])
    tops = {m: _closed(t) for m, t in tops.items()}
    rows = [(m, x, top) for m in regions for x, top in tops[m].items()]
    cols = pd.DataFrame(rows, columns=["retrofits", "a_racks", "b_racks_max"])

    top_y = max([py, 1, *(max(t.values()) for t in tops.values())])
    x_limit = top_x * 1.06 + 1
    y_limit = top_y * 1.06 + 1
    # rule slacks with the plan's retrofit set (none for a scenario: no plan, no units)
    if site_scope:
        rule_case = _site_case(snap, s, a, b)
        plan_region = regions.get("plan") or _region(snap, s, halls, a, b, "plan", opts, True)
    else:
        plan_region = regions.get("plan") or _region(snap, s, halls, a, b, "plan", opts, False)
        rule_case = plan_region.case
    rules = _rule_slacks(rule_case, x_limit, y_limit, grid)

    points = []
    if isinstance(source, Plan):
        points.append(("optimum", "the plan", px, py, *plan_region.stops(px, py)))
    for m, region in regions.items():
        found = _best(a, b, [(x, y) for x, y in tops[m].items() if y >= 0])
        if found is not None:
            points.append((m, mode_label(m, scope), *found, *region.stops(*found)))
    pts = pd.DataFrame(
        points, columns=["kind", "label", "a_racks", "b_racks", "stops_a", "stops_b"]
    )
    pts["pflops"] = a.pflops * pts["a_racks"] + b.pflops * pts["b_racks"]
    pts["gpus"] = a.gpus * pts["a_racks"] + b.gpus * pts["b_racks"]
    previous = None
    t = period_index(source.scenario if isinstance(source, Plan) else source, period)
    if isinstance(source, Plan) and t > 0:
        before = snapshot(source, t - 1)
        previous = (before.scenario.periods[0], *_totals(before, s, halls, a, b))
    return FeasibleRegion(
        previous=previous,
        site=s.name,
        hall="" if site_scope else halls[0].name,
        period=sc.periods[0],
        rack_a=a.name,
        rack_b=b.name,
        scenario_name=sc.name,
        columns=cols,
        rules=rules,
        points=pts,
        x_limit=x_limit,
        y_limit=y_limit,
        unit_pflops=(a.pflops, b.pflops),
        scope=scope,
        halls=tuple(h.name for h in halls),
    )


def _rule_slacks(case: _Case, x_limit: float, y_limit: float, grid: int) -> pd.DataFrame:
    """Each rule's slack (:func:`_alone_slacks`) on a ``grid`` x ``grid`` lattice over the
    picture; its zero contour is the rule's boundary."""
    gx = np.linspace(-0.5, x_limit, grid)
    gy = np.linspace(-0.5, y_limit, grid)
    rows = []
    for yv in gy:
        for xv in gx:
            for rule, s in _alone_slacks(case, float(xv), float(yv)).items():
                if math.isfinite(s):
                    rows.append((rule, RULE_UNITS[rule], xv, yv, s))
    return pd.DataFrame(rows, columns=["rule", "unit", "a_racks", "b_racks", "slack"])


def _best(a: RackType, b: RackType, pts: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    """The point with the most PFLOPS (fewest racks among equals)."""
    pts = list(pts)
    if not pts:
        return None
    return max(pts, key=lambda p: (a.pflops * p[0] + b.pflops * p[1], -p[0] - p[1]))


def _binding(case: _Case, x: int, y: int) -> tuple[str, str]:
    """The rules that stop one more rack of type A, and of type B, at a feasible point."""
    out = []
    for dx, dy in ((1, 0), (0, 1)):
        ok, broken = _check(case, x + dx, y + dy)
        out.append("" if ok else ", ".join(RULE_LABELS.get(r, r) for r in broken))
    return out[0], out[1]


# -- frontier ----------------------------------------------------------------------------
def with_budget(sc: Scenario, budget_usd: float | None, mode: str = "total") -> Scenario:
    """The scenario with a budget: ``mode="total"`` sets ``budget_usd_total`` (per-period
    caps kept); ``"per_period"`` sets every period's cap (total cap kept). None keeps the
    scenario's budgets."""
    if budget_usd is None:
        return sc
    data = sc.model_dump()
    if mode == "total":
        data["budget_usd_total"] = float(budget_usd)
    elif mode == "per_period":
        data["budget_usd_per_period"] = float(budget_usd)
    else:
        raise ValueError(f"budget mode must be 'total' or 'per_period', not {mode!r}")
    return Scenario.model_validate(data)


def with_target(sc: Scenario, gpus: float) -> Scenario:
    """The scenario with the last period's GPU target set to ``gpus`` and earlier targets
    scaled in proportion (all equal to ``gpus`` when the scenario has none)."""
    data = sc.model_dump()
    old = sc.gpu_targets
    if old and old[-1] > 0:
        data["gpu_targets"] = [float(g) * gpus / old[-1] for g in old]
    else:
        data["gpu_targets"] = [float(gpus)] * sc.n_periods
    return Scenario.model_validate(data)


def retrofit_set(plan: Plan) -> dict[tuple[str, str], int]:
    """``{(option, where): units}`` installed by the last period (where = hall or site)."""
    if not plan.has_plan or plan.retrofits.empty:
        return {}
    last = plan.scenario.periods[-1]
    rows = plan.retrofits[(plan.retrofits["period"] == last) & (plan.retrofits["units"] > 0)]
    return {
        (row.option, row.hall or row.site): int(row.units) for row in rows.itertuples(index=False)
    }


def _describe(items: set) -> str:
    """``{(option, where)}`` as ``cdu-1200kw (a1, b1); fabric-256gpu (a2)``."""
    by: dict = defaultdict(list)
    for option, where in sorted(items):
        by[option].append(where)
    return "; ".join(f"{o} ({', '.join(w)})" for o, w in by.items())


def change_label(before: set, after: set, limit: int = 4) -> str:
    """What changed between two retrofit sets, as ``+cdu-1200kw in a1, -aalc-20kw in b2``
    grouped by option, at most ``limit`` options named."""
    parts = []
    for sign, items in (("+", after - before), ("-", before - after)):
        by: dict = defaultdict(list)
        for option, where in sorted(items):
            by[option].append(where)
        parts += [f"{sign}{o} in {', '.join(w)}" for o, w in by.items()]
    if len(parts) > limit:
        parts = parts[:limit] + [f"+{len(parts) - limit} more"]
    return ", ".join(parts)


def _objective_columns(plan: Plan) -> dict:
    if not plan.has_plan:
        return {"pflops_periods": math.nan, "spend_usd": math.nan, "gpus_last_period": math.nan}
    return {
        "pflops_periods": float(plan.pflops().sum()),
        "spend_usd": float(plan.total_spend_usd),
        "gpus_last_period": float(plan.gpus().iloc[-1]),
    }


def _sweep_rows(plans: list[tuple[float, Plan]], key: str) -> pd.DataFrame:
    rows = []
    before: set | None = None
    for value, plan in plans:
        units = retrofit_set(plan)
        now = set(units)
        changed = before is not None and plan.has_plan and now != before
        rows.append(
            {
                key: value,
                "status": plan.status,
                **_objective_columns(plan),
                "retrofits": _describe(now),
                "changed": bool(changed),
                "label": change_label(before, now) if changed else "",
                "solve_seconds": plan.solve_seconds,
            }
        )
        if plan.has_plan:
            before = now
    return pd.DataFrame(rows)


def default_budgets(sc: Scenario, points: int = 5, plan: Plan | None = None, **opts) -> list:
    """``points`` budgets from a fifth of the scenario's optimal spend up to it."""
    from .optimize import solve

    plan = plan if plan is not None else solve(sc, **opts)
    if not plan.has_plan or plan.total_spend_usd <= 0:
        return []
    top = plan.total_spend_usd
    return [top * (i + 1) / points for i in range(points)]


def frontier(
    scenario: Scenario,
    budgets: Iterable[float] | None = None,
    *,
    targets: Iterable[float] | None = None,
    mode: str = "total",
    points: int = 5,
    plan: Plan | None = None,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
) -> pd.DataFrame:
    """Most compute against budget, one :func:`planner.solve` per budget (``max_compute``
    scenarios), or least spend against the last period's GPU target (``min_cost``).

    ``budgets`` (USD) are applied by :func:`with_budget` with ``mode`` ("total": a cap on
    spend over all periods, the scenario's per-period caps kept; "per_period": every
    period's cap). Default: ``points`` budgets up to the scenario's optimal spend (one
    extra solve, or ``plan`` when given). ``targets`` (GPUs in the last period, earlier
    targets in proportion; :func:`with_target`) default to 25%..125% of the scenario's.

    Rows are sorted by budget (target). Columns: ``budget_usd`` (or ``gpu_target``),
    ``status, pflops_periods, spend_usd, gpus_last_period, retrofits`` (the retrofit set
    installed by the last period), ``changed`` (the set differs from the previous
    point's), ``label`` (``+option in hall`` / ``-option in hall``), ``solve_seconds``.
    """
    from .optimize import solve

    opts = _opts(solver, time_limit_s, mip_gap)
    if scenario.objective == "min_cost":
        if targets is None:
            base = scenario.gpu_targets[-1] if scenario.gpu_targets else 0.0
            targets = [base * f for f in np.linspace(0.25, 1.25, points)]
        values = sorted(float(v) for v in targets)
        plans = [(v, solve(with_target(scenario, v), **opts)) for v in values]
        df = _sweep_rows(plans, "gpu_target")
        df.attrs.update(objective=scenario.objective, n_periods=scenario.n_periods)
        return df
    if budgets is None:
        budgets = default_budgets(scenario, points, plan, **opts)
    values = sorted(float(v) for v in budgets)
    plans = []
    for v in values:
        reuse = (
            plan is not None
            and plan.status == "optimal"
            and mode == "total"
            and plan.scenario is scenario
            and v >= plan.total_spend_usd
            and (scenario.budget_usd_total is None or v <= scenario.budget_usd_total)
        )
        plans.append((v, plan if reuse else solve(with_budget(scenario, v, mode), **opts)))
    df = _sweep_rows(plans, "budget_usd")
    df.attrs.update(objective=scenario.objective, n_periods=scenario.n_periods, mode=mode)
    return df


# -- timeline ----------------------------------------------------------------------------
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
    return Timeline(op, ret, spend, list(sc.periods), sc.name)


# -- utilisation -------------------------------------------------------------------------
def utilisation_matrix(plan: Plan) -> pd.DataFrame:
    """Share of every resource used, per hall (site rows for facility water and feed:
    ``hall`` "") and period: ``site, hall, period, period_index, resource, unit, used,
    capacity, share, binding``. ``share`` = used / capacity (NaN where there is no cap or
    neither capacity nor use); ``binding`` when share >= 99.9%."""
    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    u = plan.utilisation.copy()
    order = {p: i for i, p in enumerate(plan.scenario.periods)}
    u.insert(3, "period_index", u["period"].map(order).astype(int))
    used = u["used"].to_numpy(dtype=float)
    cap = u["capacity"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cap > 0, used / np.where(cap > 0, cap, 1.0), np.nan)
    share = np.where((cap == 0) & (used > ABS), np.inf, share)
    u["share"] = share
    u["binding"] = np.nan_to_num(share, nan=0.0, posinf=1.0) >= BINDING_SHARE
    return u


# -- bandwidth sensitivity ---------------------------------------------------------------
def bandwidth_rack(sc: Scenario) -> str:
    """The rack type a bandwidth sweep varies by default: one whose network multiple is in
    the 24-32x range reported for GPU racks, else the first with a network multiple, else
    the first rack type."""
    with_multiple = [r for r in sc.rack_types if r.network_multiple is not None]
    in_range = [r for r in with_multiple if 24 <= r.network_multiple <= 32]
    pick = (in_range or with_multiple or list(sc.rack_types))[0]
    return pick.name


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
    multiples: Iterable[float] = range(24, 33, 2),
    budgets: Iterable[float | None] | None = None,
    rack_type: str | None = None,
    *,
    mode: str = "total",
    pro_rata: bool = False,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
) -> pd.DataFrame:
    """Compute achievable (least spend for ``min_cost``) as ``rack_type``'s network
    multiple goes over ``multiples`` (x the reference CPU rack's bandwidth), for each budget
    in ``budgets`` (USD, applied with :func:`with_budget`; None = the scenario's own
    budgets, the default). One solve per (budget, multiple).

    Columns: ``rack_type, network_multiple, network_gbps, budget_usd`` (NaN = the
    scenario's), ``budget_label, status, pflops_periods, spend_usd, gpus_last_period,
    solve_seconds``.
    """
    from .optimize import solve

    rack_type = rack_type or bandwidth_rack(scenario)
    find_rack(scenario, rack_type)
    budgets = [None] if budgets is None else list(budgets)
    opts = _opts(solver, time_limit_s, mip_gap)
    ref = scenario.reference_rack.network_gbps if scenario.reference_rack else math.nan
    rows = []
    for budget in budgets:
        base = with_budget(scenario, budget, mode)
        for m in multiples:
            plan = solve(with_multiple(base, rack_type, float(m), pro_rata), **opts)
            rows.append(
                {
                    "rack_type": rack_type,
                    "network_multiple": float(m),
                    "network_gbps": float(m) * ref,
                    "budget_usd": math.nan if budget is None else float(budget),
                    "budget_label": "scenario's budgets"
                    if budget is None
                    else f"${budget / 1e6:,.0f}M {'total' if mode == 'total' else 'per period'}",
                    "status": plan.status,
                    **_objective_columns(plan),
                    "solve_seconds": plan.solve_seconds,
                }
            )
    df = pd.DataFrame(rows)
    df.attrs.update(pro_rata=pro_rata, objective=scenario.objective, n_periods=scenario.n_periods)
    return df
