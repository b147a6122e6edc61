"""Plots: the data behind each picture (planner.analysis) against independent computations,
and every picture renders, without warnings, for single- and multi-period, one-hall and
fleet plans; the command line writes non-trivial PNGs."""

from __future__ import annotations

import copy
import itertools
import math
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from conftest import rack_doc, tiny_scenario_dict, write_scenario  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import planner  # noqa: E402
from planner import analysis as an  # noqa: E402
from planner import plots  # noqa: E402
from planner.cli import app  # noqa: E402
from planner.plan import accounting as acc  # noqa: E402
from planner.plots.feasible import _outline  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-6


# -- a small hall with every cooling choice: mandatory and optional rear doors, CDU and AALC
def door_hall_dict() -> dict:
    """One hall, one period. Racks: hot-air (25 kW > the 20 kW air limit: always behind a
    door), liquid (40 kW, 30 kW to liquid), cool-air (10 kW: a door is optional)."""
    return {
        "name": "door-hall",
        "periods": ["P1"],
        "budget_usd_per_period": 2.0e7,
        "reference_rack": {"network_gbps": 50},
        "rack_types": [
            rack_doc("hot-air", 8, 25, "air", 0.0, 200, 1.0e6, 8),
            rack_doc("liquid", 32, 40, "liquid", 0.75, 400, 2.0e6, 30),
            rack_doc("cool-air", 4, 10, "air", 0.0, 100, 4.0e5, 4),
        ],
        "retrofits": [
            {"name": "door", "kind": "rdhx", "capacity": 30, "cost_usd": 5.0e4},
            {"name": "cdu", "kind": "cdu", "capacity": 100, "positions": 1, "cost_usd": 2.0e5},
            {"name": "aalc", "kind": "aalc", "capacity": 20, "positions": 1, "cost_usd": 4.0e4},
            {"name": "chiller", "kind": "site_water", "capacity": 100, "cost_usd": 3.0e5},
        ],
        "sites": [
            {
                "name": "s",
                "feed_kw": 320,
                "facility_water_kw": 150,
                "air_overhead": 0.5,
                "liquid_overhead": 0.0,
                "halls": [
                    {
                        "name": "h",
                        "positions": 30,
                        "power_kw": 300,
                        "air_cooling_kw": 130,
                        "max_air_rack_kw": 20,
                        "floor_kg_per_position": 1200,
                        "fabric_gbps": 3000,
                        "facility_water": True,
                        "cpu_racks": {
                            "count": 2,
                            "power_kw": 5,
                            "network_gbps": 50,
                            "retire_cost_usd": 1000,
                        },
                    }
                ],
            }
        ],
    }


UNITS = {"door": 6, "cdu": 1, "aalc": 2}


def door_hall_plan() -> planner.Plan:
    """A hand-made sound plan: 2 hot-air racks behind doors, 2 liquid, 3 cool-air; 6 doors,
    1 CDU, 2 sidecars; one CPU rack retired; 40 kW of liquid heat to the CDU."""
    sc = planner.Scenario.model_validate(door_hall_dict())
    racks = pd.DataFrame(
        [
            ("s", "h", "P1", "hot-air", "door", 2),
            ("s", "h", "P1", "liquid", "", 2),
            ("s", "h", "P1", "cool-air", "", 3),
        ],
        columns=acc.RACK_COLUMNS,
    )
    retrofits = pd.DataFrame(
        [("s", "h", "P1", o, o if o != "door" else "rdhx", n, n) for o, n in UNITS.items()],
        columns=acc.RETROFIT_COLUMNS,
    )
    halls = pd.DataFrame([("s", "h", "P1", 1, 1, 40.0, 20.0)], columns=acc.HALL_COLUMNS)
    return planner.Plan.from_tables(sc, racks, retrofits, halls)


