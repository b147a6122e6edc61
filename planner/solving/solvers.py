"""One adapter over the MILP solvers: HiGHS (highspy, default) and CBC.

Every solve in the package goes through :func:`run`, which treats what a solver reports
as a claim to check, not a fact:

* the model is handed to the solver as arrays (:class:`Matrix`) and the values it hands
  back are checked against those same arrays: every bound, every row, integrality, and
  the objective they achieve (:func:`audit`);
* the objective the solver *reports* must equal the one its values achieve; where it
  does not (highspy 1.16.0 can hand back a MIP start's values while reporting a better
  optimum), the run is untrusted and solved again without the start;
* the gap is always that of the objective the values achieve against the bound the
  solver proved, and a run is ``optimal`` only when that gap is within the one asked for.

It also hides what each solver needs around a run: HiGHS's thread scheduler, which is
global per process (reset when the thread count changes, or when another highspy user
changed it), and CBC's temporary files (in a directory of their own, removed whatever
happens).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

from . import highs
from .highs import SolverUnavailable, _Raw
from .options import SolveOptions

#: a row or bound may be off by this share of its magnitude (plus this much) and still hold
FEASIBILITY_REL = 1e-6
#: whole-number decisions may be this far from a whole number (HiGHS's own tolerance is 1e-6)
INTEGRALITY_TOL = 1e-5
#: a reported objective may differ from the one its values achieve by this share (plus this)
OBJECTIVE_REL = 1e-6
#: a difference between objective and bound this small (model units) is no gap at all
#: (HiGHS's default ``mip_abs_gap``)
ABS_GAP = 1e-6


class SolverFailed(RuntimeError):
    """The solver ran but failed: it crashed, or what it wrote back cannot be read."""


@dataclass
class SolveResult:
    """What one solver call found, after its claims were checked.

    ``objective`` is the objective the returned values achieve (model units), never the
    solver's word for it; ``bound`` the best bound on the optimum the solver proved (same
    units and sense; for an LP solved to optimality, its objective); ``gap`` the relative
    gap of the one to the other.
    """

    status: str  # optimal | feasible | infeasible | unbounded | error
    objective: float | None
    gap: float | None  # relative gap of objective to bound; None when unknown
    seconds: float
    message: str = ""
    solver_seconds: float | None = None  # time inside the solver's own runs (HiGHS only)
    bound: float | None = None
    claimed: float | None = None  # the objective the solver reported
    notes: list[str] = field(default_factory=list)  # what the checks found and did

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


# -- the model as arrays ---------------------------------------------------------------------
@dataclass
class Matrix:
    """A PuLP problem as the arrays a solver reads: columns with bounds, costs and
    integrality, rows in compressed sparse row form with their bounds. ``sign`` is -1 for a
    maximisation (the arrays always minimise), ``constant`` the objective's constant."""

    variables: list
    rows: list
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray  # minimised: sign x the model's objective coefficients
    integer: np.ndarray  # indices of whole-number columns
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    sign: float
    constant: float

    def arrays(self) -> dict:
        """The arrays alone (no PuLP objects): what a solver in another process needs."""
        return {
            "n": len(self.variables),
            "n_rows": len(self.rows),
            **{
                k: getattr(self, k)
                for k in (
                    "col_lower",
                    "col_upper",
                    "cost",
                    "integer",
                    "starts",
                    "index",
                    "value",
                    "row_lower",
                    "row_upper",
                    "sign",
                    "constant",
                )
            },
        }

    def objective(self, x: np.ndarray) -> float:
        """The model's objective (its own sense, constant included) at ``x``."""
        return float(self.sign * (self.cost @ x) + self.constant)

    def activities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's activity ``a_i x`` and the magnitude ``sum |a_ij x_j|`` it is made of."""
        n_rows = len(self.rows)
        if not n_rows:
            return np.zeros(0), np.zeros(0)
        terms = self.value * x[self.index]
        row_of = np.repeat(np.arange(n_rows), np.diff(np.append(self.starts, len(self.index))))
        activity = np.bincount(row_of, weights=terms, minlength=n_rows)
        size = np.bincount(row_of, weights=np.abs(terms), minlength=n_rows)
        return activity, size


