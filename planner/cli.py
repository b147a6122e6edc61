"""The ``planner`` command: solve, validate and describe scenario files.

Exit status: 0 a plan was found; 1 no plan for another reason (solver missing, time limit
reached before any plan); 2 invalid scenario file or options; 3 infeasible scenario.
"""

from __future__ import annotations

import functools
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import baseline as rule_of_thumb
from . import compare as comparison
from .files import OutputError, Staging, write_file, write_text
from .optimize import solve as solve_scenario
from .overrides import apply_overrides, parse_assignments
from .plan import Plan
from .planfile import looks_like_plan
from .problems import InputError
from .scenario import ScenarioError, json_schema, load_scenario, reference_markdown
from .solvers import SolverFailed, SolverUnavailable

EXIT_OK, EXIT_NO_PLAN, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2, 3

app = typer.Typer(
    help="Plan GPU racks and the retrofits they need in CPU-era data halls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Solver(StrEnum):
    highs = "highs"
    cbc = "cbc"


class Sweeps(StrEnum):
    auto = "auto"
    all = "all"
    none = "none"


class PlotKind(StrEnum):
    feasible = "feasible"
    frontier = "frontier"
    timeline = "timeline"
    utilisation = "utilisation"
    bandwidth = "bandwidth"


SolverOption = Annotated[Solver, typer.Option(help="MILP solver.")]
TimeLimitPerSolve = Annotated[
    float | None,
    typer.Option(
        "--time-limit", min=0.001, help="Time limit per solve, seconds.", show_default=False
    ),
]
GapOption = Annotated[
    float, typer.Option("--gap", min=0.0, max=1.0, help="Relative MIP gap at which to stop.")
]
Config = Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).", show_default=False)]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a field: PATH=VALUE, e.g. 'rack_types\\[h100-air].network_multiple=32' "
        "or 'sites\\[prn].feed_kw=12 MW' (VALUE is read as YAML). Repeatable.",
        show_default=False,
    ),
]


def _fail(message: str, detail: str = "") -> None:
    """Print a failure in red (``detail`` plain after it), taken literally: no markup."""
    line = Text(message, style="bold red")
    if detail:
        line.append(f": {detail}")
    err.print(line, highlight=False)


def _invalid(source: object, exc: InputError) -> typer.Exit:
    """Print every problem of an invalid input (a scenario, a plan file, a grid); the exit
    to raise."""
    count = len(exc.problems)
    where = source if source is not None else exc.source
    head = f"{where}: {exc.what}" if where else exc.what
    err.print(
        Text(head, style="bold red") + Text(f" ({count} problem{'s' if count != 1 else ''}):"),
        highlight=False,
    )
    for problem in exc.problems:
        err.print(f"  {problem}", highlight=False, markup=False)
    return typer.Exit(EXIT_INVALID)


