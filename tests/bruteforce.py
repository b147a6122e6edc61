"""Exhaustive search for the best plan of a TINY scenario, independent of ``planner/model.py``.

The search enumerates every candidate plan within small explicit bounds: racks of each type
in each hall per period, retrofit units of each option per period, CPU racks retired per
period (all whole numbers, non-decreasing over periods, zero before ``lead_periods``), then
for each of them the rear-door (RDHx) assignments and the CDU/AALC splits of liquid heat
that matter. Every rule is checked from MODEL.md by this module's own arithmetic
(:func:`violations`); the winner is then written as ``planner.Plan`` tables, its objective and
spend are taken from :mod:`planner.plan.accounting`, and it must pass ``Plan.verify()``. A plan
that this module accepts and ``verify()`` rejects raises :class:`Disagreement`.
:func:`search_by_verify` is the literal variant for the very smallest scenarios: no rule of
this module is applied, every completion of every candidate is judged by ``verify()``
alone (one call each, ~10 ms), the first sound one in rank order wins; the tests check that
both searches find the same optimum, and that :func:`violations` names exactly the rules
``verify()`` names on random and near-optimal plans.

Nothing here imports :mod:`planner.model` or :mod:`planner.solving.optimize`.

Search order: candidates are ranked by the scenario's objective (``max_compute``: most
PFLOPS-periods, then least total spend; ``min_cost``: least spend); the rules that are
linear in the whole-number decisions (space, power, network, budgets, targets) are checked
on all candidates at once with numpy, the others on the ranked survivors one at a time, and
the first candidate that passes every rule is the optimum.

Liquid split: given the racks, units and doors, the heat each hall sends to CDUs (``qc``)
is feasible on an interval per hall (``qc <= CDU capacity``, ``L - qc <= AALC capacity``,
``L - qc <= room-air slack``), and the site rules (facility water, feed) depend only on the
site's total ``S = sum qc``, linearly. So a feasible split exists iff one exists at one of the
values of ``S`` that make a rule tight or hit an end of its range: all of it to CDUs up to
their capacity, all to AALC up to its capacity or up to the room-air slack, facility water
tight, feed tight. Those are the splits tried. Only the total heat behind rear doors of a
hall matters to the thermal rules, so door assignments are deduplicated by it.

Modelling choices where MODEL.md is silent (the planner's, docs/model.md): a CPU rack takes
one position; ``weight_kg`` is compared directly to ``floor_kg_per_position``; at most one
unit of each floor option (MODEL.md: the strongest installed unit counts); site-scope units
take no hall positions; RDHx units take their ``positions`` like other hall units.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.plan import Plan
from planner.plan import accounting as acc
from planner.scenario import Scenario

MAX_CANDIDATES = 4_000_000  # the enumeration is for TINY scenarios only
SITE_KINDS = ("site_water", "site_feed")


class Disagreement(AssertionError):
    """This module's rules accept a plan that ``Plan.verify()`` rejects."""


def _tol(cap: float) -> float:
    """The tolerance ``Plan.verify`` allows on a continuous quantity (kW, Gbps, USD)."""
    return max(1e-3, 1e-6 * abs(cap))


def _le(used: float, cap: float) -> bool:
    return used <= cap + _tol(cap)


def gbps(sc: Scenario, rack) -> float:
    """A rack type's bandwidth: ``network_gbps`` or ``network_multiple x reference``."""
    if rack.network_gbps is not None:
        return rack.network_gbps
    return rack.network_multiple * sc.reference_rack.network_gbps


# -- a full plan, by indices ----------------------------------------------------------------
@dataclass
class Candidate:
    """Every decision of a plan (MODEL.md section 2), by index.

    ``h`` indexes halls flattened over sites in file order, ``o`` the retrofit catalog and
    ``r`` the rack types; sequences have one entry per period.
    """

    racks: dict = field(default_factory=dict)  # (h, t) -> [(r, door option o or None, count)]
    units: dict = field(default_factory=dict)  # (h, o) -> units installed by each period
    site_units: dict = field(default_factory=dict)  # (s, o) -> units installed by each period
    retired: dict = field(default_factory=dict)  # h -> CPU racks retired by each period
    to_cdu: dict = field(default_factory=dict)  # (h, t) -> kW of liquid heat served by CDUs
    to_aalc: dict = field(default_factory=dict)  # (h, t) -> kW served by AALC sidecars
    clusters: dict = field(default_factory=dict)  # (c, domain, r) -> clusters by each period


def hall_list(sc: Scenario) -> list[tuple[int, object, object]]:
    """``[(site index, site, hall)]`` in file order."""
    return [(s, site, hall) for s, site in enumerate(sc.sites) for hall in site.halls]


def hall_options(sc: Scenario, hall) -> list[int]:
    """Hall-scope options the hall's ``retrofits`` list allows (facility water NOT applied:
    that rule is left to the checks)."""
    return [
        o
        for o, opt in enumerate(sc.retrofits)
        if opt.kind not in SITE_KINDS and (hall.retrofits is None or opt.name in hall.retrofits)
    ]


def installed_of(sc: Scenario) -> dict:
    """What stands before the first period (MODEL.md section 6): ``{("rack", h, r): racks,
    ("unit", h, o): units, ("site_unit", s, o): units}`` (rear doors of installed racks are
    units of their option)."""
    rack_of = {r.name: i for i, r in enumerate(sc.rack_types)}
    option_of = {o.name: i for i, o in enumerate(sc.retrofits)}
    out: dict = defaultdict(int)
    for h, (_s, _site, hall) in enumerate(hall_list(sc)):
        for name, _door, n in hall.installed_racks():
            out["rack", h, rack_of[name]] += n
        for name, n in hall.installed_units().items():
            out["unit", h, option_of[name]] += n
    for s, site in enumerate(sc.sites):
        for name, n in site.installed_units().items():
            out["site_unit", s, option_of[name]] += n
    return out


def site_options(sc: Scenario) -> list[int]:
    return [o for o, opt in enumerate(sc.retrofits) if opt.kind in SITE_KINDS]


def cluster_size(sc: Scenario, c: int, r: int) -> int:
    """Racks of type r one cluster of kind c takes (MODEL.md section 5)."""
    return math.ceil(sc.clusters[c].gpus / sc.rack_types[r].gpus)


def compute_of(sc: Scenario, cand: Candidate) -> float:
    """PFLOPS-periods the objective counts: every rack, or only racks in clusters."""
    if sc.compute_counts == "clustered":
        return sum(
            sc.rack_types[r].pflops * cluster_size(sc, c, r) * sum(seq)
            for (c, _d, r), seq in cand.clusters.items()
        )
    return sum(sc.rack_types[r].pflops * n for rows in cand.racks.values() for r, _o, n in rows)


def cluster_members(sc: Scenario, c: int) -> list[int]:
    """Rack types (indices) a cluster of kind c may be made of: named (or all), with GPUs."""
    names = sc.clusters[c].rack_types
    return [
        r
        for r, rack in enumerate(sc.rack_types)
        if rack.gpus > 0 and (names is None or rack.name in names)
    ]


