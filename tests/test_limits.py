"""What limits a plan (planner.plan.limits): every rule at capacity classed as binding, capped
or sized, near-binding rules, and money, on cases solved by hand; and the summary's and
explain's sentences on the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from builders import M, hall, invoke, liquid, option, rack, scenario

import planner
from planner.plan.limits import by_option, cheapest_purchase, limits, money_limits, spans
from planner.plan.numbers import percent, readable, times, usd

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def solve(**kw):
    plan = planner.solve(planner.Scenario.model_validate(scenario(**kw)), mip_gap=0)
    assert plan.status == "optimal" and plan.verify() == []
    return plan


def state_of(plan, resource: str) -> dict:
    table = limits(plan)
    return {r.state: r for r in table.itertuples() if r.resource == resource}


def test_power_as_built_binds():
    # 20 kW holds 2 racks of 10 kW (2 of 4 positions): power at 100%, nothing offered to
    # add power
    plan = solve(racks=[rack()], halls=[hall(power_kw=20)])
    assert plan.gpus().iloc[0] == 16
    power = state_of(plan, "power")
    assert set(power) == {"binding"} and power["binding"].places == "h1"
    assert power["binding"].times == 1 and power["binding"].capped_options == ""


def test_power_with_its_option_at_the_cap_is_capped():
    # 20 kW + one 10 kW unit (max 1) holds 3 racks; the option is at its cap
    pw = option("pw", "power", 10, 1000, max_units=1)
    plan = solve(racks=[rack()], halls=[hall(power_kw=20)], retrofits=[pw])
    assert plan.gpus().iloc[0] == 24
    power = state_of(plan, "power")
    assert set(power) == {"capped"} and power["capped"].capped_options == "pw in h1"
    # with more units on offer (and a budget that stops at 3 racks) power binds, not capped
    pw2 = option("pw", "power", 10, 1000, max_units=5)
    plan = solve(
        racks=[rack()],
        halls=[hall(power_kw=20)],
        retrofits=[pw2],
        budget_usd_per_period=3 * M + 1000,
    )
    assert plan.gpus().iloc[0] == 24
    assert set(state_of(plan, "power")) == {"binding"}
    assert set(state_of(plan, "budget")) == {"binding"}


def test_sidecars_bought_to_match_racks_are_sized_not_a_limit():
    # two liquid racks of 30 kW liquid heat each, no facility water: AALC units of 30 kW
    # are bought to match; space (2 positions + 2 sidecar positions = 4) binds as built
    aalc = option("aalc", "aalc", 30, 1000, positions=1)
    plan = solve(racks=[liquid()], halls=[hall(facility_water=False)], retrofits=[aalc])
    assert plan.gpus().iloc[0] == 16
    assert set(state_of(plan, "liquid_aalc")) == {"sized"}
    assert set(state_of(plan, "space")) == {"binding"}


def test_a_rule_close_to_capacity_is_near():
    # 4 racks of 100 Gbps on a 408 Gbps fabric: 98.0% used, space binds
    plan = solve(racks=[rack()], halls=[hall(fabric_gbps=408)])
    near = state_of(plan, "network")
    assert set(near) == {"near"} and near["near"].most_share == pytest.approx(400 / 408)
    # at 97% it is not reported
    plan = solve(racks=[rack()], halls=[hall(fabric_gbps=413)])
    assert state_of(plan, "network") == {}


def test_money_binds_when_what_is_left_buys_no_rack():
    # $2.5M a period buys 2 racks of $1M: $0.5M left, under the cheapest rack
    plan = solve(racks=[rack()], budget_usd_per_period=2.5 * M)
    money = money_limits(plan)
    assert money["money_binds"].tolist() == [True]
    assert money["unspent_usd"].iloc[0] == pytest.approx(0.5 * M)
    assert money["cheapest"].iloc[0] == "one a rack"
    lines = plan.limit_lines()
    assert lines[0].startswith("money binds once, P0: up to $0.5M left, less than the cheapest")
    # $10M buys the 4 positions' racks and leaves $6M: money does not limit, space does
    plan = solve(racks=[rack()], budget_usd_per_period=10 * M)
    assert money_limits(plan)["money_binds"].tolist() == [False]
    assert plan.limit_lines()[-1] == (
        "In P0 money does not limit the plan: $6.0M of its budget is left, because space binds."
    )


def test_money_left_before_any_rack_can_arrive_is_put_down_to_lead_times():
    sc = dict(racks=[rack(lead_periods=1)], periods=("P0", "P1"), budget_usd_per_period=2 * M)
    plan = solve(**sc)
    money = money_limits(plan)
    # P0: nothing can arrive, so the $2M is left for want of racks; P1 spends it on 2 racks
    assert money["money_binds"].tolist() == [False, True]
    assert cheapest_purchase(plan.scenario, 0) == ("", pytest.approx(float("nan"), nan_ok=True))
    assert "no rack type can operate yet in P0 (lead times)" in plan.limit_lines()[-1]


def test_with_clustered_compute_the_cheapest_purchase_is_a_whole_cluster():
    sc = planner.Scenario.model_validate(
        scenario(
            racks=[rack()],
            clusters=[dict(name="z", gpus=24, domain="hall", rack_types=None, targets=None)],
            compute_counts="clustered",
        )
    )
    assert cheapest_purchase(sc, 0) == ("one z of a", 3 * M)


def test_capped_options_are_named_once_per_option():
    assert by_option("pw in a1, pw in a2, ch in prn") == "pw in a1, a2; ch in prn"


def test_words_planners_use():
    assert [times(n) for n in (1, 2, 11, 1200)] == ["once", "twice", "11 times", "1,200 times"]
    assert [usd(v) for v in (9.48e6, 2.5e9, 4e4, 0, -3e6)] == [
        "$9.5M",
        "$2.50B",
        "$40k",
        "$0.0M",
        "-$3.0M",
    ]
    assert [percent(v, signed=True) for v in (0.037, -0.0003, -1e-6, 0.0)] == [
        "+3.7%",
        "-0.03%",
        "0%",
        "0%",
    ]
    shown = readable(
        pd.DataFrame(
            {"gpus_last_period": [36368.0, 0.0], "spend_usd": [1.745e9, 5e8], "label": ["a", "b"]}
        )
    )
    assert shown["gpus_last_period"].tolist() == [36368, 0]
    assert shown["spend_usd"].tolist() == ["$1.75B", "$500.0M"]
    order = ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert spans(order, ["Q5", "Q1", "Q3", "Q4"]) == "Q1, Q3-Q5"


# -- the shipped scenarios ------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_plan():
    return planner.solve(CONFIGS / "meta-2023-retrofit.yaml")


def test_default_fleet_lists_every_limit_and_why_money_is_left(default_plan):
    lines = default_plan.limit_lines()
    text = "\n".join(lines)
    for resource in ("room air", "power", "network", "facility water"):
        assert f"\n{resource} binds " in "\n" + text, resource
    assert "facility water binds 3 times, from 2023Q4: prn" in lines
    # sidecars and CDUs bought to match the racks are not limits
    assert any(line.startswith("liquid (AALC) used to the units bought") for line in lines)
    assert not any(line.startswith("liquid (AALC) binds") for line in lines)
    # near-binding network in b1 (99.3%)
    assert any(line.startswith("network near its limit") and "99.3%" in line for line in lines)
    story = lines[-1]
    assert story.startswith("In 2023Q1-2024Q4 money does not limit the plan: ")
    assert "no rack type can operate yet in 2023Q1 (lead times)" in story
    assert "room air, power, network and facility water bind" in story


def test_cli_solve_prints_the_limits_for_catalina(tmp_path):
    result = invoke("solve", CONFIGS / "catalina-aalc.yaml", "--out", tmp_path, "--no-plots")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "What limits the plan:" in text
    assert "money binds 3 times, 2025Q1-2025Q3: up to $0.5M left" in text
    assert "sized to the racks, more on offer, not a limit" in text
    assert "liquid (AALC) binds" not in text


def test_legacy_hall_names_power_room_air_and_the_near_network():
    plan = planner.solve(CONFIGS / "legacy-hall.yaml")
    assert plan.limit_lines() == [
        "power binds once, from 2023Q1: hall-1",
        "room air binds once, from 2023Q1: hall-1",
        "network near its limit once (up to 99.2% used), from 2023Q1: hall-1",
    ]


def test_explain_names_a_capped_option_and_what_raising_its_cap_gives():
    # as in test_power_with_its_option_at_the_cap_is_capped: one more unit beyond the cap
    # gives a fourth rack: 10 PFLOPS-periods
    pw = option("pw", "power", 10, 1000, max_units=1)
    plan = solve(racks=[rack()], halls=[hall(power_kw=20)], retrofits=[pw])
    why = plan.explain(which="binding")
    row = why.marginal_values.iloc[0]
    assert bool(row.at_cap) and row.gain == pytest.approx(10)
    assert why.findings()[0].startswith(
        "pw in hall h1 is held by its cap (1 unit): raising it by one 10 kW unit, in place from "
        "P0, adds 10"
    )
    assert "Power binds once with its retrofits at their cap, from P0: pw in h1." in why.findings()


def test_explain_all_lists_options_worth_nothing_as_zero(tmp_path):
    # space binds (4 positions) with power to spare: a power unit adds nothing
    doc = scenario(racks=[rack()], retrofits=[option("pw", "power", 10, 1000)])
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = invoke("explain", path, "--all")
    assert result.exit_code == 0, result.output
    assert "One more 10 kW pw in hall h1 from P0 adds 0 PFLOPS-periods" in result.output
    result = invoke("explain", path)
    assert "adds 0" not in result.output


def test_default_fleet_as_racks_names_the_options_at_their_cap():
    # planned as racks the fleet buys every power block its halls allow in a1, a2 and b1,
    # and every chiller block at prn: those limits only a higher cap lifts
    shipped = planner.load_scenario(CONFIGS / "meta-2023-retrofit.yaml")
    plan = planner.solve(planner.what_if(shipped, {"clusters": None, "compute_counts": "all"}))
    capped = plan.limits().query("state == 'capped'").set_index("resource")
    assert set(capped.loc["power", "capped_options"].split(", ")) >= {
        "power-1mw in a1",
        "power-1mw in b1",
    }
    assert capped.loc["facility_water", "capped_options"] == "chillers-2mw in prn"
    story = plan.limit_lines()[-1]
    assert "money does not limit the plan" in story and "at their cap" in story


def test_catalina_explain_all_lists_zero_values_and_money():
    result = invoke("explain", CONFIGS / "catalina-aalc.yaml", "--all")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "adds 0 PFLOPS-periods" in text  # valued at zero, listed, not left out
    assert "Money binds 3 times, 2025Q1-2025Q3" in text
    assert "power-1mw" in text


def test_a_free_unit_within_the_cap_is_not_called_capped():
    # max 5 units; $4,001,000 buys 3 racks and one unit (4 racks need 2 units: $4,002,000);
    # a free unit makes the fourth rack affordable, 2 units in all, within the cap
    pw = option("pw", "power", 10, 1000, max_units=5)
    plan = solve(
        racks=[rack()],
        halls=[hall(power_kw=20)],
        retrofits=[pw],
        budget_usd_per_period=4 * M + 1000,
    )
    assert plan.gpus().iloc[0] == 24
    row = plan.explain(which="all").marginal_values.iloc[0]
    assert not row.at_cap and row.gain == pytest.approx(10)
