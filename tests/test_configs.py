"""The shipped scenarios give the results their comments and configs/README.md promise."""

from pathlib import Path

import pytest

import planner
from planner.analysis import stranded

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


def test_default_fleet_scenario_phases_a_catch_up_in_ai_zones(solved):
    plan = solved("meta-2023-retrofit")
    sc = plan.scenario
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert len(sc.periods) == 8 and len(sc.sites) >= 2
    multiples = {r.name: r.network_multiple for r in sc.rack_types}
    assert 24 <= multiples["h100-air"] <= 32
    assert min(b for b in sc.budgets() if b is not None) >= 1e9  # billions a quarter
    (zone,) = sc.cluster_kinds()
    assert (zone.gpus, zone.domain, sc.compute_counts) == (3072, "hall", "clustered")
    gpus = plan.gpus()
    assert gpus.iloc[0] == 0  # server lead time: nothing operates in the first quarter
    assert gpus.is_monotonic_increasing
    # every GPU rack stands in a zone, and the zones meet their targets
    zones = plan.clusters.groupby("period")["count"].sum().reindex(sc.periods, fill_value=0)
    in_zones = plan.clusters.groupby("period")["gpus"].sum().reindex(sc.periods, fill_value=0)
    racks_in = plan.clusters.groupby(["period", "hall", "rack_type"])["racks"].sum()
    racks = plan.racks.groupby(["period", "hall", "rack_type"])["count"].sum()
    assert racks_in.to_dict() == racks.to_dict()
    assert (zones.to_numpy() >= zone.targets).all()
    assert zones.tolist() == [0, 6, 6, 8, 8, 8, 9, 9]
    assert in_zones.tolist() == [0, 18432, 18432, 24576, 24576, 24576, 27672, 27672]
    assert plan.objective == pytest.approx(173_467, rel=1e-4)
    assert plan.total_spend_usd == pytest.approx(1.33339e9, rel=1e-3)
    # a GB200 NVL72 zone (43 racks) comes up in a1 once the rack type can arrive
    gb200 = plan.clusters.query("rack_type == 'gb200-nvl72'")
    assert set(gb200["hall"]) == {"a1"} and gb200["period"].min() == "2024Q3"
    spend = plan.spend.set_index("period")
    assert (spend["total_usd"] <= spend["budget_usd"] + 1).all()
    kinds = set(plan.retrofits["kind"])
    assert {"cdu", "aalc", "fabric", "power"} <= kinds
    # no CDU before its 2-quarter lead time, no power block before 3 quarters
    first = plan.retrofits.groupby("kind")["period"].min()
    assert sc.periods.index(first["cdu"]) >= 2
    assert sc.periods.index(first["power"]) >= 3


def test_default_fleet_planned_as_racks_strands_a_quarter_of_its_gpus(solved):
    clustered = solved("meta-2023-retrofit").scenario
    plan = planner.solve(planner.what_if(clustered, {"clusters": None, "compute_counts": "all"}))
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert plan.objective == pytest.approx(228_230, rel=1e-4)
    gpus = plan.gpus()
    assert gpus["2023Q2"] == 22432 and gpus.iloc[-1] == 36368
    # the budget binds in the first quarter GPUs can arrive
    assert plan.spend.set_index("period").loc["2023Q2", "total_usd"] == pytest.approx(1e9, rel=1e-3)
    table = stranded(plan, clusters=clustered.clusters).set_index("period")
    assert table.loc["2024Q4", "stranded_gpus"] == 8720
    assert table.loc["2024Q4", "clusters"] == 9
    # as zones, the rack plan trains on less than the clustered plan counts
    assert (table["clustered_pflops"].sum()) < solved("meta-2023-retrofit").objective


def test_building_cluster_spreads_one_cluster_over_the_halls(solved):
    plan = solved("building-cluster")
    assert plan.status == "optimal"
    assert plan.verify() == []
    (row,) = plan.clusters.itertuples(index=False)
    assert (row.domain, row.hall, row.count, row.racks, row.gpus) == ("site", "", 1, 512, 4096)
    per_hall = plan.racks.groupby("hall")["count"].sum()
    assert per_hall.sum() == 512 and per_hall.max() <= 186 and len(per_hall) >= 3
    assert plan.objective == pytest.approx(512 * 7.912)
    assert plan.total_spend_usd == pytest.approx(512 * 3e5)
    assert plan.retrofits.empty
    racks = planner.solve(planner.what_if(plan.scenario, {"compute_counts": "all"}))
    assert racks.racks["count"].sum() == 4 * 186
    assert stranded(racks)["stranded_gpus"].tolist() == [232 * 8]