def cluster_halls(sc: Scenario, c: int, d: int) -> list[int]:
    """The halls (indices) of domain d of kind c: the hall itself, or the site's halls."""
    if sc.clusters[c].domain == "hall":
        return [d]
    return [h for h, (s, _site, _hall) in enumerate(hall_list(sc)) if s == d]


def spend_of(sc: Scenario, cand: Candidate) -> list[float]:
    """Spend per period (USD): increments of the cumulative decisions, priced."""
    T = sc.n_periods
    halls = hall_list(sc)
    have = installed_of(sc)  # paid for before the first period
    out = [0.0] * T
    for h in range(len(halls)):
        totals = [defaultdict(int) for _ in range(T)]
        for t in range(T):
            for r, _o, n in cand.racks.get((h, t), []):
                totals[t][r] += n
        for t in range(T):
            for r in set(totals[t]) | (set(totals[t - 1]) if t else set()):
                before = totals[t - 1][r] if t else have.get(("rack", h, r), 0)
                out[t] += sc.rack_types[r].capex_usd * (totals[t][r] - before)
    for store, kind in ((cand.units, "unit"), (cand.site_units, "site_unit")):
        for (where, o), seq in store.items():
            for t in range(T):
                before = seq[t - 1] if t else have.get((kind, where, o), 0)
                out[t] += sc.retrofits[o].cost_usd * (seq[t] - before)
    for h, seq in cand.retired.items():
        cpu = halls[h][2].cpu_racks
        price = (cpu.retire_cost_usd or 0.0) if cpu is not None else 0.0
        for t in range(T):
            out[t] += price * (seq[t] - (seq[t - 1] if t else 0))
    return out


# -- every rule of MODEL.md, from the decisions alone -----------------------------------------
def violations(
    sc: Scenario, cand: Candidate, objective: float | None = None, spend: float | None = None
) -> set[str]:
    """Names of the rules ``cand`` breaks (the rule names of ``Plan.verify``). When
    ``objective`` / ``spend`` are given they are checked against the decisions too."""
    T = sc.n_periods
    halls = hall_list(sc)
    opts = sc.retrofits
    found: set[str] = set()
    zeros = (0,) * T
    have = installed_of(sc)

    def unit_ok(opt, u, t, hall, installed=0) -> None:
        if u < installed:
            found.add("installed")
        if u <= installed:
            return
        if t < opt.lead_periods:
            found.add("lead_time")
        if opt.max_units is not None and u > opt.max_units:
            found.add("max_units")
        if hall is not None:
            if hall.retrofits is not None and opt.name not in hall.retrofits:
                found.add("availability")
            if opt.kind in ("cdu", "rdhx") and not hall.facility_water:
                found.add("facility_water")

    def cap_of(units: dict, kind: str) -> float:
        return sum(opts[o].capacity * u for o, u in units.items() if opts[o].kind == kind)

    # hall by hall
    water = defaultdict(float)  # (s, t) -> heat to the water loop
    feed = defaultdict(float)  # (s, t) -> facility power
    for h, (s, site, hall) in enumerate(halls):
        cpu = hall.cpu_racks
        count = cpu.count if cpu else 0
        cpu_kw = cpu.power_kw if cpu else 0.0
        cpu_gbps = cpu.network_gbps if cpu else 0.0
        before_racks: dict = {}
        before_units: dict = {}
        before_retired = 0
        for t in range(T):
            rows = [row for row in cand.racks.get((h, t), []) if row[2]]
            units = {o: seq[t] for (hh, o), seq in cand.units.items() if hh == h and seq[t]}
            retired = cand.retired.get(h, zeros)[t]
            left = count - retired
            qc = cand.to_cdu.get((h, t), 0.0)
            qa = cand.to_aalc.get((h, t), 0.0)

            # structure: lead times, air density, doors, floor, options, CPU racks
            totals: dict = defaultdict(int)
            doors: dict = defaultdict(int)
            for r, o, n in rows:
                rack = sc.rack_types[r]
                totals[r] += n
                if rack.cooling == "liquid":
                    if (1 - rack.liquid_fraction) * rack.power_kw > hall.max_air_rack_kw + 1e-9:
                        found.add("air_density")
                    if o is not None:
                        found.add("rdhx")
                elif o is not None:
                    doors[o] += n
                    if opts[o].capacity < rack.power_kw:
                        found.add("rdhx")
                elif rack.power_kw > hall.max_air_rack_kw:
                    found.add("air_density")
                if rack.weight_kg > hall.floor_kg_per_position and not any(
                    opts[o].kind == "floor" and opts[o].capacity >= rack.weight_kg for o in units
                ):
                    found.add("floor")
            for r, rack in enumerate(sc.rack_types):
                if totals.get(r, 0) > have.get(("rack", h, r), 0) and t < rack.lead_periods:
                    found.add("lead_time")
                if totals.get(r, 0) < have.get(("rack", h, r), 0):
                    found.add("installed")
            if any(n > units.get(o, 0) for o, n in doors.items()):
                found.add("rdhx")
            if any(u > 1 for o, u in units.items() if opts[o].kind == "floor"):
                found.add("floor")  # floor units do not stack: one of each option
            for o in set(units) | {k[2] for k in have if k[:2] == ("unit", h)}:
                unit_ok(opts[o], units.get(o, 0), t, hall, have.get(("unit", h, o), 0))
            if retired > count or (retired and (cpu is None or cpu.retire_cost_usd is None)):
                found.add("cpu_racks")
            now_racks = dict(totals)
            if any(now_racks.get(k, 0) < v for k, v in before_racks.items()):
                found.add("cumulative")
            if any(units.get(k, 0) < v for k, v in before_units.items()):
                found.add("cumulative")
            if retired < before_retired:
                found.add("cumulative")
            before_racks, before_units, before_retired = now_racks, units, retired

            # resources
            space = left + sum(sc.rack_types[r].positions * n for r, _o, n in rows)
            space += sum(opts[o].positions * u for o, u in units.items())
            if not _le(space, hall.positions):
                found.add("space")
            it_kw = left * cpu_kw + sum(sc.rack_types[r].power_kw * n for r, _o, n in rows)
            if not _le(it_kw, hall.power_kw + cap_of(units, "power")):
                found.add("power")
            liquid = sum(
                sc.rack_types[r].liquid_fraction * sc.rack_types[r].power_kw * n
                for r, _o, n in rows
                if sc.rack_types[r].cooling == "liquid"
            )
            door_kw = sum(
                sc.rack_types[r].power_kw * n
                for r, o, n in rows
                if o is not None and sc.rack_types[r].cooling == "air"
            )
            air_kw = left * cpu_kw + qa
            for r, o, n in rows:
                rack = sc.rack_types[r]
                if rack.cooling == "liquid":
                    air_kw += (1 - rack.liquid_fraction) * rack.power_kw * n
                elif o is None:
                    air_kw += rack.power_kw * n
            if not _le(air_kw, hall.air_cooling_kw + cap_of(units, "air_cooling")):
                found.add("room_air")
            if qc < -1e-3 or qa < -1e-3:
                found.add("liquid")
            if not _le(qc, cap_of(units, "cdu")) or not _le(qa, cap_of(units, "aalc")):
                found.add("liquid")
            if abs(qc + qa - liquid) > max(1e-3, 1e-6 * liquid):
                found.add("liquid")
            net = left * cpu_gbps + sum(gbps(sc, sc.rack_types[r]) * n for r, _o, n in rows)
            if not _le(net, hall.fabric_gbps + cap_of(units, "fabric")):
                found.add("network")
            water[s, t] += qc + door_kw
            feed[s, t] += it_kw + site.air_overhead * air_kw + site.liquid_overhead * (qc + door_kw)

    # site by site
    for s, site in enumerate(sc.sites):
        before: dict = {}
        for t in range(T):
            units = {o: seq[t] for (ss, o), seq in cand.site_units.items() if ss == s and seq[t]}
            for o in set(units) | {k[2] for k in have if k[:2] == ("site_unit", s)}:
                unit_ok(opts[o], units.get(o, 0), t, None, have.get(("site_unit", s, o), 0))
            if any(units.get(k, 0) < v for k, v in before.items()):
                found.add("cumulative")
            before = units
            added = {
                k: sum(opts[o].capacity * u for o, u in units.items() if opts[o].kind == k)
                for k in SITE_KINDS
            }
            if not _le(water[s, t], site.facility_water_kw + added["site_water"]):
                found.add("facility_water")
            if site.feed_kw is not None and not _le(feed[s, t], site.feed_kw + added["site_feed"]):
                found.add("feed")

    # clusters: racks in their domain, no rack in two, cumulative, targets
    racks_at = defaultdict(int)  # (h, r, t) -> racks
    for (h, t), rows in cand.racks.items():
        for r, _o, n in rows:
            racks_at[h, r, t] += n
    hall_of_site = {h: s for h, (s, _site, _hall) in enumerate(halls)}
    for t in range(T):
        in_hall, in_site = defaultdict(int), defaultdict(int)
        for (c, d, r), seq in cand.clusters.items():
            taken = cluster_size(sc, c, r) * seq[t]
            if sc.clusters[c].domain == "hall":
                in_hall[d, r] += taken
                in_site[hall_of_site[d], r] += taken
            else:
                in_site[d, r] += taken
        if any(n > racks_at[h, r, t] for (h, r), n in in_hall.items()):
            found.add("clusters")
        for (s, r), n in in_site.items():
            if n > sum(racks_at[h, r, t] for h, ss in hall_of_site.items() if ss == s):
                found.add("clusters")
    for seq in cand.clusters.values():
        if any(seq[t] < seq[t - 1] for t in range(1, T)):
            found.add("cumulative")
    for c, kind in enumerate(sc.cluster_kinds()):
        for t, target in enumerate(kind.targets or []):
            have = sum(seq[t] for (cc, _d, _r), seq in cand.clusters.items() if cc == c)
            if have < target:
                found.add("cluster_target")

    # money, targets, objective
    per_period = spend_of(sc, cand)
    for t, budget in enumerate(sc.budgets()):
        if budget is not None and not _le(per_period[t], budget):
            found.add("budget")
        if per_period[t] < -1e-3:
            found.add("cumulative")
    total = sum(per_period)
    if sc.budget_usd_total is not None and not _le(total, sc.budget_usd_total):
        found.add("budget_total")
    if sc.gpu_targets is not None:
        for t, target in enumerate(sc.gpu_targets):
            gpus = sum(
                sc.rack_types[r].gpus * n
                for h in range(len(halls))
                for r, _o, n in cand.racks.get((h, t), [])
            )
            if gpus < target - 1e-9:
                found.add("target")
    value = compute_of(sc, cand) if sc.objective == "max_compute" else total
    if objective is not None and abs(objective - value) > max(1e-3, 1e-6 * abs(value)):
        found.add("objective")
    if spend is not None and abs(spend - total) > max(1e-3, 1e-6 * abs(total)):
        found.add("objective")
    return found


