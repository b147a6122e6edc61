"""Training clusters in the rule-of-thumb plan, as a planner would form them by hand.

* A rack type that a hall-domain cluster kind may use is placed a whole cluster at a time:
  the racks of one cluster (``ceil(GPUs per cluster / GPUs per rack)``) go into one hall
  with everything they need, or none of them do (:func:`try_block`). The first hall-domain
  kind in file order that may use the type sets the cluster's size.
* Racks of a type no hall-domain kind may use are placed one at a time, as are racks that
  fill a hall up once no whole cluster fits (where they still count: every rack counts, or
  a site-domain kind may gather them); a site-domain kind forms as many whole clusters over
  the site's halls as the racks left out of hall clusters make.
* With ``compute_counts: clustered``, a type no kind may use is never placed: it would add
  nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..scenario import RackType, Scenario


def hall_kind(sc: Scenario, rack: RackType) -> int | None:
    """The hall-domain kind (index) whose clusters set how ``rack`` is placed, if any."""
    for c, kind in enumerate(sc.cluster_kinds()):
        if kind.domain == "hall" and rack in sc.cluster_rack_types(kind):
            return c
    return None


def site_kind(sc: Scenario, rack: RackType) -> int | None:
    """The site-domain kind (index) formed from racks of ``rack`` left out of hall clusters."""
    for c, kind in enumerate(sc.cluster_kinds()):
        if kind.domain == "site" and rack in sc.cluster_rack_types(kind):
            return c
    return None


def size(sc: Scenario, c: int, rack: RackType) -> int:
    """Racks of ``rack`` one cluster of kind c takes."""
    return math.ceil(sc.cluster_kinds()[c].gpus / rack.gpus)


def block(sc: Scenario, rack: RackType) -> int:
    """Racks placed at a time: one hall-domain cluster's, else one."""
    c = hall_kind(sc, rack)
    return 1 if c is None else size(sc, c, rack)


def useful(sc: Scenario, rack: RackType) -> bool:
    """Whether racks of this type add to what the objective counts."""
    if sc.compute_counts != "clustered":
        return True
    return hall_kind(sc, rack) is not None or site_kind(sc, rack) is not None


def singles_count(sc: Scenario, rack: RackType) -> bool:
    """Whether racks of this type outside hall clusters still add to the objective: every
    rack counts, or a site-domain kind may gather them."""
    return sc.compute_counts != "clustered" or site_kind(sc, rack) is not None


def try_block(g, index: int, rack: RackType, racks: int) -> bool:
    """Add ``racks`` racks of ``rack`` to hall ``index`` with what they need, or nothing."""
    if racks == 1:
        return g.try_add(index, rack)
    h = g.halls[index]
    saved = (g.halls[index], dict(g.site_units[h.site_index]), g.spent, g.spent_total)
    for _ in range(racks):
        if not g.try_add(index, rack):
            g.halls[index], g.site_units[h.site_index], g.spent, g.spent_total = saved
            return False
    return True


def clusters_now(sc: Scenario, g) -> list[tuple]:
    """``(kind, site, hall or "", rack type, count)`` for the clusters the greedy state's
    racks form."""
    types = {r.name: r for r in sc.rack_types}
    kinds = sc.cluster_kinds()
    rows = []
    left: dict = defaultdict(int)  # (site index, rack type) -> racks in no hall cluster
    for h in g.halls:
        per_type: dict = defaultdict(int)
        for (name, _door), n in h.racks.items():
            per_type[name] += n
        for name, n in per_type.items():
            rack = types[name]
            c = hall_kind(sc, rack)
            count = n // size(sc, c, rack) if c is not None else 0
            if count:
                rows.append((kinds[c].name, h.site.name, h.hall.name, name, count))
            left[h.site_index, name] += n - (count * size(sc, c, rack) if count else 0)
    for (s, name), n in left.items():
        rack = types[name]
        c = site_kind(sc, rack)
        if c is not None and n // size(sc, c, rack):
            rows.append((kinds[c].name, sc.sites[s].name, "", name, n // size(sc, c, rack)))
    return rows


def targets_met(sc: Scenario, g, t: int) -> bool:
    """Whether the clusters formed so far meet every cluster target of period t."""
    have: dict = defaultdict(int)
    for kind, *_rest, count in clusters_now(sc, g):
        have[kind] += count
    return all(have[kind.name] >= kind.targets[t] for kind in sc.cluster_kinds() if kind.targets)


def table_rows(sc: Scenario, g, period: str) -> list[tuple]:
    """Rows of the plan's clusters table for ``period``."""
    kinds = {k.name: k for k in sc.cluster_kinds()}
    types = {r.name: r for r in sc.rack_types}
    rows = []
    for kind, site, hall, name, count in clusters_now(sc, g):
        racks = count * size(sc, sc.cluster_kinds().index(kinds[kind]), types[name])
        rows.append(
            (kind, kinds[kind].domain, site, hall, name, period, count, racks,
             racks * types[name].gpus)
        )  # fmt: skip
    return rows