def brute_force(x: int, y: int, units: dict) -> bool:
    """Is x hot-air + y liquid racks (3 cool-air, 1 CPU rack left) feasible in the door hall
    with these units? Every rear-door count of the cool-air racks and every liquid split on
    a 0.5 kW grid (every bound below is a multiple of 0.5 kW) is tried, each checked by the
    rules of MODEL.md written out for this hall."""
    doors, cdu, aalc = units.get("door", 0), units.get("cdu", 0), units.get("aalc", 0)
    positions = x + y + 3 + cdu + aalc + 1
    it_kw = 25 * x + 40 * y + 3 * 10 + 5
    network = 200 * x + 400 * y + 3 * 100 + 50
    spend = 1e6 * x + 2e6 * y + 3 * 4e5 + 5e4 * doors + 2e5 * cdu + 4e4 * aalc + 1000
    if positions > 30 or it_kw > 300 + TOL or network > 3000 + TOL or spend > 2e7 + TOL:
        return False
    liquid = 30 * y
    for behind in range(0, 4):  # cool-air racks behind doors; hot-air always behind one
        if x + behind > doors:
            continue
        for half_kw in range(0, int(2 * liquid) + 1):
            to_cdu = half_kw / 2
            to_aalc = liquid - to_cdu
            if to_cdu > 100 * cdu + TOL or to_aalc > 20 * aalc + TOL:
                continue
            room_air = 10 * y + 10 * (3 - behind) + 5 + to_aalc
            water = 25 * x + 10 * behind + to_cdu
            feed = it_kw + 0.5 * room_air
            if room_air <= 130 + TOL and water <= 150 + TOL and feed <= 320 + TOL:
                return True
    return False


def test_the_hand_made_plan_is_sound():
    assert door_hall_plan().verify() == []


@pytest.mark.parametrize("retrofits", ["plan", "none"])
def test_feasible_points_equal_brute_force(retrofits):
    plan = door_hall_plan()
    df = an.feasible_points(
        plan, "h", "hot-air", "liquid", retrofits=retrofits, x_max=12, y_max=8, step=1
    )
    assert len(df) == 13 * 9
    units = UNITS if retrofits == "plan" else {}
    expected = {(x, y) for x in range(13) for y in range(9) if brute_force(x, y, units)}
    ok = df[df["feasible"]]
    found = set(zip(ok["a_racks"], ok["b_racks"], strict=True))
    assert found == expected
    if retrofits == "plan":
        # a mix of limits: more than a box, fewer than all points, and the plan's own point
        assert (2, 2) in found and 10 < len(found) < len(df)
    else:
        assert found == {(0, 0)}  # doors for hot-air, a CDU or sidecar for liquid
    assert df.loc[~df["feasible"], "broken"].str.len().gt(0).all()


def test_verify_and_accounting_decide_points_alike():
    plan = door_hall_plan()
    args = (plan, "h", "hot-air", "liquid")
    fast = an.feasible_points(*args, x_max=8, y_max=6, step=2)
    slow = an.feasible_points(*args, x_max=8, y_max=6, step=2, check="verify")
    assert fast["feasible"].tolist() == slow["feasible"].tolist()


def test_budget_region_contains_the_plan_region():
    plan = door_hall_plan()
    kw = dict(x_max=10, y_max=8, step=1)
    with_plan = an.feasible_points(plan, "h", "hot-air", "liquid", retrofits="plan", **kw)
    budget = an.feasible_points(plan, "h", "hot-air", "liquid", retrofits="budget", **kw)
    assert (budget["feasible"] >= with_plan["feasible"]).all()
    assert budget["feasible"].sum() > with_plan["feasible"].sum()  # more doors help
    # the budget region is closed downwards: a column's points are 0..top
    for _, col in budget.groupby("a_racks"):
        ok = col.sort_values("b_racks")["feasible"].tolist()
        assert ok == sorted(ok, reverse=True)


def test_snapshot_of_a_plan_is_sound_and_holds_what_stands():
    sc = planner.Scenario.model_validate(tiny_scenario_dict())
    plan = planner.solve(sc)
    for period in sc.periods:
        snap = an.snapshot(plan, period)
        assert snap.verify() == []
        assert snap.pflops().iloc[0] == pytest.approx(plan.pflops()[period])
    assert an.snapshot(sc).racks.empty


def test_feasible_region_marks_the_plan_and_its_limits():
    plan = door_hall_plan()
    region = an.feasible_region(plan, "h", "hot-air", "liquid", columns=20, grid=31)
    best = region.points.set_index("kind")
    assert (best.loc["optimum", "a_racks"], best.loc["optimum", "b_racks"]) == (2, 2)
    # the best point with the plan's retrofits has at least the plan's PFLOPS
    assert best.loc["plan", "pflops"] >= best.loc["optimum", "pflops"]
    assert best.loc["none", "pflops"] == 0
    assert {"rdhx", "power"} <= set(region.rules["rule"])


