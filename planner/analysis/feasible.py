"""The data behind the planner's plots, as tidy tables from real solves and real checks.

Nothing here draws; :mod:`planner.plots` draws what these functions return, and the tests
check these tables. Column names carry their unit (``spend_usd``, ``pflops_periods``).

* :func:`feasible_points` / :func:`feasible_region`: which whole-number mixes of two rack
  types one hall (or, with ``site=``, one site's halls together) can take in one period.
  For a hall as it stands and with the plan's retrofits, each point is decided by
  building the candidate's tables and checking them with :mod:`planner.plan.accounting` (or,
  with ``check="verify"``, with :meth:`Plan.verify`), never with the MILP. The "most the
  budget can buy" region, and every region of a site (the racks spread over its halls as
  the rules allow), are found with the MILP, one solve per column.
* :func:`frontier`: most compute against budget (or least spend against a GPU target), one
  :func:`planner.solve` per point.
* :func:`timeline`: racks, GPUs and PFLOPS operating per period, retrofits as they
  complete, and spend against budget.
* :func:`utilisation_matrix`: share of every resource used, per hall (site) and period.
* :func:`bandwidth_sensitivity`: compute as a rack type's network multiple varies.

How the feasible region is defined (see ``docs/plots.md``)
-----------------------------------------------------------
The picture is a snapshot of one period ``t`` (default: the last). :func:`snapshot` turns
the plan into a one-period plan of everything standing in ``t``: racks, retrofit units and
CPU racks retired by ``t``, with the period's lead times (an item can exist if its
``lead_periods <= t``) and, as budget, the scenario's per-period budgets summed over periods
``0..t`` (and ``budget_usd_total``): what was spent on everything standing in ``t`` must fit
in what could have been spent by then. A plan's own snapshot passes ``Plan.verify()``.

A point ``(x, y)`` puts ``x`` racks of type A and ``y`` of type B in the hall; every other
decision is held as in the plan (other rack types in the hall, CPU racks retired, every
other hall with its rear doors and liquid split, site-scope units) or at zero when a
scenario is given instead of a plan. The hall's own rear-door assignment and CDU/AALC
split are chosen for the point: a point is feasible if some choice passes every rule.
``retrofits`` picks the hall's retrofit units: ``"none"`` (the hall as it stands),
``"plan"`` (the plan's units in ``t``) or ``"budget"`` (whatever the budget can buy,
anywhere, with CPU retirements free too: the MILP of the snapshot with the two rack counts
fixed). Removing a rack never breaks a rule here (no GPU targets in a snapshot), so each
region is closed downwards: the budget region is found as the largest ``y`` for each
``x`` (one MILP per column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..plan import Plan
from ..scenario import Hall, RackType, Scenario, Site
from ..solving import SolveOptions
from .case import _case
from .common import (
    MODES,
    Retrofits,
    default_pair,
    find_hall,
    find_rack,
    find_site,
    mode_label,
    period_index,
    site_pair,
    snapshot,
)
from .hall_region import _best, _bound, _check, _CheckRegion, _rule_slacks
from .milp_region import _MilpRegion
from .site_region import _site_case


def _region(
    snap: Plan,
    site: Site,
    halls: Sequence[Hall],
    a: RackType,
    b: RackType,
    mode: str,
    opts: SolveOptions,
    site_scope: bool,
) -> _MilpRegion | _CheckRegion:
    """How a region is decided: by the checker for one hall with its units held, else by the
    MILP (the budget region, and every region of a site)."""
    if mode not in MODES:
        raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {mode!r}")
    if not site_scope and mode != "budget":
        return _CheckRegion(_case(snap, f"{site.name}/{halls[0].name}", a.name, b.name, mode))
    return _MilpRegion(
        snap, site, halls, a, b, mode, opts, site_scope=site_scope, explain=site_scope
    )


def _totals(snap: Plan, site: Site, halls: Sequence[Hall], a: RackType, b: RackType) -> tuple:
    """Racks of types A and B standing in the halls in the snapshot."""
    names = {h.name for h in halls}
    here = snap.racks[(snap.racks["site"] == site.name) & snap.racks["hall"].isin(names)]
    by = here.groupby("rack_type")["count"].sum()
    return int(by.get(a.name, 0)), int(by.get(b.name, 0))


def _scope(
    source: Plan | Scenario,
    sc: Scenario,
    hall: str | None,
    site: str | None,
    rack_a: str | None,
    rack_b: str | None,
) -> tuple[Site, list[Hall], RackType, RackType]:
    """The site, the halls of the picture and its two rack types: one hall (``hall``, by
    default :func:`default_pair`'s), or every hall of ``site`` (racks by default
    :func:`site_pair`'s)."""
    if site is not None and hall is not None:
        raise ValueError("give a hall or a site, not both")
    if site is not None:
        s = find_site(sc, site)
        halls = list(s.halls)
        if rack_a is None or rack_b is None:
            pair = site_pair(source, s.name)
            if pair is None:
                raise ValueError(f"site {site!r} has fewer than two deployable rack types")
            rack_a, rack_b = rack_a or pair[0], rack_b or pair[1]
    else:
        if hall is None or rack_a is None or rack_b is None:
            pair = default_pair(source)
            if pair is None:
                raise ValueError("no hall has two deployable rack types: give hall and racks")
            hall, rack_a, rack_b = hall or pair[0], rack_a or pair[1], rack_b or pair[2]
        s, h = find_hall(sc, hall)
        halls = [h]
    a, b = find_rack(sc, rack_a), find_rack(sc, rack_b)
    if a.name == b.name:
        raise ValueError("rack_a and rack_b must be different rack types")
    return s, halls, a, b


def feasible_points(
    source: Plan | Scenario,
    hall: str | None,
    rack_a: str,
    rack_b: str,
    period: str | int | None = None,
    retrofits: Retrofits = "plan",
    *,
    site: str | None = None,
    x_max: int | None = None,
    y_max: int | None = None,
    step: int | None = None,
    max_points: int = 2500,
    check: Literal["accounting", "verify"] = "accounting",
    options: SolveOptions | None = None,
    **fields: Any,
) -> pd.DataFrame:
    """Every point of a lattice ``x = 0, step, ..., x_max`` racks of ``rack_a`` by
    ``y = 0, step, ..., y_max`` racks of ``rack_b`` in ``hall`` in ``period`` (default: the
    last), with whether it is feasible. With ``hall=None, site=NAME``, ``x`` and ``y`` are
    the racks of the two types over all the site's halls, spread over them as the rules
    allow.

    One hall, ``retrofits="none"|"plan"``: each point's tables are built (the hall's
    rear-door assignment and CDU/AALC split chosen for the point, everything else as in the
    plan's snapshot, see the module docstring) and checked with planner.plan.accounting
    (``check="accounting"``) or ``Plan.verify()`` (``check="verify"``, slower, same
    answers). ``"budget"``, and every retrofit set of a site: ``y <= `` the MILP's largest
    ``y`` for that ``x`` (one solve per lattice column). Bounds default to the positions of
    the hall (the site's halls); ``step`` to keep the lattice within ``max_points``.

    Columns: ``site, hall`` ("" for a site), ``period, retrofits, rack_a, rack_b, a_racks,
    b_racks, feasible, broken`` (rules broken, ";"-separated; "" when feasible or decided
    by the MILP), ``gpus, pflops, capex_usd`` (of the two rack types at the point).
    """
    if retrofits not in MODES:
        raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {retrofits!r}")
    snap = snapshot(source, period)
    sc = snap.scenario
    s, halls, a, b = _scope(source, sc, hall, site, rack_a, rack_b)
    x_max = sum(_bound(h, a) for h in halls) if x_max is None else x_max
    y_max = sum(_bound(h, b) for h in halls) if y_max is None else y_max
    if step is None:
        step = max(1, math.ceil(math.sqrt((x_max + 1) * (y_max + 1) / max_points)))
    xs = range(0, x_max + 1, step)
    ys = range(0, y_max + 1, step)
    rows = []
    if site is None and retrofits != "budget":
        case = _case(snap, f"{s.name}/{halls[0].name}", a.name, b.name, retrofits)
        for x in xs:
            for y in ys:
                ok, broken = _check(case, x, y, check)
                rows.append((x, y, ok, ";".join(broken)))
    else:
        opts = SolveOptions.of(options, **fields)
        region = _MilpRegion(snap, s, halls, a, b, retrofits, opts, site_scope=site is not None)
        for x in xs:
            top = region.largest_y(x)
            rows += [(x, y, y <= top, "") for y in ys]
    df = pd.DataFrame(rows, columns=["a_racks", "b_racks", "feasible", "broken"])
    df.insert(0, "rack_b", b.name)
    df.insert(0, "rack_a", a.name)
    df.insert(0, "retrofits", retrofits)
    df.insert(0, "period", sc.periods[0])
    df.insert(0, "hall", "" if site is not None else halls[0].name)
    df.insert(0, "site", s.name)
    df["gpus"] = a.gpus * df["a_racks"] + b.gpus * df["b_racks"]
    df["pflops"] = a.pflops * df["a_racks"] + b.pflops * df["b_racks"]
    df["capex_usd"] = a.capex_usd * df["a_racks"] + b.capex_usd * df["b_racks"]
    return df


@dataclass
class FeasibleRegion:
    """What a feasible-region picture shows (see :func:`feasible_region`)."""

    site: str
    hall: str  # "" for a site's picture
    period: str
    rack_a: str
    rack_b: str
    scenario_name: str
    #: ``retrofits, a_racks, b_racks_max``: the largest feasible y for each sampled x
    #: (-1: none), per retrofit set; non-increasing in x, and every marked point's x is one
    columns: pd.DataFrame
    #: ``rule, unit, a_racks, b_racks, slack``: each rule's slack with the plan's retrofit
    #: set on a grid (the zero contour is the rule's boundary; for a site, the site total)
    rules: pd.DataFrame
    #: ``kind, label, a_racks, b_racks, stops_a, stops_b``: the plan's point (kind
    #: "optimum") and the best point (most PFLOPS) of each region (kind: its retrofit set),
    #: with the rules that stop one more rack of type A (``stops_a``) and of type B
    points: pd.DataFrame
    x_limit: float
    y_limit: float
    unit_pflops: tuple[float, float] = (0.0, 0.0)
    #: ``(period, a_racks, b_racks)`` standing in the hall in the period before (racks are
    #: never removed, so a plan reaches only points at or above these), or None
    previous: tuple[str, int, int] | None = None
    #: "hall" (one hall) or "site" (racks summed over the site's halls)
    scope: str = "hall"
    #: the halls of the picture
    halls: tuple[str, ...] = ()


def _columns_of(top: int, columns: int, extents: Iterable[int], px: int) -> set[int]:
    """The sampled columns: ``columns`` evenly spaced over ``0..top``, each region's widest
    column and the plan's ``px``."""
    n = min(columns, top + 1)
    out = {int(round(v)) for v in np.linspace(0, top, n)}
    return out | {v for v in extents if v >= 0} | {px}


def _fill(regions: dict, extent_x: dict, tops: dict, xs: Iterable[int]) -> None:
    """Each region's largest y on the columns ``xs`` it does not know yet (-1 beyond the
    region's widest column)."""
    for m, region in regions.items():
        for x in sorted(set(xs)):
            if x not in tops[m]:
                tops[m][x] = region.largest_y(x) if x <= extent_x[m] else -1


def _closed(tops: dict[int, int]) -> dict[int, int]:
    """Column tops made non-increasing in x. A region closed downwards that holds (x', y)
    holds (x, y) for every x < x', so a point found in a later column holds in every earlier
    one (this changes a column only when a solve stopped short of its optimum)."""
    out: dict[int, int] = {}
    most = -1
    for x in sorted(tops, reverse=True):
        most = max(most, tops[x])
        out[x] = most
    return dict(sorted(out.items()))


def feasible_region(
    source: Plan | Scenario,
    hall: str | None = None,
    rack_a: str | None = None,
    rack_b: str | None = None,
    period: str | int | None = None,
    *,
    site: str | None = None,
    columns: int = 60,
    grid: int = 81,
    modes: Sequence[str] = MODES,
    options: SolveOptions | None = None,
    **fields: Any,
) -> FeasibleRegion:
    """The data of a feasible-region picture: for each retrofit set in ``modes`` the largest
    feasible ``y`` on up to ``columns`` sampled values of ``x`` (exact per column: the
    regions are closed downwards) plus the columns of every marked point, each rule's slack
    with the plan's retrofits on a ``grid`` x ``grid`` lattice, the plan's point and each
    region's best point.

    ``hall``, ``rack_a``, ``rack_b`` default to :func:`default_pair`. With ``site=NAME``
    (and no hall) the picture is of the racks of two types over all the site's halls
    (racks default to :func:`site_pair`): every region is decided by the MILP, and the
    rules' boundaries are site totals. A MILP region costs one solve of the period's
    snapshot per sampled column.
    """
    snap = snapshot(source, period)
    sc = snap.scenario
    s, halls, a, b = _scope(source, sc, hall, site, rack_a, rack_b)
    site_scope = site is not None
    scope = "site" if site_scope else "hall"
    opts = SolveOptions.of(options, **fields)
    regions = {m: _region(snap, s, halls, a, b, m, opts, site_scope) for m in modes}
    extent_x = {m: r.largest_x() for m, r in regions.items()}
    px, py = _totals(snap, s, halls, a, b) if isinstance(source, Plan) else (0, 0)
    top_x = max([px, 1, *extent_x.values()])
    tops: dict = {m: {} for m in regions}
    _fill(regions, extent_x, tops, _columns_of(top_x, columns, extent_x.values(), px))
    step = math.ceil(top_x / max(min(columns, top_x + 1) - 1, 1))
    best = {m: r.best(tops[m], step) for m, r in regions.items()}
    _fill(regions, extent_x, tops, [p[0] for p in best.values() if p is not None])
    tops = {m: _closed(t) for m, t in tops.items()}
    rows = [(m, x, top) for m in regions for x, top in tops[m].items()]
    cols = pd.DataFrame(rows, columns=["retrofits", "a_racks", "b_racks_max"])

    top_y = max([py, 1, *(max(t.values()) for t in tops.values())])
    x_limit = top_x * 1.06 + 1
    y_limit = top_y * 1.06 + 1
    # rule slacks with the plan's retrofit set (none for a scenario: no plan, no units)
    if site_scope:
        rule_case = _site_case(snap, s, a, b)
        plan_region = regions.get("plan") or _region(snap, s, halls, a, b, "plan", opts, True)
    else:
        plan_region = regions.get("plan") or _region(snap, s, halls, a, b, "plan", opts, False)
        rule_case = plan_region.case
    rules = _rule_slacks(rule_case, x_limit, y_limit, grid)

    points = []
    if isinstance(source, Plan):
        points.append(("optimum", "the plan", px, py, *plan_region.stops(px, py)))
    for m, region in regions.items():
        found = _best(a, b, [(x, y) for x, y in tops[m].items() if y >= 0])
        if found is not None:
            points.append((m, mode_label(m, scope), *found, *region.stops(*found)))
    pts = pd.DataFrame(
        points, columns=["kind", "label", "a_racks", "b_racks", "stops_a", "stops_b"]
    )
    pts["pflops"] = a.pflops * pts["a_racks"] + b.pflops * pts["b_racks"]
    pts["gpus"] = a.gpus * pts["a_racks"] + b.gpus * pts["b_racks"]
    previous = None
    t = period_index(source.scenario if isinstance(source, Plan) else source, period)
    if isinstance(source, Plan) and t > 0:
        before = snapshot(source, t - 1)
        previous = (before.scenario.periods[0], *_totals(before, s, halls, a, b))
    return FeasibleRegion(
        previous=previous,
        site=s.name,
        hall="" if site_scope else halls[0].name,
        period=sc.periods[0],
        rack_a=a.name,
        rack_b=b.name,
        scenario_name=sc.name,
        columns=cols,
        rules=rules,
        points=pts,
        x_limit=x_limit,
        y_limit=y_limit,
        unit_pflops=(a.pflops, b.pflops),
        scope=scope,
        halls=tuple(h.name for h in halls),
    )
