"""Scenario files: validation problems by path and line, units, loading, defaults, schema.

Broken inputs are one mutation each of :func:`conftest.tiny_scenario_dict`, run through the
command line (``planner validate`` and, for some, ``planner solve``), which must exit 2 and
name the exact path of the problem, never with a traceback.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from builders import first_hall as hall
from builders import invoke
from conftest import tiny_scenario_dict, write_scenario
from typer.testing import CliRunner

import planner
from planner.scenario.units import to_unit

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))

runner = CliRunner()


def problem_lines(output: str) -> dict[str, list[int | None]]:
    """``path -> [line, ...]`` of every problem the CLI listed (``  path (line N): msg``)."""
    found: dict[str, list[int | None]] = {}
    for match in re.finditer(r"^  (\S+?)(?: \(line (\d+)\))?: ", output, re.M):
        found.setdefault(match[1], []).append(int(match[2]) if match[2] else None)
    return found


# -- the table of broken inputs ----------------------------------------------------------
Mutation = Callable[[dict], object]

BROKEN: list[tuple[str, Mutation, str, str]] = [
    # id, mutation of the tiny scenario, exact path reported, words of the message
    (
        "negative-hall-power",
        lambda d: hall(d).update(power_kw=-5),
        "sites[0].halls[0].power_kw",
        "greater than or equal to 0",
    ),
    (
        "zero-rack-power",
        lambda d: d["rack_types"][0].update(power_kw=0),
        "rack_types[0].power_kw",
        "greater than 0",
    ),
    (
        "negative-site-feed",
        lambda d: d["sites"][0].update(feed_kw="-1 MW"),
        "sites[0].feed_kw",
        "greater than or equal to 0",
    ),
    (
        "negative-budget-entry",
        lambda d: d.update(budget_usd_per_period=[2e7, -1]),
        "budget_usd_per_period[1]",
        "greater than or equal to 0",
    ),
    (
        "negative-gpu-target",
        lambda d: d.update(gpu_targets=[0, -8]),
        "gpu_targets[1]",
        "greater than or equal to 0",
    ),
    (
        "liquid-fraction-above-1",
        lambda d: d["rack_types"][1].update(liquid_fraction=1.5),
        "rack_types[1].liquid_fraction",
        "less than or equal to 1",
    ),
    (
        "infinite-power",
        lambda d: hall(d).update(power_kw=float("inf")),
        "sites[0].halls[0].power_kw",
        "finite number",
    ),
    (
        "boolean-power",
        lambda d: hall(d).update(power_kw=True),
        "sites[0].halls[0].power_kw",
        "expected a quantity in kW",
    ),
    (
        "missing-field",
        lambda d: hall(d).pop("air_cooling_kw"),
        "sites[0].halls[0].air_cooling_kw",
        "required field is missing",
    ),
    (
        "unknown-retrofit-in-hall",
        lambda d: hall(d)["retrofits"].append("nope"),
        "sites[0].halls[0].retrofits[2]",
        "unknown retrofit 'nope'",
    ),
    (
        "retrofit-listed-twice",
        lambda d: hall(d)["retrofits"].append("busway"),
        "sites[0].halls[0].retrofits[2]",
        "listed twice",
    ),
    (
        "site-option-in-hall",
        lambda d: hall(d)["retrofits"].append("chiller"),
        "sites[0].halls[0].retrofits[2]",
        "site-scope option",
    ),
    (
        "budget-list-too-long",
        lambda d: d.update(budget_usd_per_period=[1e7, 1e7, 1e7]),
        "budget_usd_per_period",
        "has 3 entries but there are 2 periods",
    ),
    (
        "budget-list-too-short",
        lambda d: d.update(budget_usd_per_period=[1e7]),
        "budget_usd_per_period",
        "has 1 entries but there are 2 periods",
    ),
    (
        "gpu-targets-too-short",
        lambda d: d.update(gpu_targets=[8]),
        "gpu_targets",
        "has 1 entries but there are 2 periods",
    ),
    (
        "gpu-targets-too-long",
        lambda d: d.update(gpu_targets=[8, 8, 8]),
        "gpu_targets",
        "has 3 entries but there are 2 periods",
    ),
    (
        "network-both",
        lambda d: d["rack_types"][0].update(network_gbps=400),
        "rack_types[0]",
        "exactly one of network_multiple or network_gbps (both given)",
    ),
    (
        "network-neither",
        lambda d: d["rack_types"][1].pop("network_gbps"),
        "rack_types[1]",
        "exactly one of network_multiple or network_gbps (neither given)",
    ),
    (
        "network-multiple-without-reference",
        lambda d: d.pop("reference_rack"),
        "rack_types[0].network_multiple",
        "needs reference_rack.network_gbps",
    ),
    (
        "MW-for-fabric",
        lambda d: hall(d).update(fabric_gbps="1.2 MW"),
        "sites[0].halls[0].fabric_gbps",
        "not a quantity in Gbps",
    ),
    (
        "Tbps-for-power",
        lambda d: hall(d).update(power_kw="80 Tbps"),
        "sites[0].halls[0].power_kw",
        "not a quantity in kW",
    ),
    (
        "tonnes-for-capex",
        lambda d: d["rack_types"][0].update(capex_usd="2 t"),
        "rack_types[0].capex_usd",
        "not a quantity in USD",
    ),
    (
        "kW-for-weight",
        lambda d: d["rack_types"][0].update(weight_kg="3 kW"),
        "rack_types[0].weight_kg",
        "not a quantity in kg",
    ),
    (
        "tonnes-for-cpu-network",
        lambda d: hall(d)["cpu_racks"].update(network_gbps="1.5 t"),
        "sites[0].halls[0].cpu_racks.network_gbps",
        "not a quantity in Gbps",
    ),
    (
        "Gbps-for-power-retrofit",
        lambda d: d["retrofits"][0].update(capacity="400 Gbps"),
        "retrofits[0].capacity",
        "not a quantity in kW",
    ),
    (
        "unreadable-quantity",
        lambda d: hall(d).update(air_cooling_kw="lots"),
        "sites[0].halls[0].air_cooling_kw",
        "cannot read 'lots'",
    ),
    ("unknown-key-top-level", lambda d: d.update(colour="red"), "colour", "unknown key"),
    (
        "unknown-key-in-cpu-racks",
        lambda d: hall(d)["cpu_racks"].update(racks=3),
        "sites[0].halls[0].cpu_racks.racks",
        "unknown key",
    ),
    (
        "unknown-key-in-retrofit",
        lambda d: d["retrofits"][1].update(units=2),
        "retrofits[1].units",
        "unknown key",
    ),
    (
        "typo-in-reference-rack",
        lambda d: d["reference_rack"].update(network_gpbs=1),
        "reference_rack.network_gpbs",
        "unknown key",
    ),
    (
        "duplicate-rack-type",
        lambda d: d["rack_types"][1].update(name="gpu-air"),
        "rack_types[1].name",
        "duplicate name 'gpu-air' (also at rack_types[0])",
    ),
    (
        "duplicate-retrofit",
        lambda d: d["retrofits"].append(copy.deepcopy(d["retrofits"][0])),
        "retrofits[3].name",
        "duplicate name 'busway' (also at retrofits[0])",
    ),
    (
        "duplicate-site",
        lambda d: d["sites"].append(copy.deepcopy(d["sites"][0])),
        "sites[1].name",
        "duplicate name 'site-a' (also at sites[0])",
    ),
    (
        "duplicate-hall-in-site",
        lambda d: d["sites"][0]["halls"].append(copy.deepcopy(hall(d))),
        "sites[0].halls[1].name",
        "duplicate name 'hall-1' (also at sites[0].halls[0])",
    ),
    (
        "liquid-rack-liquid-fraction-0",
        lambda d: d["rack_types"][1].update(liquid_fraction=0),
        "rack_types[1].liquid_fraction",
        "liquid-cooled rack needs liquid_fraction > 0",
    ),
    (
        "air-rack-liquid-fraction",
        lambda d: d["rack_types"][0].update(liquid_fraction=0.3),
        "rack_types[0].liquid_fraction",
        "air-cooled rack has liquid_fraction 0",
    ),
    (
        "liquid-fraction-not-a-number",
        lambda d: d["rack_types"][1].update(liquid_fraction="x"),
        "rack_types[1].liquid_fraction",
        "valid number",
    ),
    (
        "missing-cooling",
        lambda d: d["rack_types"][1].pop("cooling"),
        "rack_types[1].cooling",
        "required field is missing",
    ),
    (
        "cpu-count-not-a-number",
        lambda d: hall(d)["cpu_racks"].update(count="many"),
        "sites[0].halls[0].cpu_racks.count",
        "valid integer",
    ),
    (
        "min-cost-without-targets",
        lambda d: d.update(objective="min_cost"),
        "gpu_targets",
        "objective min_cost needs gpu_targets",
    ),
    (
        "unknown-objective",
        lambda d: d.update(objective="max_fun"),
        "objective",
        "'max_compute' or 'min_cost'",
    ),
    (
        "unknown-retrofit-kind",
        lambda d: d["retrofits"][0].update(kind="teleporter"),
        "retrofits[0].kind",
        "Input should be 'power'",
    ),
    (
        "unknown-cooling",
        lambda d: d["rack_types"][0].update(cooling="immersion"),
        "rack_types[0].cooling",
        "'air' or 'liquid'",
    ),
    (
        "cpu-racks-exceed-positions",
        lambda d: hall(d)["cpu_racks"].update(count=25),
        "sites[0].halls[0].cpu_racks.count",
        "exceeds the hall's positions (20)",
    ),
    (
        "duplicate-period",
        lambda d: d.update(periods=["2024Q1", "2024Q1"]),
        "periods[1]",
        "duplicate period '2024Q1'",
    ),
    (
        "rack-positions-0",
        lambda d: d["rack_types"][0].update(positions=0),
        "rack_types[0].positions",
        "greater than or equal to 1",
    ),
    ("no-halls", lambda d: d["sites"][0].update(halls=[]), "sites[0].halls", "at least 1 item"),
]

#: cases also run through ``planner solve``: it must refuse them the same way
SOLVE_TOO = {
    "negative-hall-power",
    "unknown-retrofit-in-hall",
    "network-both",
    "MW-for-fabric",
    "cpu-racks-exceed-positions",
    "min-cost-without-targets",
}


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [pytest.param(m, p, w, id=i) for i, m, p, w in BROKEN],
)
def test_broken_scenario_is_refused_with_its_path(tmp_path, request, mutate, path, words):
    data = tiny_scenario_dict()
    mutate(data)
    config = write_scenario(data, tmp_path / "broken.yaml")
    commands = [["validate", config]]
    if request.node.callspec.id in SOLVE_TOO:
        commands.append(["solve", config, "--out", tmp_path / "out"])
    for command in commands:
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        assert "invalid scenario (1 problem)" in result.output, result.output
        found = problem_lines(result.output)
        assert list(found) == [path], result.output
        assert words in result.output
        # every problem of a YAML file comes with its line
        assert found[path][0] is not None
    assert not (tmp_path / "out").exists()


def test_table_ids_are_unique():
    ids = [case[0] for case in BROKEN]
    assert len(ids) == len(set(ids))


# -- several problems in one hand-written file, with their lines ---------------------------
SEVERAL = """\
name: several
periods: [2024Q1, 2024Q2]
budget_usd_per_period: [1.0e7, 1.0e7, 1.0e7]   # @budget
colour: red                                    # @colour
reference_rack: {network_gbps: 50}
rack_types:
  - name: gpu-air
    gpus: 8
    power_kw: 15
    cooling: air
    network_multiple: 8
    weight_kg: 900
    capex_usd: 2 t                             # @capex
    pflops: 8
  - name: gpu-air                              # @dup-name
    gpus: 32
    power_kw: 60
    cooling: liquid
    liquid_fraction: 0                         # @liquid
    network_gbps: 1600
    weight_kg: 1100
    capex_usd: 1.2e7
    pflops: 40
