"""A rule-of-thumb baseline: the plan a capacity planner would draw up by hand.

:func:`greedy` fills the halls one rack at a time with the densest rack that fits, buying
whatever the next rack needs, the cheapest way, until the money or the hall runs out. It
uses no solver. Its plan obeys every rule (``plan.verify() == []``) and so never beats
:func:`planner.solve`; the difference is what the optimiser is worth on that scenario.
"""

from __future__ import annotations

import math
import time

import pandas as pd

from ..scenario import RackType, Scenario, load_scenario
from . import accounting as acc
from . import greedy_clusters as gc
from .greedy_state import _Greedy
from .plan import Plan

#: the rules a rule-of-thumb plan may miss without a bug: targets it could not reach
TARGETS = ("target", "cluster_target")


def _short(sc: Scenario, g, t: int, target: float | None, gpus: float) -> bool:
    """Whether more racks are wanted in period t: always for max_compute (``target`` None),
    else while the GPU target or a cluster target is not met."""
    if target is None:
        return True
    return gpus < target or not gc.targets_met(sc, g, t)


def _ranked(sc: Scenario, mode: str) -> list[RackType]:
    """Rack types, densest first: most PFLOPS (GPUs for min_cost) per rack position, then
    most per dollar, then file order. Types that add nothing are left out."""

    def worth(rack: RackType) -> float:
        return rack.pflops if mode == "compute" else float(rack.gpus)

    useful = [r for r in sc.rack_types if worth(r) > 0]
    return sorted(
        useful,
        key=lambda r: (
            -worth(r) / r.positions,
            -(worth(r) / r.capex_usd if r.capex_usd > 0 else math.inf),
            sc.rack_types.index(r),
        ),
    )


