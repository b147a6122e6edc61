"""The plan file (``plan.json``): what it holds, and reading it back with every problem
named.

A plan file is strict JSON (no ``NaN`` or ``Infinity``: a number that is not finite is
written as ``null``) holding the plan's status, objective, spend and gap, its scenario and
its decision tables. :func:`plan_document` writes one; :func:`read_plan_document` checks one
against :class:`PlanFile` (the format, a known version and status, rows whose counts are
whole numbers, a valid scenario) and raises :class:`PlanFileError` naming each problem by
its path (``racks[3].count: Input should be a valid integer``). Whether the decisions obey
the rules is a separate question, answered by :meth:`planner.Plan.verify`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..scenario.documents import read_text
from ..scenario.problems import DocumentError, InputError, Problem, problems_from

FORMAT = "dc-retrofit-planner plan"
FORMAT_VERSION = 2
#: versions this planner reads: 1 (before training clusters) and 2
READ_VERSIONS = (1, 2)
STATUSES = ("optimal", "feasible", "infeasible", "error")


class PlanFileError(InputError):
    """A plan file that cannot be read back: not JSON, truncated, or not of the format."""

    what = "broken plan file"


Finite = Annotated[float, Field(allow_inf_nan=False)]
Whole = Annotated[int, Field(ge=0, strict=False)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RackRow(_Row):
    site: str
    hall: str
    period: str
    rack_type: str
    rdhx_option: str = ""
    count: Whole


class RetrofitRow(_Row):
    site: str
    hall: str  # "" for site-scope options
    period: str
    option: str
    kind: str
    units: Whole
    added: int


class HallRow(_Row):
    site: str
    hall: str
    period: str
    cpu_racks_retired: Whole
    cpu_racks_left: int
    liquid_to_cdu_kw: Finite
    liquid_to_aalc_kw: Finite


class ClusterRow(_Row):
    kind: str
    domain: Literal["hall", "site"]
    site: str
    hall: str  # "" for site-domain clusters
    rack_type: str
    period: str
    count: Whole
    racks: Whole
    gpus: Whole


class PlanFile(BaseModel):
    """What a plan file holds (version 2; version 1 has no ``clusters``)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[FORMAT]  # type: ignore[valid-type]
    version: Literal[READ_VERSIONS]  # type: ignore[valid-type]
    status: Literal[STATUSES]  # type: ignore[valid-type]
    objective: Finite | None = None
    total_spend_usd: Finite = 0.0
    gap: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    solver: str = ""
    message: str = ""
    build_seconds: Annotated[float, Field(ge=0)] = 0.0
    solve_seconds: Annotated[float, Field(ge=0)] = 0.0
    scenario: dict
    racks: list[RackRow] = []
    retrofits: list[RetrofitRow] = []
    halls: list[HallRow] = []
    clusters: list[ClusterRow] = []
    diagnosis: list[dict] | None = None


def _finite(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(document: dict) -> str:
    """A plan document as strict JSON text."""
    return json.dumps(_finite(document), indent=1, allow_nan=False)


def looks_like_plan(path: str | Path) -> bool:
    """Whether a file is meant as a plan file, judged by its content, not its name: its
    opening names the plan format (so that a truncated or damaged plan file is reported as
    such, not read as a scenario)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return FORMAT.encode() in head or FORMAT.encode("utf-16-le") in head


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number in strict JSON")


def parse_plan_document(text: str, source: str | None = None) -> PlanFile:
    """Plan-file text checked against :class:`PlanFile`; PlanFileError naming every problem."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        cut = " (is the file cut short?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise PlanFileError(
            [Problem("(file)", f"not valid JSON: {exc.msg}{cut}", exc.lineno)], source
        ) from None
    except (ValueError, RecursionError) as exc:
        raise PlanFileError([Problem("(file)", f"not valid JSON: {exc}")], source) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanFileError(
            [Problem("format", f"not a dc-retrofit-planner plan file (format {FORMAT!r})")],
            source,
        )
    version = data.get("version")
    if version not in READ_VERSIONS:
        raise PlanFileError(
            [
                Problem(
                    "version",
                    f"unknown plan file version {version!r}: this planner reads versions "
                    f"{', '.join(map(str, READ_VERSIONS))}",
                )
            ],
            source,
        )
    try:
        return PlanFile.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(problems_from(exc), source) from None


def read_plan_document(source: str | Path) -> PlanFile:
    """A plan file (a path, or the JSON text itself) checked against :class:`PlanFile`."""
    text = str(source)
    where = None
    if not text.lstrip().startswith("{"):
        where = str(source)
        try:
            text = read_text(source)
        except DocumentError as exc:
            raise PlanFileError(exc.problems, where) from None
    return parse_plan_document(text, where)
