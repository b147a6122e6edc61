"""Explain a plan: which limits bind, what one more unit of a retrofit is worth, and why a
scenario has no plan."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..model import MONEY, Gift, Index, build
from ..plan.binding import binding
from ..plan.limits import limit_lines
from ..scenario import CAPACITY_UNIT
from ..solving import SolveOptions, run
from ..solving.options import EXACT
from ..solving.pool import solve_many, threads_per_worker, workers_for
from ..solving.progress import progress_bar
from ..solving.starts import start_values
from .clusters import next_clusters

# -- marginal values by re-solving -----------------------------------------------------------
#: which utilisation resource each retrofit kind relieves (for screening candidates)
RELIEVES = {
    "power": ("power",),
    "air_cooling": ("room_air",),
    "cdu": ("liquid_cdu", "room_air"),
    "aalc": ("liquid_aalc",),
    "rdhx": ("rdhx_doors", "room_air"),
    "fabric": ("network",),
    "floor": (),
    "site_water": ("facility_water",),
    "site_feed": ("feed",),
}

MARGINAL_COLUMNS = [
    "option",
    "kind",
    "site",
    "hall",
    "period",
    "gain",
    "gain_unit",
    "price_usd",
    "price_buys",
    "worth_price",
    "at_cap",
    "exact",
]


def _objective(sc, gifts, options: SolveOptions, start=None, plan=None):
    """``(objective, proven, values)``: the scenario's primary objective (PFLOPS-periods or
    USD) with gifted units, whether it is proven within the gap, and the variables' values.
    ``start``: a solution without gifts, feasible with them too (a gift may go unused),
    to warm-start HiGHS; or ``plan``, whose decisions are that start."""
    m = build(sc, gifts=gifts)
    if plan is not None:
        start = start_values(m, plan)
    result = run(m.prob, options, start=start)
    if not result.has_solution:
        return None, False, None
    value = result.objective if sc.objective == "max_compute" else result.objective * MONEY
    values = {v.name: v.varValue for v in m.prob.variables()}
    return value, result.status == "optimal", values


def _with_more_budget(sc, period: int, usd: float):
    """The scenario with ``usd`` more budget in one period (and in the total cap)."""
    data = sc.model_dump()
    budgets = sc.budgets()
    if budgets[period] is None and sc.budget_usd_total is None:
        return None  # money is not what limits this period
    if budgets[period] is not None:
        budgets[period] += usd
        data["budget_usd_per_period"] = budgets
    if sc.budget_usd_total is not None:
        data["budget_usd_total"] = sc.budget_usd_total + usd
    return type(sc).model_validate(data)


def _clean(change: float, base: float) -> float:
    """A change in objective, with solver noise (below 1e-9 of the base) set to 0."""
    return 0.0 if abs(change) <= 1e-9 * max(1.0, abs(base)) else change


def candidates(plan, which: str = "binding") -> list:
    """(Gift, site name, hall name) to value. ``which="all"``: every option in every hall
    (or site) where it may be installed, from every period it can arrive; ``"binding"``: only
    options that relieve a limit that binds in that hall (or site) in that period or later,
    from the first such period."""

    sc = plan.scenario
    idx = Index.of(sc)
    bound = set()
    if which == "binding":
        for row in binding(plan).itertuples(index=False):
            bound.add((row.site, row.hall, row.resource, row.period))
    order = {p: t for t, p in enumerate(sc.periods)}
    found = []

    def first_binding(site, hall, kind, lead):
        times = [
            order[p]
            for (s, h, res, p) in bound
            if s == site and h == hall and res in RELIEVES[kind] and order[p] >= lead
        ]
        return min(times) if times else None

    places = [
        (h, None, site.name, hall.name, idx.hall_options[h])
        for h, (_, site, hall) in enumerate(idx.halls)
    ]
    places += [(None, s, site.name, "", idx.site_options) for s, site in enumerate(sc.sites)]
    for h, s, site_name, hall_name, options in places:
        for o in options:
            opt = sc.retrofits[o]
            if which == "all":
                periods = range(opt.lead_periods, sc.n_periods)
            else:
                t = first_binding(site_name, hall_name, opt.kind, opt.lead_periods)
                periods = [] if t is None else [t]
            for t in periods:
                found.append((Gift(o, t, hall=h, site=s), site_name, hall_name))
    return found


#: a re-solve's default time limit: this many times the base solve's, at least the minimum
PER_SOLVE_FACTOR, PER_SOLVE_MIN_S = 10.0, 30.0


def _value_job(sc, gifts, options: SolveOptions, start) -> tuple[float | None, bool, bool]:
    """``(objective, proven, beyond_cap)`` of one re-solve (see :func:`_objective`), for a
    worker; ``beyond_cap``: the solution holds more units of a gift's option in its place
    than ``max_units`` allows in some period (the gift is the unit beyond the cap)."""
    value, proven, values = _objective(sc, gifts, options, start)
    beyond = False
    for gift in gifts:
        cap = sc.retrofits[gift.option].max_units
        if cap is None or not values:
            continue
        store, where = ("u", gift.hall) if gift.hall is not None else ("w", gift.site)
        prefix = f"{store}_{where}_{gift.option}_"
        beyond |= any((v or 0) > cap + 0.5 for k, v in values.items() if k.startswith(prefix))
    return value, proven, beyond


def marginal_values(
    plan,
    which: str = "binding",
    options: SolveOptions | None = None,
    progress=None,
    workers: int | None = None,
    **fields: Any,
) -> pd.DataFrame:
    """What one more unit of a retrofit option, at no cost, is worth: found by re-solving.

    For each candidate (see :func:`candidates`), the scenario is solved again with one unit of
    the option offered free in that hall (or site) from that period on (the plan may use it
    or not), and ``gain`` is the rise in the objective (PFLOPS-periods for ``max_compute``)
    or the fall in cost (USD for ``min_cost``) over a solve without it. ``price_buys`` is what
    the option's price buys instead: for ``max_compute``, the compute gained by that much
    more budget in the same period (0 where money does not limit; NaN where there is no
    budget at all); for ``min_cost``, the price itself. ``worth_price`` is ``gain >
    price_buys``. ``at_cap``: the plan already has ``max_units`` of the option there in
    that period, so the free unit is one beyond the cap and ``gain`` is what raising the cap
    by one unit gives. ``exact`` is False when a solve stopped short of the gap (at
    ``time_limit_s``; by default each re-solve may take :data:`PER_SOLVE_FACTOR` times the
    base solve, at least :data:`PER_SOLVE_MIN_S` s): its ``gain`` is then a lower bound
    for ``max_compute``, and the findings say so.

    The re-solves are independent: after one solve of the scenario as it is (whose solution
    warm-starts the others), they run in ``workers`` processes (None: one per core; 1: in
    this process), each with ``cores // workers`` solver threads. ``which="binding"`` keeps
    the count to the options that relieve a binding limit. ``progress(done, total)`` is
    called after each solve (None: a progress bar, in a terminal or a notebook). The solves
    are exact by default (:data:`~planner.solving.options.EXACT`); ``options`` or keywords
    (``time_limit_s=30``) change that.
    """
    opts = SolveOptions.of(options or EXACT, **fields)
    sc = plan.scenario
    todo = candidates(plan, which)
    # the plan itself warm-starts the exact solve of the scenario as it is
    began = time.perf_counter()
    base, base_exact, start = _objective(sc, (), opts, plan=plan)
    base_s = time.perf_counter() - began
    if base is None:
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    sign = 1.0 if sc.objective == "max_compute" else -1.0
    jobs = [(sc, (gift,), None) for gift, _, _ in todo]  # None: the start, filled in below
    richer: dict = {}  # (period, price) -> index of its job, or None without a budget
    if sc.objective == "max_compute":
        for gift, _, _ in todo:
            key = (gift.period, sc.retrofits[gift.option].cost_usd)
            if key not in richer:
                more = _with_more_budget(sc, *key)
                richer[key] = None if more is None else len(jobs)
                if more is not None:
                    jobs.append((more, (), None))
    count = workers_for(len(jobs), base_s, workers)
    each = SolveOptions.of(opts, threads=opts.threads or threads_per_worker(count))
    if each.time_limit_s is None:  # a re-solve far harder than the base one is cut short
        each = each.replace(time_limit_s=max(PER_SOLVE_MIN_S, PER_SOLVE_FACTOR * base_s))
    args = [(scenario, gifts, each, start) for scenario, gifts, _ in jobs]
    if progress is not None:
        solved = solve_many(_value_job, args, count, progress)
    else:  # a bar of solves done and left, in a terminal or a notebook
        with progress_bar(len(args), "Valuing retrofits", len(args) > 1, "solve") as step:
            solved = solve_many(_value_job, args, count, lambda done, total: step())
    rows = []
    for i, (gift, site_name, hall_name) in enumerate(todo):
        opt = sc.retrofits[gift.option]
        value, exact, at_cap = solved[i]
        gain = _clean(sign * (value - base), base) if value is not None else math.nan
        if sc.objective == "min_cost":
            buys = opt.cost_usd
        else:
            at = richer[gift.period, opt.cost_usd]
            more, buys_exact, _ = (None, True, False) if at is None else solved[at]
            buys = math.nan if more is None else _clean(more - base, base)
            exact = exact and buys_exact
        worth = bool(gain > (0.0 if math.isnan(buys) else buys) + 1e-9)
        rows.append(
            (
                opt.name,
                opt.kind,
                site_name,
                hall_name,
                sc.periods[gift.period],
                gain,
                "PFLOPS-periods" if sc.objective == "max_compute" else "USD",
                opt.cost_usd,
                buys,
                worth,
                at_cap,
                exact and base_exact,
            )
        )
    out = pd.DataFrame(rows, columns=MARGINAL_COLUMNS)
    return out.sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)


# -- LP shadow prices ---------------------------------------------------------------------------
SHADOW_COLUMNS = ["rule", "site", "hall", "period", "unit", "shadow_price", "price_unit"]


def shadow_prices(plan, options: SolveOptions | None = None) -> pd.DataFrame:
    """LP shadow prices of the capacity rules, with the plan's retrofit units, retirements and
    floor fixed and rack counts relaxed to continuous.

    Each is the change in the objective per unit more of the limit (PFLOPS-periods per kW,
    per Gbps, per position, per USD of budget; or USD per unit for ``min_cost``) in that
    linear program around the plan: a local, continuous reading, not what a whole extra
    retrofit unit buys (see :func:`marginal_values`). Rules with a zero price are left out.
    """
    import pulp

    sc = plan.scenario
    if not plan.has_plan:
        return pd.DataFrame(columns=SHADOW_COLUMNS)
    m = build(sc)
    fixed = _decision_values(plan, m)
    for var in m.prob.variables():  # an LP: HiGHS gives no duals for a MIP
        if var.name in fixed:
            var.lowBound = var.upBound = fixed[var.name]
        var.cat = pulp.LpContinuous
    result = run(m.prob, SolveOptions.of(options, time_limit_s=None))  # an LP: fast
    if not result.has_solution:
        return pd.DataFrame(columns=SHADOW_COLUMNS)
    idx = m.index
    per = "PFLOPS-periods" if sc.objective == "max_compute" else "USD"
    rows = []
    for name, limit in m.limits.items():
        pi = m.rows[name].pi
        if pi is None or abs(pi) < 1e-9:
            continue
        value = abs(pi)  # a limit loosened never hurts: report the gain per unit
        unit = limit.unit
        if unit == "USD":
            value /= MONEY  # the model's money unit is USD 1e6
        if sc.objective == "min_cost":
            value *= MONEY
        site = sc.sites[limit.site].name if limit.site is not None else ""
        hall = idx.halls[limit.hall][2].name if limit.hall is not None else ""
        period = sc.periods[limit.period] if limit.period is not None else ""
        each = {"positions": "position", "GPUs": "GPU"}.get(unit, unit)
        rows.append((limit.rule, site, hall, period, unit, value, f"{per} per {each}"))
    return pd.DataFrame(rows, columns=SHADOW_COLUMNS)


def _decision_values(plan, m) -> dict:
    """Variable name -> value of the plan's retrofit units, retirements (fixed decisions)."""
    sc, idx = plan.scenario, m.index
    hall_index = {(site.name, hall.name): h for h, (_, site, hall) in enumerate(idx.halls)}
    site_index = {site.name: s for s, site in enumerate(sc.sites)}
    option_index = {o.name: i for i, o in enumerate(sc.retrofits)}
    period_index = {p: t for t, p in enumerate(sc.periods)}
    fixed = {var.name: 0.0 for var in list(m.u.values()) + list(m.w.values())}
    fixed.update({var.name: 0.0 for var in m.x.values()})
    for row in plan.retrofits.itertuples(index=False):
        t, o = period_index[row.period], option_index[row.option]
        if row.hall:
            var = m.u.get((hall_index[row.site, row.hall], o, t))
        else:
            var = m.w.get((site_index[row.site], o, t))
        if var is not None:
            fixed[var.name] = float(row.units)
    for row in plan.halls.itertuples(index=False):
        var = m.x.get((hall_index[row.site, row.hall], period_index[row.period]))
        if var is not None:
            fixed[var.name] = float(row.cpu_racks_retired)
    return fixed


