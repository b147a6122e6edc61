"""A table of broken inputs and faults: each ends in the documented exit code with a
message naming the file, the path and the problem, never a traceback; valid inputs
written as people write them are accepted.

Each case builds its files in a fresh folder and runs the command line in-process. Exit
codes: 0 a plan (or a valid file), 1 no plan for another reason (the disk, a solver), 2
invalid input, 3 infeasible.
"""

from __future__ import annotations

import codecs
import errno
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from builders import first_hall as hall
from builders import invoke

import planner

ROOT = Path(__file__).resolve().parent.parent
LEGACY = ROOT / "configs" / "legacy-hall.yaml"


def legacy() -> dict:
    return yaml.safe_load(LEGACY.read_text(encoding="utf-8"))


def write(path: Path, doc) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(doc), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def changed(edit: Callable[[dict], None], name: str = "s.yaml"):
    """A setup writing the legacy hall with ``edit`` applied; returns its path."""

    def setup(tmp: Path) -> Path:
        doc = legacy()
        edit(doc)
        return write(tmp / name, doc)

    return setup


def raw(data: bytes, name: str = "s.yaml"):
    def setup(tmp: Path) -> Path:
        (tmp / name).write_bytes(data)
        return tmp / name

    return setup


def text(body: str, name: str = "s.yaml"):
    return raw(body.encode("utf-8"), name)


TEXT = LEGACY.read_text(encoding="utf-8")


