"""The state and the steps of the rule-of-thumb plan (:func:`planner.plan.baseline.greedy`):
halls as the plan stands, the purchases that relieve a short resource, and trial changes
that can be undone."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..scenario import Hall, RackType, Retrofit, Scenario, Site

#: the resources checked for the next rack, in this order; the first one short is fixed first
RESOURCES = ("space", "power", "liquid", "room_air", "network", "facility_water", "feed")
#: what can relieve a short resource: retrofit kinds, "retire" (CPU racks) and "door" (put
#: the new air rack behind a rear door, moving its heat from room air to the water loop)
REMEDIES = {
    "space": ("retire",),
    "power": ("power", "retire"),
    "liquid": ("cdu", "aalc", "site_water"),
    "room_air": ("air_cooling", "retire", "cdu", "site_water", "door"),
    "network": ("fabric", "retire"),
    "facility_water": ("site_water",),
    "feed": ("site_feed", "retire"),
}
#: purchases tried for one rack before giving up on it
MAX_STEPS = 40
_EPS = 1e-9


def _short(used: float, cap: float) -> float:
    """How much ``used`` exceeds ``cap`` (0 when within it, with a tiny tolerance)."""
    over = used - cap
    return over if over > _EPS * max(1.0, abs(cap)) else 0.0


@dataclass
class _Hall:
    """One hall as the greedy plan stands, with running totals of its racks' loads."""

    site_index: int
    site: Site
    hall: Hall
    options: list[Retrofit]  # hall-scope options that may be installed here
    frozen: frozenset = frozenset()  # options installed here that the hall does not list
    racks: dict = field(default_factory=dict)  # (rack type, door option or "") -> count
    units: dict = field(default_factory=dict)  # hall-scope option -> units installed
    doors_used: dict = field(default_factory=dict)  # rdhx option -> racks behind it
    retired: int = 0
    rack_positions: float = 0.0
    rack_power: float = 0.0
    liquid: float = 0.0  # heat of liquid racks sent to liquid
    residual: float = 0.0  # heat of liquid racks left in room air
    air_open: float = 0.0  # heat of air racks not behind a door
    door_heat: float = 0.0  # heat of air racks behind doors (to the water loop)
    network: float = 0.0
    caps: dict = field(default_factory=dict)  # hall kind -> capacity added by units
    unit_positions: float = 0.0
    to_cdu: float = 0.0
    to_aalc: float = 0.0
    water_use: float = 0.0  # kW this hall sends to the site water loop
    feed_use: float = 0.0  # kW of site feed this hall draws

    def copy(self) -> _Hall:
        new = _Hall(**self.__dict__)
        new.racks = dict(self.racks)
        new.units = dict(self.units)
        new.doors_used = dict(self.doors_used)
        new.caps = dict(self.caps)
        return new


