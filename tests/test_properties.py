"""Property tests: random small scenarios, solved exactly (``mip_gap=0``) with HiGHS.

Each generated scenario is a plain dict validated with ``planner.Scenario.model_validate``:
1-2 sites of 1-2 halls, 1-3 periods, 1-3 rack types (air and liquid), a random subset of
the nine retrofit kinds with ``max_units <= 4``, optional CPU racks (retirable or not),
``facility_water`` on or off, ``feed_kw`` null or a number, budgets per period (number,
list or null), an occasional total cap, occasional lead times and, for ``max_compute`` now
and then, GPU targets. Existing CPU racks always fit the hall and site
as they stand, so a ``max_compute`` scenario without targets is always feasible (the
empty plan).

The properties:

* every plan verifies clean, states the objective its tables give, stays within budget
  and (``min_cost``) meets its targets;
* more budget never gives less compute;
* removing a retrofit option never gives more compute (or a lower least cost);
* raising a GPU target never lowers the least cost (and keeps an infeasible case
  infeasible).

The ``*_slow`` variants run the same properties on more examples (``-m slow``).
"""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import planner

PERIODS = ["2025Q1", "2025Q2", "2025Q3"]
HALL_KINDS = ("power", "air_cooling", "cdu", "aalc", "rdhx", "fabric", "floor")
SITE_KINDS = ("site_water", "site_feed")
#: capacity choices per kind (kW, kW per rack for rdhx, Gbps for fabric, kg for floor)
CAPACITY = {
    "power": [100.0, 50.0, 200.0],
    "air_cooling": [100.0, 50.0, 200.0],
    "cdu": [250.0, 100.0, 500.0],
    "aalc": [40.0, 20.0],
    "rdhx": [50.0, 30.0, 80.0],
    "fabric": [4000.0, 1000.0],
    "floor": [1500.0, 2000.0],
    "site_water": [500.0, 200.0],
    "site_feed": [500.0, 200.0],
}
UNIT_POSITIONS = {"cdu": [1, 2], "aalc": [1], "power": [0, 1], "air_cooling": [0, 1]}

REL = 1e-6  # relative tolerance of objective comparisons
ABS = 1e-6

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=300)


# -- the scenario strategy ----------------------------------------------------------------
def rare(draw, p: float) -> bool:
    """True with probability about ``p``; False in Hypothesis's simplest example, so that
    shrinking heads towards plain scenarios."""
    return draw(st.integers(0, 99)) >= 100 - round(100 * p)


@st.composite
def rack_types(draw, i: int, cooling: str) -> dict:
    air = cooling == "air"
    rack = {
        "name": f"rack-{i}",
        "gpus": draw(st.sampled_from([8, 16, 32, 72])),
        "power_kw": draw(st.sampled_from([15.0, 10.0, 25.0, 40.0] if air else [75.0, 40.0, 130.0])),
        "cooling": cooling,
        "liquid_fraction": 0.0 if air else draw(st.sampled_from([0.8, 0.9, 0.6])),
        "weight_kg": draw(st.sampled_from([600.0, 900.0, 900.0, 1300.0, 1600.0])),
        "positions": draw(st.sampled_from([1, 1, 2])),
        "capex_usd": draw(st.sampled_from([1e6, 5e5, 2e6, 3e6])),
        # liquid racks are the dense ones: worth the CDUs and sidecars they need
        "pflops": draw(st.sampled_from([8.0, 16.0, 32.0, 4.0] if air else [72.0, 180.0, 32.0])),
    }
    if draw(st.booleans()):
        rack["network_gbps"] = draw(st.sampled_from([800.0, 3200.0, 6400.0]))
    else:
        rack["network_multiple"] = draw(st.sampled_from([4.0, 16.0, 32.0]))
    if rare(draw, 0.2):
        rack["lead_periods"] = 1
    return rack


