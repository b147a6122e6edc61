"""A site's picture: its halls pooled into one for drawing each rule's boundary as a site
total (the region itself is decided by the MILP, :mod:`.milp_region`)."""

from __future__ import annotations

from collections import defaultdict

from ..plan import Plan
from ..plan import accounting as acc
from ..scenario import Hall, RackType, Site
from .case import _budget_cap, _Case, _site_caps


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
