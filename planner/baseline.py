"""A rule-of-thumb baseline: the plan a capacity planner would draw up by hand.

:func:`greedy` fills the halls one rack at a time with the densest rack that fits, buying
whatever the next rack needs, the cheapest way, until the money or the hall runs out. It
uses no solver. Its plan obeys every rule (``plan.verify() == []``) and so never beats
:func:`planner.solve`; the difference is what the optimiser is worth on that scenario.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import pandas as pd

from . import accounting as acc
from .plan import Plan
from .scenario import Hall, RackType, Retrofit, Scenario, Site, load_scenario

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
                options = [
                    o
                    for o in sc.retrofits
                    if o.scope == "hall"
                    and (hall.retrofits is None or o.name in hall.retrofits)
                    and (hall.facility_water or o.kind not in ("cdu", "rdhx"))
                    and o.max_units != 0
                ]
                self.halls.append(_Hall(site_index, site, hall, options))
        self.site_options = [o for o in sc.retrofits if o.scope == "site" and o.max_units != 0]
        self.site_units: list[dict] = [{} for _ in sc.sites]
        self.budgets = sc.budgets()
        self.spent_total = 0.0
        self.spent = 0.0  # in the current period
        self.t = 0
        self.unrepaired = False  # some hall stayed over a limit it had as it stood
        for h in self.halls:
            self._settle(h, self.site_units[h.site_index], self._others(h))

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

    def _available(self, option: Retrofit, installed: int) -> int:
        """Units of an option that may still be bought this period (lead time, max_units)."""
        if self.t < option.lead_periods:
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
            if self._available(o, h.units.get(o.name, 0)) > 0
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
                        room = self._available(option, h.units.get(option.name, 0))
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
                    and self._available(o, 0) > 0
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


# -- the procedure --------------------------------------------------------------------------
def _ranked(sc: Scenario, mode: str) -> list[RackType]:
    """Rack types, densest first: most PFLOPS (GPUs for min_cost) per rack position, then
    most per dollar, then file order. Types that add nothing are left out."""

    def worth(rack: RackType) -> float:
        return rack.pflops if mode == "compute" else float(rack.gpus)

    useful = [r for r in sc.rack_types if worth(r) > 0]
    return sorted(
        useful,
        key=lambda r: (
            -worth(r) / r.positions,
            -(worth(r) / r.capex_usd if r.capex_usd > 0 else math.inf),
            sc.rack_types.index(r),
        ),
    )


def greedy(scenario: Scenario | str, deadline: float | None = None) -> Plan:
    """The rule-of-thumb plan a planner would draw up by hand, for comparison with
    :func:`planner.solve`. No solver is involved; every step is listed here.

    1. Rank the rack types, densest first: most PFLOPS per rack position (for ``min_cost``
       scenarios: most GPUs per position), ties broken by more PFLOPS (GPUs) per dollar, then file
       order. Racks with no PFLOPS (GPUs) are never bought.
    2. Period by period, start from everything standing at the end of the period before
       (racks, retrofit units and CPU retirements are never undone). Spend in the period
       is capped by its budget and by what is left of ``budget_usd_total``.
    3. For each hall in file order: if the hall or its site is over a limit as it stands
       (say the CPU racks draw more than the site's feed), first make the purchases of
       step 4c until every limit holds; what one hall cannot finish, the site's next hall
       continues, and a hall still over a limit gets no racks in that period. Then, for
       each rack type in rank order that has reached its ``lead_periods`` and could ever
       be placed in the hall (its cooling fits: an air rack within ``max_air_rack_kw`` or
       with a rear-door option rated for it; a liquid rack whose residual air heat is
       within ``max_air_rack_kw`` and that a CDU or AALC option may serve; a floor option
       strong enough if it is heavier than the floor), add racks of that type one at a
       time until one cannot be added; then go on to the next type, then the next hall.
    4. To add one rack, buy what it needs, in this order:

       a. a floor reinforcement if the rack is heavier than the floor rating and no
          installed one is strong enough (the cheapest option strong enough that the hall
          does not hold yet: over a weaker one, an upgrade);
       b. a rear door if it is an air rack above the hall's air limit (a free door already
          installed, else the cheapest option rated for the rack);
       c. then, while a limit is exceeded, take the first one short in the order space,
          power, liquid heat, room air, network, facility water (site), feed (site), and
          buy the cheapest single purchase that ends that shortfall: some units of one
          retrofit option, some CPU racks retired, or (room air) a rear door for the new
          rack. Candidates: space - retire CPU racks; power - ``power`` units or retiring;
          liquid heat - ``cdu``, ``aalc`` or ``site_water`` units; room air -
          ``air_cooling``, retiring, ``cdu`` or ``site_water`` units (which take liquid
          heat off AALC sidecars), or a door; network - ``fabric`` or retiring; facility
          water - ``site_water``; feed - ``site_feed`` or retiring. Only options allowed in
          the hall, past their lead time, under ``max_units`` and affordable count. If no
          purchase ends the shortfall, the one that reduces it most is bought and the
          loop goes on (at most 40 purchases per rack).

       Liquid heat goes to CDUs first, as far as their capacity and the site's water loop
       allow, the rest to AALC sidecars. If every limit holds and the rack plus its
       purchases fit the money left, they are kept; otherwise none of them is bought, and
       the hall moves on to its next rack type.
    5. For ``min_cost`` scenarios, stop adding racks in a period as soon as the GPUs
       operating reach its ``gpu_targets`` entry.

    ``deadline`` (a ``time.perf_counter()`` reading) stops adding racks once it has passed:
    the plan then holds what was placed by then (it still obeys every rule), and its
    message says so.

    Returns a :class:`~planner.Plan` with status ``"feasible"`` and solver ``"greedy"``,
    whose objective and spend are recomputed from its tables by
    :mod:`planner.accounting`; it verifies clean. If the rules of thumb miss a GPU target,
    or leave a hall over a limit it was over as it stood, the plan has status ``"error"``
    and says where (its tables are kept for inspection).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    start = time.perf_counter()
    mode = "compute" if sc.objective == "max_compute" else "targets"
    g = _Greedy(sc, mode)
    ranked = _ranked(sc, mode)
    rows_racks, rows_units, rows_halls = [], [], []
    previous_units: dict = {}
    cut_short = False
    for t, period in enumerate(sc.periods):
        g.t, g.spent = t, 0.0
        target = sc.gpu_targets[t] if (mode == "targets" and sc.gpu_targets) else None
        gpus = sum(
            n * rack.gpus
            for h in g.halls
            for (name, _), n in h.racks.items()
            for rack in sc.rack_types
            if rack.name == name
        )
        for index, h in enumerate(g.halls):
            if deadline is not None and time.perf_counter() > deadline:
                cut_short = True
                g.unrepaired = True  # halls not yet repaired may still be over a limit
                break
            if not g.repair(index):
                g.unrepaired = True  # over a limit as it stands: add no rack here now
                continue
            for rack in ranked:
                if target is not None and gpus >= target:
                    break
                if t < rack.lead_periods or not g.placeable(h, rack):
                    continue
                while (target is None or gpus < target) and g.try_add(index, rack):
                    gpus += rack.gpus
        for h in g.halls:
            site, hall = h.site.name, h.hall.name
            for (name, door), n in h.racks.items():
                if n:
                    rows_racks.append((site, hall, period, name, door, n))
            for name, n in h.units.items():
                if n:
                    kind = next(o.kind for o in h.options if o.name == name)
                    added = n - previous_units.get((site, hall, name), 0)
                    rows_units.append((site, hall, period, name, kind, n, added))
                    previous_units[site, hall, name] = n
            count = h.hall.cpu_racks.count if h.hall.cpu_racks else 0
            rows_halls.append(
                (site, hall, period, h.retired, count - h.retired, h.to_cdu, h.to_aalc)
            )
        for s, site in enumerate(sc.sites):
            for name, n in g.site_units[s].items():
                if n:
                    kind = next(o.kind for o in g.site_options if o.name == name)
                    added = n - previous_units.get((site.name, "", name), 0)
                    rows_units.append((site.name, "", period, name, kind, n, added))
                    previous_units[site.name, "", name] = n
    racks = pd.DataFrame(rows_racks, columns=acc.RACK_COLUMNS)
    retrofits = pd.DataFrame(rows_units, columns=acc.RETROFIT_COLUMNS)
    halls = pd.DataFrame(rows_halls, columns=acc.HALL_COLUMNS)
    spend = acc.spend(sc, racks, retrofits, halls)
    total = float(spend["total_usd"].sum())
    objective = float(acc.compute_pflops(sc, racks).sum()) if mode == "compute" else total
    plan = Plan(
        sc,
        "feasible",
        objective=objective,
        total_spend_usd=total,
        racks=racks,
        retrofits=retrofits,
        halls=halls,
        solver="greedy",
        message="rule-of-thumb baseline (planner.baseline.greedy): densest rack first, "
        "cheapest unlocking purchase, hall by hall within budget",
        solve_seconds=time.perf_counter() - start,
    )
    if cut_short:
        plan.message += "; stopped at its deadline with the racks placed by then"
    problems = plan.verify()
    if g.unrepaired and any(p.rule != "target" for p in problems):
        # the halls as they stand exceed a limit that no purchase in reach repairs
        plan.status = "error"
        plan.message = (
            "the halls as they stand exceed limits that the rule of thumb cannot repair "
            "(no retrofit or CPU retirement in reach of the budget fixes them): "
            + "; ".join(str(p) for p in problems if p.rule != "target")
        )
        return plan
    missed = [p for p in problems if p.rule == "target"]
    if len(missed) < len(problems):  # a bug in this module: never hand out such a plan
        raise RuntimeError(
            "the greedy baseline broke a rule: " + "; ".join(str(p) for p in problems)
        )
    if missed:
        plan.status = "error"
        plan.message = "the rule of thumb misses the GPU targets: " + "; ".join(
            f"{p.period}: {p.message}" for p in missed
        )
    return plan


