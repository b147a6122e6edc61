"""Re-planning from a period (MODEL.md section 6): the scenario of what a plan has standing,
solved for the rest of the horizon and joined to the plan's past."""

from __future__ import annotations

import json

import pytest
from builders import M, hall, invoke, option, rack, scenario
from hypothesis import HealthCheck, assume, event, given, settings
from test_exact import scenarios

import planner


def solved(doc: dict) -> planner.Plan:
    plan = planner.solve(planner.Scenario.model_validate(doc), mip_gap=0)
    assert plan.status == "optimal", plan.message
    return plan


def three_quarters() -> dict:
    """$2M a quarter ($5M in all) for $1M racks in a 4-position hall whose 20 kW of power
    holds 2 racks; a 10 kW power unit ($0.5M, from P1) holds a third and a fourth; a rack type
    "b" arrives in P2; a CPU rack ($0.1M to retire) holds one position."""
    cpu = {"count": 1, "power_kw": 0, "network_gbps": 0, "retire_cost_usd": 0.1 * M}
    return scenario(
        [rack(), rack("b", pflops=20, lead_periods=2)],
        [hall(power_kw=20, cpu_racks=cpu)],
        [option("pw", "power", 10, 0.5 * M, max_units=2, lead_periods=1)],
        periods=("P0", "P1", "P2"),
        budget_usd_per_period=2 * M,
        budget_usd_total=5 * M,
    )


def test_scenario_at_holds_what_the_plan_has_standing_and_what_is_left():
    plan = solved(three_quarters())
    at = planner.scenario_at(plan, "P1")
    h = at.sites[0].halls[0]
    standing = plan.racks[plan.racks["period"] == "P0"]
    assert at.periods == ["P1", "P2"]
    assert {n: c for n, _, c in h.installed_racks()} == dict(
        zip(standing["rack_type"], standing["count"], strict=True)
    )
    units = plan.retrofits[plan.retrofits["period"] == "P0"]
    assert h.installed_units() == dict(zip(units["option"], units["units"], strict=True))
    left = plan.halls.set_index("period").loc["P0", "cpu_racks_left"]
    assert h.cpu_racks.count == left
    assert at.budget_usd_total == pytest.approx(5 * M - plan.spend["total_usd"].iloc[0])
    assert [r.lead_periods for r in at.rack_types] == [0, 1]
    assert [o.lead_periods for o in at.retrofits] == [0]
    assert planner.scenario_at(plan, "P0").model_dump() == plan.scenario.model_dump()
    with pytest.raises(ValueError, match="'P9' is not a period of the plan"):
        planner.scenario_at(plan, "P9")


@pytest.mark.parametrize("period", ["P1", "P2"])
def test_replanning_with_nothing_changed_reproduces_the_plan(period):
    plan = solved(three_quarters())
    joined = planner.replan(plan, period, mip_gap=0)
    assert joined.status == "optimal"
    assert joined.verify() == []
    assert joined.objective == pytest.approx(plan.objective)
    assert joined.total_spend_usd == pytest.approx(plan.total_spend_usd)
    assert list(joined.pflops()) == pytest.approx(list(plan.pflops()))
    assert list(joined.spend["total_usd"]) == pytest.approx(list(plan.spend["total_usd"]))
    new = planner.solve(planner.scenario_at(plan, period), mip_gap=0)
    t = plan.scenario.periods.index(period)
    assert new.objective == pytest.approx(float(plan.pflops().iloc[t:].sum()))


def test_an_edited_delivery_changes_the_replan_as_expected():
    # one $1M rack a quarter, $1M a quarter, 3 positions: 1, 2, 3 racks as planned; none
    # stands at P1 (the first delivery slipped): the re-plan has one in P1 and two in P2
    doc = scenario(
        [rack()], [hall(positions=3)], periods=("P0", "P1", "P2"), budget_usd_per_period=1 * M
    )
    plan = solved(doc)
    assert list(plan.pflops()) == [10, 20, 30]
    delivered = planner.what_if(
        planner.scenario_at(plan, "P1"), {"sites[0].halls[0].gpu_racks": None}
    )
    joined = planner.replan(plan, "P1", scenario=delivered, mip_gap=0)
    # nothing stood in P0 after all: the past holds no rack, and the rack that slipped is
    # paid when it first operates, in P1, as every rack is
    assert list(joined.pflops()) == [0, 10, 20]
    assert joined.objective == pytest.approx(30)
    assert list(joined.spend["total_usd"]) == pytest.approx([0, 1 * M, 1 * M])
    assert joined.verify() == []
    diff = planner.compare_plans(plan, joined)
    assert not diff.same