class _Greedy:
    """State and steps of :func:`greedy` (see its docstring for the procedure)."""

    def __init__(self, sc: Scenario, mode: str):
        self.sc = sc
        self.mode = mode  # "compute" (max_compute) or "targets" (min_cost)
        self.gbps = {
            r.name: r.network_gbps
            if r.network_gbps is not None
            else r.network_multiple * (sc.reference_rack.network_gbps if sc.reference_rack else 0)
            for r in sc.rack_types
        }
        self.halls: list[_Hall] = []
        for site_index, site in enumerate(sc.sites):
            for hall in site.halls:
                self.halls.append(self._as_it_stands(site_index, site, hall))
        self.site_options = [o for o in sc.retrofits if o.scope == "site" and o.max_units != 0]
        self.site_units: list[dict] = [dict(site.installed_units()) for site in sc.sites]
        self.budgets = sc.budgets()
        self.spent_total = 0.0
        self.spent = 0.0  # in the current period
        self.t = 0
        self.unrepaired = False  # some hall stayed over a limit it had as it stood
        for h in self.halls:
            self._settle(h, self.site_units[h.site_index], self._others(h))

    def _as_it_stands(self, site_index: int, site: Site, hall: Hall) -> _Hall:
        """A hall with what is already installed in it (MODEL.md section 6)."""
        sc = self.sc
        units = hall.installed_units()
        options = [o for o in sc.hall_options(hall) if o.max_units != 0]
        h = _Hall(site_index, site, hall, options, frozenset(hall.installed_only()))
        for option in options:
            if units.get(option.name):
                _buy_hall(h, option)(units[option.name])
        racks = {r.name: r for r in sc.rack_types}
        for name, door, n in hall.installed_racks():
            for _ in range(n):
                _place(h, racks[name], door, self.gbps[name])
            if door:
                h.doors_used[door] = h.doors_used.get(door, 0) + n
        return h

    # -- money ----------------------------------------------------------------------------
    def money_left(self) -> float:
        period = self.budgets[self.t]
        left = math.inf if period is None else period - self.spent
        if self.sc.budget_usd_total is not None:
            left = min(left, self.sc.budget_usd_total - self.spent_total)
        return left

    # -- loads ----------------------------------------------------------------------------
    def _others(self, h: _Hall) -> tuple[float, float]:
        """Water and feed (kW) the site's other halls use."""
        water = feed = 0.0
        for other in self.halls:
            if other is not h and other.site_index == h.site_index:
                water += other.water_use
                feed += other.feed_use
        return water, feed

    def _site_cap(self, site: Site, units: dict, kind: str) -> float:
        return sum(o.capacity * units.get(o.name, 0) for o in self.site_options if o.kind == kind)

    def _loads(self, h: _Hall, site_units: dict, others: tuple[float, float]) -> dict:
        """Used and capacity of every resource of the hall (and its site) as ``h`` stands,
        with the liquid heat split: CDUs first (as far as the water loop allows), then AALC."""
        hall, site = h.hall, h.site
        cpu = hall.cpu_racks
        left = cpu.count - h.retired if cpu else 0
        cpu_kw = left * cpu.power_kw if cpu else 0.0
        cpu_gbps = left * cpu.network_gbps if cpu else 0.0
        caps = h.caps
        water_cap = site.facility_water_kw + self._site_cap(site, site_units, "site_water")
        avail = water_cap - others[0] - h.door_heat
        to_cdu = max(0.0, min(h.liquid, caps.get("cdu", 0.0), avail))
        to_aalc = h.liquid - to_cdu
        power = cpu_kw + h.rack_power
        air = cpu_kw + h.residual + h.air_open + to_aalc
        water = h.door_heat + to_cdu
        feed = power + site.air_overhead * air + site.liquid_overhead * water
        feed_cap = (
            math.inf
            if site.feed_kw is None
            else site.feed_kw + self._site_cap(site, site_units, "site_feed")
        )
        return {
            "split": (to_cdu, to_aalc),
            "hall_water": water,
            "hall_feed": feed,
            "space": (left + h.rack_positions + h.unit_positions, hall.positions),
            "power": (power, hall.power_kw + caps.get("power", 0.0)),
            "liquid": (to_aalc, caps.get("aalc", 0.0)),
            "room_air": (air, hall.air_cooling_kw + caps.get("air_cooling", 0.0)),
            "network": (cpu_gbps + h.network, hall.fabric_gbps + caps.get("fabric", 0.0)),
            "facility_water": (others[0] + water, water_cap),
            "feed": (others[1] + feed, feed_cap),
        }

    def _shortfall(self, h, site_units, others, resource: str) -> float:
        used, cap = self._loads(h, site_units, others)[resource]
        return _short(used, cap)

    def _first_short(self, h, site_units, others) -> str | None:
        loads = self._loads(h, site_units, others)
        for resource in RESOURCES:
            if _short(*loads[resource]):
                return resource
        return None

    def _settle(self, h: _Hall, site_units: dict, others) -> None:
        loads = self._loads(h, site_units, others)
        h.to_cdu, h.to_aalc = loads["split"]
        h.water_use, h.feed_use = loads["hall_water"], loads["hall_feed"]

    # -- placing one rack -----------------------------------------------------------------
    def placeable(self, h: _Hall, rack: RackType) -> bool:
        """Whether the hall could ever take this rack type (with the retrofits it may have)."""
        hall = h.hall
        kinds = {o.kind for o in h.options}
        if rack.cooling == "liquid":
            if (1 - rack.liquid_fraction) * rack.power_kw > hall.max_air_rack_kw + _EPS:
                return False
            if not kinds & {"cdu", "aalc"}:
                return False
        elif rack.power_kw > hall.max_air_rack_kw and not any(
            o.kind == "rdhx" and o.capacity >= rack.power_kw for o in h.options
        ):
            return False
        return rack.weight_kg <= hall.floor_kg_per_position or any(
            o.kind == "floor" and o.capacity >= rack.weight_kg for o in h.options
        )

    def _available(self, option: Retrofit, installed: int, h: _Hall | None = None) -> int:
        """Units of an option that may still be bought this period (lead time, max_units;
        none of an option that hall ``h`` holds but does not list)."""
        if self.t < option.lead_periods or (h is not None and option.name in h.frozen):
            return 0
        if option.max_units is None:
            return 10**9
        return max(option.max_units - installed, 0)

    def _affordable(self, option_cost: float, spend: float, room: int) -> int:
        left = self.money_left() - spend
        if option_cost <= 0 or math.isinf(left):
            return room
        return min(room, int(math.floor(left / option_cost + 1e-9)))

    def _door_for(self, h: _Hall, power_kw: float, spend: float) -> tuple[Retrofit, bool] | None:
        """A rear door for an air rack: a free one already installed (smallest adequate),
        else the cheapest adequate option that can be bought. ``(option, buy)``."""
        adequate = [o for o in h.options if o.kind == "rdhx" and o.capacity >= power_kw]
        free = [o for o in adequate if h.units.get(o.name, 0) > h.doors_used.get(o.name, 0)]
        if free:
            return min(free, key=lambda o: (o.capacity, o.cost_usd)), False
        buyable = [
            o
            for o in adequate
            if self._available(o, h.units.get(o.name, 0), h) > 0
            and self._affordable(o.cost_usd, spend, 1) > 0
        ]
        if buyable:
            return min(buyable, key=lambda o: (o.cost_usd, o.capacity)), True
        return None

    def _remedies(self, h: _Hall, site_units: dict, rack, door: str, resource: str, spend):
        """Each way to relieve a short resource: ``(cost per unit, units available,
        apply(k), door)`` where ``apply(k)`` changes the trial and returns a function that
        undoes it, and ``door`` is the rear door the new rack then sits behind ("" if none).
        """
        found = []
        for kind in REMEDIES[resource]:
            if kind == "retire":
                cpu = h.hall.cpu_racks
                if cpu is None or cpu.retire_cost_usd is None or cpu.count == h.retired:
                    continue
                room = self._affordable(cpu.retire_cost_usd, spend, cpu.count - h.retired)
                found.append((cpu.retire_cost_usd, room, _retire(h), ""))
            elif kind == "door":
                if rack is None or rack.cooling != "air" or door:
                    continue
                choice = self._door_for(h, rack.power_kw, spend)
                if choice is not None:
                    option, buy = choice
                    cost = option.cost_usd if buy else 0.0
                    found.append((cost, 1, _door(h, rack, option, buy), option.name))
            elif kind in ("site_water", "site_feed"):
                for option in self.site_options:
                    if option.kind == kind:
                        room = self._available(option, site_units.get(option.name, 0))
                        room = self._affordable(option.cost_usd, spend, room)
                        found.append((option.cost_usd, room, _buy_site(site_units, option), ""))
            else:
                for option in h.options:
                    if option.kind == kind:
                        room = self._available(option, h.units.get(option.name, 0), h)
                        room = self._affordable(option.cost_usd, spend, room)
                        found.append((option.cost_usd, room, _buy_hall(h, option), ""))
        return [r for r in found if r[1] >= 1]

    def _best_remedy(self, h, site_units, others, rack, door, resource, spend):
        """The cheapest purchase that ends the shortfall of ``resource`` (fewest units of
        one option, or CPU racks retired, or a door for the new rack); if none can, the one
        that reduces it most (then the cheapest). ``(cost, apply, units, door)`` or None
        when nothing helps."""
        before = self._shortfall(h, site_units, others, resource)
        ranked = []
        for order, (cost, room, apply, door_option) in enumerate(
            self._remedies(h, site_units, rack, door, resource, spend)
        ):

            def short_with(k: int, apply=apply) -> float:
                undo = apply(k)
                value = self._shortfall(h, site_units, others, resource)
                undo()
                return value

            at_most = short_with(room)
            if at_most >= before - _EPS * max(1.0, before):
                continue  # does not help
            lo, hi = 1, room  # the fewest units that reach ``at_most``
            while lo < hi:
                mid = (lo + hi) // 2
                if short_with(mid) <= at_most + _EPS * max(1.0, at_most):
                    hi = mid
                else:
                    lo = mid + 1
            # full fixes first, by cost; then partial ones, by the shortfall left and cost
            ranked.append(
                ((at_most > 0, at_most, cost * lo, order), cost * lo, apply, lo, door_option)
            )
        if not ranked:
            return None
        _, cost, apply, k, door_option = min(ranked, key=lambda r: r[0])
        return cost, apply, k, door_option

    def try_add(self, index: int, rack: RackType) -> bool:
        """Add one rack of ``rack`` to hall ``index`` with whatever it needs, or change
        nothing. Returns whether the rack was added."""
        h = self.halls[index].copy()
        site_units = dict(self.site_units[h.site_index])
        others = self._others(self.halls[index])
        hall = h.hall
        spend = rack.capex_usd
        if spend > self.money_left() + _EPS:
            return False
        # floor: a rack heavier than the rating needs a reinforcement strong enough; the
        # strongest installed one counts, and a weaker one can be upgraded
        if rack.weight_kg > hall.floor_kg_per_position:
            floors = [o for o in h.options if o.kind == "floor"]
            installed = [o for o in floors if h.units.get(o.name, 0) > 0]
            if not any(o.capacity >= rack.weight_kg for o in installed):
                buyable = [
                    o
                    for o in floors
                    if o.capacity >= rack.weight_kg
                    and o not in installed
                    and self._available(o, 0, h) > 0
                    and self._affordable(o.cost_usd, spend, 1) > 0
                ]
                if not buyable:
                    return False
                option = min(buyable, key=lambda o: (o.cost_usd, -o.capacity))
                _buy_hall(h, option)(1)
                spend += option.cost_usd
        # rear door: an air rack above the hall's air limit must sit behind one
        door = ""
        if rack.cooling == "air" and rack.power_kw > hall.max_air_rack_kw:
            choice = self._door_for(h, rack.power_kw, spend)
            if choice is None:
                return False
            option, buy = choice
            if buy:
                _buy_hall(h, option)(1)
                spend += option.cost_usd
            door = option.name
            h.doors_used[door] = h.doors_used.get(door, 0) + 1
        _place(h, rack, door, self.gbps[rack.name])
        return self._fix(index, h, site_units, others, rack, door, spend)

    def repair(self, index: int) -> bool:
        """Bring hall ``index`` (and its site) within every limit before racks are added,
        by the same purchases as for a rack (e.g. retiring CPU racks when the site's feed
        is over its cap as the halls stand). Returns whether every limit now holds."""
        h = self.halls[index].copy()
        site_units = dict(self.site_units[h.site_index])
        others = self._others(self.halls[index])
        if self._first_short(h, site_units, others) is None:
            return True
        return self._fix(index, h, site_units, others, None, "", 0.0, partial=True)

    def _fix(self, index, h, site_units, others, rack, door, spend, partial=False) -> bool:
        """Buy what the trial ``h`` needs until every limit holds, then keep it; or keep
        nothing (``partial``: keep what was bought, so that the site's next hall can finish
        a site-wide repair). Returns whether every limit holds."""
        for _ in range(MAX_STEPS):
            resource = self._first_short(h, site_units, others)
            if resource is None:
                if spend > self.money_left() + _EPS * max(1.0, spend):
                    return False
                self._commit(index, h, site_units, others, spend)
                return True
            remedy = self._best_remedy(h, site_units, others, rack, door, resource, spend)
            if remedy is None:
                break
            cost, apply, k, door_option = remedy
            apply(k)
            spend += cost
            door = door_option or door
        if partial and spend > 0:
            self._commit(index, h, site_units, others, spend)
        return False

    def _commit(self, index: int, h: _Hall, site_units: dict, others, spend: float) -> None:
        self._settle(h, site_units, others)
        self.halls[index] = h
        self.site_units[h.site_index] = site_units
        self.spent += spend
        self.spent_total += spend