def gap_line(optimum: Plan, baseline: Plan) -> str:
    """One sentence comparing a solved plan with the greedy baseline of its scenario:
    ``Rule-of-thumb baseline (greedy): N PFLOPS-periods; the optimiser finds X% more for
    the same budget`` (for ``min_cost``: the spend, and how much less the optimiser spends).
    """
    head = "Rule-of-thumb baseline (greedy)"
    if not baseline.has_plan:
        return f"{head}: no plan - {baseline.message}."
    mine, best = baseline.objective, optimum.objective
    if optimum.scenario.objective == "max_compute":
        said = f"{head}: {mine:,.6g} PFLOPS-periods"
        if math.isclose(best, mine, rel_tol=1e-6, abs_tol=1e-6):
            return f"{said}; the optimiser finds no more for the same budget"
        if best < mine:  # only when the solve stopped short of its optimum
            return (
                f"{said}; {(mine - best) / best:.2%} more than this plan, which the solver "
                f"stopped short of optimal (gap {optimum.gap or 0:.2%})"
            )
        if mine <= 0:
            return f"{said}; the optimiser finds {best:,.6g} for the same budget"
        return f"{said}; the optimiser finds {(best - mine) / mine:.1%} more for the same budget"
    said = f"{head}: ${mine:,.0f} to meet the GPU targets"
    if math.isclose(best, mine, rel_tol=1e-6, abs_tol=1e-3):
        return f"{said}; the optimiser spends no less"
    if best > mine:
        return (
            f"{said}; {(best - mine) / best:.2%} less than this plan, which the solver "
            f"stopped short of optimal (gap {optimum.gap or 0:.2%})"
        )
    return f"{said}; the optimiser spends {(mine - best) / mine:.1%} less"