retrofits:
  - {name: busway, kind: power, capacity: 200, cost_usd: 3.0e5}
  - {name: chiller, kind: site_water, capacity: 500, cost_usd: 8.0e5}
sites:
  - name: site-a
    feed_kw: 1500
    halls:
      - name: hall-1
        positions: 20
        power_kw: -300                         # @power
        air_cooling_kw: 300
        max_air_rack_kw: 20
        floor_kg_per_position: 1200
        fabric_gbps: 1.2 MW                    # @fabric
        retrofits:
          - busway
          - nope                               # @unknown
          - chiller                            # @site-scope
        cpu_racks:
          count: 25                            # @cpu-count
          power_kw: 8
          network_gbps: 50
          colour: blue                         # @nested-key
"""

SEVERAL_EXPECTED = {
    "budget_usd_per_period": ("@budget", "has 3 entries but there are 2 periods"),
    "colour": ("@colour", "unknown key"),
    "rack_types[0].capex_usd": ("@capex", "not a quantity in USD"),
    "rack_types[1].name": ("@dup-name", "duplicate name 'gpu-air'"),
    "rack_types[1].liquid_fraction": ("@liquid", "needs liquid_fraction > 0"),
    "sites[0].halls[0].power_kw": ("@power", "greater than or equal to 0"),
    "sites[0].halls[0].fabric_gbps": ("@fabric", "not a quantity in Gbps"),
    "sites[0].halls[0].retrofits[1]": ("@unknown", "unknown retrofit 'nope'"),
    "sites[0].halls[0].retrofits[2]": ("@site-scope", "site-scope option"),
    "sites[0].halls[0].cpu_racks.count": ("@cpu-count", "exceeds the hall's positions"),
    "sites[0].halls[0].cpu_racks.colour": ("@nested-key", "unknown key"),
}


def _line_of(text: str, marker: str) -> int:
    (line,) = [n for n, row in enumerate(text.splitlines(), 1) if row.endswith(marker)]
    return line


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    config = tmp_path / "several.yaml"
    config.write_text(SEVERAL, encoding="utf-8")

    with pytest.raises(planner.ScenarioError) as info:
        planner.load_scenario(config)
    got = {(p.path, p.line) for p in info.value.problems}
    want = {(path, _line_of(SEVERAL, marker)) for path, (marker, _) in SEVERAL_EXPECTED.items()}
    assert got == want
    messages = {p.path: p.message for p in info.value.problems}
    for path, (_, words) in SEVERAL_EXPECTED.items():
        assert words in messages[path], (path, messages[path])
    # reported in file order
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines)

    for command in ("validate", "solve"):
        result = invoke(command, config)
        assert result.exit_code == 2, result.output
        assert f"({len(SEVERAL_EXPECTED)} problems)" in result.output
        found = problem_lines(result.output)
        assert {path: lines[0] for path, lines in found.items()} == {
            path: _line_of(SEVERAL, marker) for path, (marker, _) in SEVERAL_EXPECTED.items()
        }


def test_lines_of_a_json_file_are_reported(tmp_path):
    data = tiny_scenario_dict()
    hall(data)["power_kw"] = -7
    config = write_scenario(data, tmp_path / "broken.json")
    with pytest.raises(planner.ScenarioError) as info:
        planner.load_scenario(config)
    (problem,) = info.value.problems
    assert problem.path == "sites[0].halls[0].power_kw"
    assert problem.line == _line_of(config.read_text(), '"power_kw": -7,')


def test_scenario_error_lists_every_problem_in_its_message(tmp_path):
    config = tmp_path / "several.yaml"
    config.write_text(SEVERAL, encoding="utf-8")
    with pytest.raises(planner.ScenarioError) as info:
        planner.load_scenario(config)
    text = str(info.value)
    assert str(config) in text
    assert f"{len(SEVERAL_EXPECTED)} problems" in text
    for problem in info.value.problems:
        assert str(problem) in text
        assert isinstance(problem, planner.Problem)


def _nodes(data, loc=()):
    """The loc of every node (leaf or not) of nested dicts and lists, the root excepted."""
    if loc:
        yield loc
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _nodes(value, (*loc, i))


def _set(data, loc, value):
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


@pytest.mark.parametrize("junk", ["abc", None, [], {}, True, -1, 1e400, "1 MW", [None]], ids=repr)
def test_junk_anywhere_is_a_scenario_error_not_a_crash(junk):
    """Replace each part of the tiny scenario with junk: the result is a valid scenario or a
    ScenarioError whose problems have paths, never another exception."""
    for loc in _nodes(tiny_scenario_dict()):
        data = tiny_scenario_dict()
        _set(data, loc, copy.deepcopy(junk))
        try:
            planner.scenario.validate_document(data)
        except planner.ScenarioError as exc:
            assert exc.problems, loc
            assert all(p.path and p.message for p in exc.problems), loc


# -- units --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("1.2 MW", "kW", 1200.0),
        ("300 kW", "kW", 300.0),
        ("250000 W", "kW", 250.0),
        ("80 Tbps", "Gbps", 80000.0),
        ("400 Gbps", "Gbps", 400.0),
        ("800 Mbps", "Gbps", 0.8),
        ("1.5 t", "kg", 1500.0),
        ("1400 kg", "kg", 1400.0),
        ("4.0e9", "USD", 4.0e9),
        ("1e6", "USD", 1.0e6),
        ("20 MUSD", "USD", 2.0e7),
        ("1_000", "kW", 1000.0),
        (" 12 ", "kW", 12.0),
        (41, "kW", 41),
        (4.5, "Gbps", 4.5),
    ],
)
def test_to_unit_converts(text, unit, value):
    assert to_unit(text, unit) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "unit", "words"),
    [
        ("1.2 MW", "Gbps", "not a quantity in Gbps"),
        ("80 Tbps", "kW", "not a quantity in kW"),
        ("2 t", "USD", "not a quantity in USD"),
        ("3 kW", "kg", "not a quantity in kg"),
        ("lots", "kW", "cannot read 'lots'"),
        ("5 parsecs of cable", "Gbps", "cannot read"),
        (True, "kW", "expected a quantity in kW"),
    ],
)
def test_to_unit_refuses(text, unit, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        to_unit(text, unit)


def test_quantities_with_units_are_converted_to_field_units(tiny_dict):
    d = tiny_dict
    h = hall(d)
    h.update(
        power_kw="1.2 MW",
        fabric_gbps="80 Tbps",
        floor_kg_per_position="1.5 t",
        air_cooling_kw="0.9 MW",
        max_air_rack_kw="20000 W",
    )
    h["cpu_racks"].update(network_gbps="400 Gbps", power_kw="8 kW", retire_cost_usd="2e4")
    d["sites"][0].update(feed_kw="1.5 MW", facility_water_kw="0.2 MW")
    d["rack_types"][0].update(weight_kg="1.5 t", power_kw="15 kW", capex_usd="4.0e6")
    d["rack_types"][1].update(network_gbps="1.6 Tbps")
    d["budget_usd_per_period"] = ["20 MUSD", "2.0e7"]
    d["retrofits"].extend(
        [
            {"name": "spine", "kind": "fabric", "capacity": "3.2 Tbps", "cost_usd": "1e6"},
            {"name": "door", "kind": "rdhx", "capacity": "40 kW", "cost_usd": 2.5e4},
            {"name": "door-big", "kind": "rdhx", "capacity": "0.06 MW", "cost_usd": 4.0e4},
            {"name": "slab", "kind": "floor", "capacity": "2 t", "cost_usd": 1e5},
            {"name": "utility", "kind": "site_feed", "capacity": "2 MW", "cost_usd": 1e6},
        ]
    )
    h["retrofits"] = None
    sc = planner.Scenario.model_validate(d)
    h = sc.sites[0].halls[0]
    assert h.power_kw == 1200.0
    assert h.fabric_gbps == 80000.0
    assert h.floor_kg_per_position == 1500.0
    assert h.air_cooling_kw == 900.0
    assert h.max_air_rack_kw == 20.0
    assert h.cpu_racks.network_gbps == 400.0
    assert h.cpu_racks.power_kw == 8.0
    assert h.cpu_racks.retire_cost_usd == 20000.0
    assert sc.sites[0].feed_kw == 1500.0
    assert sc.sites[0].facility_water_kw == 200.0
    assert sc.rack_types[0].weight_kg == 1500.0
    assert sc.rack_types[0].power_kw == 15.0
    assert sc.rack_types[0].capex_usd == 4.0e6
    assert sc.rack_types[1].network_gbps == 1600.0
    assert sc.budget_usd_per_period == [2.0e7, 2.0e7]
    capacity = {o.name: o.capacity for o in sc.retrofits}
    assert capacity["spine"] == 3200.0  # fabric capacity is in Gbps
    assert capacity["door"] == 40.0  # rdhx capacity is kW per rack
    assert capacity["door-big"] == 60.0
    assert capacity["slab"] == 2000.0  # floor capacity is kg per position
    assert capacity["utility"] == 2000.0
    assert {o.name: o.cost_usd for o in sc.retrofits}["spine"] == 1.0e6
    for value in (h.power_kw, h.fabric_gbps, sc.rack_types[0].weight_kg, capacity["spine"]):
        assert type(value) is float


def test_unit_strings_are_read_from_a_yaml_file(tmp_path):
    data = tiny_scenario_dict()
    hall(data).update(power_kw="1.2 MW", fabric_gbps="80 Tbps", floor_kg_per_position="1.5 t")
    data["rack_types"][0]["weight_kg"] = "1.5 t"
    sc = planner.load_scenario(write_scenario(data, tmp_path / "units.yaml"))
    assert sc.sites[0].halls[0].power_kw == 1200.0
    assert sc.sites[0].halls[0].fabric_gbps == 80000.0
    assert sc.sites[0].halls[0].floor_kg_per_position == 1500.0
    assert sc.rack_types[0].weight_kg == 1500.0


EXPONENTS = """\
name: exponents
periods: [2024Q1, 2024Q2]
budget_usd_per_period: 4.0e9
budget_usd_total: 1e10
gpu_targets: [1e1, 2.0e1]
reference_rack: {network_gbps: 5e1}
rack_types:
  - name: gpu-air
    gpus: 8
    power_kw: 1.5e1
    cooling: air
    network_multiple: 8
    weight_kg: 9E2
    capex_usd: "4.0e6"
    pflops: 8e0
  - {name: gpu-liquid, gpus: 32, power_kw: 60, cooling: liquid, liquid_fraction: 8e-1,
     network_gbps: 1.6e+3, weight_kg: 1100, capex_usd: 1.2e+7, pflops: 40}