# -- tables ------------------------------------------------------------------------------------
def tables(sc: Scenario, cand: Candidate) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The plan's ``racks``, ``retrofits`` and ``halls`` tables (Plan's columns)."""
    halls = hall_list(sc)
    T = sc.n_periods
    rack_rows, unit_rows, hall_rows = [], [], []
    for h, (_s, site, hall) in enumerate(halls):
        for t, p in enumerate(sc.periods):
            for r, o, n in cand.racks.get((h, t), []):
                if n:
                    door = sc.retrofits[o].name if o is not None else ""
                    rack_rows.append((site.name, hall.name, p, sc.rack_types[r].name, door, n))
    for store, site_scope in ((cand.units, False), (cand.site_units, True)):
        for (where, o), seq in store.items():
            opt = sc.retrofits[o]
            if site_scope:
                site_name, hall_name = sc.sites[where].name, ""
            else:
                site_name, hall_name = halls[where][1].name, halls[where][2].name
            for t, p in enumerate(sc.periods):
                if seq[t]:
                    added = seq[t] - (seq[t - 1] if t else 0)
                    unit_rows.append((site_name, hall_name, p, opt.name, opt.kind, seq[t], added))
    for h, (_s, site, hall) in enumerate(halls):
        count = hall.cpu_racks.count if hall.cpu_racks else 0
        retired = cand.retired.get(h, (0,) * T)
        for t, p in enumerate(sc.periods):
            hall_rows.append(
                (
                    site.name,
                    hall.name,
                    p,
                    retired[t],
                    count - retired[t],
                    float(cand.to_cdu.get((h, t), 0.0)),
                    float(cand.to_aalc.get((h, t), 0.0)),
                )
            )
    return (
        pd.DataFrame(rack_rows, columns=acc.RACK_COLUMNS),
        pd.DataFrame(unit_rows, columns=acc.RETROFIT_COLUMNS),
        pd.DataFrame(hall_rows, columns=acc.HALL_COLUMNS),
    )


def cluster_table(sc: Scenario, cand: Candidate) -> pd.DataFrame:
    """The plan's ``clusters`` table (Plan's columns)."""
    halls = hall_list(sc)
    rows = []
    for (c, d, r), seq in cand.clusters.items():
        kind, rack = sc.clusters[c], sc.rack_types[r]
        if kind.domain == "hall":
            site, hall = halls[d][1].name, halls[d][2].name
        else:
            site, hall = sc.sites[d].name, ""
        for t, p in enumerate(sc.periods):
            if seq[t]:
                racks = seq[t] * cluster_size(sc, c, r)
                rows.append((kind.name, kind.domain, site, hall, rack.name, p, seq[t], racks,
                             racks * rack.gpus))  # fmt: skip
    return pd.DataFrame(rows, columns=acc.CLUSTER_COLUMNS)


def to_plan(sc: Scenario, cand: Candidate, status: str = "optimal") -> Plan:
    """A ``planner.Plan`` of the candidate; objective and spend from planner.plan.accounting."""
    racks, retrofits, halls = tables(sc, cand)
    clusters = cluster_table(sc, cand)
    total = float(acc.spend(sc, racks, retrofits, halls)["total_usd"].sum())
    compute = float(acc.counted_pflops(sc, racks, clusters).sum())
    objective = compute if sc.objective == "max_compute" else total
    return Plan(
        sc,
        status,
        objective=objective,
        total_spend_usd=total,
        racks=racks,
        retrofits=retrofits,
        halls=halls,
        clusters=clusters,
        solver="bruteforce",
    )


# -- the enumeration -------------------------------------------------------------------------
def sequences(n_periods: int, lead: int, ub: int, low: int = 0) -> list[tuple[int, ...]]:
    """Non-decreasing whole-number sequences in [low, ub], ``low`` (what is installed)
    before ``lead``."""
    if lead >= n_periods or ub <= low:
        return [(low,) * n_periods]
    head = (low,) * lead
    values = range(low, ub + 1)
    return [head + c for c in itertools.combinations_with_replacement(values, n_periods - lead)]


Bound = int | dict | None
UNLIMITED_UNITS = 4  # units tried of an option with max_units null, unless told otherwise


def _bound(limit: Bound, name: str) -> int | None:
    if isinstance(limit, dict):
        return limit.get(name)
    return limit


@dataclass
class Var:
    kind: str  # rack | unit | site_unit | retire
    key: tuple
    seqs: list


def decision_space(
    sc: Scenario, max_racks: Bound = None, max_units: Bound = None, fixed: dict | None = None
) -> list:
    """The whole-number decisions and, for each, its candidate sequences.

    Racks of a type in a hall: 0 .. ``positions // rack positions`` (the space rule), capped
    by ``max_racks``. Units of an option in a hall or site: 0 .. ``max_units`` of the option
    (floor: 1 of each option; units taking positions: at most what the hall holds); an option with
    ``max_units: null`` gets the explicit bound ``max_units`` given here, or
    ``UNLIMITED_UNITS``. CPU racks retired: 0 .. count, where they may be retired. A bound is
    an int or ``{rack type or option name: int}``. ``fixed`` (``{(kind, key): sequence}``,
    kind ``unit`` or ``site_unit``) pins those decisions to one sequence each."""
    T = sc.n_periods
    out = []
    have = installed_of(sc)

    def unit_bound(opt) -> int:
        ub = _bound(max_units, opt.name)
        if ub is None:
            ub = UNLIMITED_UNITS if opt.max_units is None else opt.max_units
        if opt.max_units is not None:
            ub = min(ub, opt.max_units)
        return ub

    for h, (_s, _site, hall) in enumerate(hall_list(sc)):
        for r, rack in enumerate(sc.rack_types):
            ub = hall.positions // rack.positions
            if _bound(max_racks, rack.name) is not None:
                ub = min(ub, _bound(max_racks, rack.name))
            low = have.get(("rack", h, r), 0)
            out.append(Var("rack", (h, r), sequences(T, rack.lead_periods, max(ub, low), low)))
        listed = hall_options(sc, hall)
        for o in sorted(set(listed) | {k[2] for k in have if k[:2] == ("unit", h)}):
            opt = sc.retrofits[o]
            low = have.get(("unit", h, o), 0)
            ub = unit_bound(opt)
            if opt.kind == "floor":
                ub = min(ub, 1)
            if opt.positions:
                ub = min(ub, hall.positions // opt.positions)
            if o not in listed:
                ub = low  # installed, but the hall's list allows no more
            out.append(Var("unit", (h, o), sequences(T, opt.lead_periods, max(ub, low), low)))
        cpu = hall.cpu_racks
        if cpu is not None and cpu.count and cpu.retire_cost_usd is not None:
            out.append(Var("retire", (h,), sequences(T, 0, cpu.count)))
    for s in range(len(sc.sites)):
        for o in site_options(sc):
            opt = sc.retrofits[o]
            low = have.get(("site_unit", s, o), 0)
            seqs = sequences(T, opt.lead_periods, max(unit_bound(opt), low), low)
            out.append(Var("site_unit", (s, o), seqs))
    halls = hall_list(sc)
    for c, kind in enumerate(sc.cluster_kinds()):
        domains = range(len(halls)) if kind.domain == "hall" else range(len(sc.sites))
        for r in cluster_members(sc, c):
            rack = sc.rack_types[r]
            for d in domains:
                room = sum(halls[h][2].positions // rack.positions for h in cluster_halls(sc, c, d))
                ub = room // cluster_size(sc, c, r)
                there = any(have.get(("rack", h, r)) for h in cluster_halls(sc, c, d))
                lead = 0 if there else rack.lead_periods  # installed racks may form clusters
                out.append(Var("cluster", (c, d, r), sequences(T, lead, ub)))
    for var in out:
        if fixed and (var.kind, var.key) in fixed:
            var.seqs = [tuple(fixed[var.kind, var.key])]
    return [v for v in out if len(v.seqs) > 1 or any(v.seqs[0])]


class _Linear:
    """Sums over the product of the variables' sequence lists, as flat numpy arrays."""

    def __init__(self, variables: list[Var]):
        self.variables = variables
        self.shape = tuple(len(v.seqs) for v in variables)
        self.size = math.prod(self.shape)
        if self.size > MAX_CANDIDATES:
            raise ValueError(f"{self.size:,} candidates: not a tiny scenario (tighten bounds)")

    def total(self, term, constant: float = 0.0) -> np.ndarray:
        """``constant + sum_v term(var, seq)`` for every candidate."""
        acc_ = np.full(self.shape, float(constant))
        for i, var in enumerate(self.variables):
            values = np.array([float(term(var, seq)) for seq in var.seqs])
            if not values.any():
                continue
            shape = [1] * len(self.shape)
            shape[i] = len(var.seqs)
            acc_ = acc_ + values.reshape(shape)
        return acc_.ravel()


