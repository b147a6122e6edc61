"""``planner solve``, ``validate``, ``schema`` and ``synth``: solve a scenario and write its
plan, tables and plots; check or describe scenario files; write a synthetic fleet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..plan import Plan
from ..plan import baseline as rule_of_thumb
from ..plan.files import Staging, write_text
from ..plan.numbers import plural
from ..scenario import json_schema, reference_markdown
from .common import (
    EXIT_INVALID,
    Config,
    GapOption,
    Method,
    Scheduler,
    SearchWorkers,
    Sets,
    Solver,
    SolverOption,
    Sweeps,
    TimeLimit,
    _agg,
    _fail,
    _flag_broken,
    _load,
    _money,
    _read_plan,
    _solved,
    _with_sets,
    app,
    err,
    guarded,
    out,
)


def summary_table(plan: Plan) -> Table:
    """The per-period summary of a plan as a rich table."""
    table = Table(title=plan.scenario.name, show_lines=False)
    for name, justify in (
        ("period", "left"),
        ("GPUs", "right"),
        ("PFLOPS", "right"),
        ("spend", "right"),
        ("budget", "right"),
        ("retrofits installed", "left"),
    ):
        table.add_column(name, justify=justify)
    for period, row in plan.summary().iterrows():
        table.add_row(
            period,
            f"{row.gpus:,}",
            f"{row.pflops:,.6g}",
            _money(row.spend_usd),
            _money(row.budget_usd),
            row.retrofits_added or "-",
        )
    return table


@app.command()
@guarded
def solve(
    config: Config,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Directory for plan.json and CSV tables [default: out/<config name>].",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimit = None,
    gap: GapOption = 1e-4,
    log: Annotated[bool, typer.Option("--log", help="Show the solver's log.")] = False,
    method: Annotated[
        Method,
        typer.Option(
            help="'milp': one solver run on the whole model; 'search': a neighbourhood "
            "search from the best start (HiGHS; large models); 'auto': the search for "
            "models of 5,000+ whole-number decisions under --time-limit, else the MILP."
        ),
    ] = Method.auto,
    workers: SearchWorkers = None,
    scheduler: Scheduler = None,
    start: Annotated[
        Path | None,
        typer.Option(
            "--start",
            metavar="PLAN.json",
            help="A plan file to start from (say, a longer run's), used when it breaks no "
            "rule of this scenario and beats the other starts.",
            show_default=False,
        ),
    ] = None,
    sets: Sets = None,
    no_baseline: Annotated[
        bool,
        typer.Option(
            "--no-baseline", help="Skip the rule-of-thumb (greedy) plan the summary compares with."
        ),
    ] = False,
    no_plots: Annotated[
        bool, typer.Option("--no-plots", help="Write the plan and tables only, no PNG plots.")
    ] = False,
    sweeps: Annotated[
        Sweeps,
        typer.Option(
            help="Frontier and bandwidth plots need extra solves: 'auto' draws them when they "
            "should take under 20 s (estimated from this solve), 'all' always, 'none' never."
        ),
    ] = Sweeps.auto,
) -> None:
    """Solve a scenario: print a summary and write the plan, its tables and its plots."""
    if method == Method.search and solver != Solver.highs:
        _fail("--method search runs on HiGHS: use --solver highs")
        raise typer.Exit(EXIT_INVALID)
    scenario = _with_sets(config, _load(config), sets)
    given = None if start is None else _read_plan(start)
    directory = out_dir if out_dir is not None else Path("out") / config.stem
    with Staging(directory) as staged:  # checked and locked before the solve
        how = dict(msg=log, method=method.value, workers=workers, scheduler=scheduler, start=given)
        plan = _solve_and_report(config, scenario, solver, time_limit, gap, no_baseline, **how)
        tables = plan.stage(staged)
        figures = [] if no_plots else _stage_plots(plan, staged, sweeps.value, time_limit, gap)
    names = ", ".join(p.name for p in tables)
    out.print(f"Wrote {len(tables)} files to {directory}/ ({names})", highlight=False)
    if figures:
        names = ", ".join(p.name for p in figures)
        out.print(f"Wrote {len(figures)} plots to {directory}/ ({names})", highlight=False)


def _solve_and_report(config, scenario, solver, time_limit, gap, no_baseline, **how) -> Plan:
    """Solve (``how``: the further keywords of ``_solved``), print the summary, the baseline
    line and what binds; flag broken rules."""
    plan = _solved(config, scenario, solver.value, time_limit, gap, **how)
    out.print(summary_table(plan))
    out.print(plan.headline(), highlight=False)
    if plan.status == "feasible":
        gap_text = "unknown" if plan.gap is None else f"{plan.gap:.2%}"
        out.print(
            Text(f"Stopped early: best plan found, gap {gap_text}. {plan.message}", "yellow"),
            highlight=False,
        )
    if not no_baseline:
        try:
            line = rule_of_thumb.gap_line(plan, rule_of_thumb.greedy(scenario))
        except RuntimeError as exc:  # a bug in the baseline must not cost the plan
            line = f"Rule-of-thumb baseline (greedy) unavailable: {exc}"
        out.print(line, highlight=False, markup=False)
    _print_limits(plan)
    _flag_broken(plan, "The plan")  # a sound model never flags; say so loudly if it does
    return plan


@app.command()
@guarded
def validate(config: Config, sets: Sets = None) -> None:
    """Check a scenario file (with any --set overrides) without solving it."""
    scenario = _with_sets(config, _load(config), sets)
    halls = sum(len(site.halls) for site in scenario.sites)
    out.print(
        f"{config}: valid. {plural(len(scenario.periods), 'period')}, "
        f"{plural(len(scenario.sites), 'site')}, {plural(halls, 'hall')}, "
        f"{plural(len(scenario.rack_types), 'rack type')}, "
        f"{plural(len(scenario.retrofits), 'retrofit option')}; objective {scenario.objective}.",
        highlight=False,
    )


@app.command()
@guarded
def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Write the schema to this file instead of printing it.",
            show_default=False,
        ),
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown field reference instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    text = reference_markdown().rstrip("\n") if markdown else json.dumps(json_schema(), indent=2)
    if output is None:
        typer.echo(text)
    else:
        write_text(output, text + "\n")
        out.print(f"Wrote {output}", highlight=False, markup=False)


@app.command()
@guarded
def synth(
    sites: Annotated[int, typer.Option(metavar="N", min=1, help="Number of sites.")] = 3,
    halls_per_site: Annotated[
        int, typer.Option(metavar="N", min=1, help="Halls at each site.")
    ] = 4,
    periods: Annotated[int, typer.Option(metavar="N", min=1, help="Quarters, from 2025Q1.")] = 12,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed: same seed, same fleet.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Write the scenario to this YAML file.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a synthetic fleet scenario (valid and realistic, for benchmarks and sweeps)."""
    import yaml

    from ..scenario.synth import fleet_document

    doc = fleet_document(sites, halls_per_site, periods, seed)
    header = (
        f"# {doc['name']}: a synthetic fleet from `planner synth --sites {sites} "
        f"--halls-per-site {halls_per_site} --periods {periods} --seed {seed}`\n"
        "# (ranges: planner/synth.py; catalogue as configs/meta-2023-retrofit.yaml)\n"
    )
    text = header + yaml.safe_dump(doc, sort_keys=False, width=100)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text(output, text)
    err.print(
        f"Wrote {output}: {plural(sites * halls_per_site, 'hall')} at {plural(sites, 'site')}, "
        f"{plural(periods, 'quarter')}, seed {seed}.",
        highlight=False,
    )


def _print_limits(plan: Plan) -> None:
    """Every limit of the plan, grouped by resource, most binding first, and the periods
    money does not limit (:func:`planner.plan.limits.limit_lines`)."""
    lines = plan.limit_lines()
    if not lines:
        out.print("No limit binds: the plan stops where the rack catalog or lead times end.")
        return
    out.print("What limits the plan:", highlight=False)
    for line in lines:
        out.print(f"  {line}", highlight=False, markup=False)


def _stage_plots(plan: Plan, staged: Staging, sweeps: str, time_limit, gap) -> list[Path]:
    """Draw the plots that fit the plan into the results folder being written."""
    _agg()
    from .. import plots

    with err.status("Drawing plots...", spinner="dots"):
        return plots.plot_all(
            plan,
            staged,
            sweeps=sweeps,
            solver=plan.solver,
            time_limit_s=time_limit,
            mip_gap=gap,
            note=lambda message: out.print(message, highlight=False, markup=False),
        )