def _drawn(region: an.FeasibleRegion, kind: str) -> MplPath:
    """The outline a region is drawn with (cells around the points its columns hold)."""
    cols = region.columns[
        (region.columns["retrofits"] == kind) & (region.columns["b_racks_max"] >= 0)
    ]
    xs, ys = _outline(cols["a_racks"].to_numpy(), cols["b_racks_max"].to_numpy())
    return MplPath(np.column_stack([xs, ys]))


def test_marked_points_lie_inside_the_regions_drawn():
    """On 12 sampled columns the best point with the plan's retrofits (4 cool-air + 4
    liquid racks) used to sit between two columns, above the drawn edge. Every marked
    point's column is sampled now: it lies inside each region that holds it (the plan's
    point in the plan and budget regions), and the drawn region holds no infeasible point."""
    plan = door_hall_plan()
    region = an.feasible_region(plan, "h", "cool-air", "liquid", columns=12, grid=11)
    top = {(m, x): y for m, x, y in region.columns.itertuples(index=False)}
    pts = region.points.set_index("kind")
    assert (pts.loc["plan", "a_racks"], pts.loc["plan", "b_racks"]) == (4, 4)
    assert len(region.columns) < 3 * 31  # sampled, not every column
    for kind, row in pts.iterrows():
        for m in ("plan", "budget") if kind == "optimum" else (kind,):
            assert top[m, row["a_racks"]] >= row["b_racks"], (kind, m)
            assert _drawn(region, m).contains_point((row["a_racks"], row["b_racks"])), (kind, m)
    df = an.feasible_points(plan, "h", "cool-air", "liquid", x_max=30, y_max=30, step=1)
    drawn = _drawn(region, "plan")
    inside = [drawn.contains_point(p) for p in zip(df["a_racks"], df["b_racks"], strict=True)]
    assert not (pd.Series(inside) & ~df["feasible"]).any()
    assert sum(inside) > 10


def test_feasible_limit_lines_stay_in_the_plans_region_and_the_legend_is_short():
    # the legacy hall with every option: the budget region (other retrofits) reaches 330
    # one-DGX racks where the plan's space line sits lower; lines are drawn only over the
    # plan's own region, and the plan's point, also the best of two regions, is said once
    sc = planner.load_scenario(CONFIGS / "legacy-hall.yaml")
    full = planner.solve(planner.what_if(sc, {"sites[legacy-site].halls[hall-1].retrofits": None}))
    region = an.feasible_region(full, "hall-1", "hgx-h100-liquid", "dgx-h100-air-1")
    ax = plots.feasible_region(region)
    own = region.columns[
        (region.columns["retrofits"] == "plan") & (region.columns["b_racks_max"] >= 0)
    ]
    x_box, y_box = own["a_racks"].max() + 1, own["b_racks_max"].max() + 1
    for line in ax.get_lines():
        if line.get_linewidth() == 1.8:  # the rules' lines
            xs, ys = (np.asarray(v, dtype=float) for v in line.get_data())
            ok = ~np.isnan(xs)
            assert (xs[ok] <= x_box).all() and (ys[ok] <= y_box).all()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) <= 11
    assert sum(label.startswith(("the plan", "best")) for label in labels) == 2
    assert "limit: space" not in labels  # space does not bound the plan's region
    plt.close("all")


# -- the frontier --------------------------------------------------------------------------
def test_frontier_is_non_decreasing_and_each_point_is_a_direct_solve():
    sc = planner.Scenario.model_validate(tiny_scenario_dict())
    budgets = [4.0e6, 1.2e7, 2.4e7, 4.0e7]
    df = an.frontier(sc, budgets)
    assert df["budget_usd"].tolist() == budgets
    assert df["status"].eq("optimal").all()
    values = df["pflops_periods"].tolist()
    assert values == sorted(values)
    for budget, value in zip(budgets, values, strict=True):
        direct = planner.solve(an.with_budget(sc, budget))
        assert direct.objective == pytest.approx(value, abs=1e-6)
    # the retrofit set changes somewhere on the way (a CDU for the liquid racks)
    assert df["changed"].any()
    assert df.loc[df["changed"], "label"].str.startswith(("+", "-")).all()