def _linear_filters(sc: Scenario, lin: _Linear):
    """Mask of candidates meeting space, power, network, budgets and targets, with each
    candidate's PFLOPS-periods and total spend."""
    T = sc.n_periods
    halls = hall_list(sc)
    opts, rtypes = sc.retrofits, sc.rack_types
    mask = np.ones(lin.size, dtype=bool)

    def within(used: np.ndarray, cap: float) -> np.ndarray:
        return used <= cap + _tol(cap)

    def capex(var: Var) -> float:
        if var.kind == "rack":
            return rtypes[var.key[1]].capex_usd
        if var.kind in ("unit", "site_unit"):
            return opts[var.key[1]].cost_usd
        if var.kind == "cluster":
            return 0.0  # forming a cluster costs nothing beyond its racks
        return halls[var.key[0]][2].cpu_racks.retire_cost_usd

    for h, (_s, _site, hall) in enumerate(halls):
        cpu = hall.cpu_racks
        count = cpu.count if cpu else 0
        cpu_kw = cpu.power_kw if cpu else 0.0
        cpu_gbps = cpu.network_gbps if cpu else 0.0

        def per_hall(rack_coef, unit_coef, cpu_coef, t, h=h):
            def term(var, seq):
                if var.kind in ("site_unit", "cluster") or var.key[0] != h:
                    return 0.0
                if var.kind == "rack":
                    return rack_coef(rtypes[var.key[1]]) * seq[t]
                if var.kind == "unit":
                    return unit_coef(opts[var.key[1]]) * seq[t]
                return -cpu_coef * seq[t]  # retirements free the CPU racks' share

            return term

        for t in range(T):
            space = lin.total(per_hall(lambda r: r.positions, lambda o: o.positions, 1, t), count)
            mask &= within(space, hall.positions)
            power = lin.total(
                per_hall(
                    lambda r: r.power_kw,
                    lambda o: -o.capacity if o.kind == "power" else 0.0,
                    cpu_kw,
                    t,
                ),
                count * cpu_kw,
            )
            mask &= within(power, hall.power_kw)
            net = lin.total(
                per_hall(
                    lambda r: gbps(sc, r),
                    lambda o: -o.capacity if o.kind == "fabric" else 0.0,
                    cpu_gbps,
                    t,
                ),
                count * cpu_gbps,
            )
            mask &= within(net, hall.fabric_gbps)

    have = installed_of(sc)  # paid for before the first period

    def before(var: Var, seq: tuple, t: int) -> int:
        return seq[t - 1] if t else have.get((var.kind, *var.key), 0)

    spend_total = np.zeros(lin.size)
    for t, budget in enumerate(sc.budgets()):
        spend = lin.total(lambda var, seq, t=t: capex(var) * (seq[t] - before(var, seq, t)))
        spend_total += spend
        if budget is not None:
            mask &= within(spend, budget)
    if sc.budget_usd_total is not None:
        mask &= within(spend_total, sc.budget_usd_total)
    if sc.gpu_targets is not None:
        for t, target in enumerate(sc.gpu_targets):
            gpus = lin.total(
                lambda var, seq, t=t: rtypes[var.key[1]].gpus * seq[t] if var.kind == "rack" else 0
            )
            mask &= gpus >= target - 1e-9
    mask &= _cluster_filters(sc, lin)
    if sc.compute_counts == "clustered":
        compute = lin.total(
            lambda var, seq: (
                rtypes[var.key[2]].pflops * cluster_size(sc, var.key[0], var.key[2]) * sum(seq)
                if var.kind == "cluster"
                else 0.0
            )
        )
    else:
        compute = lin.total(
            lambda var, seq: rtypes[var.key[1]].pflops * sum(seq) if var.kind == "rack" else 0.0
        )
    return mask, compute, spend_total


