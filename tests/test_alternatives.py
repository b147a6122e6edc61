"""Near-optimal alternatives: each is within the slack, verifies, and takes its metric to
its best, checked by hand and against the exhaustive search on random small scenarios."""

from __future__ import annotations

import contextlib
import math
import random

import pandas as pd
import pytest
from bruteforce import feasible_plans, search
from builders import M, hall, invoke, liquid, option, rack, scenario
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from test_exact import scenarios, shrunk

import planner
from planner.plan.metrics import METRICS, plan_metrics
from planner.solving import SolveOptions
from planner.solving.alternatives import parse_metric, solve_alternative
from planner.sweeps.alternatives import TABLE_COLUMNS, parse_slack

EXACT = SolveOptions(mip_gap=0.0)


def small_fleet(**top) -> planner.Scenario:
    """Three halls of 2 positions; rack a (air, 10 PFLOPS, $1M); a liquid rack (12
    PFLOPS, $1M) needs a $1M CDU in its hall; $3M in all."""
    doc = scenario(
        [rack("a"), liquid("liq", pflops=12)],
        halls=[hall("h1", positions=2), hall("h2", positions=2), hall("h3", positions=2)],
        retrofits=[option("cdu", "cdu", 100, 1 * M)],
        **({"budget_usd_total": 3 * M} | top),
    )
    return planner.Scenario.model_validate(doc)


def alternative(sc, metric: str, slack: float) -> planner.Plan:
    optimum = planner.solve(sc, EXACT)
    plan = solve_alternative(sc, optimum, slack, *parse_metric(metric), EXACT)
    assert plan.status == "optimal" and plan.verify() == []
    return plan


def test_hand_case_halls_touched():
    """The optimum is 3 air racks (30 PFLOPS, $3M) over 2 or 3 halls (2 positions each).
    Within 0: at least 2 halls, at most 3. Within 1/3 (>= 20 PFLOPS): 2 racks fit in one
    hall, and the most compute in one hall is a CDU and 2 liquid racks: 24 PFLOPS, $3M."""
    sc = small_fleet()
    fewest = alternative(sc, "halls_touched", 0.0)
    assert plan_metrics(fewest)["halls_touched"] == 2 and fewest.objective == 30
    most = alternative(sc, "max:halls_touched", 0.0)
    assert plan_metrics(most)["halls_touched"] == 3 and most.objective == 30
    one = alternative(sc, "halls_touched", 1 / 3)
    assert plan_metrics(one)["halls_touched"] == 1
    assert one.objective == 24 and one.total_spend_usd == 3 * M


def test_hand_case_liquid_share_and_spend():
    """Within 1/3 (>= 20 PFLOPS): the most liquid share is one hall with a CDU and 2
    liquid racks ($3M, 24 PFLOPS, share 1); the least spend is 2 air racks ($2M, 20); the
    least liquid share is 0, at the optimum's 30 PFLOPS; CDU units fewest is 0."""
    sc = small_fleet()
    liquid_plan = alternative(sc, "liquid_share", 1 / 3)
    assert plan_metrics(liquid_plan)["liquid_share"] == 1.0
    assert liquid_plan.objective == 24 and liquid_plan.total_spend_usd == 3 * M
    assert plan_metrics(liquid_plan)["cdu_units"] == 1
    cheapest = alternative(sc, "spend_usd", 1 / 3)
    assert cheapest.total_spend_usd == 2 * M and cheapest.objective == 20
    air = alternative(sc, "min:liquid_share", 1 / 3)
    assert plan_metrics(air)["liquid_share"] == 0 and air.objective == 30


def test_hand_case_min_cost_slack_is_on_spend():
    """min_cost with a 16-GPU target: the least cost is 2 air racks ($2M). Within 50%
    ($3M), the most liquid share is a CDU and 2 liquid racks ($3M); within 0 it is 0."""
    sc = small_fleet(objective="min_cost", gpu_targets=[16], budget_usd_total=None)
    plan = alternative(sc, "liquid_share", 0.5)
    assert plan_metrics(plan)["liquid_share"] == 1.0 and plan.total_spend_usd == 3 * M
    assert plan_metrics(alternative(sc, "liquid_share", 0.0))["liquid_share"] == 0.0