def test_min_cost_frontier_sweeps_gpu_targets():
    d = tiny_scenario_dict()
    d.update(objective="min_cost", gpu_targets=[16, 64], budget_usd_per_period=None)
    sc = planner.Scenario.model_validate(d)
    df = an.frontier(sc, targets=[32, 64, 80, 128])
    assert df["status"].tolist() == ["optimal"] * 3 + ["infeasible"]
    spend = df["spend_usd"].iloc[:3].tolist()
    assert spend == sorted(spend)
    assert planner.solve(an.with_target(sc, 80)).objective == pytest.approx(spend[-1])
    assert df["label"].iloc[1] == "+cdu in hall-1"


# -- timeline and utilisation --------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_plan() -> planner.Plan:
    return planner.solve(planner.Scenario.model_validate(tiny_scenario_dict()))


def test_timeline_totals_equal_the_plan(tiny_plan):
    tl = an.timeline(tiny_plan)
    by_period = tl.operating.groupby("period")[["gpus", "pflops"]].sum()
    gpus = by_period["gpus"].reindex(tiny_plan.scenario.periods, fill_value=0)
    pflops = by_period["pflops"].reindex(tiny_plan.scenario.periods, fill_value=0.0)
    assert gpus.tolist() == tiny_plan.gpus().tolist()
    assert pflops.tolist() == pytest.approx(tiny_plan.pflops().tolist())
    added = tiny_plan.retrofits[tiny_plan.retrofits["added"] > 0]
    markers = set(
        tl.retrofits[["period", "site", "hall", "option", "units_added"]].itertuples(
            index=False, name=None
        )
    )
    assert markers == set(
        added[["period", "site", "hall", "option", "added"]].itertuples(index=False, name=None)
    )
    assert tl.spend["total_usd"].tolist() == pytest.approx(tiny_plan.spend["total_usd"].tolist())


def test_timeline_shows_cpu_racks_retired_and_legend_follows_the_stack():
    # retiring 3 of 5 CPU racks (10 kW each) frees the power two 12 kW GPU racks need
    from builders import hall, rack, scenario

    doc = scenario(
        racks=[rack("g1", power_kw=12, pflops=5), rack("g2", power_kw=12, pflops=4)],
        halls=[
            hall(
                positions=8,
                power_kw=74,
                cpu_racks={"count": 5, "power_kw": 10, "network_gbps": 10, "retire_cost_usd": 1000},
            )
        ],
        periods=("P0", "P1"),
    )
    plan = planner.solve(planner.Scenario.model_validate(doc), mip_gap=0)
    tl = an.timeline(plan)
    by_end = plan.halls.groupby("period")["cpu_racks_retired"].sum()
    assert tl.retired["cpu_racks_retired_total"].tolist() == by_end.tolist()
    assert tl.retired["cpu_racks_retired"].sum() == by_end.iloc[-1] > 0
    ax = plots.timeline(plan)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "CPU racks retired" in labels
    stacked = [label for label in labels if label in {"g1", "g2"}]
    assert stacked == sorted(stacked, key=["g2", "g1"].index)  # the top of the stack first
    # retrofit and retirement markers are hollow black, never a bar's colour
    markers = [h for h in ax.get_legend().legend_handles if hasattr(h, "get_marker")]
    assert markers and all(h.get_markerfacecolor() in ("#FFFFFF", "#ffffff") for h in markers)
    plt.close("all")


def test_utilisation_labels_the_periods_within_every_resource_block(tiny_plan):
    ax = plots.utilisation(tiny_plan)
    top = [a for a in ax.child_axes if a.get_xticklabels()]
    labels = [t.get_text() for t in top[0].get_xticklabels()]
    periods = list(tiny_plan.scenario.periods)
    blocks = len(labels) // len(periods)
    assert blocks >= 5 and labels == periods * blocks
    plt.close("all")


def test_utilisation_matrix_equals_the_plan(tiny_plan):
    m = an.utilisation_matrix(tiny_plan)
    u = tiny_plan.utilisation
    assert len(m) == len(u)
    for row, ref in zip(m.itertuples(index=False), u.itertuples(index=False), strict=True):
        if ref.capacity > 0:
            assert row.share == pytest.approx(ref.used / ref.capacity)
            assert row.binding == (ref.used / ref.capacity >= an.BINDING_SHARE)
        else:
            assert math.isnan(row.share) and not row.binding