@st.composite
def retrofit_options(draw, kind: str, i: int) -> dict:
    option = {
        "name": f"{kind}-{i}",
        "kind": kind,
        "capacity": draw(st.sampled_from(CAPACITY[kind])),
        "positions": draw(st.sampled_from(UNIT_POSITIONS.get(kind, [0]))),
        "cost_usd": draw(st.sampled_from([1e5, 3e5, 1e6])),
        "max_units": draw(st.sampled_from([2, 4, 1, 3])),
    }
    if rare(draw, 0.1):  # now and then no cap on units (null) or none allowed (0)
        option["max_units"] = draw(st.sampled_from([None, 0]))
    if rare(draw, 0.2):
        option["lead_periods"] = draw(st.integers(1, 2))
    return option


@st.composite
def halls(draw, s: int, h: int, hall_options: list[str]) -> dict:
    positions = draw(st.integers(12, 40))
    cpu = None
    cpu_kw = cpu_gbps = 0.0
    if draw(st.booleans()):
        count = draw(st.integers(0, positions // 2))
        cpu = {
            "count": count,
            "power_kw": draw(st.sampled_from([5.0, 8.0])),
            "network_gbps": draw(st.sampled_from([50.0, 200.0])),
            "retire_cost_usd": draw(st.sampled_from([None, 2e4, 1e5])),
        }
        cpu_kw, cpu_gbps = count * cpu["power_kw"], count * cpu["network_gbps"]
    hall = {
        "name": f"hall-{s}-{h}",
        "positions": positions,
        # what the CPU racks use today, plus some headroom: they always fit
        "power_kw": cpu_kw + draw(st.sampled_from([100.0, 300.0, 50.0, 0.0])),
        "air_cooling_kw": cpu_kw + draw(st.sampled_from([100.0, 300.0, 50.0, 0.0])),
        "max_air_rack_kw": draw(st.sampled_from([30.0, 20.0, 45.0, 12.0])),
        "floor_kg_per_position": draw(st.sampled_from([1400.0, 1000.0])),
        "fabric_gbps": cpu_gbps + draw(st.sampled_from([20000.0, 5000.0, 0.0])),
        "facility_water": draw(st.booleans()),
    }
    if cpu is not None:
        hall["cpu_racks"] = cpu
    if hall_options and rare(draw, 0.25):
        hall["retrofits"] = draw(
            st.lists(st.sampled_from(hall_options), unique=True, max_size=len(hall_options))
        )
    return hall


def _cpu_feed_kw(site: dict) -> float:
    """Facility power the site's CPU racks draw today (IT + room-air overhead)."""
    cpus = [h["cpu_racks"] for h in site["halls"] if "cpu_racks" in h]
    it = sum(cpu["count"] * cpu["power_kw"] for cpu in cpus)
    return it * (1 + site["air_overhead"])


@st.composite
def scenarios(draw, objective: str | None = "max_compute", budget: str | None = None) -> dict:
    """A small valid scenario as a dict. ``objective`` None draws it; ``budget`` is one of
    "none", "number", "list" (None draws it)."""
    if objective is None:
        objective = draw(st.sampled_from(["max_compute", "min_cost"]))
    n_periods = draw(st.integers(1, 3))
    n_racks = draw(st.integers(1, 3))
    coolings = draw(
        st.lists(st.sampled_from(["air", "liquid"]), min_size=n_racks, max_size=n_racks)
    )
    racks = [draw(rack_types(i, cooling)) for i, cooling in enumerate(coolings)]
    kinds = [k for k in HALL_KINDS + SITE_KINDS if draw(st.integers(0, 4)) < 3]
    options = [draw(retrofit_options(kind, 0)) for kind in kinds]
    for kind in ("rdhx", "floor"):  # two options of a kind now and then
        if kind in kinds and rare(draw, 0.3):
            options.append(draw(retrofit_options(kind, 1)))
    hall_options = [o["name"] for o in options if o["kind"] in HALL_KINDS]
    sites = []
    for s in range(draw(st.integers(1, 2))):
        site = {
            "name": f"site-{s}",
            "facility_water_kw": draw(st.sampled_from([600.0, 200.0, 0.0])),
            "air_overhead": draw(st.sampled_from([0.0, 0.35])),
            "liquid_overhead": draw(st.sampled_from([0.0, 0.08])),
            "halls": [draw(halls(s, h, hall_options)) for h in range(draw(st.integers(1, 2)))],
        }
        site["feed_kw"] = (
            _cpu_feed_kw(site) + draw(st.sampled_from([800.0, 300.0, 100.0, 0.0]))
            if draw(st.booleans())
            else None
        )
        sites.append(site)
    data = {
        "name": "property",
        "periods": PERIODS[:n_periods],
        "objective": objective,
        "reference_rack": {"network_gbps": 100.0},
        "rack_types": racks,
        "retrofits": options,
        "sites": sites,
    }
    if budget is None:
        budget = draw(st.sampled_from(["none", "number", "list"]))
    if budget == "number":
        data["budget_usd_per_period"] = draw(st.sampled_from([5e6, 3e6, 1e7, 2e6]))
    elif budget == "list":
        data["budget_usd_per_period"] = draw(
            st.lists(
                st.sampled_from([5e6, 3e6, 1e7, 2e6, 0.0]), min_size=n_periods, max_size=n_periods
            )
        )
    if rare(draw, 0.2):
        data["budget_usd_total"] = draw(st.sampled_from([2e7, 5e6]))
    if objective == "min_cost" or rare(draw, 0.15):  # max_compute may have targets too
        targets = st.lists(
            st.sampled_from([8, 0, 16, 32, 64]), min_size=n_periods, max_size=n_periods
        )
        data["gpu_targets"] = sorted(draw(targets))  # growing, as targets do
    planner.Scenario.model_validate(data)  # the strategy only makes valid scenarios
    return data


# -- helpers ------------------------------------------------------------------------------
def solve(data: dict) -> planner.Plan:
    return planner.solve(planner.Scenario.model_validate(data), mip_gap=0)


def at_most(a: float, b: float) -> bool:
    """``a <= b`` up to the comparison tolerance."""
    return a <= b + max(ABS, REL * max(abs(a), abs(b)))


def pflops_periods(plan: planner.Plan) -> float:
    """PFLOPS-periods recomputed from the racks table and the scenario's catalog."""
    pflops = {r.name: r.pflops for r in plan.scenario.rack_types}
    return float(sum(pflops[row.rack_type] * row.count for row in plan.racks.itertuples()))


def assert_no_worse(low: planner.Plan, high: planner.Plan, what: str) -> None:
    """``high`` solves a relaxation of ``low``'s scenario (its feasible set is larger):
    if ``low`` has a plan so does ``high``, with an objective at least as good."""
    assert low.status in ("optimal", "infeasible"), (low.status, low.message)
    assert high.status in ("optimal", "infeasible"), (high.status, high.message)
    event(f"{what}: {low.status} -> {high.status}")
    if low.status == "infeasible":
        return
    assert high.status == "optimal", f"{what} made a feasible scenario infeasible"
    if not math.isclose(low.objective, high.objective, rel_tol=REL, abs_tol=ABS):
        event(f"{what.split(' from ')[0]}: strictly better")
    if low.scenario.objective == "max_compute":
        assert at_most(low.objective, high.objective), (
            f"{what} lowered the compute from {low.objective} to {high.objective}"
        )
    else:
        assert at_most(high.objective, low.objective), (
            f"{what} raised the least cost from {low.objective} to {high.objective}"
        )


# -- properties ---------------------------------------------------------------------------
def check_plan_is_sound(data: dict) -> None:
    plan = solve(data)
    sc = plan.scenario
    if sc.gpu_targets is None:
        # CPU racks fit as they stand and there are no targets: the empty plan is feasible
        assert plan.status == "optimal", (plan.status, plan.message)
    else:
        assert plan.status in ("optimal", "infeasible"), (plan.status, plan.message)
    event(f"{sc.objective}: {plan.status}")
    if plan.status != "optimal":
        assert plan.racks.empty and plan.retrofits.empty
        return
    assert plan.verify() == []
    for kind in set(plan.retrofits["kind"]):
        event(f"plan installs {kind}")
    if len(plan.racks):
        event("plan has racks")
        if (plan.racks["rdhx_option"] != "").any():
            event("plan has racks behind rear doors")
    if (plan.halls["cpu_racks_retired"] > 0).any():
        event("plan retires CPU racks")
    spend = plan.spend
    assert len(spend) == sc.n_periods
    total = float(spend["total_usd"].sum())
    assert math.isclose(plan.total_spend_usd, total, rel_tol=REL, abs_tol=1e-3)
    if sc.objective == "max_compute":
        assert math.isclose(plan.objective, pflops_periods(plan), rel_tol=REL, abs_tol=ABS)
    else:
        assert math.isclose(plan.objective, total, rel_tol=REL, abs_tol=1e-3)
        gpus = plan.gpus()
        for period, target in zip(sc.periods, sc.gpu_targets, strict=True):
            assert gpus[period] >= target
    for period, budget, row in zip(sc.periods, sc.budgets(), spend.itertuples(), strict=True):
        assert row.period == period
        assert row.total_usd >= -1e-3
        if budget is not None:
            assert at_most(row.total_usd, budget), (period, row.total_usd, budget)
            if budget and row.total_usd > 0.5 * budget:
                event("plan spends over half a period's budget")
    if sc.budget_usd_total is not None:
        assert at_most(total, sc.budget_usd_total)
    # the plan survives its own file format
    again = planner.Plan.from_json(plan.to_json())
    for name in ("racks", "retrofits", "halls"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(plan, name))
    assert (again.status, again.objective, again.total_spend_usd) == (
        plan.status,
        plan.objective,
        plan.total_spend_usd,
    )
    assert again.verify() == []


def with_budget(data: dict, factor: float | None, total_factor: float | None) -> dict:
    """A copy with the per-period budget (and the total cap) scaled, or removed (None)."""
    out = copy.deepcopy(data)
    budget = out.get("budget_usd_per_period")
    if factor is None:
        out.pop("budget_usd_per_period", None)
    elif isinstance(budget, list):
        out["budget_usd_per_period"] = [b * factor for b in budget]
    elif budget is not None:
        out["budget_usd_per_period"] = budget * factor
    if total_factor is None:
        out.pop("budget_usd_total", None)
    elif out.get("budget_usd_total") is not None:
        out["budget_usd_total"] *= total_factor
    return out


def check_more_budget_more_compute(data: dict) -> None:
    # budget B, then 2B per period, then also 2x the total cap, then no caps at all
    ladder = [(1, 1), (2, 1), (2, 2), (None, None)]
    plans = [solve(with_budget(data, f, tf)) for f, tf in ladder]
    for i in range(len(ladder) - 1):
        what = f"raising the budget factors (per period, total) from {ladder[i]} to {ladder[i + 1]}"
        assert_no_worse(plans[i], plans[i + 1], what)


def without_option(data: dict, name: str) -> dict:
    out = copy.deepcopy(data)
    out["retrofits"] = [o for o in out["retrofits"] if o["name"] != name]
    for site in out["sites"]:
        for hall in site["halls"]:
            if hall.get("retrofits") is not None:
                hall["retrofits"] = [n for n in hall["retrofits"] if n != name]
    return out


def check_fewer_options_no_better(data: dict, pick) -> None:
    """Remove one option (one the full plan installs, where it installs any: ``pick``
    draws it) and compare: the scenario without it is a restriction of the full one."""
    full = solve(data)
    installed = sorted(set(full.retrofits["option"])) if full.has_plan else []
    names = installed or [o["name"] for o in data["retrofits"]]
    if not names:
        return
    name = pick(st.sampled_from(names))
    event("removes an installed option" if installed else "removes an option")
    assert_no_worse(solve(without_option(data, name)), full, f"adding back {name!r}")


def check_higher_target_costs_more(data: dict, period: int, extra: int) -> None:
    raised = copy.deepcopy(data)
    raised["gpu_targets"][period] += extra
    # the scenario with the higher target is a restriction of the original one
    assert_no_worse(solve(raised), solve(data), f"lowering target {period} by {extra}")


budgeted_scenarios = scenarios(objective=None, budget="number") | scenarios(
    objective=None, budget="list"
)
raise_targets = st.tuples(st.integers(0, 2), st.sampled_from([8, 32, 1, 64]))


@st.composite
def scenario_and_raise(draw):
    data = draw(scenarios(objective="min_cost"))
    period, extra = draw(raise_targets)
    return data, period % len(data["periods"]), extra


# -- tests --------------------------------------------------------------------------------
def test_floor_option_with_max_units_zero_is_never_installed():
    """Found by test_plans_verify_and_respect_budgets: a 1300 kg liquid rack in a
    1000 kg/position hall whose only floor option has ``max_units: 0`` cannot be placed."""
    data = {
        "name": "floor-max-units-0",
        "periods": ["2025Q1"],
        "objective": "max_compute",
        "rack_types": [
            {
                "name": "heavy",
                "gpus": 8,
                "power_kw": 75.0,
                "cooling": "liquid",
                "liquid_fraction": 0.8,
                "weight_kg": 1300.0,
                "capex_usd": 1e6,
                "pflops": 72.0,
                "network_gbps": 400.0,
            },
        ],
        "retrofits": [
            {
                "name": "sidecar",
                "kind": "aalc",
                "capacity": 40.0,
                "positions": 1,
                "cost_usd": 1e5,
                "max_units": 2,
            },
            {"name": "floor", "kind": "floor", "capacity": 1500.0, "cost_usd": 1e5, "max_units": 0},
        ],
        "sites": [
            {
                "name": "s",
                "halls": [
                    {
                        "name": "h",
                        "positions": 12,
                        "power_kw": 500.0,
                        "air_cooling_kw": 500.0,
                        "max_air_rack_kw": 30.0,
                        "floor_kg_per_position": 1000.0,
                        "fabric_gbps": 20000.0,
                    },
                ],
            },
        ],
    }
    plan = solve(data)
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert plan.retrofits[plan.retrofits["kind"] == "floor"].empty
    assert plan.objective == 0


@FAST
@given(scenarios(objective=None))
def test_plans_verify_and_respect_budgets(data):
    check_plan_is_sound(data)


@FAST
@given(budgeted_scenarios)
def test_more_budget_never_gives_less_compute(data):
    check_more_budget_more_compute(data)


@FAST
@given(scenarios(objective=None), st.data())
def test_removing_a_retrofit_option_never_helps(scenario, data):
    check_fewer_options_no_better(scenario, data.draw)


@FAST
@given(scenario_and_raise())
def test_raising_a_gpu_target_never_lowers_the_least_cost(case):
    check_higher_target_costs_more(*case)


@pytest.mark.slow
@SLOW
@given(scenarios(objective=None))
def test_plans_verify_and_respect_budgets_slow(data):
    check_plan_is_sound(data)


@pytest.mark.slow
@SLOW
@given(budgeted_scenarios)
def test_more_budget_never_gives_less_compute_slow(data):
    check_more_budget_more_compute(data)


@pytest.mark.slow
@SLOW
@given(scenarios(objective=None), st.data())
def test_removing_a_retrofit_option_never_helps_slow(scenario, data):
    check_fewer_options_no_better(scenario, data.draw)


@pytest.mark.slow
@SLOW
@given(scenario_and_raise())
def test_raising_a_gpu_target_never_lowers_the_least_cost_slow(case):
    check_higher_target_costs_more(*case)
