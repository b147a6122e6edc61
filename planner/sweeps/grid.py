"""Scenario sweeps: solve the cartesian product of what-if overrides, in parallel.

>>> table = planner.sweep("configs/legacy-hall.yaml",
...                       {"rack_types[*].network_multiple": [24, 28, 32],
...                        "budget_usd_per_period": [1e8, 2e8]})

Each point of the grid is the base scenario with one value per path applied by
:func:`planner.apply_overrides`, solved by :func:`planner.solve`. Points run in local
worker processes (``workers``), or on a ``dask.distributed`` cluster when a ``client`` (a
``Client`` or a scheduler address) is given. A point whose overrides are invalid, whose
scenario is infeasible, or whose solve fails becomes a row with its reason: it never stops
the sweep. The result is one row per point (see :data:`RESULT_COLUMNS` and docs/sweeps.md).

Points run by :mod:`planner.solving.runners` (solver threads per worker are set there). The scenario
travels to workers as JSON data and every model is built inside its worker.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..plan import Plan
from ..plan.files import check_writable, write_file
from ..scenario import Scenario, ScenarioError, load_scenario
from ..scenario.overrides import apply_overrides
from ..solving import SolveOptions, solve
from ..solving.progress import progress_bar
from ..solving.runners import check_workers, run_points

__all__ = ["RESULT_COLUMNS", "check_out", "grid_points", "save_table", "solve_point", "sweep"]

#: columns after the override columns, in order
RESULT_COLUMNS = [
    "status",
    "objective",
    "objective_unit",
    "total_spend_usd",
    "gpus",
    "pflops_periods",
    "gap",
    "compute_proven",
    "binding",
    "solve_seconds",
    "error",
]

#: what an override column is called when its path is also a result column's name
OVERRIDE_PREFIX = "override:"

_UNITS = {"max_compute": "PFLOPS-periods", "min_cost": "USD"}
_SUFFIXES = (".parquet", ".csv")


# -- the grid --------------------------------------------------------------------------------
def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of ``grid`` (path -> list of values), in grid order: the last
    path varies fastest. An empty grid is one point, the base scenario. Raises ValueError
    when the grid is not a mapping of text paths to non-empty lists."""
    if not isinstance(grid, Mapping):
        raise ValueError(f"a sweep grid maps override paths to lists, not {type(grid).__name__}")
    for path, values in grid.items():
        if not isinstance(path, str) or not path.strip():
            raise ValueError(f"grid key {path!r}: an override path (text) is expected")
        if not isinstance(values, list | tuple):
            raise ValueError(
                f"grid[{path!r}]: a list of values is expected, got {type(values).__name__} "
                f"(write [{values!r}] for a single value)"
            )
        if not values:
            raise ValueError(f"grid[{path!r}]: the list of values is empty")
    paths = list(grid)
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _override_columns(paths: Sequence[str]) -> dict[str, str]:
    """Column name of each override path: the path itself, prefixed with
    :data:`OVERRIDE_PREFIX` where it would clash with a result column (``objective``)."""
    taken = {"point", *RESULT_COLUMNS}
    return {p: f"{OVERRIDE_PREFIX}{p}" if p in taken else p for p in paths}


# -- one point -------------------------------------------------------------------------------
def _binding_text(plan: Plan) -> str:
    """The plan's binding limits as ``resource@place`` (hall, else site), distinct, in order
    of first appearance, joined by ``"; "``; budgets appear as ``budget``/``budget_total``."""
    limits = plan.binding()
    seen: dict[str, None] = {}
    for row in limits.itertuples(index=False):
        place = row.hall or row.site
        seen[f"{row.resource}@{place}" if place else str(row.resource)] = None
    return "; ".join(seen)


def _compute_proven(plan: Plan, mip_gap: float) -> bool:
    """True when the objective's own stage (compute for ``max_compute``, spend for
    ``min_cost``) was solved to ``mip_gap``, even if the least-spend tie-break was cut.

    ``planner.solve`` reports the first stage's gap as ``plan.gap`` and marks a plan
    ``"feasible"`` when either stage stopped early, so an ``optimal`` plan is proven and a
    ``feasible`` one is proven when its gap is within ``mip_gap``."""
    if plan.status == "optimal":
        return True
    if plan.status != "feasible" or plan.gap is None:
        return False
    return plan.gap <= mip_gap * (1 + 1e-9)


def _row(scenario: Scenario, plan: Plan, mip_gap: float) -> dict[str, Any]:
    """The result columns for a solved point (with a plan or without)."""
    row: dict[str, Any] = {
        "status": plan.status,
        "objective_unit": _UNITS.get(scenario.objective, ""),
        "error": "",
    }
    if not plan.has_plan:
        row["error"] = plan.message or plan.status
        return row
    gpus = plan.gpus()
    row.update(
        objective=plan.objective,
        total_spend_usd=plan.total_spend_usd,
        gpus=int(gpus.iloc[-1]) if len(gpus) else 0,
        pflops_periods=float(plan.pflops().sum()),
        gap=plan.gap,
        compute_proven=_compute_proven(plan, mip_gap),
        binding=_binding_text(plan),
    )
    return row


