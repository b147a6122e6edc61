"""What is already there (MODEL.md section 6): installed retrofit units and GPU racks.

Hand-solved cases assert each rule's exact optimum with something installed; random small
scenarios with installed racks and units are checked against the exhaustive search
(``tests/bruteforce.py``, which shares no code with the model); the scenario checks report
every problem of an installed fleet by its path before any solve.
"""

from __future__ import annotations

import pytest
from builders import M, hall, liquid, option, rack, scenario
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from test_exact import MAX_CANDIDATES, candidates, check_exact, scenarios

import planner
from planner.scenario import ScenarioError


def solved(doc: dict, solver: str = "highs") -> planner.Plan:
    plan = planner.solve(planner.Scenario.model_validate(doc), solver=solver, mip_gap=0)
    assert plan.status == "optimal", plan.message
    assert plan.verify() == []
    return plan


def racks_at(plan: planner.Plan, period: str, rack_type: str = "a") -> int:
    rows = plan.racks[(plan.racks["period"] == period) & (plan.racks["rack_type"] == rack_type)]
    return int(rows["count"].sum())


def problems(doc: dict) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        planner.Scenario.model_validate(doc)
    return [str(p) for p in caught.value.problems]


# -- exact optima, by hand ----------------------------------------------------------------
@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_racks_take_space_and_cost_nothing(solver):
    # 4 positions, 3 racks installed, $1.5M a period: one more rack ($1M) fits in P0
    doc = scenario(
        [rack()],
        [hall(gpu_racks={"a": 3})],
        periods=("P0", "P1"),
        budget_usd_per_period=1.5 * M,
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(4 * 10 * 2)
    assert plan.total_spend_usd == pytest.approx(1 * M)
    assert racks_at(plan, "P0") == 4
    assert list(plan.spend["total_usd"]) == pytest.approx([1 * M, 0])


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_racks_operate_before_their_lead_time(solver):
    # lead 1: the 2 installed racks operate in P0; two more from P1
    doc = scenario([rack(lead_periods=1)], [hall(gpu_racks={"a": 2})], periods=("P0", "P1"))
    plan = solved(doc, solver)
    assert (racks_at(plan, "P0"), racks_at(plan, "P1")) == (2, 4)
    assert plan.objective == pytest.approx(10 * (2 + 4))
    assert plan.total_spend_usd == pytest.approx(2 * M)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_units_count_toward_capacity_max_units_and_lead_time(solver):
    # 20 kW of power (2 racks); one 10 kW power unit installed (3 racks from P0); the option
    # arrives in P1 and max_units 2 leaves one more unit to buy (4 racks)
    doc = scenario(
        [rack()],
        [hall(power_kw=20, installed={"pw": 1})],
        [option("pw", "power", 10, 0.1 * M, max_units=2, lead_periods=1)],
        periods=("P0", "P1"),
    )
    plan = solved(doc, solver)
    assert (racks_at(plan, "P0"), racks_at(plan, "P1")) == (3, 4)
    assert plan.objective == pytest.approx(70)
    assert plan.total_spend_usd == pytest.approx(4 * M + 0.1 * M)
    units = plan.retrofits.set_index("period")
    assert list(units["units"]) == [1, 2] and list(units["added"]) == [0, 1]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_an_installed_option_the_hall_does_not_list_counts_but_none_is_bought(solver):
    doc = scenario(
        [rack()],
        [hall(power_kw=20, retrofits=[], installed={"pw": 1})],
        [option("pw", "power", 10, 0.1 * M, max_units=3)],
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(30)
    assert plan.total_spend_usd == pytest.approx(3 * M)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_rear_doors_of_installed_racks_count_toward_max_units(solver):
    # 40 kW air racks above the 30 kW room-air limit need a door; max 2 doors, one came
    # with the installed rack: one more rack with one more door
    doc = scenario(
        [rack("hot", power_kw=40, pflops=30)],
        [hall(max_air_rack_kw=30, gpu_racks={"hot": {"count": 1, "rdhx": "door"}})],
        [option("door", "rdhx", 40, 0.1 * M, max_units=2)],
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(60)
    assert plan.total_spend_usd == pytest.approx(1.1 * M)
    assert int(plan.retrofits["units"].sum()) == 2


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_gpus_count_toward_targets(solver):
    doc = scenario(
        [rack()],
        [hall(gpu_racks={"a": 2})],
        periods=("P0", "P1"),
        objective="min_cost",
        gpu_targets=[16, 24],
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(1 * M)
    assert (racks_at(plan, "P0"), racks_at(plan, "P1")) == (2, 3)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_racks_form_clusters_before_their_lead_time(solver):
    doc = scenario(
        [rack(lead_periods=1)],
        [hall(positions=2, gpu_racks={"a": 2})],
        periods=("P0", "P1"),
        clusters=[{"name": "zone", "gpus": 16, "domain": "hall", "targets": [1, 1]}],
        compute_counts="clustered",
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(2 * 20)
    assert plan.total_spend_usd == 0
    assert list(plan.clusters["count"]) == [1, 1]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_an_installed_floor_unit_lets_heavy_racks_in(solver):
    doc = scenario(
        [rack(weight_kg=1500)],
        [hall(installed={"f1500": 1}, gpu_racks={"a": 1})],
        [option("f1500", "floor", 1500, 0.5 * M)],
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(40)
    assert plan.total_spend_usd == pytest.approx(3 * M)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_installed_site_units_and_cdus_carry_liquid_heat(solver):
    # liquid racks send 30 kW each to liquid; the site loop rejects only what its one
    # installed 60 kW unit adds: two racks, one of them installed
    doc = scenario(
        [liquid()],
        [hall(installed={"cdu": 1}, gpu_racks={"liq": 1})],
        [option("cdu", "cdu", 100, 0.1 * M), option("sw", "site_water", 60, 0.1 * M, max_units=1)],
        site={"facility_water_kw": 0, "installed": {"sw": 1}},
    )
    plan = solved(doc, solver)
    assert plan.objective == pytest.approx(60)
    assert plan.total_spend_usd == pytest.approx(1 * M)
    used = plan.utilisation.query("resource == 'facility_water'")
    assert used["used"].max() == pytest.approx(60)


def test_the_rule_of_thumb_plan_keeps_what_is_installed():
    doc = scenario(
        [rack()],
        [hall(power_kw=20, installed={"pw": 1}, gpu_racks={"a": 2})],
        [option("pw", "power", 10, 0.1 * M, max_units=2)],
        budget_usd_per_period=1 * M,
    )
    plan = planner.baseline.greedy(planner.Scenario.model_validate(doc))
    assert plan.verify() == []
    assert racks_at(plan, "P0") == 3  # one more rack within the installed power
    assert plan.total_spend_usd == pytest.approx(1 * M)


def test_verify_reports_installed_racks_and_units_taken_away():
    doc = scenario(
        [rack()],
        [hall(power_kw=20, installed={"pw": 1}, gpu_racks={"a": 2})],
        [option("pw", "power", 10, 0.1 * M, max_units=2)],
        periods=("P0", "P1"),
    )
    plan = solved(doc)
    racks = plan.racks.copy()
    racks.loc[racks["period"] == "P1", "count"] = 1
    retrofits = plan.retrofits[plan.retrofits["period"] == "P0"]
    tampered = planner.Plan.from_tables(plan.scenario, racks, retrofits, plan.halls)
    rules = {(v.rule, v.period) for v in tampered.verify()}
    assert ("installed", "P1") in rules
    messages = [str(v) for v in tampered.verify() if v.rule == "installed"]
    assert any("1 a racks of 2 installed" in m for m in messages)
    assert any("0 units of pw of 1 installed" in m for m in messages)


# -- random small scenarios against the exhaustive search ---------------------------------
@st.composite
def installed_scenarios(draw) -> dict:
    """A drawn exact scenario with some racks and units already installed."""
    data = draw(scenarios())
    names = [r["name"] for r in data["rack_types"]]
    doors = [o["name"] for o in data["retrofits"] if o["kind"] == "rdhx"]
    hall_options = [o["name"] for o in data["retrofits"] if o["kind"] not in ("site_water",)]
    hall_options = [n for n in hall_options if not n.startswith("site_feed")]
    site_options = [o["name"] for o in data["retrofits"] if o["name"] not in hall_options]
    for site in data["sites"]:
        if site_options and draw(st.booleans()):
            site["installed"] = {draw(st.sampled_from(site_options)): 1}
        for h in site["halls"]:
            if hall_options and draw(st.booleans()):
                h["installed"] = {draw(st.sampled_from(hall_options)): 1}
            if draw(st.integers(0, 3)):
                name = draw(st.sampled_from(names))
                count = draw(st.integers(1, 2))
                door = draw(st.sampled_from([None, *doors]))
                h["gpu_racks"] = {name: {"count": count, "rdhx": door}}
    try:
        assume(candidates(data) <= MAX_CANDIDATES)
    except ScenarioError:
        assume(False)  # an installed fleet that breaks its hall's rules as it stands
    return data


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(installed_scenarios())
def test_planner_finds_the_exhaustive_optimum_with_installed_equipment(solver, data):
    halls = [h for site in data["sites"] for h in site["halls"]]
    event(f"installed racks: {any(h.get('gpu_racks') for h in halls)}")
    event(f"installed units: {any(h.get('installed') for h in halls)}")
    check_exact(data, solver)


# -- the fleet as it stands, checked before any solve -------------------------------------
def test_unknown_names_and_wrong_scopes_are_reported_by_path():
    doc = scenario(
        [rack()],
        [
            hall(
                installed={"nope": 1, "sw": 1}, gpu_racks={"zz": 1, "a": {"count": 1, "rdhx": "pw"}}
            )
        ],
        [option("pw", "power", 10, 1), option("sw", "site_water", 10, 1)],
        site={"installed": {"pw": 1}},
    )
    found = problems(doc)
    at = "sites[0].halls[0]"
    assert any(p.startswith(f"{at}.installed.nope") and "unknown retrofit" in p for p in found)
    assert any(p.startswith(f"{at}.installed.sw") and "site-scope" in p for p in found)
    assert any(p.startswith(f"{at}.gpu_racks.zz") and "unknown rack type" in p for p in found)
    assert any(p.startswith(f"{at}.gpu_racks.a.rdhx") and "not a rear door" in p for p in found)
    assert any(p.startswith("sites[0].installed.pw") and "hall-scope" in p for p in found)


def test_units_beyond_max_units_and_stacked_floors_are_reported():
    doc = scenario(
        [rack(power_kw=40)],
        [
            hall(
                max_air_rack_kw=30,
                installed={"door": 1, "f": 2},
                gpu_racks={"a": {"count": 2, "rdhx": "door"}},
            )
        ],
        [option("door", "rdhx", 40, 1, max_units=2), option("f", "floor", 1500, 1)],
    )
    found = problems(doc)
    door = "installed.door: 3 units installed, more than max_units 2 of door (rear doors"
    assert any(door in p for p in found), found
    assert any("installed.f" in p and "do not stack" in p for p in found), found


@pytest.mark.parametrize(
    ("halls_kw", "racks", "options", "expected"),
    [
        ({"positions": 2}, {"a": 3}, [], "break the space rule"),
        ({"power_kw": 25}, {"a": 3}, [], "break the power rule"),
        ({"air_cooling_kw": 25}, {"a": 3}, [], "break the room_air rule"),
        ({"fabric_gbps": 250}, {"a": 3}, [], "break the network rule"),
        ({"max_air_rack_kw": 5}, {"a": 1}, [], "air density: a racks put 10 kW"),
        ({"floor_kg_per_position": 400}, {"a": 1}, [], "floor: a weighs 500 kg"),
        ({}, {"a": {"count": 1, "rdhx": "door"}}, ["door5"], "takes racks of at most 5 kW"),
        ({"facility_water": False}, {"a": {"count": 1, "rdhx": "door"}}, ["door"], "facility"),
        ({}, {"liq": 1}, [], "break the liquid rule"),
    ],
)
def test_an_installed_rack_that_breaks_a_rule_is_reported_with_the_rule(
    halls_kw, racks, options, expected
):
    catalog = {
        "door": option("door", "rdhx", 40, 1),
        "door5": option("door", "rdhx", 5, 1),
    }
    doc = scenario(
        [rack(), liquid()],
        [hall(gpu_racks=racks, **halls_kw)],
        [catalog[name] for name in options],
    )
    found = problems(doc)
    assert any(p.startswith("sites[0].halls[0].gpu_racks") and expected in p for p in found), found


def test_site_rules_broken_by_installed_racks_are_reported():
    doc = scenario(
        [rack()],
        [hall(gpu_racks={"a": {"count": 2, "rdhx": "door"}})],
        [option("door", "rdhx", 40, 1)],
        site={"facility_water_kw": 15, "feed_kw": 10},
    )
    found = problems(doc)
    assert any(p.startswith("sites[0]:") and "facility water rule" in p for p in found), found
    assert any(p.startswith("sites[0]:") and "site feed rule" in p for p in found), found


def test_cpu_racks_alone_over_a_limit_are_left_to_the_plan():
    # the CPU racks alone draw more than the hall's power: the plan retires some (as without
    # installed racks); the installed rack breaks no rule the CPU racks did not already
    cpu = {"count": 2, "power_kw": 30, "network_gbps": 10, "retire_cost_usd": 1000}
    doc = scenario([rack()], [hall(power_kw=50, cpu_racks=cpu, gpu_racks={"a": 1})])
    plan = solved(doc)
    assert plan.verify() == []
    assert int(plan.halls["cpu_racks_retired"].iloc[0]) >= 1


def test_dropping_unneeded_purchases_never_drops_installed_units():
    from planner.model import build
    from planner.solving.prune import prune_spend

    doc = scenario([rack()], [hall(installed={"pw": 2})], [option("pw", "power", 10, 0.1 * M)])
    m = build(planner.Scenario.model_validate(doc))
    values = {v.name: float(v.lowBound or 0.0) for v in m.prob.variables()}  # nothing bought
    pruned, saved = prune_spend(m, values)
    assert saved == 0
    assert [pruned[v.name] for v in m.u.values()] == [2]
