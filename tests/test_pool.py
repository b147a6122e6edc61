"""Solves at the same time in worker processes (planner.solving.pool): the same answers, in
order, as one after another; a job's error raised here; a worker that dies costs nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import hall, option, rack, scenario

import planner
from planner.insight.explain import marginal_values
from planner.solving.pool import solve_many


def square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def fail_on_three_unless_in(pid: int, x: int) -> int:
    if os.getpid() == pid:
        raise AssertionError("ran in the calling process")
    return fail_on_three(x)


def die_unless_in(pid: int, x: int) -> int:
    """Kills a worker process; answers in the process ``pid``."""
    if os.getpid() != pid:
        os._exit(3)
    return x


@pytest.fixture(autouse=True)
def workers_find_this_module(monkeypatch):
    """The jobs below live in this test module: let the worker processes import it."""
    here = str(Path(__file__).resolve().parent)
    paths = [here, *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


def test_workers_give_the_answers_in_order_from_other_processes():
    seen = []
    answers = solve_many(
        square_with_pid,
        [(i,) for i in range(7)],
        workers=2,
        progress=lambda d, n: seen.append((d, n)),
    )
    assert [a for a, _ in answers] == [i * i for i in range(7)]
    assert os.getpid() not in {pid for _, pid in answers}
    assert seen == [(d, 7) for d in range(1, 8)]
    inline = solve_many(square_with_pid, [(i,) for i in range(3)], workers=1)
    assert {pid for _, pid in inline} == {os.getpid()}


def test_an_error_in_a_job_is_raised_here():
    with pytest.raises(ValueError, match="three"):
        solve_many(fail_on_three, [(i,) for i in range(6)], workers=2)
    # an error in a worker is handed back, not a dead worker: 3 never runs in this process
    me = os.getpid()
    with pytest.raises(ValueError, match="three"):
        solve_many(fail_on_three_unless_in, [(me, i) for i in range(6)], workers=2)
    # an error in a worker is handed back, not a dead worker: 3 never runs in this process
    me = os.getpid()
    with pytest.raises(ValueError, match="three"):
        solve_many(fail_on_three_unless_in, [(me, i) for i in range(6)], workers=2)


def test_jobs_of_a_worker_that_dies_are_solved_here():
    me = os.getpid()
    assert solve_many(die_unless_in, [(me, i) for i in range(4)], workers=2) == [0, 1, 2, 3]


def test_marginal_values_in_workers_equal_those_solved_one_after_another():
    pw = option("pw", "power", 10, 1000, max_units=1)
    fab = option("fab", "fabric", 50, 500)
    sc = planner.Scenario.model_validate(
        scenario(
            racks=[rack(), rack("b", power_kw=15, pflops=16)],
            halls=[hall(power_kw=25, fabric_gbps=250, positions=6)],
            retrofits=[pw, fab],
            periods=("P0", "P1"),
            budget_usd_per_period=3e6,
        )
    )
    plan = planner.solve(sc, mip_gap=0)
    alone = marginal_values(plan, which="all", workers=1)
    many = marginal_values(plan, which="all", workers=2)
    assert len(alone) >= 4
    pd_cols = ["option", "hall", "period", "gain", "price_buys", "worth_price", "at_cap"]
    assert alone[pd_cols].values.tolist() == many[pd_cols].values.tolist()


def test_quick_solves_stay_in_this_process(monkeypatch):
    from planner.solving.pool import QUICK_S, workers_for

    monkeypatch.setenv("PLANNER_WORKERS", "4")
    assert workers_for(10, QUICK_S / 2) == 1  # a worker would take longer to start
    assert workers_for(10, QUICK_S * 5) == 4 and workers_for(3, 60.0) == 3
    assert workers_for(10, None) == 4 and workers_for(10, 0.01, workers=2) == 2
