"""The decision variables of the retrofit MILP (see :mod:`planner.model.core` for the
symbols), and the variables of gifted units used to value retrofits."""

from __future__ import annotations

import pulp

from .core import RetrofitModel


def add_variables(m: RetrofitModel) -> None:
    """Create every decision, none before its ``lead_periods`` index except what is already
    installed (MODEL.md section 6), which stands from period 0 and bounds it from below.

    Bounds: racks by positions, units by ``max_units`` (floor: one unit of each option),
    retirements by the CPU rack count; installed counts as a lower bound, and before the
    lead time (or for an installed option the hall does not list) as the upper bound too.
    """
    sc, idx, prob = m.scenario, m.index, m.prob
    integer = pulp.LpInteger
    for h, (_, _, hall) in enumerate(idx.halls):
        for o in idx.hall_options[h]:
            opt = sc.retrofits[o]
            have = idx.installed_units[h].get(o, 0)
            ub = opt.max_units
            if opt.kind == "floor":  # units do not stack: at most one of each floor option
                ub = 1 if ub is None else min(ub, 1)
            if opt.positions:
                by_space = hall.positions // opt.positions
                ub = by_space if ub is None else min(ub, by_space)
            if (h, o) in idx.frozen:
                ub = have
            ub = None if ub is None else max(ub, have)
            for t in range(idx.first_period(opt.lead_periods, have), sc.n_periods):
                top = have if t < opt.lead_periods else ub
                m.u[h, o, t] = prob.add_variable(f"u_{h}_{o}_{t}", have, top, integer)
        for r in idx.racks[h]:
            rack = sc.rack_types[r]
            have = idx.installed_racks[h].get(r, 0)
            cap = max((hall.positions // rack.positions) * stretch(m), have)
            for t in range(idx.first_period(rack.lead_periods, have), sc.n_periods):
                top = have if t < rack.lead_periods else cap
                m.n[h, r, t] = prob.add_variable(f"n_{h}_{r}_{t}", have, top, integer)
                if rack.cooling == "air":
                    for o in idx.rdhx_for(h, rack):
                        if (h, o, t) in m.u:
                            z = prob.add_variable(f"z_{h}_{r}_{o}_{t}", 0, top, integer)
                            m.z[h, r, o, t] = z
                            m.z_at[h, t].append((r, o, z))
        cpu = hall.cpu_racks
        if cpu is not None and cpu.count > 0 and cpu.retire_cost_usd is not None:
            for t in m.periods:
                m.x[h, t] = prob.add_variable(f"x_{h}_{t}", 0, cpu.count, integer)
        if any(sc.rack_types[r].cooling == "liquid" for r in idx.racks[h]):
            for t in m.periods:
                if idx.options(h, "cdu"):
                    m.qc[h, t] = prob.add_variable(f"qc_{h}_{t}", 0, None)
                if idx.options(h, "aalc"):
                    m.qa[h, t] = prob.add_variable(f"qa_{h}_{t}", 0, None)
    for s in range(len(sc.sites)):
        for o in idx.site_options:
            opt = sc.retrofits[o]
            have = idx.installed_site[s].get(o, 0)
            ub = None if opt.max_units is None else max(opt.max_units, have)
            for t in range(idx.first_period(opt.lead_periods, have), sc.n_periods):
                top = have if t < opt.lead_periods else ub
                m.w[s, o, t] = prob.add_variable(f"w_{s}_{o}_{t}", have, top, integer)


#: how far the elastic model may go past a hall's positions (space may be short there)
ELASTIC_STRETCH = 10


def stretch(m: RetrofitModel) -> int:
    """Upper bounds by positions are the space rule's: in the elastic model, where space may
    be short, they are ``ELASTIC_STRETCH`` times wider."""
    return ELASTIC_STRETCH if m.elastic else 1


def add_cluster_variables(m: RetrofitModel) -> None:
    """``k[c,d,r,t]``: clusters of kind c made of rack type r operating in domain d (a hall,
    or a site) in period t, whole and cumulative, none before type r's ``lead_periods``
    (unless racks of type r are installed in the domain);
    at most as many as the domain's positions hold: ``k <= sum_h ub(n[h,r]) / R[c,r]``."""
    sc, idx, prob = m.scenario, m.index, m.prob
    for c, kind in enumerate(sc.cluster_kinds()):
        for rack in sc.cluster_rack_types(kind):
            r = sc.rack_types.index(rack)
            need = idx.cluster_racks(c, r)
            for d in idx.cluster_domains(c, r):
                halls = [d] if kind.domain == "hall" else idx.site_halls[d]
                most = sum(
                    idx.halls[h][2].positions // rack.positions for h in halls if r in idx.racks[h]
                )
                cap = (most // need) * stretch(m)
                if cap < 1:
                    continue
                have = sum(idx.installed_racks[h].get(r, 0) for h in halls)
                for t in range(idx.first_period(rack.lead_periods, have), sc.n_periods):
                    m.k[c, d, r, t] = prob.add_variable(
                        f"k_{c}_{d}_{r}_{t}", 0, cap, pulp.LpInteger
                    )


def add_gifts(m: RetrofitModel) -> None:
    """Gifted units: a Gift of option o from period t0 is a binary ``g`` (taken or not), with
    ``u[h,o,t] >= g`` for ``t >= t0``, one more unit than ``max_units`` allows, and its price
    ``cost[o] g`` taken off the spend of t0 by :func:`add_budget`: a unit at no cost that the
    plan may use."""
    for i, gift in enumerate(m.gifts):
        store, where = (m.u, gift.hall) if gift.hall is not None else (m.w, gift.site)
        g = m.prob.add_variable(f"g_{i}", 0, 1, pulp.LpInteger)
        m.gift_vars.append((gift, g))
        for t in range(gift.period, m.scenario.n_periods):
            var = store.get((where, gift.option, t))
            if var is None:
                raise ValueError(f"{gift} names an option that cannot be installed there")
            if var.upBound is not None:
                var.upBound += 1
            m.add([(var, 1.0), (g, -1.0)], pulp.LpConstraintGE, 0.0, f"gift_{i}_{t}")
