"""Compare two plans: what differs in compute, spend, retrofits, racks and binding limits.

Used by ``planner compare A B``; also usable from Python::

    from planner.insight.compare import compare_plans
    diff = compare_plans(plan_a, plan_b)
    diff.periods      # period, gpus_a, gpus_b, pflops_a, pflops_b, spend_a, spend_b (USD)
    diff.retrofits    # site, hall, option, kind, units_a, units_b: installed by the last period
    diff.racks        # site, hall, rack_type, count_a, count_b: operating in the last period
    diff.binding      # site, hall, resource, only_a, only_b: periods a limit binds in one only
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pandas as pd
from rich.table import Table

from ..plan import Plan
from ..plan.binding import binding
from ..plan.numbers import percent
from ..plan.planfile import looks_like_plan

PERIOD_COLUMNS = ["period", "gpus_a", "gpus_b", "pflops_a", "pflops_b", "spend_a", "spend_b"]
RETROFIT_COLUMNS = ["site", "hall", "option", "kind", "units_a", "units_b"]
RACK_COLUMNS = ["site", "hall", "rack_type", "count_a", "count_b"]
BINDING_COLUMNS = ["site", "hall", "resource", "only_a", "only_b"]


#: whether a file is meant as a plan file (see :func:`planner.plan.planfile.looks_like_plan`)
is_plan_file = looks_like_plan


@dataclass
class PlanComparison:
    """What differs between plan ``a`` and plan ``b`` (tables described in the module)."""

    a: Plan
    b: Plan
    periods: pd.DataFrame
    retrofits: pd.DataFrame
    racks: pd.DataFrame
    binding: pd.DataFrame

    @property
    def same(self) -> bool:
        """True when the plans agree on every compared figure."""
        p = self.periods
        numbers_equal = all(
            _close(x, y)
            for col in ("gpus", "pflops", "spend")
            for x, y in zip(p[f"{col}_a"], p[f"{col}_b"], strict=True)
        )
        return (
            numbers_equal
            and self.retrofits.empty
            and self.racks.empty
            and self.binding.empty
            and _close(self.a.objective, self.b.objective)
        )

    def __str__(self) -> str:
        """The comparison as text: the tables ``planner compare`` prints."""
        from rich.console import Console

        console = Console(width=110, record=True, file=io.StringIO(), color_system=None)
        for table in tables(self):
            console.print(table)
        if self.same:
            console.print("The two plans agree on every figure compared.")
        return console.export_text()

    def __repr__(self) -> str:
        return (
            f"<PlanComparison {self.a.scenario.name} vs {self.b.scenario.name}: "
            f"{'the same' if self.same else 'different'}>"
        )


def _close(x, y) -> bool:
    if x is None or y is None:
        return x is y
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)


def _periods(a: Plan, b: Plan) -> pd.DataFrame:
    labels = list(a.scenario.periods) + [
        p for p in b.scenario.periods if p not in a.scenario.periods
    ]

    def series(plan: Plan) -> dict:
        spend = plan.spend_usd_per_period if plan.has_plan else pd.Series(dtype=float)
        return {"gpus": plan.gpus(), "pflops": plan.pflops(), "spend": spend}

    sa, sb = series(a), series(b)
    rows = []
    for p in labels:
        row = [p]
        for col in ("gpus", "pflops", "spend"):
            for side in (sa, sb):
                row.append(float(side[col][p]) if p in side[col].index else math.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=PERIOD_COLUMNS)


def _last(plan: Plan, table: pd.DataFrame) -> pd.DataFrame:
    if table.empty or not plan.has_plan:
        return table.iloc[0:0]
    return table[table["period"] == plan.scenario.periods[-1]]


def _retrofits(a: Plan, b: Plan) -> pd.DataFrame:
    def units(plan: Plan) -> dict:
        out = {}
        for row in _last(plan, plan.retrofits).itertuples(index=False):
            out[row.site, row.hall, row.option] = (row.kind, int(row.units))
        return out

    ua, ub = units(a), units(b)
    rows = []
    for key in sorted(ua.keys() | ub.keys()):
        na, nb = ua.get(key, ("", 0))[1], ub.get(key, ("", 0))[1]
        if na != nb:
            kind = (ua.get(key) or ub.get(key))[0]
            rows.append((*key, kind, na, nb))
    return pd.DataFrame(rows, columns=RETROFIT_COLUMNS)


def _racks(a: Plan, b: Plan) -> pd.DataFrame:
    def counts(plan: Plan) -> dict:
        out: dict = {}
        for row in _last(plan, plan.racks).itertuples(index=False):
            key = (row.site, row.hall, row.rack_type)
            out[key] = out.get(key, 0) + int(row.count)
        return out

    ca, cb = counts(a), counts(b)
    rows = [
        (*key, ca.get(key, 0), cb.get(key, 0))
        for key in sorted(ca.keys() | cb.keys())
        if ca.get(key, 0) != cb.get(key, 0)
    ]
    return pd.DataFrame(rows, columns=RACK_COLUMNS)


def _binding(a: Plan, b: Plan) -> pd.DataFrame:
    def keys(plan: Plan) -> set:
        limits = binding(plan)
        return {
            (row.site, row.hall, row.resource, row.period) for row in limits.itertuples(index=False)
        }

    ka, kb = keys(a), keys(b)
    order = {p: i for i, p in enumerate([*a.scenario.periods, *b.scenario.periods])}
    grouped: dict = {}
    for side, only in (("a", ka - kb), ("b", kb - ka)):
        for site, hall, resource, period in only:
            grouped.setdefault((site, hall, resource), {"a": [], "b": []})[side].append(period)
    rows = []
    for (site, hall, resource), sides in sorted(grouped.items()):

        def text(periods: list[str]) -> str:
            ordered = sorted(set(periods), key=lambda p: order.get(p, math.inf))
            return ", ".join(p or "all periods" for p in ordered)

        rows.append((site, hall, resource, text(sides["a"]), text(sides["b"])))
    return pd.DataFrame(rows, columns=BINDING_COLUMNS)


def compare_plans(a: Plan, b: Plan) -> PlanComparison:
    """What differs between two plans (of the same scenario or of two scenarios)."""
    return PlanComparison(a, b, _periods(a, b), _retrofits(a, b), _racks(a, b), _binding(a, b))


# -- rich tables for the command line ---------------------------------------------------------
def _money(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"${value / 1e6:,.1f}M"


def _number(value: float, digits: str = ",.6g") -> str:
    return "-" if value is None or math.isnan(value) else format(value, digits)


def _delta(x: float, y: float, money: bool = False) -> str:
    if x is None or y is None or math.isnan(x) or math.isnan(y):
        return "-"
    d = y - x
    if _close(x, y):
        return "="
    text = f"{'+' if d > 0 else '-'}${abs(d) / 1e6:,.1f}M" if money else f"{d:+,.6g}"
    if x:
        text += f" ({percent(d / abs(x), signed=True)})"
    return text


def _change(x: float, y: float, show) -> str:
    """``"x -> y"``, or ``"x ="`` when they agree."""
    if _close(x, y):
        return f"{show(x)} ="
    return f"{show(x)} -> {show(y)}"


def _objective_text(plan: Plan) -> str:
    if not plan.has_plan or plan.objective is None:
        return f"{plan.status}"
    if plan.scenario.objective == "max_compute":
        return f"{plan.objective:,.6g} PFLOPS-periods"
    return f"${plan.objective:,.0f}"


def tables(diff: PlanComparison, label_a: str = "A", label_b: str = "B") -> list[Table]:
    """Rich tables of a comparison: totals and periods, then retrofits, racks and binding
    limits that differ (a section is left out when nothing in it differs)."""
    a, b = diff.a, diff.b
    out = []
    totals = Table(title="Totals", show_lines=False)
    for name, justify in (("", "left"), (label_a, "right"), (label_b, "right"), ("B - A", "right")):
        totals.add_column(name, justify=justify)
    totals.add_row("scenario", a.scenario.name, b.scenario.name, "")
    totals.add_row("status", a.status, b.status, "")
    same_kind = a.scenario.objective == b.scenario.objective
    totals.add_row(
        f"objective ({a.scenario.objective})" if same_kind else "objective",
        _objective_text(a),
        _objective_text(b),
        _delta(a.objective or 0.0, b.objective or 0.0, a.scenario.objective == "min_cost")
        if same_kind and a.has_plan and b.has_plan
        else "-",
    )
    totals.add_row(
        "total spend",
        _money(a.total_spend_usd),
        _money(b.total_spend_usd),
        _delta(a.total_spend_usd, b.total_spend_usd, money=True),
    )
    out.append(totals)

    per = Table(title=f"Per period ({label_a} -> {label_b}; = where equal)", show_lines=False)
    for name in ("period", "GPUs", "PFLOPS", "spend"):
        per.add_column(name, justify="left" if name == "period" else "right")
    for row in diff.periods.itertuples(index=False):
        per.add_row(
            row.period,
            _change(row.gpus_a, row.gpus_b, lambda v: _number(v, ",.0f")),
            _change(row.pflops_a, row.pflops_b, _number),
            _change(row.spend_a, row.spend_b, _money),
        )
    out.append(per)

    if not diff.retrofits.empty:
        t = Table(title="Retrofit units installed by the last period (where they differ)")
        for name in ("site", "hall", "option", "kind", label_a, label_b, "B - A"):
            t.add_column(name, justify="right" if name in (label_a, label_b, "B - A") else "left")
        for row in diff.retrofits.itertuples(index=False):
            t.add_row(
                row.site,
                row.hall or "(site)",
                row.option,
                row.kind,
                f"{row.units_a:,}",
                f"{row.units_b:,}",
                f"{row.units_b - row.units_a:+,}",
            )
        out.append(t)
    if not diff.racks.empty:
        t = Table(title="Racks operating in the last period (where they differ)")
        for name in ("site", "hall", "rack type", label_a, label_b, "B - A"):
            t.add_column(name, justify="right" if name in (label_a, label_b, "B - A") else "left")
        for row in diff.racks.itertuples(index=False):
            t.add_row(
                row.site,
                row.hall,
                row.rack_type,
                f"{row.count_a:,}",
                f"{row.count_b:,}",
                f"{row.count_b - row.count_a:+,}",
            )
        out.append(t)
    if not diff.binding.empty:
        t = Table(title="Binding limits in only one of the two (periods)")
        for name in ("site", "hall", "resource", f"only in {label_a}", f"only in {label_b}"):
            t.add_column(name)
        for row in diff.binding.itertuples(index=False):
            t.add_row(row.site or "-", row.hall or "-", row.resource, row.only_a, row.only_b)
        out.append(t)
    return out
