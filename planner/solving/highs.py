"""Running HiGHS on a model's arrays: in this process, or in a child process that a time
limit can stop.

HiGHS honours its time limit between steps, but not inside some of them: on fleets of a
hundred halls a single root cut round has run 80 s past a 34 s limit. A time-limited solve
of a large model (:data:`ISOLATE_MIN_COLUMNS` columns or more) therefore runs in a child
process (a fresh interpreter, so it starts with no threads of this one) that sends every improving
solution HiGHS finds back as it finds it; if the child has not finished shortly after the
limit (:data:`GRACE_S`), it is stopped and the last solution it sent is the result. Either
way, :func:`planner.solving.solvers.run` checks the values before it believes them.

HiGHS's thread scheduler is process-wide: it is set by the first solve in a process and
refuses any other thread count later, so it is reset here when the count changes, or when
another user of highspy in the process changed it.
"""

from __future__ import annotations

import math
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

#: time-limited models with at least this many columns are solved in a child process
ISOLATE_MIN_COLUMNS = 1000
#: how long past its limit a child process may run before it is stopped (s), at least
GRACE_S = 0.5


class SolverUnavailable(RuntimeError):
    """The requested solver is not installed (or cannot be loaded)."""


@dataclass
class _Raw:
    """What a solver handed back, before the checks: its word (optimal | stopped |
    infeasible | unbounded | error), its values when it has a solution, the objective and
    bound it reports (model sense and units), its message and run time, an LP's duals."""

    word: str
    x: np.ndarray | None
    claimed: float | None
    bound: float | None
    message: str
    solver_seconds: float | None = None
    duals: np.ndarray | None = None


def threads() -> int:
    """Solver threads: ``PLANNER_THREADS`` where set to a whole number >= 1, else the cores
    (at most 4)."""
    text = os.environ.get("PLANNER_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return min(os.cpu_count() or 1, 4)


def load():
    """The highspy module, or SolverUnavailable saying how to get it."""
    try:
        import highspy
    except Exception as exc:  # not installed, or a broken build (ImportError, OSError, ...)
        raise SolverUnavailable(
            f"HiGHS cannot be loaded ({type(exc).__name__}: {exc}): "
            "pip install --force-reinstall highspy, or choose --solver cbc"
        ) from None
    return highspy


_SCHEDULER_THREADS: int | None = None
_BANNER_SHOWN = False


def _scheduler(highspy, count: int, force: bool = False) -> None:
    """Point HiGHS's process-wide thread scheduler at ``count`` threads."""
    global _SCHEDULER_THREADS
    if force or count != _SCHEDULER_THREADS:
        highspy.Highs.resetGlobalScheduler(True)
        _SCHEDULER_THREADS = count


def _silence_banner(highspy) -> None:
    """highspy prints a banner on stdout when the first Highs object is made in a
    process; make that object once with stdout pointed at /dev/null."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        return
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


def _model(highspy, arrays: dict, msg: bool, time_limit_s, mip_gap, relax, x0, count: int):
    """A Highs object holding the model of ``arrays`` (see ``Matrix.arrays``)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(msg))
    h.setOptionValue("threads", count)
    h.setOptionValue("random_seed", 0)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    if relax:
        h.setOptionValue("solver", "ipm")
    n, integer = arrays["n"], arrays["integer"]
    if n:
        h.addVars(n, arrays["col_lower"], arrays["col_upper"])
        h.changeColsCost(n, np.arange(n, dtype=np.int32), arrays["cost"])
    if len(integer) and not relax:
        h.changeColsIntegrality(
            len(integer),
            integer.astype(np.int32),
            np.full(len(integer), highspy.HighsVarType.kInteger),
        )
    if arrays["n_rows"]:
        h.addRows(
            arrays["n_rows"],
            arrays["row_lower"],
            arrays["row_upper"],
            len(arrays["index"]),
            arrays["starts"].astype(np.int32),
            arrays["index"].astype(np.int32),
            arrays["value"],
        )
    if x0 is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(map(float, x0))
        solution.value_valid = True
        h.setSolution(solution)
    return h


def _result(highspy, h, arrays: dict, relax: bool) -> _Raw:
    """What a finished run of ``h`` reports."""
    status = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(model_status)
    seconds = h.getRunTime()
    words = {
        status.kOptimal: "optimal",
        status.kInfeasible: "infeasible",
        status.kUnboundedOrInfeasible: "infeasible",
        status.kUnbounded: "unbounded",
    }
    word = words.get(model_status, "stopped")
    has_values = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if model_status in (status.kNotset, status.kModelError, status.kSolveError):
        word, has_values = "error", False
    if not has_values:
        return _Raw(word if word != "stopped" else "error", None, None, None, text, seconds)
    sign, constant = arrays["sign"], arrays["constant"]
    solution = h.getSolution()
    x = np.array(solution.col_value, dtype=float)
    claimed = sign * float(info.objective_function_value) + constant
    bound = None
    if not relax and len(arrays["integer"]):
        dual = float(info.mip_dual_bound)
        bound = sign * dual + constant if math.isfinite(dual) else None
    elif word == "optimal":
        bound = claimed
    duals = np.array(solution.row_dual, dtype=float) if solution.dual_valid else None
    return _Raw(word, x, claimed, bound, text, seconds, duals)


