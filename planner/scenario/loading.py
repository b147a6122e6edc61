"""Reading scenario files and data into validated scenarios, and describing their fields
(JSON Schema, the Markdown reference)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .documents import read_document
from .models import ClusterKind, CpuRacks, Hall, RackType, ReferenceRack, Retrofit, Scenario, Site
from .problems import DocumentError, Problem, ScenarioError, problems_from


def validate_document(data: Any, lines: dict | None = None, source: str | None = None) -> Scenario:
    """Validate plain data as a Scenario, raising ScenarioError with every problem."""
    if not isinstance(data, dict):
        raise ScenarioError([Problem("(top level)", "a scenario is a mapping of fields")], source)
    try:
        return Scenario.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc, lines), source) from None


def revalidate(scenario: Scenario) -> Scenario:
    """A scenario object checked again as a whole, as a file would be: it may have been
    changed in place since it was validated (``s.periods.clear()``, a hall appended).
    Returns a fresh, valid Scenario or raises ScenarioError with every problem."""
    return validate_document(scenario.model_dump(), source="the scenario (changed after loading)")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON).

    Raises :class:`ScenarioError` listing every problem with its path and line.
    """
    try:
        data, lines = read_document(path)
    except DocumentError as exc:
        raise ScenarioError(exc.problems, exc.source) from None
    return validate_document(data, lines, str(path))


def json_schema() -> dict:
    """The JSON Schema of scenario files, for editors and validators."""
    schema = Scenario.model_json_schema()
    schema["title"] = "dc-retrofit-planner scenario"
    return schema


def reference_markdown() -> str:
    """A Markdown reference of every scenario field (``docs/scenario.md``), from the models."""
    parts = [
        "# Scenario file reference",
        "",
        "Generated from the scenario models by `planner schema --markdown`; do not edit by hand.",
        'Quantities may be written with units (`"1.2 MW"`, `"80 Tbps"`, `"1.5 t"`, `"$2.5M"`)',
        "and are converted to the unit in the field's name; the units read are listed in",
        "`planner/scenario/units.py` (a decimal comma, a thousands separator or an unknown",
        "unit is an error). Every number has the finite range given (an interval: `(0, 10000]`",
        "is above 0 and at most 10,000). Names need a visible character. Unknown keys and keys",
        "repeated in one mapping are errors. The rules these fields enter are stated in",
        "[model.md](model.md).",
    ]
    sections = [
        ("Scenario (top level)", Scenario),
        ("reference_rack", ReferenceRack),
        ("rack_types[]", RackType),
        ("retrofits[]", Retrofit),
        ("sites[]", Site),
        ("sites[].halls[]", Hall),
        ("sites[].halls[].cpu_racks", CpuRacks),
        ("clusters[]", ClusterKind),
    ]
    for title, model in sections:
        parts += [
            "",
            f"## {title}",
            "",
            (model.__doc__ or "").strip().replace("``", "`"),
            "",
            "| field | required / default | range | meaning |",
            "| --- | --- | --- | --- |",
        ]
        properties = model.model_json_schema()["properties"]
        for name, info in model.model_fields.items():
            default = "required" if info.is_required() else json.dumps(info.get_default())
            limits = _range(properties[name])
            parts.append(f"| `{name}` | {default} | {limits} | {info.description or ''} |")
    return "\n".join(parts) + "\n"


def _range(prop: dict) -> str:
    """A field's allowed range from its JSON Schema, as an interval: ``[0, 1e+06]``,
    ``(0, 1e+04]``; for a list, its items' range; for text, its length."""
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") == "array":
            inner = _range(branch.get("items", {}))
            size = ""
            if "maxItems" in branch:
                size = f"{branch.get('minItems', 0)}-{branch['maxItems']} entries"
            return ", ".join(x for x in (size, f"each {inner}" if inner else "") if x)
        if branch.get("type") in ("number", "integer"):
            low = "(" if "exclusiveMinimum" in branch else "["
            lo = branch.get("exclusiveMinimum", branch.get("minimum", "-inf"))
            hi = branch.get("maximum", "inf")
            return f"{low}{_short(lo)}, {_short(hi)}]"
        if branch.get("type") == "string" and "maxLength" in branch:
            return f"{branch.get('minLength', 0)}-{branch['maxLength']} characters"
    return ""


def _short(x: Any) -> str:
    return f"{x:g}" if isinstance(x, int | float) else str(x)
