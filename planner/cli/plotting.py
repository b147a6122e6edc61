"""``planner plot KIND CONFIG``: draw one picture of a scenario or a plan file as a PNG."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from ..plan.files import write_file
from ..solving import SolverUnavailable
from .common import (
    EXIT_INVALID,
    EXIT_NO_PLAN,
    GapOption,
    PlotKind,
    Sets,
    Solver,
    SolverOption,
    TimeLimitPerSolve,
    _agg,
    _fail,
    _load,
    _numbers,
    _plan_file,
    _solved,
    _with_sets,
    app,
    err,
    guarded,
    out,
)


def _opt(metavar: str, text: str):
    """An option taking a value, its default (if any) stated in its help text."""
    return typer.Option(metavar=metavar, help=text, show_default=False)


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
            "--out",
            metavar="PATH",
            help="PNG file [default: out/<config name>/<kind>.png].",
            show_default=False,
        ),
    ] = None,
    hall: Annotated[
        str | None,
        _opt("HALL", "feasible: hall name (or site/hall) [default: first fitting hall]."),
    ] = None,
    site: Annotated[
        str | None,
        _opt("SITE", "feasible: a site: racks summed over its halls (instead of --hall)."),
    ] = None,
    racks: Annotated[
        str | None, _opt("A,B", "feasible: two rack types 'A,B' for the x and y axes.")
    ] = None,
    period: Annotated[
        str | None, _opt("PERIOD", "feasible, utilisation: period label [default: last / all].")
    ] = None,
    budgets: Annotated[
        str | None,
        _opt(
            "USD,...",
            "frontier, bandwidth: budgets in USD, comma-separated [frontier default: --points "
            "budgets up to the optimal spend; bandwidth default: the scenario's].",
        ),
    ] = None,
    budget_mode: Annotated[
        str,
        _opt(
            "total|per_period",
            "How a budget applies: 'total' (cap on all spend) or 'per_period' [default: total].",
        ),
    ] = "total",
    targets: Annotated[
        str | None,
        _opt("GPUS,...", "frontier of a min_cost scenario: GPU targets, comma-separated."),
    ] = None,
    points: Annotated[
        int,
        typer.Option(
            metavar="N", min=2, max=50, help="frontier: number of default budgets or targets."
        ),
    ] = 5,
    multiples: Annotated[
        str | None,
        _opt(
            "X,...",
            "bandwidth: network multiples, comma-separated [default: 24,26,...,32 when the rack "
            "type's own multiple is in that range, else 0.5x-1.5x its own].",
        ),
    ] = None,
    rack_type: Annotated[
        str | None, _opt("RACK_TYPE", "bandwidth: rack type whose network multiple varies.")
    ] = None,
    pro_rata: Annotated[
        bool, typer.Option("--pro-rata", help="bandwidth: scale other rack types pro rata.")
    ] = False,
    metric: Annotated[
        str, _opt("gpus|pflops", "timeline: 'gpus' or 'pflops' [default: gpus].")
    ] = "gpus",
    by: Annotated[
        str,
        _opt(
            "rack_type|hall|site|cluster",
            "timeline: stack by 'rack_type', 'hall', 'site' or 'cluster' (kind) "
            "[default: rack_type].",
        ),
    ] = "rack_type",
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
    sets: Sets = None,
) -> None:
    """Draw one plot of a scenario (solving it as needed) as a PNG: feasible build-outs of
    two rack types in a hall or a site, compute-cost frontier, build-out timeline, utilisation heat
    map, bandwidth sensitivity or the map of training clusters."""
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
    needs_plan = kind in (
        PlotKind.feasible,
        PlotKind.timeline,
        PlotKind.utilisation,
        PlotKind.clusters,
    )
    sweep = kind in (PlotKind.frontier, PlotKind.bandwidth)
    if plan is None and (needs_plan or sweep):  # a sweep's estimate and limit come from it
        plan = _solved(config, scenario, solver.value, time_limit, gap)
    if sweep:
        from ..plots.all import sweep_estimate, sweep_limit

        if time_limit is None:  # each sweep solve bounded, as planner solve's plots are
            opts["time_limit_s"] = sweep_limit(plan)
        if kind == PlotKind.frontier and budget_values is None and target_values is None:
            what = sweep_estimate(plan, "frontier", points, opts["time_limit_s"])
        elif kind == PlotKind.bandwidth and multiple_values is None and budget_values is None:
            what = sweep_estimate(plan, "bandwidth", points, opts["time_limit_s"])
        else:
            what = f"each solve stopped at {opts['time_limit_s']:.0f} s"
        err.print(
            f"{kind.value}: {what}; points not proven optimal are drawn hollow.",
            highlight=False,
        )
    if kind == PlotKind.timeline and scenario.n_periods == 1:
        out.print("The scenario has one period: the timeline shows a single bar.")
    _agg()
    import matplotlib.pyplot as plt

    from .. import plots

    try:
        # a sweep shows its own progress bar: no spinner over it
        with contextlib.nullcontext() if sweep else err.status(f"Drawing {kind.value}..."):
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
            elif kind == PlotKind.clusters:
                ax = plots.cluster_map(plan)
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
