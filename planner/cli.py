"""The ``planner`` command: solve, validate and describe scenario files.

Exit status: 0 a plan was found; 1 no plan for another reason (solver missing, time limit
reached before any plan); 2 invalid scenario file or options; 3 infeasible scenario.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .optimize import solve as solve_scenario
from .plan import Plan
from .scenario import ScenarioError, json_schema, load_scenario, reference_markdown
from .solvers import SolverUnavailable

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


Config = Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).", show_default=False)]


def _load(config: Path):
    try:
        return load_scenario(config)
    except ScenarioError as exc:
        err.print(
            f"[bold red]{config}: invalid scenario[/] ({len(exc.problems)} "
            f"problem{'s' if len(exc.problems) != 1 else ''}):",
            highlight=False,
        )
        for problem in exc.problems:
            err.print(f"  {problem}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID) from None


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
    solver: Annotated[Solver, typer.Option(help="MILP solver.")] = Solver.highs,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0.001,
            help="Stop after this many seconds with the best plan found.",
            show_default=False,
        ),
    ] = None,
    gap: Annotated[
        float, typer.Option("--gap", min=0.0, max=1.0, help="Relative MIP gap at which to stop.")
    ] = 1e-4,
    log: Annotated[bool, typer.Option("--log", help="Show the solver's log.")] = False,
) -> None:
    """Solve a scenario: print a summary and write the plan and its tables."""
    scenario = _load(config)
    try:
        with err.status(f"Solving {scenario.name} with {solver.value}...", spinner="dots"):
            plan = solve_scenario(
                scenario, solver=solver.value, time_limit_s=time_limit, mip_gap=gap, msg=log
            )
    except SolverUnavailable as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(EXIT_NO_PLAN) from None
    if plan.status == "infeasible":
        _report_infeasible(config, plan)
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_plan:
        err.print(f"[bold red]{config}: no plan[/]: {plan.message}", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)

    out.print(summary_table(plan))
    out.print(plan.headline(), highlight=False)
    if plan.status == "feasible":
        gap_text = "unknown" if plan.gap is None else f"{plan.gap:.2%}"
        out.print(
            f"[yellow]Stopped early: best plan found, gap {gap_text}. {plan.message}[/]",
            highlight=False,
        )
    _print_binding(plan)
    problems = plan.verify()
    if problems:  # a sound model never gets here; say so loudly if it does
        err.print("[bold red]The plan breaks rules on re-check:[/]")
        for problem in problems:
            err.print(f"  {problem}", markup=False)
    directory = out_dir if out_dir is not None else Path("out") / config.stem
    written = plan.write(directory)
    out.print(
        f"Wrote {len(written)} files to {directory}/ ({', '.join(p.name for p in written)})",
        highlight=False,
    )


@app.command()
def validate(config: Config) -> None:
    """Check a scenario file without solving it."""
    scenario = _load(config)
    halls = sum(len(site.halls) for site in scenario.sites)
    out.print(
        f"{config}: valid. {len(scenario.periods)} period(s), {len(scenario.sites)} site(s), "
        f"{halls} hall(s), {len(scenario.rack_types)} rack type(s), "
        f"{len(scenario.retrofits)} retrofit option(s); objective {scenario.objective}.",
        highlight=False,
    )


@app.command()
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
        output.write_text(text + "\n", encoding="utf-8")
        out.print(f"Wrote {output}")


def _report_infeasible(config: Path, plan: Plan) -> None:
    err.print(f"[bold red]{config}: infeasible[/]: no plan satisfies every rule.", highlight=False)
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
def explain(
    config: Config,
    all_options: Annotated[
        bool,
        typer.Option("--all", help="Value every option in every hall and period (many solves)."),
    ] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="Findings to print.")] = 8,
    solver: Annotated[Solver, typer.Option(help="MILP solver.")] = Solver.highs,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.001, help="Time limit per solve, seconds.", show_default=False
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write the explanation tables as CSV here.", show_default=False
        ),
    ] = None,
) -> None:
    """Explain a scenario's plan: what binds, what one more retrofit unit is worth (by
    re-solving), LP shadow prices; or, if infeasible, which shortfalls make it so."""
    scenario = _load(config)
    with err.status(f"Solving {scenario.name}...", spinner="dots"):
        plan = solve_scenario(scenario, solver=solver.value, time_limit_s=time_limit)
    if plan.status == "infeasible":
        _report_infeasible(config, plan)
        raise typer.Exit(EXIT_INFEASIBLE)
    if not plan.has_plan:
        err.print(f"[bold red]{config}: no plan[/]: {plan.message}", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)
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
        out_dir.mkdir(parents=True, exist_ok=True)
        why.binding.to_csv(out_dir / "binding.csv", index=False)
        why.marginal_values.to_csv(out_dir / "marginal_values.csv", index=False)
        why.shadow_prices.to_csv(out_dir / "shadow_prices.csv", index=False)
        out.print(f"Wrote binding.csv, marginal_values.csv, shadow_prices.csv to {out_dir}/")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
