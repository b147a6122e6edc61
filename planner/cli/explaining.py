"""``planner explain`` and ``planner compare``: why a plan is what it is, and what differs
between two plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..insight import compare as comparison
from ..plan import Plan
from ..plan.files import Staging
from ..plan.planfile import looks_like_plan
from .common import (
    Config,
    GapOption,
    Sets,
    Solver,
    SolverOption,
    TimeLimitPerSolve,
    _load,
    _read_plan,
    _solved,
    _with_sets,
    app,
    err,
    guarded,
    out,
)


@app.command()
@guarded
def explain(
    config: Config,
    sets: Sets = None,
    all_options: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Value every option in every hall and period (many solves), and list every "
            "value, zeros included.",
        ),
    ] = False,
    top: Annotated[int, typer.Option("--top", metavar="N", min=1, help="Findings to print.")] = 8,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Also write the explanation tables as CSV here.",
            show_default=False,
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
    findings = why.findings(None if all_options else top, zeros=all_options)
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
            metavar="PATH=VALUE",
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
