"""``planner alternatives CONFIG --slack 2%``: near-optimal plans that each push one metric."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ..plan.files import Staging
from ..plan.metrics import METRICS
from .common import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_NO_PLAN,
    Config,
    GapOption,
    Scheduler,
    Sets,
    Solver,
    SolverOption,
    TimeLimitPerSolve,
    Workers,
    _agg,
    _fail,
    _load,
    _money,
    _with_sets,
    app,
    guarded,
    out,
)

#: the metrics' column heads (a plan that pushes one is named by it: "min halls")
SHORT = {
    "halls_touched": "halls",
    "sites_used": "sites",
    "liquid_share": "liquid",
    "cdu_units": "CDUs",
    "cpu_racks_retired": "CPU out",
    "spend_usd": "spend",
}


@app.command("alternatives")
@guarded
def alternatives_command(
    config: Config,
    slack: Annotated[
        str,
        typer.Option(
            "--slack",
            metavar="SHARE",
            help="How far from the optimum's objective an alternative may be: 2% or 0.02.",
        ),
    ] = "2%",
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            metavar="[min:|max:]NAME",
            help=f"A metric to push, in its default sense or as min:NAME / max:NAME; "
            f"repeatable [default: all of {', '.join(METRICS)}].",
            show_default=False,
        ),
    ] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Write alternatives.csv, alternatives.png and every plan's JSON here.",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
    sets: Sets = None,
) -> None:
    """Solve the scenario, then for each metric the plan that takes it to its best among
    the plans within --slack of the optimum (halls touched, sites used, liquid-cooled share
    of GPUs, CDU units, CPU racks retired, spend), in parallel. Prints one row per plan;
    every plan is checked rule by rule and against the slack."""
    from ..solving.alternatives import parse_metric
    from ..sweeps.alternatives import alternatives, parse_slack

    try:
        share = parse_slack(slack)
        specs = [parse_metric(m) for m in metric or []]
    except ValueError as exc:
        _fail(f"--slack/--metric: {exc}")
        raise typer.Exit(EXIT_INVALID) from None
    scenario = _with_sets(config, _load(config), sets)
    try:
        found = alternatives(
            scenario,
            share,
            metrics=specs or None,
            workers=workers,
            client=scheduler,
            solver=solver.value,
            time_limit_s=time_limit,
            mip_gap=gap,
        )
    except ImportError as exc:
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    except OSError as exc:  # the scheduler cannot be reached
        _fail(f"{scheduler}: cannot run the alternatives there", f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    optimum = found.optimum
    if not optimum.has_plan:
        _fail(f"{config}: no plan to find alternatives to", optimum.message)
        raise typer.Exit(EXIT_INFEASIBLE if optimum.status == "infeasible" else EXIT_NO_PLAN)
    out.print(alternatives_table(found.table, scenario.name, share))
    if out_dir is not None:
        _agg()
        with Staging(out_dir) as staged:
            staged.write("alternatives.csv", lambda p: found.table.to_csv(p, index=False))
            ax = found.plot()
            staged.write("alternatives.png", lambda p: ax.figure.savefig(p, format="png", dpi=120))
            for name, plan in found.plans.items():
                staged.text(f"plan-{name.replace(' ', '-')}.json", plan.to_json() + "\n")
        out.print(f"Wrote alternatives.csv, alternatives.png and the plans to {out_dir}/")


def alternatives_table(table, title: str, slack: float) -> Table:
    """The alternatives as a rich table that fits an 80-column terminal: objective (and its
    share of the optimum's) and the metrics of each plan; a plan stopped early is marked
    ``*``, one that breaks a rule or the slack ``!`` (the caption says which)."""
    unit = table["objective_unit"].iloc[0]
    shown = Table(
        title=f"Plans within {slack:.1%} of the optimum of {title} ({unit})",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    shown.add_column("plan", no_wrap=True)
    for name in ["objective", "of opt.", *SHORT.values()]:
        shown.add_column(Text(name), justify="right", no_wrap=True)
    notes = []
    for row in table.to_dict("records"):
        name = row["alternative"]
        if row["metric"]:
            name = f"{row['sense']} {SHORT[row['metric']]}"
        if row["status"] not in ("optimal", "feasible"):
            shown.add_row(name, *["-"] * 8)
            notes.append(f"{row['alternative']}: {row['status']}: {row['error']}")
            continue
        if row["status"] == "feasible":
            name += "*"
            notes.append(f"{row['alternative']}: stopped early, the metric may not be at its best")
        if not (row["verified"] and row["within_slack"]):
            name += "!"
            notes.append(f"{row['alternative']}: " + (
                "BREAKS A RULE" if not row["verified"] else "IS OUTSIDE THE SLACK"
            ))  # fmt: skip
        objective = row["objective"]
        shown.add_row(
            name,
            _money(objective) if unit == "USD" else f"{objective:,.0f}",
            f"{row['objective_vs_optimum']:.1%}",
            f"{row['halls_touched']:.0f}",
            f"{row['sites_used']:.0f}",
            f"{row['liquid_share']:.0%}",
            f"{row['cdu_units']:,.0f}",
            f"{row['cpu_racks_retired']:,.0f}",
            _money(row["spend_usd"]),
        )
    shown.caption = "\n".join(notes) or "every plan verifies and is within the slack"
    return shown