def guarded(command):
    """A command whose user-facing failures end in a message and an exit status, never a
    traceback: invalid input (2), a solver or the disk failing (1), an interrupt (130)."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            raise _invalid(None, exc) from None
        except (OutputError, SolverUnavailable, SolverFailed) as exc:
            _fail(str(exc))
            raise typer.Exit(EXIT_NO_PLAN) from None
        except KeyboardInterrupt:
            _fail("interrupted")
            raise typer.Exit(130) from None

    return run


def _load(config: Path):
    try:
        return load_scenario(config)
    except ScenarioError as exc:
        raise _invalid(config, exc) from None


def _with_sets(source: object, scenario, sets: list[str] | None):
    """The scenario with the ``--set PATH=VALUE`` overrides applied; exit 2 naming every
    bad path or value."""
    if not sets:
        return scenario
    try:
        return apply_overrides(scenario, parse_assignments(sets))
    except ScenarioError as exc:
        raise _invalid(f"{source} with --set", exc) from None


def _money(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"${value / 1e6:,.1f}M"


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
            help="Directory for plan.json and CSV tables [default: out/<config name>].",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0.001,
            help="Stop after this many seconds with the best plan found.",
            show_default=False,
        ),
    ] = None,
    gap: GapOption = 1e-4,
    log: Annotated[bool, typer.Option("--log", help="Show the solver's log.")] = False,
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
    scenario = _with_sets(config, _load(config), sets)
    directory = out_dir if out_dir is not None else Path("out") / config.stem
    with Staging(directory) as staged:  # checked and locked before the solve
        plan = _solve_and_report(config, scenario, solver, time_limit, gap, log, no_baseline)
        tables = plan.stage(staged)
        figures = [] if no_plots else _stage_plots(plan, staged, sweeps.value, time_limit, gap)
    names = ", ".join(p.name for p in tables)
    out.print(f"Wrote {len(tables)} files to {directory}/ ({names})", highlight=False)
    if figures:
        names = ", ".join(p.name for p in figures)
        out.print(f"Wrote {len(figures)} plots to {directory}/ ({names})", highlight=False)


def _solve_and_report(config, scenario, solver, time_limit, gap, log, no_baseline) -> Plan:
    """Solve, print the summary, the baseline line and what binds; flag broken rules."""
    plan = _solved(config, scenario, solver.value, time_limit, gap, msg=log)
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
    _print_binding(plan)
    _flag_broken(plan, "The plan")  # a sound model never flags; say so loudly if it does
    return plan


def _flag_broken(plan: Plan, what: str) -> bool:
    """Print the rules a plan breaks on re-check (``Plan.verify``); True if it breaks any."""
    problems = plan.verify()
    if problems:
        _fail(f"{what} breaks {len(problems)} rule(s) on re-check (Plan.verify)")
        for problem in problems[:20]:
            err.print(f"  {problem}", markup=False, highlight=False)
        if len(problems) > 20:
            err.print(f"  and {len(problems) - 20} more", highlight=False)
    return bool(problems)


@app.command()
@guarded
def validate(config: Config, sets: Sets = None) -> None:
    """Check a scenario file (with any --set overrides) without solving it."""
    scenario = _with_sets(config, _load(config), sets)
    halls = sum(len(site.halls) for site in scenario.sites)
    out.print(
        f"{config}: valid. {len(scenario.periods)} period(s), {len(scenario.sites)} site(s), "
        f"{halls} hall(s), {len(scenario.rack_types)} rack type(s), "
        f"{len(scenario.retrofits)} retrofit option(s); objective {scenario.objective}.",
        highlight=False,
    )


@app.command()
@guarded
def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
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
    sites: Annotated[int, typer.Option(min=1, help="Number of sites.")] = 3,
    halls_per_site: Annotated[int, typer.Option(min=1, help="Halls at each site.")] = 4,
    periods: Annotated[int, typer.Option(min=1, help="Quarters, from 2025Q1.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same fleet.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option("--out", help="Write the scenario to this YAML file.", show_default=False),
    ] = None,
) -> None:
    """Write a synthetic fleet scenario (valid and realistic, for benchmarks and sweeps)."""
    import yaml

    from .synth import fleet_document

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
        f"Wrote {output}: {sites * halls_per_site} halls at {sites} site(s), "
        f"{periods} quarter(s), seed {seed}.",
        highlight=False,
    )


def _solved(source, scenario, solver: str, time_limit, gap, msg: bool = False) -> Plan:
    """Solve with a spinner; exit 3 (with the diagnosis) when infeasible, 1 without a plan."""
    try:
        with err.status(f"Solving {scenario.name} with {solver}...", spinner="dots"):
            plan = solve_scenario(
                scenario, solver=solver, time_limit_s=time_limit, mip_gap=gap, msg=msg
            )
    except SolverUnavailable as exc:
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    if plan.status == "infeasible":
        _report_infeasible(source, plan)
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_plan:
        _fail(f"{source}: no plan", f"{plan.message}")
        raise typer.Exit(EXIT_NO_PLAN)
    return plan


def _report_infeasible(config: Path, plan: Plan) -> None:
    _fail(f"{config}: infeasible", "no plan satisfies every rule.")
    if plan.diagnosis is not None and len(plan.diagnosis):
        err.print("The smallest shortfalls that would make it feasible:")
        for message in plan.diagnosis["message"]:
            err.print(f"  {message}", highlight=False, markup=False)
    else:
        err.print(f"  {plan.message}", highlight=False, markup=False)


def _print_binding(plan: Plan, top: int = 6) -> None:
    """One line per binding resource: how often and where first."""
    limits = plan.binding()
    if limits.empty:
        out.print("No limit binds: the plan stops where the rack catalog or lead times end.")
        return
    out.print("Binding limits (used >= 99.9% of capacity):", highlight=False)
    for resource, rows in list(limits.groupby("resource", sort=False))[:top]:
        places = sorted({r.hall or r.site or "fleet" for r in rows.itertuples()})
        shown = ", ".join(places[:6]) + (f" and {len(places) - 6} more" if len(places) > 6 else "")
        periods = rows["period"].replace("", "all periods")
        out.print(
            f"  {resource}: {shown} ({len(rows)} hall- or site-periods, from {periods.iloc[0]})",
            highlight=False,
        )


@app.command()
@guarded
def explain(
    config: Config,
    sets: Sets = None,
    all_options: Annotated[
        bool,
        typer.Option("--all", help="Value every option in every hall and period (many solves)."),
    ] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Findings to print.")] = 8,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write the explanation tables as CSV here.", show_default=False
        ),
    ] = None,
) -> None:
    """Explain a scenario's plan: what binds, what one more retrofit unit is worth (by
    re-solving), LP shadow prices; or, if infeasible, which shortfalls make it so."""
    scenario = _with_sets(config, _load(config), sets)
    plan = _solved(config, scenario, solver.value, time_limit, 1e-4)
    out.print(plan.headline(), highlight=False)
    with err.status("Valuing retrofit options by re-solving...", spinner="dots") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"Valuing retrofit options by re-solving: {done}/{total}")

        why = plan.explain(
            which="all" if all_options else "binding",
            solver=solver.value,
            time_limit_s=time_limit,
            progress=progress,
        )
    findings = why.findings(top)
    out.print("Findings:" if findings else "No retrofit unit would add anything at no cost.")
    for sentence in findings:
        out.print(f"  - {sentence}", highlight=False)
    if len(why.shadow_prices):
        out.print("LP shadow prices (retrofits fixed, rack counts relaxed; a local reading):")
        shown = why.shadow_prices.sort_values("shadow_price", ascending=False).head(top)
        for row in shown.itertuples(index=False):
            where = ", ".join(x for x in (row.hall or row.site, row.period) if x)
            value, unit = row.shadow_price, row.price_unit
            if row.unit == "USD":  # per dollar is unreadably small
                value, unit = value * 1e6, unit.replace("per USD", "per $1M")
            out.print(f"  {row.rule} ({where}): {value:,.6g} {unit}", highlight=False)
    if out_dir is not None:
        tables = {
            "binding": why.binding,
            "marginal_values": why.marginal_values,
            "shadow_prices": why.shadow_prices,
        }
        with Staging(out_dir) as staged:
            for name, table in tables.items():
                staged.write(f"{name}.csv", lambda p, t=table: t.to_csv(p, index=False))
        out.print(
            f"Wrote binding.csv, marginal_values.csv, shadow_prices.csv to {out_dir}/",
            highlight=False,
            markup=False,
        )


def _compared_plan(path: Path, sets, solver: Solver, time_limit, gap) -> tuple[Plan, str]:
    """A plan for ``planner compare``: a plan.json as written (its scenario re-solved when
    --set changes it), or a scenario file solved. Exits 1, 2 or 3 as ``solve`` does."""
    if looks_like_plan(path):
        plan = _read_plan(path)
        if not sets:
            return plan, f"{path} (plan file, {plan.solver or 'unknown solver'})"
        scenario = _with_sets(path, plan.scenario, sets)
        what = f"{path} (the plan's scenario with --set, solved)"
    else:
        scenario = _with_sets(path, _load(path), sets)
        what = f"{path} ({'with --set, ' if sets else ''}solved)"
    return _solved(path, scenario, solver.value, time_limit, gap), what


@app.command()
@guarded
def compare(
    a: Annotated[
        Path,
        typer.Argument(
            help="Scenario file (solved) or plan.json.", metavar="A", show_default=False
        ),
    ],
    b: Annotated[
        Path | None,
        typer.Argument(
            help="Second scenario file or plan.json (default: A again, changed by --set).",
            metavar="B",
            show_default=False,
        ),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a field of B's scenario (A's when B is left out): PATH=VALUE. "
            "Repeatable.",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
) -> None:
    """Compare two plans: GPUs, PFLOPS and spend per period, retrofits, racks and binding
    limits that differ. A and B are scenario files (solved) or plan.json files; --set
    changes B, so 'planner compare X --set PATH=VALUE' shows what one change does."""
    plan_a, what_a = _compared_plan(a, None, solver, time_limit, gap)
    plan_b, what_b = _compared_plan(b if b is not None else a, sets, solver, time_limit, gap)
    out.print(f"A: {what_a}", highlight=False)
    out.print(f"B: {what_b}", highlight=False)
    diff = comparison.compare_plans(plan_a, plan_b)
    for table in comparison.tables(diff):
        out.print(table)
    if diff.same:
        out.print("The two plans agree on every figure compared.")


def _agg() -> None:
    """Draw off-screen: the command line never opens a window (imported lazily, so
    ``planner validate`` does not pay for matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")


def _stage_plots(plan: Plan, staged: Staging, sweeps: str, time_limit, gap) -> list[Path]:
    """Draw the plots that fit the plan into the results folder being written."""
    _agg()
    from . import plots

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


def _numbers(text: str | None, what: str) -> list[float] | None:
    """``"1e9, 2.5e9"`` as numbers; exit 2 on anything else."""
    if text is None:
        return None
    try:
        return [float(part.strip().replace("_", "").lstrip("$")) for part in text.split(",")]
    except ValueError:
        _fail(f"{what}: expected comma-separated numbers, got {text!r}")
        raise typer.Exit(EXIT_INVALID) from None


def _read_plan(path: Path) -> Plan:
    """A plan file read back (exit 2 naming the problem of a broken one), re-checked rule
    by rule: a plan that breaks a rule (say, edited by hand) is flagged, not shown as if
    sound."""
    plan = Plan.from_json(path)
    _flag_broken(plan, f"{path}: the plan in this file")
    return plan


def _plan_file(path: Path) -> Plan | None:
    """The plan in ``path`` when it is a plan file written by ``planner solve``, else None."""
    return _read_plan(path) if looks_like_plan(path) else None


@app.command()
@guarded
def plot(
    kind: Annotated[PlotKind, typer.Argument(help="Which plot to draw.", show_default=False)],
    config: Annotated[
        Path,
        typer.Argument(
            help="Scenario file (YAML or JSON; solved as needed) or a plan.json from "
            "'planner solve'.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", help="PNG file [default: out/<config name>/<kind>.png].", show_default=False
        ),
    ] = None,
    hall: Annotated[
        str | None,
        typer.Option(help="feasible: hall name (or site/hall) [default: first fitting hall]."),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            help="feasible: a site: racks summed over its halls (instead of --hall).",
            show_default=False,
        ),
    ] = None,
    racks: Annotated[
        str | None,
        typer.Option(
            help="feasible: two rack types 'A,B' for the x and y axes.", show_default=False
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="feasible, utilisation: period label [default: last / all]."),
    ] = None,
    budgets: Annotated[
        str | None,
        typer.Option(
            help="frontier, bandwidth: budgets in USD, comma-separated [frontier default: "
            "--points budgets up to the optimal spend; bandwidth default: the scenario's].",
            show_default=False,
        ),
    ] = None,
    budget_mode: Annotated[
        str,
        typer.Option(help="How a budget applies: 'total' (cap on all spend) or 'per_period'."),
    ] = "total",
    targets: Annotated[
        str | None,
        typer.Option(help="frontier of a min_cost scenario: GPU targets, comma-separated."),
    ] = None,
    points: Annotated[
        int, typer.Option(min=2, max=50, help="frontier: number of default budgets or targets.")
    ] = 5,
    multiples: Annotated[
        str, typer.Option(help="bandwidth: network multiples, comma-separated.")
    ] = "24,26,28,30,32",
    rack_type: Annotated[
        str | None,
        typer.Option(
            help="bandwidth: rack type whose network multiple varies.", show_default=False
        ),
    ] = None,
    pro_rata: Annotated[
        bool, typer.Option("--pro-rata", help="bandwidth: scale other rack types pro rata.")
    ] = False,
    metric: Annotated[str, typer.Option(help="timeline: 'gpus' or 'pflops'.")] = "gpus",
    by: Annotated[str, typer.Option(help="timeline: stack by 'rack_type', 'hall' or 'site'.")] = (
        "rack_type"
    ),
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
    sets: Sets = None,
) -> None:
    """Draw one plot of a scenario (solving it as needed) as a PNG: feasible build-outs of
    two rack types in a hall or a site, compute-cost frontier, build-out timeline, utilisation heat
    map or bandwidth sensitivity."""
    plan = None if sets else _plan_file(config)
    scenario = plan.scenario if plan is not None else _with_sets(config, _load(config), sets)
    opts = dict(solver=solver.value, time_limit_s=time_limit, mip_gap=gap)
    budget_values = _numbers(budgets, "--budgets")
    target_values = _numbers(targets, "--targets")
    multiple_values = _numbers(multiples, "--multiples")
    pair = None
    if racks is not None:
        pair = [r.strip() for r in racks.split(",")]
        if len(pair) != 2 or not all(pair):
            _fail(f"--racks: expected two rack types 'A,B', got {racks!r}")
            raise typer.Exit(EXIT_INVALID)
    if budget_mode not in ("total", "per_period"):
        _fail("--budget-mode: expected 'total' or 'per_period'")
        raise typer.Exit(EXIT_INVALID)
    needs_plan = kind in (PlotKind.feasible, PlotKind.timeline, PlotKind.utilisation)
    if plan is None and (needs_plan or (kind == PlotKind.frontier and budget_values is None)):
        try:
            with err.status(f"Solving {scenario.name} with {solver.value}...", spinner="dots"):
                plan = solve_scenario(scenario, **opts)
        except SolverUnavailable as exc:
            _fail(f"{exc}")
            raise typer.Exit(EXIT_NO_PLAN) from None
        if plan.status == "infeasible":
            _report_infeasible(config, plan)
            raise typer.Exit(EXIT_INFEASIBLE)
        if not plan.has_plan:
            _fail(f"{config}: no plan", f"{plan.message}")
            raise typer.Exit(EXIT_NO_PLAN)
    if kind == PlotKind.timeline and scenario.n_periods == 1:
        out.print("The scenario has one period: the timeline shows a single bar.")
    _agg()
    import matplotlib.pyplot as plt

    from . import plots

    try:
        with err.status(f"Drawing {kind.value}...", spinner="dots"):
            if kind == PlotKind.feasible:
                a, b = pair if pair else (None, None)
                ax = plots.feasible_region(plan, hall, a, b, period, site=site, **opts)
            elif kind == PlotKind.frontier:
                source = plan if plan is not None else scenario
                ax = plots.frontier(
                    source,
                    budget_values,
                    targets=target_values,
                    mode=budget_mode,
                    points=points,
                    **opts,
                )
            elif kind == PlotKind.timeline:
                ax = plots.timeline(plan, metric=metric, by=by)
            elif kind == PlotKind.utilisation:
                ax = plots.utilisation(plan, period=period)
            else:
                ax = plots.bandwidth_sensitivity(
                    scenario,
                    multiple_values,
                    budget_values,
                    rack_type,
                    mode=budget_mode,
                    pro_rata=pro_rata,
                    **opts,
                )
    except ValueError as exc:  # an unknown hall, rack type or period, or a bad choice
        _fail(f"{config}: cannot draw {kind.value}", f"{exc}")
        raise typer.Exit(EXIT_INVALID) from None
    except SolverUnavailable as exc:
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    stem = config.parent.name if config.name == "plan.json" else config.stem
    path = output if output is not None else Path("out") / stem / f"{kind.value}.png"
    try:
        write_file(path, lambda temp: ax.figure.savefig(temp, dpi=150, format="png"))
    finally:
        plt.close(ax.figure)
    out.print(f"Wrote {path}", highlight=False)