def test_bandwidth_sweeps_around_the_racks_own_multiple_and_says_what_is_swept():
    sc = planner.load_scenario(CONFIGS / "catalina-aalc.yaml")
    rack = an.bandwidth_rack(sc)
    own = an.find_rack(sc, rack).network_multiple
    assert own is not None and not 24 <= own <= 32
    assert an.default_multiples(sc, rack) == [round(own * f, 1) for f in (0.5, 0.75, 1, 1.25, 1.5)]
    tiny = planner.Scenario.model_validate(tiny_scenario_dict())
    ax = plots.bandwidth_sensitivity(tiny, multiples=[8, 16])
    assert ax.get_xlabel().startswith("swept: network multiple of gpu-air")
    assert "other rack types fixed" in ax.get_xlabel()
    plt.close("all")


def test_bandwidth_sensitivity_changes_the_rack_bandwidth():
    sc = planner.Scenario.model_validate(tiny_scenario_dict())
    df = an.bandwidth_sensitivity(sc, multiples=[8, 40], budgets=[None, 1.0e7])
    assert len(df) == 4 and df["status"].eq("optimal").all()
    for _, part in df.groupby("budget_label"):
        low, high = part.sort_values("network_multiple")["pflops_periods"]
        assert high <= low  # more bandwidth per rack never buys more compute
    changed = an.with_multiple(sc, "gpu-air", 30)
    assert an.find_rack(changed, "gpu-air").network_multiple == 30
    assert planner.solve(changed).objective == pytest.approx(
        an.bandwidth_sensitivity(sc, [30])["pflops_periods"].iloc[0]
    )


# -- every plot renders, without warnings --------------------------------------------------
def fleet_scenario(n_sites: int = 8, per_site: int = 3) -> planner.Scenario:
    """24 halls of the tiny kind over 8 sites, two periods."""
    d = tiny_scenario_dict()
    site0 = d["sites"][0]
    sites = []
    for s in range(n_sites):
        site = copy.deepcopy(site0)
        site.update(name=f"site-{s}", feed_kw=1500 * per_site, halls=[])
        for h in range(per_site):
            hall = copy.deepcopy(site0["halls"][0])
            hall.update(
                name=f"h{s}{h}",
                positions=20 + 4 * ((s + h) % 3),
                power_kw=300 + 40 * ((s * h) % 4),
            )
            site["halls"].append(hall)
        sites.append(site)
    d.update(name="fleet-24", sites=sites, budget_usd_per_period=[2.0e8, 2.0e8])
    return planner.Scenario.model_validate(d)


def legacy_explore() -> planner.Scenario:
    """legacy-hall.yaml with every retrofit allowed and a reference rack: one hall, one
    period."""
    d = yaml.safe_load((ROOT / "configs" / "legacy-hall.yaml").read_text())
    d["sites"][0]["halls"][0]["retrofits"] = None
    d["reference_rack"] = {"network_gbps": 200}
    return planner.Scenario.model_validate(d)


PLANS = {
    "single-period, single hall": legacy_explore,
    "multi-period, single hall": lambda: planner.Scenario.model_validate(tiny_scenario_dict()),
    "multi-period fleet of 24 halls": fleet_scenario,
}


@pytest.fixture(scope="module", params=list(PLANS))
def solved(request):
    sc = PLANS[request.param]()
    return sc, planner.solve(sc, time_limit_s=20)


def _draws(ax) -> None:
    """Titles and axis labels present (the x label may sit on a panel below), drawn."""
    assert ax.get_title() and ax.get_ylabel()
    assert any(other.get_xlabel() for other in ax.figure.axes)
    ax.figure.canvas.draw()
    plt.close(ax.figure)


def test_every_plot_renders_without_warnings(solved):
    sc, plan = solved
    fleet = sum(len(s.halls) for s in sc.sites) > 1
    quick = dict(time_limit_s=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _draws(plots.timeline(plan))
        _draws(plots.timeline(plan, metric="pflops", by="hall"))
        _draws(plots.utilisation(plan))
        _draws(plots.utilisation(plan, period=sc.periods[-1]))
        _draws(plots.feasible_region(plan, columns=12, grid=21, **quick))
        budgets = [plan.total_spend_usd / 2, plan.total_spend_usd]
        _draws(plots.frontier(plan, budgets, **quick))
        multiples = [24, 32] if fleet else [24, 28, 32]
        _draws(plots.bandwidth_sensitivity(sc, multiples, [None], **quick))
        # on axes the caller made
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5))
        assert plots.utilisation(plan, ax=ax1) is ax1
        assert plots.timeline(plan, ax=ax2) is ax2
        fig.canvas.draw()
        plt.close(fig)