def solve_point(
    payload: Mapping[str, Any], overrides: Mapping[str, Any], options: Mapping[str, Any]
) -> dict[str, Any]:
    """Solve one point: the scenario ``payload`` (``model_dump(mode="json")``) with
    ``overrides`` applied, solved with ``options`` (``SolveOptions.as_dict()``). Never
    raises: an invalid override, an infeasible scenario or any exception is a row with
    status ``invalid``/``infeasible``/``error`` and its reason."""
    began = time.perf_counter()
    try:
        base = Scenario.model_validate(payload)
        try:
            scenario = apply_overrides(base, overrides)
        except ScenarioError as exc:
            row = {"status": "invalid", "error": "; ".join(str(p) for p in exc.problems)}
        else:
            opts = SolveOptions(**options)
            row = _row(scenario, solve(scenario, opts), opts.mip_gap)
    except Exception as exc:  # a bug or a missing solver: the sweep goes on
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    row["solve_seconds"] = time.perf_counter() - began
    return row


# -- the table -------------------------------------------------------------------------------
def _table(points: list[dict], rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """One row per point: ``point``, the override columns, then :data:`RESULT_COLUMNS`."""
    records = []
    for i, (overrides, row) in enumerate(zip(points, rows, strict=True)):
        record = {"point": i}
        record.update({columns[path]: value for path, value in overrides.items()})
        record.update({name: row.get(name) for name in RESULT_COLUMNS})
        records.append(record)
    table = pd.DataFrame.from_records(
        records, columns=["point", *columns.values(), *RESULT_COLUMNS]
    )
    for name in ("objective", "total_spend_usd", "pflops_periods", "gap", "solve_seconds"):
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    table["gpus"] = table["gpus"].astype("Int64")
    table["compute_proven"] = table["compute_proven"].astype("boolean")
    for name in ("status", "objective_unit", "binding", "error"):
        table[name] = table[name].fillna("").astype(str)
    table.attrs["overrides"] = dict(columns)
    return table


def _kind(value: Any) -> str:
    """Scalar kind of a value for a file column: number, text, bool, none or other."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text" if isinstance(value, str) else "other"


def _storable(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every override column a file can hold: a column whose values are
    not all numbers, all text or all booleans (with or without nulls) is stored as the
    JSON text of each value (``[1e9, 2e9]`` -> ``"[1000000000.0, 2000000000.0]"``)."""
    stored = table.copy()
    for name in table.attrs.get("overrides", {}).values():
        kinds = {_kind(v) for v in table[name]} - {"none"}
        if len(kinds) > 1 or "other" in kinds:
            stored[name] = [json.dumps(v) for v in table[name]]
    return stored


def check_out(path: str | Path) -> Path:
    """The output path, checked before any solve: a ``.parquet`` or ``.csv`` name, pyarrow
    installed for Parquet, and a place that can be written (else OutputError)."""
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"{path}: sweep results are saved as .parquet or .csv")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                f"{path}: saving Parquet needs pyarrow: pip install pyarrow "
                "(or 'dc-retrofit-planner[dask]'), or save as .csv"
            ) from exc
    return check_writable(path)


def save_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a sweep table as Parquet or CSV (by the file's suffix); return the path.
    Override columns of lists or mixed kinds are written as JSON text (see
    :func:`_storable`)."""
    path = check_out(path)
    stored = _storable(table)
    if path.suffix.lower() == ".parquet":
        return write_file(path, lambda temp: stored.to_parquet(temp, index=False, engine="pyarrow"))
    return write_file(path, lambda temp: stored.to_csv(temp, index=False))


# -- the sweep -------------------------------------------------------------------------------
def sweep(
    scenario: Scenario | str | Path,
    grid: Mapping[str, Sequence[Any]],
    workers: int | None = None,
    client: Any = None,
    options: SolveOptions | None = None,
    progress: bool = True,
    out: str | Path | None = None,
    **fields: Any,
) -> pd.DataFrame:
    """Solve every point of ``grid`` (override path -> list of values) on ``scenario``.

    ``scenario`` is a Scenario or a scenario file. Points are the cartesian product of the
    grid's lists, in grid order. ``workers`` local processes solve them (default: one per
    core; ``1`` solves in this process); with ``client`` (a ``dask.distributed.Client`` or
    a scheduler address such as ``"tcp://host:8786"``) they run as tasks on that cluster
    instead and ``workers`` is ignored. ``options`` (or its fields as keywords:
    ``solver``, ``time_limit_s`` per point, ``mip_gap``) are those of
    :func:`planner.solve`. ``progress`` shows a progress bar;
    ``out`` (``.parquet`` or ``.csv``) saves the table.

    Returns one row per point: ``point``, one column per override path (the value as
    given), then :data:`RESULT_COLUMNS` (documented in docs/sweeps.md). A point that is
    invalid, infeasible or fails is a row with its status and reason in ``error``. Raises
    ScenarioError for an invalid scenario file and ValueError for a malformed grid, a bad
    ``workers`` or an ``out`` that is neither ``.parquet`` nor ``.csv``.
    """
    points = grid_points(grid)
    if out is not None:
        check_out(out)
    check_workers(workers)
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    payload = base.model_dump(mode="json")
    options = SolveOptions.of(options, **fields).as_dict()
    rows: list[dict | None] = [None] * len(points)
    with progress_bar(len(points), f"Sweep {base.name}", progress) as advance:

        def done(i: int, row: dict) -> None:
            rows[i] = row
            advance()

        run_points(solve_point, payload, points, options, done, workers, client)
    table = _table(points, rows, _override_columns(list(grid)))
    if out is not None:
        save_table(table, out)
    return table
