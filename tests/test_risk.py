"""Late deliveries: stress tests of a plan and plans that hedge them, by hand and against
the exhaustive search (retrofit choices enumerated, racks searched per delivery case)."""

from __future__ import annotations

import itertools

import pytest
from bruteforce import decision_space, search
from builders import M, hall, invoke, option, rack, scenario
from test_alternatives import fleet

import planner
from planner import ScenarioError
from planner.solving.hedge import cases_of

EXACT = {"mip_gap": 0.0}


def power_case(**top) -> planner.Scenario:
    """Three periods; one hall with 10 kW of power and room for 2 racks of 10 kW (10
    PFLOPS, $1M); a 10 kW power unit costs $1M. On time: the unit and 2 racks from P0,
    60 PFLOPS-periods for $3M."""
    doc = scenario(
        [rack("a")],
        halls=[hall("h1", positions=2, power_kw=10)],
        retrofits=[option("pw", "power", 10, 1 * M, max_units=1)],
        periods=("P0", "P1", "P2"),
        **top,
    )
    return planner.Scenario.model_validate(doc)


def test_slipped_moves_lead_times_and_drops_targets_a_slip_makes_late():
    sc = power_case(gpu_targets=[8, 16, 16])
    late = planner.slipped(sc, {"rack_types[*].lead_periods": 1, "rack_types[a].lead_periods": 1})
    assert late.rack_types[0].lead_periods == 2
    assert late.gpu_targets is None
    assert planner.slipped(sc, {"rack_types[*].lead_periods": 0}) is sc


@pytest.mark.parametrize(
    ("slips", "message"),
    [
        ({"retrofits[pw].lead_periods": 1}, "rack_types[*].lead_periods"),
        ({"rack_types[b].lead_periods": 1}, "rack types: a"),
        ({"rack_types[a].lead_periods": -1}, "whole number of periods >= 0"),
        ({"rack_types[a].lead_periods": 0.5}, "whole number of periods >= 0"),
    ],
)
def test_bad_slips_are_named_by_their_path(slips, message):
    with pytest.raises(ScenarioError) as err:
        planner.slipped(power_case(), slips)
    (problem,) = err.value.problems
    assert problem.path == next(iter(slips)) and message in problem.message


def test_stress_by_hand():
    """One period late: the unit is held (paid in P0), the racks come from P1: 40
    PFLOPS-periods, 20 lost in P0; $2M of racks move from P0 to P1."""
    sc = power_case()
    plan = planner.solve(sc)
    assert plan.objective == 60 and plan.total_spend_usd == 3 * M
    hit = planner.stress(plan, {"rack_types[a].lead_periods": 1})
    assert hit.plan.status == "optimal" and hit.plan.verify() == []
    assert hit.plan.objective == 40 and hit.lost_pflops_periods == 20
    table = hit.table.set_index("period")
    assert list(table["pflops_lost"]) == [20, 0, 0]
    assert list(table["spend_planned_usd"]) == [3 * M, 0, 0]
    assert list(table["spend_stressed_usd"]) == [1 * M, 2 * M, 0]
    assert list(table["spend_change_usd"]) == [-2 * M, 2 * M, 0]
    assert hit.plan.retrofits.equals(plan.retrofits)


def test_stress_holds_only_units_ordered_before_the_slip_is_known():
    """The power unit has a lead time of 1 (in place from P1, ordered in P0); rack a 0.
    The plan: 1 rack from P0, the unit and a second rack from P1 (50 PFLOPS-periods, $3M).
    Racks three periods late come after the horizon: nothing operates. Known in P0, no
    unit is committed: the stress is the slipped scenario's own optimum, nothing bought.
    Known in P1 (or held whole, the default): the unit ordered in P0 is paid."""
    doc = scenario(
        [rack("a")],
        halls=[hall("h1", positions=2, power_kw=10)],
        retrofits=[option("pw", "power", 10, 1 * M, max_units=1, lead_periods=1)],
        periods=("P0", "P1", "P2"),
        budget_usd_total=3 * M,
    )
    sc = planner.Scenario.model_validate(doc)
    plan = planner.solve(sc)
    assert plan.objective == 50 and plan.total_spend_usd == 3 * M
    slips = {"rack_types[a].lead_periods": 3}
    free = planner.stress(plan, slips, known="P0")
    assert free.plan.objective == 0 and free.plan.total_spend_usd == 0
    assert free.plan.verify() == [] and free.lost_pflops_periods == 50
    for held in (planner.stress(plan, slips, known="P1"), planner.stress(plan, slips)):
        assert held.plan.objective == 0 and held.plan.total_spend_usd == 1 * M
        assert held.plan.verify() == []
        assert list(held.table["spend_stressed_usd"]) == [0, 1 * M, 0]
    with pytest.raises(ValueError, match="not a period"):
        planner.stress(plan, slips, known="P9")


def _unit_choices(sc: planner.Scenario) -> list[dict]:
    """Every choice of retrofit units over the periods (the first-stage decisions)."""
    units = [v for v in decision_space(sc) if v.kind in ("unit", "site_unit")]
    return [
        {(v.kind, v.key): seq for v, seq in zip(units, combo, strict=True)}
        for combo in itertools.product(*(v.seqs for v in units))
    ]


