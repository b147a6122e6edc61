"""Scenario sweeps: the same results as solving each point directly, in local processes
and on a Dask cluster alike; broken points recorded, never fatal; files and the CLI."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_scenario_dict, write_scenario
from typer.testing import CliRunner

import planner
from planner.cli import app
from planner.solving import progress
from planner.solving.runners import run_local
from planner.sweeps import RESULT_COLUMNS, grid_points, save_table, solve_point

#: a 2 x 2 grid on the tiny scenario, one value a per-period list
GRID = {
    "rack_types[gpu-air].network_multiple": [8, 16],
    "budget_usd_per_period": [[2.0e7, 2.0e7], 1.0e7],
}
TIMING = ["solve_seconds"]


@pytest.fixture(scope="module")
def tiny() -> planner.Scenario:
    return planner.Scenario.model_validate(tiny_scenario_dict())


@pytest.fixture(scope="module")
def local_table(tiny) -> pd.DataFrame:
    """The grid swept in two local worker processes."""
    return planner.sweep(tiny, GRID, workers=2, progress=False)


def test_grid_points_are_the_cartesian_product_in_grid_order():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points[:4] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
    ]
    assert len(points) == 6
    assert grid_points({}) == [{}]


@pytest.mark.parametrize(
    "grid, words",
    [
        ([1, 2], "maps override paths"),
        ({"a": 5}, "a list of values"),
        ({"a": "text"}, "a list of values"),
        ({"a": []}, "empty"),
        ({3: [1]}, "override path"),
    ],
)
def test_a_malformed_grid_is_refused(grid, words):
    with pytest.raises(ValueError, match=words):
        grid_points(grid)


def test_sweep_gives_the_results_of_solving_each_point_directly(tiny, local_table):
    table = local_table
    assert list(table.columns) == ["point", *GRID, *RESULT_COLUMNS]
    assert list(table["point"]) == [0, 1, 2, 3]
    for row, overrides in zip(table.to_dict("records"), grid_points(GRID), strict=True):
        assert {path: row[path] for path in GRID} == overrides
        plan = planner.solve(planner.apply_overrides(tiny, overrides))
        assert row["status"] == plan.status == "optimal"
        assert row["objective"] == pytest.approx(plan.objective, rel=1e-9)
        assert row["total_spend_usd"] == pytest.approx(plan.total_spend_usd, rel=1e-9)
        assert row["gpus"] == plan.gpus().iloc[-1]
        assert row["pflops_periods"] == pytest.approx(plan.pflops().sum())
        assert row["objective_unit"] == "PFLOPS-periods"
        assert row["compute_proven"]
        assert row["error"] == ""
    # the points differ, so a sweep that solved the base scenario each time would fail
    assert table["objective"].nunique() > 1


def test_binding_lists_distinct_limits_by_place(local_table):
    first = local_table.iloc[0]["binding"].split("; ")
    assert len(first) == len(set(first))
    assert "network@hall-1" in first  # the tiny hall runs out of fabric at 8x


def test_inline_sweep_equals_local_processes(tiny, local_table):
    inline = planner.sweep(tiny, GRID, workers=1, progress=False)
    pd.testing.assert_frame_equal(inline.drop(columns=TIMING), local_table.drop(columns=TIMING))


def test_dask_local_cluster_gives_the_same_table_as_local_processes(tiny, local_table, tmp_path):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = planner.sweep(tiny, GRID, client=client, progress=False)
        threads = client.run(lambda: os.environ.get("PLANNER_THREADS"))
        # the command line reaches the same cluster by its scheduler's address
        config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
        grid = tmp_path / "grid.yaml"
        grid.write_text(json.dumps(GRID))  # JSON is YAML
        scheduler = cluster.scheduler_address
        result = invoke(
            "sweep", config, grid, "--scheduler", scheduler, "--out", tmp_path / "r.csv"
        )
    pd.testing.assert_frame_equal(on_dask.drop(columns=TIMING), local_table.drop(columns=TIMING))
    # two one-thread workers on this host share its cores
    expected = str(max(1, (os.cpu_count() or 1) // 2))
    assert set(threads.values()) == {expected}
    assert result.exit_code == 0, result.output
    from_cli = pd.read_csv(tmp_path / "r.csv")
    assert list(from_cli["objective"]) == pytest.approx(list(local_table["objective"]))


def test_broken_points_are_recorded_and_the_sweep_finishes(tiny):
    grid = {
        "gpu_targets": [None, [0, 100_000]],
        "budget_usd_per_period": [2.0e7, -5],
        "sites[site-a].halls[hall-1].power_kw": [300, "not a power"],
    }
    table = planner.sweep(tiny, grid, workers=2, progress=False).set_index("point")
    assert len(table) == 8
    assert table.loc[0, "status"] == "optimal" and table.loc[0, "error"] == ""
    assert table.loc[0, "objective"] > 0
    invalid = table[table["status"] == "invalid"]
    assert len(invalid) == 6  # every point with a negative budget or a bad power
    assert invalid["error"].str.contains("budget_usd_per_period|power_kw").all()
    infeasible = table.loc[4]  # targets of 100,000 GPUs with a valid budget and power
    assert infeasible["status"] == "infeasible"
    assert "gpu" in infeasible["error"].lower()
    assert pd.isna(infeasible["objective"]) and pd.isna(infeasible["gpus"])


def test_an_exception_in_a_point_is_an_error_row(tiny, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the solver broke")

    monkeypatch.setattr("planner.sweeps.grid.solve", broken)  # one point: solved in this process
    table = planner.sweep(tiny, {"budget_usd_total": [None]}, progress=False)
    assert table.loc[0, "status"] == "error"
    assert "the solver broke" in table.loc[0, "error"]


def test_meaningless_options_are_refused_before_any_point(tiny):
    with pytest.raises(ValueError, match="unknown solver"):
        planner.sweep(tiny, {"budget_usd_total": [None]}, solver="nope", progress=False)


def _dies_on_second_point(payload, overrides, options):
    """A point task whose process dies (as one killed for memory would) for budget 1e7."""
    if overrides.get("budget_usd_per_period") == 1.0e7:
        os._exit(3)
    return solve_point(payload, overrides, options)


def test_a_worker_process_that_dies_costs_only_its_point(tiny):
    points = grid_points({"budget_usd_per_period": [2.0e7, 1.0e7, 1.5e7]})
    rows = {}
    run_local(
        _dies_on_second_point,
        tiny.model_dump(mode="json"),
        points,
        {"solver": "highs", "time_limit_s": None, "mip_gap": 1e-4},
        workers=2,
        done=rows.__setitem__,
    )
    assert sorted(rows) == [0, 1, 2]
    assert rows[1]["status"] == "error" and "worker process failed" in rows[1]["error"]
    assert rows[0]["status"] == rows[2]["status"] == "optimal"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_round_trip_through_csv_and_parquet(local_table, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = save_table(local_table, tmp_path / f"results{suffix}")
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(back.columns) == list(local_table.columns)
    # a column holding a list is stored as the JSON text of every value
    budgets = [json.loads(v) for v in back["budget_usd_per_period"]]
    assert budgets == list(local_table["budget_usd_per_period"])
    for name in ("objective", "total_spend_usd", "gpus", "pflops_periods"):
        assert list(back[name]) == pytest.approx(list(local_table[name]))
    assert list(back["status"]) == list(local_table["status"])
    assert list(back["rack_types[gpu-air].network_multiple"]) == [8, 8, 16, 16]


def test_sweep_refuses_an_unknown_file_kind_before_solving(tiny, tmp_path):
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        planner.sweep(tiny, GRID, out=tmp_path / "results.xlsx", progress=False)


def test_an_override_column_named_like_a_result_column_is_prefixed(tiny):
    table = planner.sweep(tiny, {"objective": ["max_compute"]}, progress=False)
    assert table.loc[0, "override:objective"] == "max_compute"
    assert table.loc[0, "status"] == "optimal"


@pytest.mark.parametrize("notebook", [False, True])
def test_progress_is_shown_on_a_terminal_and_in_notebooks(tiny, capsys, monkeypatch, notebook):
    monkeypatch.setattr(progress, "_in_notebook", lambda: notebook)
    planner.sweep(tiny, {"budget_usd_per_period": [1e7, 2e7]}, workers=1)
    shown = capsys.readouterr().err
    assert "Sweep tiny" in shown and "2/2" in shown
    planner.sweep(tiny, {"budget_usd_per_period": [1e7]}, workers=1, progress=False)
    assert capsys.readouterr().err == ""


# -- command line --------------------------------------------------------------------------
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output
    return result


def test_cli_sweep_prints_every_point_and_saves_the_table(tmp_path: Path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "rack_types[gpu-air].network_multiple: [8, 16]\nbudget_usd_per_period: [2e7, -1]\n"
    )
    out = tmp_path / "results.csv"
    result = invoke("sweep", config, grid, "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    assert "4 points: 2 optimal, 2 invalid" in result.output
    table = pd.read_csv(out)
    assert list(table["status"]) == ["optimal", "invalid", "optimal", "invalid"]
    assert table.loc[0, "budget_usd_per_period"] == 2e7  # "2e7" is read as a number


def test_cli_sweep_prints_csv_when_piped_and_markdown_or_a_table_on_request(tmp_path: Path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    grid = tmp_path / "grid.yaml"
    grid.write_text("rack_types[gpu-air].network_multiple: [8, 16]\n")
    piped = invoke("sweep", config, grid, "--workers", "1")  # CliRunner is not a terminal
    assert piped.exit_code == 0, piped.output
    lines = piped.stdout.splitlines()  # the progress bar goes to stderr
    header = "#,rack_types[gpu-air].network_multiple,status,objective (PFLOPS-periods),spend,"
    assert lines[0].startswith(header)
    rows = list(csv.reader(lines[1:3]))
    assert [r[:3] for r in rows] == [["0", "8", "optimal"], ["1", "16", "optimal"]]
    assert all(r[5].isdigit() or "," in r[5] for r in rows)  # GPUs whole, never "16.0"
    md = invoke("sweep", config, grid, "--workers", "1", "--format", "markdown").stdout
    assert md.splitlines()[1] == "|" + " --- |" * 7 and md.splitlines()[2].startswith("| 0 | 8 |")
    table = invoke("sweep", config, grid, "--workers", "1", "--format", "table").output
    assert "Sweep of" in table and "┃" in table


@pytest.mark.parametrize(
    "text, words",
    [
        ("- a\n- b\n", "maps override paths"),
        ("budget_usd_per_period: 1e7\n", "a list of values"),
        ("budget_usd_per_period: [1e7\n", "not valid YAML"),
        (None, "No such file"),
    ],
)
def test_cli_sweep_with_a_bad_grid_file_exits_2(tmp_path: Path, text, words):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    grid = tmp_path / "grid.yaml"
    if text is not None:
        grid.write_text(text)
    result = invoke("sweep", config, grid)
    assert result.exit_code == 2
    assert "invalid sweep grid" in result.output and words in result.output


def test_cli_sweep_with_a_bad_output_name_exits_2(tmp_path: Path):
    config = write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
    grid = tmp_path / "grid.yaml"
    grid.write_text("budget_usd_total: [null]\n")
    result = invoke("sweep", config, grid, "--out", tmp_path / "results.txt")
    assert result.exit_code == 2
    assert ".parquet or .csv" in result.output
