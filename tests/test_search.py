"""The fleet search: neighbourhoods that keep the incumbent feasible, steps that never make a
plan worse, the exact optimum on small scenarios, and plans that verify."""

from __future__ import annotations

import numpy as np
import pytest
from bruteforce import search as exhaustive
from hypothesis import HealthCheck, assume, given, settings
from test_exact import scenarios

import planner
from planner import SolveOptions, synth
from planner.model import build
from planner.solving import starts
from planner.solving.readback import plan_of
from planner.solving.search import KINDS, Search, neighbourhood_search
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


def test_the_same_seed_gives_the_same_search(fleet):
    """Neighbourhoods small enough to be solved to optimality well within their time: the
    seed alone decides the search."""
    m, start = fleet
    one, log_one = neighbourhood_search(m, start, None, 1e-4, 1, seed=7, max_steps=6, target=60)
    two, log_two = neighbourhood_search(m, start, None, 1e-4, 1, seed=7, max_steps=6, target=60)
    assert one == two and log_one.tried == log_two.tried


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
