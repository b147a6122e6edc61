"""Feasible build-outs of a site: the racks of two types summed over a site's halls.

The site's feasible points (decided by the snapshot's MILP, one solve per column) are held
equal to a brute-force enumeration of every spread of the racks over the halls and every
rear-door count, each candidate plan checked by ``Plan.verify()``; the picture renders and
the command line draws it."""

from __future__ import annotations

import functools
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import rack_doc, write_scenario  # noqa: E402
from test_plots import door_hall_plan  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import planner  # noqa: E402
from planner import analysis as an  # noqa: E402
from planner import plots  # noqa: E402
from planner.cli import app  # noqa: E402
from planner.plan import accounting as acc  # noqa: E402

# -- a site of two small halls -------------------------------------------------------------
#: rack positions per hall; h1 has facility water (rear doors, a CDU), h2 has none (sidecars)
POSITIONS = {"h1": 6, "h2": 5}
CPU = {"h1": 0, "h2": 3}
KINDS = {"door": "rdhx", "cdu": "cdu", "aalc": "aalc", "chiller": "site_water"}
#: the hand-made plan's units, by (hall, option); "" = site scope
UNITS = {("h1", "door"): 2, ("h1", "cdu"): 1, ("h2", "aalc"): 2, ("", "chiller"): 1}
RETIRED = {"h1": 0, "h2": 2}
LIQUID_KW = 30.0  # heat one liquid rack sends to liquid


def two_hall_dict() -> dict:
    """One period, one site, two halls. Racks: air (12 kW: a rear door is optional) and
    liquid (40 kW, 30 kW of it to liquid). h1 may take rear doors and a CDU (facility
    water), h2 only sidecars; h2 has 3 CPU racks. Site water, site feed and the budget bind
    too, so the halls are coupled."""
    hall = {"max_air_rack_kw": 15, "floor_kg_per_position": 1200}
    return {
        "name": "two-halls",
        "periods": ["P1"],
        "budget_usd_per_period": 1.6e7,
        "rack_types": [
            rack_doc("air", 4, 12, "air", 0.0, 100, 5.0e5, 4),
            rack_doc("liquid", 16, 40, "liquid", 0.75, 400, 2.0e6, 16),
        ],
        "retrofits": [
            {"name": "door", "kind": "rdhx", "capacity": 30, "cost_usd": 5.0e4, "max_units": 3},
            {
                "name": "cdu",
                "kind": "cdu",
                "capacity": 60,
                "positions": 1,
                "cost_usd": 2.0e5,
                "max_units": 1,
            },
            {
                "name": "aalc",
                "kind": "aalc",
                "capacity": 20,
                "positions": 1,
                "cost_usd": 4.0e4,
                "max_units": 2,
            },
            {"name": "chiller", "kind": "site_water", "capacity": 60, "cost_usd": 3.0e5},
        ],
        "sites": [
            {
                "name": "s",
                "feed_kw": 330,
                "facility_water_kw": 40,
                "air_overhead": 0.4,
                "liquid_overhead": 0.1,
                "halls": [
                    {
                        "name": "h1",
                        "positions": POSITIONS["h1"],
                        "power_kw": 150,
                        "air_cooling_kw": 50,
                        "fabric_gbps": 2000,
                        "facility_water": True,
                        "retrofits": ["door", "cdu"],
                        **hall,
                    },
                    {
                        "name": "h2",
                        "positions": POSITIONS["h2"],
                        "power_kw": 110,
                        "air_cooling_kw": 80,
                        "fabric_gbps": 1500,
                        "facility_water": False,
                        "retrofits": ["aalc"],
                        "cpu_racks": {
                            "count": CPU["h2"],
                            "power_kw": 5,
                            "network_gbps": 50,
                            "retire_cost_usd": 1000,
                        },
                        **hall,
                    },
                ],
            }
        ],
    }


SCENARIO = planner.Scenario.model_validate(two_hall_dict())


