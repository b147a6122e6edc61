"""What-if overrides: change any field of a scenario by its path, validated like a file.

A path names a field the way problems in a file are reported, with list elements picked
by name, by 0-based index or all at once::

    rack_types[h100-air].network_multiple      # the rack type named h100-air
    sites[prn].halls[a1].power_kw              # hall a1 of site prn
    rack_types[0].capex_usd                    # the first rack type
    rack_types[*].network_multiple             # every rack type
    budget_usd_per_period[2]                   # the third period's budget
    sites[legacy-site].halls[hall-1].retrofits # a whole field (here a list, or null)

A selector made of digits is an index; quote it to select by name (``halls['1']``). Values
are what a scenario file holds: numbers, unit strings (``"12 MW"``, ``"80 Tbps"``), lists,
mappings or ``None``. :func:`apply_overrides` sets every path on the scenario's full
document (``model_dump``, defaults included) and validates the whole document again, so a
bad value fails exactly as it would in a file, with :class:`~planner.ScenarioError` naming
the override's path.

A rack type holds both ``network_multiple`` and ``network_gbps`` (one of them null).
Setting the other one does not clear the first: validation then reports "both given".
Set the first to null in the same call (``{"rack_types[x].network_multiple": None,
"rack_types[x].network_gbps": 6400}``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import parse_yaml
from .loading import load_scenario, validate_document
from .models import Scenario
from .problems import DocumentError, Problem, ScenarioError
from .problems import format_loc as _format_loc

__all__ = ["apply_assignments", "apply_overrides", "parse_assignment", "parse_path", "what_if"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"\d+")

#: what one element of a list field is called in messages
_NOUN = {
    "rack_types": "rack type",
    "retrofits": "retrofit option",
    "sites": "site",
    "halls": "hall",
    "periods": "period",
}


@dataclass(frozen=True)
class _Step:
    """One step of a path: a key of a mapping, or a selector of list elements."""

    kind: str  # "key" | "index" | "name" | "all"
    value: Any = None


class _PathError(Exception):
    """An override path that does not resolve; ``where`` is the prefix that failed."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where
        self.message = message


def parse_path(path: str) -> list[_Step]:
    """Split ``a.b[c].d`` into steps; raise ScenarioError naming the path if malformed."""
    steps: list[_Step] = []
    i, n = 0, len(path)

    def bad(reason: str) -> ScenarioError:
        return ScenarioError(
            [Problem(path or "(empty path)", f"malformed override path: {reason}")]
        )

    if not path.strip():
        raise bad("the path is empty")
    while True:
        key = _KEY.match(path, i)
        if key is None:
            raise bad(f"expected a field name at character {i + 1}")
        steps.append(_Step("key", key.group()))
        i = key.end()
        while i < n and path[i] == "[":
            end = path.find("]", i)
            if end < 0:
                raise bad("'[' without a closing ']'")
            inner = path[i + 1 : end].strip()
            if not inner:
                raise bad("empty selector []: give a name, an index or *")
            if inner == "*":
                steps.append(_Step("all"))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                steps.append(_Step("name", inner[1:-1]))
            elif _INDEX.fullmatch(inner):
                steps.append(_Step("index", int(inner)))
            else:
                steps.append(_Step("name", inner))
            i = end + 1
        if i == n:
            return steps
        if path[i] != ".":
            raise bad(f"unexpected {path[i]!r} at character {i + 1}")
        i += 1


def _join(parts: Iterable[str]) -> str:
    out = ""
    for part in parts:
        out += part if part.startswith("[") or not out else f".{part}"
    return out


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


@dataclass
class _Target:
    """One place an override sets: its container and key, its location in the document
    (as pydantic reports it) and its display path (names where elements have them)."""

    container: Any
    key: Any
    loc: tuple
    display: list[str]