@app.command("sweep")
@guarded
def sweep_grid(
    config: Config,
    grid_file: Annotated[
        Path,
        typer.Argument(
            help="Grid file (YAML): override path -> list of values, e.g. "
            "'rack_types\\[*].network_multiple: [24, 28, 32]'.",
            metavar="GRID",
            show_default=False,
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Local worker processes [default: one per core]; 1 solves in this process.",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Run the points on a Dask cluster: its scheduler address, e.g. "
            "tcp://host:8786 (needs dask.distributed).",
            show_default=False,
        ),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Save the results table: a .parquet or .csv file.", show_default=False
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
) -> None:
    """Solve every combination of the grid's override values (the cartesian product) and
    print one row per point: status, objective, spend, GPUs and binding limits. Points that
    are invalid, infeasible or fail are listed with their reason; the sweep goes on."""
    from .sweeps import check_out
    from .sweeps import sweep as run_sweep

    scenario = _load(config)
    grid = _grid(grid_file)
    if results is not None:
        try:
            check_out(results)
        except (ValueError, ImportError) as exc:
            _fail(f"--out: {exc}")
            raise typer.Exit(EXIT_INVALID) from None
    try:
        table = run_sweep(
            scenario,
            grid,
            workers=workers,
            client=scheduler,
            solver=solver.value,
            time_limit_s=time_limit,
            mip_gap=gap,
            out=results,
        )
    except ImportError as exc:
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    except OSError as exc:  # the scheduler cannot be reached
        _fail(f"{scheduler}: cannot run the sweep there", f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    out.print(sweep_table(table, scenario.name))
    counts = table["status"].value_counts()
    out.print(
        f"{len(table)} points: " + ", ".join(f"{n} {status}" for status, n in counts.items()),
        highlight=False,
    )
    if results is not None:
        out.print(f"Wrote {results}", highlight=False, markup=False)
    if len(table) and not table["status"].isin(["optimal", "feasible"]).any():
        _fail(f"no point of the sweep has a plan ({len(table)} points)")
        raise typer.Exit(EXIT_NO_PLAN)


def _grid(path: Path) -> dict:
    """The sweep grid in a YAML file (path -> list of values), read as safely as a scenario
    file; exit 2 naming the problem."""
    from .documents import read_document
    from .problems import DocumentError
    from .sweeps import grid_points

    try:
        grid, _ = read_document(path)
        grid_points(grid)
    except DocumentError as exc:
        reason = "; ".join(str(p) for p in exc.problems)
    except ValueError as exc:
        reason = str(exc)
    else:
        return grid
    _fail(f"{path}: invalid sweep grid", reason)
    raise typer.Exit(EXIT_INVALID)


def sweep_table(table, title: str, rows: int = 40) -> Table:
    """A sweep's results as a rich table: the overrides, status, objective, spend, GPUs in
    the last period, binding limits or the reason a point failed (first ``rows`` points)."""
    from rich.text import Text

    overrides = list(table.attrs.get("overrides", {}).values())
    shown = Table(title=f"Sweep of {title}", show_lines=False)
    shown.add_column("#", justify="right")
    for name in overrides:
        shown.add_column(Text(name), overflow="fold")
    units = set(table.loc[table["objective_unit"] != "", "objective_unit"])
    one_unit = units.pop() if len(units) == 1 else ""
    shown.add_column("status")
    shown.add_column(f"objective ({one_unit})" if one_unit else "objective", justify="right")
    shown.add_column("spend", justify="right")
    shown.add_column("GPUs (last period)", justify="right")
    shown.add_column("binding limits / reason", overflow="fold", max_width=60)
    for values in table.head(rows).to_dict("records"):
        has_plan = values["status"] in ("optimal", "feasible")
        cells = [
            str(values["point"]),
            *(_cell(values[name]) for name in overrides),
            values["status"],
            f"{values['objective']:,.6g}{'' if one_unit else ' ' + values['objective_unit']}"
            if has_plan
            else "-",
            _money(values["total_spend_usd"]) if has_plan else "-",
            f"{values['gpus']:,}" if has_plan else "-",
            (values["binding"] or "-") if has_plan else values["error"],
        ]
        shown.add_row(*(Text(cell) for cell in cells))
    if len(table) > rows:
        shown.caption = f"first {rows} of {len(table)} points"
    return shown


def _cell(value) -> str:
    """An override value as a table cell: lists and mappings as JSON."""
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
