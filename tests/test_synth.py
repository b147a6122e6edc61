"""Synthetic fleets: valid, deterministic, realistic, solvable, with budgets that bind."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import planner
from planner import synth
from planner.cli import app
from planner.model import build


def test_same_seed_same_fleet_other_seed_other_fleet():
    a = synth.fleet(2, 3, 4, seed=5).model_dump()
    assert a == synth.fleet(2, 3, 4, seed=5).model_dump()
    assert a != synth.fleet(2, 3, 4, seed=6).model_dump()


def test_fleet_has_the_shape_asked_for():
    sc = synth.fleet(3, 4, 6, seed=1)
    assert [len(site.halls) for site in sc.sites] == [4, 4, 4]
    assert sc.periods == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    names = [hall.name for _, hall in sc.halls()]
    assert len(set(names)) == 12
    labels = ["2030Q3", "2030Q4"]
    assert synth.fleet(1, 1, labels, seed=0).periods == labels


def test_quarter_labels_roll_over_years():
    assert synth.quarters(6, "2024Q3") == [
        "2024Q3",
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
    ]


def test_halls_are_cpu_era_halls_from_the_domain_ranges():
    sc = synth.fleet(10, 10, 4, seed=3)
    halls = [hall for _, hall in sc.halls()]
    for hall in halls:
        cpu = hall.cpu_racks
        assert 260 <= hall.positions <= 400
        assert 1000 <= hall.power_kw <= 2000
        assert cpu.count <= hall.positions and cpu.count * cpu.power_kw <= hall.power_kw
        assert cpu.count * cpu.network_gbps <= hall.fabric_gbps
        assert hall.max_air_rack_kw <= 30
    watered = sum(hall.facility_water for hall in halls) / len(halls)
    assert 0.4 < watered < 0.8  # a mix of halls with and without facility water
    assert any(hall.cpu_racks.retire_cost_usd is None for hall in halls)
    assert any(hall.cpu_racks.retire_cost_usd is not None for hall in halls)
    budgets = sc.budgets()
    assert budgets[-1] > budgets[0]  # the budget ramps up
    lead = {r.name: r.lead_periods for r in sc.retrofits}
    assert lead["power-1mw"] >= 3 and lead["transformer-20mw"] >= 8


def test_small_fleet_solves_soundly_and_its_budget_binds():
    sc = synth.fleet(1, 2, 4, seed=0)
    plan = planner.solve(sc, mip_gap=1e-4)
    assert plan.status == "optimal"
    assert plan.verify() == []
    spend = plan.spend
    cheapest = min(
        [r.capex_usd for r in sc.rack_types]
        + [o.cost_usd for o in sc.retrofits]
        + [hall.cpu_racks.retire_cost_usd or 1e18 for _, hall in sc.halls()]
    )
    left = spend["budget_usd"] - spend["total_usd"]
    assert (left < cheapest).any(), spend  # some period's money cannot buy one more item


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_hall_can_take_gpu_racks(seed):
    sc = synth.fleet(2, 3, 4, seed=seed)
    idx = build(sc).index
    assert all(idx.racks[h] for h in range(len(idx.halls)))


def test_a_fleet_needs_a_site_a_hall_and_a_period():
    with pytest.raises(ValueError, match="at least one site"):
        synth.fleet(0, 3, 4)
    with pytest.raises(ValueError, match="at least one period"):
        synth.fleet(1, 1, [])


def test_planner_synth_writes_the_same_fleet(tmp_path):
    path = tmp_path / "fleet.yaml"
    result = CliRunner().invoke(
        app, ["synth", "--sites", "2", "--halls-per-site", "2", "--periods", "3", "--seed", "7",
              "--out", str(path)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(path.read_text()) == synth.fleet_document(2, 2, 3, seed=7)
    assert planner.load_scenario(path) == synth.fleet(2, 2, 3, seed=7)
    printed = CliRunner().invoke(app, ["synth", "--sites", "1", "--halls-per-site", "1"])
    assert printed.exit_code == 0 and "name: fleet-1x1-12q-seed0" in printed.output
    bad = CliRunner().invoke(app, ["synth", "--sites", "0"])
    assert bad.exit_code == 2