def _best_with(sc: planner.Scenario, fixed: dict) -> float:
    """The most compute (PFLOPS-periods) with the retrofits pinned, or -inf."""
    found = search(sc, fixed=fixed).plan
    return found.objective if found.has_plan else float("-inf")


def _plan_units(sc: planner.Scenario, plan: planner.Plan) -> dict:
    """A plan's retrofit units as pinned decisions of the exhaustive search."""
    fixed = {}
    for v in decision_space(sc):
        if v.kind not in ("unit", "site_unit"):
            continue
        where, o = v.key
        option = sc.retrofits[o].name
        rows = plan.retrofits[plan.retrofits["option"] == option]
        if v.kind == "unit":
            site, hall_ = next((s, h) for i, (s, h) in enumerate(sc.halls()) if i == where)
            rows = rows[(rows["site"] == site.name) & (rows["hall"] == hall_.name)]
        else:
            rows = rows[(rows["site"] == sc.sites[where].name) & (rows["hall"] == "")]
        by_period = dict(zip(rows["period"], rows["units"], strict=True))
        fixed[v.kind, v.key] = tuple(int(by_period.get(p, v.seqs[0][0])) for p in sc.periods)
    return fixed


#: seeded fleets that maximise compute, with their delivery cases
HEDGE_SEEDS = [s for s in range(40) if fleet(s)["objective"] == "max_compute"][:8]
RISK = {0: 0.5, 1: 0.5}


@pytest.mark.parametrize("seed", HEDGE_SEEDS)
def test_stress_matches_the_exhaustive_search_with_the_retrofits_pinned(seed):
    sc = planner.Scenario.model_validate(fleet(seed))
    plan = planner.solve(sc, **EXACT)
    slips = {"rack_types[*].lead_periods": 1}
    hit = planner.stress(plan, slips, **EXACT)
    late = planner.slipped(sc, slips)
    assert hit.plan.verify() == []
    assert hit.plan.objective == pytest.approx(_best_with(late, _plan_units(late, plan)))


@pytest.mark.parametrize("seed", HEDGE_SEEDS)
def test_hedged_compute_is_the_best_over_every_retrofit_choice(seed):
    """Expected compute (and, with worst_case_weight 1, the worst case's) equals the best,
    over every choice of retrofits, of the cases' exhaustive optima with them pinned; and
    it is never below the on-time plan's, stressed in each case."""
    sc = planner.Scenario.model_validate(fleet(seed))
    cases, _ = cases_of(RISK)
    scenarios = [planner.slipped(sc, c.slips) for c in cases]
    per_choice = [[_best_with(s, fixed) for s in scenarios] for fixed in _unit_choices(sc)]
    expected = max(sum(c.weight * v for c, v in zip(cases, row, strict=True))
                   for row in per_choice)  # fmt: skip
    worst = max(min(row) for row in per_choice)
    hedge = planner.solve(sc, risk=RISK, **EXACT)
    assert hedge.status == "optimal" and hedge.verify() == []
    assert hedge.expected_pflops_periods == pytest.approx(expected, abs=1e-6)
    robust = planner.solve(sc, risk={"cases": RISK, "worst_case_weight": 1}, **EXACT)
    assert robust.worst_pflops_periods == pytest.approx(worst, abs=1e-6)
    on_time = planner.solve(sc, **EXACT)
    kept = sum(c.weight * planner.stress(on_time, c.slips, **EXACT).plan.objective
               for c in cases)  # fmt: skip
    assert hedge.expected_pflops_periods >= kept - 1e-6


def test_hedge_by_hand():
    """Hall h1 (1 position, 20 kW) and h2 (1 position, 10 kW); rack a (10 kW, 9 PFLOPS,
    lead 0), rack b (30 kW, 30 PFLOPS, lead 1), both $1M; a 20 kW power unit ($1M, h1
    only); $2M in all; periods P0-P2. Racks never leave, so a rack a in h1 keeps b out.

    On time the best is the unit and b in h1 from P1: 60 (two a racks give 54). If b comes
    one period late, with the unit held, b stands only in P2: 30; without the unit, two a
    racks give 54 whatever comes. So at 50/50 the hedge buys no unit (54 against 45, which
    is what the on-time plan keeps); at 90/10 it buys the unit (57 against 54)."""
    doc = scenario(
        [rack("a", pflops=9), rack("b", power_kw=30, pflops=30, lead_periods=1)],
        halls=[hall("h1", positions=1, power_kw=20, retrofits=["pw"]),
               hall("h2", positions=1, power_kw=10, retrofits=[])],
        retrofits=[option("pw", "power", 20, 1 * M, max_units=1)],
        periods=("P0", "P1", "P2"),
        budget_usd_total=2 * M,
    )  # fmt: skip
    sc = planner.Scenario.model_validate(doc)
    on_time = planner.solve(sc)
    assert on_time.objective == 60
    b_late = {"rack_types[b].lead_periods": 1}
    kept = planner.stress(on_time, b_late)
    assert kept.plan.objective == 30

    def risk(on_time: float) -> list[dict]:
        return [{"name": "on time", "weight": on_time},
                {"name": "b late", "weight": 1 - on_time, "slips": b_late}]  # fmt: skip

    even = planner.solve(sc, risk=risk(0.5))
    assert even.verify() == [] and even.expected_pflops_periods == 54
    assert len(even.plan.retrofits) == 0
    assert list(even.table["pflops_periods"]) == [54, 54]
    likely = planner.solve(sc, risk=risk(0.9))
    assert likely.expected_pflops_periods == pytest.approx(57)
    assert set(likely.plan.retrofits["option"]) == {"pw"}
    for plan in likely.plans.values():
        assert plan.retrofits.equals(likely.plan.retrofits)
    assert list(likely.table["case"]) == ["on time", "b late"]