def test_cpu_racks_retired_and_sites_used():
    """Two sites, one hall each of 2 positions holding 1 CPU rack that may be retired
    ($0.1M); $2.2M in all buys 2 racks. The optimum retires one CPU rack (2 racks in one
    hall) or none (1 rack per site): within 0, the fewest retired is 0 (2 sites used) and
    the fewest sites is 1 (1 retired)."""
    cpu = {"count": 1, "power_kw": 5, "network_gbps": 10, "retire_cost_usd": 0.1 * M}
    doc = scenario([rack("a")], halls=[hall("h1", positions=2, cpu_racks=cpu)],
                   budget_usd_total=2.2 * M)  # fmt: skip
    doc["sites"].append(doc["sites"][0] | {"name": "s2"})
    sc = planner.Scenario.model_validate(doc)
    kept = alternative(sc, "cpu_racks_retired", 0.0)
    assert plan_metrics(kept)["cpu_racks_retired"] == 0 and plan_metrics(kept)["sites_used"] == 2
    one_site = alternative(sc, "sites_used", 0.0)
    assert plan_metrics(one_site)["sites_used"] == 1
    assert plan_metrics(one_site)["cpu_racks_retired"] == 1 and one_site.objective == 20


def test_an_option_without_max_units_is_not_capped_below_what_the_plan_needs():
    """Ten 40 kW air racks above the hall's 30 kW air limit each need a 50 kW rear door
    (no max_units); 3 doors are installed. Counting halls touched bounds such an option's
    units by what the hall could use: ten doors for ten racks (not 10 x 40 / 50), above
    what is installed, or the optimum would be cut off."""
    doc = scenario([rack("a", power_kw=40)],
                   halls=[hall("h1", positions=10, max_air_rack_kw=30,
                               installed={"door": 3})],
                   retrofits=[option("door", "rdhx", 50, 0.1 * M)])  # fmt: skip
    sc = planner.Scenario.model_validate(doc)
    plan = alternative(sc, "halls_touched", 0.0)
    assert plan.objective == 100 and plan_metrics(plan)["halls_touched"] == 1
    assert plan.retrofits["units"].max() == 10


def test_table_has_the_optimum_and_every_alternative_checked():
    """Slack 0: every alternative's objective is the optimum's (the optimum is among the
    candidates), each verifies, and the table lists the optimum first. Solved in worker
    processes."""
    sc = small_fleet()
    found = planner.alternatives(sc, slack=0, workers=2, progress=False)
    table, plans = found
    assert list(table.columns) == TABLE_COLUMNS
    assert list(table["alternative"]) == ["optimum"] + [
        f"{METRICS[name][1]} {name}" for name in METRICS
    ]
    assert (table["status"] == "optimal").all()
    assert table["verified"].all() and table["within_slack"].all()
    assert (table["objective"] == found.optimum.objective).all()
    assert set(plans) == set(table["alternative"])
    for name, plan in plans.items():
        row = table.set_index("alternative").loc[name]
        assert row["halls_touched"] == plan_metrics(plan)["halls_touched"]
        assert plan.verify() == []


def test_alternatives_in_this_process_match_worker_processes():
    sc = small_fleet()
    metrics = ["halls_touched", "max:liquid_share"]
    here = planner.alternatives(sc, "20%", metrics, workers=1, progress=False).table
    there = planner.alternatives(sc, 0.2, metrics, workers=2, progress=False).table
    pd.testing.assert_frame_equal(here.drop(columns="solve_seconds"),
                                  there.drop(columns="solve_seconds"))  # fmt: skip


def test_dask_local_cluster_gives_the_same_alternatives():
    distributed = pytest.importorskip("distributed")
    sc = small_fleet()
    metrics = ["halls_touched", "spend_usd"]
    local = planner.alternatives(sc, 0.2, metrics, workers=1, progress=False).table
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 host="127.0.0.1", dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        on_dask = planner.alternatives(sc, 0.2, metrics, client=client, progress=False).table
    pd.testing.assert_frame_equal(on_dask.drop(columns="solve_seconds"),
                                  local.drop(columns="solve_seconds"))  # fmt: skip


