"""Training clusters (MODEL.md section 5) on cases small enough to work out by hand: each
optimum stated by hand, found by the exhaustive search (tests/bruteforce.py, which shares
no code with the model), and reached exactly by the planner with HiGHS and with CBC; then
Plan.verify() names the broken rule when a solved plan's clusters table is tampered with.

Defaults as in tests/builders.py: rack ``a`` is 8 GPUs, 10 kW, 10 PFLOPS, $1M, one position;
hall ``h1`` has 4 positions and room to spare on everything else.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pytest
from bruteforce import search
from builders import M, hall, option, rack, scenario

import planner
from planner.plan import Plan
from planner.plan import accounting as acc

TWO = ("P0", "P1")


def zone(gpus: int, name: str = "zone", **kw) -> dict:
    return {"name": name, "gpus": gpus, "domain": "hall"} | kw


def building(gpus: int, name: str = "bld", **kw) -> dict:
    return {"name": name, "gpus": gpus, "domain": "site"} | kw


@dataclass
class Case:
    id: str
    data: dict
    objective: float
    spend: float
    clusters: dict | None = None  # {(kind, hall or site, rack type, period): count}
    racks: dict | None = None  # {(hall, period, rack type): racks}


CASES = [
    # A 32-GPU zone takes 4 racks of a (8 GPUs); the hall's 30 kW hold 3 (10 kW each): only
    # with the 10 kW power unit ($100k) does a zone fit. Clustered compute: 40 PFLOPS, $4.1M.
    # (Without the unit nothing is clustered, so nothing is bought.)
    Case(
        "hall-cluster-needs-a-retrofit",
        scenario(
            [rack()],
            [hall(power_kw=30)],
            [option("pw", "power", 10, 1e5, max_units=1)],
            clusters=[zone(32)],
            compute_counts="clustered",
        ),
        objective=40,
        spend=4.1 * M,
        clusters={("zone", "h1", "a", "P0"): 1},
        racks={("h1", "P0", "a"): 4},
    ),
    # A 32-GPU building cluster (site domain) takes 4 racks; two halls of 2 positions hold
    # them together (no hall alone could): 2 + 2 racks, one cluster, 40 PFLOPS, $4M.
    Case(
        "site-cluster-over-two-halls",
        scenario(
            [rack()],
            [hall("h1", positions=2), hall("h2", positions=2)],
            clusters=[building(32)],
            compute_counts="clustered",
        ),
        objective=40,
        spend=4 * M,
        clusters={("bld", "s1", "a", "P0"): 1},
        racks={("h1", "P0", "a"): 2, ("h2", "P0", "a"): 2},
    ),
    # Racks belong to at most one cluster. Halls of 4 and 2 positions; a 24-GPU zone (3
    # racks, one hall) and a 40-GPU building (5 racks, the site). Sharing racks would give a
    # zone and a building on 6 racks (80 PFLOPS); disjoint, the best is the building alone:
    # 5 racks, 50 PFLOPS, $5M (a 6th rack could join no cluster).
    Case(
        "a-rack-is-in-one-cluster",
        scenario(
            [rack()],
            [hall("h1", positions=4), hall("h2", positions=2)],
            clusters=[zone(24), building(40)],
            compute_counts="clustered",
        ),
        objective=50,
        spend=5 * M,
        clusters={("bld", "s1", "a", "P0"): 1},
    ),
    # min_cost with cluster targets only: 1 then 2 zones of 16 GPUs. Two a racks ($2M) or one
    # b rack (16 GPUs, $1.5M) make a zone: one b in P0, another in P1: $3M.
    Case(
        "cluster-targets-at-least-cost",
        scenario(
            [rack(), rack("b", gpus=16, capex_usd=1.5 * M)],
            periods=TWO,
            objective="min_cost",
            clusters=[zone(16, targets=[1, 2])],
        ),
        objective=3 * M,
        spend=3 * M,
        clusters={("zone", "h1", "b", "P0"): 1, ("zone", "h1", "b", "P1"): 2},
        racks={("h1", "P0", "b"): 1, ("h1", "P1", "b"): 2},
    ),
    # The same hall, counted two ways: 5 positions, a 24-GPU zone of 3 racks. compute_counts
    # all: every rack counts: 5 racks, 50 PFLOPS, $5M. clustered: only the zone's 3 racks
    # count, and the least-spend tie-break buys no other: 30 PFLOPS, $3M.
    Case(
        "compute-counts-all",
        scenario([rack()], [hall(positions=5)], clusters=[zone(24)], compute_counts="all"),
        objective=50,
        spend=5 * M,
        racks={("h1", "P0", "a"): 5},
    ),
    Case(
        "compute-counts-clustered",
        scenario([rack()], [hall(positions=5)], clusters=[zone(24)], compute_counts="clustered"),
        objective=30,
        spend=3 * M,
        clusters={("zone", "h1", "a", "P0"): 1},
        racks={("h1", "P0", "a"): 3},
    ),
    # Lead times: a (8 GPUs, 10 PFLOPS) from P0, b (16 GPUs, 25 PFLOPS) from P1; a 32-GPU
    # zone is 4 a or 2 b; 4 positions. A zone of a in P0 fills the hall for good: 40 + 40 = 80.
    # Waiting for b: two zones of b in P1, 100. Optimum 100, $4M.
    Case(
        "cluster-rack-lead-time",
        scenario(
            [rack(), rack("b", gpus=16, pflops=25, lead_periods=1)],
            periods=TWO,
            clusters=[zone(32)],
            compute_counts="clustered",
        ),
        objective=100,
        spend=4 * M,
        clusters={("zone", "h1", "b", "P1"): 2},
        racks={("h1", "P1", "b"): 4},
    ),
]


def cluster_counts(plan: Plan) -> dict:
    return {
        (row.kind, row.hall or row.site, row.rack_type, row.period): int(row.count)
        for row in plan.clusters.itertuples(index=False)
        if row.count
    }


def rack_counts(plan: Plan) -> dict:
    out: Counter = Counter()
    for row in plan.racks.itertuples(index=False):
        out[row.hall, row.period, row.rack_type] += int(row.count)
    return {k: v for k, v in out.items() if v}


@cache
def _scenario(case_id: str) -> planner.Scenario:
    c = next(c for c in CASES if c.id == case_id)
    return planner.Scenario.model_validate(copy.deepcopy(c.data))


@cache
def _solved(case_id: str, solver: str = "highs") -> Plan:
    return planner.solve(_scenario(case_id), solver=solver, mip_gap=0)


def _check(c: Case, plan: Plan) -> None:
    assert plan.objective == pytest.approx(c.objective, rel=1e-9)
    assert plan.total_spend_usd == pytest.approx(c.spend, rel=1e-9)
    if c.clusters is not None:
        assert cluster_counts(plan) == c.clusters
    if c.racks is not None:
        assert rack_counts(plan) == c.racks


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_bruteforce_finds_the_hand_optimum(c: Case):
    plan = search(_scenario(c.id)).plan
    assert plan.status == "optimal"
    assert plan.verify() == []
    _check(c, plan)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_planner_finds_the_exact_optimum(c: Case, solver: str):
    plan = _solved(c.id, solver)
    assert plan.status == "optimal", plan.message
    assert plan.verify() == []
    _check(c, plan)


def test_an_unreachable_cluster_target_is_infeasible():
    data = scenario([rack()], clusters=[zone(24, targets=[2])], objective="min_cost")
    sc = planner.Scenario.model_validate(data)  # 2 zones need 6 racks; the hall holds 4
    assert search(sc).plan.status == "infeasible"
    plan = planner.solve(sc)
    assert plan.status == "infeasible"
    assert plan.verify() == []


def test_clusters_survive_the_plan_file():
    plan = _solved("a-rack-is-in-one-cluster")
    again = Plan.from_json(plan.to_json())
    pd.testing.assert_frame_equal(again.clusters, plan.clusters, check_dtype=False)
    assert again.verify() == []
    assert again.summary()["clusters"].tolist() == ["1 bld"]


# -- tampering: verify() names the broken rule ------------------------------------------------
def _tampered(case_id: str, change) -> Plan:
    plan = _solved(case_id)
    clusters = plan.clusters.copy()
    change(clusters)
    out = Plan.from_tables(
        plan.scenario, plan.racks.copy(), plan.retrofits.copy(), plan.halls.copy(),
        clusters=clusters,
    )  # fmt: skip
    return out


def _set(period: str | None = None, **values):
    """Set ``values`` on the clusters rows of ``period`` (every row when None)."""

    def change(df: pd.DataFrame) -> None:
        rows = df.index if period is None else df.index[df["period"] == period]
        for column, value in values.items():
            df.loc[rows, column] = value

    return change


TAMPERING = [
    # two zones (6 racks) where 3 racks stand
    ("compute-counts-clustered", _set(count=2, racks=6, gpus=48), {"clusters"}),
    # rows that state other racks or GPUs than their clusters take
    ("compute-counts-clustered", _set(count=2), {"table"}),
    ("site-cluster-over-two-halls", _set(racks=3), {"table"}),
    # a kind the scenario does not have; a rack type the kind cannot use
    ("compute-counts-clustered", _set(kind="nope"), {"table"}),
    ("cluster-targets-at-least-cost", _set(rack_type="zz"), {"table"}),
    # a site-domain kind recorded in a hall
    ("site-cluster-over-two-halls", _set(hall="h1"), {"table"}),
    # one zone in P1 where the target is two
    ("cluster-targets-at-least-cost", _set("P1", count=1, racks=1, gpus=16), {"cluster_target"}),
    # the zones of P1 gone: clusters undone, and the target missed
    ("cluster-targets-at-least-cost", _set("P1", count=0, racks=0, gpus=0),
     {"cumulative", "cluster_target"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case_id", "change", "rules"), TAMPERING, ids=[f"{c}-{sorted(r)}" for c, _, r in TAMPERING]
)
def test_verify_names_the_tampered_cluster_rule(case_id, change, rules):
    plan = _tampered(case_id, lambda df: None)
    assert plan.verify() == []
    assert {v.rule for v in _tampered(case_id, change).verify()} == rules


def test_the_objective_counts_only_clustered_racks():
    plan = _solved("compute-counts-clustered")
    assert acc.counted_pflops(plan.scenario, plan.racks, plan.clusters).sum() == 30
    stated = Plan.from_tables(plan.scenario, plan.racks, plan.retrofits, plan.halls)
    assert stated.objective == 0  # no clusters table: nothing counts
    assert {v.rule for v in stated.verify()} == set()  # sound, if poor


# -- the rule-of-thumb plan learns clusters ----------------------------------------------------
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_the_rule_of_thumb_forms_clusters_soundly_and_never_beats_the_optimum(c: Case):
    greedy = planner.baseline.greedy(_scenario(c.id))
    assert greedy.status == "feasible", greedy.message
    assert greedy.verify() == []
    if greedy.scenario.objective == "max_compute":
        assert greedy.objective <= c.objective + 1e-9
    else:
        assert greedy.objective >= c.objective - 1e-9


def test_the_rule_of_thumb_places_a_hall_cluster_whole():
    """By hand: the 4-rack zone needs the power unit for its 4th rack; the rule of thumb
    buys it with the block, and forms the zone (it would not place 3 racks that count for
    nothing)."""
    greedy = planner.baseline.greedy(_scenario("hall-cluster-needs-a-retrofit"))
    assert cluster_counts(greedy) == {("zone", "h1", "a", "P0"): 1}
    assert rack_counts(greedy) == {("h1", "P0", "a"): 4}
    assert greedy.objective == 40


# -- explaining and diagnosing clusters --------------------------------------------------------
def test_an_unreachable_cluster_target_is_diagnosed_with_the_limits_behind_it():
    """Two 24-GPU zones need 6 racks where the hall holds 4: the target is short by one
    cluster, and behind it the hall's space by 2 positions."""
    data = scenario([rack()], clusters=[zone(24, targets=[2])], objective="min_cost")
    plan = planner.solve(planner.Scenario.model_validate(data))
    assert plan.status == "infeasible"
    short = plan.diagnosis.set_index("stage")
    assert short.loc["shortfall", "rule"] == "cluster_target"
    assert short.loc["shortfall", "shortfall"] == pytest.approx(1)
    assert "zone clusters, P0: target short by 1 cluster" in short.loc["shortfall", "message"]
    assert short.loc["behind target", "rule"] == "space"
    assert short.loc["behind target", "shortfall"] == pytest.approx(2)
    assert "zone clusters, P0: target short by 1 cluster" in plan.message


