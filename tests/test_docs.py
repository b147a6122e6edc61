"""The documentation matches the code it describes."""

from pathlib import Path

import planner
from planner.scenario import reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_scenario_reference_is_generated_from_the_models():
    # regenerate with: planner schema --markdown --out docs/scenario.md
    assert (ROOT / "docs" / "scenario.md").read_text() == reference_markdown()


def test_every_scenario_field_is_described():
    for model in (planner.Scenario, *_nested_models()):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_readme_starts_with_the_two_setup_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert "planner solve configs/meta-2023-retrofit.yaml" in block[0]
    assert block[1].endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[1] in ci  # CI runs the README's test command


def _nested_models():
    from planner import scenario as s

    return (s.ReferenceRack, s.RackType, s.Retrofit, s.Site, s.Hall, s.CpuRacks)
