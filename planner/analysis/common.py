"""What the analyses share: retrofit sets and rule labels, one-period snapshots of a plan,
and finding halls, sites and rack types by name."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Literal

import pandas as pd

from ..model import Index
from ..plan import Plan
from ..plan import accounting as acc
from ..plan.accounting import RESOURCE_LABELS  # noqa: F401 - re-exported
from ..plan.binding import BINDING_SHARE  # noqa: F401 - re-exported
from ..plan.verify import ABS, REL
from ..scenario import Hall, RackType, Scenario, Site
from ..solving import SolveOptions, solve
from ..solving.pool import solve_many, threads_per_worker, workers_for
from ..solving.progress import progress_bar

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


def mode_label(mode: str, scope: str = "hall") -> str:
    """A retrofit set's label; in a site's picture "as it stands" is the site's."""
    label = MODE_LABELS[mode]
    return label.replace("the hall", "the site") if scope == "site" else label


def _tol(cap: float) -> float:
    """The tolerance ``Plan.verify`` allows on a continuous quantity."""
    return max(ABS, REL * abs(cap))


def _over(used: float, cap: float) -> bool:
    return used > cap + _tol(cap)


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
    no GPU targets and no training clusters (every rack counts: the pictures made from a
    snapshot are of the racks that fit, which clusters do not change)."""
    t = period_index(sc, period)
    data = sc.model_dump()
    data["periods"] = [sc.periods[t]]
    budgets = sc.budgets()[: t + 1]
    data["budget_usd_per_period"] = None if any(b is None for b in budgets) else sum(budgets)
    data["objective"] = "max_compute"
    data["gpu_targets"] = None
    data["clusters"] = None
    data["compute_counts"] = "all"
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


def _solve_one(sc: Scenario, options: SolveOptions) -> Plan:
    """One solve, for a worker process."""
    return solve(sc, options)


def solve_all(
    scenarios: list[Scenario],
    options: SolveOptions,
    label: str = "Solving",
    workers: int | None = None,
    progress: bool = True,
    seconds_each: float | None = None,
) -> list[Plan]:
    """:func:`planner.solve` of each scenario, at the same time in ``workers`` processes
    (None: one per core; see :func:`planner.solving.pool.solve_many`), each with
    ``cores // workers`` solver threads, with a progress bar of solves done and left.

    Quick solves stay in this process (a worker takes about a second to start):
    ``seconds_each`` is what one is expected to take (say, the plan's own solve); when
    unknown, the first scenario is solved here and its time decides for the rest."""
    if not scenarios:
        return []
    with progress_bar(len(scenarios), label, progress and len(scenarios) > 1, "solve") as step:
        first: list[Plan] = []
        if seconds_each is None and workers is None:
            began = time.perf_counter()
            first = [solve(scenarios[0], options)]
            seconds_each = time.perf_counter() - began
            step()
        rest = scenarios[len(first) :]
        count = workers_for(len(rest), seconds_each, workers)
        each = options.replace(threads=options.threads or threads_per_worker(count))
        return first + solve_many(
            _solve_one, [(sc, each) for sc in rest], count, lambda done, total: step()
        )