def test_infeasible_scenario_gives_the_optimum_row_alone():
    sc = small_fleet(objective="min_cost", gpu_targets=[1000], budget_usd_total=None)
    found = planner.alternatives(sc, progress=False, workers=1)
    assert list(found.table["alternative"]) == ["optimum"]
    assert found.table["status"].iloc[0] == "infeasible"
    assert "no plan" in found.table["error"].iloc[0]


@pytest.mark.parametrize(
    ("value", "share"), [(0.02, 0.02), ("2%", 0.02), ("0.1", 0.1), (0, 0.0), ("0%", 0.0)]
)
def test_slack_is_a_share_or_a_percentage(value, share):
    assert parse_slack(value) == pytest.approx(share)


@pytest.mark.parametrize("value", ["-1%", "100%", "1", "abc", "nan", -0.1])
def test_bad_slacks_are_refused_with_a_reason(value):
    with pytest.raises(ValueError, match="slack"):
        parse_slack(value)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("halls", "unknown metric 'halls'"), ("best:cdu_units", "'min' or 'max'"), (3, "a name")],
)
def test_bad_metrics_are_refused_naming_the_known_ones(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_metric(spec)


def test_cli_prints_the_table_and_writes_every_plan(tmp_path):
    path = tmp_path / "fleet.json"
    path.write_text(small_fleet().model_dump_json())
    result = invoke("alternatives", path, "--slack", "34%", "--metric",
                    "halls_touched", "--metric", "max:liquid_share", "--workers", "1",
                    "--out", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "min halls" in result.output and "max liquid" in result.output
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"alternatives.csv", "alternatives.png", "plan-optimum.json"} <= written
    assert "plan-min-halls_touched.json" in written
    table = pd.read_csv(tmp_path / "out" / "alternatives.csv")
    assert table.loc[table["alternative"] == "min halls_touched", "halls_touched"].item() == 1
    back = planner.Plan.from_json(tmp_path / "out" / "plan-max-liquid_share.json")
    assert back.verify() == [] and plan_metrics(back)["liquid_share"] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--slack", "2 percent"], "slack"), (["--metric", "floors"], "unknown metric")],
)
def test_cli_bad_options_exit_2_with_the_reason(tmp_path, args, message):
    path = tmp_path / "fleet.json"
    path.write_text(small_fleet().model_dump_json())
    result = invoke("alternatives", path, *args)
    assert result.exit_code == 2 and message in result.output


def test_plot_draws_every_plan_with_a_solution():
    import matplotlib

    matplotlib.use("Agg")
    found = planner.alternatives(small_fleet(), 0.2, ["halls_touched"], progress=False)
    ax = found.plot()
    assert len(ax.get_legend().get_texts()) == 2
    assert len(ax.patches) == 2 * (1 + len(METRICS))
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


# -- against the exhaustive search --------------------------------------------------------
#: metrics checked on random scenarios: every default sense and the bounded other senses
SPECS = [(name, sense) for name, (_u, sense, _d) in METRICS.items()]
SPECS += [("halls_touched", "max"), ("sites_used", "max"), ("liquid_share", "min")]


def _event(text: str) -> None:
    """A hypothesis event, when run under hypothesis."""
    with contextlib.suppress(InvalidArgument):
        event(text)