def _resolve(doc: dict, steps: list[_Step]) -> list[_Target]:
    """Every place the steps select (``[*]`` fans out). Raises _PathError."""
    # each entry: (value here, its container, its key, loc, display parts)
    here: list[tuple[Any, Any, Any, tuple, list[str]]] = [(doc, None, None, (), [])]
    for step in steps:
        nxt = []
        for value, _, _, loc, display in here:
            where = _join(display) or "(top level)"
            last_key = next((s for s in reversed(loc) if isinstance(s, str)), "")
            if step.kind == "key":
                if not isinstance(value, dict):
                    if isinstance(value, list):
                        raise _PathError(
                            where,
                            f"a list: select elements with [name], [index] or [*] before "
                            f".{step.value}",
                        )
                    if value is None:
                        raise _PathError(
                            where, f"null: set it whole ({where}={{...}}), not one of its fields"
                        )
                    raise _PathError(where, f"{_kind_of(value)}, which has no fields")
                if step.value not in value:
                    fields = ", ".join(value) or "none"
                    inside = f" of {where}" if display else ""
                    raise _PathError(
                        _join([*display, step.value]),
                        f"unknown key {step.value!r} (the fields{inside} are: {fields})",
                    )
                nxt.append(
                    (
                        value[step.value],
                        value,
                        step.value,
                        loc + (step.value,),
                        [*display, step.value],
                    )
                )
                continue
            if not isinstance(value, list):
                raise _PathError(
                    where, f"{_kind_of(value)}, not a list: it has no elements to select"
                )
            noun = _NOUN.get(last_key, "element")
            if step.kind == "all":
                if not value:
                    raise _PathError(
                        _join([*display, "[*]"]), f"{where} is empty: [*] selects nothing"
                    )
                for i, item in enumerate(value):
                    label = item.get("name") if isinstance(item, dict) else None
                    shown = f"[{label}]" if isinstance(label, str) else f"[{i}]"
                    nxt.append((item, value, i, loc + (i,), [*display, shown]))
            elif step.kind == "index":
                i = step.value
                if i >= len(value):
                    span = f"indices 0-{len(value) - 1}" if value else "no elements"
                    raise _PathError(
                        _join([*display, f"[{i}]"]),
                        f"index {i} is out of range ({where} has {len(value)} {noun}"
                        f"{'s' if len(value) != 1 else ''}: {span})",
                    )
                nxt.append((value[i], value, i, loc + (i,), [*display, f"[{i}]"]))
            else:
                names = [item.get("name") for item in value if isinstance(item, dict)]
                if not names:
                    raise _PathError(
                        _join([*display, f"[{step.value}]"]),
                        f"{where} has no named elements: select by index ([0]) or [*]",
                    )
                matches = [
                    i
                    for i, item in enumerate(value)
                    if isinstance(item, dict) and item.get("name") == step.value
                ]
                if not matches:
                    known = ", ".join(str(n) for n in names)
                    inside = f" in {_join(display[:-1])}" if len(display) > 1 else ""
                    raise _PathError(
                        _join([*display, f"[{step.value}]"]),
                        f"no {noun} named {step.value!r}{inside} ({last_key}: {known})",
                    )
                i = matches[0]
                nxt.append((value[i], value, i, loc + (i,), [*display, f"[{step.value}]"]))
        here = nxt
    return [_Target(container, key, loc, display) for _, container, key, loc, display in here]


