"""The rule-of-thumb baseline (``planner.baseline.greedy``): plans that verify clean on every
shipped scenario and on random small ones, never beat ``planner.solve``, and follow the
documented steps exactly on hand-worked cases."""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import pytest
import yaml
from conftest import tiny_scenario_dict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_properties import scenarios
from typer.testing import CliRunner

import planner
from planner.cli import app
from planner.plan.baseline import gap_line, greedy

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))
REL = 1e-6

runner = CliRunner()


def never_beats(baseline: planner.Plan, optimum: planner.Plan) -> bool:
    """The baseline's objective is no better than the optimum's (1e-6 relative)."""
    a, b = baseline.objective, optimum.objective
    slack = REL * max(1.0, abs(a), abs(b))
    if baseline.scenario.objective == "max_compute":
        return a <= b + slack
    return a >= b - slack


def rows(df, *columns) -> list[tuple]:
    return [tuple(r) for r in df[list(columns)].itertuples(index=False)]


# -- hand-worked cases ------------------------------------------------------------------------
HAND = {
    "name": "hand",
    "periods": ["P1", "P2"],
    "budget_usd_per_period": 1.0e7,
    "rack_types": [
        {
            "name": "small-air",
            "gpus": 8,
            "power_kw": 10,
            "cooling": "air",
            "network_gbps": 200,
            "weight_kg": 600,
            "capex_usd": 1.0e6,
            "pflops": 8,
        },
        {
            "name": "big-liquid",
            "gpus": 32,
            "power_kw": 50,
            "cooling": "liquid",
            "liquid_fraction": 0.8,
            "network_gbps": 1000,
            "weight_kg": 900,
            "capex_usd": 3.0e6,
            "pflops": 40,
        },
    ],
    "retrofits": [
        {"name": "sidecar", "kind": "aalc", "capacity": 20, "positions": 1, "cost_usd": 1.0e5},
        {
            "name": "busway",
            "kind": "power",
            "capacity": 100,
            "cost_usd": 5.0e5,
            "max_units": 2,
            "lead_periods": 1,
        },
    ],
    "sites": [
        {
            "name": "s",
            "halls": [
                {
                    "name": "h",
                    "positions": 10,
                    "power_kw": 130,
                    "air_cooling_kw": 200,
                    "max_air_rack_kw": 20,
                    "floor_kg_per_position": 1000,
                    "fabric_gbps": 5000,
                    "cpu_racks": {
                        "count": 4,
                        "power_kw": 10,
                        "network_gbps": 100,
                        "retire_cost_usd": 5.0e4,
                    },
                }
            ],
        }
    ],
}


def test_hand_case_follows_the_documented_steps():
    """The steps of ``greedy``'s docstring, worked by hand.

    Rank: big-liquid (40 PFLOPS per position) before small-air (8). Each big-liquid rack
    sends 40 kW to liquid (2 sidecars of 20 kW, 1 position each) and 10 kW to room air.

    P1 ($10M; the busway has lead time 1, so it cannot be bought yet):
      big #1: $3M. Space 4 CPU + 1 = 5 of 10, power 40 + 50 = 90 of 130, liquid 40 kW short
              -> cheapest fix: 2 sidecars ($0.2M). Space 7, air 40 + 10 + 40 = 90 of 200,
              network 400 + 1000 of 5000: kept. Spend $3.2M.
      big #2: $3M. Power 140 > 130 -> retire 1 CPU rack ($50k, frees 10 kW); liquid 80 of
              40 -> 2 sidecars. Space 3 + 2 + 4 = 9. Kept: $3.25M, total $6.45M.
      big #3: $3M. Power 180 > 130, short 50: retiring the 3 CPU racks left frees only 30
              (bought as the best partial fix), still 20 kW short and nothing else helps:
              none of it is kept.
      small #1..#3: $1M each; each puts power at 140 -> retire 1 CPU rack ($50k). Space
              stays at 10 of 10. After #3 all 4 CPU racks are retired; total $9.6M.
      small #4: $1M > $0.4M left: the period ends. 2 big + 3 small = 104 PFLOPS, 88 GPUs.
    P2 ($10M):
      big #3: power 180 > 130 -> 1 busway ($0.5M); liquid 40 short -> 2 sidecars, then
              space 12 > 10 with no CPU rack left to retire: none of it is kept.
      small #4: space 10 of 10; power 140 > 130 -> 1 busway ($0.5M). Kept: $1.5M.
      small #5: space 11 > 10: the hall is full. 2 big + 4 small = 112 PFLOPS.
    Objective 104 + 112 = 216 PFLOPS-periods; spend $9.6M + $1.5M = $11.1M.
    """
    plan = greedy(planner.Scenario.model_validate(HAND))
    assert plan.status == "feasible" and plan.solver == "greedy"
    assert plan.verify() == []
    assert sorted(rows(plan.racks, "period", "rack_type", "rdhx_option", "count")) == [
        ("P1", "big-liquid", "", 2),
        ("P1", "small-air", "", 3),
        ("P2", "big-liquid", "", 2),
        ("P2", "small-air", "", 4),
    ]
    assert sorted(rows(plan.retrofits, "period", "option", "units", "added")) == [
        ("P1", "sidecar", 4, 4),
        ("P2", "busway", 1, 1),
        ("P2", "sidecar", 4, 0),
    ]
    assert rows(plan.halls, "period", "cpu_racks_retired", "liquid_to_aalc_kw") == [
        ("P1", 4, 80.0),
        ("P2", 4, 80.0),
    ]
    assert list(plan.spend["total_usd"]) == [9.6e6, 1.5e6]
    assert list(plan.spend["retirements_usd"]) == [2.0e5, 0.0]
    assert list(plan.pflops()) == [104, 112]
    assert plan.objective == 216
    assert plan.total_spend_usd == pytest.approx(11.1e6)
    # here the rule of thumb happens to be optimal
    optimum = planner.solve(plan.scenario, mip_gap=0)
    assert optimum.objective == pytest.approx(216)
    assert gap_line(optimum, plan) == (
        "Rule-of-thumb baseline (greedy): 216 PFLOPS-periods; "
        "the optimiser finds no more for the same budget"
    )