def check_against_enumeration(data: dict, spec: tuple[str, str], slack: float) -> bool:
    """The alternative's metric is the best any plan within the slack has; with the metric
    there, its objective is the best, and (max_compute) its spend the least. True when the
    metric moved away from the optimum's."""
    sc = planner.Scenario.model_validate(data)
    best = search(sc).plan
    if best.status == "infeasible":
        _event("infeasible")
        return False
    name, sense = spec
    top = best.objective
    tol = 1e-6 * max(abs(top), 1.0)
    maximise = sc.objective == "max_compute"

    def keep(compute, spend):
        return compute >= (1 - slack) * top - tol if maximise else spend <= (1 + slack) * top + tol

    rows = [(plan_metrics(p)[name], p.objective, p.total_spend_usd)
            for p in feasible_plans(sc, keep)]  # fmt: skip
    pick = max if sense == "max" else min
    mu = pick(r[0] for r in rows)
    level = [r for r in rows if math.isclose(r[0], mu, rel_tol=1e-9, abs_tol=1e-9)]
    objective = (max if maximise else min)(r[1] for r in level)
    spend = min(r[2] for r in level if math.isclose(r[1], objective, rel_tol=1e-9, abs_tol=1e-6))
    optimum = planner.solve(sc, EXACT)
    assert optimum.objective == pytest.approx(top, rel=1e-9, abs=1e-6)
    plan = solve_alternative(sc, optimum, slack, name, sense, EXACT)
    assert plan.status == "optimal", plan.message
    assert plan.verify() == []
    got = plan_metrics(plan)
    assert got[name] == pytest.approx(mu, rel=1e-9, abs=1e-9), (name, sense, got, mu)
    assert plan.objective == pytest.approx(objective, rel=1e-9, abs=1e-6)
    if maximise:
        assert plan.total_spend_usd == pytest.approx(spend, rel=1e-9, abs=1e-3)
    moved = not math.isclose(mu, plan_metrics(optimum)[name], abs_tol=1e-9)
    _event(f"{sense} {name}: {'moved' if moved else 'as optimum'}")
    return moved


def fleet(seed: int) -> dict:
    """Two or three small halls on one or two sites, an air and a liquid rack type, a CDU
    option, CPU racks that may be retired and a budget or GPU targets: scenarios where
    the metrics differ between plans of about the same compute."""
    rng = random.Random(seed)
    periods = ["P1", "P2"][: rng.choice([1, 1, 2])]
    air = rack("a", pflops=rng.choice([8, 10, 12]), capex_usd=rng.choice([0.5 * M, 1 * M]))
    wet = liquid("l", pflops=rng.choice([10, 12, 16]), capex_usd=1 * M)
    cdu = option("cdu", "cdu", rng.choice([40, 80]), rng.choice([0.5 * M, 1 * M]), max_units=1)
    halls = []
    for i in range(rng.choice([2, 3])):
        kw = {"positions": rng.choice([1, 2]), "power_kw": rng.choice([30, 1000, 1000])}
        if rng.random() < 0.4:
            kw["positions"] += 1
            kw["cpu_racks"] = {"count": 1, "power_kw": 5, "network_gbps": 10,
                               "retire_cost_usd": 0.1 * M}  # fmt: skip
        halls.append(hall(f"h{i}", **kw))
    objective = rng.choice(["max_compute", "max_compute", "min_cost"])
    doc = scenario([air, wet], halls=halls[:2], retrofits=[cdu], periods=periods,
                   objective=objective)  # fmt: skip
    if len(halls) == 3:
        if rng.random() < 0.5:
            doc["sites"].append(doc["sites"][0] | {"name": "s2", "halls": halls[2:]})
        else:
            doc["sites"][0]["halls"].append(halls[2])
    if objective == "min_cost":
        doc["gpu_targets"] = sorted(rng.choice([8, 16, 24]) for _ in periods)
    else:
        doc["budget_usd_total"] = rng.choice([2 * M, 3 * M, 4 * M])
    return shrunk(doc, limit=8000)


def test_alternatives_on_seeded_fleets_match_the_exhaustive_search():
    """Ninety seeded fleets, each with one metric and a slack in turn; in enough of them
    the alternative's metric differs from the optimum's for the check to bite."""
    moved = 0
    for seed in range(90):
        spec, slack = SPECS[seed % len(SPECS)], (0.3, 0.1, 0.0, 0.3)[seed % 4]
        moved += check_against_enumeration(fleet(seed), spec, slack)
    assert moved >= 10, moved  # 13 of 90 when written


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(
    scenarios().map(lambda d: shrunk(d, limit=4000)),
    st.sampled_from(SPECS),
    st.sampled_from([0.3, 0.1, 0.0]),
)
def test_alternatives_match_the_exhaustive_search(data, spec, slack):
    check_against_enumeration(data, spec, slack)
