"""Reading YAML and JSON documents safely: any file a user points the planner at.

:func:`read_document` returns a file's plain data and a map of paths to lines, or raises
:class:`~planner.scenario.problems.DocumentError` naming what is wrong, never a traceback:

* text: UTF-8 (with or without a byte-order mark) or UTF-16 (with a mark, or recognisably
  without); anything else, or binary bytes, is "not a text file in UTF-8 or UTF-16";
* structure: nested at most :data:`MAX_DEPTH` levels (a scenario needs about 8); YAML
  aliases may repeat parts, but a document that expands to more than
  :data:`MAX_EXPANDED_NODES` nodes and :data:`MAX_EXPANSION` times its own size (an "alias
  bomb") is refused before anything is built from it;
* keys: a key repeated in one mapping is an error naming both lines (YAML and JSON both
  keep the last one silently).

The file is parsed once; checks run on its node graph without expanding aliases.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any

import yaml

from .problems import DocumentError, Problem, format_loc

MAX_DEPTH = 40
MAX_EXPANDED_NODES = 2_000_000
MAX_EXPANSION = 20


class Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``4e9`` and ``4.0e9`` as numbers (YAML 1.2 floats)."""


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def decode(raw: bytes) -> str:
    """The text of a file's bytes: UTF-8 or UTF-16 (see the module docstring)."""
    if raw.startswith(codecs.BOM_UTF8):
        raw, encoding = raw[len(codecs.BOM_UTF8) :], "utf-8"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(raw) >= 2 and raw[0] and not raw[1]:
        encoding = "utf-16-le"  # ASCII text in UTF-16 without a mark: every other byte 0
    elif len(raw) >= 2 and not raw[0] and raw[1]:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1 if encoding == "utf-8" else None
        raise DocumentError(
            [Problem("(file)", f"not a text file in UTF-8 or UTF-16 ({exc.reason})", line)]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DocumentError(
            [Problem("(file)", "not a text file in UTF-8 or UTF-16 (it holds NUL bytes)", line)]
        )
    return text


def _check_graph(root: yaml.Node) -> None:
    """Depth, alias expansion and duplicate keys of a YAML node graph, without expanding
    it: each distinct node is visited once (aliases share their node)."""
    size: dict[int, int] = {}  # id(node) -> nodes it expands to
    depth: dict[int, int] = {}  # id(node) -> deepest nesting below it
    distinct = 0
    stack: list[tuple[yaml.Node, bool, tuple]] = [(root, False, ())]
    on_path: set[int] = set()
    while stack:
        node, done, loc = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if depth[key] > MAX_DEPTH:
                raise DocumentError(
                    [
                        Problem(
                            "(file)",
                            f"nested more than {MAX_DEPTH} levels deep (a scenario needs about 8)",
                            node.start_mark.line + 1,
                        )
                    ]
                )
            continue
        if key in size:
            continue
        if key in on_path:  # a recursive alias (an anchor used inside itself)
            raise DocumentError(
                [Problem("(file)", "an alias refers to itself", node.start_mark.line + 1)]
            )
        distinct += 1
        on_path.add(key)
        stack.append((node, True, loc))
        if len(on_path) > MAX_DEPTH + 1:
            raise DocumentError(
                [
                    Problem(
                        "(file)",
                        f"nested more than {MAX_DEPTH} levels deep (a scenario needs about 8)",
                        node.start_mark.line + 1,
                    )
                ]
            )
        if isinstance(node, yaml.MappingNode):
            _no_duplicate_keys(node, loc)
            for k, v in node.value:
                stack.extend((c, False, loc + (k.value,)) for c in (k, v) if id(c) not in size)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(
                (c, False, loc + (i,)) for i, c in enumerate(children) if id(c) not in size
            )
    expanded = size[id(root)]
    if expanded > MAX_EXPANDED_NODES and expanded > MAX_EXPANSION * distinct:
        raise DocumentError(
            [
                Problem(
                    "(file)",
                    f"its aliases expand {distinct:,} nodes to {expanded:,}: refused as an "
                    "alias bomb (write the repeated parts out, or repeat them less)",
                )
            ]
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _no_duplicate_keys(node: yaml.MappingNode, loc: tuple) -> None:
    seen: dict[Any, int] = {}
    problems = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.value == "<<":  # merges may override
            continue
        line = key.start_mark.line + 1
        if key.value in seen:
            problems.append(
                Problem(
                    format_loc(loc + (key.value,)),
                    f"duplicate key {key.value!r} on lines {seen[key.value]} and {line}: "
                    "each key may appear once in a mapping",
                    line,
                )
            )
        else:
            seen[key.value] = line
    if problems:
        raise DocumentError(problems)


def line_map(node: yaml.Node | None, loc: tuple = ()) -> dict[tuple, int]:
    """Map each path in a YAML node tree to its 1-based line (call after the graph checks,
    which bound its size)."""
    if node is None:
        return {}
    lines = {loc: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = loc + (key.value,)
            lines[here] = key.start_mark.line + 1
            for sub, line in line_map(value, here).items():
                lines.setdefault(sub, line)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            lines.update(line_map(value, loc + (i,)))
    return lines


def parse_yaml(text: str) -> tuple[Any, dict[tuple, int]]:
    """YAML text as plain data and a map of paths to lines (DocumentError on anything
    wrong with it)."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_graph(node)
        lines = line_map(node)
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError([Problem("(file)", f"not valid YAML: {reason}", line)]) from None
    except RecursionError:
        raise DocumentError(
            [Problem("(file)", f"nested more than {MAX_DEPTH} levels deep")]
        ) from None
    finally:
        loader.dispose()


def parse_json(text: str) -> tuple[Any, dict[tuple, int]]:
    """JSON text as plain data and, where the text also reads as YAML, its lines."""

    def pairs(items: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in items:
            if key in out:
                raise DocumentError(
                    [Problem("(file)", f"duplicate key {key!r}: each key may appear once")]
                )
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise DocumentError([Problem("(file)", f"not valid JSON: {exc.msg}", exc.lineno)]) from None
    except RecursionError:
        raise DocumentError(
            [Problem("(file)", f"nested more than {MAX_DEPTH} levels deep")]
        ) from None
    _check_depth(data)
    try:
        _, lines = parse_yaml(text)
    except DocumentError:
        lines = {}
    return data, lines


def _check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if level > MAX_DEPTH:
            raise DocumentError([Problem("(file)", f"nested more than {MAX_DEPTH} levels deep")])
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)


def read_text(path: str | Path) -> str:
    """A file's text (see :func:`decode`); DocumentError when it cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise DocumentError([Problem(str(path), "is a directory, not a file")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DocumentError([Problem(str(path), f"cannot read the file: {reason}")]) from None
    return decode(raw)


def read_document(path: str | Path) -> tuple[Any, dict[tuple, int]]:
    """A YAML or JSON file (by its suffix: ``.json`` is JSON) as plain data and a map of
    paths to lines. Raises DocumentError (with ``source`` the path) naming the problem."""
    try:
        text = read_text(path)
        if Path(path).suffix.lower() == ".json":
            return parse_json(text)
        return parse_yaml(text)
    except DocumentError as exc:
        raise DocumentError(exc.problems, str(path)) from None


__all__ = [
    "Loader",
    "decode",
    "format_loc",
    "line_map",
    "parse_json",
    "parse_yaml",
    "read_document",
    "read_text",
]