def _cluster_filters(sc: Scenario, lin: _Linear) -> np.ndarray:
    """Mask of candidates whose clusters' racks stand in their domain (no rack in two) and
    that meet the cluster targets. Linear in the decisions: checked on all at once."""
    halls = hall_list(sc)
    mask = np.ones(lin.size, dtype=bool)
    kinds = sc.cluster_kinds()
    if not kinds:
        return mask
    for t in range(sc.n_periods):
        for r in range(len(sc.rack_types)):
            places = [("hall", [h], h) for h in range(len(halls))]
            places += [("site", cluster_halls_of_site(sc, s), s) for s in range(len(sc.sites))]
            for scope, members, where in places:

                def term(var, seq, scope=scope, members=members, where=where, t=t, r=r):
                    if var.kind == "rack":
                        return -seq[t] if var.key[1] == r and var.key[0] in members else 0.0
                    if var.kind != "cluster" or var.key[2] != r:
                        return 0.0
                    c, d, _r = var.key
                    mine = cluster_halls(sc, c, d)
                    counts = (
                        set(mine) <= set(members)
                        if kinds[c].domain == "hall" or scope == "site"
                        else False
                    )
                    return cluster_size(sc, c, r) * seq[t] if counts else 0.0

                mask &= lin.total(term) <= 1e-9
        for c, kind in enumerate(kinds):
            if kind.targets:
                have = lin.total(
                    lambda var, seq, c=c, t=t: (
                        seq[t] if var.kind == "cluster" and var.key[0] == c else 0.0
                    )
                )
                mask &= have >= kind.targets[t] - 1e-9
    return mask


def cluster_halls_of_site(sc: Scenario, s: int) -> list[int]:
    return [h for h, (ss, _site, _hall) in enumerate(hall_list(sc)) if ss == s]


def _door_choices(
    sc: Scenario, hall, counts: dict, units: dict, strict: bool = True
) -> list[tuple[float, list]]:
    """Rear-door assignments of one hall in one period: ``[(heat behind doors kW,
    [(r, o, racks behind o)])]``; doors of an option <= its units. ``strict``: only the
    assignments the rules allow (racks above the hall's ``max_air_rack_kw`` all behind doors,
    a door takes a rack of at most its capacity), one per distinct door heat; otherwise
    every assignment of installed doors to air racks."""
    opts = sc.retrofits
    air = [(r, n) for r, n in counts.items() if n and sc.rack_types[r].cooling == "air"]
    doors = {o: u for o, u in units.items() if u and opts[o].kind == "rdhx"}
    found: dict = {}

    def assign(i: int, left: dict, chosen: list, heat: float) -> None:
        if i == len(air):
            found.setdefault(round(heat, 9) if strict else tuple(chosen), (heat, list(chosen)))
            return
        r, n = air[i]
        rack = sc.rack_types[r]
        usable = [o for o in doors if not strict or opts[o].capacity >= rack.power_kw]
        must = strict and rack.power_kw > hall.max_air_rack_kw
        for split in itertools.product(*(range(min(n, left[o]) + 1) for o in usable)):
            behind = sum(split)
            if behind > n or (must and behind < n):
                continue
            rest = dict(left)
            for o, z in zip(usable, split, strict=True):
                rest[o] -= z
            picks = [(r, o, z) for o, z in zip(usable, split, strict=True) if z]
            assign(i + 1, rest, chosen + picks, heat + behind * rack.power_kw)

    assign(0, doors, [], 0.0)
    return list(found.values())


@dataclass
class _HallPeriod:
    """What one hall holds in one period, before doors and the liquid split."""

    counts: dict  # r -> racks
    units: dict  # o -> units
    left: int  # CPU racks left
    liquid: float  # kW to liquid
    air: float  # kW into room air with no door and no AALC
    it: float  # kW of IT power


