"""The planner's optimum equals the exhaustive one on random small scenarios.

Each drawn scenario is small enough for ``tests/bruteforce.py`` to enumerate every plan
(it shares no code with the model), and covers every rule family over the draws: air and
liquid racks of several liquid fractions, every retrofit kind (with positions, max_units
and lead times), halls with and without facility water, hall retrofit lists, retirable and
non-retirable CPU racks, budgets as a number, a list or null, a total budget, min_cost with
GPU targets, and targets that cannot be met (infeasible). For each, with HiGHS and with
CBC (``mip_gap=0``), the planner must reach the enumeration's status, its objective and,
for ``max_compute``, its least spend, and its plan must pass ``Plan.verify()``.

The default run draws a few hundred scenarios; ``-m slow`` draws thousands. A seed that
ever fails becomes a named regression case in ``tests/regressions/``.
"""

from __future__ import annotations

import math

import pytest
from bruteforce import decision_space, search
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import planner

#: candidate plans the enumeration may face; larger draws lose options until they fit
MAX_CANDIDATES = 60_000
KINDS = ("power", "air_cooling", "cdu", "aalc", "rdhx", "fabric", "floor", "site_water")
KINDS += ("site_feed",)
CAPACITY = {
    "power": [20.0, 40.0],
    "air_cooling": [20.0, 40.0],
    "cdu": [30.0, 60.0],
    "aalc": [15.0, 30.0],
    "rdhx": [25.0, 45.0],
    "fabric": [200.0, 400.0],
    "floor": [1300.0, 1600.0],
    "site_water": [30.0, 60.0],
    "site_feed": [30.0, 60.0],
}
PERIODS = ["P1", "P2"]


@st.composite
def racks(draw, i: int, n_periods: int) -> dict:
    liquid = draw(st.booleans())
    rack = {
        "name": f"r{i}",
        "gpus": draw(st.sampled_from([8, 16, 32])),
        "power_kw": draw(
            st.sampled_from([20.0, 40.0, 30.0] if liquid else [10.0, 20.0, 30.0, 10.0])
        ),
        "cooling": "liquid" if liquid else "air",
        "liquid_fraction": draw(st.sampled_from([0.75, 0.9, 0.5])) if liquid else 0.0,
        "network_gbps": draw(st.sampled_from([50.0, 100.0, 200.0])),
        "weight_kg": draw(st.sampled_from([800.0, 800.0, 1200.0, 1500.0])),
        "positions": draw(st.sampled_from([1, 1, 2])),
        "capex_usd": draw(st.sampled_from([1e5, 2e5, 5e5])),
        "pflops": draw(st.sampled_from([8.0, 16.0, 24.0, 40.0])),
        "lead_periods": draw(st.sampled_from([0, 0, 1])) if n_periods > 1 else 0,
    }
    return rack


