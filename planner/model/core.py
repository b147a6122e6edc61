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

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pulp

from ..scenario import Hall, RackType, Retrofit, Scenario, Site

MONEY = 1e6  # model money unit: USD per unit of the model's spend variables

Terms = Iterable[tuple[pulp.LpVariable, float]]


def expr(terms: Terms, constant: float = 0.0) -> pulp.LpAffineExpression:
    """An affine expression from (variable, coefficient) pairs, summing repeated variables."""
    coefs: dict[pulp.LpVariable, float] = defaultdict(float)
    for var, coef in terms:
        if coef:
            coefs[var] += coef
    return pulp.LpAffineExpression(coefs, constant=constant)


def value_at(e: pulp.LpAffineExpression, values: dict[str, float]) -> float:
    """An expression's value at a solution ``{variable name: value}`` (missing: 0)."""
    return e.constant + sum(c * (values.get(v.name) or 0.0) for v, c in e.items())


@dataclass
class Index:
    """Static structure of a scenario: halls, which racks and options each may use."""

    scenario: Scenario
    halls: list[tuple[int, Site, Hall]] = field(default_factory=list)  # (site index, site, hall)
    racks: dict[int, list[int]] = field(default_factory=dict)  # h -> rack types allowed
    hall_options: dict[int, list[int]] = field(default_factory=dict)  # h -> hall options
    site_options: list[int] = field(default_factory=list)  # site-scope options
    site_halls: dict[int, list[int]] = field(default_factory=dict)  # s -> its halls h
    # what is already there (MODEL.md section 6): counts before the first period
    installed_racks: dict[int, dict[int, int]] = field(default_factory=dict)  # h -> {r: racks}
    installed_units: dict[int, dict[int, int]] = field(default_factory=dict)  # h -> {o: units}
    installed_site: dict[int, dict[int, int]] = field(default_factory=dict)  # s -> {o: units}
    frozen: set = field(default_factory=set)  # (h, o): installed here, none may be bought

    @classmethod
    def of(cls, sc: Scenario) -> Index:
        idx = cls(sc)
        for s, site in enumerate(sc.sites):
            idx.site_halls[s] = []
            for hall in site.halls:
                idx.site_halls[s].append(len(idx.halls))
                idx.halls.append((s, site, hall))
        option_of = {opt.name: o for o, opt in enumerate(sc.retrofits)}
        rack_of = {rack.name: r for r, rack in enumerate(sc.rack_types)}
        for h, (_, _, hall) in enumerate(idx.halls):
            units = {option_of[name]: n for name, n in hall.installed_units().items()}
            idx.installed_units[h] = units
            racks: dict[int, int] = defaultdict(int)
            for name, _door, n in hall.installed_racks():
                racks[rack_of[name]] += n
            idx.installed_racks[h] = dict(racks)
            idx.hall_options[h] = [option_of[opt.name] for opt in sc.hall_options(hall)]
            idx.frozen |= {(h, option_of[name]) for name in hall.installed_only()}
            idx.racks[h] = [
                r for r, rack in enumerate(sc.rack_types) if r in racks or idx._fits(h, rack)
            ]
        idx.site_options = [o for o, opt in enumerate(sc.retrofits) if opt.scope == "site"]
        for s, site in enumerate(sc.sites):
            idx.installed_site[s] = {option_of[n]: k for n, k in site.installed_units().items()}
        return idx

    def first_period(self, lead: int, installed: int) -> int:
        """First period a decision exists: its ``lead_periods``, or 0 when some are installed
        (those stand from the start, and no more can be added before the lead time)."""
        return 0 if installed else lead

    def cluster_racks(self, c: int, r: int) -> int:
        """``R[c,r]``: racks of type r one cluster of kind c takes, ``ceil(gpus[c] / gpus[r])``."""
        sc = self.scenario
        return math.ceil(sc.cluster_kinds()[c].gpus / sc.rack_types[r].gpus)

    def cluster_domains(self, c: int, r: int) -> list[int]:
        """Where clusters of kind c made of type r can stand: halls (hall domain) or sites
        (site domain) whose halls can take type r, indices."""
        kind = self.scenario.cluster_kinds()[c]
        if kind.domain == "hall":
            return [h for h in range(len(self.halls)) if r in self.racks[h]]
        return [s for s, hs in self.site_halls.items() if any(r in self.racks[h] for h in hs)]

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
    kind: int | None = None  # cluster kind index, for cluster targets


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
    k: dict = field(default_factory=dict)  # (c, domain, r, t) -> clusters (MODEL.md section 5)
    compute: pulp.LpAffineExpression | None = None  # PFLOPS-periods
    spend: dict = field(default_factory=dict)  # t -> spend in period t (model money)
    z_at: dict = field(default_factory=lambda: defaultdict(list))  # (h, t) -> [(r, o, z)]
    limits: dict = field(default_factory=dict)  # row name -> Limit, for capacity rows
    rows: dict = field(default_factory=dict)  # row name -> LpConstraint, for capacity rows
    elastic: bool = False  # capacity rows get a shortfall variable each
    hard: frozenset = frozenset()  # rules that stay hard in the elastic model
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
            if self.elastic and limit.rule not in self.hard:
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
