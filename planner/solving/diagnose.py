"""Why a scenario has no plan: the least shortfalls, by rule, place and period, that would
make it feasible, from the elastic model (every capacity rule may be broken, at a price)."""

from __future__ import annotations

import pandas as pd

from ..model import MONEY, build
from .options import SolveOptions
from .solvers import run

DIAGNOSIS_COLUMNS = ["rule", "site", "hall", "period", "shortfall", "unit", "message"]

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
}


def diagnose(scenario, options: SolveOptions | None = None) -> pd.DataFrame:
    """The shortfalls that would make an infeasible scenario feasible.

    Solves the elastic model (every capacity rule, budget and GPU target may be broken by a
    shortfall, at a penalty of the shortfall relative to the limit's size) and lists each
    broken limit with its place, period and amount in the limit's unit. An empty table means
    no shortfall is needed: the scenario is feasible.
    """
    sc = scenario
    m = build(sc, elastic=True)
    result = run(m.prob, SolveOptions.of(options, mip_gap=1e-6))
    if not result.has_solution:
        return pd.DataFrame(columns=DIAGNOSIS_COLUMNS)
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
        rows.append(
            (
                limit.rule,
                site,
                hall,
                period,
                amount,
                unit,
                _shortfall_text(sc, limit.rule, site, hall, period, amount, unit),
            )
        )
    return pd.DataFrame(rows, columns=DIAGNOSIS_COLUMNS)


def _amount(value: float, unit: str) -> str:
    if unit == "USD":
        return f"${value:,.0f}"
    text = f"{value:,.0f}" if value >= 10 else f"{value:,.3g}"
    return f"{text} {unit}"


def _shortfall_text(sc, rule, site, hall, period, amount, unit) -> str:
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
    if rule in ("budget", "budget_total"):
        return f"{what}{when} short by {_amount(amount, unit)}"
    return f"{place}{when}: {what} short by {_amount(amount, unit)}"