def _thermal(sc: Scenario, s: int, site, members: list, units: dict) -> tuple | None:
    """Doors and liquid split for one site in one period, or None when none fits.

    ``members``: ``[(h, hall, _HallPeriod)]`` of the site's halls; ``units``: site units.
    Returns ``{h: (door picks, qc, qa)}``."""
    opts = sc.retrofits

    def cap(units_: dict, kind: str) -> float:
        return sum(opts[o].capacity * u for o, u in units_.items() if opts[o].kind == kind)

    water_cap = site.facility_water_kw + cap(units, "site_water")
    feed_cap = None if site.feed_kw is None else site.feed_kw + cap(units, "site_feed")
    choices = [_door_choices(sc, hall, hp.counts, hp.units) for _h, hall, hp in members]
    for combo in itertools.product(*choices):
        bounds = []
        ok = True
        for (_h, hall, hp), (door_kw, _picks) in zip(members, combo, strict=True):
            air = hp.air - door_kw
            air_cap = hall.air_cooling_kw + cap(hp.units, "air_cooling")
            if not _le(air, air_cap):
                ok = False
                break
            lo = max(0.0, hp.liquid - cap(hp.units, "aalc"), hp.liquid - (air_cap - air))
            hi = min(hp.liquid, cap(hp.units, "cdu"))
            if lo > hi + _tol(hi):
                ok = False
                break
            bounds.append((lo, max(lo, hi)))
        if not ok:
            continue
        doors = sum(door_kw for door_kw, _ in combo)
        lo_s = sum(lo for lo, _ in bounds)
        hi_s = sum(hi for _, hi in bounds)
        totals = {lo_s, hi_s, water_cap - doors}
        slope = site.liquid_overhead - site.air_overhead
        fixed = (
            sum(
                hp.it + site.air_overhead * (hp.air - d + hp.liquid)
                for (_h, _hall, hp), (d, _) in zip(members, combo, strict=True)
            )
            + site.liquid_overhead * doors
        )
        if feed_cap is not None and slope:
            totals.add((feed_cap - fixed) / slope)
        for total in sorted(totals):
            total = min(max(total, lo_s), hi_s)
            if not _le(total + doors, water_cap):
                continue
            if feed_cap is not None and not _le(fixed + slope * total, feed_cap):
                continue
            out, rest = {}, total - lo_s
            for (h, _hall, hp), (lo, hi), (_d, picks) in zip(members, bounds, combo, strict=True):
                qc = lo + min(hi - lo, max(rest, 0.0))
                rest -= qc - lo
                qc = min(max(qc, 0.0), hp.liquid)
                out[h] = (picks, qc, hp.liquid - qc)
            return out
    return None


def _decode(sc: Scenario, variables: list[Var], choice: tuple) -> tuple[dict, Candidate]:
    """Rack counts ``{h: [{r: n} per period]}`` and a Candidate holding the units and
    retirements of the whole-number decisions ``choice`` (one sequence index per variable)."""
    T = sc.n_periods
    counts = defaultdict(lambda: [defaultdict(int) for _ in range(T)])  # h -> [r -> n]
    cand = Candidate()
    for var, i in zip(variables, choice, strict=True):
        seq = var.seqs[i]
        if var.kind == "rack":
            h, r = var.key
            for t in range(T):
                if seq[t]:
                    counts[h][t][r] = seq[t]
        elif var.kind == "unit":
            if any(seq):
                cand.units[var.key] = seq
        elif var.kind == "site_unit":
            if any(seq):
                cand.site_units[var.key] = seq
        elif var.kind == "cluster":
            if any(seq):
                cand.clusters[var.key] = seq
        elif any(seq):
            cand.retired[var.key[0]] = seq
    return counts, cand


def _complete(sc: Scenario, variables: list[Var], choice: tuple) -> Candidate | None:
    """The whole-number decisions ``choice`` completed with doors and a liquid split that
    pass every rule, or None when none does."""
    T = sc.n_periods
    halls = hall_list(sc)
    opts = sc.retrofits
    counts, cand = _decode(sc, variables, choice)
    for t in range(T):
        by_site = defaultdict(list)
        for h, (s, _site, hall) in enumerate(halls):
            cnt = counts[h][t]
            units = {o: seq[t] for (hh, o), seq in cand.units.items() if hh == h and seq[t]}
            # structure that no door or split can mend
            for o in units:
                if opts[o].kind in ("cdu", "rdhx") and not hall.facility_water:
                    return None
            if any(u > 1 for o, u in units.items() if opts[o].kind == "floor"):
                return None
            cpu = hall.cpu_racks
            left = (cpu.count if cpu else 0) - cand.retired.get(h, (0,) * T)[t]
            cpu_kw = cpu.power_kw if cpu else 0.0
            liquid = air = 0.0
            it = left * cpu_kw
            for r, n in cnt.items():
                rack = sc.rack_types[r]
                it += rack.power_kw * n
                if rack.weight_kg > hall.floor_kg_per_position and not any(
                    opts[o].kind == "floor" and opts[o].capacity >= rack.weight_kg for o in units
                ):
                    return None
                if rack.cooling == "liquid":
                    residual = (1 - rack.liquid_fraction) * rack.power_kw
                    if residual > hall.max_air_rack_kw + 1e-9:
                        return None
                    liquid += rack.liquid_fraction * rack.power_kw * n
                    air += residual * n
                else:
                    air += rack.power_kw * n
            air += left * cpu_kw
            by_site[s].append((h, hall, _HallPeriod(dict(cnt), units, left, liquid, air, it)))
        for s, members in by_site.items():
            site_units = {
                o: seq[t] for (ss, o), seq in cand.site_units.items() if ss == s and seq[t]
            }
            fit = _thermal(sc, s, sc.sites[s], members, site_units)
            if fit is None:
                return None
            for h, _hall, hp in members:
                picks, qc, qa = fit[h]
                behind = defaultdict(int)
                rows = []
                for r, o, z in picks:
                    rows.append((r, o, z))
                    behind[r] += z
                rows += [(r, None, n - behind[r]) for r, n in hp.counts.items() if n > behind[r]]
                cand.racks[h, t] = rows
                cand.to_cdu[h, t] = qc
                cand.to_aalc[h, t] = qa
    return cand


@dataclass
class Search:
    """The outcome of :func:`search`."""

    plan: Plan  # status "optimal", or "infeasible" with empty tables
    candidate: Candidate | None
    candidates: int  # whole-number candidates enumerated
    examined: int  # candidates checked one by one (after the linear rules)


def search(
    sc: Scenario, max_racks: Bound = None, max_units: Bound = None, fixed: dict | None = None
) -> Search:
    """The best plan within the bounds (see :func:`decision_space`), with the decisions in
    ``fixed`` pinned."""
    variables = decision_space(sc, max_racks, max_units, fixed)
    lin = _Linear(variables)
    mask, compute, spend = _linear_filters(sc, lin)
    idx = np.nonzero(mask)[0]
    if sc.objective == "max_compute":
        order = idx[np.lexsort((spend[idx], -compute[idx]))]
    else:
        order = idx[np.argsort(spend[idx], kind="stable")]
    examined = 0
    for flat in order:
        examined += 1
        choice = np.unravel_index(flat, lin.shape) if lin.shape else ()
        cand = _complete(sc, variables, tuple(int(i) for i in choice))
        if cand is None:
            continue
        broken = violations(sc, cand)
        if broken:  # _complete and violations() are this module's own two views of the rules
            raise RuntimeError(f"bruteforce internal error: completed plan breaks {broken}")
        plan = to_plan(sc, cand)
        assert math.isclose(plan.total_spend_usd, float(spend[flat]), rel_tol=1e-9, abs_tol=1e-6), (
            plan.total_spend_usd,
            spend[flat],
        )
        problems = plan.verify()
        if problems:
            raise Disagreement(
                "bruteforce accepts a plan that Plan.verify() rejects:\n"
                + "\n".join(map(str, problems))
                + f"\n{plan.racks}\n{plan.retrofits}\n{plan.halls}"
            )
        return Search(plan, cand, lin.size, examined)
    return Search(Plan(sc, "infeasible", solver="bruteforce"), None, lin.size, examined)


