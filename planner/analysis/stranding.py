"""GPUs a plan leaves outside every training cluster: a rack-count plan judged by the
clusters its racks could form (MODEL.md section 5)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import pandas as pd
import pulp

from ..plan import Plan
from ..plan import accounting as acc
from ..scenario import ClusterKind
from ..solving import SolveOptions, run

STRANDED_COLUMNS = (
    "period",
    "gpus",
    "clustered_gpus",
    "stranded_gpus",
    "stranded_share",
    "clusters",
    "pflops",
    "clustered_pflops",
)


def _kinds(plan: Plan, clusters) -> list[ClusterKind]:
    """The cluster kinds to judge by: ``clusters`` (kinds or their mappings) or the plan's own;
    every rack type they name must be one of the plan's."""
    if clusters is None:
        kinds = list(plan.scenario.cluster_kinds())
    else:
        kinds = [ClusterKind.model_validate(c) for c in clusters]
    if not kinds:
        raise ValueError(
            "no cluster kinds: the plan's scenario has none; pass clusters=[...] to judge it by"
        )
    known = {r.name for r in plan.scenario.rack_types}
    for kind in kinds:
        unknown = sorted(set(kind.rack_types or ()) - known)
        if unknown:
            raise ValueError(
                f"cluster kind {kind.name!r} names rack types the plan does not have: "
                + ", ".join(unknown)
            )
    return kinds


def stranded(
    plan: Plan,
    clusters: Sequence[ClusterKind | dict] | None = None,
    options: SolveOptions | None = None,
) -> pd.DataFrame:
    """GPUs of ``plan``'s racks that no choice of training clusters can use, per period.

    In each period t the racks operating are held as the plan has them, and the most GPUs
    clusters of the given kinds can take is found exactly (a small MILP): whole numbers
    ``k[c,d,r]`` of clusters of kind c in domain d (a hall, or a site for site-domain kinds)
    made of rack type r, each taking ``R[c,r] = ceil(gpus[c] / gpus[r])`` racks, with racks
    in at most one cluster as in MODEL.md section 5, maximising ``sum R[c,r] gpus[r] k``.
    Each period is judged on its own (the clusters need not carry over), so the stranded
    GPUs are the fewest any clustering leaves; a plan made with these kinds and
    ``compute_counts: clustered`` strands none of the racks it counts.

    ``clusters``: the kinds to judge by (default: the plan's scenario's own), for example a
    clustered scenario's kinds applied to the plan made without them.

    Columns: ``period``; ``gpus`` operating; ``clustered_gpus`` in the best clustering;
    ``stranded_gpus`` = gpus - clustered_gpus; ``stranded_share`` of gpus (0-1, 0 with no
    GPUs); ``clusters`` in that clustering; ``pflops`` operating and ``clustered_pflops`` of
    the racks in those clusters (PFLOPS).
    """
    sc = plan.scenario
    kinds = _kinds(plan, clusters)
    racks_of = {r.name: r for r in sc.rack_types}
    held = plan.racks.groupby(["period", "site", "hall", "rack_type"])["count"].sum().to_dict()
    prob = pulp.LpProblem("stranded", pulp.LpMaximize)
    hall_rows: dict = defaultdict(list)
    site_rows: dict = defaultdict(list)
    objective: dict = {}
    made: dict = {}
    for (period, site, hall, rack), count in held.items():
        r = racks_of.get(rack)
        if r is None or r.gpus <= 0 or count <= 0:
            continue
        for c, kind in enumerate(kinds):
            if kind.rack_types is not None and rack not in kind.rack_types:
                continue
            need = math.ceil(kind.gpus / r.gpus)
            domain = hall if kind.domain == "hall" else ""
            key = (period, c, site, domain, rack)
            if key in made or (kind.domain == "hall" and need > count):
                continue  # a site's kind is made once; a hall too small takes no cluster
            var = prob.add_variable(f"k_{len(made)}", 0, None, pulp.LpInteger)
            made[key] = (var, need)
            objective[var] = need * r.gpus
            if kind.domain == "hall":
                hall_rows[period, site, hall, rack].append((var, need))
            site_rows[period, site, rack].append((var, need))
    if not made:
        return _table(plan, {})
    prob += pulp.LpAffineExpression(objective)
    for i, ((period, site, hall, rack), terms) in enumerate(hall_rows.items()):
        prob += pulp.LpAffineExpression(terms) <= held[period, site, hall, rack], f"h_{i}"
    site_racks = plan.racks.groupby(["period", "site", "rack_type"])["count"].sum().to_dict()
    for i, ((period, site, rack), terms) in enumerate(site_rows.items()):
        prob += pulp.LpAffineExpression(terms) <= site_racks[period, site, rack], f"s_{i}"
    result = run(prob, options if options is not None else SolveOptions(time_limit_s=60))
    if result.status != "optimal":
        raise RuntimeError(f"the clustering of the plan's racks was not solved: {result.message}")
    chosen = {key: (round(var.varValue or 0), need) for key, (var, need) in made.items()}
    return _table(plan, chosen)


def _table(plan: Plan, chosen: dict) -> pd.DataFrame:
    """The per-period table of :func:`stranded` from the clusters ``chosen``."""
    sc = plan.scenario
    racks_of = {r.name: r for r in sc.rack_types}
    in_clusters: dict = defaultdict(int)
    pflops_in: dict = defaultdict(float)
    count: dict = defaultdict(int)
    for (period, _c, _site, _domain, rack), (k, need) in chosen.items():
        in_clusters[period] += k * need * racks_of[rack].gpus
        pflops_in[period] += k * need * racks_of[rack].pflops
        count[period] += k
    gpus = acc.gpus(sc, plan.racks)
    pflops = acc.compute_pflops(sc, plan.racks)
    rows = []
    for period in sc.periods:
        g, clustered = int(gpus[period]), in_clusters[period]
        share = (g - clustered) / g if g else 0.0
        rows.append(
            (
                period,
                g,
                clustered,
                g - clustered,
                share,
                count[period],
                float(pflops[period]),
                pflops_in[period],
            )
        )
    return pd.DataFrame(rows, columns=list(STRANDED_COLUMNS))