def density_trap() -> dict:
    """One 6-position hall, no budget cap: a liquid rack of 40 PFLOPS that needs two 1-position
    sidecars, or an air rack of 16 PFLOPS."""
    data = copy.deepcopy(HAND)
    data.update(periods=["P1"], budget_usd_per_period=None)
    data["rack_types"][0].update(name="air", power_kw=15, gpus=16, pflops=16)
    data["retrofits"] = data["retrofits"][:1]
    hall = data["sites"][0]["halls"][0]
    hall.update(positions=6, power_kw=1000, air_cooling_kw=1000, fabric_gbps=1e5)
    del hall["cpu_racks"]
    return data


def test_density_trap_shows_the_gap():
    """Greedy ranks big-liquid first (40 PFLOPS per position): 2 racks + 4 sidecars fill
    the 6 positions, 80 PFLOPS. The optimum is 6 air racks, 96 PFLOPS: 20% more."""
    sc = planner.Scenario.model_validate(density_trap())
    plan = greedy(sc)
    assert plan.verify() == []
    assert rows(plan.racks, "rack_type", "count") == [("big-liquid", 2)]
    assert rows(plan.retrofits, "option", "units") == [("sidecar", 4)]
    assert plan.objective == 80
    optimum = planner.solve(sc, mip_gap=0)
    assert optimum.objective == pytest.approx(96)
    assert gap_line(optimum, plan) == (
        "Rule-of-thumb baseline (greedy): 80 PFLOPS-periods; "
        "the optimiser finds 20.0% more for the same budget"
    )


# -- shipped scenarios ---------------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_shipped_scenarios(config):
    sc = planner.load_scenario(config)
    start = time.perf_counter()
    plan = greedy(sc)
    seconds = time.perf_counter() - start
    assert seconds < 30, f"greedy took {seconds:.1f} s"
    assert plan.status == "feasible", plan.message
    assert plan.verify() == []
    assert plan.objective > 0
    optimum = planner.solve(sc)
    assert never_beats(plan, optimum), (plan.objective, optimum.objective)
    line = gap_line(optimum, plan)
    assert line.startswith("Rule-of-thumb baseline (greedy): ")
    assert f"{plan.objective:,.6g} PFLOPS-periods" in line
    # the plan survives its file format and still verifies
    again = planner.Plan.from_json(plan.to_json())
    assert again.solver == "greedy" and again.verify() == []


def test_greedy_takes_a_file_and_what_if_scenarios():
    plan = greedy(CONFIGS[0])
    assert plan.verify() == []
    # as the halls stand, prn's feed (19,980 kW) is over a 12 MW cap: the rule of thumb
    # first retires CPU racks across the site's halls, then places racks (planned as racks:
    # the cluster targets of the shipped file are out of reach under that cap)
    sc = planner.what_if(
        next(c for c in CONFIGS if c.stem == "meta-2023-retrofit"),
        {"sites[prn].feed_kw": "12 MW", "clusters": None, "compute_counts": "all"},
    )
    plan = greedy(sc)
    assert plan.status == "feasible", plan.message
    assert plan.verify() == []
    assert plan.halls.query("period == '2023Q1' and site == 'prn'")["cpu_racks_retired"].sum() > 0


