"""Fleet-scale benchmark: the planner against HiGHS alone on the same model.

    python benchmarks/run.py                       # 10, 100 and 1,000 halls x 12 quarters
    python benchmarks/run.py --sizes 10            # the smallest size only (seconds)

For each size a synthetic fleet (``planner.synth.fleet``) is measured three times, each in a
fresh process so that peak memory (max RSS) belongs to one job:

* ``planner``: ``planner.solve(scenario, mip_gap=..., time_limit_s=...)`` from the scenario
  object to the Plan: model build, the greedy starting plan, hand-over to HiGHS, the
  compute solve, the least-spend tie-break and reading the plan back (total), with build
  and solve time apart, and the time HiGHS itself ran inside those solves;
* ``prepare``: the same model written to MPS by PuLP, with the compute and spend
  coefficients by column name (untimed);
* ``highs``: highspy alone reads that MPS file and runs the same lexicographic procedure
  with the same options: maximise compute, hold it (same slack), minimise spend warm-started
  from the first solution. Its solve time is the floor a PuLP-based planner stands on;
  planner total / HiGHS alone is the planner's overhead ratio. Both stop at the same time
  limit, and MIP search paths differ with the smallest change, so the ratio of the planner's
  total to HiGHS's own run time inside the planner ("planner/own HiGHS": every HiGHS run,
  starts included) is also given: it is the overhead on exactly the same search.

Prints a table and writes JSON (``--out``, default ``out/benchmark.json``; the record kept
in the repository, ``benchmarks/results.json``, is written only when named). Timings are
of this machine in this run; MIP times vary 2-5x with the instance, so compare ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: halls -> (sites, halls per site, target gap, target seconds) from the scale targets
SIZES = {
    10: (2, 5, 1e-3, 60.0),
    100: (10, 10, 1e-3, 60.0),
    1000: (50, 20, 1e-2, 300.0),
}
TIE_BREAK_GAP_SHARE = 0.01  # as planner.solving.optimize


def _peak_mb() -> float:
    """Peak resident memory of this process (MB); ru_maxrss is in KB on Linux."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def _scenario(halls: int, periods: int, seed: int):
    from planner import synth

    sites, per_site, _, _ = SIZES[halls]
    return synth.fleet(sites, per_site, periods, seed)


def _threads() -> int:
    from planner.solving.solvers import _threads

    return _threads()


# -- the three jobs, each run in its own process -------------------------------------------
def job_planner(halls: int, periods: int, seed: int, gap: float, limit: float) -> dict:
    import planner
    import planner.solving.optimize as optimize
    import planner.solving.starts as starts
    from planner.model import build

    inside = dict(highs_s=0.0, start_s=0.0, near_s=0.0)
    run, greedy_start, near_start = (
        optimize.run,
        optimize.greedy_start,
        optimize.neighbourhood_start,
    )

    def timed_run(*args, **kwargs):  # HiGHS's own run time inside each planner solve
        result = run(*args, **kwargs)
        inside["highs_s"] += result.solver_seconds or 0.0
        return result

    starts.run = timed_run  # the relaxation and the neighbourhood MILP are HiGHS runs too

    def timed_start(*args, **kwargs):
        began = time.perf_counter()
        try:
            return greedy_start(*args, **kwargs)
        finally:
            inside["start_s"] += time.perf_counter() - began

    def timed_near(*args):
        began = time.perf_counter()
        try:
            return near_start(*args)
        finally:
            inside["near_s"] += time.perf_counter() - began

    optimize.run, optimize.greedy_start = timed_run, timed_start
    optimize.neighbourhood_start = timed_near
    sc = _scenario(halls, periods, seed)
    began = time.perf_counter()
    plan = planner.solve(sc, mip_gap=gap, time_limit_s=limit)
    total = time.perf_counter() - began
    peak = _peak_mb()
    m = build(sc)  # after the timing and the peak: only to count the model
    problems = plan.verify() if plan.has_plan else ["no plan"]
    return dict(
        variables=len(m.prob.variables()),
        constraints=len(m.prob.constraints()),
        build_s=plan.build_seconds,
        solve_s=plan.solve_seconds,
        total_s=total,
        inner_highs_s=inside["highs_s"],
        start_s=inside["start_s"],
        near_s=inside["near_s"],
        peak_mb=peak,
        status=plan.status,
        gap=plan.gap,
        objective=plan.objective,
        spend_usd=plan.total_spend_usd,
        verified=not problems,
        message=plan.message,
    )


