"""Binding limits, marginal values, shadow prices and infeasibility diagnosis, on cases small
enough to work out by hand."""

import math

import builders
import pytest
from typer.testing import CliRunner

import planner
from planner.cli import app
from planner.insight.explain import marginal_values, shadow_prices
from planner.plan.binding import binding
from planner.solving.diagnose import diagnose


def rack(**kw):
    """A 10 kW air rack of 1 PFLOPS at $10k: money does not limit these cases."""
    return builders.rack(**({"capex_usd": 1e4, "pflops": 1} | kw))


def hall(**kw):
    """Hall ``h``: 1,000 positions, 100 kW, 20 kW per rack in room air, no facility water."""
    base = dict(name="h", positions=1000, power_kw=100, air_cooling_kw=10_000)
    base |= dict(max_air_rack_kw=20, fabric_gbps=1e6, facility_water=False)
    return builders.hall(**(base | kw))


def scenario(racks=None, retrofits=(), halls=None, site=None, **top):
    """One period ``P1``, site ``s`` without facility water, hall ``h``, rack ``a``."""
    the_site = {"name": "s", "facility_water_kw": 0.0} | (site or {})
    periods = top.pop("periods", ["P1"])
    top = {"name": "case"} | top
    racks, halls = racks or [rack()], halls or [hall()]
    data = builders.scenario(racks, halls, retrofits, periods, the_site, **top)
    return planner.Scenario.model_validate(data)


POWER = dict(name="pw", kind="power", capacity=50, cost_usd=1e5)


def test_binding_lists_the_limits_at_capacity():
    # 100 kW / 10 kW per rack = 10 racks: power binds, nothing else does
    plan = planner.solve(scenario())
    limits = binding(plan)
    assert limits["resource"].tolist() == ["power"]
    assert limits.iloc[0][["hall", "period", "used", "capacity"]].tolist() == [
        "h",
        "P1",
        100.0,
        100.0,
    ]
    assert plan.binding().equals(limits)


def test_binding_includes_budgets_that_are_spent():
    # $35k buys 3 racks of $10k and leaves $5k: not binding; at $30k the budget is spent
    loose = planner.solve(scenario(budget_usd_per_period=35_000))
    assert "budget" not in set(binding(loose)["resource"])
    tight = planner.solve(scenario(budget_usd_per_period=30_000))
    row = binding(tight).set_index("resource").loc["budget"]
    assert (row.used, row.capacity) == (30_000, 30_000)


def test_marginal_value_of_a_free_power_unit_by_hand():
    # no unit may be bought (max_units 0); a free 50 kW unit lifts 10 racks to 15: +5 PFLOPS
    sc = scenario(retrofits=[POWER | {"max_units": 0}])
    values = marginal_values(planner.solve(sc), which="all")
    row = values.iloc[0]
    assert (row.option, row.hall, row.period, row.gain) == ("pw", "h", "P1", 5.0)
    assert math.isnan(row.price_buys) and row.worth_price and row.exact


def test_marginal_value_equals_the_difference_of_two_direct_solves():
    # two periods, a budget, a power unit with a lead time: compare with a scenario where a
    # second, free copy of the option (one unit, from the same period) is in the catalog
    periods = ["P1", "P2", "P3"]
    sc = scenario(
        retrofits=[POWER | {"lead_periods": 1, "max_units": 1}],
        periods=periods,
        budget_usd_per_period=[60_000, 200_000, 90_000],
    )
    plan = planner.solve(sc, mip_gap=0)
    values = marginal_values(plan, which="all").set_index("period")
    for t, period in enumerate(periods[1:], start=1):
        free = dict(POWER, name="free-pw", cost_usd=0, max_units=1, lead_periods=t)
        richer = sc.model_dump() | {"retrofits": sc.model_dump()["retrofits"] + [free]}
        direct = planner.solve(planner.Scenario.model_validate(richer), mip_gap=0)
        assert values.loc[period, "gain"] == pytest.approx(direct.objective - plan.objective)
    # and what the unit's price buys as budget, also by a direct solve
    more = sc.model_dump() | {"budget_usd_per_period": [60_000, 300_000, 90_000]}
    direct = planner.solve(planner.Scenario.model_validate(more), mip_gap=0)
    assert values.loc["P2", "price_buys"] == pytest.approx(direct.objective - plan.objective)
    assert values.loc["P2", "worth_price"] == (
        values.loc["P2", "gain"] > values.loc["P2", "price_buys"]
    )


def test_marginal_value_for_min_cost_is_the_cost_saved():
    # target 120 GPUs = 15 racks = 150 kW: one paid 50 kW unit ($100k) is needed; free, it
    # saves its price
    sc = scenario(retrofits=[POWER], objective="min_cost", gpu_targets=[120])
    plan = planner.solve(sc)
    assert plan.objective == pytest.approx(15 * 1e4 + 1e5)
    row = marginal_values(plan, which="all").iloc[0]
    assert row.gain == pytest.approx(1e5) and row.gain_unit == "USD"


def test_shadow_prices_by_hand():
    # retrofits fixed, racks relaxed: power binds at 100 kW, 1 PFLOPS per 10 kW
    prices = shadow_prices(planner.solve(scenario()))
    assert prices[["rule", "hall", "period"]].values.tolist() == [["power", "h", "P1"]]
    assert prices.iloc[0].shadow_price == pytest.approx(0.1)
    assert prices.iloc[0].price_unit == "PFLOPS-periods per kW"
    # with 6 units fixed and a $1M budget that binds first: 1 PFLOPS per $10k
    sc = scenario(retrofits=[POWER], budget_usd_per_period=1e6, halls=[hall(power_kw=105)])
    prices = shadow_prices(planner.solve(sc)).set_index("rule")
    assert list(prices.index) == ["budget"]
    assert prices.loc["budget", "shadow_price"] == pytest.approx(1e-4)


