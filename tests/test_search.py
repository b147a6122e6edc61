"""The fleet search: neighbourhoods that keep the incumbent feasible, steps that never make a
plan worse, the exact optimum on small scenarios, and plans that verify."""

from __future__ import annotations

import os

import numpy as np
import pytest
from bruteforce import search as exhaustive
from conftest import write_scenario
from hypothesis import HealthCheck, assume, given, settings
from test_exact import scenarios
from typer.testing import CliRunner

import planner
from planner import SolveOptions, synth
from planner.cli import app
from planner.model import build
from planner.solving import starts
from planner.solving.readback import plan_of
from planner.solving.runners import runner
from planner.solving.search import KINDS, Search, neighbourhood_search, solve_part
from planner.solving.solvers import audit


@pytest.fixture(scope="module")
def fleet():
    """A synthetic fleet of 2 sites x 4 halls x 6 periods and its rule-of-thumb start."""
    sc = synth.fleet(2, 4, 6, seed=3)
    m = build(sc)
    return m, starts.greedy_start(m)


@pytest.mark.parametrize("kind", KINDS)
def test_every_neighbourhood_keeps_the_incumbent_feasible(fleet, kind):
    """The sub-MILP's rows, with the fixed columns moved into their bounds, hold at the
    incumbent's free values: the start handed to HiGHS is feasible."""
    m, start = fleet
    search = Search(m, start, seed=1)
    search.target[kind] = 60.0  # a part of this small fleet
    arrays, cols = search.sub_problem(search.free(kind))
    assert 0 < len(cols) < len(search.x) and len(arrays["integer"])
    x = search.x[cols]
    starts_ = np.append(arrays["starts"], len(arrays["index"]))
    for r in range(arrays["n_rows"]):
        lo, hi = starts_[r], starts_[r + 1]
        activity = arrays["value"][lo:hi] @ x[arrays["index"][lo:hi]]
        tol = 1e-6 * (1 + abs(activity))
        assert arrays["row_lower"][r] - tol <= activity <= arrays["row_upper"][r] + tol


def test_search_never_makes_the_plan_worse_and_its_plan_verifies(fleet):
    m, start = fleet
    before = starts.objective_at(m, start)
    values, log = neighbourhood_search(m, start, None, 1e-4, 1, seed=0, max_steps=8, target=80)
    after = starts.objective_at(m, values)
    assert after >= before - 1e-6
    assert sum(log.tried.values()) == 8
    assert sum(log.gained.values()) == pytest.approx(after - before, abs=1e-6)
    search = Search(m, values)
    assert audit(search.mat, search.x).feasible
    assert plan_of(m, values, "feasible", None, "", 0.0).verify() == []


@pytest.mark.parametrize("kind", ["halls", "blocks"])
def test_the_same_seed_gives_the_same_search(fleet, kind):
    """Every neighbourhood's MILP solved to optimality (small ones and a long step) and one
    kind: the seed alone decides the search."""
    m, start = fleet
    runs = [
        neighbourhood_search(
            m, start, None, 1e-4, 1, seed=7, max_steps=4, target=60, kinds=(kind,), step_s=300
        )  # fmt: skip
        for _ in range(2)
    ]
    (one, log_one), (two, log_two) = runs
    assert one == two and log_one.tried == log_two.tried == {**dict.fromkeys(KINDS, 0), kind: 4}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(scenarios())
def test_search_finds_the_exact_optimum_on_small_scenarios(data):
    """A small model fits one neighbourhood (its first frees every column): the search
    alone, from the rule-of-thumb plan, reaches the exhaustive optimum."""
    sc = planner.Scenario.model_validate(data)
    assume(sc.objective == "max_compute")
    m = build(sc)
    start = starts.greedy_start(m)
    assume(start is not None)
    best = exhaustive(sc).plan
    values, _ = neighbourhood_search(m, start, None, 0.0, 1, max_steps=2)
    assert starts.objective_at(m, values) >= starts.objective_at(m, start) - 1e-6
    assert starts.objective_at(m, values) == pytest.approx(best.objective, rel=1e-9, abs=1e-6)