# -- min_cost and targets ------------------------------------------------------------------------
def test_min_cost_meets_the_targets_and_never_spends_less():
    data = tiny_scenario_dict()
    data.update(objective="min_cost", gpu_targets=[16, 40])
    sc = planner.Scenario.model_validate(data)
    plan = greedy(sc)
    assert plan.status == "feasible", plan.message
    assert plan.verify() == []
    assert all(g >= t for g, t in zip(plan.gpus(), [16, 40], strict=True))
    assert plan.objective == pytest.approx(plan.total_spend_usd)
    optimum = planner.solve(sc, mip_gap=0)
    assert never_beats(plan, optimum)
    line = gap_line(optimum, plan)
    assert line.startswith(f"Rule-of-thumb baseline (greedy): ${plan.objective:,.0f} to meet")


def test_missed_targets_are_reported_not_hidden():
    data = tiny_scenario_dict()
    data.update(objective="min_cost", gpu_targets=[0, 10_000])
    plan = greedy(planner.Scenario.model_validate(data))
    assert plan.status == "error" and not plan.has_plan
    assert "misses the GPU targets" in plan.message and "2024Q2" in plan.message
    assert plan.verify() == []  # no plan, nothing to check


# -- random scenarios ----------------------------------------------------------------------------
CHECKS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_against_optimum(data: dict) -> None:
    sc = planner.Scenario.model_validate(data)
    plan = greedy(sc)
    optimum = planner.solve(sc, mip_gap=0)
    assert optimum.status in ("optimal", "infeasible"), optimum.message
    if plan.status == "error":
        event(f"greedy: no plan ({'targets' if 'targets' in plan.message else 'limits'})")
        assert "targets" in plan.message or "cannot repair" in plan.message
        return
    assert plan.status == "feasible"
    assert plan.verify() == []
    assert optimum.status == "optimal", "greedy found a plan for an infeasible scenario"
    assert never_beats(plan, optimum), (plan.objective, optimum.objective)
    same = math.isclose(plan.objective, optimum.objective, rel_tol=REL, abs_tol=1e-6)
    event(f"{sc.objective}: greedy {'matches' if same else 'is worse than'} the optimum")


@CHECKS
@given(scenarios(objective=None))
def test_random_scenarios_verify_and_never_beat_the_optimum(data):
    if data.get("gpu_targets") is None:
        # no targets and CPU racks that fit as they stand: the rule of thumb always has a plan
        assert greedy(planner.Scenario.model_validate(data)).status == "feasible"
    check_against_optimum(data)


@st.composite
def squeezed(draw):
    """A random scenario whose halls or sites are over a limit as they stand (power, room
    air, network or feed cut below what the CPU racks use), so that a plan must first retire
    CPU racks or buy retrofits."""
    data = draw(scenarios(objective="max_compute"))
    site = draw(st.sampled_from(data["sites"]))
    hall = draw(st.sampled_from(site["halls"]))
    cpu = hall.setdefault(
        "cpu_racks",
        {"count": 4, "power_kw": 8.0, "network_gbps": 200.0, "retire_cost_usd": 2e4},
    )
    cpu["count"] = min(max(cpu["count"], 4), hall["positions"])
    field = draw(st.sampled_from(["power_kw", "air_cooling_kw", "fabric_gbps", "feed_kw"]))
    share = draw(st.sampled_from([0.5, 0.9]))
    if field == "feed_kw":
        site["feed_kw"] = share * cpu["count"] * cpu["power_kw"]
    else:
        per_rack = cpu["network_gbps"] if field == "fabric_gbps" else cpu["power_kw"]
        hall[field] = share * cpu["count"] * per_rack
    planner.Scenario.model_validate(data)
    return data


@CHECKS
@given(squeezed())
def test_random_squeezed_scenarios(data):
    check_against_optimum(data)


# -- the command line ------------------------------------------------------------------------------
def test_solve_prints_the_baseline_line(tmp_path):
    config = tmp_path / "trap.yaml"
    config.write_text(yaml.safe_dump(density_trap()))
    result = runner.invoke(app, ["solve", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (
        "Rule-of-thumb baseline (greedy): 80 PFLOPS-periods; the optimiser finds 20.0% more "
        "for the same budget" in result.output
    )
    quiet = runner.invoke(
        app, ["solve", str(config), "--out", str(tmp_path / "quiet"), "--no-baseline"]
    )
    assert quiet.exit_code == 0, quiet.output
    assert "Rule-of-thumb" not in quiet.output
