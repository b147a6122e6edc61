"""The ``planner`` command line: solve, validate, exit codes, files written, entry point."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from builders import invoke
from conftest import tiny_scenario_dict, write_scenario
from typer.testing import CliRunner

import planner
import planner.cli
from planner.solving.solvers import SolverUnavailable, _cbc_path

runner = CliRunner()

WRITTEN = [
    "plan.json",
    "racks.csv",
    "retrofits.csv",
    "halls.csv",
    "utilisation.csv",
    "spend.csv",
    "summary.csv",
]


def solved(tmp_path: Path, config: Path, name: str, *options: str):
    """``planner solve config --out tmp_path/name options...``: the result and the plan read
    back from the plan.json it wrote."""
    out = tmp_path / name
    result = invoke("solve", config, "--out", out, *options)
    assert result.exit_code == 0, result.output
    return result, planner.Plan.from_json(out / "plan.json")


def cbc_available() -> bool:
    try:
        _cbc_path()
    except SolverUnavailable:
        return False
    return True


# -- solve ---------------------------------------------------------------------------------
def test_solve_prints_a_summary_and_writes_every_table(tmp_path, tiny_yaml):
    out = tmp_path / "out"
    result = invoke("solve", tiny_yaml, "--out", out)
    assert result.exit_code == 0, result.output

    for name in WRITTEN:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    plan = planner.Plan.from_json(out / "plan.json")
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert plan.scenario == planner.load_scenario(tiny_yaml)
    assert plan.objective == pytest.approx(planner.solve(plan.scenario).objective, rel=1e-6)

    # the table: a header with GPUs and spend, and one row per period with that period's
    # GPUs and spend as the plan states them
    text = result.output
    header = next(line for line in text.splitlines() if "GPUs" in line)
    assert "period" in header and "spend" in header and "budget" in header
    summary = plan.summary()
    assert list(summary.index) == ["2024Q1", "2024Q2"]
    assert summary["gpus"].iloc[-1] > 0
    for period, row in summary.iterrows():
        (line,) = [
            ln for ln in text.splitlines() if re.search(rf"^\W*{period}\b", ln) and "│" in ln
        ]
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        assert cells[0] == period
        assert cells[1] == f"{row.gpus:,}"
        assert cells[3] == f"${row.spend_usd / 1e6:,.1f}M"
        assert cells[4] == f"${row.budget_usd / 1e6:,.1f}M"
    assert f"{plan.objective:,.6g} PFLOPS-periods" in text
    assert f"${plan.total_spend_usd:,.0f}" in text
    assert "Wrote 7 files" in text

    # the CSVs hold the plan's tables
    racks = pd.read_csv(out / "racks.csv")
    assert {"site", "hall", "period", "rack_type", "count"} <= set(racks.columns)
    assert racks["count"].sum() == plan.racks["count"].sum()
    retrofits = pd.read_csv(out / "retrofits.csv")
    assert {"site", "hall", "period", "option", "units"} <= set(retrofits.columns)
    halls = pd.read_csv(out / "halls.csv")
    assert {"site", "hall", "period", "cpu_racks_retired"} <= set(halls.columns)
    utilisation = pd.read_csv(out / "utilisation.csv")
    assert {"site", "hall", "period", "resource", "used", "capacity"} <= set(utilisation.columns)
    spend = pd.read_csv(out / "spend.csv")
    assert list(spend["period"]) == ["2024Q1", "2024Q2"]
    assert spend["total_usd"].sum() == pytest.approx(plan.total_spend_usd, rel=1e-9, abs=1e-3)
    table = pd.read_csv(out / "summary.csv")
    assert list(table["period"]) == ["2024Q1", "2024Q2"]
    assert list(table["gpus"]) == list(summary["gpus"])


def test_solve_json_scenario(tmp_path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.json")
    _, plan = solved(tmp_path, config, "out")
    assert plan.status == "optimal" and plan.verify() == []


def test_solve_default_out_directory(tmp_path, tiny_yaml, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("solve", tiny_yaml)
    assert result.exit_code == 0, result.output
    for name in WRITTEN:
        assert (tmp_path / "out" / "tiny" / name).is_file()


def test_infeasible_scenario_exits_3(tmp_path):
    data = tiny_scenario_dict()
    data["gpu_targets"] = [100_000, 100_000]
    config = write_scenario(data, tmp_path / "impossible.yaml")
    out = tmp_path / "out"
    result = invoke("solve", config, "--out", out)
    assert result.exit_code == 3, result.output
    assert "impossible.yaml: infeasible" in result.output
    assert "no plan satisfies" in result.output
    # the diagnosis names the rule, period and shortfall
    assert "2024Q1: GPU target short by 99,960 GPUs" in result.output
    assert not (out / "plan.json").exists()
    # and the library says the same
    assert planner.solve(planner.load_scenario(config)).status == "infeasible"


def test_infeasible_min_cost_scenario_exits_3(tmp_path):
    data = tiny_scenario_dict()
    data.update(objective="min_cost", gpu_targets=[0, 1e6])
    result = invoke("solve", write_scenario(data, tmp_path / "s.yaml"))
    assert result.exit_code == 3, result.output
    assert "infeasible" in result.output


def test_min_cost_scenario_solves(tmp_path):
    data = tiny_scenario_dict()
    data.update(objective="min_cost", gpu_targets=[16, 40])
    _, plan = solved(tmp_path, write_scenario(data, tmp_path / "s.yaml"), "out")
    assert plan.verify() == []
    assert all(g >= t for g, t in zip(plan.gpus(), [16, 40], strict=True))
    assert plan.objective == pytest.approx(plan.total_spend_usd, rel=1e-6)


@pytest.mark.skipif(not cbc_available(), reason="CBC is not installed")
def test_cbc_gives_the_same_objective_as_highs(tmp_path, tiny_yaml):
    _, highs = solved(tmp_path, tiny_yaml, "highs", "--solver", "highs")
    _, cbc = solved(tmp_path, tiny_yaml, "cbc", "--solver", "cbc")
    assert highs.solver == "highs" and cbc.solver == "cbc"
    assert cbc.status == "optimal"
    assert cbc.verify() == []
    assert cbc.objective == pytest.approx(highs.objective, rel=1e-6)
    assert cbc.total_spend_usd == pytest.approx(highs.total_spend_usd, rel=1e-6)


def test_time_limit_and_gap_are_accepted(tmp_path, tiny_yaml):
    _, plan = solved(tmp_path, tiny_yaml, "out", "--time-limit", "30", "--gap", "0.01")
    assert plan.status in ("optimal", "feasible")
    assert plan.verify() == []
    _, exact = solved(tmp_path, tiny_yaml, "exact", "--gap", "0")
    assert plan.objective >= exact.objective * (1 - 0.01) - 1e-9


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--solver", "gurobi"], "--solver"),
        (["--gap", "2"], "--gap"),
        (["--gap", "-0.1"], "--gap"),
        (["--time-limit", "0"], "--time-limit"),
        (["--time-limit", "soon"], "--time-limit"),
        (["--frobnicate"], "--frobnicate"),
    ],
)
def test_invalid_options_exit_2(tmp_path, tiny_yaml, options, words):
    out = tmp_path / "out"
    result = invoke("solve", tiny_yaml, "--out", out, *options)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert not out.exists()


def test_no_arguments_shows_help():
    result = invoke()
    assert result.exit_code in (0, 2)  # click >= 8.2 exits 2 for no_args_is_help
    for command in ("solve", "validate", "schema"):
        assert command in result.output


def test_help_of_solve_lists_its_options():
    result = invoke("solve", "--help")
    assert result.exit_code == 0
    for option in ("--out", "--solver", "--time-limit", "--gap"):
        assert option in result.output


COMMANDS = ("solve", "validate", "compare", "explain", "plot", "schema", "synth", "sweep")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_every_default_and_flags_as_flags(command):
    text = CliRunner().invoke(planner.cli.app, [command, "--help"], env={"COLUMNS": "80"}).output
    assert "<bool>" not in text and "<list" not in text and "<float" not in text
    assert "\\[" not in text  # no markup escapes shown
    for line in text.splitlines():  # a flag takes no value: nothing between it and its help
        if re.match(r"\s+--(log|all|pro-rata|no-plots|no-baseline|markdown|help)\b", line):
            assert re.match(r"\s+--[a-z-]+\s{2,}\S", line), line
    words = re.sub(r"\s+", " ", text)
    if command == "solve":
        assert "[default: out/<config name>]" in words and "[default: highs]" in words
        assert "--set PATH=VALUE" in words
    if command == "plot":
        assert "utilisation|bandwidth|clusters" in words  # never "bandwidt h"
        assert "[default: out/<config name>/<kind>.png]" in words


# -- validate ------------------------------------------------------------------------------
def test_validate_a_good_file(tiny_yaml):
    result = invoke("validate", tiny_yaml)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "2 periods, 1 site, 1 hall, 2 rack types, 3 retrofit options" in (result.output)


def test_validate_a_bad_file(tmp_path):
    data = tiny_scenario_dict()
    data["sites"][0]["halls"][0]["power_kw"] = -1
    result = invoke("validate", write_scenario(data, tmp_path / "bad.yaml"))
    assert result.exit_code == 2
    assert "sites[0].halls[0].power_kw" in result.output


# -- the installed entry point ---------------------------------------------------------------
def _planner_command() -> list[str]:
    script = shutil.which("planner", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "planner.cli"]


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="120", NO_COLOR="1")
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_console_script_entry_point(tmp_path, tiny_yaml):
    command = _planner_command()
    assert Path(command[0]).name.startswith("planner") or command[1:3] == ["-m", "planner.cli"]

    done = _run([*command, "solve", str(tiny_yaml), "--out", str(tmp_path / "out")], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "GPUs" in done.stdout
    assert "Traceback" not in done.stderr
    plan = planner.Plan.from_json(tmp_path / "out" / "plan.json")
    assert plan.verify() == []
    assert math.isfinite(plan.objective)

    bad = tiny_scenario_dict()
    bad["colour"] = "red"
    done = _run([*command, "validate", str(write_scenario(bad, tmp_path / "bad.yaml"))], tmp_path)
    assert done.returncode == 2
    assert "colour" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_python_dash_m_entry_point(tmp_path, tiny_yaml):
    done = _run([sys.executable, "-m", "planner.cli", "validate", str(tiny_yaml)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout
    schema = _run([sys.executable, "-m", "planner.cli", "schema"], tmp_path)
    assert schema.returncode == 0
    assert "sites" in json.loads(schema.stdout)["properties"]
