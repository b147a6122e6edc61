"""Assembling the retrofit MILP of a scenario from its variables and rule families."""

from __future__ import annotations

from collections.abc import Iterable

import pulp

from ..scenario import Scenario
from .core import Gift, Index, RetrofitModel, expr
from .rules import RULES
from .variables import add_cluster_variables, add_gifts, add_variables


def build(
    sc: Scenario, elastic: bool = False, gifts: Iterable[Gift] = (), hard: Iterable[str] = ()
) -> RetrofitModel:
    """Build the MILP of a scenario, with the scenario's primary objective set.

    ``max_compute``: maximise PFLOPS-periods ``sum_{h,r,t} pflops[r] n[h,r,t]``;
    ``min_cost``: minimise total spend ``sum_t spend[t]``.

    ``elastic``: every capacity rule may be broken by a shortfall ``f >= 0`` (in the rule's
    unit) and the objective is ``min sum f / scale``: the least, relative to each limit's
    size, that would make the scenario feasible; the rules named in ``hard`` keep no
    shortfall. ``gifts``: units given at no cost.
    """
    sense = pulp.LpMaximize if sc.objective == "max_compute" else pulp.LpMinimize
    if elastic:
        sense = pulp.LpMinimize
    m = RetrofitModel(sc, Index.of(sc), pulp.LpProblem("retrofit", sense))
    m.elastic, m.gifts, m.hard = elastic, tuple(gifts), frozenset(hard)
    add_variables(m)
    add_cluster_variables(m)
    add_gifts(m)
    for rule in RULES:
        rule(m)
    m.compute = compute_of(m)
    if elastic:
        m.prob.setObjective(
            expr((f, 1.0 / m.limits[name].scale) for name, f in m.shortfall.items())
        )
    else:
        m.prob.setObjective(m.compute if sc.objective == "max_compute" else total_spend(m))
    return m


def compute_of(m: RetrofitModel) -> pulp.LpAffineExpression:
    """The compute the objective counts (PFLOPS-periods): every rack,
    ``sum_{h,r,t} pflops[r] n[h,r,t]``, or with ``compute_counts: clustered`` only racks in
    clusters, ``sum_{c,d,r,t} pflops[r] R[c,r] k[c,d,r,t]``."""
    sc = m.scenario
    if sc.compute_counts == "clustered":
        return expr(
            (v, sc.rack_types[r].pflops * m.index.cluster_racks(c, r))
            for (c, _d, r, _t), v in m.k.items()
        )
    return expr((v, sc.rack_types[r].pflops) for (_, r, _), v in m.n.items())


def total_spend(m: RetrofitModel) -> pulp.LpAffineExpression:
    """Total spend over all periods (model money; what is installed is not spent)."""
    constant = sum(m.spend[t].constant for t in m.periods)
    return expr((term for t in m.periods for term in m.spend[t].items()), constant)