def matrix(prob: pulp.LpProblem, mip: bool = True) -> Matrix:
    """The arrays of ``prob``, columns and rows in the order ``prob.writeMPS`` writes them
    (so that a model read back from that MPS file is the same model). ``mip=False`` drops
    integrality (the LP relaxation)."""
    inf = math.inf
    variables = list(prob.variables())  # PuLP may append to its own list (CBC adds a dummy)
    for i, var in enumerate(variables):
        var.index = i
    sign = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    objective = prob.objective if prob.objective is not None else pulp.LpAffineExpression()
    n = len(variables)
    cost = np.zeros(n)
    for var, coef in objective.items():
        cost[var.index] += sign * coef
    rows = prob.constraints()
    starts, index, value, lower, upper = [], [], [], [], []
    for i, row in enumerate(rows):
        row.index = i
        starts.append(len(index))
        for var, coef in row.items():
            if coef:
                index.append(var.index)
                value.append(coef)
        lb, ub = row.getLb(), row.getUb()
        lower.append(-inf if lb is None else lb)
        upper.append(inf if ub is None else ub)
    integer = [v.index for v in variables if v.cat == pulp.LpInteger] if mip else []
    return Matrix(
        variables=variables,
        rows=rows,
        col_lower=np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float),
        col_upper=np.array([inf if v.upBound is None else v.upBound for v in variables], float),
        cost=cost,
        integer=np.array(integer, dtype=np.int64),
        starts=np.array(starts, dtype=np.int64),
        index=np.array(index, dtype=np.int64),
        value=np.array(value, dtype=float),
        row_lower=np.array(lower, dtype=float),
        row_upper=np.array(upper, dtype=float),
        sign=sign,
        constant=float(objective.constant or 0.0),
    )


@dataclass(frozen=True)
class Audit:
    """What a vector of values achieves in a model: its objective, and the worst breach of
    a bound, a row or integrality (0 when every one holds within tolerance), with where."""

    objective: float
    breach: float  # worst breach, as a share of the tolerance it exceeds (0 = none)
    where: str

    @property
    def feasible(self) -> bool:
        return self.breach == 0.0


def audit(mat: Matrix, x: np.ndarray) -> Audit:
    """Check ``x`` against every bound, row and integrality of ``mat``."""
    worst, where = 0.0, ""

    def worse(excess: np.ndarray, tol: np.ndarray, what: str) -> None:
        nonlocal worst, where
        if not len(excess):
            return
        ratio = np.where(excess > tol, excess / np.maximum(tol, 1e-300), 0.0)
        i = int(np.argmax(ratio))
        if ratio[i] > worst:
            worst, where = float(ratio[i]), what.format(i=i, excess=float(excess[i]))

    if not np.all(np.isfinite(x)):
        return Audit(math.nan, math.inf, "a value is not a finite number")
    col_tol = FEASIBILITY_REL * (1.0 + np.abs(x))
    names = mat.variables
    worse(mat.col_lower - x, col_tol, "column {i} below its lower bound by {excess:g}")
    worse(x - mat.col_upper, col_tol, "column {i} above its upper bound by {excess:g}")
    if len(mat.integer):
        frac = np.abs(x[mat.integer] - np.round(x[mat.integer]))
        worse(frac, np.full(len(frac), INTEGRALITY_TOL), "whole-number column off by {excess:g}")
    activity, size = mat.activities(x)
    row_tol = FEASIBILITY_REL * (
        1.0 + np.maximum(size, np.abs(np.where(np.isfinite(mat.row_upper), mat.row_upper, 0.0)))
    )
    worse(mat.row_lower - activity, row_tol, "row {i} short of its lower bound by {excess:g}")
    worse(activity - mat.row_upper, row_tol, "row {i} over its upper bound by {excess:g}")
    if where.startswith("column") and names:
        i = int(where.split()[1])
        where = where.replace(f"column {i}", f"column {names[i].name}")
    if where.startswith("row") and mat.rows:
        i = int(where.split()[1])
        where = where.replace(f"row {i}", f"row {mat.rows[i].name}")
    return Audit(mat.objective(x), worst, where)