def test_hedge_verify_catches_retrofits_that_differ():
    sc = power_case()
    hedge = planner.solve(sc, risk=RISK)
    late = hedge.plans["1 period late"]
    late.retrofits = late.retrofits.iloc[0:0]
    assert any("differ" in problem for problem in hedge.verify())


@pytest.mark.parametrize(
    ("risk", "path", "message"),
    [
        ({0: 0.6, 1: 0.3}, "risk", "sum to 0.9"),
        ({0: 1.0, -1: 0.0}, "risk[-1]", "periods late"),
        ([{"name": "x", "weight": 0}, {"name": "y", "weight": 1}], "risk[0].weight", "> 0"),
        ([{"name": "x", "weight": 0.5}, {"name": "x", "weight": 0.5}], "risk", "differ"),
        ({"cases": {0: 1.0}, "worst_case_weight": 2}, "risk.worst_case_weight", "0 to 1"),
        ("often", "risk", "cases as"),
    ],
)
def test_bad_risks_are_named_by_their_path(risk, path, message):
    with pytest.raises(ScenarioError) as err:
        cases_of(risk)
    assert any(p.path == path and message in p.message for p in err.value.problems), (
        err.value.problems
    )


def test_hedging_a_min_cost_scenario_is_refused():
    sc = power_case(objective="min_cost", gpu_targets=[8, 8, 8])
    with pytest.raises(ValueError, match="max_compute"):
        planner.solve(sc, risk=RISK)


def test_a_slip_past_the_horizon_leaves_no_cluster_and_round_trips(tmp_path):
    """Every rack type slipped past the last period: nothing can form the scenario's
    cluster kind, which is allowed in a slipped scenario (no cluster forms) and in the plan
    file written from it."""
    doc = scenario(
        [rack("a")],
        halls=[hall("h1", positions=2)],
        periods=("P0", "P1"),
        clusters=[{"name": "pod", "gpus": 16, "domain": "hall"}],
        compute_counts="clustered",
    )
    sc = planner.Scenario.model_validate(doc)
    plan = planner.solve(sc)
    assert plan.objective == 40
    hit = planner.stress(plan, {"rack_types[*].lead_periods": 2})
    assert hit.plan.objective == 0 and hit.lost_pflops_periods == 40
    path = tmp_path / "late.json"
    hit.plan.to_json(path)
    assert planner.Plan.from_json(path).verify() == []


def test_cli_stress_and_hedge(tmp_path):
    sc = power_case()
    plan_file = tmp_path / "plan.json"
    planner.solve(sc).to_json(plan_file)
    result = invoke("stress", plan_file, "--slip", "rack_types[a].lead_periods=1",
                    "--out", tmp_path / "late")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Lost 20 PFLOPS-periods (33.3%)" in result.output
    assert {"stress.csv", "plan.json"} <= {p.name for p in (tmp_path / "late").iterdir()}
    config = tmp_path / "case.json"
    config.write_text(sc.model_dump_json())
    result = invoke("hedge", config, "--case", "0=0.5", "--case", "1=0.5", "--out",
                    tmp_path / "hedge")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Expected 50 PFLOPS-periods, worst case 40" in result.output
    assert "plan-1-period-late.json" in {p.name for p in (tmp_path / "hedge").iterdir()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stress", "PLAN", "--slip", "retrofits[pw].lead_periods=1"], "--slip"),
        (["stress", "PLAN", "--slip", "rack_types[a].lead_periods=soon"], "--slip"),
        (["stress", "PLAN", "--slip", "rack_types[a].lead_periods=1", "--known", "P7"],
         "not a period"),
        (["hedge", "CONFIG", "--case", "0=0.5", "--case", "1=0.2"], "sum to 0.7"),
        (["hedge", "CONFIG", "--case", "soon=1"], "--case"),
    ],
)  # fmt: skip
def test_cli_risk_commands_refuse_bad_options_with_exit_2(tmp_path, args, message):
    sc = power_case()
    planner.solve(sc).to_json(tmp_path / "plan.json")
    (tmp_path / "case.json").write_text(sc.model_dump_json())
    swap = {"PLAN": tmp_path / "plan.json", "CONFIG": tmp_path / "case.json"}
    result = invoke(*(swap.get(a, a) for a in args))
    assert result.exit_code == 2, result.output
    assert message in result.output