# -- all of it ------------------------------------------------------------------------------
@dataclass
class Explanation:
    """Why a plan is what it is.

    Attributes
    ----------
    binding : DataFrame
        Limits that bind, see :func:`binding`.
    marginal_values : DataFrame
        What one more retrofit unit at no cost is worth, by re-solving, see
        :func:`marginal_values`.
    shadow_prices : DataFrame
        LP shadow prices of the limits with the plan's retrofits fixed and rack counts
        relaxed (a linear reading around the plan), see :func:`shadow_prices`.
    next_clusters : DataFrame
        For scenarios with cluster kinds: what stops one more cluster of each kind in each
        place, see :func:`planner.insight.clusters.next_clusters`.
    """

    plan: object
    binding: pd.DataFrame
    marginal_values: pd.DataFrame
    shadow_prices: pd.DataFrame
    next_clusters: pd.DataFrame = field(default_factory=pd.DataFrame)

    def findings(self, top: int | None = 8, zeros: bool = False) -> list[str]:
        """The most useful facts, as sentences: what the ``top`` most valuable retrofit
        units add (every valued unit, zeros included, with ``zeros=True``; capped options
        say so and what raising the cap by one unit gives), every limit of the plan
        (:func:`planner.plan.limits.limit_lines`: binding, capped, money, near, sized), the
        periods money does not limit and why, and what stops the next cluster."""
        sc = self.plan.scenario
        out = []
        values = self.marginal_values if top is None else self.marginal_values.head(top)
        for row in values.itertuples(index=False):
            if row.gain <= 0 and not zeros:
                continue
            opt = next(o for o in sc.retrofits if o.name == row.option)
            out.append(_value_sentence(sc, opt, row))
        out += [line[0].upper() + line[1:].rstrip(".") + "." for line in limit_lines(self.plan)]
        for row in self.next_clusters.itertuples(index=False):
            out.append(row.message[0].upper() + row.message[1:] + ".")
        return out