def _split_totals(sc: Scenario, site, members: list, door_kw: list, site_units: dict) -> list:
    """Liquid splits worth trying for one site in one period (see the module docstring):
    ``[{h: qc}]`` for the totals that send all it can to CDUs, all it can to AALC or up to
    the room-air slack, or make facility water or the feed tight. Computed without judging
    feasibility: ``Plan.verify`` judges."""
    opts = sc.retrofits

    def cap(units: dict, kind: str) -> float:
        return sum(opts[o].capacity * u for o, u in units.items() if opts[o].kind == kind)

    bounds = []
    for (_h, hall, hp), doors in zip(members, door_kw, strict=True):
        air_slack = hall.air_cooling_kw + cap(hp.units, "air_cooling") - (hp.air - doors)
        hi = min(hp.liquid, cap(hp.units, "cdu"))
        lo = min(max(0.0, hp.liquid - cap(hp.units, "aalc"), hp.liquid - air_slack), hi)
        bounds.append((max(lo, 0.0), max(hi, 0.0)))
    lo_s, hi_s = sum(b[0] for b in bounds), sum(b[1] for b in bounds)
    water_cap = site.facility_water_kw + cap(site_units, "site_water")
    totals = {lo_s, hi_s, water_cap - sum(door_kw)}
    slope = site.liquid_overhead - site.air_overhead
    if site.feed_kw is not None and slope:
        fixed = sum(
            hp.it + site.air_overhead * (hp.air - d + hp.liquid)
            for (_h, _hall, hp), d in zip(members, door_kw, strict=True)
        )
        fixed += site.liquid_overhead * sum(door_kw)
        totals.add((site.feed_kw + cap(site_units, "site_feed") - fixed) / slope)
    out = []
    for total in sorted(totals):
        rest = min(max(total, lo_s), hi_s) - lo_s
        split = {}
        for (h, _hall, _hp), (lo, hi) in zip(members, bounds, strict=True):
            split[h] = lo + min(hi - lo, max(rest, 0.0))
            rest -= split[h] - lo
        if split not in out:
            out.append(split)
    return out


def _completions(sc: Scenario, variables: list[Var], choice: tuple) -> Iterator[Candidate]:
    """Every completion of the whole-number decisions ``choice`` with door assignments
    (any installed door on any air rack, up to the units) and the liquid splits of
    :func:`_split_totals`, unjudged."""
    T = sc.n_periods
    halls = hall_list(sc)
    counts, base = _decode(sc, variables, choice)
    options = []  # per (site, period): [(h -> (door picks, qc, qa))]
    for t in range(T):
        by_site = defaultdict(list)
        for h, (s, _site, hall) in enumerate(halls):
            units = {o: seq[t] for (hh, o), seq in base.units.items() if hh == h and seq[t]}
            cpu = hall.cpu_racks
            left = (cpu.count if cpu else 0) - base.retired.get(h, (0,) * T)[t]
            cpu_kw = cpu.power_kw if cpu else 0.0
            cnt = counts[h][t]
            liquid_kw = sum(
                sc.rack_types[r].liquid_fraction * sc.rack_types[r].power_kw * n
                for r, n in cnt.items()
                if sc.rack_types[r].cooling == "liquid"
            )
            air = left * cpu_kw + sum(
                (1 - sc.rack_types[r].liquid_fraction) * sc.rack_types[r].power_kw * n
                for r, n in cnt.items()
            )
            it = left * cpu_kw + sum(sc.rack_types[r].power_kw * n for r, n in cnt.items())
            by_site[s].append((h, hall, _HallPeriod(dict(cnt), units, left, liquid_kw, air, it)))
        for s, members in by_site.items():
            site_units = {
                o: seq[t] for (ss, o), seq in base.site_units.items() if ss == s and seq[t]
            }
            here = []
            choices = [
                _door_choices(sc, hall, hp.counts, hp.units, strict=False)
                for _h, hall, hp in members
            ]
            for combo in itertools.product(*choices):
                door_kw = [heat for heat, _ in combo]
                for split in _split_totals(sc, sc.sites[s], members, door_kw, site_units):
                    here.append(
                        {
                            h: (picks, split[h], hp.liquid - split[h])
                            for (h, _hall, hp), (_heat, picks) in zip(members, combo, strict=True)
                        }
                    )
            options.append((t, here))
    for pick in itertools.product(*(here for _t, here in options)):
        cand = Candidate(units=base.units, site_units=base.site_units, retired=base.retired)
        for (t, _here), fit in zip(options, pick, strict=True):
            for h, (picks, qc, qa) in fit.items():
                behind = defaultdict(int)
                rows = list(picks)
                for r, _o, z in picks:
                    behind[r] += z
                rows += [(r, None, n - behind[r]) for r, n in counts[h][t].items() if n > behind[r]]
                cand.racks[h, t] = rows
                cand.to_cdu[h, t], cand.to_aalc[h, t] = qc, qa
        yield cand


def search_by_verify(
    sc: Scenario, max_racks: Bound = None, max_units: Bound = None, max_verify: int = 3000
) -> Search:
    """The literal brute force: every candidate in rank order, every completion of it
    (:func:`_completions`) written as a Plan, and the first that ``Plan.verify()`` passes
    wins. No rule of this module is applied. Slow (one verify() per completion): for the
    smallest scenarios only, to check :func:`search`."""
    variables = decision_space(sc, max_racks, max_units)
    lin = _Linear(variables)
    _mask, compute, spend = _linear_filters(sc, lin)
    if sc.objective == "max_compute":
        order = np.lexsort((spend, -compute))
    else:
        order = np.argsort(spend, kind="stable")
    verified = 0
    for examined, flat in enumerate(order, start=1):
        choice = np.unravel_index(flat, lin.shape) if lin.shape else ()
        for cand in _completions(sc, variables, tuple(int(i) for i in choice)):
            plan = to_plan(sc, cand)
            verified += 1
            if verified > max_verify:
                raise ValueError(f"more than {max_verify} plans to verify: not tiny enough")
            if not plan.verify():
                return Search(plan, cand, lin.size, examined)
    return Search(Plan(sc, "infeasible", solver="bruteforce"), None, lin.size, len(order))


