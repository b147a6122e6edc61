"""What every command shares: the app, consoles, options, exit codes, and how a failure
is reported (never a traceback)."""

from __future__ import annotations

import functools
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from ..plan import Plan
from ..plan.files import OutputError
from ..plan.numbers import plural
from ..plan.planfile import looks_like_plan
from ..scenario import ScenarioError, load_scenario
from ..scenario.overrides import apply_assignments
from ..scenario.problems import InputError
from ..solving import SolverFailed, SolverUnavailable
from ..solving import solve as solve_scenario

EXIT_OK, EXIT_NO_PLAN, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2, 3

app = typer.Typer(
    help="Plan GPU racks and the retrofits they need in CPU-era data halls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


class Format(StrEnum):
    auto = "auto"
    table = "table"
    csv = "csv"
    markdown = "markdown"


class PlotKind(StrEnum):
    feasible = "feasible"
    frontier = "frontier"
    timeline = "timeline"
    utilisation = "utilisation"
    bandwidth = "bandwidth"
    clusters = "clusters"


SolverOption = Annotated[Solver, typer.Option(help="MILP solver.")]


class Method(StrEnum):
    auto = "auto"
    milp = "milp"
    search = "search"


TimeLimitPerSolve = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        metavar="SECONDS",
        min=0.001,
        help="Time limit per solve, seconds.",
        show_default=False,
    ),
]

TimeLimit = Annotated[
    float | None,
    typer.Option(
        "--time-limit",
        metavar="SECONDS",
        min=0.001,
        help="Stop after this many seconds with the best plan found.",
        show_default=False,
    ),
]

GapOption = Annotated[
    float,
    typer.Option(
        "--gap", metavar="NUMBER", min=0.0, max=1.0, help="Relative MIP gap at which to stop."
    ),
]

Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        metavar="N",
        min=1,
        help="Local worker processes [default: one per core]; 1 solves in this process.",
        show_default=False,
    ),
]

SearchWorkers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        metavar="N",
        min=1,
        help="Worker processes solving the fleet search's neighbourhoods at the same time "
        "[default: 1, in this process].",
        show_default=False,
    ),
]

Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Run the solves on a Dask cluster: its scheduler address, e.g. "
        "tcp://host:8786 (needs dask.distributed).",
        show_default=False,
    ),
]

Config = Annotated[
    Path,
    typer.Argument(help="Scenario file (YAML or JSON).", metavar="CONFIG", show_default=False),
]

Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a field: PATH=VALUE, e.g. 'rack_types[h100-air].network_multiple=32' "
        "or 'sites[prn].feed_kw=12 MW' (VALUE is read as YAML). Repeatable.",
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
        return apply_assignments(scenario, sets)
    except ScenarioError as exc:
        raise _invalid(f"{source} with --set", exc) from None


def _money(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"${value / 1e6:,.1f}M"


def _flag_broken(plan: Plan, what: str) -> bool:
    """Print the rules a plan breaks on re-check (``Plan.verify``); True if it breaks any."""
    problems = plan.verify()
    if problems:
        _fail(f"{what} breaks {plural(len(problems), 'rule')} on re-check (Plan.verify)")
        for problem in problems[:20]:
            err.print(f"  {problem}", markup=False, highlight=False)
        if len(problems) > 20:
            err.print(f"  and {len(problems) - 20} more", highlight=False)
    return bool(problems)


def _solved(
    source,
    scenario,
    solver: str,
    time_limit,
    gap,
    msg: bool = False,
    method: str = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    start: Plan | None = None,
) -> Plan:
    """Solve with a spinner; exit 3 (with the diagnosis) when infeasible, 1 without a plan
    (or when the fleet search's Dask scheduler cannot be reached)."""
    try:
        with err.status(f"Solving {scenario.name} with {solver}...", spinner="dots"):
            plan = solve_scenario(
                scenario, solver=solver, time_limit_s=time_limit, mip_gap=gap, msg=msg,
                method=method, workers=workers, client=scheduler, start=start,
            )  # fmt: skip
    except SolverUnavailable as exc:
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    except ImportError as exc:  # --scheduler without dask.distributed
        _fail(f"{exc}")
        raise typer.Exit(EXIT_NO_PLAN) from None
    except OSError as exc:
        if scheduler is None:
            raise
        _fail(f"{scheduler}: cannot run the search there", f"{exc}")  # unreachable
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


def _agg() -> None:
    """Draw off-screen: the command line never opens a window (imported lazily, so
    ``planner validate`` does not pay for matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")


def _numbers(text: str | None, what: str) -> list[float] | None:
    """``"1e9, 2.5e9"`` as numbers; exit 2 on anything else."""
    if text is None:
        return None
    try:
        return [float(part.strip().replace("_", "").lstrip("$")) for part in text.split(",")]
    except ValueError:
        _fail(f"{what}: expected comma-separated numbers, got {text!r}")
        raise typer.Exit(EXIT_INVALID) from None


PlanFile = Annotated[
    Path,
    typer.Argument(help="A plan.json written by 'planner solve'.", metavar="PLAN",
                   show_default=False),
]  # fmt: skip


def _solved_plan(path: Path, what: str, periods: dict[str, str | None]) -> Plan:
    """A plan file with a plan in it (:func:`_read_plan`), and each ``{option: period}``
    given one of its periods; exit 2 naming the problem (``what``: what the plan is for)."""
    plan = _read_plan(path)
    for option, period in periods.items():
        if period is not None and period not in plan.scenario.periods:
            _fail(f"{option} {period}: not a period of the plan",
                  f"its periods are {', '.join(plan.scenario.periods)}")  # fmt: skip
            raise typer.Exit(EXIT_INVALID)
    if not plan.has_plan:
        _fail(f"{path}: a {plan.status} plan has nothing {what}")
        raise typer.Exit(EXIT_INVALID)
    return plan


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
