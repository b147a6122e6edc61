"""Why a scenario has no plan: the least shortfalls, by rule, place and period, that would
make it feasible, from the elastic model (every capacity rule may be broken, at a price)."""

from __future__ import annotations

import pandas as pd

from ..model import MONEY, build
from .options import SolveOptions
from .solvers import run

DIAGNOSIS_COLUMNS = ["rule", "site", "hall", "period", "shortfall", "unit", "message", "stage"]
#: the rules that set what must be reached, rather than what can be
TARGET_RULES = ("target", "cluster_target")

_RULE_TEXT = {
    "space": "space",
    "power": "power",
    "room_air": "room air cooling",
    "liquid_cdu": "CDU liquid cooling",
    "liquid_aalc": "AALC liquid cooling",
    "facility_water": "facility water",
    "network": "network fabric",
    "feed": "site feed",
    "budget": "budget",
    "budget_total": "total budget",
    "target": "GPU target",
    "cluster_target": "cluster target",
}


def diagnose(scenario, options: SolveOptions | None = None) -> pd.DataFrame:
    """The shortfalls that would make an infeasible scenario feasible.

    Solves the elastic model (every capacity rule, budget, GPU target and cluster target
    may be broken by a shortfall, at a penalty of the shortfall relative to the limit's
    size) and lists each broken limit with its place, period and amount in the limit's
    unit (``stage`` "shortfall"). Where a target is short (GPUs, or clusters of a kind),
    the limits behind it follow (``stage`` "behind target"): the shortfalls that meeting
    every target would need, from the elastic model with the targets held. An empty table
    means no shortfall is needed: the scenario is feasible.
    """
    opts = SolveOptions.of(options, mip_gap=1e-6)
    rows = _shortfalls(scenario, opts, (), "shortfall")
    if any(row[0] in TARGET_RULES for row in rows):
        rows += _shortfalls(scenario, opts, TARGET_RULES, "behind target")
    return pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)


def _shortfalls(sc, opts: SolveOptions, hard: tuple, stage: str) -> list[tuple]:
    """The elastic model's shortfalls, with the rules in ``hard`` held, as table rows."""
    m = build(sc, elastic=True, hard=hard)
    result = run(m.prob, opts)
    if not result.has_solution:
        return []
    rows = []
    for name, var in m.shortfall.items():
        amount = var.varValue or 0.0
        limit = m.limits[name]
        if amount <= 1e-6 * max(1.0, limit.scale):
            continue
        unit = limit.unit
        if unit == "USD":
            amount *= MONEY
        site = sc.sites[limit.site].name if limit.site is not None else ""
        hall = m.index.halls[limit.hall][2].name if limit.hall is not None else ""
        period = sc.periods[limit.period] if limit.period is not None else ""
        text = _shortfall_text(sc, limit, site, hall, period, amount, unit)
        if stage != "shortfall":
            text = f"to meet the targets, {text}"
        rows.append((limit.rule, site, hall, period, amount, unit, text, stage))
    return rows


def _amount(value: float, unit: str) -> str:
    if unit == "USD":
        return f"${value:,.0f}"
    text = f"{value:,.0f}" if value >= 10 else f"{value:,.3g}"
    if text == "1" and unit.endswith("s"):
        unit = unit[:-1]  # 1 position, 1 cluster
    return f"{text} {unit}"


def _shortfall_text(sc, limit, site, hall, period, amount, unit) -> str:
    rule = limit.rule
    place = f"hall {hall}" if hall else f"site {site}" if site else "all sites"
    when = f", {period}" if period else ""
    what = _RULE_TEXT.get(rule, rule)
    if rule == "target":
        target = sc.gpu_targets[sc.periods.index(period)]
        reach = target - amount
        return (
            f"{place}{when}: GPU target short by {_amount(amount, unit)}: the most these "
            f"sites can hold is {reach:,.0f} of {target:,.0f}"
        )
    if rule == "cluster_target":
        kind = sc.cluster_kinds()[limit.kind]
        target = kind.targets[sc.periods.index(period)]
        clusters = round(amount)
        return (
            f"{kind.name} clusters{when}: target short by {clusters:,} cluster"
            f"{'s' if clusters != 1 else ''}: the most these halls can form is "
            f"{target - clusters:,} of {target:,}"
        )
    if rule in ("budget", "budget_total"):
        return f"{what}{when} short by {_amount(amount, unit)}"
    return f"{place}{when}: {what} short by {_amount(amount, unit)}"
