"""The rules of training clusters (MODEL.md section 5), checked from a plan's tables alone:
part of :func:`planner.plan.verify.verify`, sharing no code with the model.

* the table names known kinds, rack types the kind may use, places of the kind's domain,
  and states each row's racks and GPUs as ``count`` whole clusters of the kind;
* clusters are cumulative;
* the racks clusters need stand in their domain, and no rack is in two clusters: per hall,
  rack type and period the hall-domain clusters' racks are at most the hall's racks of that
  type; per site, the hall-domain and site-domain clusters' racks are at most the site's;
* cluster targets are met.
"""

from __future__ import annotations

from collections import defaultdict

from ..scenario import Scenario
from . import accounting as acc


def check_cluster_table(sc: Scenario, plan, bad) -> None:
    """Names, places and counts of the clusters table."""
    kinds = {k.name: k for k in sc.cluster_kinds()}
    halls = {(s.name, h.name) for s, h in sc.halls()}
    sites = {s.name for s in sc.sites}
    periods = set(sc.periods)
    seen: set = set()
    for row in plan.clusters.itertuples(index=False):
        where = dict(site=row.site, hall=row.hall, period=row.period)
        key = (row.kind, row.site, row.hall, row.rack_type, row.period)
        if key in seen:
            bad("table", f"{row.kind!r} has more than one clusters row here", **where)
        seen.add(key)
        kind = kinds.get(row.kind)
        if kind is None:
            bad("table", f"unknown cluster kind {row.kind!r}", **where)
            continue
        if row.rack_type not in {r.name for r in sc.cluster_rack_types(kind)}:
            bad("table", f"{row.kind} clusters cannot be made of {row.rack_type!r}", **where)
            continue
        place_known = (
            (row.site, row.hall) in halls
            if kind.domain == "hall"
            else (row.site in sites and not row.hall)
        )
        if row.domain != kind.domain or not place_known or row.period not in periods:
            bad("table", f"{row.kind} clusters recorded at an unknown or wrong place", **where)
        if row.count < 0 or row.count != int(row.count):
            bad("table", f"cluster count {row.count} is not a whole number >= 0", **where)
            continue
        size = acc.cluster_size(sc, row.kind, row.rack_type)
        gpus = {r.name: r.gpus for r in sc.rack_types}[row.rack_type]
        if row.racks != row.count * size or row.gpus != row.racks * gpus:
            bad(
                "table",
                f"{row.count} {row.kind} clusters of {row.rack_type} are {row.count * size} "
                f"racks and {row.count * size * gpus} GPUs, not {row.racks} and {row.gpus}",
                **where,
            )


def check_clusters(sc: Scenario, plan, bad) -> None:
    """Cumulative clusters, their racks standing in their domain, and cluster targets."""
    kinds = {k.name: k for k in sc.cluster_kinds()}
    order = {p: t for t, p in enumerate(sc.periods)}
    racks: dict = defaultdict(int)  # (site, hall, type, period) -> racks standing
    for row in plan.racks.itertuples(index=False):
        racks[row.site, row.hall, row.rack_type, row.period] += int(row.count)
    in_hall: dict = defaultdict(int)  # (site, hall, type, period) -> hall-domain cluster racks
    in_site: dict = defaultdict(int)  # (site, type, period) -> all cluster racks in the site
    counts: dict = defaultdict(dict)  # (kind, site, hall, type) -> {period: count}
    per_kind: dict = defaultdict(int)  # (kind, period) -> clusters operating
    for row in plan.clusters.itertuples(index=False):
        size = acc.cluster_size(sc, row.kind, row.rack_type) or 0
        taken = int(row.count) * size
        if kinds[row.kind].domain == "hall":
            in_hall[row.site, row.hall, row.rack_type, row.period] += taken
        in_site[row.site, row.rack_type, row.period] += taken
        counts[row.kind, row.site, row.hall, row.rack_type][row.period] = int(row.count)
        per_kind[row.kind, row.period] += int(row.count)
    for (site, hall, rack, period), need in in_hall.items():
        have = racks[site, hall, rack, period]
        if need > have:
            bad(
                "clusters",
                f"hall-domain clusters need {need} {rack} racks but {have} stand in the hall",
                site=site,
                hall=hall,
                period=period,
            )
    for (site, rack, period), need in in_site.items():
        have = sum(n for (s, _h, r, p), n in racks.items() if (s, r, p) == (site, rack, period))
        if need > have:
            bad(
                "clusters",
                f"clusters need {need} {rack} racks in the site but {have} stand there",
                site=site,
                period=period,
            )
    for (kind, site, hall, rack), by_period in counts.items():
        first = min(order[p] for p in by_period)
        last = 0
        for period in sc.periods[first:]:
            now = by_period.get(period, 0)
            if now < last:
                bad(
                    "cumulative",
                    f"{kind} clusters of {rack} fall from {last} to {now}",
                    site=site,
                    hall=hall,
                    period=period,
                )
            last = now
    for kind in sc.cluster_kinds():
        for period, target in zip(sc.periods, kind.targets or [], strict=False):
            have = per_kind[kind.name, period]
            if have < target:
                bad(
                    "cluster_target",
                    f"{have} {kind.name} clusters operating, target {target}",
                    period=period,
                )