def test_a_unit_that_was_not_installed_leaves_the_past_and_its_rack_with_it():
    # planned: 2 racks in P0, the power unit and a third rack in P1 ($1.5M of the $5M). The
    # unit never came, so only 2 racks stand at P2: the past holds no unit and 2 racks in
    # P1; with $1.5M left the re-plan buys the unit and a rack b (20 PFLOPS, from P2)
    plan = solved(three_quarters())
    assert list(plan.pflops()) == [20, 30, 30]
    delivered = planner.what_if(
        planner.scenario_at(plan, "P2"),
        {"sites[0].halls[0].installed": None, "sites[0].halls[0].gpu_racks": {"a": 2}},
    )
    joined = planner.replan(plan, "P2", scenario=delivered, mip_gap=0)
    assert joined.verify() == []
    assert list(joined.pflops()) == [20, 20, 40]
    assert list(joined.spend["total_usd"]) == pytest.approx([2 * M, 0, 1.5 * M])
    assert list(joined.retrofits["period"]) == ["P2"]


def test_replan_refuses_periods_that_do_not_follow_the_plan():
    plan = solved(three_quarters())
    other = planner.what_if(planner.scenario_at(plan, "P1"), {"periods": ["P1", "P3"]})
    with pytest.raises(ValueError, match="must be the plan's from P1 on"):
        planner.replan(plan, "P1", scenario=other)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(scenarios())
def test_replanning_random_scenarios_keeps_their_optimum(data):
    data["periods"] = ["P1", "P2"]
    for kind in data.get("clusters") or []:
        if kind.get("targets") is not None and len(kind["targets"]) == 1:
            kind["targets"] = kind["targets"] * 2
    for key in ("budget_usd_per_period", "gpu_targets"):
        if isinstance(data.get(key), list) and len(data[key]) == 1:
            data[key] = data[key] * 2
    try:
        sc = planner.Scenario.model_validate(data)
    except planner.ScenarioError:
        assume(False)  # two periods where one was drawn may not form a valid scenario
    plan = planner.solve(sc, mip_gap=0)
    event(f"plan {plan.status}")
    assume(plan.status == "optimal")
    event(f"re-planned with racks standing: {bool(len(plan.racks))}")
    joined = planner.replan(plan, "P2", mip_gap=0)
    assert joined.status == "optimal", joined.message
    assert joined.verify() == []
    assert joined.objective == pytest.approx(plan.objective, rel=1e-9, abs=1e-6)
    assert joined.total_spend_usd == pytest.approx(plan.total_spend_usd, rel=1e-9, abs=1e-3)


def test_a_cluster_standing_when_the_replan_starts_is_kept():
    """Two 8-GPU racks of r0 form a 16-GPU cluster in P1. Every rack counts, so the re-plan
    from P2 has no reason to form it again; clusters are never broken up, so the joined
    plan keeps it (its racks are still free), and it verifies. Found by the random test
    above."""
    doc = scenario(
        [rack("r0", gpus=8), rack("r1", gpus=8)],
        halls=[hall("h00", positions=2)],
        periods=("P1", "P2"),
        clusters=[{"name": "cl0", "gpus": 16, "domain": "hall", "targets": [1, 1]}],
    )
    sc = planner.Scenario.model_validate(doc)
    plan = planner.solve(sc, mip_gap=0)
    assert list(plan.clusters["count"]) == [1, 1]
    late = planner.what_if(planner.scenario_at(plan, "P2"), {"clusters[cl0].targets": [0]})
    joined = planner.replan(plan, "P2", scenario=late, mip_gap=0)
    assert joined.verify() == []
    assert list(joined.clusters["period"]) == ["P1", "P2"]
    assert list(joined.clusters["count"]) == [1, 1] and joined.objective == plan.objective


def test_cli_replan_writes_the_joined_plan_and_shows_what_changed(tmp_path, monkeypatch):
    config = tmp_path / "s.json"
    doc = scenario(
        [rack()], [hall(positions=3)], periods=("P0", "P1", "P2"), budget_usd_per_period=1 * M
    )
    config.write_text(json.dumps(doc))
    assert invoke("solve", config, "--out", tmp_path / "plan", "--no-plots").exit_code == 0
    plan_file = tmp_path / "plan" / "plan.json"
    same = invoke("replan", plan_file, "--from", "P1", "--out", tmp_path / "same")
    assert same.exit_code == 0, same.output
    assert "agrees with the plan on every figure" in same.output
    joined = planner.Plan.from_json(tmp_path / "same" / "plan.json")
    assert joined.objective == pytest.approx(60) and joined.verify() == []
    slipped = invoke(
        "replan", plan_file, "--from", "P1", "--set", "sites[0].halls[0].gpu_racks=null"
    )
    assert slipped.exit_code == 0, slipped.output
    assert "re-planned" in slipped.output
    assert (tmp_path / "plan-from-P1" / "plan.json").exists()
    monkeypatch.chdir(tmp_path / "plan")  # a plan in the working folder: written beside it
    here = invoke("replan", "plan.json", "--from", "P2")
    assert here.exit_code == 0, here.output
    assert (tmp_path / "plan-from-P2" / "plan.json").exists()
    bad = invoke("replan", plan_file, "--from", "P7")
    assert bad.exit_code == 2
    assert "not a period of the plan" in bad.output and "P0, P1, P2" in bad.output
    wrong = invoke(
        "replan", plan_file, "--from", "P1", "--set", "sites[0].halls[0].gpu_racks={zz: 1}"
    )
    assert wrong.exit_code == 2
    assert "unknown rack type 'zz'" in wrong.output