retrofits:
  - {name: busway, kind: power, capacity: 2e2, cost_usd: 3E5}
  - {name: cdu, kind: cdu, capacity: 300, cost_usd: '5e5', max_units: 2}
sites:
  - name: site-a
    feed_kw: 1.5e3
    facility_water_kw: 2e2
    halls:
      - name: hall-1
        positions: 20
        power_kw: 3e2
        air_cooling_kw: 300
        max_air_rack_kw: 20
        floor_kg_per_position: 1.2e3
        fabric_gbps: 4e3
        facility_water: true
        cpu_racks: {count: 10, power_kw: 8, network_gbps: 50, retire_cost_usd: 2e4}
"""


def test_exponent_numbers_in_yaml_are_numbers(tmp_path):
    """PyYAML (YAML 1.1) reads a bare ``4.0e9`` or ``1e6`` as a string; the loader reads it
    as a number, and a quoted numeric string is a number too."""
    assert yaml.safe_load("x: 4.0e9\ny: 1e6\n") == {"x": "4.0e9", "y": "1e6"}
    config = tmp_path / "exponents.yaml"
    config.write_text(EXPONENTS, encoding="utf-8")

    sc = planner.load_scenario(config)
    assert sc.budget_usd_per_period == 4.0e9
    assert sc.budgets() == [4.0e9, 4.0e9]
    assert sc.budget_usd_total == 1.0e10
    assert sc.gpu_targets == [10.0, 20.0]
    assert sc.reference_rack.network_gbps == 50.0
    air, liquid = sc.rack_types
    assert (air.power_kw, air.weight_kg, air.capex_usd, air.pflops) == (15.0, 900.0, 4.0e6, 8.0)
    assert (liquid.liquid_fraction, liquid.network_gbps, liquid.capex_usd) == (0.8, 1600.0, 1.2e7)
    assert [(o.capacity, o.cost_usd) for o in sc.retrofits] == [(200.0, 3.0e5), (300.0, 5.0e5)]
    site = sc.sites[0]
    assert (site.feed_kw, site.facility_water_kw) == (1500.0, 200.0)
    h = site.halls[0]
    assert (h.power_kw, h.floor_kg_per_position, h.fabric_gbps) == (300.0, 1200.0, 4000.0)
    assert h.cpu_racks.retire_cost_usd == 2.0e4
    # labels that merely start with digits stay labels
    assert sc.periods == ["2024Q1", "2024Q2"]
    assert invoke("validate", config).exit_code == 0


# -- loading ------------------------------------------------------------------------------
def test_yaml_and_json_load_the_same(tmp_path):
    data = tiny_scenario_dict()
    hall(data)["power_kw"] = "1.2 MW"
    data["budget_usd_per_period"] = 4.0e9
    from_yaml = planner.load_scenario(write_scenario(data, tmp_path / "s.yaml"))
    from_json = planner.load_scenario(write_scenario(data, tmp_path / "s.json"))
    assert isinstance(from_yaml, planner.Scenario)
    assert from_yaml.model_dump() == from_json.model_dump()
    assert from_yaml == planner.Scenario.model_validate(data)
    # a .yml suffix and an upper-case .JSON suffix work too
    yml = tmp_path / "s.yml"
    yml.write_text((tmp_path / "s.yaml").read_text())
    upper = tmp_path / "S.JSON"
    upper.write_text((tmp_path / "s.json").read_text())
    assert planner.load_scenario(yml) == from_yaml
    assert planner.load_scenario(upper) == from_json


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(planner.ScenarioError) as info:
        planner.load_scenario(missing)
    assert "cannot read the file" in str(info.value)
    for command in ("validate", "solve"):
        result = invoke(command, missing)
        assert result.exit_code == 2, result.output
        assert "nowhere.yaml" in result.output


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("flow.yaml", "name: x\nperiods: [a, b\nsites: 3\n", 3),
        ("indent.yaml", "name: x\nperiods:\n  - a\n - b\n", 4),
        ("tab.yaml", "name: x\n\tperiods: [a]\n", 2),
        ("broken.json", '{"name": "x",\n "periods": [}', 2),
    ],
)
def test_syntax_error_is_a_scenario_error(tmp_path, name, text, line):
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    with pytest.raises(planner.ScenarioError) as info:
        planner.load_scenario(config)
    (problem,) = info.value.problems
    assert problem.line == line
    assert "not valid" in problem.message
    for command in ("validate", "solve"):
        result = invoke(command, config)
        assert result.exit_code == 2, result.output
        assert "not valid" in result.output


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n", "42\n"])
def test_a_document_that_is_not_a_mapping(tmp_path, text):
    config = tmp_path / "odd.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(planner.ScenarioError, match="mapping"):
        planner.load_scenario(config)
    assert invoke("validate", config).exit_code == 2


def test_model_validate_raises_scenario_error_with_paths_for_a_bad_dict(tiny_dict):
    """From Python as from a file: every problem, each by its path."""
    hall(tiny_dict)["power_kw"] = -1
    hall(tiny_dict)["cpu_racks"]["count"] = 99  # a custom error type of a model validator
    tiny_dict["rack_types"][0]["liquid_fraction"] = 0.5
    tiny_dict["gpu_targets"] = [1]
    with pytest.raises(planner.ScenarioError) as info:
        planner.Scenario.model_validate(tiny_dict)
    paths = {p.path for p in info.value.problems}
    assert paths == {
        "sites[0].halls[0].power_kw",
        "sites[0].halls[0].cpu_racks.count",
        "rack_types[0].liquid_fraction",
        "gpu_targets",
    }


def test_model_validate_accepts_the_tiny_scenario(tiny_dict):
    sc = planner.Scenario.model_validate(tiny_dict)
    assert sc.n_periods == 2
    assert sc.budgets() == [2.0e7, 2.0e7]
    assert [(s.name, h.name) for s, h in sc.halls()] == [("site-a", "hall-1")]
    assert sc.retrofits[2].scope == "site" and sc.retrofits[0].scope == "hall"
    # a validated scenario round-trips through its own dump (as plan.json stores it)
    again = planner.Scenario.model_validate(sc.model_dump(mode="json"))
    assert again == sc


def test_defaults_are_as_documented():
    d = tiny_scenario_dict()
    for rack in d["rack_types"]:
        for key in ("positions", "lead_periods"):
            rack.pop(key)
    d["rack_types"][0].pop("liquid_fraction")
    for key in (
        "budget_usd_per_period",
        "budget_usd_total",
        "gpu_targets",
        "objective",
        "name",
        "retrofits",
    ):
        d.pop(key)
    site = d["sites"][0]
    for key in ("feed_kw", "facility_water_kw", "air_overhead", "liquid_overhead"):
        site.pop(key)
    hall(d).pop("retrofits")
    hall(d).pop("cpu_racks")

    sc = planner.Scenario.model_validate(d)
    air = sc.rack_types[0]
    assert air.liquid_fraction == 0.0
    assert air.positions == 1
    assert air.lead_periods == 0
    assert sc.retrofits == []
    assert sc.objective == "max_compute"
    assert sc.budget_usd_per_period is None and sc.budgets() == [None, None]
    assert sc.budget_usd_total is None
    assert sc.gpu_targets is None
    s = sc.sites[0]
    assert s.feed_kw is None
    assert s.facility_water_kw == 0.0
    assert s.air_overhead == 0.0 and s.liquid_overhead == 0.0
    h = s.halls[0]
    assert h.retrofits is None  # every catalog option may be used
    assert h.cpu_racks is None

    option = planner.Scenario.model_validate(
        tiny_scenario_dict()
        | {"retrofits": [{"name": "busway", "kind": "power", "capacity": 1, "cost_usd": 1}]}
        | {"sites": [{"name": "s", "halls": [hall(tiny_scenario_dict()) | {"retrofits": None}]}]}
    ).retrofits[0]
    assert option.positions == 0
    assert option.max_units is None
    assert option.lead_periods == 0

    cpu = planner.Scenario.model_validate(tiny_scenario_dict()).sites[0].halls[0].cpu_racks
    assert cpu is not None
    bare = hall(tiny_scenario_dict())["cpu_racks"]
    bare.pop("retire_cost_usd")
    d = tiny_scenario_dict()
    hall(d)["cpu_racks"] = bare
    assert planner.Scenario.model_validate(d).sites[0].halls[0].cpu_racks.retire_cost_usd is None


# -- JSON Schema --------------------------------------------------------------------------
def test_schema_command_prints_json_with_every_top_level_field(tmp_path):
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    fields = {
        "name",
        "periods",
        "objective",
        "budget_usd_per_period",
        "budget_usd_total",
        "gpu_targets",
        "reference_rack",
        "rack_types",
        "retrofits",
        "sites",
        "clusters",
        "compute_counts",
    }
    assert fields == set(planner.Scenario.model_fields)
    assert fields <= set(schema["properties"])
    assert schema == json.loads(json.dumps(planner.json_schema()))

    out = tmp_path / "schema.json"
    result = invoke("schema", "--out", out)
    assert result.exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_json_schema_validates_scenarios():
    jsonschema = pytest.importorskip("jsonschema")
    schema = planner.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(tiny_scenario_dict(), schema)

    # what the loader accepts, the schema accepts: quantities written with a unit
    with_units = tiny_scenario_dict()
    hall(with_units).update(power_kw="1.2 MW", fabric_gbps="80 Tbps")
    with_units["rack_types"][0]["weight_kg"] = "1.5 t"
    with_units["retrofits"][0]["capacity"] = "0.2 MW"
    with_units["budget_usd_per_period"] = "4.0e9"
    planner.Scenario.model_validate(with_units)
    jsonschema.validate(with_units, schema)

    # and the schema's bounds are real JSON Schema keywords that validators enforce
    for mutate in (
        lambda d: hall(d).update(power_kw=-1),
        lambda d: d["rack_types"][0].update(weight_kg=0),
        lambda d: d["retrofits"][0].update(capacity=0),
        lambda d: d.update(colour="red"),
        lambda d: d["rack_types"][0].update(cooling="immersion"),
    ):
        bad = tiny_scenario_dict()
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


# -- the shipped configs -----------------------------------------------------------------
@pytest.mark.parametrize(
    "config",
    CONFIGS or [pytest.param(None, marks=pytest.mark.skip(reason="no configs/*.yaml yet"))],
    ids=[c.name for c in CONFIGS] or None,
)
def test_shipped_config_is_valid(config):
    scenario = planner.load_scenario(config)
    assert isinstance(scenario, planner.Scenario)
    result = invoke("validate", config)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