def _attribute(problems: list[Problem], placed: list[tuple[str, list[_Target]]]) -> list[Problem]:
    """Name each validation problem by the override that caused it.

    A problem inside a place an override set is reported at that place's display path
    (``rack_types[h100-air].power_kw``); a problem at an enclosing element (``rack_types[0]:
    give exactly one of ...``) keeps its place and says which override led to it; any other
    problem (``budget_usd_per_period`` after the number of periods changed) says which
    overrides were applied.
    """
    out = []
    for problem in problems:
        best = None  # (depth of the match, new path, note)
        for override, targets in placed:
            for target in targets:
                for depth in range(len(target.loc), 0, -1):
                    text = _format_loc(target.loc[:depth])
                    if problem.path == text or (
                        depth == len(target.loc)
                        and problem.path.startswith(text)
                        and problem.path[len(text)] in ".["
                    ):
                        path = _join(target.display[:depth]) + problem.path[len(text) :]
                        if depth == len(target.loc):
                            note = "" if path.startswith(override) else f"override {override}"
                        else:
                            note = f"after override {override}"
                        if best is None or depth > best[0]:
                            best = (depth, path, note)
                        break
        if best is None:
            applied = ", ".join(override for override, _ in placed)
            out.append(Problem(problem.path, f"{problem.message} (after overrides: {applied})"))
        else:
            _, path, note = best
            message = f"{problem.message} ({note})" if note else problem.message
            out.append(Problem(path, message))
    return out


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A new scenario with each ``path: value`` of ``overrides`` set, in order, validated.

    Works on ``scenario.model_dump(mode="python")`` (every field, defaults included), so any
    field can be set, including ones the file left out. Values are read as a file's would
    be: ``"12 MW"`` is converted to kW. Raises :class:`~planner.ScenarioError` with one
    problem per unknown path (naming what exists there) and every validation problem of
    the document with the other overrides set, each named by the override's path.
    """
    doc = scenario.model_dump(mode="python", exclude_unset=False)
    placed: list[tuple[str, list[_Target]]] = []
    path_problems: list[Problem] = []
    for path, value in overrides.items():
        try:
            steps = parse_path(path)
        except ScenarioError as exc:
            path_problems.extend(exc.problems)
            continue
        try:
            targets = _resolve(doc, steps)
        except _PathError as exc:
            note = "" if exc.where == path else f" (override {path})"
            path_problems.append(Problem(exc.where, exc.message + note))
            continue
        for target in targets:
            target.container[target.key] = copy.deepcopy(value)
        placed.append((path, targets))
    try:
        sc = validate_document(doc)
    except ScenarioError as exc:  # every problem at once: paths, then values
        raise ScenarioError(path_problems + _attribute(exc.problems, placed)) from None
    if path_problems:
        raise ScenarioError(path_problems)
    return sc


def what_if(scenario: Scenario | str | Path, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario with ``overrides`` applied and validated: a new :class:`Scenario`.

    ``scenario`` is a Scenario or a scenario file. It returns the changed scenario rather
    than a plan, so that it can be inspected, saved, compared, or changed again before
    solving: solving stays ``planner.solve(planner.what_if(scenario, {...}))``. Paths and
    values are those of :func:`apply_overrides`::

        planner.what_if(scenario, {"rack_types[h100-air].network_multiple": 32,
                                   "sites[prn].feed_kw": "12 MW"})
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return apply_overrides(sc, overrides)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"PATH=VALUE"`` -> ``(path, value)``, VALUE read as YAML with the scenario loader.

    ``32`` is an int, ``4.0e9`` a float, ``null`` None, ``12 MW`` a string, ``[1e9, 2e9]``
    a list, ``{count: 10, power_kw: 8}`` a mapping. Raises ScenarioError naming the path
    when there is no ``=``, no path or no value, or the value is not valid YAML.
    """
    depth = 0
    cut = -1
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        elif char == "=" and depth == 0:
            cut = i
            break
    if cut < 0:
        raise ScenarioError([Problem(text or "(empty)", "expected PATH=VALUE")])
    path, raw = text[:cut].strip(), text[cut + 1 :].strip()
    if not path:
        raise ScenarioError([Problem(text, "expected PATH=VALUE: the path is empty")])
    if not raw:
        raise ScenarioError(
            [Problem(path, "no value after '=' (write null for none, '' for empty text)")]
        )
    try:
        value, _ = parse_yaml(raw)
    except DocumentError as exc:
        reason = "; ".join(p.message for p in exc.problems)
        raise ScenarioError([Problem(path, f"cannot read the value {raw!r}: {reason}")]) from None
    return path, value


def apply_assignments(scenario: Scenario, texts: Iterable[str]) -> Scenario:
    """:func:`apply_overrides` of ``PATH=VALUE`` texts (the command line's ``--set``), with
    every problem at once: a malformed assignment, an unknown path and a bad value."""
    overrides: dict[str, Any] = {}
    problems: list[Problem] = []
    for text in texts:
        try:
            path, value = parse_assignment(text)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        overrides[path] = value
    try:
        changed = apply_overrides(scenario, overrides)
    except ScenarioError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return changed
