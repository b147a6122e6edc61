"""The metrics near-optimal alternatives are sought by, as expressions of the MILP.

Each builder adds what its metric needs (indicator binaries and their rows) and returns a
:class:`MetricTerms`: a linear expression, or for a share a numerator and a denominator
(optimised by Dinkelbach's method in :mod:`planner.solving.alternatives`). The plan-side
definitions, computed from a plan's tables alone, are :mod:`planner.plan.metrics`; the
tests hold the two against each other. ``T`` is the last period: decisions are cumulative,
so what stands in ``T`` is everything the plan adds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pulp

from .build import total_spend
from .core import MONEY, RetrofitModel, expr, rack_gbps, value_at


@dataclass
class MetricTerms:
    """A metric in the model: ``value`` (linear), or ``numerator / denominator`` (a share),
    with the indicators it added: ``(y, [(variable, installed)])``, ``y`` is 1 when any
    variable grows past what is installed."""

    value: pulp.LpAffineExpression | None = None
    numerator: pulp.LpAffineExpression | None = None
    denominator: pulp.LpAffineExpression | None = None
    indicators: list = field(default_factory=list)
    scale: float = 1.0  # the metric's unit per model unit (USD per model money for spend)

    def at(self, values: dict[str, float]) -> float:
        """The metric's value at a solution (``{variable name: value}``)."""

        if self.value is not None:
            return value_at(self.value, values) * self.scale
        den = value_at(self.denominator, values)
        return value_at(self.numerator, values) / den if den > 1e-9 else 0.0

    def fill(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` with each indicator set from its variables (for a MIP start)."""
        filled = dict(values)
        for y, growth in self.indicators:
            grew = any((values.get(v.name) or 0.0) > have + 0.5 for v, have in growth)
            filled[y.name] = 1.0 if grew else 0.0
        return filled


def _last(store: dict, T: int) -> dict:
    """The decisions of the last period, by their key without the period."""
    return {key[:-1]: var for key, var in store.items() if key[-1] == T}


def _useful(var: pulp.LpVariable, have: int, demand: float, capacity: float) -> float:
    """Most units of a decision a plan could use: its upper bound, or for an option without
    one, what is installed and enough units more to serve ``demand`` alone (units beyond
    that never help a plan: dropping them keeps it sound and its objective, so no optimum of
    a metric is cut off)."""
    if var.upBound is not None:
        return var.upBound
    return have + (math.ceil(demand / capacity) + 1 if capacity > 0 else 1)


def _indicator(m: RetrofitModel, tag: str, growth: list, caps: list, sense: str):
    """A binary ``y`` over decisions ``v`` with installed counts ``a``: for ``min``,
    ``v - a <= cap y`` (y is 1 when any grows); for ``max``, ``y <= sum (v - a)`` (y is 0
    when none does)."""
    y = m.prob.add_variable(f"y_{tag}", 0, 1, pulp.LpInteger)
    if sense == "min":
        for i, ((v, have), cap) in enumerate(zip(growth, caps, strict=True)):
            m.add([(v, 1.0), (y, -(cap - have))], pulp.LpConstraintLE, have, f"{tag}_{i}")
    else:
        terms = [(y, 1.0)] + [(v, -1.0) for v, _ in growth]
        m.add(terms, pulp.LpConstraintLE, -sum(have for _, have in growth), f"{tag}_any")
    return y


def _hall_growth(m: RetrofitModel, h: int) -> tuple[list, list]:
    """The last-period racks and units of hall h with their installed counts, and caps."""
    sc, idx, T = m.scenario, m.index, m.scenario.n_periods - 1
    hall = idx.halls[h][2]
    most_kw = hall.positions * max(
        [sc.rack_types[r].power_kw for r in idx.racks[h]]
        + [hall.cpu_racks.power_kw if hall.cpu_racks else 0.0]
    )
    most_gbps = hall.positions * max(
        [rack_gbps(sc, sc.rack_types[r]) for r in idx.racks[h]]
        + [hall.cpu_racks.network_gbps if hall.cpu_racks else 0.0]
    )
    growth, caps = [], []
    for r in idx.racks[h]:
        var = m.n.get((h, r, T))
        if var is not None:  # racks are bounded by positions
            have = idx.installed_racks[h].get(r, 0)
            growth.append((var, have))
            caps.append(_useful(var, have, 0.0, 0.0))
    for o in idx.hall_options[h]:
        var = m.u.get((h, o, T))
        if var is not None:
            opt, have = sc.retrofits[o], idx.installed_units[h].get(o, 0)
            # demand in the option's unit: Gbps, racks behind doors, else kW
            demand, capacity = {
                "fabric": (most_gbps, opt.capacity),
                "rdhx": (hall.positions, 1.0),
            }.get(opt.kind, (most_kw, opt.capacity))
            growth.append((var, have))
            caps.append(_useful(var, have, demand, capacity))
    return growth, caps


def _counted(m: RetrofitModel, tag: str, groups: dict, sense: str) -> MetricTerms:
    """``sum_g y[g]`` over groups ``g -> (decisions with installed counts, caps)``, one
    indicator each (:func:`_indicator`)."""
    terms = MetricTerms()
    for key, (growth, caps) in groups.items():
        if growth:
            y = _indicator(m, f"{tag}_{key}", growth, caps, sense)
            terms.indicators.append((y, growth))
    terms.value = expr((y, 1.0) for y, _ in terms.indicators)
    return terms


def halls_touched(m: RetrofitModel, sense: str) -> MetricTerms:
    """Halls touched: ``sum_h y[h]``, ``y[h] = 1`` when any ``n[h,r,T]`` or ``u[h,o,T]``
    exceeds what is installed (halls)."""
    groups = {h: _hall_growth(m, h) for h in range(len(m.index.halls))}
    return _counted(m, "touch", groups, sense)


def sites_used(m: RetrofitModel, sense: str) -> MetricTerms:
    """Sites used: ``sum_s y[s]``, ``y[s] = 1`` when any rack or unit of its halls, or any
    ``w[s,o,T]``, exceeds what is installed (sites)."""
    sc, idx, T = m.scenario, m.index, m.scenario.n_periods - 1
    groups = {}
    for s, halls in idx.site_halls.items():
        growth, caps = [], []
        for h in halls:
            g, c = _hall_growth(m, h)
            growth += g
            caps += c
        site = sc.sites[s]
        most_kw = max([r.power_kw for r in sc.rack_types] + [
            h.cpu_racks.power_kw for h in site.halls if h.cpu_racks])  # fmt: skip
        overhead = 1 + max(site.air_overhead, site.liquid_overhead, 0.0)
        site_kw = sum(h.positions for h in site.halls) * most_kw * overhead
        for o in idx.site_options:
            var = m.w.get((s, o, T))
            if var is not None:
                have = idx.installed_site[s].get(o, 0)
                growth.append((var, have))
                caps.append(_useful(var, have, site_kw, sc.retrofits[o].capacity))
        groups[s] = (growth, caps)
    return _counted(m, "site", groups, sense)


def liquid_share(m: RetrofitModel, sense: str) -> MetricTerms:
    """Liquid-cooled share of GPUs in the last period (a share of 1):
    ``sum_{h, r liquid} gpus[r] n[h,r,T] / sum_{h,r} gpus[r] n[h,r,T]``."""
    sc = m.scenario
    racks = [(v, sc.rack_types[r]) for (_h, r), v in _last(m.n, sc.n_periods - 1).items()]
    return MetricTerms(
        numerator=expr((v, rack.gpus) for v, rack in racks if rack.cooling == "liquid"),
        denominator=expr((v, rack.gpus) for v, rack in racks),
    )


def cdu_units(m: RetrofitModel, sense: str) -> MetricTerms:
    """CDU units standing in the last period: ``sum_{h, o cdu} u[h,o,T]`` (units)."""
    sc = m.scenario
    last = _last(m.u, sc.n_periods - 1)
    return MetricTerms(
        value=expr((v, 1.0) for (_h, o), v in last.items() if sc.retrofits[o].kind == "cdu")
    )


def cpu_racks_retired(m: RetrofitModel, sense: str) -> MetricTerms:
    """CPU racks retired by the last period: ``sum_h x[h,T]`` (racks)."""
    return MetricTerms(value=expr((v, 1.0) for v in _last(m.x, m.scenario.n_periods - 1).values()))


def spend_usd(m: RetrofitModel, sense: str) -> MetricTerms:
    """Total spend (USD): ``sum_t spend[t]``, in the model's money (``scale`` = MONEY)."""
    return MetricTerms(value=total_spend(m), scale=MONEY)


#: metric name -> builder (the names of :data:`planner.plan.metrics.METRICS`)
BUILDERS = {
    "halls_touched": halls_touched,
    "sites_used": sites_used,
    "liquid_share": liquid_share,
    "cdu_units": cdu_units,
    "cpu_racks_retired": cpu_racks_retired,
    "spend_usd": spend_usd,
}