def job_prepare(halls: int, periods: int, seed: int, directory: str) -> dict:
    import pulp

    from planner.model import build, total_spend

    sc = _scenario(halls, periods, seed)
    m = build(sc)
    mps = os.path.join(directory, "model.mps")
    # minimise -compute: the model exactly as the planner hands it to HiGHS
    m.prob.writeMPS(mps, mpsSense=pulp.LpMinimize)
    spend = total_spend(m)
    coefs = dict(
        compute={v.name: c for v, c in m.compute.items()},
        spend={v.name: c for v, c in spend.items()},
        smallest=min((c for c in m.compute.values() if c > 0), default=1.0),
    )
    Path(directory, "coefs.json").write_text(json.dumps(coefs))
    return dict(mps=mps)


def job_highs(directory: str, gap: float, limit: float) -> dict:
    import highspy
    import numpy as np

    coefs = json.loads(Path(directory, "coefs.json").read_text())
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in dict(threads=_threads(), random_seed=0, mip_rel_gap=gap).items():
        h.setOptionValue(key, value)
    began = time.perf_counter()
    h.readModel(os.path.join(directory, "model.mps"))
    read = time.perf_counter() - began
    began = time.perf_counter()
    h.setOptionValue("time_limit", float(limit))
    h.run()
    first = h.getInfo()
    best = -first.objective_function_value
    gap1 = first.mip_gap
    found = first.primal_solution_status == 2  # kSolutionStatusFeasible
    solution = list(h.getSolution().col_value)
    names = [h.getColName(j)[1] for j in range(h.getNumCol())]
    col = {name: j for j, name in enumerate(names)}
    # hold compute (same slack as the planner), minimise spend from the first solution
    slack = min(1e-6 * max(1.0, abs(best)), 0.5 * coefs["smallest"])
    idx = np.array([col[n] for n in coefs["compute"]], dtype=np.int32)
    val = np.array(list(coefs["compute"].values()), dtype=float)
    h.addRow(best - slack, highspy.kHighsInf, len(idx), idx, val)
    cost = np.zeros(len(names))
    for name, c in coefs["spend"].items():
        cost[col[name]] = c
    h.changeColsCost(len(names), np.arange(len(names), dtype=np.int32), cost)
    h.setOptionValue("mip_rel_gap", gap * TIE_BREAK_GAP_SHARE)
    left = float(limit) - (time.perf_counter() - began)
    if found and left > 0:  # as the planner: no tie-break without a plan or time left
        h.setOptionValue("time_limit", left)
        start = highspy.HighsSolution()
        start.col_value = solution
        start.value_valid = True
        h.setSolution(start)
        h.run()
    solve = time.perf_counter() - began
    return dict(
        read_s=read,
        solve_s=solve,
        peak_mb=_peak_mb(),
        gap=gap1 if found and math.isfinite(gap1) else None,
        objective=best if found else None,
        status=h.modelStatusToString(h.getModelStatus()),
    )


