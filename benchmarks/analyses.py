"""Time the analyses a planner runs after a solve on the default fleet, each against the
estimate the planner states for it: the frontier and bandwidth plots (``planner plot``'s
estimate) and ``plan.explain()``. Ratios and timings measured in one run; never asserted.

    python benchmarks/analyses.py [--config configs/meta-2023-retrofit.yaml] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import planner  # noqa: E402
import planner.plots as plots  # noqa: E402
from planner.plots.all import sweep_estimate, sweep_limit  # noqa: E402

HERE = Path(__file__).resolve().parent


def seconds_of(text: str) -> float:
    """The ``about N s`` of an estimate."""
    return float(re.search(r"about (\d+) s", text).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(HERE.parent / "configs/meta-2023-retrofit.yaml"))
    parser.add_argument("--out", default=str(HERE / "analyses.json"))
    args = parser.parse_args()
    began = time.perf_counter()
    plan = planner.solve(args.config)
    solve_s = time.perf_counter() - began
    limit = sweep_limit(plan)
    rows = []
    for kind, draw in (
        ("frontier", lambda: plots.frontier(plan, time_limit_s=limit)),
        ("bandwidth", lambda: plots.bandwidth_sensitivity(plan.scenario, time_limit_s=limit)),
    ):
        estimate = sweep_estimate(plan, kind, 5, limit)
        began = time.perf_counter()
        draw()
        took = time.perf_counter() - began
        rows.append(dict(analysis=f"{kind} plot", seconds=took, estimate=estimate))
    began = time.perf_counter()
    why = plan.explain()
    took = time.perf_counter() - began
    rows.append(
        dict(
            analysis="explain",
            seconds=took,
            estimate=f"{len(why.marginal_values)} options valued; target under 90 s with the solve",
        )
    )
    print(f"solve: {solve_s:.1f} s")
    print("| analysis | seconds | estimate | measured / estimate |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        ratio = (
            f"{row['seconds'] / seconds_of(row['estimate']):.2f}"
            if "about" in row["estimate"]
            else "-"
        )
        row["ratio"] = ratio
        print(f"| {row['analysis']} | {row['seconds']:.1f} | {row['estimate']} | {ratio} |")
    machine = dict(cores=os.cpu_count(), python=platform.python_version(), system=platform.system())
    Path(args.out).write_text(
        json.dumps(dict(config=args.config, solve_s=solve_s, machine=machine, rows=rows), indent=1)
        + "\n"
    )


if __name__ == "__main__":
    main()