def greedy(scenario: Scenario | str, deadline: float | None = None) -> Plan:
    """The rule-of-thumb plan a planner would draw up by hand, for comparison with
    :func:`planner.solve`. No solver is involved; every step is listed here.

    1. Rank the rack types, densest first: most PFLOPS per rack position (for ``min_cost``
       scenarios: most GPUs per position), ties broken by more PFLOPS (GPUs) per dollar, then file
       order. Racks with no PFLOPS (GPUs) are never bought.
    2. Period by period, start from everything standing at the end of the period before
       (racks, retrofit units and CPU retirements are never undone). Spend in the period
       is capped by its budget and by what is left of ``budget_usd_total``.
    3. For each hall in file order: if the hall or its site is over a limit as it stands
       (say the CPU racks draw more than the site's feed), first make the purchases of
       step 4c until every limit holds; what one hall cannot finish, the site's next hall
       continues, and a hall still over a limit gets no racks in that period. Then, for
       each rack type in rank order that has reached its ``lead_periods`` and could ever
       be placed in the hall (its cooling fits: an air rack within ``max_air_rack_kw`` or
       with a rear-door option rated for it; a liquid rack whose residual air heat is
       within ``max_air_rack_kw`` and that a CDU or AALC option may serve; a floor option
       strong enough if it is heavier than the floor), add racks of that type one at a
       time until one cannot be added; then go on to the next type, then the next hall.
    4. To add one rack, buy what it needs, in this order:

       a. a floor reinforcement if the rack is heavier than the floor rating and no
          installed one is strong enough (the cheapest option strong enough that the hall
          does not hold yet: over a weaker one, an upgrade);
       b. a rear door if it is an air rack above the hall's air limit (a free door already
          installed, else the cheapest option rated for the rack);
       c. then, while a limit is exceeded, take the first one short in the order space,
          power, liquid heat, room air, network, facility water (site), feed (site), and
          buy the cheapest single purchase that ends that shortfall: some units of one
          retrofit option, some CPU racks retired, or (room air) a rear door for the new
          rack. Candidates: space - retire CPU racks; power - ``power`` units or retiring;
          liquid heat - ``cdu``, ``aalc`` or ``site_water`` units; room air -
          ``air_cooling``, retiring, ``cdu`` or ``site_water`` units (which take liquid
          heat off AALC sidecars), or a door; network - ``fabric`` or retiring; facility
          water - ``site_water``; feed - ``site_feed`` or retiring. Only options allowed in
          the hall, past their lead time, under ``max_units`` and affordable count. If no
          purchase ends the shortfall, the one that reduces it most is bought and the
          loop goes on (at most 40 purchases per rack).

       Liquid heat goes to CDUs first, as far as their capacity and the site's water loop
       allow, the rest to AALC sidecars. If every limit holds and the rack plus its
       purchases fit the money left, they are kept; otherwise none of them is bought, and
       the hall moves on to its next rack type.
    5. For ``min_cost`` scenarios, stop adding racks in a period as soon as the GPUs
       operating reach its ``gpu_targets`` entry.

    ``deadline`` (a ``time.perf_counter()`` reading) stops adding racks once it has passed:
    the plan then holds what was placed by then (it still obeys every rule), and its
    message says so.

    Returns a :class:`~planner.Plan` with status ``"feasible"`` and solver ``"greedy"``,
    whose objective and spend are recomputed from its tables by
    :mod:`planner.plan.accounting`; it verifies clean. If the rules of thumb miss a GPU target,
    or leave a hall over a limit it was over as it stood, the plan has status ``"error"``
    and says where (its tables are kept for inspection).
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    start = time.perf_counter()
    mode = "compute" if sc.objective == "max_compute" else "targets"
    g = _Greedy(sc, mode)
    ranked = _ranked(sc, mode)
    rows_racks, rows_units, rows_halls, rows_clusters = [], [], [], []
    previous_units: dict = {  # what is installed was there before the first period
        (site, hall, name): n
        for (what, site, hall, name), n in acc.installed_stock(sc).items()
        if what == "unit"
    }
    cut_short = False
    for t, period in enumerate(sc.periods):
        g.t, g.spent = t, 0.0
        target = sc.gpu_targets[t] if (mode == "targets" and sc.gpu_targets) else None
        if mode == "targets" and target is None:
            target = 0  # only cluster targets to meet
        gpus = sum(
            n * rack.gpus
            for h in g.halls
            for (name, _), n in h.racks.items()
            for rack in sc.rack_types
            if rack.name == name
        )
        for index, h in enumerate(g.halls):
            if deadline is not None and time.perf_counter() > deadline:
                cut_short = True
                g.unrepaired = True  # halls not yet repaired may still be over a limit
                break
            if not g.repair(index):
                g.unrepaired = True  # over a limit as it stands: add no rack here now
                continue

            for rack in ranked:
                if not _short(sc, g, t, target, gpus):
                    break
                if t < rack.lead_periods or not g.placeable(h, rack) or not gc.useful(sc, rack):
                    continue
                racks = gc.block(sc, rack)
                while _short(sc, g, t, target, gpus) and gc.try_block(g, index, rack, racks):
                    gpus += rack.gpus * racks
                if racks > 1 and gc.singles_count(sc, rack):  # fill up with single racks
                    while _short(sc, g, t, target, gpus) and g.try_add(index, rack):
                        gpus += rack.gpus
        for h in g.halls:
            site, hall = h.site.name, h.hall.name
            for (name, door), n in h.racks.items():
                if n:
                    rows_racks.append((site, hall, period, name, door, n))
            for name, n in h.units.items():
                if n:
                    kind = next(o.kind for o in h.options if o.name == name)
                    added = n - previous_units.get((site, hall, name), 0)
                    rows_units.append((site, hall, period, name, kind, n, added))
                    previous_units[site, hall, name] = n
            count = h.hall.cpu_racks.count if h.hall.cpu_racks else 0
            rows_halls.append(
                (site, hall, period, h.retired, count - h.retired, h.to_cdu, h.to_aalc)
            )
        rows_clusters += gc.table_rows(sc, g, period)
        for s, site in enumerate(sc.sites):
            for name, n in g.site_units[s].items():
                if n:
                    kind = next(o.kind for o in g.site_options if o.name == name)
                    added = n - previous_units.get((site.name, "", name), 0)
                    rows_units.append((site.name, "", period, name, kind, n, added))
                    previous_units[site.name, "", name] = n
    racks = pd.DataFrame(rows_racks, columns=acc.RACK_COLUMNS)
    retrofits = pd.DataFrame(rows_units, columns=acc.RETROFIT_COLUMNS)
    halls = pd.DataFrame(rows_halls, columns=acc.HALL_COLUMNS)
    clusters = pd.DataFrame(rows_clusters, columns=acc.CLUSTER_COLUMNS)
    spend = acc.spend(sc, racks, retrofits, halls)
    total = float(spend["total_usd"].sum())
    objective = float(acc.counted_pflops(sc, racks, clusters).sum()) if mode == "compute" else total
    plan = Plan(
        sc,
        "feasible",
        objective=objective,
        total_spend_usd=total,
        racks=racks,
        retrofits=retrofits,
        halls=halls,
        clusters=clusters,
        solver="greedy",
        message="rule-of-thumb baseline (planner.baseline.greedy): densest rack first, "
        "cheapest unlocking purchase, hall by hall within budget",
        solve_seconds=time.perf_counter() - start,
    )
    if cut_short:
        plan.message += "; stopped at its deadline with the racks placed by then"
    problems = plan.verify()
    if g.unrepaired and any(p.rule not in TARGETS for p in problems):
        # the halls as they stand exceed a limit that no purchase in reach repairs
        plan.status = "error"
        plan.message = (
            "the halls as they stand exceed limits that the rule of thumb cannot repair "
            "(no retrofit or CPU retirement in reach of the budget fixes them): "
            + "; ".join(str(p) for p in problems if p.rule not in TARGETS)
        )
        return plan
    missed = [p for p in problems if p.rule in TARGETS]
    if len(missed) < len(problems):  # a bug in this module: never hand out such a plan
        raise RuntimeError(
            "the greedy baseline broke a rule: " + "; ".join(str(p) for p in problems)
        )
    if missed:
        plan.status = "error"
        which = " and ".join(
            words
            for rule, words in (("target", "GPU"), ("cluster_target", "cluster"))
            if any(p.rule == rule for p in missed)
        )
        plan.message = f"the rule of thumb misses the {which} targets: " + "; ".join(
            f"{p.period}: {p.message}" for p in missed
        )
    return plan


def gap_line(optimum: Plan, baseline: Plan) -> str:
    """One sentence comparing a solved plan with the greedy baseline of its scenario:
    ``Rule-of-thumb baseline (greedy): N PFLOPS-periods; the optimiser finds X% more for
    the same budget`` (for ``min_cost``: the spend, and how much less the optimiser spends).
    """
    head = "Rule-of-thumb baseline (greedy)"
    if not baseline.has_plan:
        return f"{head}: no plan - {baseline.message}."
    mine, best = baseline.objective, optimum.objective
    if optimum.scenario.objective == "max_compute":
        said = f"{head}: {mine:,.6g} PFLOPS-periods"
        if math.isclose(best, mine, rel_tol=1e-6, abs_tol=1e-6):
            return f"{said}; the optimiser finds no more for the same budget"
        if best < mine:  # only when the solve stopped short of its optimum
            return (
                f"{said}; {(mine - best) / best:.2%} more than this plan, which the solver "
                f"stopped short of optimal (gap {optimum.gap or 0:.2%})"
            )
        if mine <= 0:
            return f"{said}; the optimiser finds {best:,.6g} for the same budget"
        return f"{said}; the optimiser finds {(best - mine) / mine:.1%} more for the same budget"
    said = f"{head}: ${mine:,.0f} to meet the GPU targets"
    if math.isclose(best, mine, rel_tol=1e-6, abs_tol=1e-3):
        return f"{said}; the optimiser spends no less"
    if best > mine:
        return (
            f"{said}; {(best - mine) / best:.2%} less than this plan, which the solver "
            f"stopped short of optimal (gap {optimum.gap or 0:.2%})"
        )
    return f"{said}; the optimiser spends {(mine - best) / mine:.1%} less"