def site_plan(spread: dict, behind: int, units: dict) -> planner.Plan:
    """The plan with ``spread`` = {hall: (air racks, liquid racks)}, ``behind`` of h1's air
    racks behind rear doors, these units and the CPU racks retired as in RETIRED. The liquid
    split has no choice: h1 has only a CDU, h2 only sidecars."""
    rows = []
    for hall, (x, y) in spread.items():
        k = behind if hall == "h1" else 0
        rows += [("s", hall, "P1", "air", "door", k), ("s", hall, "P1", "air", "", x - k)]
        rows.append(("s", hall, "P1", "liquid", "", y))
    racks = pd.DataFrame([r for r in rows if r[-1]], columns=acc.RACK_COLUMNS)
    retrofits = pd.DataFrame(
        [("s", h, "P1", o, KINDS[o], n, n) for (h, o), n in units.items() if n],
        columns=acc.RETROFIT_COLUMNS,
    )
    halls = pd.DataFrame(
        [
            (
                "s",
                h,
                "P1",
                RETIRED[h],
                CPU[h] - RETIRED[h],
                LIQUID_KW * spread[h][1] if h == "h1" else 0.0,
                LIQUID_KW * spread[h][1] if h == "h2" else 0.0,
            )
            for h in POSITIONS
        ],
        columns=acc.HALL_COLUMNS,
    )
    return planner.Plan.from_tables(SCENARIO, racks, retrofits, halls)


def hand_plan() -> planner.Plan:
    """3 air racks (one behind a door) and 3 liquid racks over the two halls."""
    return site_plan({"h1": (2, 2), "h2": (1, 1)}, 1, UNITS)


def _hall_passes(hall: str, x: int, y: int, behind: int, units: dict) -> bool:
    """Whether the hall's own rules pass with these racks (the other hall empty): the
    violations ``Plan.verify()`` places in this hall. Site rules are checked on spreads."""
    other = next(h for h in POSITIONS if h != hall)
    plan = site_plan({hall: (x, y), other: (0, 0)}, behind, units)
    return not [v for v in plan.verify() if v.hall == hall]


def brute_force(units: dict) -> set[tuple[int, int]]:
    """Every (air, liquid) total over the site that some spread over the two halls and some
    rear-door count passes, by ``Plan.verify()`` on the whole site. Each hall's own rules
    depend on that hall alone, so configurations that break them are dropped first."""
    return set(_brute_force(tuple(sorted(units.items()))))


@functools.cache
def _brute_force(items: tuple) -> frozenset:
    units = dict(items)
    doors = units.get(("h1", "door"), 0)
    fits = {
        hall: [
            (x, y, k)
            for x in range(POSITIONS[hall] + 1)
            for y in range(POSITIONS[hall] + 1)
            for k in range(min(x, doors if hall == "h1" else 0) + 1)
            if _hall_passes(hall, x, y, k, units)
        ]
        for hall in POSITIONS
    }
    found = set()
    for x1, y1, k in fits["h1"]:
        for x2, y2, _ in fits["h2"]:
            if (x1 + x2, y1 + y2) in found:
                continue
            if not site_plan({"h1": (x1, y1), "h2": (x2, y2)}, k, units).verify():
                found.add((x1 + x2, y1 + y2))
    return frozenset(found)


def _points(plan, retrofits: str) -> pd.DataFrame:
    n = sum(POSITIONS.values())
    return an.feasible_points(
        plan, None, "air", "liquid", retrofits=retrofits, site="s", x_max=n, y_max=n, step=1
    )


def test_the_hand_made_site_plan_is_sound():
    assert hand_plan().verify() == []


def test_brute_force_helper_is_not_trivial():
    """Rear doors (h1's room air), the chiller (site water) and a spread over both halls
    each matter for some point."""
    full = brute_force(UNITS)
    no_doors = brute_force({**UNITS, ("h1", "door"): 0})
    no_chiller = brute_force({**UNITS, ("", "chiller"): 0})
    assert no_doors < full and no_chiller < full
    assert any(x > POSITIONS["h1"] - 1 for x, _ in full)  # h1 has a CDU: 5 racks at most


