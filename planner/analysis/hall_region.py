"""A hall's feasible region with its retrofit units held: each point decided by building
its tables and checking them (planner.plan.accounting, or Plan.verify), never by the MILP."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..plan import Plan
from ..plan import accounting as acc
from ..plan.verify import ABS
from ..scenario import Hall, RackType
from .case import _Case
from .common import RULE_LABELS, RULE_UNITS, _over, _tol
from .doors import _completion, _doors_at_least, _thermal


def _broken(case: _Case, st: acc.HallState, x: int, y: int) -> list[str]:
    """Rules the hall state breaks, from planner.plan.accounting's usage and the rules of
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
