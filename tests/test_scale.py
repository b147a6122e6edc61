"""Fleet-scale behaviour: warm starts, time limits that keep the best plan, model size
linear in the fleet, and the benchmark's own arithmetic (never its timings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pulp
import pytest
from builders import M, option, rack, scenario

import planner
from planner import SolveOptions, baseline, synth
from planner.model import build
from planner.solving import starts
from planner.solving.solvers import run
from planner.solving.starts import start_values

ROOT = Path(__file__).resolve().parents[1]


def _fix(m, values: dict[str, float]) -> None:
    """Hold every integer variable at its value in ``values`` (0 when absent)."""
    for var in m.prob.variables():
        if var.cat == pulp.LpInteger:
            var.lowBound = var.upBound = round(values.get(var.name, 0.0))


@pytest.mark.parametrize("source", ["optimum", "greedy"])
def test_start_values_reproduce_a_plan_in_the_model(source):
    sc = synth.fleet(1, 3, 4, seed=2)
    plan = planner.solve(sc) if source == "optimum" else baseline.greedy(sc)
    assert plan.has_plan and plan.verify() == []
    m = build(sc)
    _fix(m, start_values(m, plan))
    result = run(m.prob)
    # the plan's decisions satisfy every row of the model, with the plan's compute
    assert result.status == "optimal"
    assert pulp.value(m.compute) == pytest.approx(plan.objective, rel=1e-9)


def test_a_time_limited_solve_keeps_a_plan_at_least_as_good_as_the_rule_of_thumb():
    sc = synth.fleet(2, 5, 12, seed=0)
    greedy = baseline.greedy(sc)
    # the limit covers the rule-of-thumb start (about 0.2 s here) and the solve after it
    plan = planner.solve(sc, time_limit_s=1.5, mip_gap=0.0)
    assert plan.status == "feasible", plan.message
    # a gap only against a bound the planner holds: when HiGHS is stopped before it reports
    # one (in 1.5 s that depends on the machine's speed) the gap is unknown, never made up
    assert plan.gap is None or plan.gap > 0, plan.message
    assert plan.verify() == []
    assert plan.objective >= greedy.objective - 1e-6


@pytest.fixture(scope="module")
def fleet_and_plan():
    """A 10-hall fleet and a plan of it from a longer solve."""
    sc = synth.fleet(2, 5, 12, seed=0)
    return sc, planner.solve(sc, time_limit_s=10)


def test_a_given_start_is_never_lost(fleet_and_plan, tmp_path):
    """A solve given a sound plan returns one at least as good, whatever its time; the plan
    may come as a file too."""
    sc, longer = fleet_and_plan
    assert longer.has_plan and longer.verify() == []
    for start in (longer, longer.to_json(tmp_path / "plan.json") and tmp_path / "plan.json"):
        plan = planner.solve(sc, time_limit_s=1.0, start=start)
        assert plan.verify() == [] and plan.objective >= longer.objective - 1e-6
        assert "given start" not in plan.message


def test_a_given_start_that_breaks_a_rule_of_the_scenario_is_not_used(fleet_and_plan):
    sc, longer = fleet_and_plan
    halved = [0.5 * b for b in sc.budget_usd_per_period]
    poorer = planner.Scenario.model_validate(
        {**sc.model_dump(mode="json"), "budget_usd_per_period": halved}
    )
    plan = planner.solve(poorer, time_limit_s=1.5, start=longer)
    assert plan.verify() == []
    assert "the given start breaks" in plan.message and "budget" in plan.message
    other = planner.solve(synth.fleet(1, 2, 12, seed=1), time_limit_s=1.0, start=longer)
    assert other.verify() == [] and "the given start" in other.message
    with pytest.raises(TypeError, match="start must be a Plan"):
        planner.solve(sc, start=3)


def test_the_command_line_starts_from_a_plan_file(fleet_and_plan, tmp_path):
    from conftest import write_scenario
    from typer.testing import CliRunner

    from planner.cli import app

    sc, longer = fleet_and_plan
    config = write_scenario(sc.model_dump(mode="json"), tmp_path / "fleet.yaml")
    longer.to_json(tmp_path / "start.json")
    (tmp_path / "broken.json").write_text('{"version": 1, "status": ')
    args = ["solve", str(config), "--time-limit", "1", "--no-plots", "--no-baseline"]
    good = CliRunner().invoke(app, [*args, "--start", str(tmp_path / "start.json"),
                                    "--out", str(tmp_path / "good")])  # fmt: skip
    assert good.exit_code == 0, good.output
    written = planner.Plan.from_json(tmp_path / "good" / "plan.json")
    assert written.objective >= longer.objective - 1e-6
    broken = CliRunner().invoke(app, [*args, "--start", str(tmp_path / "broken.json"),
                                      "--out", str(tmp_path / "bad")])  # fmt: skip
    assert broken.exit_code == 2, broken.output
    assert "broken.json" in broken.output and "Traceback" not in broken.output
    assert not (tmp_path / "bad").exists()


def test_model_size_is_linear_in_the_number_of_halls():
    """k copies of the same site: every variable and row but the fleet-wide budget rows
    (one per period) comes k times over."""
    doc = synth.fleet_document(1, 3, 4, seed=4)
    site = doc["sites"][0]

    def size(k: int) -> tuple[int, int, int]:
        copies = []
        for i in range(k):
            halls = [dict(h, name=f"{h['name']}-{i}") for h in site["halls"]]
            copies.append(dict(site, name=f"site-{i}", halls=halls))
        m = build(planner.scenario.validate_document(dict(doc, sites=copies)))
        rows = m.prob.constraints()
        fleet_rows = [row for row in rows if row.name.startswith("budget")]
        nonzeros = sum(len(row) for row in rows if not row.name.startswith("budget"))
        return len(m.prob.variables()), len(rows) - len(fleet_rows), nonzeros

    one, four = size(1), size(4)
    assert four == tuple(4 * n for n in one)


def _benchmark(name: str = "run"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_table_and_targets_are_consistent():
    bench = _benchmark()
    assert set(bench.SIZES) == {10, 100, 1000}
    for halls, (sites, per_site, gap, _seconds) in bench.SIZES.items():
        assert sites * per_site == halls
        assert gap == (1e-2 if halls == 1000 else 1e-3)
    row = dict(halls=10, variables=1000, constraints=2000, build_s=0.1, solve_s=1.0)
    row.update(total_s=1.2, peak_mb=100.0, gap=1e-4, build_share=0.1 / 1.2)
    row.update(build_solve_ratio=0.1, highs_solve_s=1.0, highs_gap=None)
    row.update(overhead_ratio=1.2, inner_ratio=1.1, met_time=True)
    text = bench.table([row])
    assert text.splitlines()[2].startswith("| 10 | 1,000 | 2,000 | 0.10 |")
    assert "| - |" in text  # a missing HiGHS gap is shown as '-'


def test_search_benchmark_fleets_and_table():
    bench = _benchmark("search")
    for halls, (sites, per_site, _seconds) in bench.SIZES.items():
        assert sites * per_site == halls
    row = dict(halls=100, seed=3, objective=1_950_000.0, gap=0.02, best_known=2_000_000.0)
    row.update(ratio=0.975, highs_objective=None, build_s=0.3, total_s=60.4, peak_mb=400.0)
    row.update(verified=True)
    text = bench.table([row, {**row, "seed": 4, "ratio": 0.995, "gap": 0.01}])
    assert text.splitlines()[2].startswith(
        "| 100 | 3 | 1,950,000 | 2.00% | 2,000,000 | 0.9750 | - |"
    )
    assert "median 0.9850, lowest 0.9750" in text and "median 1.50%, highest 2.00%" in text


KNOWN = sorted(bench for bench in (ROOT / "benchmarks" / "best").glob("*.json.gz"))


@pytest.mark.parametrize("path", KNOWN, ids=[p.name for p in KNOWN])
def test_every_stored_best_known_plan_is_a_sound_plan_of_its_fleet(path):
    """The best known plans the search benchmark compares with: each is a plan of the fleet
    its name says, breaks no rule, and has the objective recorded for it."""
    import gzip

    bench = _benchmark("search")
    known = bench.best_known()
    halls, seed = int(path.name.split("-")[0]), int(path.name.split("-")[-1].split(".")[0])
    plan = planner.Plan.from_json(gzip.decompress(path.read_bytes()).decode())
    assert plan.scenario == bench.fleet(halls, seed)
    assert plan.verify() == []
    entry = known[f"{halls}/{seed}"]
    assert entry["file"] == path.name and entry["how"]
    assert plan.objective == pytest.approx(entry["objective"], rel=1e-9)


@pytest.fixture
def small_neighbourhoods(monkeypatch):
    """Neighbourhood starts for models of any size (normally only large ones get them)."""
    monkeypatch.setattr(starts, "NEIGHBOURHOOD_MIN_INTEGERS", 0)


def test_small_models_get_no_neighbourhood_start():
    m = build(synth.fleet(1, 2, 3, seed=0))
    assert starts.neighbourhood_start(m, SolveOptions()) == (None, None)


def test_neighbourhood_start_is_sound_and_its_bound_is_above_the_optimum(small_neighbourhoods):
    sc = synth.fleet(1, 3, 4, seed=2)
    exact = planner.solve(sc, mip_gap=0.0)
    m = build(sc)
    values, bound = starts.neighbourhood_start(m, SolveOptions())
    assert bound is not None and values is not None
    assert bound >= exact.objective - 1e-6  # an LP relaxation bounds the MILP from above
    near = starts.objective_at(m, values)
    assert 0 < near <= exact.objective + 1e-6
    assert starts.gap_to_bound(m, near, bound) == pytest.approx((bound - near) / near)
    _fix(m, values)  # every row of the model holds at the start
    assert run(m.prob).status == "optimal"


def test_solves_with_a_neighbourhood_start_reach_the_same_optimum(small_neighbourhoods):
    sc = synth.fleet(1, 3, 4, seed=2)
    plan = planner.solve(sc, mip_gap=0.0)
    assert plan.status == "optimal" and plan.verify() == []
    assert plan.objective == pytest.approx(planner.solve(sc, mip_gap=0.0).objective)
    loose = planner.solve(sc, mip_gap=0.5)  # the start is within 50% of the LP bound: final
    assert loose.status == "optimal" and loose.gap <= 0.5 and loose.verify() == []
    assert loose.message == "within the gap of the LP bound"


def test_better_start_and_gap_follow_the_objective_sense():
    sc = synth.fleet(1, 1, 2, seed=0)
    m = build(sc)
    var, coef = next(iter(m.compute.items()))
    small, large = {var.name: 1.0}, {var.name: 2.0}
    assert starts.better(m, small, large) is large
    assert starts.better(m, None, small) is small and starts.better(m, small, None) is small
    assert starts.objective_at(m, large) == pytest.approx(2 * coef)
    assert starts.gap_to_bound(m, 90.0, 100.0) == pytest.approx(10 / 90)
    assert starts.gap_to_bound(m, 110.0, 100.0) == 0.0


def test_a_solver_that_finds_nothing_in_time_leaves_the_starting_plan(monkeypatch):
    import planner.solving.optimize as optimize
    from planner.solving.solvers import SolveResult

    sc = synth.fleet(1, 3, 4, seed=2)
    calls = []

    def no_plan(prob, options=None, start=None, relax=False):
        calls.append(start)
        if len(calls) == 1:  # the compute solve: stopped before finding a plan
            return SolveResult("error", None, None, 0.0, "Time limit reached")
        return run(prob, options, start=start, relax=relax)

    monkeypatch.setattr(optimize, "run", no_plan)
    plan = planner.solve(sc)
    greedy = baseline.greedy(sc)
    assert calls[0] is not None  # the compute solve was given the rule-of-thumb start
    assert plan.status == "feasible" and plan.gap is None
    assert "starting plan is returned" in plan.message
    assert plan.objective == pytest.approx(greedy.objective)
    assert plan.verify() == []


def test_pruning_drops_exactly_the_purchases_a_plan_does_not_need():
    """By hand: a 40 kW hall, 4 racks of 20 kW ($1M): 2 need one 40 kW power unit ($500k).
    Offered the optimum plus a second, useless power unit and a CPU rack retired for
    nothing, pruning drops both ($600k) and keeps the racks and the unit they need."""
    from planner.solving.prune import prune_spend, spend_at
    from planner.solving.readback import plan_of as _plan

    data = {
        "name": "prune",
        "periods": ["P0"],
        "rack_types": [
            {"name": "a", "gpus": 8, "power_kw": 20, "cooling": "air", "network_gbps": 10,
             "weight_kg": 500, "capex_usd": 1e6, "pflops": 10},
        ],
        "retrofits": [
            {"name": "pw", "kind": "power", "capacity": 40, "cost_usd": 5e5, "max_units": 2},
        ],
        "sites": [{"name": "s", "halls": [
            {"name": "h", "positions": 5, "power_kw": 41, "air_cooling_kw": 1000,
             "max_air_rack_kw": 50, "floor_kg_per_position": 1000, "fabric_gbps": 1000,
             "cpu_racks": {"count": 1, "power_kw": 1, "network_gbps": 1,
                           "retire_cost_usd": 1e5}},
        ]}],
    }  # fmt: skip
    sc = planner.Scenario.model_validate(data)
    m = build(sc)
    wasteful = {m.n[0, 0, 0].name: 4, m.u[0, 0, 0].name: 2, m.x[0, 0].name: 1}
    assert spend_at(m, wasteful) == pytest.approx(5.1e6)
    values, saved = prune_spend(m, wasteful)
    assert saved == pytest.approx(6e5)
    assert values[m.n[0, 0, 0].name] == 4 and values[m.u[0, 0, 0].name] == 1
    assert values[m.x[0, 0].name] == 0
    plan = _plan(m, values, "feasible", None, "", 0.0)
    assert plan.verify() == []
    assert plan.total_spend_usd == pytest.approx(4.5e6)


def test_pruning_skips_a_decision_no_rule_uses():
    """One period, no budget: a site-scope option that no rule of the hall needs (site
    water with nothing on water) is in no row of the problem, so the solver never sees it.
    Pruning (the time-limited solve's last step) once failed on it; it must keep the
    plan as it is and save nothing."""
    from planner.solving.prune import prune_spend

    doc = scenario([rack("a")], retrofits=[option("sw", "site_water", 100, 1 * M, max_units=1)])
    sc = planner.Scenario.model_validate(doc)
    m = build(sc)
    assert m.w[0, 0, 0].name not in {v.name for v in m.prob.variables()}
    start = {m.n[0, 0, 0].name: 4.0}
    values, saved = prune_spend(m, start)
    assert saved == 0 and values[m.n[0, 0, 0].name] == 4.0
    plan = planner.solve(sc, time_limit_s=0.01)
    assert plan.has_plan and plan.verify() == []


def test_pruning_a_fleet_plan_keeps_its_compute_and_soundness():
    from planner.solving.prune import prune_spend, spend_at
    from planner.solving.readback import plan_of as _plan

    sc = synth.fleet(2, 3, 6, seed=5)
    m = build(sc)
    start = starts.greedy_start(m)
    values, saved = prune_spend(m, start)
    assert saved >= 0
    assert spend_at(m, values) == pytest.approx(spend_at(m, start) - saved)
    assert starts.objective_at(m, values) == pytest.approx(starts.objective_at(m, start))
    assert _plan(m, values, "feasible", None, "", 0.0).verify() == []
