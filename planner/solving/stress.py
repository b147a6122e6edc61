"""Late deliveries: what a plan still delivers when GPU racks arrive later than planned.

A slip delays a rack type's deliveries by whole periods: its ``lead_periods`` (the first
period its racks can operate) grows by the slip (racks already installed stand, as ever).
For ``max_compute``, the GPU and cluster targets a slip makes late are what the plan aimed
at, not rules of the buildings: a slipped scenario drops them, and the tables show the
GPUs and compute it falls short by.
:func:`stress` holds the retrofits the plan had committed when the slip became known and
re-plans the racks (which type, where, when), the CPU racks retired and the clusters,
within the same rules and budgets; the table it returns says what that costs per period.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..model import RetrofitModel, build
from ..plan import Plan
from ..plan import accounting as acc
from ..scenario import Problem, Scenario, ScenarioError
from .optimize import least_spend
from .options import Deadline, SolveOptions
from .readback import plan_of, values_of
from .solvers import run
from .starts import start_values

_SLIP = re.compile(r"^rack_types\[(?P<name>[^\]]+)\]\.lead_periods$")

#: the per-period table of :func:`stress`, with units
STRESS_COLUMNS = [
    "period",
    "pflops_planned",
    "pflops_stressed",
    "pflops_lost",
    "spend_planned_usd",
    "spend_stressed_usd",
    "spend_change_usd",
]


def slipped(sc: Scenario, slips: Mapping[str, int]) -> Scenario:
    """The scenario with deliveries late: ``{"rack_types[*].lead_periods": 1}`` (every rack
    type one period late) or ``{"rack_types[NAME].lead_periods": 2}``; slips of one type
    add up. For ``max_compute``, a scenario with a slip has no GPU or cluster targets (see
    the module docstring); with no slip it is ``sc`` itself. Raises
    :class:`~planner.ScenarioError` naming each path that is not a rack type's
    ``lead_periods`` or whose slip is not a whole number of periods >= 0."""
    problems, late = [], dict.fromkeys((r.name for r in sc.rack_types), 0)
    for path, value in slips.items():
        found = _SLIP.match(str(path).replace(" ", ""))
        names = list(late) if found and found["name"] == "*" else [found and found["name"]]
        if not found or names[0] not in late:
            known = ", ".join(late)
            problems.append(Problem(str(path), "a slip names a rack type's lead_periods: "
                            f"rack_types[*].lead_periods or rack_types[NAME].lead_periods "
                            f"(rack types: {known})"))  # fmt: skip
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(Problem(str(path), f"a slip is a whole number of periods >= 0, "
                                               f"not {value!r}"))  # fmt: skip
            continue
        for name in names:
            late[name] += value
    if problems:
        raise ScenarioError(problems)
    if not any(late.values()):
        return sc
    doc = sc.model_dump(mode="python")
    for rack in doc["rack_types"]:
        rack["lead_periods"] += late[rack["name"]]
    if sc.objective == "max_compute":
        doc["gpu_targets"] = None
        for kind in doc.get("clusters") or []:
            kind["targets"] = None
    return Scenario.model_validate(doc, context={"late": True})


def hold_retrofits(m: RetrofitModel, plan: Plan, known: int | None = None) -> None:
    """Fix the retrofit units of ``plan`` in the model ``m`` (of the slipped scenario).

    ``known`` None: every unit of the plan, in every period, exactly (nothing more is
    bought). ``known = k``: the units ordered before period k, those the plan has in place
    by period ``k - 1 + lead`` of their option, are held from the period the plan has them
    as lower bounds; anything more is re-planned."""
    sc = m.scenario
    have = start_values(m, plan)  # the plan's decisions, by the model's variable names
    for store in (m.u, m.w):
        for (where, o, t), var in store.items():
            if known is None:
                var.lowBound = var.upBound = have.get(var.name, var.lowBound or 0)
                continue
            ordered = min(t, known - 1 + sc.retrofits[o].lead_periods)
            before = store.get((where, o, ordered))  # none before the lead: only what is installed
            if ordered >= 0 and before is not None:
                var.lowBound = max(var.lowBound or 0, have.get(before.name, 0))


@dataclass
class Stress:
    """What :func:`stress` found: the re-planned ``plan`` (of the slipped scenario), the
    ``original`` plan, and ``table``, per period (:data:`STRESS_COLUMNS`): the PFLOPS the
    objective counts as planned and under the slip, what is lost, and spend (USD) as
    planned, under the slip, and the change."""

    plan: Plan
    original: Plan
    table: pd.DataFrame

    @property
    def lost_pflops_periods(self) -> float:
        """PFLOPS-periods lost over the horizon."""
        return float(self.table["pflops_lost"].sum())


def _counted(plan: Plan) -> pd.Series:
    sc = plan.scenario
    if not plan.has_plan:
        return pd.Series(0.0, index=pd.Index(sc.periods, name="period"))
    return acc.counted_pflops(sc, plan.racks, plan.clusters).reindex(sc.periods, fill_value=0.0)


def stress_table(original: Plan, stressed: Plan) -> pd.DataFrame:
    """Per period: PFLOPS counted and spend, as planned and under the slip."""
    planned, late = _counted(original), _counted(stressed)
    spend = original.spend_usd_per_period
    spend_late = stressed.spend_usd_per_period if stressed.has_plan else spend * 0.0
    return pd.DataFrame(
        {
            "period": original.scenario.periods,
            "pflops_planned": planned.to_numpy(),
            "pflops_stressed": late.to_numpy(),
            "pflops_lost": (planned - late).to_numpy(),
            "spend_planned_usd": spend.to_numpy(),
            "spend_stressed_usd": spend_late.reindex(spend.index, fill_value=0.0).to_numpy(),
        }
    ).assign(spend_change_usd=lambda d: d["spend_stressed_usd"] - d["spend_planned_usd"])


def stress(
    plan: Plan,
    slips: Mapping[str, int],
    known: str | None = None,
    options: SolveOptions | None = None,
    **fields,
) -> Stress:
    """What ``plan`` delivers if deliveries slip (``slips``, see :func:`slipped`), holding
    the retrofits committed before the slip is known and re-planning the racks.

    ``known``: the period the slip becomes known; units ordered before it (in place by
    ``known - 1 + lead`` periods) are held and more may be bought. None (default): the
    whole retrofit programme is committed and held as planned, nothing more is bought.
    Racks (type, hall, period, doors), CPU racks retired, the liquid split and clusters are
    re-planned for the scenario's objective within its rules and budgets (the least spend
    among equals). ``options`` or its fields are those of :func:`planner.solve`.

    Returns :class:`Stress`. A min_cost plan whose targets cannot be met after the slip
    gives a stressed plan with status ``infeasible``.
    """
    if not plan.has_plan:
        raise ValueError(f"a {plan.status} plan has nothing to stress")
    opts = SolveOptions.of(options, **fields)
    sc = slipped(plan.scenario, slips)
    k = None
    if known is not None:
        if known not in sc.periods:
            raise ValueError(f"known={known!r}: not a period ({', '.join(sc.periods)})")
        k = sc.periods.index(known)
    began, clock = time.perf_counter(), Deadline(opts.time_limit_s)
    m = build(sc)
    hold_retrofits(m, plan, k)
    first = run(m.prob, opts.replace(time_limit_s=clock.limit()))
    if not first.has_solution:
        status = "infeasible" if first.status == "infeasible" else "error"
        message = (
            "no plan meets the scenario's targets with these deliveries and the retrofits held"
            if status == "infeasible"
            else first.message
        )
        stressed = Plan(sc, status, message=message, solve_seconds=time.perf_counter() - began)
        return Stress(stressed, plan, stress_table(plan, stressed))
    values, status, message = values_of(m), first.status, first.message
    if sc.objective == "max_compute":
        took = time.perf_counter() - began
        values, status, message = least_spend(m, values, first, took, clock, opts, message)
    seconds = time.perf_counter() - began
    stressed = plan_of(m, values, status, first.gap, message, seconds, solver=opts.solver)
    return Stress(stressed, plan, stress_table(plan, stressed))