def feasible_plans(
    sc: Scenario, keep=None, max_racks: Bound = None, max_units: Bound = None
) -> Iterator[Plan]:
    """Every plan within the bounds that passes every rule, one per whole-number candidate
    (its doors and liquid split as :func:`search` completes them), in enumeration order.
    ``keep(compute, spend)`` (arrays of every candidate's PFLOPS-periods and total spend,
    USD) narrows the candidates first, e.g. to those within a slack of the optimum."""
    variables = decision_space(sc, max_racks, max_units)
    lin = _Linear(variables)
    mask, compute, spend = _linear_filters(sc, lin)
    if keep is not None:
        mask &= keep(compute, spend)
    for flat in np.nonzero(mask)[0]:
        choice = np.unravel_index(flat, lin.shape) if lin.shape else ()
        cand = _complete(sc, variables, tuple(int(i) for i in choice))
        if cand is not None:
            yield to_plan(sc, cand, status="feasible")


def brute_force(sc: Scenario, max_racks: Bound = None, max_units: Bound = None) -> Plan:
    """The best plan of a tiny scenario by exhaustive search (status "optimal"), or a plan
    with status "infeasible" when no candidate within the bounds passes every rule."""
    return search(sc, max_racks, max_units).plan


# -- random plans, to check this module's rules against Plan.verify -------------------------
def random_candidates(
    sc: Scenario, rng, count: int, max_racks: int = 4, max_units: int = 3
) -> Iterator[Candidate]:
    """Random plans near the feasible region: mostly cumulative, doors mostly on air racks
    that need them, splits mostly summing to the liquid heat; with deliberate slips."""
    T = sc.n_periods
    halls = hall_list(sc)
    opts = sc.retrofits

    def seq(ub: int, lead: int = 0) -> tuple:
        if rng.random() < 0.8:
            values = sorted(rng.integers(0, ub + 1, size=T).tolist())
            if rng.random() < 0.8:
                values = [0 if t < lead else v for t, v in enumerate(values)]
            return tuple(values)
        return tuple(rng.integers(0, ub + 2, size=T).tolist())

    for _ in range(count):
        cand = Candidate()
        for h, (_s, _site, hall) in enumerate(halls):
            rack_seqs = {
                r: seq(min(max_racks, hall.positions // rack.positions), rack.lead_periods)
                for r, rack in enumerate(sc.rack_types)
                if rng.random() < 0.8
            }
            for o in hall_options(sc, hall):
                if rng.random() < 0.6:
                    cand.units[h, o] = seq(max_units, opts[o].lead_periods)
            cpu = hall.cpu_racks
            if cpu is not None and cpu.count and rng.random() < 0.6:
                cand.retired[h] = seq(cpu.count)
            rdhx = [o for o in hall_options(sc, hall) if opts[o].kind == "rdhx"]
            for t in range(T):
                rows = []
                for r, sq in rack_seqs.items():
                    n = sq[t]
                    rack = sc.rack_types[r]
                    if rack.cooling == "air" and rdhx and n and rng.random() < 0.7:
                        o = rdhx[int(rng.integers(len(rdhx)))]
                        z = int(rng.integers(0, n + 1))
                        if z:
                            rows.append((r, o, z))
                        if n - z:
                            rows.append((r, None, n - z))
                    else:
                        rows.append((r, None, n))
                cand.racks[h, t] = rows
                liquid = sum(
                    sc.rack_types[r].liquid_fraction * sc.rack_types[r].power_kw * n
                    for r, _o, n in rows
                    if sc.rack_types[r].cooling == "liquid"
                )
                share = float(rng.choice([0.0, 1.0, rng.random()]))
                qc = liquid * share
                qa = liquid - qc if rng.random() < 0.9 else liquid * float(rng.random())
                cand.to_cdu[h, t], cand.to_aalc[h, t] = qc, qa
        for s in range(len(sc.sites)):
            for o in site_options(sc):
                if rng.random() < 0.6:
                    cand.site_units[s, o] = seq(max_units, opts[o].lead_periods)
        yield cand


def mutate(sc: Scenario, cand: Candidate, rng, steps: int = 1) -> Candidate:
    """A copy of ``cand`` with ``steps`` small random changes (a rack more or less, a door
    moved, a unit more or less, a retirement more or less, a period shifted, the liquid split
    moved): plans on the edge of the feasible region, to compare :func:`violations` with
    ``Plan.verify`` where it matters."""
    T = sc.n_periods
    halls = hall_list(sc)
    opts = sc.retrofits
    new = Candidate(
        racks={k: list(v) for k, v in cand.racks.items()},
        units=dict(cand.units),
        site_units=dict(cand.site_units),
        retired=dict(cand.retired),
        to_cdu=dict(cand.to_cdu),
        to_aalc=dict(cand.to_aalc),
    )

    def bump(seq: tuple, t: int, delta: int) -> tuple:
        values = list(seq)
        if rng.random() < 0.5:  # from t on, keeping the sequence non-decreasing
            for k in range(t, T):
                values[k] = max(values[k] + delta, 0)
        else:
            values[t] = max(values[t] + delta, 0)
        return tuple(values)

    for _ in range(steps):
        h = int(rng.integers(len(halls)))
        t = int(rng.integers(T))
        delta = int(rng.choice([-1, 1]))
        what = int(rng.integers(7))
        rows = new.racks.setdefault((h, t), [])
        if what == 0:  # a rack more or less
            r = int(rng.integers(len(sc.rack_types)))
            same = [i for i, (rr, o, _n) in enumerate(rows) if rr == r and o is None]
            if same:
                i = same[0]
                rows[i] = (r, None, max(rows[i][2] + delta, 0))
            elif delta > 0:
                rows.append((r, None, 1))
        elif what == 1:  # a door moved on or off a rack, or to another option
            rdhx = [o for o in hall_options(sc, halls[h][2]) if opts[o].kind == "rdhx"]
            if rows and rdhx:
                i = int(rng.integers(len(rows)))
                r, o, n = rows[i]
                if n:
                    other = None if o is not None and rng.random() < 0.5 else int(rng.choice(rdhx))
                    rows[i] = (r, o, n - 1)
                    rows.append((r, other, 1))
        elif what == 2:  # a hall unit more or less
            options = hall_options(sc, halls[h][2])
            if options:
                o = int(rng.choice(options))
                new.units[h, o] = bump(new.units.get((h, o), (0,) * T), t, delta)
        elif what == 3:  # a site unit more or less
            options = site_options(sc)
            if options:
                s = halls[h][0]
                o = int(rng.choice(options))
                new.site_units[s, o] = bump(new.site_units.get((s, o), (0,) * T), t, delta)
        elif what == 4:  # a CPU rack retired more or less
            new.retired[h] = bump(new.retired.get(h, (0,) * T), t, delta)
        elif what == 5:  # the racks of a period copied to the period before or after
            u = t + delta
            if 0 <= u < T:
                new.racks[h, u] = list(rows)
        else:  # liquid heat moved between CDU and AALC (or lost)
            qc, qa = new.to_cdu.get((h, t), 0.0), new.to_aalc.get((h, t), 0.0)
            share = float(rng.random())
            if rng.random() < 0.7:
                moved = share * (qc if delta > 0 else qa)
                qc, qa = (qc - moved, qa + moved) if delta > 0 else (qc + moved, qa - moved)
            else:
                qc = qc * share
            new.to_cdu[h, t], new.to_aalc[h, t] = qc, qa
    return new