@st.composite
def options(draw, rack_types: list[dict], n_periods: int) -> list[dict]:
    """A catalog that, more often than not, gives every drawn rack a way in: a path for
    liquid heat (AALC works without facility water), a floor for heavy racks."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4, unique=True))
    liquid = any(r["cooling"] == "liquid" for r in rack_types)
    if liquid and "aalc" not in kinds and draw(st.integers(0, 3)):
        kinds.insert(0, "aalc")
    heavy = any(r["weight_kg"] > 1000 for r in rack_types)
    if heavy and "floor" not in kinds and draw(st.booleans()):
        kinds.insert(0, "floor")
    if "floor" in kinds and draw(st.booleans()):
        kinds.append("floor")  # a weaker and a stronger reinforcement: upgrades
    out = []
    for i, kind in enumerate(kinds):
        out.append(
            {
                "name": f"{kind}-{i}",
                "kind": kind,
                "capacity": draw(st.sampled_from(CAPACITY[kind])),
                "positions": draw(st.sampled_from([0, 0, 1])) if kind != "floor" else 0,
                "cost_usd": draw(st.sampled_from([1e4, 5e4, 1e5])),
                "max_units": draw(st.sampled_from([1, 2])),
                "lead_periods": draw(st.sampled_from([0, 0, 1])) if n_periods > 1 else 0,
            }
        )
    return out


@st.composite
def halls(draw, name: str, option_names: list[str]) -> dict:
    positions = draw(st.integers(2, 4))
    hall = {
        "name": name,
        "positions": positions,
        "power_kw": draw(st.sampled_from([60.0, 100.0, 30.0])),
        "air_cooling_kw": draw(st.sampled_from([40.0, 100.0, 20.0])),
        "max_air_rack_kw": draw(st.sampled_from([50.0, 25.0, 15.0])),
        "floor_kg_per_position": draw(st.sampled_from([1000.0, 1400.0])),
        "fabric_gbps": draw(st.sampled_from([400.0, 1000.0, 200.0])),
        "facility_water": draw(st.booleans()),
    }
    if draw(st.booleans()):
        hall["cpu_racks"] = {
            "count": draw(st.integers(1, min(2, positions - 1))),
            "power_kw": 5.0,
            "network_gbps": 20.0,
            "retire_cost_usd": draw(st.sampled_from([None, 1e4])),
        }
    if option_names and draw(st.integers(0, 3)) == 0:
        hall["retrofits"] = draw(st.lists(st.sampled_from(option_names), min_size=1, unique=True))
    return hall


@st.composite
def cluster_kinds(draw, rack_types: list[dict], n_periods: int) -> dict:
    """One or two cluster kinds (hall or site domain, all rack types or some, targets now
    and then) and, half the time, ``compute_counts: clustered``."""
    kinds = []
    for i in range(draw(st.integers(1, 2))):
        kind = {
            "name": f"cl{i}",
            "gpus": draw(st.sampled_from([16, 24, 32])),
            "domain": draw(st.sampled_from(["hall", "site"])),
        }
        if draw(st.booleans()):
            names = [r["name"] for r in rack_types]
            kind["rack_types"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        if draw(st.integers(0, 2)) == 0:
            kind["targets"] = sorted(draw(st.sampled_from([0, 1, 2])) for _ in range(n_periods))
        kinds.append(kind)
    out = {"clusters": kinds}
    if draw(st.booleans()):
        out["compute_counts"] = "clustered"
    return out


def _no_clusters(data: dict) -> None:
    data.pop("clusters", None)
    data.pop("compute_counts", None)
    _with_targets(data)


def _with_targets(data: dict) -> None:
    """A min_cost scenario keeps some target: GPU targets where no cluster targets remain."""
    cluster_targets = any(k.get("targets") is not None for k in data.get("clusters") or [])
    if data["objective"] == "min_cost" and "gpu_targets" not in data and not cluster_targets:
        data["gpu_targets"] = [8] * len(data["periods"])


def formable(data: dict) -> dict:
    """``data`` without the cluster kinds validation refuses (ones no rack type can form)."""
    try:
        planner.Scenario.model_validate(data)
    except planner.ScenarioError as exc:
        bad = {p.path for p in exc.problems if p.path.startswith("clusters[")}
        drop = {int(path.split("[")[1].split("]")[0]) for path in bad}
        data["clusters"] = [k for i, k in enumerate(data.get("clusters") or []) if i not in drop]
        if not data["clusters"]:
            _no_clusters(data)
        _with_targets(data)
    return data


def candidates(data: dict) -> int:
    sc = planner.Scenario.model_validate(data)
    return math.prod(len(v.seqs) for v in decision_space(sc))


@st.composite
def scenarios(draw) -> dict:
    objective = draw(st.sampled_from(["max_compute", "max_compute", "min_cost"]))
    n_periods = draw(st.integers(1, 2))
    rack_types = [draw(racks(i, n_periods)) for i in range(draw(st.integers(1, 2)))]
    catalog = draw(options(rack_types, n_periods))
    hall_names = [o["name"] for o in catalog if o["kind"] not in ("site_water", "site_feed")]
    layout = draw(st.sampled_from([(1,), (1,), (2,), (1, 1)]))  # halls per site
    sites = []
    for s, count in enumerate(layout):
        site = {
            "name": f"s{s}",
            "feed_kw": draw(st.sampled_from([None, None, 80.0, 150.0])),
            "facility_water_kw": draw(st.sampled_from([100.0, 40.0, 0.0])),
            "air_overhead": draw(st.sampled_from([0.0, 0.3])),
            "liquid_overhead": draw(st.sampled_from([0.0, 0.1])),
            "halls": [draw(halls(f"h{s}{h}", hall_names)) for h in range(count)],
        }
        sites.append(site)
    data = {
        "name": "exact",
        "periods": PERIODS[:n_periods],
        "objective": objective,
        "rack_types": rack_types,
        "retrofits": catalog,
        "sites": sites,
    }
    budget = draw(st.sampled_from(["none", "number", "list"]))
    if budget == "number":
        data["budget_usd_per_period"] = draw(st.sampled_from([3e5, 6e5, 1e6]))
    elif budget == "list":
        data["budget_usd_per_period"] = [
            draw(st.sampled_from([6e5, 1e6, 3e5, 0.0])) for _ in range(n_periods)
        ]
    if draw(st.integers(0, 4)) == 0:
        data["budget_usd_total"] = draw(st.sampled_from([5e5, 1e6]))
    if draw(st.integers(0, 2)) == 0:
        data |= draw(cluster_kinds(rack_types, n_periods))
    cluster_targets = any(k.get("targets") for k in data.get("clusters") or [])
    if (objective == "min_cost" and not cluster_targets) or draw(st.integers(0, 5)) == 0:
        data["gpu_targets"] = sorted(
            draw(st.sampled_from([8, 0, 16, 32, 48])) for _ in range(n_periods)
        )
    return shrunk(formable(data))


def shrunk(data: dict, limit: int = MAX_CANDIDATES) -> dict:
    """``data`` made small enough to enumerate (at most ``limit`` candidates): options
    dropped (last first), then halls made smaller, then the second rack type and period
    dropped, until it fits."""

    def drop_option() -> bool:
        if not data["retrofits"]:
            return False
        dropped = data["retrofits"].pop()["name"]
        for site in data["sites"]:
            for hall in site["halls"]:
                if hall.get("retrofits") is not None:
                    hall["retrofits"] = [n for n in hall["retrofits"] if n != dropped]
        return True

    def smaller_halls() -> bool:
        changed = False
        for site in data["sites"]:
            for hall in site["halls"]:
                least = max(2, hall.get("cpu_racks", {}).get("count", 0))
                if hall["positions"] > least:
                    hall["positions"] -= 1
                    changed = True
        return changed

    def one_rack_type() -> bool:
        if len(data["rack_types"]) < 2:
            return False
        data["rack_types"].pop()
        return True

    def drop_cluster_kind() -> bool:
        kinds = data.get("clusters") or []
        if not kinds:
            return False
        kinds.pop()
        if not kinds:
            _no_clusters(data)
        _with_targets(data)
        return True

    for step in (drop_option, drop_cluster_kind, smaller_halls, one_rack_type):
        while candidates(data) > limit and step():
            pass
    return data


def check_exact(data: dict, solver: str) -> None:
    sc = planner.Scenario.model_validate(data)
    best = search(sc).plan
    plan = planner.solve(sc, solver=solver, mip_gap=0)
    event(f"{sc.objective}: {best.status}")
    for kind in sorted({o.kind for o in sc.retrofits}):
        event(f"catalog has {kind}")
    for kind in sc.cluster_kinds():
        event(f"{kind.domain}-domain cluster kind ({sc.compute_counts})")
    if best.status == "infeasible":
        assert plan.status == "infeasible", (plan.status, plan.message)
        return
    assert plan.status == "optimal", (plan.status, plan.message)
    assert plan.verify() == []
    for what, seen in (
        ("racks", len(best.racks)),
        ("retrofits", len(best.retrofits)),
        ("racks behind rear doors", (best.racks["rdhx_option"] != "").any()),
        (
            "liquid racks",
            any(
                r.cooling == "liquid"
                for r in sc.rack_types
                if r.name in set(best.racks["rack_type"])
            ),
        ),
        ("CPU racks retired", (best.halls["cpu_racks_retired"] > 0).any()),
        (
            "two floor options",
            (best.retrofits["kind"] == "floor").sum() > best.retrofits["period"].nunique(),
        ),
        ("clusters", len(best.clusters)),
    ):
        if seen:
            event(f"the optimum has {what}")
    assert plan.objective == pytest.approx(best.objective, rel=1e-9, abs=1e-6), (
        plan.objective,
        best.objective,
    )
    if sc.objective == "max_compute":
        assert plan.total_spend_usd == pytest.approx(best.total_spend_usd, rel=1e-9, abs=1e-3)


FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=1500)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@FAST
@given(scenarios())
def test_planner_finds_the_exhaustive_optimum(solver, data):
    check_exact(data, solver)


@pytest.mark.slow
@pytest.mark.parametrize("solver", ["highs", "cbc"])
@SLOW
@given(scenarios())
def test_planner_finds_the_exhaustive_optimum_slow(solver, data):
    check_exact(data, solver)