def test_what_stops_the_next_cluster():
    """By hand: the hall holds 4 racks on 30 kW + the 10 kW unit it may buy once; one more
    4-rack zone needs 4 more racks: 40 kW of power and 4 positions more."""
    from planner.insight.clusters import next_clusters

    plan = _solved("hall-cluster-needs-a-retrofit")
    row = next_clusters(plan).iloc[0]
    assert (row.kind, row.hall, row.rack_type, row.racks_needed) == ("zone", "h1", "a", 4)
    assert row.stops.split("; ") == ["power", "space"]
    assert row.message == (
        "one more zone in hall h1 needs 4 more a racks: power short by 40 kW in hall h1 in "
        "P0, space short by 4 positions in hall h1 in P0"
    )
    why = plan.explain()
    assert any(
        s.startswith("One more zone in hall h1 needs 4 more a racks") for s in why.findings()
    )


# -- pictures ------------------------------------------------------------------------------------
def test_the_cluster_map_draws_one_block_per_cluster(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.patches import Rectangle

    import planner.plots

    plan = _solved("cluster-targets-at-least-cost")  # one zone from P0, a second from P1
    ax = planner.plots.cluster_map(plan)
    blocks = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sorted((b.get_x() + 0.45, b.get_width() + 0.1) for b in blocks) == [(0, 2), (1, 1)]
    assert [t.get_text() for t in ax.texts].count("zone · b") == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["s1/h1"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["zone", "b"]


def test_the_timeline_stacks_by_cluster_kind():
    import planner.analysis

    tl = planner.analysis.timeline(_solved("compute-counts-all"))
    rows = tl.by_cluster.set_index("cluster")
    # 5 racks of 8 GPUs: no cluster formed (every rack counts, nothing asks for one)
    assert rows.loc["not in a cluster", "gpus"] == 40
    tl = planner.analysis.timeline(_solved("compute-counts-clustered"))
    rows = tl.by_cluster.set_index("cluster")
    assert rows.loc["zone", "gpus"] == 24 and rows.loc["not in a cluster", "gpus"] == 0


def test_planner_plot_clusters_writes_the_map(tmp_path):
    from builders import invoke

    config = tmp_path / "c.yaml"
    import yaml

    config.write_text(yaml.safe_dump(CASES[1].data), encoding="utf-8")
    result = invoke("plot", "clusters", config, "--out", tmp_path / "clusters.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clusters.png").stat().st_size > 1000


def test_planner_solve_writes_the_clusters_table_and_every_plot_of_a_clustered_plan(tmp_path):
    # cluster targets per period: the pictures made from one period (feasible build-outs)
    # drop the clusters rather than fail on targets of the wrong length
    import yaml
    from builders import invoke

    data = next(c for c in CASES if c.id == "cluster-targets-at-least-cost").data
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("solve", config, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "clusters.csv")
    assert list(table.columns) == list(acc.CLUSTER_COLUMNS)
    assert table["count"].tolist() == [1, 2]
    assert {"timeline.png", "utilisation.png", "clusters.png"} <= {p.name for p in out.iterdir()}


def test_a_snapshot_keeps_no_clusters():
    from planner.analysis import snapshot_scenario

    sc = planner.Scenario.model_validate(
        next(c for c in CASES if c.id == "cluster-targets-at-least-cost").data
    )
    snap = snapshot_scenario(sc, 1)
    assert snap.clusters is None and snap.compute_counts == "all"
