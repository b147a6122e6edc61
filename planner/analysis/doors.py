"""For one point of a hall's picture: the rear-door assignment and liquid split that make
it pass every cooling rule, if any (the hall's own thermal choices are the point's)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..plan import accounting as acc
from ..scenario import RackType
from .case import _Case
from .common import _tol


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
