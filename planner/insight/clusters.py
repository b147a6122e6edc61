"""What stops the next training cluster of a plan, domain by domain.

For each cluster kind and each place it may stand (a hall, or a site for site-domain
kinds), :func:`next_clusters` asks the elastic model (every capacity rule, budget and
target may be broken, at a price relative to its size) for one more cluster of that kind
there in the last period, on top of everything the plan already has (its racks, retrofit
units, retirements and clusters held as lower bounds). The shortfalls that would allow it
are what stops it: "one more ai-zone in hall a1 needs 48 more hgx-h100-liquid racks: power
short by 1,150 kW, facility water short by 600 kW".
"""

from __future__ import annotations

import pandas as pd

from ..model import MONEY, build
from ..plan import accounting as acc
from ..solving import SolveOptions, run
from ..solving.diagnose import _RULE_TEXT as RULE_TEXT
from ..solving.diagnose import _amount
from ..solving.pool import solve_many, threads_per_worker, workers_for
from ..solving.starts import start_values

NEXT_COLUMNS = ["kind", "site", "hall", "rack_type", "period", "racks_needed", "stops", "message"]


def _place_text(kind, site: str, hall: str) -> str:
    return f"hall {hall}" if kind.domain == "hall" else f"site {site}"


def _free_racks(plan, kind, site: str, hall: str, rack: str, period: str) -> int:
    """Racks of ``rack`` standing in the domain in ``period`` that no cluster holds."""
    racks = plan.racks[(plan.racks["site"] == site) & (plan.racks["period"] == period)]
    clusters = plan.clusters[(plan.clusters["site"] == site) & (plan.clusters["period"] == period)]
    racks = racks[racks["rack_type"] == rack]
    clusters = clusters[clusters["rack_type"] == rack]
    in_site = int(racks["count"].sum()) - int(clusters["racks"].sum())
    if kind.domain == "site":
        return in_site
    # a hall's racks may also be held by the site's clusters: at most what the site has free
    here = int(racks.loc[racks["hall"] == hall, "count"].sum())
    return min(here - int(clusters.loc[clusters["hall"] == hall, "racks"].sum()), in_site)


def next_clusters(
    plan, options: SolveOptions | None = None, workers: int | None = None
) -> pd.DataFrame:
    """One row per cluster kind and place: what one more cluster there in the last period
    would need. Columns ``kind, site, hall, rack_type, period, racks_needed`` (racks of the
    type beyond those standing free there), ``stops`` (the rules short, ";"-separated;
    "" when nothing stops it: the plan chose not to) and ``message``. The elastic solves,
    one per place, run in ``workers`` processes (None: one per core; 1: here)."""
    sc = plan.scenario
    if not plan.has_plan or not sc.cluster_kinds():
        return pd.DataFrame(columns=NEXT_COLUMNS)
    opts = SolveOptions.of(options, mip_gap=1e-6)
    t = sc.n_periods - 1
    period = sc.periods[t]
    base = build(sc, elastic=True)
    held = start_values(base, plan)
    asks = []  # (kind index, site, hall, rack type index)
    for c, kind in enumerate(sc.cluster_kinds()):
        members = sc.cluster_rack_types(kind)
        used = set(plan.clusters.loc[plan.clusters["kind"] == kind.name, "rack_type"])
        places = (
            [(s.name, h.name) for s, h in sc.halls()]
            if kind.domain == "hall"
            else [(s.name, "") for s in sc.sites]
        )
        for site, hall in places:
            d = _domain(base, kind, site, hall)
            # the rack type the plan uses for this kind, else the one with most PFLOPS
            ranked = sorted(members, key=lambda r: (r.name not in used, -r.pflops))
            choice = next((r for r in ranked if (c, d, sc.rack_types.index(r), t) in base.k), None)
            if choice is not None:  # else no type of this kind can ever form one here
                asks.append((c, site, hall, sc.rack_types.index(choice)))
    count = workers_for(len(asks), plan.solve_seconds + plan.build_seconds, workers)
    each = SolveOptions.of(opts, threads=opts.threads or threads_per_worker(count))
    answers = solve_many(_one_more, [(sc, *a, held, each) for a in asks], count)
    rows = []
    for (c, site, hall, r), stops in zip(asks, answers, strict=True):
        kind, choice = sc.cluster_kinds()[c], sc.rack_types[r]
        need = acc.cluster_size(sc, kind.name, choice.name)
        free = _free_racks(plan, kind, site, hall, choice.name, period)
        racks_needed = max(need - free, 0)
        rules = "; ".join(rule for rule, _ in stops or [])
        where = _place_text(kind, site, hall)
        head = f"one more {kind.name} in {where} needs {racks_needed:,} more {choice.name} racks"
        if stops is None:
            text = f"{head}: not even with every limit relaxed"
        elif stops:
            text = f"{head}: " + ", ".join(words for _, words in stops)
        else:
            text = f"{head}: nothing stops it (the plan's objective does not want it)"
        rows.append((kind.name, site, hall, choice.name, period, racks_needed, rules, text))
    return pd.DataFrame(rows, columns=NEXT_COLUMNS)


def _one_more(sc, c: int, site: str, hall: str, r: int, held: dict, options) -> list | None:
    """The shortfalls (see :func:`_stops`) of the elastic model that holds the plan's
    decisions and asks one more cluster of kind ``c`` of rack type ``r`` at the place in
    the last period; None when even that model has no solution."""
    t = sc.n_periods - 1
    m = build(sc, elastic=True)
    d = _domain(m, sc.cluster_kinds()[c], site, hall)
    for var in m.prob.variables():
        value = held.get(var.name)
        if value and not var.name.startswith(("qc_", "qa_")):
            var.lowBound = max(var.lowBound or 0, round(value))
    target = m.k[c, d, r, t]
    target.lowBound = (target.lowBound or 0) + 1
    result = run(m.prob, options)
    return _stops(sc, m) if result.has_solution else None


def _domain(m, kind, site: str, hall: str) -> int:
    sc = m.scenario
    if kind.domain == "site":
        return [s.name for s in sc.sites].index(site)
    return next(i for i, (_, s, h) in enumerate(m.index.halls) if (s.name, h.name) == (site, hall))


def _stops(sc, m) -> list[tuple[str, str]]:
    """``(rule, "power short by 1,150 kW in hall a1")`` for each shortfall of the solved
    elastic model, largest relative shortfall first."""
    found = []
    for name, var in m.shortfall.items():
        amount = var.varValue or 0.0
        limit = m.limits[name]
        if amount <= 1e-6 * max(1.0, limit.scale):
            continue
        if limit.unit == "USD":
            amount *= MONEY
        hall = m.index.halls[limit.hall][2].name if limit.hall is not None else ""
        site = sc.sites[limit.site].name if limit.site is not None else ""
        where = f" in hall {hall}" if hall else f" at site {site}" if site else ""
        when = f" in {sc.periods[limit.period]}" if limit.period is not None else ""
        words = f"{RULE_TEXT.get(limit.rule, limit.rule)} short by {_amount(amount, limit.unit)}"
        found.append((amount / limit.scale, limit.rule, words + where + when))
    found.sort(key=lambda f: -f[0])
    return [(rule, words) for _, rule, words in found]