# -- the parent: run the jobs, print and save ------------------------------------------------
def _child(args: list[str], script: str = __file__) -> dict:
    """``script --job ARGS`` in a fresh process: the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, script, "--job", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark job {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def model_job(kind: str, rest: list[str]) -> dict:
    """The jobs on the planner's model as a file: ``prepare`` (write it) and ``highs``
    (HiGHS alone on it)."""
    if kind == "prepare":
        h, t, s, d = rest
        return job_prepare(int(h), int(t), int(s), d)
    d, g, lim = rest
    return job_highs(d, float(g), float(lim))


def measure(halls: int, periods: int, seed: int, factor: float) -> dict:
    """Every figure of one fleet size."""
    _, _, gap, target_s = SIZES[halls]
    limit = target_s * factor
    common = [str(halls), str(periods), str(seed)]
    row = dict(halls=halls, periods=periods, seed=seed, target_gap=gap, target_s=target_s)
    p = _child(["planner", *common, str(gap), str(limit)])
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        _child(["prepare", *common, tmp])
        hs = _child(["highs", tmp, str(gap), str(limit)])
    row.update({k: p[k] for k in ("variables", "constraints", "status", "gap", "verified")})
    row.update(
        build_s=p["build_s"],
        solve_s=p["solve_s"],
        total_s=p["total_s"],
        peak_mb=p["peak_mb"],
        build_share=p["build_s"] / p["total_s"],
        build_solve_ratio=p["build_s"] / p["solve_s"] if p["solve_s"] else None,
        start_s=p["start_s"],
        near_s=p["near_s"],
        inner_highs_s=p["inner_highs_s"],
        inner_ratio=p["total_s"] / p["inner_highs_s"] if p["inner_highs_s"] else None,
        highs_read_s=hs["read_s"],
        highs_solve_s=hs["solve_s"],
        highs_gap=hs["gap"],
        highs_peak_mb=hs["peak_mb"],
        overhead_ratio=p["total_s"] / hs["solve_s"] if hs["solve_s"] else None,
        objective=p["objective"],
        highs_objective=hs["objective"],
        met_time=p["total_s"] <= target_s and p["gap"] is not None and p["gap"] <= gap,
        limit_s=limit,
        overrun_s=p["total_s"] - limit,
        within_limit=p["total_s"] <= limit + max(1.0, 0.05 * limit),
    )
    return row


COLUMNS = [
    ("halls", "halls", "{:d}"),
    ("variables", "vars", "{:,d}"),
    ("constraints", "rows", "{:,d}"),
    ("build_s", "build s", "{:.2f}"),
    ("solve_s", "solve s", "{:.1f}"),
    ("total_s", "total s", "{:.1f}"),
    ("peak_mb", "peak MB", "{:,.0f}"),
    ("gap", "gap", "{:.3%}"),
    ("build_share", "build/total", "{:.1%}"),
    ("build_solve_ratio", "build/solve", "{:.3f}"),
    ("highs_solve_s", "HiGHS alone s", "{:.1f}"),
    ("highs_gap", "HiGHS gap", "{:.3%}"),
    ("overhead_ratio", "planner/HiGHS", "{:.2f}"),
    ("inner_ratio", "planner/own HiGHS", "{:.2f}"),
    ("met_time", "target met", "{}"),
    ("overrun_s", "over limit s", "{:+.2f}"),
    ("within_limit", "within 1 s / 5 %", "{}"),
]


def table(rows: list[dict]) -> str:
    """A Markdown table of the rows."""

    def cell(row, key, fmt):
        value = row.get(key)
        return "-" if value is None else fmt.format(value)

    lines = ["| " + " | ".join(head for _, head, _ in COLUMNS) + " |"]
    lines.append("|" + "|".join("---:" for _ in COLUMNS) + "|")
    for row in rows:
        lines.append("| " + " | ".join(cell(row, k, f) for k, _, f in COLUMNS) + " |")
    return "\n".join(lines)


def machine() -> dict:
    from importlib.metadata import version

    import highspy  # noqa: F401
    import pulp

    return dict(
        cores=os.cpu_count(),
        threads=_threads(),
        python=platform.python_version(),
        pulp=pulp.__version__,
        highspy=version("highspy"),
        platform=platform.platform(),
        date=time.strftime("%Y-%m-%d"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(SIZES), choices=SIZES)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit-factor",
        type=float,
        default=1.0,
        help="time limit of each solve as a multiple of the size's target time",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out") / "benchmark.json",
        help="JSON results [default: out/benchmark.json; the record kept in the repository "
        "is benchmarks/results.json, written only when named here]",
    )
    parser.add_argument("--job", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        kind, *rest = args.job
        if kind == "planner":
            h, t, s, g, lim = rest
            result = job_planner(int(h), int(t), int(s), float(g), float(lim))
        else:
            result = model_job(kind, rest)
        print(json.dumps(result))
        return 0
    rows = []
    for halls in args.sizes:
        print(f"measuring {halls} halls x {args.periods} quarters ...", file=sys.stderr)
        rows.append(measure(halls, args.periods, args.seed, args.limit_factor))
    print(table(rows))
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report = dict(command=command.strip(), machine=machine(), results=rows)
    from planner.plan.files import write_text

    write_text(args.out, json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