def test_solve_with_the_search_states_its_certificate():
    sc = synth.fleet(3, 6, 8, seed=1)  # 1,372 whole-number decisions
    plan = planner.solve(sc, method="search", time_limit_s=15)
    assert plan.has_plan and plan.verify() == []
    assert "neighbourhood search" in plan.message
    assert "gap to the LP relaxation's bound" in plan.message and plan.gap is not None
    milp = planner.solve(sc, method="milp", time_limit_s=15)
    assert milp.has_plan and "neighbourhood search" not in milp.message


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"method": "fast"}, "unknown method"), ({"method": "search", "solver": "cbc"}, "HiGHS")],
)
def test_bad_methods_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        SolveOptions(**fields)


# -- neighbourhoods solved at the same time ---------------------------------------------------
def _activity(search: Search, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Each row's activity at ``x`` (of the ``mask`` columns only, when given)."""
    mat = search.mat
    keep = np.ones(len(mat.index), dtype=bool) if mask is None else mask[mat.index]
    weights = np.where(keep, mat.value * x[mat.index], 0.0)
    return np.bincount(search.row_of, weights=weights, minlength=len(mat.rows))


@pytest.mark.parametrize("kind", KINDS)
def test_neighbourhoods_solved_at_once_share_no_column_and_split_the_slack(fleet, kind):
    """Two neighbourhoods of a round share no column; on a row both touch (a period's
    budget), each may move its own part by half the row's slack, and on a row only one
    touches, by all of it: the two solutions together keep every row."""
    m, start = fleet
    search = Search(m, start, seed=2)
    search.target[kind] = 60.0
    masks = search.parts_of(kind, 2)
    assert len(masks) == 2 and not (masks[0] & masks[1]).any()
    mat = search.mat
    total = _activity(search, search.x)
    room_up = {i: mat.row_upper - total for i in range(2)}
    touched = [np.isin(np.arange(len(mat.rows)), search.row_of[mask[mat.index]]) for mask in masks]
    both = touched[0] & touched[1]
    assert both.any() or kind == "periods"  # sites share the budget rows
    for i, ((arrays, cols), mask) in enumerate(zip(search.sub_problems(masks), masks, strict=True)):
        assert np.array_equal(cols, np.nonzero(mask)[0])
        rows = np.nonzero(touched[i])[0]
        own = _activity(search, search.x, mask)[rows]
        up = np.asarray(arrays["row_upper"]) - own  # how far the part may raise each row
        expected = np.where(both[rows], 0.5, 1.0) * room_up[i][rows]
        finite = np.isfinite(expected)
        assert np.allclose(up[finite], expected[finite], atol=1e-6)
        assert np.isinf(up[~finite]).all()


def test_solutions_of_a_round_are_taken_together_and_keep_the_model_feasible(fleet):
    m, start = fleet
    search = Search(m, start, seed=5)
    search.target["halls"] = 60.0
    parts = search.sub_problems(search.parts_of("halls", 2))
    rows = [
        solve_part(
            {}, {"arrays": a, "start": search.x[c], "seconds": 60, "mip_gap": 0.0}, {"threads": 1}
        )  # fmt: skip
        for a, c in parts
    ]
    assert all(row["word"] == "optimal" for row in rows)
    before = search.objective
    gains = [
        float(search.mat.cost[c] @ (search.x[c] - row["x"]))
        for (_, c), row in zip(parts, rows, strict=True)
    ]
    search.take([(c, row["x"]) for (_, c), row in zip(parts, rows, strict=True)])
    assert audit(search.mat, search.x).feasible
    # both taken at once: the objective moved by the sum of the two parts' gains
    assert search.objective - before == pytest.approx(sum(gains), abs=1e-6)


def _pid(payload, point, options):
    return {"status": "ok", "pid": os.getpid()}


def test_local_workers_are_kept_for_every_batch():
    seen = []
    with runner(workers=2) as opened:
        assert opened.lanes == 2
        for _ in range(3):
            rows = {}
            opened.run(_pid, {}, [{}, {}], {}, rows.__setitem__)
            seen.append({row["pid"] for row in rows.values()})
    assert all(pids <= seen[0] | seen[1] | seen[2] for pids in seen)
    assert len(set().union(*seen)) <= 2 and os.getpid() not in set().union(*seen)


def test_the_parallel_search_is_the_same_in_local_processes_and_on_a_dask_cluster(fleet):
    """Same seed, one kind, every neighbourhood solved to optimality: two local worker
    processes and a Dask LocalCluster of two on loopback give the same search."""
    distributed = pytest.importorskip("distributed")
    m, start = fleet
    how = dict(seed=11, max_steps=3, target=60, kinds=("halls",), step_s=60)
    local, local_log = neighbourhood_search(m, start, None, 1e-4, 1, workers=2, **how)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 host="127.0.0.1", dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        on_dask, dask_log = neighbourhood_search(m, start, None, 1e-4, 1, client=client, **how)
        # and planner.solve and the command line reach it by its scheduler's address
        sc = synth.fleet(3, 6, 8, seed=1)
        plan = planner.solve(sc, method="search", time_limit_s=8,
                             client=cluster.scheduler_address)  # fmt: skip
    assert local == on_dask
    assert local_log.tried == dask_log.tried == {**dict.fromkeys(KINDS, 0), "halls": 6}
    assert local_log.lanes == dask_log.lanes == 2
    assert starts.objective_at(m, local) > starts.objective_at(m, start)
    assert plan.has_plan and plan.verify() == [] and "2 at a time" in plan.message


def test_solve_with_search_workers_verifies_and_says_so(tmp_path, monkeypatch):
    sc = synth.fleet(3, 6, 8, seed=1)
    plan = planner.solve(sc, method="search", time_limit_s=8, workers=2)
    assert plan.has_plan and plan.verify() == [] and "2 at a time" in plan.message
    config = write_scenario(sc.model_dump(mode="json"), tmp_path / "fleet.yaml")
    args = ["solve", str(config), "--method", "search", "--time-limit", "8", "--workers", "2",
            "--out", str(tmp_path / "out"), "--no-plots", "--no-baseline"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "plan.json").exists()
    elsewhere = [*args[:-4], "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o2")]
    monkeypatch.setattr("planner.solving.runners.CONNECT_S", 2)
    unreachable = CliRunner().invoke(app, elsewhere)
    assert unreachable.exit_code == 1, unreachable.output
    assert "cannot run the search there" in unreachable.output
    assert "Traceback" not in unreachable.output
    assert not (tmp_path / "o2" / "plan.json").exists()


