"""What-if overrides (``planner.what_if``, ``--set PATH=VALUE``) and ``planner compare``.

Overrides are set on the tiny scenario of ``conftest`` by name, index and ``[*]``; bad
ones must fail like invalid files: a ScenarioError (exit 2 on the command line) naming the
override's path, never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import invoke
from conftest import tiny_scenario_dict
from typer.testing import CliRunner

import planner
from planner.scenario.overrides import apply_overrides, parse_assignment, parse_path

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
LEGACY = CONFIGS / "legacy-hall.yaml"
HALL = "sites[site-a].halls[hall-1]"

runner = CliRunner()


@pytest.fixture
def tiny() -> planner.Scenario:
    return planner.Scenario.model_validate(tiny_scenario_dict())


# -- paths that work -------------------------------------------------------------------------
def test_set_by_name_index_and_star(tiny):
    new = planner.what_if(
        tiny,
        {
            "rack_types[gpu-air].network_multiple": 32,
            "rack_types[1].capex_usd": 1.0e7,
            "retrofits[*].lead_periods": 1,
            f"{HALL}.power_kw": 450,
            "budget_usd_per_period[1]": 3.0e7,
            "periods[0]": "2023Q4",
        },
    )
    assert isinstance(new, planner.Scenario)
    assert new.rack_types[0].network_multiple == 32
    assert new.rack_types[1].capex_usd == 1.0e7
    assert [o.lead_periods for o in new.retrofits] == [1, 1, 1]
    assert new.sites[0].halls[0].power_kw == 450
    assert new.budgets() == [2.0e7, 3.0e7]
    assert new.periods == ["2023Q4", "2024Q2"]
    # the original is untouched, and everything not named is as it was
    assert tiny.rack_types[0].network_multiple == 8
    assert tiny.periods == ["2024Q1", "2024Q2"]
    assert new.rack_types[0].model_dump(exclude={"network_multiple"}) == tiny.rack_types[
        0
    ].model_dump(exclude={"network_multiple"})
    assert new.sites[0].halls[0].cpu_racks == tiny.sites[0].halls[0].cpu_racks


def test_unit_strings_are_converted_as_in_files(tiny):
    new = planner.what_if(
        tiny,
        {
            "sites[site-a].feed_kw": "12 MW",
            f"{HALL}.fabric_gbps": "80 Tbps",
            f"{HALL}.floor_kg_per_position": "1.5 t",
            "rack_types[gpu-liquid].network_gbps": "3.2 Tbps",
            "retrofits[busway].capacity": "0.5 MW",
        },
    )
    assert new.sites[0].feed_kw == 12000
    assert new.sites[0].halls[0].fabric_gbps == 80000
    assert new.sites[0].halls[0].floor_kg_per_position == 1500
    assert new.rack_types[1].network_gbps == 3200
    assert new.retrofits[0].capacity == 500


def test_nested_hall_paths_and_whole_values(tiny):
    new = planner.what_if(
        tiny,
        {
            f"{HALL}.cpu_racks.retire_cost_usd": None,
            f"{HALL}.retrofits": None,
            "sites[0].halls[0].max_air_rack_kw": 35,
            "sites[*].halls[*].facility_water": False,
        },
    )
    hall = new.sites[0].halls[0]
    assert hall.cpu_racks.retire_cost_usd is None
    assert hall.retrofits is None
    assert hall.max_air_rack_kw == 35
    assert hall.facility_water is False
    # a whole mapping, where the field was null
    data = tiny_scenario_dict()
    del data["sites"][0]["halls"][0]["cpu_racks"]
    bare = planner.Scenario.model_validate(data)
    new = planner.what_if(
        bare, {f"{HALL}.cpu_racks": {"count": 4, "power_kw": "8 kW", "network_gbps": 50}}
    )
    assert new.sites[0].halls[0].cpu_racks.count == 4


def test_switch_network_multiple_to_network_gbps(tiny):
    # both keys exist in the dump; the user clears one and sets the other
    new = planner.what_if(
        tiny,
        {"rack_types[gpu-air].network_multiple": None, "rack_types[gpu-air].network_gbps": 800},
    )
    assert new.rack_types[0].network_multiple is None
    assert new.rack_types[0].network_gbps == 800


def test_later_overrides_see_earlier_ones(tiny):
    new = planner.what_if(
        tiny, {"rack_types[gpu-air].name": "renamed", "rack_types[renamed].gpus": 4}
    )
    assert (new.rack_types[0].name, new.rack_types[0].gpus) == ("renamed", 4)


def test_quoted_selector_is_a_name(tiny):
    data = tiny_scenario_dict()
    data["sites"][0]["halls"][0]["name"] = "7"
    sc = planner.Scenario.model_validate(data)
    new = planner.what_if(sc, {"sites[site-a].halls['7'].positions": 30})
    assert new.sites[0].halls[0].positions == 30
    with pytest.raises(planner.ScenarioError) as info:
        planner.what_if(sc, {"sites[site-a].halls[7].positions": 30})  # digits: an index
    assert "index 7 is out of range" in str(info.value)


def test_what_if_takes_a_file_and_solving_stays_solve():
    sc = planner.what_if(LEGACY, {"sites[legacy-site].halls[hall-1].power_kw": "1 MW"})
    plan = planner.solve(sc)
    assert plan.verify() == []
    assert plan.gpus().iloc[0] == 8 * 93  # floor(1000 / 10.75) one-DGX racks


def test_parse_path():
    steps = parse_path("sites[prn].halls[0].retrofits[*]")
    assert [(s.kind, s.value) for s in steps] == [
        ("key", "sites"),
        ("name", "prn"),
        ("key", "halls"),
        ("index", 0),
        ("key", "retrofits"),
        ("all", None),
    ]


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("a.b=32", "a.b", 32),
        ("a=4.0e9", "a", 4.0e9),
        ("a=4e9", "a", 4.0e9),
        ("a=null", "a", None),
        ("a=12 MW", "a", "12 MW"),
        ("a=[1e9, 2e9]", "a", [1e9, 2e9]),
        ("a={count: 3, power_kw: 8}", "a", {"count": 3, "power_kw": 8}),
        ("a=true", "a", True),
        ("x[k=v].y = 2024Q1", "x[k=v].y", "2024Q1"),
    ],
)
def test_parse_assignment(text, path, value):
    assert parse_assignment(text) == (path, value)


# -- paths and values that fail ------------------------------------------------------------
BAD: list[tuple[str, dict, str, str]] = [
    # id, overrides, the path reported, words of its message
    ("unknown-top-key", {"colour": "red"}, "colour", "unknown key 'colour'"),
    (
        "unknown-rack-key",
        {"rack_types[gpu-air].colour": "red"},
        "rack_types[gpu-air].colour",
        "fields of rack_types[gpu-air] are: name, gpus",
    ),
    (
        "unknown-rack-name",
        {"rack_types[h100].gpus": 8},
        "rack_types[h100]",
        "no rack type named 'h100' (rack_types: gpu-air, gpu-liquid)",
    ),
    (
        "unknown-site",
        {"sites[xyz].feed_kw": "12 MW"},
        "sites[xyz]",
        "no site named 'xyz' (sites: site-a)",
    ),
    (
        "unknown-hall",
        {"sites[site-a].halls[b9].power_kw": 100},
        "sites[site-a].halls[b9]",
        "no hall named 'b9' in sites[site-a] (halls: hall-1)",
    ),
    (
        "index-out-of-range",
        {"rack_types[2].gpus": 8},
        "rack_types[2]",
        "index 2 is out of range (rack_types has 2 rack types: indices 0-1)",
    ),
    ("not-a-list", {"name[0]": "x"}, "name", "not a list"),
    ("list-without-selector", {"rack_types.gpus": 8}, "rack_types", "select elements"),
    ("no-fields", {"objective.kind": 1}, "objective", "has no fields"),
    ("malformed", {"rack_types[gpu-air.gpus": 8}, "rack_types[gpu-air.gpus", "malformed"),
    ("empty-selector", {"rack_types[].gpus": 8}, "rack_types[].gpus", "empty selector"),
    (
        "negative-power",
        {f"{HALL}.power_kw": -1},
        f"{HALL}.power_kw",
        "greater than or equal to 0",
    ),
    (
        "wrong-unit",
        {"sites[site-a].feed_kw": "3 Tbps"},
        "sites[site-a].feed_kw",
        "is not a quantity in kW",
    ),
    ("not-a-quantity", {f"{HALL}.positions": "many"}, f"{HALL}.positions", "valid integer"),
    (
        "bad-cooling",
        {"rack_types[0].cooling": "oil"},
        "rack_types[0].cooling",
        "'air' or 'liquid'",
    ),
    (
        "both-network-fields",
        {"rack_types[gpu-air].network_gbps": 400},
        "rack_types[gpu-air]",
        "both given",
    ),
    (
        "unknown-key-in-mapping-value",
        {f"{HALL}.cpu_racks": {"count": 1, "power_kw": 8, "network_gbps": 50, "age": 9}},
        f"{HALL}.cpu_racks.age",
        "unknown key",
    ),
    (
        "unknown-retrofit-in-hall-list",
        {f"{HALL}.retrofits": ["busway", "cdu-9"]},
        f"{HALL}.retrofits[1]",
        "unknown retrofit 'cdu-9'",
    ),
    (
        "budget-list-length",
        {"budget_usd_per_period": [1e7]},
        "budget_usd_per_period",
        "has 1 entries but there are 2 periods",
    ),
    (
        "periods-change-breaks-budget",
        {"periods": ["2024Q1", "2024Q2", "2024Q3"]},
        "budget_usd_per_period",
        "after overrides: periods",
    ),
    (
        "field-of-null",
        {"reference_rack": None, "reference_rack.network_gbps": 100},
        "reference_rack",
        "null: set it whole",
    ),
    (
        "star-names-each-element",
        {"rack_types[*].power_kw": 0},
        "rack_types[gpu-liquid].power_kw",
        "override rack_types[*].power_kw",
    ),
    (
        "star-on-empty",
        {f"{HALL}.retrofits": [], f"{HALL}.retrofits[*]": "x"},
        f"{HALL}.retrofits[*]",
        "is empty: [*] selects nothing",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "path", "words"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_overrides_name_their_path(tiny, overrides, path, words):
    with pytest.raises(planner.ScenarioError) as info:
        planner.what_if(tiny, overrides)
    problems = info.value.problems
    assert problems, "no problem listed"
    matching = [p for p in problems if p.path == path and words in p.message]
    assert matching, f"expected {path}: ...{words}...; got {[str(p) for p in problems]}"


def test_every_bad_override_is_reported_at_once(tiny):
    with pytest.raises(planner.ScenarioError) as info:
        apply_overrides(tiny, {"rack_types[x].gpus": 1, "sites[y].feed_kw": 1, "colour": 1})
    assert [p.path for p in info.value.problems] == ["rack_types[x]", "sites[y]", "colour"]
    with pytest.raises(planner.ScenarioError) as info:
        apply_overrides(tiny, {f"{HALL}.power_kw": -1, "rack_types[gpu-air].gpus": -8})
    assert {p.path for p in info.value.problems} == {
        f"{HALL}.power_kw",
        "rack_types[gpu-air].gpus",
    }


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("rack_types[gpu-air].gpus", "rack_types[gpu-air].gpus", "expected PATH=VALUE"),
        ("=5", "=5", "the path is empty"),
        ("rack_types[gpu-air].gpus=", "rack_types[gpu-air].gpus", "no value"),
        ("budget_usd_per_period=[1e7, 2e7", "budget_usd_per_period", "cannot read the value"),
    ],
)
def test_bad_assignments(text, path, words):
    with pytest.raises(planner.ScenarioError) as info:
        parse_assignment(text)
    (problem,) = info.value.problems
    assert problem.path == path and words in problem.message


# -- the command line: --set ------------------------------------------------------------------
def test_validate_and_solve_with_set(tmp_path, tiny_yaml):
    result = invoke(
        "validate", tiny_yaml, "--set", "periods=[2024Q1]", "--set", "budget_usd_per_period=1e7"
    )
    assert result.exit_code == 0, result.output
    assert "1 period," in result.output

    base = invoke("solve", tiny_yaml, "--out", tmp_path / "base", "--no-baseline")
    rich = invoke(
        "solve",
        tiny_yaml,
        "--out",
        tmp_path / "rich",
        "--no-baseline",
        "--set",
        "budget_usd_per_period=null",
        "--set",
        f"{HALL}.power_kw=1 MW",
    )
    assert base.exit_code == 0 and rich.exit_code == 0, rich.output
    a = planner.Plan.from_json(tmp_path / "base" / "plan.json")
    b = planner.Plan.from_json(tmp_path / "rich" / "plan.json")
    assert b.scenario.budget_usd_per_period is None
    assert b.scenario.sites[0].halls[0].power_kw == 1000
    assert b.verify() == []
    assert b.objective > a.objective


@pytest.mark.parametrize("command", ["validate", "solve"])
@pytest.mark.parametrize(
    ("assignment", "path", "words"),
    [
        ("rack_types[h100].gpus=8", "rack_types[h100]", "no rack type named 'h100'"),
        ("rack_types[7].gpus=8", "rack_types[7]", "out of range"),
        (f"{HALL}.power_kw=-5", f"{HALL}.power_kw", "greater than or equal to 0"),
        ("sites[site-a].feed_kw=3 Tbps", "sites[site-a].feed_kw", "not a quantity in kW"),
        ("rack_types[gpu-air].colour=red", "rack_types[gpu-air].colour", "unknown key"),
        ("rack_types[gpu-air].gpus", "rack_types[gpu-air].gpus", "expected PATH=VALUE"),
        ("budget_usd_per_period=[1e7", "budget_usd_per_period", "cannot read the value"),
    ],
)
def test_bad_set_exits_2_naming_the_path(tmp_path, tiny_yaml, command, assignment, path, words):
    out = tmp_path / "out"
    extra = ["--out", out] if command == "solve" else []
    result = invoke(command, tiny_yaml, *extra, "--set", assignment)
    assert result.exit_code == 2, result.output
    assert "with --set: invalid scenario" in result.output
    assert re.search(rf"^  {re.escape(path)}: .*{re.escape(words)}", result.output, re.M), (
        result.output
    )
    assert not out.exists()


# -- the command line: compare --------------------------------------------------------------------
def test_compare_legacy_hall_with_retrofits_allowed():
    result = invoke("compare", LEGACY, "--set", "sites[legacy-site].halls[hall-1].retrofits=null")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "B: " in text and "with --set" in text
    # the hall as shipped: 1,488 GPUs; with the catalog allowed: 3,408 (configs/README.md)
    assert re.search(r"2023Q1\s*│\s*1,488 -> 3,408\s*│", text), text
    for option in ("cdu-1200kw", "aalc-20kw", "power-1mw", "floor-1500kg", "site-water-1200kw"):
        assert option in text
    assert "hgx-h100-liquid" in text  # racks that differ
    assert "Binding limits in only one" in text and "room_air" in text


def test_compare_two_shipped_scenarios():
    result = invoke("compare", LEGACY, CONFIGS / "catalina-aalc.yaml")
    assert result.exit_code == 0, result.output
    for words in ("legacy-hall", "catalina-aalc", "2023Q1", "2025Q4", "catalina-nvl36"):
        assert words in result.output


def test_compare_scenario_with_plan_file(tmp_path, tiny_yaml):
    out = tmp_path / "out"
    assert invoke("solve", tiny_yaml, "--out", out, "--no-baseline").exit_code == 0
    plan_file = out / "plan.json"

    same = invoke("compare", tiny_yaml, plan_file)
    assert same.exit_code == 0, same.output
    assert "plan file" in same.output
    assert "agree on every figure" in same.output

    # a plan file is detected by content, whatever its name
    renamed = tmp_path / "renamed.txt"
    renamed.write_text(plan_file.read_text())
    assert invoke("compare", renamed, tiny_yaml).exit_code == 0

    more = invoke("compare", plan_file, "--set", "budget_usd_per_period=4e7")
    assert more.exit_code == 0, more.output
    assert "the plan's scenario with --set" in more.output
    assert "agree on every figure" not in more.output
    assert re.search(r"2024Q1\s*│.*->", more.output), more.output  # something changed


def test_compare_exit_codes(tmp_path, tiny_yaml):
    bad = invoke("compare", tiny_yaml, "--set", "rack_types[nope].gpus=1")
    assert bad.exit_code == 2
    assert "rack_types[nope]" in bad.output
    impossible = invoke("compare", tiny_yaml, "--set", "gpu_targets=[1e6, 1e6]")
    assert impossible.exit_code == 3, impossible.output
    junk = tmp_path / "junk.yaml"
    junk.write_text("name: [unclosed\n")
    assert invoke("compare", junk, tiny_yaml).exit_code == 2


def test_compare_plans_from_python(tiny):
    a = planner.solve(tiny)
    b = planner.solve(planner.what_if(tiny, {"budget_usd_per_period": "40e6"}))
    diff = planner.compare_plans(a, b)
    assert list(diff.periods["period"]) == ["2024Q1", "2024Q2"]
    assert list(diff.periods["gpus_a"]) == list(a.gpus())
    assert list(diff.periods["gpus_b"]) == list(b.gpus())
    assert not diff.same
    assert planner.compare_plans(a, a).same
    # print() shows the comparison's tables, not a dataclass repr
    text = str(diff)
    assert "Totals" in text and "Per period (A -> B" in text
    assert "PlanComparison(" not in text and "->" in text
    assert repr(diff) == "<PlanComparison tiny vs tiny: different>"
    assert "agree on every figure" in str(planner.compare_plans(a, a))


def test_every_problem_of_several_sets_is_reported_at_once():
    # a malformed assignment, an unknown path and two bad values, in one report
    result = invoke(
        "validate",
        CONFIGS / "legacy-hall.yaml",
        "--set",
        "oops",
        "--set",
        "sites[xyz].feed_kw=12 MW",
        "--set",
        "rack_types[0].power_kw=-5",
        "--set",
        "budget_usd_total=-3",
    )
    assert result.exit_code == 2
    assert "invalid scenario (4 problems)" in result.output
    for words in (
        "oops: expected PATH=VALUE",
        "sites[xyz]: no site named 'xyz'",
        "rack_types[0].power_kw",
        "budget_usd_total",
    ):
        assert words in result.output, words
    # the same from Python: a path problem does not hide a value problem
    base = planner.load_scenario(CONFIGS / "legacy-hall.yaml")
    with pytest.raises(planner.ScenarioError) as caught:
        apply_overrides(base, {"sites[xyz].feed_kw": 1, "rack_types[0].power_kw": -5})
    assert [p.path for p in caught.value.problems] == ["sites[xyz]", "rack_types[0].power_kw"]