def run_here(arrays: dict, time_limit_s, mip_gap, msg, x0, relax, count: int) -> _Raw:
    """One HiGHS run in this process, with ``count`` threads."""
    highspy = load()
    if not msg:
        _silence_banner(highspy)
    _scheduler(highspy, count)
    h = _model(highspy, arrays, msg, time_limit_s, mip_gap, relax, x0, count)
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kNotset:  # another user reset it
        _scheduler(highspy, count, force=True)
        h = _model(highspy, arrays, msg, time_limit_s, mip_gap, relax, x0, count)
        h.run()
    return _result(highspy, h, arrays, relax)


def _child(arrays, time_limit_s, mip_gap, msg, x0, relax, count, conn) -> None:
    """The child process: solve, sending ``("solution", x, objective, bound)`` on every
    improving solution and ``("done", raw)`` at the end."""
    highspy = load()
    _silence_banner(highspy)
    h = _model(highspy, arrays, msg, time_limit_s, mip_gap, relax, x0, count)

    def improving(event) -> None:
        out = event.data_out
        x = np.array(out.mip_solution, dtype=float)
        conn.send(("solution", x, float(out.objective_function_value), float(out.mip_dual_bound)))

    if len(arrays["integer"]) and not relax:
        h.cbMipImprovingSolution.subscribe(improving)
    h.run()
    conn.send(("done", _result(highspy, h, arrays, relax)))
    conn.close()


def _child_main(fd: int) -> None:
    """``python -m planner.solving._highs_child FD``: read the run's arguments (pickled)
    on stdin, answer on the pipe ``FD``. A plain process, not multiprocessing's: it never
    re-imports the caller's script, so ``planner.solve`` needs no ``__main__`` guard."""
    args = pickle.load(sys.stdin.buffer)
    with Connection(fd, readable=False) as conn:
        _child(conn=conn, **args)


def run_isolated(arrays: dict, time_limit_s: float, mip_gap, msg, x0, relax, count: int) -> _Raw:
    """One HiGHS run in a child process, stopped :data:`GRACE_S` (or 2 %) after its time
    limit if it has not finished: the result is then the last improving solution it sent
    (or ``x0``, the start it was given), with the best bound it reported."""
    began = time.perf_counter()
    read, write = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-m", "planner.solving._highs_child", str(write)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        pass_fds=(write,),
    )
    os.close(write)
    receive = Connection(read, writable=False)
    payload = dict(
        arrays=arrays, time_limit_s=time_limit_s, mip_gap=mip_gap, msg=msg, x0=x0,
        relax=relax, count=count,
    )  # fmt: skip
    stop_at = began + time_limit_s + max(GRACE_S, 0.02 * time_limit_s)
    latest = None
    try:
        try:
            pickle.dump(payload, child.stdin)
            child.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: reported below
        while True:
            wait = stop_at - time.perf_counter()
            if wait <= 0 or not receive.poll(wait):
                break
            try:
                message = receive.recv()
            except EOFError:  # the child ended without a word: it crashed
                break
            if message[0] == "done":
                child.wait(5)
                return message[1]
            latest = message
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        receive.close()
    seconds = time.perf_counter() - began
    why = f"stopped {seconds - time_limit_s:.1f} s past its time limit by the planner"
    if child.returncode not in (0, -signal.SIGKILL):
        why = f"HiGHS's process ended with code {child.returncode}"
    sign, constant = arrays["sign"], arrays["constant"]
    if latest is not None:
        _, x, objective, dual = latest
        bound = sign * dual + constant if math.isfinite(dual) else None
        return _Raw("stopped", x, sign * objective + constant, bound, why, seconds)
    if x0 is not None:  # nothing better than the start was found
        return _Raw("stopped", np.asarray(x0, float), None, None, why, seconds)
    return _Raw("error", None, None, None, why, seconds)


def run(arrays: dict, time_limit_s, mip_gap, msg, x0, relax, count: int) -> _Raw:
    """One HiGHS run with ``count`` threads: in a child process for a time-limited large
    model, else here."""
    if time_limit_s is not None and arrays["n"] >= ISOLATE_MIN_COLUMNS:
        return run_isolated(arrays, time_limit_s, mip_gap, msg, x0, relax, count)
    return run_here(arrays, time_limit_s, mip_gap, msg, x0, relax, count)
