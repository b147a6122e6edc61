"""``planner stress PLAN.json --slip ...`` and ``planner hedge CONFIG --case ...``: what a
plan keeps when GPU deliveries come late, and a plan that hedges them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from ..plan.files import Staging
from ..scenario import ScenarioError
from .common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_NO_PLAN,
    Config,
    GapOption,
    PlanFile,
    Sets,
    Solver,
    SolverOption,
    TimeLimit,
    _fail,
    _invalid,
    _load,
    _money,
    _solved_plan,
    _with_sets,
    app,
    guarded,
    out,
)

OutDir = Annotated[
    Path | None,
    typer.Option("--out", metavar="DIR", help="Write the tables and plans here.",
                 show_default=False),
]  # fmt: skip


def _pairs(values: list[str], what: str, number) -> dict:
    """``KEY=VALUE`` options as a dict (VALUE read by ``number``); exit 2 naming a bad one."""
    found = {}
    for text in values:
        key, sep, value = text.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError("expected KEY=VALUE")
            found[key.strip()] = number(value.strip())
        except ValueError as exc:
            _fail(f"{what} {text!r}: {exc}")
            raise typer.Exit(EXIT_INVALID) from None
    return found


@app.command()
@guarded
def stress(
    plan_file: PlanFile,
    slip: Annotated[
        list[str],
        typer.Option(
            "--slip",
            metavar="PATH=PERIODS",
            help="Deliveries late: 'rack_types[*].lead_periods=1' (every rack type "
            "one period late) or 'rack_types[NAME].lead_periods=2'. Repeatable.",
            show_default=False,
        ),
    ],  # fmt: skip
    known: Annotated[
        str | None,
        typer.Option(
            "--known",
            metavar="PERIOD",
            help="Period the slip becomes known: retrofits ordered before it are "
            "held, the rest re-planned [default: every retrofit of the plan held].",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    out_dir: OutDir = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimit = None,
    gap: GapOption = 1e-4,
) -> None:
    """What a plan still delivers if GPU deliveries slip: its retrofits held, racks
    re-planned. Prints PFLOPS and spend per period as planned and under the slip."""
    from ..solving.stress import slipped
    from ..solving.stress import stress as run_stress

    plan = _solved_plan(plan_file, "to stress", {"--known": known})
    slips = _pairs(slip, "--slip", int)
    try:
        slipped(plan.scenario, slips)
    except ScenarioError as exc:
        raise _invalid("--slip", exc) from None
    hit = run_stress(plan, slips, known=known, solver=solver.value, time_limit_s=time_limit,
                     mip_gap=gap)  # fmt: skip
    shown = Table(title=f"{plan.scenario.name} with {', '.join(slip)}", box=box.SIMPLE_HEAD)
    for name in ["period", "PFLOPS planned", "under the slip", "lost", "spend planned",
                 "under the slip"]:  # fmt: skip
        shown.add_column(name, justify="left" if name == "period" else "right", no_wrap=True)
    for row in hit.table.itertuples(index=False):
        shown.add_row(row.period, f"{row.pflops_planned:,.0f}", f"{row.pflops_stressed:,.0f}",
                      f"{row.pflops_lost:,.0f}", _money(row.spend_planned_usd),
                      _money(row.spend_stressed_usd))  # fmt: skip
    out.print(shown)
    if not hit.plan.has_plan:
        _fail(f"{plan_file}: no plan under the slip", hit.plan.message)
        raise typer.Exit(EXIT_INFEASIBLE if hit.plan.status == "infeasible" else EXIT_NO_PLAN)
    share = hit.lost_pflops_periods / plan.objective if plan.objective else 0.0
    out.print(f"Lost {hit.lost_pflops_periods:,.0f} PFLOPS-periods ({share:.1%}); "
              f"status {hit.plan.status}.", highlight=False)  # fmt: skip
    if out_dir is not None:
        with Staging(out_dir) as staged:
            staged.write("stress.csv", lambda p: hit.table.to_csv(p, index=False))
            hit.plan.stage(staged)
        out.print(f"Wrote stress.csv and the stressed plan to {out_dir}/", highlight=False)


@app.command()
@guarded
def hedge(
    config: Config,
    case: Annotated[
        list[str],
        typer.Option(
            "--case",
            metavar="LATE=WEIGHT",
            help="A delivery case: every rack type LATE periods late, with its "
            "weight; the weights sum to 1. Repeatable, e.g. --case 0=0.6 "
            "--case 1=0.3 --case 2=0.1.",
            show_default=False,
        ),
    ],  # fmt: skip
    worst: Annotated[
        float,
        typer.Option(
            "--worst",
            metavar="SHARE",
            min=0.0,
            max=1.0,
            help="Weight on the worst case's compute (0: the expected compute).",
        ),
    ] = 0.0,  # fmt: skip
    out_dir: OutDir = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimit = None,
    gap: GapOption = 1e-4,
    sets: Sets = None,
) -> None:
    """A plan that hedges late GPU deliveries: retrofits bought once for every case, racks
    per case, the most expected PFLOPS-periods. Prints each case's compute and spend."""
    from ..solving import solve
    from ..solving.hedge import cases_of

    scenario = _with_sets(config, _load(config), sets)
    weights = _pairs(case, "--case", float)
    late = [k for k in weights if not k.isdigit()]
    if late:
        _fail(f"--case {late[0]}=...: LATE is a whole number of periods (0 = on time)")
        raise typer.Exit(EXIT_INVALID)
    cases = {int(k): w for k, w in weights.items()}
    if scenario.objective != "max_compute":
        _fail(f"{config}: a hedged plan maximises expected compute; the objective is "
              f"{scenario.objective}")  # fmt: skip
        raise typer.Exit(EXIT_INVALID)
    risk = {"cases": cases, "worst_case_weight": worst}
    try:
        cases_of(risk)
    except ScenarioError as exc:
        raise _invalid("--case", exc) from None
    found = solve(scenario, risk=risk, solver=solver.value, time_limit_s=time_limit,
                  mip_gap=gap)  # fmt: skip
    if found.status not in ("optimal", "feasible"):
        _fail(f"{config}: no hedged plan", found.message)
        raise typer.Exit(EXIT_INFEASIBLE if found.status == "infeasible" else EXIT_NO_PLAN)
    shown = Table(title=f"Hedged plan of {scenario.name}", box=box.SIMPLE_HEAD)
    for name in ["case", "weight", "PFLOPS-periods", "spend", "checked"]:
        shown.add_column(name, justify="left" if name == "case" else "right", no_wrap=True)
    for row in found.table.itertuples(index=False):
        checked = "ok" if row.verified else "BREAKS A RULE"
        shown.add_row(row.case, f"{row.weight:.0%}", f"{row.pflops_periods:,.0f}",
                      _money(row.total_spend_usd), checked)  # fmt: skip
    out.print(shown)
    expected, worst_case = found.expected_pflops_periods, found.worst_pflops_periods
    out.print(f"Expected {expected:,.0f} PFLOPS-periods, worst case {worst_case:,.0f}; "
              f"status {found.status}.", highlight=False)  # fmt: skip
    if out_dir is not None:
        with Staging(out_dir) as staged:
            staged.write("hedge.csv", lambda p: found.table.to_csv(p, index=False))
            for name, plan in found.plans.items():
                staged.text(f"plan-{name.replace(' ', '-')}.json", plan.to_json() + "\n")
        out.print(f"Wrote hedge.csv and a plan per case to {out_dir}/", highlight=False)
