"""One adapter over the MILP solvers: HiGHS (highspy, default) and CBC.

It hides PuLP's solver classes, reads back whether a solution exists (PuLP can report an
"optimal"-looking status after a time limit with no integer solution), and the gap.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pulp

SOLVERS = ("highs", "cbc")


class SolverUnavailable(RuntimeError):
    """The requested solver is not installed."""


@dataclass
class SolveResult:
    """What one solver call found."""

    status: str  # optimal | feasible | infeasible | unbounded | error
    objective: float | None
    gap: float | None  # relative MIP gap; None when unknown
    seconds: float
    message: str = ""
    solver_seconds: float | None = None  # time inside the solver's own run (HiGHS only)

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def _cbc_path() -> str:
    """The CBC executable: one on PATH (``pulp[cbc]`` or a system CBC), else PuLP's bundled
    binary where this PuLP still ships one."""
    found = shutil.which("cbc")
    if found:
        return found
    from pulp.apis import coin_api

    bundled = getattr(coin_api, "pulp_cbc_path", None)
    if bundled and os.path.exists(bundled):
        if not os.access(bundled, os.X_OK):
            os.chmod(bundled, 0o755)
        return bundled
    raise SolverUnavailable("CBC is not installed: pip install 'pulp[cbc]' or install coinor-cbc")


def _threads() -> int:
    return int(os.environ.get("PLANNER_THREADS", "0")) or min(os.cpu_count() or 1, 4)


def run(
    prob: pulp.LpProblem,
    solver: str = "highs",
    time_limit_s: float | None = None,
    mip_gap: float | None = 1e-4,
    msg: bool = False,
    start: dict[str, float] | None = None,
    relax: bool = False,
) -> SolveResult:
    """Solve ``prob`` in place with the named solver and report what was found.

    ``start`` (variable name -> value) is a feasible solution to start from; HiGHS uses it
    as its first incumbent, CBC ignores it. ``relax`` solves the LP relaxation instead
    (HiGHS only, interior point; whole-number decisions taken as continuous).
    """
    solver = solver.lower()
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if time_limit_s is not None and time_limit_s <= 0:
        return SolveResult("error", None, None, 0.0, "no time left for this solve")
    began = time.perf_counter()
    if solver == "highs":
        result = _run_highs(prob, time_limit_s, mip_gap, msg, start, relax)
    elif relax:
        raise ValueError("the LP relaxation is solved with HiGHS only")
    else:
        result = _run_cbc(prob, time_limit_s, mip_gap, msg)
    result.seconds = time.perf_counter() - began
    return result


def _status(prob: pulp.LpProblem, stopped_early: bool) -> str:
    sol = prob.sol_status
    if sol == pulp.LpSolutionOptimal and not stopped_early:
        return "optimal"
    if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return "feasible"
    if prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return "infeasible"
    if prob.status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
        return "unbounded"
    return "error"


_BANNER_SHOWN = False


def _silence_highs_banner() -> None:
    """highspy prints a banner on stdout when the first Highs object is made in a
    process; make that object once with stdout pointed at /dev/null."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
    import highspy

    _BANNER_SHOWN = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _BulkHiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface, handing the whole model to HiGHS in three array calls.

    PuLP 3.x passes columns and rows one call each (``addCol``/``addRow``), a Python
    round-trip per row that costs seconds at fleet size; here columns, integrality and the
    row-wise matrix go over in bulk, in the order ``prob.writeMPS`` writes them, so a model
    read back from that MPS file is the same model. ``start`` (variable name -> value) is
    handed to HiGHS as its first incumbent.
    """

    def __init__(self, start: dict[str, float] | None = None, **options):
        super().__init__(**options)
        self.start_values = start

    def buildSolverModel(self, lp):
        import highspy
        import numpy as np

        inf = highspy.kHighsInf
        variables = lp.variables()
        for i, var in enumerate(variables):
            var.index = i
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        objective = lp.objective if lp.objective is not None else {}

        def bound(value, default):
            return default if value is None else value

        h = lp.solverModel
        n = len(variables)
        h.addVars(
            n,
            np.array([bound(v.lowBound, -inf) for v in variables], dtype=float),
            np.array([bound(v.upBound, inf) for v in variables], dtype=float),
        )
        h.changeColsCost(
            n,
            np.arange(n, dtype=np.int32),
            np.array([sign * objective.get(v, 0.0) for v in variables], dtype=float),
        )
        integer = [v.index for v in variables if v.cat == pulp.LpInteger] if self.mip else []
        if integer:
            h.changeColsIntegrality(
                len(integer),
                np.array(integer, dtype=np.int32),
                np.full(len(integer), highspy.HighsVarType.kInteger),
            )
        rows = lp.constraints()
        starts, indices, values, lower, upper = [], [], [], [], []
        for i, row in enumerate(rows):
            row.index = i
            starts.append(len(indices))
            for var, coef in row.items():
                if coef:
                    indices.append(var.index)
                    values.append(coef)
            lower.append(bound(row.getLb(), -inf))
            upper.append(bound(row.getUb(), inf))
        if rows:
            h.addRows(
                len(rows),
                np.array(lower, dtype=float),
                np.array(upper, dtype=float),
                len(indices),
                np.array(starts, dtype=np.int32),
                np.array(indices, dtype=np.int32),
                np.array(values, dtype=float),
            )
        if self.start_values:
            solution = highspy.HighsSolution()
            solution.col_value = [float(self.start_values.get(v.name) or 0.0) for v in variables]
            solution.value_valid = True
            h.setSolution(solution)


def _run_highs(prob, time_limit_s, mip_gap, msg, start=None, relax=False) -> SolveResult:
    import highspy

    if not msg:
        _silence_highs_banner()

    options = dict(msg=msg, timeLimit=time_limit_s, gapRel=mip_gap, threads=_threads())
    options["random_seed"] = 0
    if relax:
        options.update(mip=False, solver="ipm")
    engine = _BulkHiGHS(start, **options)
    if not engine.available():
        raise SolverUnavailable("HiGHS is not installed: pip install highspy")
    prob.solve(engine)
    highs = prob.solverModel
    model_status = highs.getModelStatus()
    stopped = model_status != highspy.HighsModelStatus.kOptimal
    status = _status(prob, stopped)
    info = highs.getInfo()
    gap = None
    if status in ("optimal", "feasible"):
        gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
        if status == "optimal" and gap is None:
            gap = 0.0
    message = highs.modelStatusToString(model_status)
    objective = pulp.value(prob.objective)
    return SolveResult(status, objective, gap, 0.0, message, solver_seconds=highs.getRunTime())


_CBC_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.M)
_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.M)
_CBC_STOPPED = re.compile(r"^Result - Stopped on (time|iterations|nodes)", re.M)


def _cbc_gap(log: str) -> float | None:
    """Relative gap |objective - bound| / |objective| from CBC's result summary (its own
    ``Gap:`` line is rounded to two decimals and signed)."""
    objective, bound = _CBC_OBJECTIVE.search(log), _CBC_BOUND.search(log)
    if not (objective and bound):
        return None
    try:
        obj, low = float(objective.group(1)), float(bound.group(1))
    except ValueError:
        return None
    if not (math.isfinite(obj) and math.isfinite(low)):
        return None
    return abs(obj - low) / max(abs(obj), 1e-9)


def _run_cbc(prob, time_limit_s, mip_gap, msg) -> SolveResult:
    with tempfile.TemporaryDirectory(prefix="planner-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        engine = pulp.COIN_CMD(
            path=_cbc_path(),
            msg=msg,
            timeLimit=time_limit_s,
            gapRel=mip_gap,
            threads=_threads(),
            logPath=str(log),
            keepFiles=False,
        )
        prob.solve(engine)
        text = log.read_text(errors="replace") if log.exists() else ""
    stopped = bool(_CBC_STOPPED.search(text))
    status = _status(prob, stopped)
    gap = _cbc_gap(text) if status in ("optimal", "feasible") else None
    if gap is None and status == "optimal":
        gap = 0.0
    message = "stopped early" if stopped else pulp.LpStatus.get(prob.status, "")
    objective = pulp.value(prob.objective) if status in ("optimal", "feasible") else None
    return SolveResult(status, objective, gap, 0.0, message)
