"""Problems of an input (a scenario, a plan file, a sweep grid), each by its path and line.

Every input a user gives the planner fails the same way: an :class:`InputError` listing
every :class:`Problem` found, each named by its path in the document
(``sites[0].halls[1].power_kw``) and, for files, its line. :func:`problems_from` turns a
pydantic ``ValidationError`` into such problems.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


def format_loc(loc: Iterable) -> str:
    """``("sites", 0, "halls", 1, "power_kw")`` -> ``"sites[0].halls[1].power_kw"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One problem in an input: where (path and line) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"


class InputError(ValueError):
    """An input that cannot be used, with every problem found in it. Subclasses say what
    kind of input (``what``)."""

    what = "invalid input"

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{head}{self.what}, {count}:\n{lines}")


class ScenarioError(InputError):
    """A scenario that cannot be used, with every problem found in it."""

    what = "invalid scenario"


class DocumentError(InputError):
    """A file that cannot be read as a document: not text, not YAML or JSON, too deep, a
    duplicate key."""

    what = "unreadable file"


def _message(error: dict) -> str:
    msg = error["msg"]
    if error["type"] == "extra_forbidden":
        return "unknown key (not a field of this part of the document)"
    if error["type"] == "missing":
        return "required field is missing"
    return msg.removeprefix("Value error, ")


def problems_from(exc: ValidationError, lines: dict[tuple, int] | None = None) -> list[Problem]:
    """Turn a pydantic ValidationError into Problems with paths and (given ``lines``, a map
    of paths to lines) lines, in file order."""
    problems = []
    for error in _without_wrong_branches(exc.errors()):
        loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
        line = None
        if lines:
            for cut in range(len(loc), -1, -1):
                if loc[:cut] in lines:
                    line = lines[loc[:cut]]
                    break
        problems.append(Problem(format_loc(loc), _message(error), line))
    # in file order where lines are known; stable, so pydantic's order breaks ties
    return sorted(problems, key=lambda p: p.line if p.line is not None else math.inf)


def _without_wrong_branches(errors: list) -> list:
    """Drop the noise of union fields (``budget_usd_per_period``: a number or a list).

    pydantic reports every branch of a union: for ``[2e7, -1]`` both "should be a valid
    number" (the number branch) and "[1] should be >= 0" (the list branch). A branch whose
    only complaint is that the input is of another type is dropped when another branch
    got further; when every branch says so, all are kept.
    """
    branches: dict[tuple, dict[str, list[int]]] = {}
    for i, error in enumerate(errors):
        loc = tuple(error["loc"])
        for depth, part in enumerate(loc):
            if _is_union_tag(part):
                branches.setdefault(loc[:depth], {}).setdefault(part, []).append(i)
                break
    drop: set[int] = set()
    for prefix, by_branch in branches.items():
        wrong = [
            members
            for members in by_branch.values()
            if all(
                len(errors[i]["loc"]) == len(prefix) + 1 and _is_wrong_type(errors[i]["type"])
                for i in members
            )
        ]
        if wrong and len(wrong) < len(by_branch):
            for members in wrong:
                drop.update(members)
    return [error for i, error in enumerate(errors) if i not in drop]


def _is_wrong_type(error_type: str) -> bool:
    return error_type.endswith(("_type", "_parsing")) or error_type == "none_required"


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the branch of a union (e.g. 'list[...]', 'function-before[...]') to loc
    return isinstance(part, str) and ("[" in part or part in ("float", "int", "str", "none"))
