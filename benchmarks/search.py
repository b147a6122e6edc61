"""Fleet-search benchmark: the plan ``planner.solve`` returns in a size's time, against the
best plan known for that fleet and against HiGHS alone; and neighbourhoods per second with
one worker, two local workers and a Dask LocalCluster of two.

    python benchmarks/search.py --halls 100 --seeds 0 1 2 3 4     # 60 s per solve
    python benchmarks/search.py --halls 1000 --seeds 0 1 2 3 4    # 300 s per solve
    python benchmarks/search.py --halls 10000 --seeds 0 --no-highs
    python benchmarks/search.py --rates --halls 100               # neighbourhoods per second
    python benchmarks/search.py --halls 10 --limit 5 --seeds 0    # seconds: what CI runs

Each solve runs in a fresh process (its peak memory is its own). The planner's plan is
checked by ``Plan.verify()``; its objective is divided by the best plan known for the fleet
(``benchmarks/best/known.json`` and the plan files beside it). ``--keep`` stores a plan
found here that beats the best known one, with how it was found (``--how``). HiGHS alone
is ``benchmarks/run.py``'s job: highspy on the planner's model from its MPS file, same
time limit, no starting plan.

Prints a Markdown table and writes JSON (``--out``). Ratios are within one run on one
machine; MIP times vary 2-5x with the seed, so compare ratios, never single timings.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402
from run import _peak_mb, machine, model_job  # noqa: E402

#: halls -> (sites, halls per site, time limit s)
SIZES = {10: (2, 5, 60.0), 100: (10, 10, 60.0), 1000: (50, 20, 300.0), 10000: (500, 20, 900.0)}
BEST = HERE / "best"
PERIODS = 12


def fleet(halls: int, seed: int):
    from planner import synth

    sites, per_site, _ = SIZES[halls]
    return synth.fleet(sites, per_site, PERIODS, seed)


def best_known() -> dict:
    """``{"<halls>/<seed>": {"objective", "how", "file"}}`` of the stored best plans."""
    path = BEST / "known.json"
    return json.loads(path.read_text()) if path.exists() else {}


# -- jobs, each in its own process -----------------------------------------------------------
def job_search(halls: int, seed: int, limit: float, workers: int, keep: str) -> dict:
    import planner

    sc = fleet(halls, seed)
    began = time.perf_counter()
    plan = planner.solve(sc, time_limit_s=limit, workers=workers)
    total = time.perf_counter() - began
    peak = _peak_mb()
    # the largest finished child: a search worker or the LP relaxation's HiGHS process
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    problems = plan.verify() if plan.has_plan else ["no plan"]
    if keep and plan.has_plan and not problems:
        plan.to_json(keep)
    return dict(
        status=plan.status,
        objective=plan.objective,
        gap=plan.gap,
        build_s=plan.build_seconds,
        total_s=total,
        peak_mb=peak,
        child_peak_mb=children,
        verified=not problems,
        message=plan.message,
    )


def job_rates(halls: int, seed: int, seconds: float, kind: str) -> dict:
    """Neighbourhoods of one ``kind`` per second from the rule-of-thumb plan: one worker
    (in this process, all cores' threads), two local worker processes (one thread each), a
    Dask LocalCluster of two one-thread workers."""
    from planner.model import build
    from planner.solving.search import neighbourhood_search
    from planner.solving.starts import greedy_start, objective_at

    m = build(fleet(halls, seed))
    start = greedy_start(m)
    out = {}

    def rate(name: str, **where) -> None:
        began = time.perf_counter()
        deadline = began + seconds
        values, log = neighbourhood_search(
            m, start, deadline, 1e-4, 2, seed=seed, kinds=(kind,), **where
        )
        took = time.perf_counter() - began
        done = sum(log.tried.values())
        out[name] = dict(
            neighbourhoods=done,
            seconds=took,
            per_s=done / took,
            gained=objective_at(m, values) - objective_at(m, start),
        )

    rate("one worker")
    rate("two local workers", workers=2)
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        rate("Dask LocalCluster of two", client=client)
    return out


def _child(args: list[str]) -> dict:
    return run._child(args, __file__)


# -- the parent ------------------------------------------------------------------------------
def measure(halls: int, seed: int, limit: float, workers: int, highs: bool, keep: bool, how):
    """One fleet: the planner's plan (and HiGHS alone's), against the best known plan."""
    with tempfile.TemporaryDirectory(prefix="planner-search-") as tmp:
        plan_path = str(Path(tmp) / "plan.json")
        row = dict(halls=halls, seed=seed, limit_s=limit, workers=workers)
        row.update(_child(["search", str(halls), str(seed), str(limit), str(workers), plan_path]))
        if highs:
            _child(["prepare", str(halls), str(PERIODS), str(seed), tmp])
            hs = _child(["highs", tmp, "1e-4", str(limit)])
            row.update(highs_objective=hs["objective"], highs_s=hs["solve_s"])
        known = best_known().get(f"{halls}/{seed}")
        if keep and row["verified"] and (known is None or row["objective"] > known["objective"]):
            known = _keep(halls, seed, Path(plan_path), row["objective"], how)
    best = None if known is None else known["objective"]
    row["best_known"] = best
    row["ratio"] = None if not best or row["objective"] is None else row["objective"] / best
    return row


def _keep(halls: int, seed: int, plan: Path, objective: float, how: str) -> dict:
    """Store ``plan`` as the best known one of its fleet, with how it was found."""
    BEST.mkdir(exist_ok=True)
    name = f"{halls}-halls-seed-{seed}.json.gz"
    (BEST / name).write_bytes(gzip.compress(plan.read_bytes(), mtime=0))
    known = best_known()
    known[f"{halls}/{seed}"] = dict(objective=objective, how=how, file=name)
    (BEST / "known.json").write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    return known[f"{halls}/{seed}"]


def _cell(value, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def table(rows: list[dict]) -> str:
    head = (
        "| halls | seed | objective | gap | best known | ratio | HiGHS alone "
        "| HiGHS alone / planner | build s | total s | peak MB | verified |"
    )
    lines = [head, "|" + "---:|" * 12]
    for r in rows:
        hs = r.get("highs_objective")
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r['halls']:,}",
                    str(r["seed"]),
                    _cell(r["objective"], "{:,.0f}"),
                    _cell(r["gap"], "{:.2%}"),
                    _cell(r["best_known"], "{:,.0f}"),
                    _cell(r["ratio"], "{:.4f}"),
                    _cell(hs, "{:,.0f}"),
                    _cell(
                        None if hs is None or not r["objective"] else hs / r["objective"], "{:.3f}"
                    ),  # fmt: skip
                    _cell(r["build_s"], "{:.1f}"),
                    _cell(r["total_s"], "{:.1f}"),
                    _cell(r["peak_mb"], "{:,.0f}"),
                    str(r["verified"]),
                ]
            )
            + " |"
        )
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    gaps = [r["gap"] for r in rows if r["gap"] is not None]
    if ratios:
        lines.append(f"\nratio to best known: median {statistics.median(ratios):.4f}, "
                     f"lowest {min(ratios):.4f}")  # fmt: skip
    if gaps:
        lines.append(f"gap: median {statistics.median(gaps):.2%}, "
                     f"highest {max(gaps):.2%}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--halls", type=int, default=100, choices=SIZES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--limit", type=float, help="seconds per solve [default: the size's]")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-highs", action="store_true", help="skip HiGHS alone")
    parser.add_argument("--rates", action="store_true", help="neighbourhoods per second")
    parser.add_argument("--kinds", nargs="+", default=["blocks", "halls"])
    parser.add_argument("--keep", action="store_true", help="store better plans as best known")
    parser.add_argument("--how", default="", help="how a kept plan was found")
    parser.add_argument("--out", type=Path, default=Path("out") / "search-benchmark.json")
    parser.add_argument("--job", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        kind, *rest = args.job
        if kind == "search":
            h, s, lim, w, keep = rest
            result = job_search(int(h), int(s), float(lim), int(w), keep)
        elif kind == "rates":
            h, s, sec, k = rest
            result = job_rates(int(h), int(s), float(sec), k)
        else:
            result = model_job(kind, rest)
        print(json.dumps(result))
        return 0
    limit = args.limit if args.limit is not None else SIZES[args.halls][2]
    record = dict(command=" ".join(["python", "benchmarks/search.py", *sys.argv[1:]]),
                  machine=machine())  # fmt: skip
    if args.rates:
        rates = {}
        for kind in args.kinds:
            print(f"neighbourhoods per second, {kind} ...", file=sys.stderr)
            rates[kind] = _child(["rates", str(args.halls), str(args.seeds[0]), str(limit), kind])
        record["rates"] = rates
        for kind, by in rates.items():
            one = by["one worker"]["per_s"]
            for name, r in by.items():
                print(f"{kind:7s} {name:26s} {r['neighbourhoods']:4d} in {r['seconds']:5.1f} s"
                      f" = {r['per_s']:.2f}/s ({r['per_s'] / one:.2f}x)")  # fmt: skip
    else:
        rows = []
        for seed in args.seeds:
            print(f"{args.halls} halls, seed {seed}, {limit:g} s ...", file=sys.stderr)
            rows.append(measure(args.halls, seed, limit, args.workers, not args.no_highs,
                                args.keep, args.how))  # fmt: skip
        record["rows"] = rows
        print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