# -- trial changes (each returns a function undoing it) ------------------------------------
def _place(h: _Hall, rack: RackType, door: str, gbps: float) -> None:
    key = (rack.name, door)
    h.racks[key] = h.racks.get(key, 0) + 1
    h.rack_positions += rack.positions
    h.rack_power += rack.power_kw
    h.network += gbps
    if rack.cooling == "liquid":
        h.liquid += rack.liquid_fraction * rack.power_kw
        h.residual += (1 - rack.liquid_fraction) * rack.power_kw
    elif door:
        h.door_heat += rack.power_kw
    else:
        h.air_open += rack.power_kw


def _buy_hall(h: _Hall, option: Retrofit):
    def apply(k: int):
        h.units[option.name] = h.units.get(option.name, 0) + k
        h.unit_positions += k * option.positions
        if option.kind not in ("rdhx", "floor"):
            h.caps[option.kind] = h.caps.get(option.kind, 0.0) + k * option.capacity

        def undo():
            apply(-k)

        return undo

    return apply


def _buy_site(site_units: dict, option: Retrofit):
    def apply(k: int):
        site_units[option.name] = site_units.get(option.name, 0) + k

        def undo():
            site_units[option.name] -= k

        return undo

    return apply


def _retire(h: _Hall):
    def apply(k: int):
        h.retired += k

        def undo():
            h.retired -= k

        return undo

    return apply


def _door(h: _Hall, rack: RackType, option: Retrofit, buy: bool):
    """Move the new (last placed) air rack behind a door of ``option``."""

    def apply(k: int):
        assert k == 1
        if buy:
            _buy_hall(h, option)(1)
        h.racks[rack.name, ""] -= 1
        h.racks[rack.name, option.name] = h.racks.get((rack.name, option.name), 0) + 1
        h.doors_used[option.name] = h.doors_used.get(option.name, 0) + 1
        h.air_open -= rack.power_kw
        h.door_heat += rack.power_kw

        def undo():
            h.door_heat -= rack.power_kw
            h.air_open += rack.power_kw
            h.doors_used[option.name] -= 1
            h.racks[rack.name, option.name] -= 1
            h.racks[rack.name, ""] += 1
            if buy:
                _buy_hall(h, option)(-1)

        return undo

    return apply