def _value_sentence(sc, opt, row) -> str:
    """What one more unit of an option is worth, as a sentence."""
    where = f"hall {row.hall}" if row.hall else f"site {row.site}"
    if sc.objective == "max_compute":
        gain = f"adds {row.gain:,.6g} {row.gain_unit}" if row.gain else f"adds 0 {row.gain_unit}"
    else:
        gain = f"saves ${row.gain:,.0f}"
    if row.at_cap:
        head = (
            f"{opt.name} in {where} is held by its cap ({opt.max_units} "
            f"unit{'' if opt.max_units == 1 else 's'}): raising it by one {_capacity(opt)} "
            f"unit, in place from {row.period}, {gain}"
        )
    else:
        head = f"One more {_capacity(opt)} {opt.name} in {where} from {row.period} {gain}"
    sentence = f"{head}; it costs ${row.price_usd:,.0f}"
    if sc.objective == "max_compute" and not math.isnan(row.price_buys):
        sentence += f", and that money as budget in {row.period} would add {row.price_buys:,.6g}"
    verdict = "worth its price" if row.worth_price else "not worth its price"
    if not row.exact:
        verdict += " (a solve stopped at its time limit: not proven, the gain at least this)"
    return f"{sentence}: {verdict}."


def _capacity(opt) -> str:

    unit = {"kW": "kW", "Gbps": "Gbps", "kg": "kg/position"}[CAPACITY_UNIT[opt.kind]]
    if unit == "kW" and opt.capacity >= 1000:
        return f"{opt.capacity / 1000:g} MW"
    if unit == "Gbps" and opt.capacity >= 1000:
        return f"{opt.capacity / 1000:g} Tbps"
    return f"{opt.capacity:g} {unit}"


def explain(
    plan,
    which: str = "binding",
    options: SolveOptions | None = None,
    progress=None,
    workers: int | None = None,
    **fields: Any,
) -> Explanation:
    """Binding limits, marginal values and shadow prices of a plan (exact solves unless
    ``options`` or keywords say otherwise; the re-solves in ``workers`` processes, see
    :func:`marginal_values`)."""
    opts = SolveOptions.of(options or EXACT, **fields)
    return Explanation(
        plan,
        binding(plan),
        marginal_values(plan, which, opts, progress, workers),
        shadow_prices(plan, opts),
        next_clusters(plan, opts, workers),
    )
