"""Scenarios on which the planner once went wrong (``tests/regressions/``): each must give
its stated exact optimum with HiGHS and with CBC, and a plan that verifies clean."""

from __future__ import annotations

from pathlib import Path

import pytest

import planner

HERE = Path(__file__).parent / "regressions"

#: file -> (objective: PFLOPS-periods or USD, least total spend USD), as each file's header
#: states them (worked out independently of the planner)
OPTIMA = {
    "mipstart_objective.yaml": (192.0, 12_230_000.0),
    "mipstart_spend.yaml": (384.0, 380_000.0),
    "mipstart_min_cost.yaml": (600_000.0, 600_000.0),
    "cbc_no_compute.yaml": (0.0, 0.0),
    "floor_two_options.yaml": (120.0, 4_000.0),
}


def test_every_regression_file_has_its_optimum_here():
    assert {p.name for p in HERE.glob("*.yaml")} == set(OPTIMA)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_regression_gives_its_exact_optimum(name, solver):
    objective, spend = OPTIMA[name]
    header = (HERE / name).read_text(encoding="utf-8").splitlines()[0]
    assert f"{objective:,.0f}" in header.replace("$", "")  # the table echoes the file
    plan = planner.solve(planner.load_scenario(HERE / name), solver=solver)
    assert plan.status == "optimal", plan.message
    assert plan.verify() == []
    assert plan.objective == pytest.approx(objective, rel=1e-9, abs=1e-6)
    assert plan.total_spend_usd == pytest.approx(spend, rel=1e-9, abs=1e-3)