def test_plot_all_writes_what_fits(tmp_path, tiny_plan):
    paths = plots.plot_all(tiny_plan, tmp_path, sweeps="none")
    assert [p.name for p in paths] == ["timeline.png", "utilisation.png", "feasible.png"]
    single = planner.solve(legacy_explore())
    paths = plots.plot_all(single, tmp_path / "single", sweeps="all")
    names = [p.name for p in paths]
    assert "timeline.png" not in names and {"frontier.png", "bandwidth.png"} <= set(names)


# -- the command line ------------------------------------------------------------------------
runner = CliRunner()


def _nontrivial_png(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 10_000, path
    pixels = mpimg.imread(path)
    assert pixels.std() > 0.05, f"{path} looks blank"


def test_solve_writes_plots(tmp_path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    result = runner.invoke(app, ["solve", str(config), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    for name in ("timeline", "utilisation", "feasible", "frontier", "bandwidth"):
        _nontrivial_png(tmp_path / "o" / f"{name}.png")
    result = runner.invoke(app, ["solve", str(config), "--out", str(tmp_path / "n"), "--no-plots"])
    assert result.exit_code == 0 and not list((tmp_path / "n").glob("*.png"))


@pytest.mark.parametrize("kind", ["feasible", "frontier", "timeline", "utilisation", "bandwidth"])
def test_plot_command_draws_each_kind(tmp_path, kind):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    extra = {"feasible": ["--hall", "hall-1", "--racks", "gpu-air,gpu-liquid"]}.get(kind, [])
    if kind == "frontier":
        extra = ["--budgets", "1e7,2e7,4e7"]
    if kind == "bandwidth":
        extra = ["--multiples", "8,16"]
    out = tmp_path / f"{kind}.png"
    result = runner.invoke(app, ["plot", kind, str(config), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    _nontrivial_png(out)


def test_plot_command_rejects_bad_input(tmp_path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    bad = write_scenario({"periods": []}, tmp_path / "bad.yaml")
    for args in (
        ["plot", "timeline", str(bad)],
        ["plot", "feasible", str(config), "--hall", "nowhere"],
        ["plot", "feasible", str(config), "--racks", "gpu-air"],
        ["plot", "frontier", str(config), "--budgets", "lots"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_does_not_import_matplotlib():
    code = "import sys, planner.cli; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_brute_force_helper_is_not_trivial():
    # the hand-written check rejects a point for each of its rules
    assert brute_force(0, 0, {}) and brute_force(2, 2, UNITS)
    rejected = [
        (x, y) for x, y in itertools.product(range(13), range(9)) if not brute_force(x, y, UNITS)
    ]
    assert (7, 0) in rejected  # 7 hot-air racks but 6 doors
    assert (0, 5) in rejected  # 150 kW of liquid heat, 140 kW of CDU + sidecars


def test_sweep_estimate_counts_rounds_of_solves(tiny_plan, monkeypatch):
    import dataclasses

    from planner.plots.all import estimate_seconds, sweep_estimate

    monkeypatch.setenv("PLANNER_WORKERS", "2")
    slow = dataclasses.replace(tiny_plan, solve_seconds=10.0, build_seconds=0.0)
    # 4 frontier solves two at a time: 2 rounds of 10 s, each stopped at 3 x 10 s
    assert sweep_estimate(slow, "frontier") == (
        "about 20 s (4 solves, 2 at a time, each stopped at 30 s; at most 60 s)"
    )
    # quick solves stay in this process, one after another
    quick = dataclasses.replace(tiny_plan, solve_seconds=0.2, build_seconds=0.0)
    assert "4 solves, 1 at a time" in sweep_estimate(quick, "frontier")
    # with the bandwidth's 5 solves (3 rounds) when the scenario has a reference rack
    bandwidth = 30.0 if slow.scenario.reference_rack is not None else 0.0
    assert estimate_seconds(slow) == pytest.approx(20.0 + bandwidth)
