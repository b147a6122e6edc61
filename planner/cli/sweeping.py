"""``planner sweep CONFIG GRID``: solve every combination of a grid of what-if overrides."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from .common import (
    EXIT_INVALID,
    EXIT_NO_PLAN,
    Config,
    Format,
    GapOption,
    Scheduler,
    Solver,
    SolverOption,
    TimeLimitPerSolve,
    Workers,
    _fail,
    _load,
    _money,
    app,
    guarded,
    out,
)


@app.command("sweep")
@guarded
def sweep_grid(
    config: Config,
    grid_file: Annotated[
        Path,
        typer.Argument(
            help="Grid file (YAML): override path -> list of values, e.g. "
            "'rack_types[*].network_multiple: [24, 28, 32]'.",
            metavar="GRID",
            show_default=False,
        ),
    ],
    workers: Workers = None,
    scheduler: Scheduler = None,
    results: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PATH",
            help="Save the results table: a .parquet or .csv file.",
            show_default=False,
        ),
    ] = None,
    solver: SolverOption = Solver.highs,
    time_limit: TimeLimitPerSolve = None,
    gap: GapOption = 1e-4,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="How to print the results: 'auto' (a table on a terminal, CSV when piped), "
            "'table', 'csv' or 'markdown'.",
        ),
    ] = Format.auto,
) -> None:
    """Solve every combination of the grid's override values (the cartesian product) and
    print one row per point: status, objective, spend, GPUs and binding limits. Points that
    are invalid, infeasible or fail are listed with their reason; the sweep goes on."""
    from ..sweeps import check_out
    from ..sweeps import sweep as run_sweep

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
    chosen = fmt.value if fmt != Format.auto else ("table" if out.is_terminal else "csv")
    if chosen == "table":
        out.print(sweep_table(table, scenario.name))
    else:
        out.print(sweep_text(table, chosen), highlight=False, markup=False, end="")
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
    from ..scenario.documents import read_document
    from ..scenario.problems import DocumentError
    from ..sweeps import grid_points

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


def _columns(table) -> tuple[list[str], list[list[str]], str]:
    """``(headers, rows of cells, caption)`` of a sweep's results: the overrides, status,
    objective, spend, GPUs in the last period, binding limits or the reason a point failed."""
    overrides = list(table.attrs.get("overrides", {}).values())
    units = set(table.loc[table["objective_unit"] != "", "objective_unit"])
    one_unit = units.pop() if len(units) == 1 else ""
    headers = [
        "#",
        *overrides,
        "status",
        f"objective ({one_unit})" if one_unit else "objective",
        "spend",
        "GPUs (last period)",
        "binding limits / reason",
    ]
    rows = []
    for values in table.to_dict("records"):
        has_plan = values["status"] in ("optimal", "feasible")
        rows.append(
            [
                str(values["point"]),
                *(_cell(values[name]) for name in overrides),
                values["status"],
                f"{values['objective']:,.6g}{'' if one_unit else ' ' + values['objective_unit']}"
                if has_plan
                else "-",
                _money(values["total_spend_usd"]) if has_plan else "-",
                f"{int(values['gpus']):,}" if has_plan else "-",
                (values["binding"] or "-") if has_plan else values["error"],
            ]
        )
    return headers, rows, len(overrides)


def sweep_table(table, title: str, rows: int = 40) -> Table:
    """A sweep's results as a rich table (first ``rows`` points) that fits the terminal:
    numbers never wrap, the limits column folds at word boundaries."""
    headers, cells, n_overrides = _columns(table)
    shown = Table(title=f"Sweep of {title}", show_lines=False)
    for i, name in enumerate(headers):
        last = i == len(headers) - 1
        numeric = i == 0 or i > n_overrides + 1 and not last
        shown.add_column(
            Text(name),
            justify="right" if numeric else "left",
            no_wrap=not last,
            overflow="fold" if last else "ellipsis",
            ratio=1 if last else None,
        )
    for row in cells[:rows]:
        shown.add_row(*(Text(cell) for cell in row))
    if len(cells) > rows:
        shown.caption = f"first {rows} of {len(cells)} points"
    return shown


def sweep_text(table, fmt: str) -> str:
    """Every point of a sweep as CSV or a Markdown table (for pipes and reports)."""
    headers, cells, _ = _columns(table)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(cells)
        return buffer.getvalue()
    escape = [[cell.replace("|", "\\|") for cell in row] for row in [headers, *cells]]
    lines = ["| " + " | ".join(escape[0]) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in escape[1:]]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    """An override value as a table cell: lists and mappings as JSON."""
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
