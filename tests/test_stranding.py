"""planner.analysis.stranded: GPUs of a plan's racks that no clustering can use, checked on
cases worked out by hand and against an enumeration of every clustering on random fleets."""

from __future__ import annotations

import itertools
import math
import random

import pandas as pd
import pytest
from builders import hall, rack, scenario

import planner
from planner.analysis import STRANDED_COLUMNS, stranded
from planner.plan import Plan
from planner.plan import accounting as acc


def plan_of(data: dict, racks: dict) -> Plan:
    """A plan holding ``racks`` ({(hall, rack type, period): count}) in scenario ``data``."""
    sc = planner.Scenario.model_validate(data)
    rows = [("s1", h, p, r, None, n) for (h, r, p), n in racks.items()]
    empty = [pd.DataFrame(columns=c) for c in (acc.RETROFIT_COLUMNS, acc.HALL_COLUMNS)]
    return Plan.from_tables(sc, pd.DataFrame(rows, columns=acc.RACK_COLUMNS), *empty)


def zone(gpus, name="zone", **kw):
    return {"name": name, "gpus": gpus, "domain": "hall"} | kw


def building(gpus, name="bld", **kw):
    return {"name": name, "gpus": gpus, "domain": "site"} | kw


def test_a_hall_keeps_what_whole_clusters_leave():
    # 100 racks of 8 GPUs; a 256-GPU zone takes 32 racks: 3 zones, 4 racks (32 GPUs) left
    data = scenario([rack()], [hall(positions=200)], clusters=[zone(256)])
    table = stranded(plan_of(data, {("h1", "a", "P0"): 100}))
    assert list(table.columns) == list(STRANDED_COLUMNS)
    row = table.iloc[0]
    assert (row.gpus, row.clustered_gpus, row.stranded_gpus, row.clusters) == (800, 768, 32, 3)
    assert row.stranded_share == pytest.approx(32 / 800)
    assert row.clustered_pflops == pytest.approx(96 * 10)


def test_a_site_cluster_gathers_what_halls_leave_and_racks_serve_one_cluster():
    # four halls of 186 racks; a 1,024-GPU zone (128 racks, one hall) and a 4,096-GPU
    # building cluster (512 racks, any halls). Best: 1 building + 1 zone = 640 racks
    # (2 zones + building would need 768 > 744; 4 zones alone take 512).
    halls = [hall(f"h{i}", positions=200) for i in range(4)]
    data = scenario([rack()], halls, clusters=[zone(1024), building(4096)])
    plan = plan_of(data, {(f"h{i}", "a", "P0"): 186 for i in range(4)})
    row = stranded(plan).iloc[0]
    assert (row.clustered_gpus, row.clusters, row.stranded_gpus) == (640 * 8, 2, 104 * 8)


def test_kinds_may_come_from_another_scenario_and_rack_types_are_respected():
    data = scenario([rack(), rack("b", gpus=4)], [hall(positions=50)])
    plan = plan_of(data, {("h1", "a", "P0"): 10, ("h1", "b", "P0"): 10})
    with pytest.raises(ValueError, match="no cluster kinds"):
        stranded(plan)
    with pytest.raises(ValueError, match="rack types the plan does not have: zz"):
        stranded(plan, clusters=[zone(32, rack_types=["zz"])])
    # only b may form the 32-GPU zone: 8 racks of b, all of a stranded
    row = stranded(plan, clusters=[zone(32, rack_types=["b"])]).iloc[0]
    assert (row.gpus, row.clustered_gpus, row.clusters) == (120, 32, 1)


def test_each_period_is_judged_on_its_own_and_an_empty_period_strands_nothing():
    data = scenario([rack()], [hall(positions=50)], periods=("P0", "P1", "P2"), clusters=[zone(32)])
    plan = plan_of(data, {("h1", "a", "P1"): 5, ("h1", "a", "P2"): 9})
    table = stranded(plan)
    assert table["clusters"].tolist() == [0, 1, 2]
    assert table["stranded_gpus"].tolist() == [0, 8, 8]
    assert table["stranded_share"].tolist() == [0.0, 8 / 40, 8 / 72]


def _enumerated(counts: list[int], halls_gpus: int, site_gpus: int, gpus: int) -> int:
    """Most GPUs in clusters, by trying every number of hall zones in every hall."""
    need_h, need_s = math.ceil(halls_gpus / gpus), math.ceil(site_gpus / gpus)
    best = 0
    for zones in itertools.product(*(range(n // need_h + 1) for n in counts)):
        left = sum(counts) - need_h * sum(zones)
        best = max(best, (need_h * sum(zones) + need_s * (left // need_s)) * gpus)
    return best


@pytest.mark.parametrize("seed", range(30))
def test_random_fleets_match_the_enumeration(seed):
    rnd = random.Random(seed)
    n_halls = rnd.randint(1, 3)
    counts = [rnd.randint(0, 40) for _ in range(n_halls)]
    gpus = rnd.choice([4, 8])
    kinds = [zone(rnd.choice([16, 24, 40, 64])), building(rnd.choice([32, 56, 96, 128]))]
    halls = [hall(f"h{i}", positions=50) for i in range(n_halls)]
    data = scenario([rack(gpus=gpus)], halls, clusters=kinds)
    plan = plan_of(data, {(f"h{i}", "a", "P0"): n for i, n in enumerate(counts) if n})
    row = stranded(plan).iloc[0]
    want = _enumerated(counts, kinds[0]["gpus"], kinds[1]["gpus"], gpus)
    assert row.clustered_gpus == want
    assert row.gpus - row.stranded_gpus == want