def relative_gap(objective: float, bound: float, maximise: bool) -> float:
    """Relative gap of an objective to a bound on the optimum (0 when the bound is met),
    over the objective's magnitude, as HiGHS measures it; differences within
    :data:`ABS_GAP` are none."""
    diff = bound - objective if maximise else objective - bound
    if diff <= ABS_GAP:
        return 0.0
    return diff / max(abs(objective), 1e-9)


_threads = highs.threads


def run(
    prob: pulp.LpProblem,
    options: SolveOptions | None = None,
    start: dict[str, float] | None = None,
    relax: bool = False,
) -> SolveResult:
    """Solve ``prob`` as ``options`` say (solver, time limit, gap, threads), check what the
    solver hands back, and set the variables' values (``varValue``) and, for an LP, the
    rows' duals (``pi``) to it.

    ``start`` (variable name -> value) is a feasible solution HiGHS starts from (CBC
    ignores it). ``relax`` solves the LP relaxation instead (HiGHS only, interior point;
    the gap is then not used). A run whose values break the model, or do not achieve the
    objective the solver reports, is solved again without the start, and the better of the
    two sound answers is kept; with no sound answer the result is an ``error``.
    """
    options = options if options is not None else SolveOptions()
    solver, time_limit_s, mip_gap = options.solver, options.time_limit_s, options.mip_gap
    if relax and solver != "highs":
        raise ValueError("the LP relaxation is solved with HiGHS only")
    began = time.perf_counter()
    mat = matrix(prob, mip=not relax)
    count = options.threads or _threads()

    def once(with_start) -> _Raw:
        left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - began)
        if left is not None and left <= 0:
            return _Raw("error", None, None, None, "no time left for this solve")
        if solver == "highs":
            x0 = None
            if with_start:
                x0 = np.array([float(with_start.get(v.name) or 0.0) for v in mat.variables])
            return highs.run(mat.arrays(), left, mip_gap, options.msg, x0, relax, count)
        return _run_cbc(prob, mat, left, mip_gap, options.msg, count)

    raw = _empty(mat) if not mat.variables else once(start)
    result = _judge(mat, raw, mip_gap, relax)
    spent = raw.solver_seconds
    if "untrusted" in result.notes and start is not None:
        again = once(None)
        second = _judge(mat, again, mip_gap, relax)
        second.notes.insert(0, f"re-solved without its start: {result.message}")
        if again.solver_seconds is not None:
            spent = (spent or 0.0) + again.solver_seconds
        if _better(mat, second, result):
            raw, result = again, second
    result.solver_seconds = spent
    _write_back(mat, raw, result)
    result.seconds = time.perf_counter() - began
    return result


def _better(mat: Matrix, a: SolveResult, b: SolveResult) -> bool:
    """Whether result ``a`` is at least as good as ``b``: a sound plan over none, then the
    better objective."""
    if not a.has_solution or not b.has_solution:
        return a.has_solution or not b.has_solution
    if mat.sign < 0:
        return a.objective >= b.objective - 1e-9 * max(1.0, abs(b.objective))
    return a.objective <= b.objective + 1e-9 * max(1.0, abs(b.objective))


def _empty(mat: Matrix) -> _Raw:
    """A model without decisions (solvers refuse it): optimal if every row holds at zero."""
    holds = bool(np.all(mat.row_lower <= 0.0) and np.all(mat.row_upper >= 0.0))
    if not holds:
        return _Raw("infeasible", None, None, None, "no decision and a row that cannot hold")
    return _Raw("optimal", np.zeros(0), mat.constant, mat.constant, "Optimal (no decisions)")


