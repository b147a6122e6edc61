"""The retrofit MILP, assembled from one small function per rule family.

Indices: ``h`` a hall (flattened over sites, file order), ``s`` a site, ``t`` a period,
``r`` a rack type, ``o`` a retrofit option. Decisions (all whole numbers, cumulative):

* ``n[h,r,t]`` racks of type r operating in hall h in period t;
* ``z[h,r,o,t]`` of those air racks, the ones behind an RDHx unit of option o;
* ``u[h,o,t]`` units of hall-scope option o installed in h by t;
* ``w[s,o,t]`` units of site-scope option o installed at s by t;
* ``x[h,t]`` CPU racks retired in h by t;

and two continuous flows, ``qc[h,t]`` / ``qa[h,t]`` (kW): liquid heat served by CDUs /
by AALC sidecars. Money is modelled in millions of USD for numerical health; the
docstrings state rules in USD.

Every rule function adds its rows to the problem and nothing else; the model is built by
calling them in turn (see :func:`build`). Variables and constraints are named by index,
never by user names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pulp

from .scenario import Hall, RackType, Retrofit, Scenario, Site

MONEY = 1e6  # model money unit: USD per unit of the model's spend variables

Terms = Iterable[tuple[pulp.LpVariable, float]]


def expr(terms: Terms, constant: float = 0.0) -> pulp.LpAffineExpression:
    """An affine expression from (variable, coefficient) pairs, summing repeated variables."""
    coefs: dict[pulp.LpVariable, float] = defaultdict(float)
    for var, coef in terms:
        if coef:
            coefs[var] += coef
    return pulp.LpAffineExpression(coefs, constant=constant)


@dataclass
class Index:
    """Static structure of a scenario: halls, which racks and options each may use."""

    scenario: Scenario
    halls: list[tuple[int, Site, Hall]] = field(default_factory=list)  # (site index, site, hall)
    racks: dict[int, list[int]] = field(default_factory=dict)  # h -> rack types allowed
    hall_options: dict[int, list[int]] = field(default_factory=dict)  # h -> hall options
    site_options: list[int] = field(default_factory=list)  # site-scope options
    site_halls: dict[int, list[int]] = field(default_factory=dict)  # s -> its halls h

    @classmethod
    def of(cls, sc: Scenario) -> Index:
        idx = cls(sc)
        for s, site in enumerate(sc.sites):
            idx.site_halls[s] = []
            for hall in site.halls:
                idx.site_halls[s].append(len(idx.halls))
                idx.halls.append((s, site, hall))
        for h, (_, _, hall) in enumerate(idx.halls):
            allowed = hall.retrofits
            idx.hall_options[h] = [
                o
                for o, opt in enumerate(sc.retrofits)
                if opt.scope == "hall"
                and (allowed is None or opt.name in allowed)
                and (hall.facility_water or opt.kind not in ("cdu", "rdhx"))
            ]
            idx.racks[h] = [r for r, rack in enumerate(sc.rack_types) if idx._fits(h, rack)]
        idx.site_options = [o for o, opt in enumerate(sc.retrofits) if opt.scope == "site"]
        return idx

    def options(self, h: int, kind: str) -> list[int]:
        return [o for o in self.hall_options[h] if self.scenario.retrofits[o].kind == kind]

    def rdhx_for(self, h: int, rack: RackType) -> list[int]:
        """RDHx options in hall h whose per-rack capacity takes this rack."""
        return [
            o
            for o in self.options(h, "rdhx")
            if self.scenario.retrofits[o].capacity >= rack.power_kw
        ]

    def floor_for(self, h: int, rack: RackType) -> list[int]:
        """Floor options in hall h strong enough for this rack."""
        return [
            o
            for o in self.options(h, "floor")
            if self.scenario.retrofits[o].capacity >= rack.weight_kg
        ]

    def _fits(self, h: int, rack: RackType) -> bool:
        """Whether a rack type can ever stand in hall h, whatever is bought."""
        hall = self.halls[h][2]
        if rack.lead_periods >= self.scenario.n_periods or rack.positions > hall.positions:
            return False
        if rack.weight_kg > hall.floor_kg_per_position and not self.floor_for(h, rack):
            return False
        if rack.cooling == "liquid":
            residual = (1 - rack.liquid_fraction) * rack.power_kw
            return residual <= hall.max_air_rack_kw + 1e-9 and bool(
                self.options(h, "cdu") or self.options(h, "aalc")
            )
        return rack.power_kw <= hall.max_air_rack_kw or bool(self.rdhx_for(h, rack))


def rack_gbps(sc: Scenario, rack: RackType) -> float:
    if rack.network_gbps is not None:
        return rack.network_gbps
    return rack.network_multiple * sc.reference_rack.network_gbps


@dataclass(frozen=True)
class Limit:
    """What a capacity row limits: its rule, place and period, and the unit and scale of a
    shortfall in it (used by the elastic model and by shadow prices)."""

    rule: str
    site: int | None  # site index
    hall: int | None  # hall index (flattened)
    period: int | None
    unit: str
    scale: float  # typical size of the limit, to compare shortfalls of different rules


@dataclass(frozen=True)
class Gift:
    """One unit of a retrofit option given at no cost in a hall (or site) from a period on."""

    option: int
    period: int
    hall: int | None = None  # hall-scope options
    site: int | None = None  # site-scope options


@dataclass
class RetrofitModel:
    """The PuLP problem with its decision variables and the expressions results need."""

    scenario: Scenario
    index: Index
    prob: pulp.LpProblem
    n: dict = field(default_factory=dict)
    z: dict = field(default_factory=dict)
    u: dict = field(default_factory=dict)
    w: dict = field(default_factory=dict)
    x: dict = field(default_factory=dict)
    qc: dict = field(default_factory=dict)
    qa: dict = field(default_factory=dict)
    compute: pulp.LpAffineExpression | None = None  # PFLOPS-periods
    spend: dict = field(default_factory=dict)  # t -> spend in period t (model money)
    z_at: dict = field(default_factory=lambda: defaultdict(list))  # (h, t) -> [(r, o, z)]
    limits: dict = field(default_factory=dict)  # row name -> Limit, for capacity rows
    rows: dict = field(default_factory=dict)  # row name -> LpConstraint, for capacity rows
    elastic: bool = False  # capacity rows get a shortfall variable each
    shortfall: dict = field(default_factory=dict)  # row name -> shortfall variable
    gifts: tuple = ()  # Gift units: installed at no cost, beyond max_units
    gift_vars: list = field(default_factory=list)  # (Gift, binary: the gift is taken)

    @property
    def periods(self) -> range:
        return range(self.scenario.n_periods)

    def add(
        self, terms: Terms, sense: int, rhs: float, name: str, limit: Limit | None = None
    ) -> None:
        """Add ``sum(terms) <sense> rhs`` to the problem.

        A row with a ``limit`` is a capacity rule: in the elastic model it may be broken by
        a shortfall variable ``f >= 0`` (``<=`` rows: ``sum - f <= rhs``; ``>=`` rows:
        ``sum + f >= rhs``), in the limit's unit.
        """
        terms = list(terms)
        if limit is not None:
            self.limits[name] = limit
            if self.elastic:
                f = self.prob.add_variable(f"f_{len(self.shortfall)}", 0, None)
                self.shortfall[name] = f
                terms.append((f, -1.0 if sense == pulp.LpConstraintLE else 1.0))
        row = pulp.LpConstraint(expr(terms), sense, name, rhs)
        self.prob.addConstraint(row)
        if limit is not None:
            self.rows[name] = row

    # -- terms shared by several rules (all per hall h and period t) -------------------
    def cpu_left(self, h: int, t: int) -> tuple[list, float]:
        """CPU racks still standing: ``count - x[h,t]`` as (terms, constant)."""
        cpu = self.index.halls[h][2].cpu_racks
        if cpu is None:
            return [], 0.0
        terms = [(self.x[h, t], -1.0)] if (h, t) in self.x else []
        return terms, float(cpu.count)

    def cpu_terms(self, h: int, t: int, per_rack: float) -> tuple[list, float]:
        """``per_rack x (CPU racks left)`` as (terms, constant)."""
        terms, count = self.cpu_left(h, t)
        return [(v, c * per_rack) for v, c in terms], count * per_rack

    def racks(self, h: int, t: int) -> list[tuple[RackType, pulp.LpVariable]]:
        sc = self.scenario
        return [
            (sc.rack_types[r], self.n[h, r, t]) for r in self.index.racks[h] if (h, r, t) in self.n
        ]

    def units(self, h: int, kind: str, t: int) -> list[tuple[Retrofit, pulp.LpVariable]]:
        sc = self.scenario
        return [
            (sc.retrofits[o], self.u[h, o, t])
            for o in self.index.options(h, kind)
            if (h, o, t) in self.u
        ]

    def added(self, h: int, kind: str, t: int) -> list:
        """Capacity added by installed units of a kind: ``-capacity x u`` terms (moved left)."""
        return [(v, -opt.capacity) for opt, v in self.units(h, kind, t)]

    def site_added(self, s: int, kind: str, t: int) -> list:
        sc = self.scenario
        return [
            (self.w[s, o, t], -sc.retrofits[o].capacity)
            for o in self.index.site_options
            if sc.retrofits[o].kind == kind and (s, o, t) in self.w
        ]

    def rdhx_terms(self, h: int, t: int, coef: float = 1.0) -> list:
        """Heat of air racks behind rear doors, ``sum_{r,o} power_kw[r] z[h,r,o,t]`` (kW)."""
        sc = self.scenario
        return [(v, coef * sc.rack_types[r].power_kw) for r, _o, v in self.z_at[h, t]]

    def room_air_terms(self, h: int, t: int) -> tuple[list, float]:
        """Heat into room air (kW): residual heat of liquid racks, air racks not behind a
        door, CPU racks, and liquid heat served by AALC sidecars."""
        terms = [(v, rack.power_kw * (1 - rack.liquid_fraction)) for rack, v in self.racks(h, t)]
        terms += self.rdhx_terms(h, t, -1.0)
        if (h, t) in self.qa:
            terms.append((self.qa[h, t], 1.0))
        cpu = self.index.halls[h][2].cpu_racks
        cpu_terms, const = self.cpu_terms(h, t, cpu.power_kw if cpu else 0.0)
        return terms + cpu_terms, const

    def water_terms(self, h: int, t: int) -> list:
        """Heat sent to the site water loop (kW): CDU-served liquid heat plus RDHx racks."""
        terms = self.rdhx_terms(h, t)
        if (h, t) in self.qc:
            terms.append((self.qc[h, t], 1.0))
        return terms

    def it_power_terms(self, h: int, t: int) -> tuple[list, float]:
        """IT power (kW) of new racks and remaining CPU racks."""
        cpu = self.index.halls[h][2].cpu_racks
        cpu_terms, const = self.cpu_terms(h, t, cpu.power_kw if cpu else 0.0)
        return [(v, rack.power_kw) for rack, v in self.racks(h, t)] + cpu_terms, const


# -- decision variables ------------------------------------------------------------------
def add_variables(m: RetrofitModel) -> None:
    """Create every decision, none before its ``lead_periods`` index.

    Upper bounds: racks by positions, units by ``max_units`` (floor: one unit of each
    option), retirements by the CPU rack count.
    """
    sc, idx, prob = m.scenario, m.index, m.prob
    integer = pulp.LpInteger
    for h, (_, _, hall) in enumerate(idx.halls):
        for r in idx.racks[h]:
            rack = sc.rack_types[r]
            cap = hall.positions // rack.positions
            for t in range(rack.lead_periods, sc.n_periods):
                m.n[h, r, t] = prob.add_variable(f"n_{h}_{r}_{t}", 0, cap, integer)
                if rack.cooling == "air":
                    for o in idx.rdhx_for(h, rack):
                        if t >= sc.retrofits[o].lead_periods:
                            z = prob.add_variable(f"z_{h}_{r}_{o}_{t}", 0, cap, integer)
                            m.z[h, r, o, t] = z
                            m.z_at[h, t].append((r, o, z))
        for o in idx.hall_options[h]:
            opt = sc.retrofits[o]
            ub = opt.max_units
            if opt.kind == "floor":  # units do not stack: at most one of each floor option
                ub = 1 if ub is None else min(ub, 1)
            if opt.positions:
                by_space = hall.positions // opt.positions
                ub = by_space if ub is None else min(ub, by_space)
            for t in range(opt.lead_periods, sc.n_periods):
                m.u[h, o, t] = prob.add_variable(f"u_{h}_{o}_{t}", 0, ub, integer)
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
            for t in range(opt.lead_periods, sc.n_periods):
                m.w[s, o, t] = prob.add_variable(f"w_{s}_{o}_{t}", 0, opt.max_units, integer)


# -- rules -------------------------------------------------------------------------------
def add_cumulative(m: RetrofitModel) -> None:
    """Nothing deployed, installed or retired is undone:
    ``v[.., t] >= v[.., t-1]`` for racks n, units u and w, and retirements x."""
    for store, tag in ((m.n, "n"), (m.u, "u"), (m.w, "w"), (m.x, "x")):
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


def spend_terms(m: RetrofitModel) -> dict[int, list]:
    """Spend in each period t (model money): capex of racks first operating in t, cost of
    units installed in t and retire cost of CPU racks retired in t, i.e. increments of the
    cumulative decisions, ``sum price x (v[t] - v[t-1])``. Returns ``{t: terms}``."""
    sc = m.scenario
    terms: dict[int, list] = defaultdict(list)
    priced = (
        (m.n, lambda key: sc.rack_types[key[1]].capex_usd),
        (m.u, lambda key: sc.retrofits[key[1]].cost_usd),
        (m.w, lambda key: sc.retrofits[key[1]].cost_usd),
        (m.x, lambda key: m.index.halls[key[0]][2].cpu_racks.retire_cost_usd),
    )
    for store, price_of in priced:
        for key, var in store.items():
            price = price_of(key) / MONEY
            t = key[-1]
            terms[t].append((var, price))
            if t + 1 < sc.n_periods:
                terms[t + 1].append((var, -price))
    return terms


def add_budget(m: RetrofitModel) -> None:
    """Budget (USD): ``spend[t] <= budget_usd_per_period[t]`` where set, and
    ``sum_t spend[t] <= budget_usd_total`` where set. Unspent budget does not carry over."""
    sc = m.scenario
    terms = spend_terms(m)
    for gift, g in m.gift_vars:  # a gift taken costs nothing
        terms[gift.period].append((g, -sc.retrofits[gift.option].cost_usd / MONEY))
    for t, budget in enumerate(sc.budgets()):
        m.spend[t] = expr(terms[t])
        if budget is not None:
            limit = Limit("budget", None, None, t, "USD", max(budget / MONEY, 1.0))
            m.add(terms[t], pulp.LpConstraintLE, budget / MONEY, f"budget_{t}", limit)
    if sc.budget_usd_total is not None:
        total = sc.budget_usd_total / MONEY
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


def build(sc: Scenario, elastic: bool = False, gifts: Iterable[Gift] = ()) -> RetrofitModel:
    """Build the MILP of a scenario, with the scenario's primary objective set.

    ``max_compute``: maximise PFLOPS-periods ``sum_{h,r,t} pflops[r] n[h,r,t]``;
    ``min_cost``: minimise total spend ``sum_t spend[t]``.

    ``elastic``: every capacity rule may be broken by a shortfall ``f >= 0`` (in the rule's
    unit) and the objective is ``min sum f / scale``: the least, relative to each limit's
    size, that would make the scenario feasible. ``gifts``: units given at no cost.
    """
    sense = pulp.LpMaximize if sc.objective == "max_compute" else pulp.LpMinimize
    if elastic:
        sense = pulp.LpMinimize
    m = RetrofitModel(sc, Index.of(sc), pulp.LpProblem("retrofit", sense))
    m.elastic, m.gifts = elastic, tuple(gifts)
    add_variables(m)
    add_gifts(m)
    for rule in RULES:
        rule(m)
    m.compute = expr((v, sc.rack_types[r].pflops) for (_, r, _), v in m.n.items())
    if elastic:
        m.prob.setObjective(
            expr((f, 1.0 / m.limits[name].scale) for name, f in m.shortfall.items())
        )
    else:
        m.prob.setObjective(m.compute if sc.objective == "max_compute" else total_spend(m))
    return m


def total_spend(m: RetrofitModel) -> pulp.LpAffineExpression:
    """Total spend over all periods (model money)."""
    return expr(term for t in m.periods for term in m.spend[t].items())