def test_bad_workers_are_refused():
    with pytest.raises(ValueError, match="workers must be a whole number"):
        SolveOptions(workers=0)


def test_the_split_relaxation_start_keeps_each_group_near_the_relaxation(fleet):
    """Each site a group: every whole number at most its relaxed value rounded up, each
    group's budget share its relaxed spend; the plan, when taken, holds every row of the
    whole model and beats the incumbent."""
    m, start = fleet
    relaxed, bound = starts.relaxation(m, SolveOptions())
    search = Search(m, start)
    guide = np.array([relaxed[v.name] for v in search.mat.variables])
    before = search.objective
    solve = lambda points: [solve_part({}, p, {"threads": 1}) for p in points]  # noqa: E731
    taken = search.split(guide, solve, 1, 60.0, 1e-4, group=1)
    assert search.log.split == "2 groups of sites (2 solved)"
    assert audit(search.mat, search.x).feasible
    assert taken  # the rule-of-thumb plan is well short of the relaxation here
    assert before < search.objective <= bound + 1e-6
    whole = search.whole
    assert (search.x[whole] <= np.ceil(guide[whole] - 1e-6) + 1e-9).all()


def test_neighbourhoods_whose_worker_failed_are_reported_and_lose_nothing(fleet):
    """A lane that fails (a worker lost) gives an error row: the search goes on from its
    incumbent, and its log says how many failed and why."""
    m, start = fleet
    search = Search(m, start, seed=1)

    def broken(points):
        return [{"status": "error", "error": "worker process failed: killed", "x": None}
                for _ in points]  # fmt: skip

    before = search.objective
    assert search.round("halls", 2, broken, 5.0, 1e-4) == 0.0
    assert search.objective == before and search.log.tried["halls"] == 2
    assert "2 failed (first: worker process failed: killed)" in search.log.text()
