"""The shipped scenarios give the results their comments and configs/README.md promise."""

from pathlib import Path

import pytest

import planner

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.fixture(scope="module")
def solved():
    cache = {}

    def get(name: str) -> planner.Plan:
        if name not in cache:
            cache[name] = planner.solve(planner.load_scenario(CONFIGS / f"{name}.yaml"))
        return cache[name]

    return get


def test_legacy_hall_reproduces_the_worked_case(solved):
    # DOMAIN.md: a 2 MW hall, one DGX H100 per rack, air only: power runs out at 186 racks.
    # floor(2000 kW / 10.75 kW per rack) = 186 racks = 1,488 GPUs.
    plan = solved("legacy-hall")
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert plan.racks["count"].sum() == 186
    assert set(plan.racks["rack_type"]) == {"dgx-h100-air-1"}
    assert plan.gpus().tolist() == [1488]
    assert plan.retrofits.empty
    util = plan.utilisation.set_index("resource")
    assert util.loc["power", "used"] == pytest.approx(186 * 10.75)
    assert util.loc["power", "capacity"] - util.loc["power", "used"] < 10.75  # power binds


def test_catalina_hall_cools_liquid_racks_only_with_aalc_sidecars(solved):
    plan = solved("catalina-aalc")
    assert plan.status == "optimal"
    assert plan.verify() == []
    # no facility water: no CDU and no rear door can be bought, only sidecars
    assert set(plan.retrofits["kind"]) == {"aalc"}
    assert (plan.halls["liquid_to_cdu_kw"] == 0).all()
    assert set(plan.racks["rack_type"]) == {"catalina-nvl36"}
    # 3, 6, 9, 10 pods of 2 racks: 216, 432, 648, 720 GPUs; 5,040 PFLOPS-periods
    assert plan.gpus().tolist() == [216, 432, 648, 720]
    assert plan.objective == pytest.approx(5040)
    # each pod is 2 IT racks + 4 sidecars = 6 positions, and space binds at 10 pods
    last = plan.scenario.periods[-1]
    racks = plan.racks.loc[plan.racks.period == last, "count"].sum()
    sidecars = plan.retrofits.loc[plan.retrofits.period == last, "units"].sum()
    assert (racks, sidecars) == (20, 40)
    space = plan.utilisation.query("resource == 'space' and period == @last").iloc[0]
    assert space.used == space.capacity == 120


def test_default_fleet_scenario_phases_a_budget_bound_catch_up(solved):
    plan = solved("meta-2023-retrofit")
    sc = plan.scenario
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert len(sc.periods) == 8 and len(sc.sites) >= 2
    multiples = {r.name: r.network_multiple for r in sc.rack_types}
    assert 24 <= multiples["h100-air"] <= 32
    assert min(b for b in sc.budgets() if b is not None) >= 1e9  # billions a quarter
    gpus = plan.gpus()
    assert gpus.iloc[0] == 0  # server lead time: nothing operates in the first quarter
    assert gpus.is_monotonic_increasing and gpus.iloc[-1] > 30_000
    spend = plan.spend.set_index("period")
    # the budget binds in the first quarter GPUs can arrive
    assert spend.loc["2023Q2", "total_usd"] == pytest.approx(1e9, rel=1e-3)
    assert (spend["total_usd"] <= spend["budget_usd"] + 1).all()
    kinds = set(plan.retrofits["kind"])
    assert {"cdu", "aalc", "fabric", "power"} <= kinds
    # no CDU before its 2-quarter lead time, no power block before 3 quarters
    first = plan.retrofits.groupby("kind")["period"].min()
    assert sc.periods.index(first["cdu"]) >= 2
    assert sc.periods.index(first["power"]) >= 3