def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, here = chr(96 + i), chr(97 + i)
        lines.append(f"{here}: &{here} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _duplicate_key() -> str:
    at = TEXT.index("        positions: 330")
    end = TEXT.index("\n", at) + 1
    return TEXT[:end] + "        positions: 100\n" + TEXT[end:]


# -- plans written once for the plan-file cases ------------------------------------------
_PLAN: dict = {}


def plan_document() -> dict:
    if not _PLAN:
        plan = planner.solve(planner.load_scenario(LEGACY))
        _PLAN.update(json.loads(plan.to_json()))
    return json.loads(json.dumps(_PLAN))


def plan_file(edit: Callable[[dict], None] | None = None, cut: int | None = None):
    def setup(tmp: Path) -> Path:
        doc = plan_document()
        if edit:
            edit(doc)
        body = json.dumps(doc, indent=1)
        if cut is not None:
            body = body[:cut]
        (tmp / "plan.json").write_text(body, encoding="utf-8")
        return tmp / "plan.json"

    return setup


def more_racks(doc: dict) -> None:
    doc["racks"][0]["count"] += 500  # hand-edited past the hall's space and power


@dataclass
class Case:
    id: str
    setup: Callable[[Path], Path]  # writes the input, returns the path given to the command
    args: list[str]  # the command, with {file} and {tmp} filled in
    code: int
    says: tuple[str, ...] = ()  # each must appear in the output


V = ["validate", "{file}"]
SOLVE = ["solve", "{file}", "--no-plots", "--no-baseline", "--out", "{tmp}/out"]

CASES = [
    # -- text and structure of files
    Case("latin-1", raw(("name: caf\xe9\n" + TEXT).encode("latin-1", "replace")), V, 2,
         ("s.yaml", "not a text file in UTF-8 or UTF-16")),
    Case("binary", raw(bytes(range(256)) * 8), V, 2, ("not a text file",)),
    Case("utf-16", raw(TEXT.encode("utf-16")), V, 0, ("valid",)),
    Case("utf-16-le-no-bom", raw(TEXT.encode("utf-16-le")), V, 0, ("valid",)),
    Case("utf-8-bom", raw(codecs.BOM_UTF8 + TEXT.encode()), V, 0, ("valid",)),
    Case("nul-bytes", raw(TEXT.encode() + b"\x00\x00"), V, 2, ("NUL",)),
    Case("deep-yaml", text("a: " + "[" * 600 + "]" * 600 + "\n"), V, 2, ("nested more than",)),
    Case("deep-json", text('{"a": ' + "[" * 600 + "]" * 600 + "}", "s.json"), V, 2,
         ("nested more than",)),
    Case("alias-bomb", text(_bomb()), V, 2, ("alias bomb",)),
    Case("duplicate-key", text(_duplicate_key()), V, 2,
         ("sites[0].halls[0].positions", "duplicate key 'positions'", "lines")),
    Case("duplicate-key-json", text('{"name": "a", "name": "b"}', "s.json"), V, 2,
         ("duplicate key 'name'",)),
    Case("empty-file", text(""), V, 2, ("a mapping",)),
    Case("not-yaml", text("name: [unclosed\n"), V, 2, ("not valid YAML", "line")),
    Case("not-json", text('{"name": ', "s.json"), V, 2, ("not valid JSON",)),
    Case("missing-file", lambda tmp: tmp / "nope.yaml", V, 2, ("nope.yaml", "cannot read")),
    Case("a-directory", lambda tmp: tmp, V, 2, ("is a directory",)),
    # -- quantities
    Case("two-points", changed(lambda d: hall(d).update(power_kw="1.2.3 MW")), V, 2,
         ("sites[0].halls[0].power_kw", "cannot read '1.2.3 MW'")),
    Case("decimal-comma", changed(lambda d: hall(d).update(power_kw="1,5 MW")), V, 2,
         ("sites[0].halls[0].power_kw", "decimals with a point")),
    Case("comma-exponent", changed(lambda d: d.update(budget_usd_per_period="4,0e9")), V, 2,
         ("budget_usd_per_period", "decimals with a point")),
    Case("unit-alone-t", changed(lambda d: d["rack_types"][0].update(weight_kg="t")), V, 2,
         ("rack_types[0].weight_kg", "no number")),
    Case("unit-alone-mw", changed(lambda d: hall(d).update(power_kw="MW")), V, 2,
         ("sites[0].halls[0].power_kw", "no number")),
    Case("trailing-number", changed(lambda d: hall(d).update(power_kw="1 MW 2")), V, 2,
         ("sites[0].halls[0].power_kw", "one number and one unit")),
    Case("ambiguous-gbps", changed(lambda d: hall(d).update(fabric_gbps="10 GBPS")), V, 2,
         ("sites[0].halls[0].fabric_gbps", "ambiguous")),
    Case("wrong-dimension", changed(lambda d: hall(d).update(power_kw="3 Tbps")), V, 2,
         ("sites[0].halls[0].power_kw", "not a quantity in kW")),
    Case("gb-per-s", changed(lambda d: hall(d).update(fabric_gbps="400 Gb/s")), V, 0, ("valid",)),
    Case("tb-per-s", changed(lambda d: hall(d).update(fabric_gbps="12.8 Tb/s")), V, 0,
         ("valid",)),
    Case("capital-kw", changed(lambda d: hall(d).update(power_kw="1200 KW")), V, 0, ("valid",)),
    Case("dollar-millions", changed(lambda d: d.update(budget_usd_per_period="$25M")), V, 0,
         ("valid",)),
    # -- names, ranges and cross-references
    Case("blank-name", changed(lambda d: d["rack_types"][0].update(name="   ")), V, 2,
         ("rack_types[0].name", "visible character")),
    Case("blank-period", changed(lambda d: d.update(periods=["  "])), V, 2,
         ("periods[0]", "visible character")),
    Case("huge-pflops", changed(lambda d: d["rack_types"][0].update(pflops=1e308)), V, 2,
         ("rack_types[0].pflops", "less than or equal")),
    Case("huge-capex", changed(lambda d: d["rack_types"][0].update(capex_usd=1e308)), V, 2,
         ("rack_types[0].capex_usd",)),
    Case("infinite-power", changed(lambda d: hall(d).update(power_kw=float("inf"))), V, 2,
         ("power_kw", "finite")),
    Case("negative-positions", changed(lambda d: hall(d).update(positions=-1)), V, 2,
         ("sites[0].halls[0].positions",)),
    Case("targets-length", changed(lambda d: d.update(gpu_targets=[8, 16])), V, 2,
         ("gpu_targets", "entries")),
    Case("unknown-key", changed(lambda d: hall(d).update(colour="red")), V, 2,
         ("sites[0].halls[0].colour", "unknown key")),
    Case("unknown-retrofit", changed(lambda d: hall(d).update(retrofits=["nope"])), V, 2,
         ("sites[0].halls[0].retrofits[0]", "unknown retrofit 'nope'")),
    Case("huge-lead", changed(lambda d: d["rack_types"][0].update(lead_periods=10**9)), V, 2,
         ("rack_types[0].lead_periods",)),
    # -- plan files
    Case("truncated-plan", plan_file(cut=700), ["compare", "{file}", "{file}"], 2,
         ("plan.json", "broken plan file", "not valid JSON")),
    Case("plan-version", plan_file(lambda d: d.update(version=7)), ["compare", "{file}"], 2,
         ("version", "unknown plan file version 7")),
    Case("plan-status", plan_file(lambda d: d.update(status="great")), ["compare", "{file}"], 2,
         ("status",)),
    Case("plan-count-many", plan_file(lambda d: d["racks"][0].update(count="many")),
         ["compare", "{file}"], 2, ("racks[0].count", "integer")),
    Case("plan-infinity", plan_file(lambda d: d.update(objective="Infinity")),
         ["compare", "{file}"], 2, ("objective",)),
    Case("plan-bad-scenario", plan_file(lambda d: d["scenario"].update(periods=[])),
         ["compare", "{file}"], 2, ("scenario.periods",)),
    Case("plan-breaks-rules-compare", plan_file(more_racks), ["compare", "{file}", "{file}"], 0,
         ("breaks", "on re-check (Plan.verify)", "space")),
    Case("plan-breaks-rules-plot", plan_file(more_racks),
         ["plot", "utilisation", "{file}", "--out", "{tmp}/u.png"], 0, ("breaks", "space")),
    Case("plot-truncated-plan", plan_file(cut=300), ["plot", "timeline", "{file}"], 2,
         ("broken plan file",)),
    # -- options
    Case("negative-time-limit", lambda tmp: LEGACY, ["solve", "{file}", "--time-limit", "-5"], 2,
         ("--time-limit",)),
    Case("gap-above-one", lambda tmp: LEGACY, ["solve", "{file}", "--gap", "5"], 2, ("--gap",)),
    Case("unknown-solver", lambda tmp: LEGACY, ["solve", "{file}", "--solver", "gurobi"], 2,
         ("--solver",)),
    Case("bad-set-path", lambda tmp: LEGACY, [*V, "--set", "sites[xyz].feed_kw=1 MW"], 2,
         ("sites[xyz]", "no site named 'xyz'")),
    Case("bad-set-value", lambda tmp: LEGACY,
         [*V, "--set", "sites[legacy-site].feed_kw=1,5 MW"], 2,
         ("sites[legacy-site].feed_kw", "decimals with a point")),
    Case("bad-racks-option", lambda tmp: LEGACY, ["plot", "feasible", "{file}", "--racks", "a"],
         2, ("--racks",)),
    # -- where results go
    Case("out-is-a-file", lambda tmp: (tmp / "out").write_text("x") and LEGACY, SOLVE, 1,
         ("out", "is a file, not a folder")),
    Case("out-under-a-file",
         lambda tmp: (tmp / "f").write_text("x") and LEGACY,
         ["solve", "{file}", "--no-plots", "--out", "{tmp}/f/out"], 1, ("f/out",)),
    Case("schema-out-under-a-file", lambda tmp: (tmp / "f").write_text("x") and LEGACY,
         ["schema", "--out", "{tmp}/f/schema.json"], 1, ("schema.json",)),
    Case("synth-out-under-a-file", lambda tmp: (tmp / "f").write_text("x") and LEGACY,
         ["synth", "--out", "{tmp}/f/fleet.yaml"], 1, ("fleet.yaml",)),
    Case("synth-out-a-folder", lambda tmp: LEGACY, ["synth", "--out", "{tmp}"], 1,
         ("is a folder",)),
    Case("explain-out-is-a-file", lambda tmp: (tmp / "f").write_text("x") and LEGACY,
         ["explain", "{file}", "--out", "{tmp}/f"], 1, ("is a file, not a folder",)),
    Case("plot-out-under-a-file", lambda tmp: (tmp / "f").write_text("x") and LEGACY,
         ["plot", "utilisation", "{file}", "--out", "{tmp}/f/u.png"], 1, ("u.png",)),
    Case("sweep-out-under-a-file", lambda tmp: _grid(tmp) and LEGACY,
         ["sweep", "{file}", "{tmp}/grid.yaml", "--out", "{tmp}/grid.yaml/r.csv"], 1,
         ("r.csv",)),
    Case("sweep-grid-bomb", lambda tmp: (tmp / "grid.yaml").write_text(_bomb()) and LEGACY,
         ["sweep", "{file}", "{tmp}/grid.yaml"], 2, ("invalid sweep grid", "alias bomb")),
    Case("sweep-grid-list", lambda tmp: (tmp / "grid.yaml").write_text("- 1\n") and LEGACY,
         ["sweep", "{file}", "{tmp}/grid.yaml"], 2, ("invalid sweep grid",)),
    Case("sweep-all-points-fail",
         lambda tmp: (tmp / "grid.yaml").write_text("'rack_types[*].pflops': [-1, -2]\n")
         and LEGACY,
         ["sweep", "{file}", "{tmp}/grid.yaml", "--workers", "1"], 1, ("no point",)),
]  # fmt: skip


def _grid(tmp: Path) -> bool:
    (tmp / "grid.yaml").write_text("'rack_types[*].network_multiple': [24]\n")
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_ends_in_a_clear_message(case: Case, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = case.setup(tmp_path)
    args = [a.format(file=target, tmp=tmp_path) for a in case.args]
    result = invoke(*args)
    assert result.exit_code == case.code, result.output
    for words in case.says:
        assert words in result.output, (words, result.output)


def test_there_are_at_least_fifty_cases():
    assert len(CASES) >= 50


# -- faults of the disk ------------------------------------------------------------------------
def _fail_writes_after(monkeypatch, good: int, err: int = errno.ENOSPC):
    """Let ``good`` staged files be written, then fail every write with ``err``."""
    from planner.plan import files

    real = files._fill
    count = {"n": 0}

    def failing(temp, target, write):
        count["n"] += 1
        if count["n"] > good:

            def full(path):
                Path(path).write_bytes(b"half a fi")
                raise OSError(err, "simulated")

            return real(temp, target, full)
        return real(temp, target, write)

    monkeypatch.setattr(files, "_fill", failing)


def test_a_full_disk_leaves_the_earlier_plan_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = invoke("solve", str(LEGACY), "--no-baseline", "--out", str(out))
    assert first.exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _fail_writes_after(monkeypatch, good=3)
    second = invoke("solve", str(LEGACY), "--no-baseline", "--out", str(out))
    assert second.exit_code == 1
    assert "no space left" in second.output
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # nothing half-written, nothing of the second solve
    planner.Plan.from_json(out / "plan.json")


def test_a_read_only_folder_is_reported_before_solving(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("planner.cli.common.solve_scenario", lambda *a, **k: calls.append(a))
    real = tempfile.mkstemp

    def read_only(*args, **kwargs):
        if str(kwargs.get("dir", "")).startswith(str(tmp_path)):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = invoke("solve", str(LEGACY), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "read-only" in result.output
    assert calls == []  # refused before any solve


def test_a_folder_keeps_only_the_plots_of_its_last_solve(tmp_path):
    out = tmp_path / "out"
    multi = tmp_path / "multi.yaml"
    shutil.copy(ROOT / "configs" / "catalina-aalc.yaml", multi)
    assert invoke("solve", str(multi), "--sweeps", "none", "--out", str(out)).exit_code == 0
    stale = out / "frontier.png"
    stale.write_bytes(b"an earlier solve's plot")
    (out / ".planner-files").write_text((out / ".planner-files").read_text() + "frontier.png\n")
    (out / "notes.txt").write_text("the user's own file")
    assert invoke("solve", str(multi), "--sweeps", "none", "--out", str(out)).exit_code == 0
    assert not stale.exists()  # not drawn this time: removed
    assert (out / "notes.txt").exists()  # not ours: kept
    assert (out / "utilisation.png").exists()


def test_two_solves_into_one_folder_cannot_interleave(tmp_path):
    from planner.plan.files import OutputError, Staging

    out = tmp_path / "out"
    with Staging(out) as first:
        first.text("plan.json", "{}")
        with pytest.raises(OutputError, match="another planner run"), Staging(out):
            pass
        result = invoke("solve", str(LEGACY), "--no-plots", "--out", str(out))
        assert result.exit_code == 1 and "another planner run" in result.output
    assert (out / "plan.json").read_text() == "{}"
    assert invoke("solve", str(LEGACY), "--no-plots", "--out", str(out)).exit_code == 0
