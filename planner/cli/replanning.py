"""``planner replan``: re-plan a plan from a period on, from what it has standing then (or
what was really delivered, with --set), and show what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..insight import compare as comparison
from ..plan.files import Staging
from ..solving.replan import join, scenario_at
from .common import (
    GapOption,
    PlanFile,
    Sets,
    Solver,
    SolverOption,
    TimeLimit,
    _solved,
    _solved_plan,
    _with_sets,
    app,
    guarded,
    out,
)
from .solving import summary_table


@app.command()
@guarded
def replan(
    plan_file: PlanFile,
    from_period: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="PERIOD",
            help="First period to re-plan; what the plan has standing before it is kept.",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Directory for the joined plan.json and CSV tables "
            "[default: <PLAN's folder>-from-<PERIOD>].",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimit = None,
    gap: GapOption = 1e-4,
    sets: Sets = None,
) -> None:
    """Re-plan from a period: the scenario of what the plan has standing before it (its
    installed units, GPU racks and CPU racks left; edit it with --set, e.g. what was really
    delivered: 'sites[s1].halls[h1].gpu_racks={h100-air: 40}'), solved for the rest of the
    horizon. Prints the joined plan (past periods as planned, then the re-plan), what changed
    against the original, and writes the joined plan."""
    plan = _solved_plan(plan_file, "standing to re-plan from", {"--from": from_period})
    t = plan.scenario.periods.index(from_period)
    scenario = _with_sets(f"{plan_file} from {from_period}", scenario_at(plan, from_period), sets)
    folder = plan_file.resolve().parent  # the plan's folder may be "." or "/"
    default = folder.parent / f"{folder.name or 'plan'}-from-{from_period}"
    directory = out_dir if out_dir is not None else default
    with Staging(directory) as staged:
        new = _solved(plan_file, scenario, solver.value, time_limit, gap)
        joined = join(plan, new, t) if t else new
        out.print(summary_table(joined))
        out.print(joined.headline(), highlight=False)
        if joined.status == "feasible":
            gap_text = "unknown" if joined.gap is None else f"{joined.gap:.2%}"
            out.print(f"Stopped early: gap {gap_text}. {joined.message}", highlight=False)
        diff = comparison.compare_plans(plan, joined)
        for table in comparison.tables(diff, "planned", "re-planned"):
            out.print(table)
        if diff.same:
            out.print("The re-plan agrees with the plan on every figure compared.")
        broken = joined.verify()
        if broken:
            out.print(
                "The joined plan breaks these rules of the original scenario (its past periods "
                "are as planned, and what --set changed was not planned then):",
                highlight=False,
            )
        for violation in broken:
            out.print(f"  {violation}", highlight=False, markup=False)
        tables = joined.stage(staged)
    names = ", ".join(p.name for p in tables)
    out.print(f"Wrote {len(tables)} files to {directory}/ ({names})", highlight=False)