def _judge(mat: Matrix, raw: _Raw, mip_gap: float | None, relax: bool) -> SolveResult:
    """The checked result of one run (see :func:`run`)."""
    maximise = mat.sign < 0
    if raw.x is None:
        status = raw.word if raw.word in ("infeasible", "unbounded") else "error"
        return SolveResult(status, None, None, 0.0, raw.message)
    checked = audit(mat, raw.x)
    notes: list[str] = []
    if not checked.feasible:
        notes.append("untrusted")
        return SolveResult(
            "error",
            None,
            None,
            0.0,
            f"the solver's values break the model ({checked.where})",
            claimed=raw.claimed,
            notes=notes,
        )
    objective = checked.objective
    claimed = raw.claimed
    trusted = claimed is None or abs(claimed - objective) <= OBJECTIVE_REL * max(
        1.0, abs(objective)
    )
    bound = raw.bound
    if relax and raw.word == "optimal":
        bound = objective
    if bound is not None and not math.isfinite(bound):
        bound = None
    gap = None if bound is None else relative_gap(objective, bound, maximise)
    message = raw.message
    if not trusted:
        notes.append("untrusted")
        message = (
            f"the solver reported objective {claimed:.12g} but its values achieve {objective:.12g}"
        )
    if raw.word == "optimal" and trusted:
        wanted = 0.0 if mip_gap is None or relax else mip_gap
        status = "optimal" if gap is None or gap <= wanted * (1 + 1e-9) + 1e-12 else "feasible"
        if gap is None:
            gap = 0.0
        if status == "feasible":
            message = f"stopped at gap {gap:.3g}, above the {wanted:g} asked for"
    else:
        status = "feasible"
    return SolveResult(
        status, objective, gap, 0.0, message, bound=bound, claimed=claimed, notes=notes
    )


def _write_back(mat: Matrix, raw: _Raw, result: SolveResult) -> None:
    """Set the problem's variable values (and an LP's duals) to what the result keeps."""
    keep = result.has_solution and raw.x is not None
    for i, var in enumerate(mat.variables):
        var.varValue = float(raw.x[i]) if keep else None
    if keep and raw.duals is not None:
        for i, row in enumerate(mat.rows):
            row.pi = float(raw.duals[i])
    else:
        for row in mat.rows:
            row.pi = None


# -- CBC ---------------------------------------------------------------------------------------
_CBC_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.M)
_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.M)
_CBC_RESULT = re.compile(r"^Result - (.*)$", re.M)


def _cbc_path() -> str:
    """The CBC executable: ``PLANNER_CBC`` where set, else one on PATH (``pulp[cbc]`` or a
    system CBC), else PuLP's bundled binary where this PuLP still ships one."""
    chosen = os.environ.get("PLANNER_CBC")
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise SolverUnavailable(f"PLANNER_CBC={chosen} is not an executable file")
        return chosen
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


def _number(pattern: re.Pattern, text: str) -> float | None:
    found = pattern.search(text)
    if not found:
        return None
    try:
        value = float(found.group(1))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _run_cbc(prob, mat: Matrix, time_limit_s, mip_gap, msg, count: int) -> _Raw:
    path = _cbc_path()
    with tempfile.TemporaryDirectory(prefix="planner-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        engine = pulp.COIN_CMD(
            path=path,
            msg=False,
            timeLimit=time_limit_s,
            gapRel=mip_gap,
            threads=count,
            logPath=str(log),
            keepFiles=False,
        )
        engine.tmpDir = tmp  # its model and solution files die with this directory
        try:
            prob.solve(engine)
        except Exception as exc:  # a crash, or a solution file that cannot be read
            tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
            raise SolverFailed(
                f"CBC ({path}) failed: {exc}" + (f"; its log ends: {tail.strip()}" if tail else "")
            ) from None
        text = log.read_text(errors="replace") if log.exists() else ""
    if msg:
        print(text, file=sys.stderr)
    result = _CBC_RESULT.search(text)
    said = result.group(1) if result else ""
    sol = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
        return _Raw("infeasible", None, None, None, said or "infeasible")
    if prob.status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
        return _Raw("unbounded", None, None, None, said or "unbounded")
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return _Raw("error", None, None, None, said or "CBC found no solution")
    # CBC's solution file may leave out columns at zero: the audit checks the result anyway
    x = np.array([v.varValue or 0.0 for v in mat.variables], dtype=float)
    stopped = said.startswith("Stopped")
    objective = _number(_CBC_OBJECTIVE, text)
    claimed = None if objective is None else objective + mat.constant
    bound = _number(_CBC_BOUND, text)
    bound = bound + mat.constant if bound is not None else (None if stopped else claimed)
    word = "stopped" if stopped else "optimal"
    return _Raw(word, x, claimed, bound, "stopped early" if stopped else "Optimal")
