"""Solvers agree, solver limits are honoured, and plans read, write and print soundly.

The fixed scenarios below are small but exercise every part of the model: single- and
multi-period, ``max_compute`` and ``min_cost``, liquid racks with CDUs and AALC sidecars,
rear doors, floor reinforcement, CPU retirement and the site-scope options.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import planner
from planner.plan import accounting
from planner.solving import solvers

SOLVERS = ["highs", "cbc"]
REL = 1e-6

# -- fixed scenarios ----------------------------------------------------------------------
# fmt: off
AIR_RDHX = {  # one period; air racks above max_air_rack_kw need rear doors
    "name": "air-rdhx",
    "periods": ["2025Q1"],
    "objective": "max_compute",
    "budget_usd_per_period": 2.6e7,
    "reference_rack": {"network_gbps": 100},
    "rack_types": [
        {"name": "h100-air", "gpus": 32, "power_kw": 41, "cooling": "air", "weight_kg": 900,
         "network_multiple": 32, "capex_usd": 1.3e6, "pflops": 32},
        {"name": "mtia", "gpus": 72, "power_kw": 12, "cooling": "air", "weight_kg": 700,
         "network_gbps": 800, "capex_usd": 6e5, "pflops": 9},
    ],
    "retrofits": [
        {"name": "door-50", "kind": "rdhx", "capacity": 50, "cost_usd": 4e4, "max_units": 4},
        {"name": "door-30", "kind": "rdhx", "capacity": 30, "cost_usd": 2e4, "max_units": 4},
        {"name": "busway", "kind": "power", "capacity": 100, "cost_usd": 5e5, "max_units": 3},
        {"name": "chiller", "kind": "site_water", "capacity": 100, "cost_usd": 3e5,
         "max_units": 2},
    ],
    "sites": [
        {"name": "site-a", "facility_water_kw": 60, "feed_kw": None, "halls": [
            {"name": "hall-1", "positions": 30, "power_kw": 300, "air_cooling_kw": 250,
             "max_air_rack_kw": 20, "floor_kg_per_position": 1200, "fabric_gbps": 30000,
             "facility_water": True,
             "cpu_racks": {"count": 12, "power_kw": 8, "network_gbps": 200,
                           "retire_cost_usd": 2e4}},
        ]},
    ],
}

LIQUID = {  # two periods, two sites; CDUs, sidecars, floor, fabric, site water and feed
    "name": "liquid-multi",
    "periods": ["2025Q1", "2025Q2"],
    "objective": "max_compute",
    "budget_usd_per_period": [1.0e7, 1.2e7],
    "rack_types": [
        {"name": "nvl72", "gpus": 72, "power_kw": 132, "cooling": "liquid",
         "liquid_fraction": 0.85, "weight_kg": 1450, "network_gbps": 28800, "capex_usd": 3e6,
         "pflops": 180, "lead_periods": 1},
        {"name": "hgx-liquid", "gpus": 64, "power_kw": 75, "cooling": "liquid",
         "liquid_fraction": 0.8, "weight_kg": 1250, "network_gbps": 25600,
         "capex_usd": 2.4e6, "pflops": 64},
        {"name": "h100-air", "gpus": 32, "power_kw": 22, "cooling": "air", "weight_kg": 800,
         "network_gbps": 6400, "capex_usd": 1.2e6, "pflops": 32},
    ],
    "retrofits": [
        {"name": "cdu", "kind": "cdu", "capacity": 300, "positions": 2, "cost_usd": 6e5,
         "max_units": 2, "lead_periods": 1},
        {"name": "sidecar", "kind": "aalc", "capacity": 40, "positions": 1, "cost_usd": 1.5e5,
         "max_units": 4},
        {"name": "floor", "kind": "floor", "capacity": 1600, "cost_usd": 2e5, "max_units": 1},
        {"name": "spine", "kind": "fabric", "capacity": 50000, "cost_usd": 4e5, "max_units": 2},
        {"name": "crah", "kind": "air_cooling", "capacity": 60, "cost_usd": 2e5, "max_units": 3},
        {"name": "busway", "kind": "power", "capacity": 150, "cost_usd": 7e5, "max_units": 3},
        {"name": "dry-cooler", "kind": "site_water", "capacity": 200, "cost_usd": 5e5,
         "max_units": 2},
        {"name": "transformer", "kind": "site_feed", "capacity": 300, "cost_usd": 9e5,
         "max_units": 2, "lead_periods": 1},
    ],
    "sites": [
        {"name": "north", "feed_kw": 700, "facility_water_kw": 250, "air_overhead": 0.35,
         "liquid_overhead": 0.08, "halls": [
             {"name": "n1", "positions": 24, "power_kw": 450, "air_cooling_kw": 200,
              "max_air_rack_kw": 25, "floor_kg_per_position": 1000, "fabric_gbps": 60000,
              "facility_water": True,
              "cpu_racks": {"count": 10, "power_kw": 6, "network_gbps": 100,
                            "retire_cost_usd": 3e4}},
             {"name": "n2", "positions": 16, "power_kw": 250, "air_cooling_kw": 150,
              "max_air_rack_kw": 20, "floor_kg_per_position": 1300, "fabric_gbps": 40000,
              "facility_water": False, "retrofits": ["sidecar", "crah", "busway"]},
         ]},
        {"name": "south", "feed_kw": None, "facility_water_kw": 0, "halls": [
            {"name": "s1", "positions": 20, "power_kw": 300, "air_cooling_kw": 120,
             "max_air_rack_kw": 30, "floor_kg_per_position": 1500, "fabric_gbps": 30000,
             "facility_water": True,
             "cpu_racks": {"count": 6, "power_kw": 8, "network_gbps": 200}},
        ]},
    ],
}

MIN_COST = {  # three periods, least cost to growing GPU targets
    "name": "min-cost-targets",
    "periods": ["2025Q1", "2025Q2", "2025Q3"],
    "objective": "min_cost",
    "gpu_targets": [64, 200, 400],
    "budget_usd_per_period": [8e6, 1.5e7, 2e7],
    "rack_types": [
        {"name": "nvl72", "gpus": 72, "power_kw": 132, "cooling": "liquid",
         "liquid_fraction": 0.85, "weight_kg": 1450, "network_gbps": 28800, "capex_usd": 3e6,
         "pflops": 180},
        {"name": "h100-air", "gpus": 32, "power_kw": 41, "cooling": "air", "weight_kg": 900,
         "network_gbps": 12800, "capex_usd": 1.3e6, "pflops": 32},
    ],
    "retrofits": [
        {"name": "cdu", "kind": "cdu", "capacity": 500, "positions": 2, "cost_usd": 9e5,
         "max_units": 2},
        {"name": "door", "kind": "rdhx", "capacity": 50, "cost_usd": 5e4, "max_units": 4},
        {"name": "floor", "kind": "floor", "capacity": 1600, "cost_usd": 2e5},
        {"name": "busway", "kind": "power", "capacity": 200, "cost_usd": 6e5, "max_units": 4},
        {"name": "spine", "kind": "fabric", "capacity": 40000, "cost_usd": 5e5, "max_units": 3},
        {"name": "transformer", "kind": "site_feed", "capacity": 400, "cost_usd": 1.1e6,
         "max_units": 2},
        {"name": "chiller", "kind": "site_water", "capacity": 300, "cost_usd": 7e5,
         "max_units": 2},
    ],
    "sites": [
        {"name": "campus", "feed_kw": 900, "facility_water_kw": 400, "air_overhead": 0.3,
         "liquid_overhead": 0.1, "halls": [
             {"name": "a", "positions": 30, "power_kw": 500, "air_cooling_kw": 300,
              "max_air_rack_kw": 30, "floor_kg_per_position": 1000, "fabric_gbps": 60000,
              "facility_water": True,
              "cpu_racks": {"count": 20, "power_kw": 7, "network_gbps": 100,
                            "retire_cost_usd": 2.5e4}},
             {"name": "b", "positions": 20, "power_kw": 300, "air_cooling_kw": 200,
              "max_air_rack_kw": 15, "floor_kg_per_position": 1200, "fabric_gbps": 20000,
              "facility_water": True},
         ]},
    ],
}

TOTAL_CAP = {  # two periods under a total budget cap; CPU racks that cannot be retired
    "name": "total-cap",
    "periods": ["P1", "P2"],
    "objective": "max_compute",
    "budget_usd_total": 9e6,
    "reference_rack": {"network_gbps": 50},
    "rack_types": [
        {"name": "b200", "gpus": 32, "power_kw": 57, "cooling": "air", "weight_kg": 1100,
         "network_multiple": 60, "capex_usd": 2.1e6, "pflops": 72, "lead_periods": 1},
        {"name": "h100", "gpus": 32, "power_kw": 41, "cooling": "air", "weight_kg": 900,
         "network_multiple": 40, "capex_usd": 1.3e6, "pflops": 32},
        {"name": "catalina", "gpus": 36, "power_kw": 60, "cooling": "liquid",
         "liquid_fraction": 0.67, "weight_kg": 1300, "network_gbps": 14400,
         "capex_usd": 1.6e6, "pflops": 90},
    ],
    "retrofits": [
        {"name": "door", "kind": "rdhx", "capacity": 60, "cost_usd": 6e4},
        {"name": "sidecar", "kind": "aalc", "capacity": 20, "positions": 1, "cost_usd": 1e5,
         "max_units": 8},
        {"name": "busway", "kind": "power", "capacity": 120, "cost_usd": 5e5, "max_units": 2},
        {"name": "crah", "kind": "air_cooling", "capacity": 80, "cost_usd": 3e5, "max_units": 2},
        {"name": "spine", "kind": "fabric", "capacity": 20000, "cost_usd": 3e5,
         "max_units": 2},
    ],
    "sites": [
        {"name": "legacy", "facility_water_kw": 300, "feed_kw": 800, "air_overhead": 0.35,
         "halls": [
             {"name": "h", "positions": 36, "power_kw": 420, "air_cooling_kw": 450,
              "max_air_rack_kw": 20, "floor_kg_per_position": 1200, "fabric_gbps": 25000,
              "facility_water": True,
              "cpu_racks": {"count": 20, "power_kw": 8, "network_gbps": 50}},
         ]},
    ],
}

FIXED = {s["name"]: s for s in (AIR_RDHX, LIQUID, MIN_COST, TOTAL_CAP)}

INFEASIBLE = copy.deepcopy(MIN_COST)
INFEASIBLE["name"] = "unreachable-targets"
INFEASIBLE["gpu_targets"] = [64, 200, 100_000]


def hard_scenario(n_halls: int = 12, n_types: int = 8, n_periods: int = 3) -> dict:
    """A knapsack-like case HiGHS cannot prove optimal in a minute on a 2-core machine:
    many near-identical air rack types and halls, with a binding budget every period.
    HiGHS and CBC find good plans within a fraction of a second."""
    racks = [
        {"name": f"t{i}", "gpus": 8 + i, "power_kw": 17.0 + 1.3 * i + 0.37 * ((7 * i) % 5),
         "cooling": "air", "weight_kg": 800.0, "network_gbps": 400.0 + 7 * i,
         "capex_usd": 1.0e6 + 37_000 * i + 1_000 * ((13 * i) % 9),
         "pflops": 10.0 + 0.37 * i + 0.001 * ((3 * i) % 7)}
        for i in range(n_types)
    ]
    halls = [
        {"name": f"h{h}", "positions": 40, "power_kw": 300.0 + 13 * h + 0.7 * h * h,
         "air_cooling_kw": 310.0 + 11 * h, "max_air_rack_kw": 40.0,
         "floor_kg_per_position": 1000.0, "fabric_gbps": 9000.0 + 97 * h}
        for h in range(n_halls)
    ]
    return {
        "name": "hard",
        "periods": [f"P{t}" for t in range(n_periods)],
        "budget_usd_per_period": [2.0e7 + 1_234_567 * t for t in range(n_periods)],
        "rack_types": racks,
        "retrofits": [
            {"name": "pw", "kind": "power", "capacity": 37.0, "cost_usd": 211_000.0,
             "max_units": 4},
            {"name": "ac", "kind": "air_cooling", "capacity": 41.0, "cost_usd": 193_000.0,
             "max_units": 4},
        ],
        "sites": [{"name": "s", "halls": halls}],
    }
# fmt: on


def scenario(data: dict) -> planner.Scenario:
    return planner.Scenario.model_validate(copy.deepcopy(data))


@pytest.fixture(scope="module")
def plans() -> dict[str, planner.Plan]:
    """Each fixed scenario solved exactly with HiGHS (shared by the plan-table tests)."""
    return {name: planner.solve(scenario(data), mip_gap=0) for name, data in FIXED.items()}


@pytest.fixture(scope="module")
def infeasible_plan() -> planner.Plan:
    return planner.solve(scenario(INFEASIBLE))


# -- HiGHS and CBC agree ------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FIXED))
def test_highs_and_cbc_find_the_same_optimum(name):
    sc = scenario(FIXED[name])
    highs = planner.solve(sc, solver="highs", mip_gap=0)
    cbc = planner.solve(sc, solver="cbc", mip_gap=0)
    for plan in (highs, cbc):
        assert plan.status == "optimal", (plan.solver, plan.message)
        assert plan.verify() == []
    assert highs.solver == "highs" and cbc.solver == "cbc"
    assert highs.objective > 0  # every fixed case deploys something
    assert math.isclose(highs.objective, cbc.objective, rel_tol=REL, abs_tol=1e-6)
    # max_compute: the least-spend tie-break makes total spend unique too
    assert math.isclose(highs.total_spend_usd, cbc.total_spend_usd, rel_tol=REL, abs_tol=1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_both_solvers_report_infeasible(solver):
    plan = planner.solve(scenario(INFEASIBLE), solver=solver)
    assert plan.status == "infeasible"
    assert plan.verify() == []
    assert plan.racks.empty and plan.retrofits.empty and plan.halls.empty


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="unknown solver"):
        planner.solve(scenario(AIR_RDHX), solver="gurobi-please")


# -- time limit and MIP gap ---------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_honoured(solver):
    sc = scenario(hard_scenario())
    start = time.perf_counter()
    plan = planner.solve(sc, solver=solver, time_limit_s=0.5, mip_gap=0)
    elapsed = time.perf_counter() - start
    # the limit bounds both solves of max_compute; allow for model build and process start
    assert elapsed < plan.build_seconds + 0.5 + 3.0, elapsed
    if plan.status == "error":  # no plan found in time (a very slow or loaded machine)
        assert "time limit" in plan.message
        assert plan.racks.empty
        return
    assert plan.status == "feasible", (plan.status, plan.message)
    assert plan.verify() == []
    assert plan.objective > 0
    if solver == "highs":
        assert plan.gap is not None and plan.gap > 0
    # CBC's gap: see test_cbc_gap_after_a_time_limit_is_positive_or_unknown


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_time_at_all_returns_the_rule_of_thumb_plan_so_far(solver):
    """The time limit bounds the rule-of-thumb start too: with no time at all, the call
    returns at once with the (sound) plan the rule of thumb had placed by then."""
    sc = scenario(hard_scenario())
    began = time.perf_counter()
    plan = planner.solve(sc, solver=solver, time_limit_s=1e-6)
    assert time.perf_counter() - began < plan.build_seconds + 1.0
    assert plan.status == "feasible"
    assert "starting plan is returned" in plan.message, plan.message
    assert "spend may not be the least" in plan.message
    assert plan.objective <= planner.baseline.greedy(sc).objective
    assert plan.verify() == []


@pytest.mark.parametrize("solver", SOLVERS)
def test_loose_mip_gap_returns_quickly(solver):
    """Proving the hard case optimal takes minutes; a 50% gap takes well under a second."""
    sc = scenario(hard_scenario())
    start = time.perf_counter()
    plan = planner.solve(sc, solver=solver, mip_gap=0.5, time_limit_s=60)
    assert time.perf_counter() - start < 10
    assert plan.status == "optimal", plan.message  # stopped by the gap, not the 60 s guard
    assert plan.verify() == []
    assert plan.objective > 0
    if solver == "highs":
        # stopped at a gap the default 1e-4 would not accept: the loose gap was used
        assert plan.gap is not None and 1e-4 < plan.gap <= 0.5


@pytest.mark.parametrize("mip_gap", [0.5, 0.0])
def test_mip_gap_reaches_every_solver_call(monkeypatch, mip_gap):
    seen = []
    original = solvers.run

    def spy(prob, options=None, start=None, relax=False):
        seen.append(options.mip_gap)
        return original(prob, options, start=start, relax=relax)

    monkeypatch.setattr("planner.solving.optimize.run", spy)
    plan = planner.solve(scenario(AIR_RDHX), mip_gap=mip_gap)
    assert plan.status == "optimal"
    assert plan.verify() == []
    # max_compute: the compute solve gets mip_gap as given; the least-spend tie-break may
    # be solved tighter, never looser (mip_gap=0 stays exact)
    assert len(seen) == 2
    assert seen[0] == mip_gap
    assert 0 <= seen[1] <= mip_gap


def test_cbc_gap_is_a_nonnegative_relative_gap():
    loose = planner.solve(scenario(hard_scenario()), solver="cbc", mip_gap=0.5)
    assert loose.status == "optimal"
    assert loose.gap is not None and 0 <= loose.gap <= 0.5, loose.gap


def test_cbc_gap_after_a_time_limit_is_positive_or_unknown():
    stopped = planner.solve(scenario(hard_scenario()), solver="cbc", time_limit_s=0.5, mip_gap=0)
    if stopped.status == "error":
        pytest.skip("CBC found no plan within 0.5 s on this machine")
    assert stopped.status == "feasible"
    assert stopped.gap is None or stopped.gap > 0, stopped.gap


# -- plans: files -------------------------------------------------------------------------
TABLES = ("racks", "retrofits", "halls")


def assert_same_plan(a: planner.Plan, b: planner.Plan) -> None:
    for name in TABLES + ("utilisation", "spend"):
        pd.testing.assert_frame_equal(
            getattr(a, name).reset_index(drop=True), getattr(b, name).reset_index(drop=True)
        )
    assert (a.status, a.objective, a.total_spend_usd, a.gap) == (
        b.status,
        b.objective,
        b.total_spend_usd,
        b.gap,
    )
    assert a.solver == b.solver and a.message == b.message
    assert a.scenario == b.scenario
    pd.testing.assert_frame_equal(a.summary(), b.summary())


@pytest.mark.parametrize("name", list(FIXED))
def test_plan_json_round_trip_through_a_file(plans, tmp_path, name):
    plan = plans[name]
    path = tmp_path / "plan.json"
    text = plan.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text)
    again = planner.Plan.from_json(path)
    assert_same_plan(plan, again)
    assert planner.Plan.from_json(str(path)).objective == plan.objective
    assert again.verify() == []


@pytest.mark.parametrize("name", list(FIXED))
def test_plan_json_round_trip_through_text(plans, name):
    plan = plans[name]
    again = planner.Plan.from_json(plan.to_json())
    assert_same_plan(plan, again)
    assert again.verify() == []
    assert planner.Plan.from_json("\n  " + plan.to_json()).total_spend_usd == plan.total_spend_usd


def test_infeasible_plan_round_trips(infeasible_plan, tmp_path):
    again = planner.Plan.from_json(infeasible_plan.to_json(tmp_path / "plan.json"))
    assert again.status == "infeasible"
    assert again.message == infeasible_plan.message
    for name in TABLES:
        assert getattr(again, name).empty
        assert list(getattr(again, name).columns) == list(getattr(infeasible_plan, name).columns)
    assert again.verify() == []


def test_from_json_refuses_other_json():
    with pytest.raises(ValueError, match="not a dc-retrofit-planner plan"):
        planner.Plan.from_json('{"format": "something else"}')


@pytest.mark.parametrize("name", ["liquid-multi", "min-cost-targets"])
def test_write_creates_plan_json_and_csvs(plans, tmp_path, name):
    plan = plans[name]
    written = plan.write(tmp_path / "out")
    names = {p.name for p in written}
    expected = {
        "plan.json",
        "racks.csv",
        "retrofits.csv",
        "halls.csv",
        "utilisation.csv",
        "spend.csv",
        "summary.csv",
    }
    assert expected <= names
    for path in written:
        assert path.exists() and path.stat().st_size > 0
    assert_same_plan(plan, planner.Plan.from_json(tmp_path / "out" / "plan.json"))
    racks = pd.read_csv(tmp_path / "out" / "racks.csv", keep_default_na=False)
    assert list(racks.columns) == accounting.RACK_COLUMNS
    assert racks["count"].sum() == plan.racks["count"].sum()
    spend = pd.read_csv(tmp_path / "out" / "spend.csv")
    assert math.isclose(spend["total_usd"].sum(), plan.total_spend_usd, rel_tol=REL)
    utilisation = pd.read_csv(tmp_path / "out" / "utilisation.csv")
    assert len(utilisation) == len(plan.utilisation)


def test_write_of_an_infeasible_plan(infeasible_plan, tmp_path):
    written = infeasible_plan.write(tmp_path)
    assert (tmp_path / "plan.json") in written
    assert planner.Plan.from_json(tmp_path / "plan.json").status == "infeasible"


# -- plans: derived tables and text -------------------------------------------------------
@pytest.mark.parametrize("name", list(FIXED))
def test_utilisation_has_every_resource_of_every_hall_site_and_period(plans, name):
    plan = plans[name]
    sc = plan.scenario
    expected = {
        (site.name, hall.name, p, res)
        for site, hall in sc.halls()
        for p in sc.periods
        for res in (
            "space",
            "power",
            "room_air",
            "liquid_cdu",
            "liquid_aalc",
            "rdhx_doors",
            "network",
        )
    } | {
        (site.name, "", p, res)
        for site in sc.sites
        for p in sc.periods
        for res in ("facility_water", "feed")
    }
    util = plan.utilisation
    keys = list(zip(util["site"], util["hall"], util["period"], util["resource"], strict=True))
    assert len(keys) == len(set(keys)), "duplicate utilisation rows"
    assert set(keys) == expected
    assert (util["used"] >= -1e-6).all()
    capped = util[util["capacity"].notna()]
    assert (capped["used"] <= capped["capacity"] + 1e-6 * capped["capacity"].abs() + 1e-3).all()
    # no cap is NaN, and only a site's feed may be uncapped
    uncapped = util[util["capacity"].isna()]
    assert set(uncapped["resource"]) <= {"feed"}
    assert sorted(zip(uncapped["site"], uncapped["period"], strict=True)) == sorted(
        (site.name, p) for site in sc.sites if site.feed_kw is None for p in sc.periods
    )


@pytest.mark.parametrize("name", list(FIXED))
def test_spend_adds_up_to_total_spend(plans, name):
    plan = plans[name]
    spend = plan.spend
    assert list(spend["period"]) == plan.scenario.periods
    assert math.isclose(spend["total_usd"].sum(), plan.total_spend_usd, rel_tol=REL, abs_tol=1e-3)
    parts = spend["racks_usd"] + spend["retrofits_usd"] + spend["retirements_usd"]
    assert ((parts - spend["total_usd"]).abs() < 1e-3).all()
    assert plan.spend_usd_per_period.sum() == pytest.approx(plan.total_spend_usd, rel=REL)
    if plan.scenario.objective == "min_cost":
        assert plan.objective == pytest.approx(plan.total_spend_usd, rel=REL)


@pytest.mark.parametrize("name", list(FIXED))
def test_summary_gpus_and_pflops_match_the_racks_table(plans, name):
    plan = plans[name]
    sc = plan.scenario
    gpus = {r.name: r.gpus for r in sc.rack_types}
    pflops = {r.name: r.pflops for r in sc.rack_types}
    racks = plan.racks
    summary = plan.summary()
    assert list(summary.index) == sc.periods
    for p in sc.periods:
        here = racks[racks["period"] == p]
        assert summary.loc[p, "gpus"] == sum(
            gpus[t] * n for t, n in zip(here["rack_type"], here["count"], strict=True)
        )
        assert summary.loc[p, "pflops"] == pytest.approx(
            sum(pflops[t] * n for t, n in zip(here["rack_type"], here["count"], strict=True))
        )
    if sc.objective == "max_compute":
        assert summary["pflops"].sum() == pytest.approx(plan.objective, rel=REL)
    else:
        assert (summary["gpus"] >= pd.Series(sc.gpu_targets, index=sc.periods)).all()
    assert summary["spend_usd"].sum() == pytest.approx(plan.total_spend_usd, rel=REL)


@pytest.mark.parametrize("name", list(FIXED))
def test_str_names_the_scenario_status_and_every_period(plans, name, capsys):
    plan = plans[name]
    text = str(plan)
    assert plan.scenario.name in text
    assert plan.status in text
    for p in plan.scenario.periods:
        assert p in text
    print(plan)
    assert capsys.readouterr().out.strip() == text.strip()
    assert plan.scenario.name in repr(plan)


def test_infeasible_plan_says_so_and_has_empty_tables(infeasible_plan):
    plan = infeasible_plan
    assert plan.status == "infeasible"
    assert "infeasible" in str(plan)
    assert plan.scenario.name in str(plan)
    for name in TABLES + ("utilisation", "spend"):
        assert getattr(plan, name).empty, name
    assert plan.summary().empty
    assert not plan.has_plan
    assert plan.verify() == []


# -- solver output ------------------------------------------------------------------------
@pytest.mark.parametrize("solver", SOLVERS)
def test_solvers_print_nothing_on_stdout_when_quiet(capfd, solver):
    capfd.readouterr()
    plan = planner.solve(scenario(AIR_RDHX), solver=solver, msg=False)
    out = capfd.readouterr().out
    assert plan.status == "optimal"
    assert out == "", out


def test_highs_banner_does_not_reach_stdout_in_a_fresh_process():
    """highspy prints its banner when a process makes its first Highs object, so check in a
    process of its own (in this one, an earlier test may have made that object)."""
    code = textwrap.dedent(
        f"""
        import sys, planner
        plan = planner.solve(planner.Scenario.model_validate({AIR_RDHX!r}))
        print(plan.status, file=sys.stderr)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "optimal" in done.stderr
    assert done.stdout == "", done.stdout