def test_explanation_bundles_everything():
    sc = scenario(retrofits=[POWER | {"max_units": 0}])
    why = planner.solve(sc).explain(which="all")
    assert len(why.binding) == len(why.marginal_values) == len(why.shadow_prices) == 1
    # max_units 0: the free unit is one beyond the cap
    assert any(
        "pw in hall h is held by its cap (0 units): raising it by one 50 kW unit, in place "
        "from P1, adds 5" in s
        for s in why.findings()
    )


def test_diagnosis_of_an_unreachable_gpu_target():
    # 100 kW holds 10 racks = 80 GPUs; the target asks for 100
    sc = scenario(objective="min_cost", gpu_targets=[100])
    plan = planner.solve(sc)
    assert plan.status == "infeasible"
    d = plan.diagnosis
    # the target's shortfall, then the limit behind it: 20 more GPUs are 3 racks of 8 GPUs
    # and 10 kW each on the hall's 100 kW: 30 kW of power
    assert d[["rule", "period", "shortfall", "unit", "stage"]].values.tolist() == [
        ["target", "P1", 20.0, "GPUs", "shortfall"],
        ["power", "P1", 30.0, "kW", "behind target"],
    ]
    assert "the most these sites can hold is 80 of 100" in d.iloc[0].message
    assert d.iloc[1].message == "to meet the targets, hall h, P1: power short by 30 kW"
    assert "GPU target short by 20 GPUs" in plan.message


def test_diagnosis_of_cpu_racks_beyond_hall_power():
    # 60 CPU racks of 10 kW that cannot be retired in a 500 kW hall: power short by 100 kW
    cpu = {"count": 60, "power_kw": 10, "network_gbps": 10}
    d = diagnose(scenario(halls=[hall(power_kw=500, cpu_racks=cpu)]))
    assert d[["rule", "site", "hall", "period", "shortfall", "unit"]].values.tolist() == [
        ["power", "s", "h", "P1", 100.0, "kW"]
    ]
    assert d.iloc[0].message == "hall h, P1: power short by 100 kW"


def test_diagnosis_of_facility_water():
    # 10 liquid racks (64 GPUs, 100 kW, 80 kW to liquid) meet a 640-GPU target; the CDU path
    # rejects 800 kW into a 500 kW site loop. Short 300 kW of water (300/1000 = 0.3 relative)
    # beats any shorter target (e.g. 6 racks: 256/640 = 0.4).
    liquid = rack(name="l", gpus=64, power_kw=100, cooling="liquid", liquid_fraction=0.8, pflops=64)
    cdu = dict(name="cdu", kind="cdu", capacity=1000, cost_usd=1e5)
    sc = scenario(
        racks=[liquid],
        retrofits=[cdu],
        halls=[hall(power_kw=2000, facility_water=True)],
        site={"facility_water_kw": 500},
        objective="min_cost",
        gpu_targets=[640],
    )
    d = diagnose(sc)
    assert d[["rule", "site", "hall", "shortfall", "unit"]].values.tolist() == [
        ["facility_water", "s", "", 300.0, "kW"]
    ]
    assert d.iloc[0].message == "site s, P1: facility water short by 300 kW"


def test_feasible_scenarios_have_no_diagnosis():
    sc = scenario(objective="min_cost", gpu_targets=[80])
    assert diagnose(sc).empty
    assert planner.solve(sc).diagnosis is None


def test_diagnosis_survives_a_json_round_trip(tmp_path):
    plan = planner.solve(scenario(objective="min_cost", gpu_targets=[100]))
    again = planner.Plan.from_json(plan.to_json(tmp_path / "plan.json"))
    assert again.diagnosis["message"].tolist() == plan.diagnosis["message"].tolist()
    assert "short by 20 GPUs" in str(again)


def _write(tmp_path, sc):
    path = tmp_path / "case.json"
    path.write_text(sc.model_dump_json())
    return str(path)


def test_cli_explain_prints_findings_in_sentences(tmp_path):
    path = _write(tmp_path, scenario(retrofits=[POWER | {"max_units": 0}]))
    result = CliRunner().invoke(app, ["explain", path, "--all", "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "raising it by one 50 kW unit, in place from P1, adds 5 PFLOPS-periods" in (
        result.output
    )
    assert "power (h, P1): 0.1 PFLOPS-periods per kW" in result.output
    assert (tmp_path / "x" / "marginal_values.csv").exists()


def test_cli_reports_infeasibility_with_its_shortfalls(tmp_path):
    path = _write(tmp_path, scenario(objective="min_cost", gpu_targets=[100]))
    for command in ("solve", "explain"):
        result = CliRunner().invoke(app, [command, path, "--out", str(tmp_path / "o")])
        assert result.exit_code == 3, result.output
        assert "GPU target short by 20 GPUs" in result.output
        assert "Traceback" not in result.output


def test_cli_solve_lists_binding_limits(tmp_path):
    result = CliRunner().invoke(
        app, ["solve", _write(tmp_path, scenario()), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0
    assert "What limits the plan:\n  power binds once, from P1: h\n" in result.output