@pytest.mark.parametrize("retrofits", ["plan", "none"])
def test_site_points_equal_brute_force(retrofits):
    plan = hand_plan()
    df = _points(plan, retrofits)
    n = sum(POSITIONS.values())
    assert len(df) == (n + 1) ** 2
    assert (df["site"] == "s").all() and (df["hall"] == "").all()
    ok = df[df["feasible"]]
    found = set(zip(ok["a_racks"], ok["b_racks"], strict=True))
    # "none": no unit in the site (its chiller too); CPU racks retired as planned
    units = UNITS if retrofits == "plan" else {}
    assert found == brute_force(units)
    if retrofits == "plan":
        assert (3, 3) in found  # the plan's own point
        # more air racks than either hall holds: only a spread over both fits
        assert any(x > max(POSITIONS.values()) for x, _ in found)
        assert 10 < len(found) < len(df)
    else:
        # liquid racks need a CDU or sidecars; air racks fit both halls as they stand
        assert {y for _, y in found} == {0} and (POSITIONS["h1"] + 1, 0) in found


def test_site_of_one_hall_agrees_with_the_hall_checker():
    """The door hall is the only hall of its site and its plan has no site-scope unit, so
    the site's points (the MILP) equal the hall's (the checker)."""
    plan = door_hall_plan()
    for retrofits in ("plan", "none"):
        kw = dict(retrofits=retrofits, x_max=10, y_max=8, step=1)
        hall = an.feasible_points(plan, "h", "hot-air", "liquid", **kw)
        site = an.feasible_points(plan, None, "hot-air", "liquid", site="s", **kw)
        assert site["feasible"].tolist() == hall["feasible"].tolist()
        assert hall["feasible"].sum() > (10 if retrofits == "plan" else 0)


@pytest.fixture(scope="module")
def region() -> an.FeasibleRegion:
    return an.feasible_region(hand_plan(), site="s", rack_a="air", rack_b="liquid", grid=21)


def test_site_region_holds_the_plan_and_its_best_points(region):
    assert (region.scope, region.hall, region.halls) == ("site", "", ("h1", "h2"))
    tops = {
        m: dict(zip(part["a_racks"], part["b_racks_max"], strict=True))
        for m, part in region.columns.groupby("retrofits")
    }
    for m, column in tops.items():
        ys = [column[x] for x in sorted(column)]
        assert ys == sorted(ys, reverse=True), m  # closed downwards
    pts = region.points.set_index("kind")
    px, py = pts.loc["optimum", "a_racks"], pts.loc["optimum", "b_racks"]
    assert (px, py) == (3, 3)
    for m in ("plan", "budget"):
        assert tops[m][px] >= py, m  # the plan's point is a sampled column of its regions
    for kind, row in pts.drop(index="optimum").iterrows():
        assert tops[kind][row["a_racks"]] == row["b_racks"]
    # the budget can buy more doors, a CDU and retirements: never less than the plan's
    assert all(tops["budget"][x] >= tops["plan"][x] for x in tops["plan"])
    assert pts.loc["budget", "pflops"] >= pts.loc["plan", "pflops"] >= pts.loc["optimum", "pflops"]
    # one more rack at the plan's best point breaks something, named with its hall
    assert pts.loc["plan", "stops_a"] and pts.loc["plan", "stops_b"]
    # site-total boundaries, and the site's own water and feed
    assert {"space", "power", "room_air", "facility_water", "feed"} <= set(region.rules["rule"])


def test_site_and_hall_are_given_one_at_a_time():
    plan = hand_plan()
    with pytest.raises(ValueError, match="not both"):
        an.feasible_region(plan, "h1", site="s")
    with pytest.raises(ValueError, match="unknown site"):
        an.feasible_points(plan, None, "air", "liquid", site="nowhere")
    assert an.site_pair(plan, "s") == ("liquid", "air")  # the plan's most PFLOPS first


def test_site_plot_renders_without_warnings(region):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plots.feasible_region(region)
        assert "site s" in ax.get_title() and "over the site's halls" in ax.get_xlabel()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("site total" in label for label in labels)
        assert any("the site as it stands" in label for label in labels)
        ax.figure.canvas.draw()
        plt.close(ax.figure)


def test_plot_command_draws_a_site(tmp_path):
    config = write_scenario(two_hall_dict(), tmp_path / "two-halls.yaml")
    out = tmp_path / "site.png"
    args = ["plot", "feasible", str(config), "--site", "s", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000 and mpimg.imread(out).std() > 0.05
    bad = CliRunner().invoke(app, [*args[:3], "--site", "s", "--hall", "h1"])
    assert bad.exit_code == 2
