"""The rules of the retrofit MILP, one function per rule family (MODEL.md section 2).

Each function adds its rows to the problem and nothing else; its docstring states its rule
in maths, with units. :data:`RULES` lists them in the order :func:`planner.model.build`
calls them.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from .core import MONEY, Limit, RetrofitModel, expr, rack_gbps


def add_cumulative(m: RetrofitModel) -> None:
    """Nothing deployed, installed, retired or formed is undone:
    ``v[.., t] >= v[.., t-1]`` for racks n, units u and w, retirements x and clusters k."""
    for store, tag in ((m.n, "n"), (m.u, "u"), (m.w, "w"), (m.x, "x"), (m.k, "k")):
        for key, var in store.items():
            prev = key[:-1] + (key[-1] - 1,)
            if prev in store:
                name = "cum" + tag + "_" + "_".join(map(str, key))
                m.add([(var, 1.0), (store[prev], -1.0)], pulp.LpConstraintGE, 0.0, name)


def add_space(m: RetrofitModel) -> None:
    """Space (positions): ``sum_r positions[r] n[h,r,t] + sum_o positions[o] u[h,o,t]
    + (CPU racks left) <= positions[h]``."""
    sc = m.scenario
    for h, (s, _, hall) in enumerate(m.index.halls):
        for t in m.periods:
            terms = [(v, rack.positions) for rack, v in m.racks(h, t)]
            terms += [
                (m.u[h, o, t], sc.retrofits[o].positions)
                for o in m.index.hall_options[h]
                if (h, o, t) in m.u
            ]
            cpu_terms, const = m.cpu_left(h, t)
            limit = Limit("space", s, h, t, "positions", max(hall.positions, 1))
            m.add(
                terms + cpu_terms,
                pulp.LpConstraintLE,
                hall.positions - const,
                f"space_{h}_{t}",
                limit,
            )


def add_power(m: RetrofitModel) -> None:
    """Power (kW): ``sum_r power_kw[r] n[h,r,t] + CPU power left
    <= power_kw[h] + sum_{o: power} capacity[o] u[h,o,t]``."""
    for h, (s, _, hall) in enumerate(m.index.halls):
        for t in m.periods:
            terms, const = m.it_power_terms(h, t)
            terms += m.added(h, "power", t)
            limit = Limit("power", s, h, t, "kW", max(hall.power_kw, 1.0))
            m.add(terms, pulp.LpConstraintLE, hall.power_kw - const, f"power_{h}_{t}", limit)


def add_liquid(m: RetrofitModel) -> None:
    """Liquid heat (kW): ``sum_r liquid_fraction[r] power_kw[r] n[h,r,t] = qc[h,t] + qa[h,t]``,
    ``qc[h,t] <= sum_{o: cdu} capacity[o] u[h,o,t]``,
    ``qa[h,t] <= sum_{o: aalc} capacity[o] u[h,o,t]``."""
    for h, (s, _, _) in enumerate(m.index.halls):
        for t in m.periods:
            liquid = [
                (v, rack.liquid_fraction * rack.power_kw)
                for rack, v in m.racks(h, t)
                if rack.cooling == "liquid"
            ]
            if not liquid:
                continue
            served = [(m.qc[h, t], -1.0)] if (h, t) in m.qc else []
            served += [(m.qa[h, t], -1.0)] if (h, t) in m.qa else []
            m.add(liquid + served, pulp.LpConstraintEQ, 0.0, f"liquid_{h}_{t}")
            for flow, kind in ((m.qc, "cdu"), (m.qa, "aalc")):
                if (h, t) in flow:
                    terms = [(flow[h, t], 1.0)] + m.added(h, kind, t)
                    limit = Limit(f"liquid_{kind}", s, h, t, "kW", 1000.0)
                    m.add(terms, pulp.LpConstraintLE, 0.0, f"{kind}_{h}_{t}", limit)


def add_room_air(m: RetrofitModel) -> None:
    """Room air (kW): ``sum_{r liquid} (1 - liquid_fraction[r]) power_kw[r] n[h,r,t]
    + sum_{r air} power_kw[r] (n[h,r,t] - sum_o z[h,r,o,t]) + CPU heat left + qa[h,t]
    <= air_cooling_kw[h] + sum_{o: air_cooling} capacity[o] u[h,o,t]``."""
    for h, (s, _, hall) in enumerate(m.index.halls):
        for t in m.periods:
            terms, const = m.room_air_terms(h, t)
            terms += m.added(h, "air_cooling", t)
            limit = Limit("room_air", s, h, t, "kW", max(hall.air_cooling_kw, 1.0))
            m.add(terms, pulp.LpConstraintLE, hall.air_cooling_kw - const, f"air_{h}_{t}", limit)


def add_rdhx(m: RetrofitModel) -> None:
    """Rear doors: one unit serves one air rack of at most its capacity (kW per rack).

    ``sum_r z[h,r,o,t] <= u[h,o,t]`` per RDHx option o;
    ``sum_o z[h,r,o,t] <= n[h,r,t]``, with equality when ``power_kw[r] > max_air_rack_kw[h]``
    (only options with ``capacity[o] >= power_kw[r]`` have a z at all).
    """
    sc = m.scenario
    by_option: dict[tuple, list] = defaultdict(list)
    by_rack: dict[tuple, list] = defaultdict(list)
    for (h, r, o, t), var in m.z.items():
        by_option[h, o, t].append((var, 1.0))
        by_rack[h, r, t].append((var, 1.0))
    for (h, o, t), terms in by_option.items():
        m.add(terms + [(m.u[h, o, t], -1.0)], pulp.LpConstraintLE, 0.0, f"rdhxu_{h}_{o}_{t}")
    for (h, r, t), n in m.n.items():
        rack = sc.rack_types[r]
        if rack.cooling != "air":
            continue
        terms = by_rack.get((h, r, t), []) + [(n, -1.0)]
        must = rack.power_kw > m.index.halls[h][2].max_air_rack_kw
        sense = pulp.LpConstraintEQ if must else pulp.LpConstraintLE
        if must or len(terms) > 1:
            m.add(terms, sense, 0.0, f"rdhxr_{h}_{r}_{t}")


def add_facility_water(m: RetrofitModel) -> None:
    """Facility water per site (kW): ``sum_h (qc[h,t] + RDHx rack heat[h,t])
    <= facility_water_kw[s] + sum_{o: site_water} capacity[o] w[s,o,t]``."""
    for s, site in enumerate(m.scenario.sites):
        halls = m.index.site_halls[s]
        for t in m.periods:
            terms = [term for h in halls for term in m.water_terms(h, t)]
            if not terms:
                continue
            terms += m.site_added(s, "site_water", t)
            limit = Limit("facility_water", s, None, t, "kW", max(site.facility_water_kw, 1000.0))
            m.add(terms, pulp.LpConstraintLE, site.facility_water_kw, f"water_{s}_{t}", limit)


def add_network(m: RetrofitModel) -> None:
    """Network (Gbps): ``sum_r gbps[r] n[h,r,t] + CPU bandwidth left
    <= fabric_gbps[h] + sum_{o: fabric} capacity[o] u[h,o,t]``, where ``gbps[r]`` is
    ``network_gbps`` or ``network_multiple x reference_rack.network_gbps``."""
    sc = m.scenario
    for h, (s, _, hall) in enumerate(m.index.halls):
        cpu = hall.cpu_racks
        for t in m.periods:
            terms = [(v, rack_gbps(sc, rack)) for rack, v in m.racks(h, t)]
            cpu_terms, const = m.cpu_terms(h, t, cpu.network_gbps if cpu else 0.0)
            terms += cpu_terms + m.added(h, "fabric", t)
            limit = Limit("network", s, h, t, "Gbps", max(hall.fabric_gbps, 1.0))
            m.add(terms, pulp.LpConstraintLE, hall.fabric_gbps - const, f"net_{h}_{t}", limit)


def add_floor(m: RetrofitModel) -> None:
    """Floor: a rack with ``weight_kg[r] > floor_kg_per_position[h]`` only once a floor unit
    of ``capacity[o] >= weight_kg[r]`` is installed:
    ``n[h,r,t] <= ub(n) sum_{o strong enough} u[h,o,t]`` (kg per position). Units do not
    stack: the hall's rating is its strongest unit's, so only the options strong enough
    count, and each floor option has at most one unit (``u <= 1``, a variable bound); a
    stronger option may follow a weaker one (an upgrade)."""
    sc, halls = m.scenario, m.index.halls
    for (h, r, t), n in m.n.items():
        rack = sc.rack_types[r]
        if rack.weight_kg > halls[h][2].floor_kg_per_position:
            strong = [
                (m.u[h, o, t], -n.upBound) for o in m.index.floor_for(h, rack) if (h, o, t) in m.u
            ]
            m.add([(n, 1.0)] + strong, pulp.LpConstraintLE, 0.0, f"floor_{h}_{r}_{t}")


def add_feed(m: RetrofitModel) -> None:
    """Site feed (kW), where ``feed_kw[s]`` is set: ``sum_h (IT power + air_overhead x room
    air heat + liquid_overhead x water-loop heat) <= feed_kw[s] + sum_{o: site_feed}
    capacity[o] w[s,o,t]``."""
    for s, site in enumerate(m.scenario.sites):
        if site.feed_kw is None:
            continue
        halls = m.index.site_halls[s]
        for t in m.periods:
            terms: list = []
            const = 0.0
            for h in halls:
                it_terms, it_const = m.it_power_terms(h, t)
                air_terms, air_const = m.room_air_terms(h, t)
                terms += it_terms + [(v, c * site.air_overhead) for v, c in air_terms]
                terms += [(v, c * site.liquid_overhead) for v, c in m.water_terms(h, t)]
                const += it_const + air_const * site.air_overhead
            terms += m.site_added(s, "site_feed", t)
            limit = Limit("feed", s, None, t, "kW", max(site.feed_kw, 1.0))
            m.add(terms, pulp.LpConstraintLE, site.feed_kw - const, f"feed_{s}_{t}", limit)


def spend_terms(m: RetrofitModel) -> tuple[dict[int, list], dict[int, float]]:
    """Spend in each period t (model money): capex of racks first operating in t, cost of
    units installed in t and retire cost of CPU racks retired in t, i.e. increments of the
    cumulative decisions, ``sum price x (v[t] - v[t-1])``, where before the first period
    ``v`` is what is already installed (paid for: ``-price x installed`` in period 0).
    Returns ``({t: terms}, {t: constant})``."""
    sc, idx = m.scenario, m.index
    terms: dict[int, list] = defaultdict(list)
    constants: dict[int, float] = defaultdict(float)
    priced = (  # (decisions, price of one, installed before the first period)
        (m.n, lambda k: sc.rack_types[k[1]].capex_usd, lambda k: idx.installed_racks[k[0]]),
        (m.u, lambda k: sc.retrofits[k[1]].cost_usd, lambda k: idx.installed_units[k[0]]),
        (m.w, lambda k: sc.retrofits[k[1]].cost_usd, lambda k: idx.installed_site[k[0]]),
        (m.x, lambda k: idx.halls[k[0]][2].cpu_racks.retire_cost_usd, lambda k: {}),
    )
    for store, price_of, installed in priced:
        for key, var in store.items():
            price = price_of(key) / MONEY
            t = key[-1]
            terms[t].append((var, price))
            if t + 1 < sc.n_periods:
                terms[t + 1].append((var, -price))
            if t == 0:
                constants[0] -= price * installed(key).get(key[1], 0)
    return terms, constants


def add_budget(m: RetrofitModel) -> None:
    """Budget (USD): ``spend[t] <= budget_usd_per_period[t]`` where set, and
    ``sum_t spend[t] <= budget_usd_total`` where set. Unspent budget does not carry over."""
    sc = m.scenario
    terms, offset = spend_terms(m)
    for gift, g in m.gift_vars:  # a gift taken costs nothing
        terms[gift.period].append((g, -sc.retrofits[gift.option].cost_usd / MONEY))
    for t, budget in enumerate(sc.budgets()):
        m.spend[t] = expr(terms[t], offset[t])
        if budget is not None:
            limit = Limit("budget", None, None, t, "USD", max(budget / MONEY, 1.0))
            m.add(terms[t], pulp.LpConstraintLE, budget / MONEY - offset[t], f"budget_{t}", limit)
    if sc.budget_usd_total is not None:
        total = sc.budget_usd_total / MONEY - sum(offset.values())
        limit = Limit("budget_total", None, None, None, "USD", max(total, 1.0))
        all_terms = [term for t in m.periods for term in terms[t]]
        m.add(all_terms, pulp.LpConstraintLE, total, "budget_total", limit)


def add_targets(m: RetrofitModel) -> None:
    """Targets (GPUs): ``sum_{h,r} gpus[r] n[h,r,t] >= gpu_targets[t]``."""
    sc = m.scenario
    if sc.gpu_targets is None:
        return
    gpus: dict[int, list] = defaultdict(list)
    for (_, r, t), v in m.n.items():
        gpus[t].append((v, sc.rack_types[r].gpus))
    for t, target in enumerate(sc.gpu_targets):
        limit = Limit("target", None, None, t, "GPUs", max(target, 1.0))
        m.add(gpus[t], pulp.LpConstraintGE, target, f"target_{t}", limit)


def add_clusters(m: RetrofitModel) -> None:
    """Racks belong to at most one cluster (racks): per hall h, type r and period t,
    ``sum_{c hall-domain} R[c,r] k[c,h,r,t] <= n[h,r,t]``; per site s, where site-domain
    clusters may stand, ``sum_{c hall-domain, h in s} R[c,r] k[c,h,r,t] + sum_{c
    site-domain} R[c,r] k[c,s,r,t] <= sum_{h in s} n[h,r,t]``."""
    kinds = m.scenario.cluster_kinds()
    by_hall: dict = defaultdict(list)
    by_site: dict = defaultdict(list)
    for (c, d, r, t), var in m.k.items():
        need = m.index.cluster_racks(c, r)
        if kinds[c].domain == "hall":
            by_hall[d, r, t].append((var, need))
            by_site[m.index.halls[d][0], r, t].append((var, need))
        else:
            by_site[d, r, t].append((var, need))
    for (h, r, t), terms in by_hall.items():
        n = m.n[h, r, t]
        m.add(terms + [(n, -1.0)], pulp.LpConstraintLE, 0.0, f"clh_{h}_{r}_{t}")
    sites_with_site_kinds = {d for (c, d, _r, _t) in m.k if kinds[c].domain == "site"}
    for (s, r, t), terms in by_site.items():
        if s not in sites_with_site_kinds:
            continue  # implied by the rows of its halls
        racks = [(m.n[h, r, t], -1.0) for h in m.index.site_halls[s] if (h, r, t) in m.n]
        m.add(terms + racks, pulp.LpConstraintLE, 0.0, f"cls_{s}_{r}_{t}")


def add_cluster_targets(m: RetrofitModel) -> None:
    """Cluster targets (clusters): ``sum_{d,r} k[c,d,r,t] >= targets[c][t]`` for every kind
    c with targets."""
    per: dict = defaultdict(list)
    for (c, _d, _r, t), var in m.k.items():
        per[c, t].append((var, 1.0))
    for c, kind in enumerate(m.scenario.cluster_kinds()):
        for t, target in enumerate(kind.targets or []):
            if target:
                limit = Limit("cluster_target", None, None, t, "clusters", max(target, 1), kind=c)
                m.add(per[c, t], pulp.LpConstraintGE, target, f"ctarget_{c}_{t}", limit)


RULES = (
    add_cumulative,
    add_space,
    add_power,
    add_liquid,
    add_room_air,
    add_rdhx,
    add_facility_water,
    add_network,
    add_floor,
    add_feed,
    add_budget,
    add_targets,
    add_clusters,
    add_cluster_targets,
)
