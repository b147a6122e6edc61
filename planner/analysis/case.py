"""What a feasible-region picture holds fixed: everything in one hall (or a site's halls
pooled) and its site that a point (x racks of A, y of B) does not change."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..plan import Plan
from ..plan import accounting as acc
from ..scenario import Hall, RackType, Scenario, Site
from .common import find_hall, find_rack


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
