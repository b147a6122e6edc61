"""Scenario files: pydantic models of halls, rack types and retrofit options.

Field names carry their unit; a quantity may be written with a unit (``"1.2 MW"``) and is
converted to the field's unit. Unknown keys are rejected. Every problem of a file is
reported at once, each with its path (``sites[0].halls[1].power_kw``) and, for YAML and
JSON files, its line. See ``MODEL.md`` section 1 and ``docs/model.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from .documents import Loader, read_document
from .problems import DocumentError, InputError, Problem, format_loc, problems_from
from .units import to_unit

HALL_KINDS = ("power", "air_cooling", "cdu", "aalc", "rdhx", "fabric", "floor")
SITE_KINDS = ("site_water", "site_feed")
#: unit of a retrofit option's ``capacity``, by kind
CAPACITY_UNIT = {
    "power": "kW",
    "air_cooling": "kW",
    "cdu": "kW",
    "aalc": "kW",
    "rdhx": "kW",
    "fabric": "Gbps",
    "floor": "kg",
    "site_water": "kW",
    "site_feed": "kW",
}


_EXAMPLES = {
    "kW": "'1.2 MW'",
    "Gbps": "'80 Tbps'",
    "kg": "'1.5 t'",
    "USD": "'4.0e9'",
    "the unit of its kind": "'1.2 MW' or '80 Tbps'",
}


def _number_or_text(bounds: dict, unit: str) -> WithJsonSchema:
    """JSON Schema of a quantity field: a number in ``unit`` within ``bounds`` (JSON Schema
    keywords), or a string with a unit."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", **bounds},
                {
                    "type": "string",
                    "description": f"a quantity convertible to {unit}, e.g. {_EXAMPLES[unit]}",
                },
            ]
        },
        mode="validation",
    )


def _quantity(unit: str, most: float, *, positive: bool = False) -> Any:
    """A finite float in ``unit`` from 0 (or above 0) to ``most``, also read from a string
    with a unit (``"1.2 MW"``).

    The bounds come before the unit conversion in ``Annotated``: placed after it, pydantic
    writes non-standard ``ge``/``gt`` keywords into the JSON Schema (which validators ignore)
    instead of ``minimum``/``exclusiveMinimum``. The JSON Schema also accepts the unit strings
    that validation accepts.
    """
    low = {"gt": 0} if positive else {"ge": 0}
    schema = {"exclusiveMinimum" if positive else "minimum": 0, "maximum": most}
    return Annotated[
        float,
        Field(allow_inf_nan=False, le=most, **low),
        BeforeValidator(lambda value: to_unit(value, unit)),
        _number_or_text(schema, unit),
    ]


def _number(most: float, *, positive: bool = False) -> Any:
    """A finite float from 0 (or above 0) to ``most``."""
    low = {"gt": 0} if positive else {"ge": 0}
    return Annotated[float, Field(allow_inf_nan=False, le=most, **low)]


def _count(most: int, least: int = 0) -> Any:
    """A whole number from ``least`` to ``most``."""
    return Annotated[int, Field(ge=least, le=most)]


def _visible(value: str) -> str:
    if not value.strip():
        raise ValueError("a name needs a visible character, not only spaces")
    return value


#: the largest value of each kind of field (all fields are finite; see docs/scenario.md)
MOST_KW_RACK = 1e4  # one rack: 10 MW
MOST_KW = 1e9  # a hall, a site or a retrofit unit: 1 TW
MOST_GBPS = 1e12
MOST_KG = 1e5
MOST_USD_ITEM = 1e12  # one rack, unit or retirement
MOST_USD = 1e15  # a budget
MOST_COUNT = 10**6  # racks, positions, units, GPUs per rack
MOST_PERIODS = 1000
MOST_PFLOPS = 1e6  # one rack
MOST_MULTIPLE = 1e5

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Overhead = Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)]
Count = _count(MOST_COUNT)
Lead = _count(MOST_PERIODS)
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_visible)]
USD = _quantity("USD", MOST_USD_ITEM)
Budget = _quantity("USD", MOST_USD)


# -- checks across fields of one model ---------------------------------------------------
# Each runs twice: in its model's validator (so the model alone is sound) and on the raw
# document in the scenario's cross-checks, because pydantic skips a model's "after"
# validator once any of its fields failed, and a file's problems are reported all at once.
# The scenario drops the second report of a problem found both ways.
def _liquid_fraction_problem(cooling: Any, fraction: Any) -> tuple[str, str] | None:
    """(error type, message) when a rack's cooling and liquid_fraction disagree."""
    if cooling == "air" and fraction != 0:
        return "air_rack_liquid_fraction", "an air-cooled rack has liquid_fraction 0"
    if cooling == "liquid" and fraction <= 0:
        return "liquid_rack_liquid_fraction", "a liquid-cooled rack needs liquid_fraction > 0"
    return None


def _cpu_racks_problem(count: float, positions: float) -> tuple[str, str] | None:
    """(error type, message) when a hall holds more CPU racks than it has positions."""
    if count > positions:
        return (
            "cpu_racks_exceed_positions",
            f"cpu_racks.count ({_plain(count)}) exceeds the hall's positions ({_plain(positions)})",
        )
    return None


def _plain(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _as_number(value: Any) -> float | None:
    """A raw document's number (or numeric string), else None (its field reports it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else value
    if isinstance(value, str):
        try:
            return _as_number(float(value.replace("_", "")))
        except ValueError:
            return None
    return None


class _Model(BaseModel):
    """Scenario parts: unknown keys are errors, and a field set after loading is validated
    (a bad value raises :class:`ScenarioError` and leaves the old one in place)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, validate_assignment=True)

    def __setattr__(self, name: str, value: Any) -> None:
        old = self.__dict__.get(name, _UNSET)
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            if old is not _UNSET:  # a cross-check may fail after the field was stored
                self.__dict__[name] = old
            where = f"{type(self).__name__}.{name} = {value!r}"
            raise ScenarioError(problems_from(exc), f"setting {where}") from None


_UNSET = object()


def _label(value: Any) -> Any:
    """Period labels are text; a bare year or number (``2024``) is read as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Label = Annotated[
    str, BeforeValidator(_label), Field(min_length=1, max_length=200), AfterValidator(_visible)
]


def _doc(text: str, default: Any = ...) -> Any:
    return Field(default, description=text)


class ReferenceRack(_Model):
    """The CPU-era rack that a rack type's ``network_multiple`` refers to."""

    network_gbps: _quantity("Gbps", MOST_GBPS, positive=True) = _doc(
        "Network bandwidth of one CPU-era rack, Gbps."
    )


class RackType(_Model):
    """A kind of GPU rack that can be deployed."""

    name: Name = _doc("Unique name of the rack type.")
    gpus: Count = _doc("GPUs in one rack.")
    power_kw: _quantity("kW", MOST_KW_RACK, positive=True) = _doc(
        "IT power of one rack, kW (all of it becomes heat)."
    )
    cooling: Literal["air", "liquid"] = _doc("How the rack is cooled: air or liquid.")
    liquid_fraction: Share = _doc(
        "Share of the rack's heat captured by liquid: 0 for air racks, > 0 for liquid.", 0.0
    )
    network_multiple: _number(MOST_MULTIPLE, positive=True) | None = _doc(
        "Bandwidth as a multiple of reference_rack.network_gbps (give this or network_gbps).",
        None,
    )
    network_gbps: _quantity("Gbps", MOST_GBPS) | None = _doc(
        "Bandwidth of one rack, Gbps (give this or network_multiple).", None
    )
    weight_kg: _quantity("kg", MOST_KG, positive=True) = _doc("Weight on one floor position, kg.")
    positions: _count(MOST_COUNT, least=1) = _doc("Rack positions one rack occupies.", 1)
    capex_usd: USD = _doc("Price of one rack, USD, paid in the period it first operates.")
    pflops: _number(MOST_PFLOPS) = _doc("Compute of one rack, PFLOPS (dense BF16).")
    lead_periods: Lead = _doc("First period index (0-based) in which it can operate.", 0)

    @model_validator(mode="after")
    def _cooling_matches_liquid_fraction(self) -> RackType:
        problem = _liquid_fraction_problem(self.cooling, self.liquid_fraction)
        if problem:
            raise PydanticCustomError(*problem)
        return self


class Retrofit(_Model):
    """A retrofit option: units of it can be bought for a hall (or a site)."""

    name: Name = _doc("Unique name of the option.")
    kind: Literal[HALL_KINDS + SITE_KINDS] = _doc(  # type: ignore[valid-type]
        "What a unit adds: power, air_cooling, cdu, aalc, rdhx, fabric, floor (per hall); "
        "site_water, site_feed (per site)."
    )
    capacity: Annotated[
        float,
        Field(gt=0, le=MOST_GBPS, allow_inf_nan=False),
        _number_or_text({"exclusiveMinimum": 0, "maximum": MOST_GBPS}, "the unit of its kind"),
    ] = _doc(
        "What one unit adds: kW (power, air_cooling, cdu, aalc, site_water, site_feed), kW per "
        "rack (rdhx), Gbps (fabric) or kg per position (floor)."
    )
    positions: Count = _doc("Rack positions one unit takes in its hall.", 0)
    cost_usd: USD = _doc("Price of one unit, USD, paid in the period it is installed.")
    max_units: Count | None = _doc("Most units per hall (or site); null = no limit.", None)
    lead_periods: Lead = _doc("First period index (0-based) in which it can be installed.", 0)

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity_in_unit_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        return to_unit(value, CAPACITY_UNIT.get(kind, "kW"))

    @property
    def scope(self) -> Literal["hall", "site"]:
        return "site" if self.kind in SITE_KINDS else "hall"


class CpuRacks(_Model):
    """The CPU-era racks a hall holds today (one position each)."""

    count: Count = _doc("CPU racks standing today.")
    power_kw: _quantity("kW", MOST_KW_RACK) = _doc("IT power of one CPU rack, kW.")
    network_gbps: _quantity("Gbps", MOST_GBPS) = _doc("Bandwidth of one CPU rack, Gbps.")
    retire_cost_usd: USD | None = _doc(
        "Cost to retire one CPU rack, USD; null = these racks cannot be retired.", None
    )


class Hall(_Model):
    """A data hall as it stands before any retrofit."""

    name: Name = _doc("Name of the hall, unique in its site.")
    positions: Count = _doc("Rack positions.")
    power_kw: _quantity("kW", MOST_KW) = _doc("Usable IT power after redundancy, kW.")
    air_cooling_kw: _quantity("kW", MOST_KW) = _doc("Heat the room air handling can remove, kW.")
    max_air_rack_kw: _quantity("kW", MOST_KW_RACK, positive=True) = _doc(
        "Heaviest heat load one rack may put into room air, kW."
    )
    floor_kg_per_position: _quantity("kg", MOST_KG, positive=True) = _doc(
        "Floor rating per rack position, kg."
    )
    fabric_gbps: _quantity("Gbps", MOST_GBPS) = _doc(
        "Network capacity available to racks in the hall, Gbps."
    )
    facility_water: bool = _doc(
        "Whether pipes from the site water loop reach this hall (needed by CDUs and RDHx).",
        False,
    )
    retrofits: list[Name] | None = _doc(
        "Hall-scope options that may be used here; null = every one in the catalog.", None
    )
    cpu_racks: CpuRacks | None = _doc("Existing CPU-era racks, if any.", None)

    @model_validator(mode="after")
    def _cpu_racks_fit(self) -> Hall:
        if self.cpu_racks is not None:
            problem = _cpu_racks_problem(self.cpu_racks.count, self.positions)
            if problem:
                raise PydanticCustomError(*problem)
        return self


class Site(_Model):
    """A site: halls sharing a utility feed and a facility-water loop."""

    name: Name = _doc("Unique name of the site.")
    feed_kw: _quantity("kW", MOST_KW) | None = _doc(
        "Cap on facility power drawn (IT + cooling overhead), kW; null = no cap.", None
    )
    facility_water_kw: _quantity("kW", MOST_KW) = _doc(
        "Heat the site water loop can reject (CDUs, RDHx), kW; 0 if none.", 0.0
    )
    air_overhead: Overhead = _doc("kW of facility power per kW of heat removed by room air.", 0.0)
    liquid_overhead: Overhead = _doc(
        "kW of facility power per kW of heat sent to the water loop.", 0.0
    )
    halls: Annotated[list[Hall], Field(min_length=1)] = _doc("The site's halls.")


class Scenario(_Model):
    """A planning question: periods, objective, budgets, catalogs and the fleet."""

    name: Annotated[str, Field(max_length=500)] = _doc("Free text naming the scenario.", "scenario")
    periods: Annotated[list[Label], Field(min_length=1, max_length=MOST_PERIODS)] = _doc(
        "Period labels, in order (one label = a single-period plan)."
    )
    objective: Literal["max_compute", "min_cost"] = _doc(
        "max_compute: most PFLOPS-periods, least spend among equals; min_cost: least spend "
        "meeting gpu_targets.",
        "max_compute",
    )
    budget_usd_per_period: Budget | list[Budget] | None = _doc(
        "Spend cap per period, USD: one number (every period), one per period, or null.", None
    )
    budget_usd_total: Budget | None = _doc("Cap on spend over all periods, USD, or null.", None)
    gpu_targets: list[_number(1e12)] | None = _doc(
        "GPUs that must be operating in each period (one number per period), or null.", None
    )
    reference_rack: ReferenceRack | None = _doc(
        "The CPU-era rack that network_multiple refers to.", None
    )
    rack_types: Annotated[list[RackType], Field(min_length=1)] = _doc(
        "Catalog of GPU rack types that can be deployed."
    )
    retrofits: list[Retrofit] = _doc("Catalog of retrofit options.", [])
    sites: Annotated[list[Site], Field(min_length=1)] = _doc("Sites and their halls.")

    @model_validator(mode="wrap")
    @classmethod
    def _collect_every_problem(cls, data: Any, handler: Any) -> Scenario:
        """Run field validation and the cross-reference checks, and report all problems."""
        errors: list[InitErrorDetails] = []
        scenario = None
        try:
            scenario = handler(data)
        except ValidationError as exc:
            errors.extend(_reraisable(e) for e in exc.errors())
        raw = data.model_dump() if isinstance(data, BaseModel) else data
        if isinstance(raw, dict):
            reported = {(tuple(e["loc"]), _text(e["type"])) for e in errors}
            errors.extend(
                InitErrorDetails(
                    type=PydanticCustomError("scenario", message), loc=loc, input=value
                )
                for loc, message, value in _cross_check(raw)
                if (tuple(loc), message) not in reported
            )
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return scenario

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Scenario:
        """Validate plain data (or a Scenario) as a scenario; raises :class:`ScenarioError`
        listing every problem by its path, as for a file."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise ScenarioError(problems_from(exc)) from None

    # -- convenience accessors (data only; no modelling logic) -----------------------
    @property
    def n_periods(self) -> int:
        return len(self.periods)

    def budgets(self) -> list[float | None]:
        """Budget of each period in USD (None = no cap)."""
        b = self.budget_usd_per_period
        return list(b) if isinstance(b, list) else [b] * self.n_periods

    def halls(self) -> Iterator[tuple[Site, Hall]]:
        """Every (site, hall) pair, in file order."""
        for site in self.sites:
            for hall in site.halls:
                yield site, hall


#: pydantic's own error types; any other type came from a PydanticCustomError of ours
_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))
#: errors raised by a model validator that belong to one of the model's fields
_LOC_OF_ERROR = {
    "cpu_racks_exceed_positions": ("cpu_racks", "count"),
    "air_rack_liquid_fraction": ("liquid_fraction",),
    "liquid_rack_liquid_fraction": ("liquid_fraction",),
}


def _text(error_type: Any) -> str | None:
    return error_type.message() if isinstance(error_type, PydanticCustomError) else None


def _reraisable(error: Any) -> InitErrorDetails:
    """An error from ``ValidationError.errors()`` in the form ``from_exception_data`` takes.

    ``from_exception_data`` only knows pydantic's error types by name: a custom type (from a
    PydanticCustomError raised in a validator) is passed on as a PydanticCustomError with its
    already formatted message.
    """
    loc = tuple(error["loc"]) + _LOC_OF_ERROR.get(error["type"], ())
    if error["type"] in _PYDANTIC_ERROR_TYPES:
        return InitErrorDetails(
            type=error["type"], loc=loc, input=error.get("input"), ctx=error.get("ctx", {})
        )
    return InitErrorDetails(
        type=PydanticCustomError(error["type"], error["msg"]), loc=loc, input=error.get("input")
    )


# -- cross-reference checks on the raw document ----------------------------------------
def _items(raw: Any, key: str) -> list[tuple[int, dict]]:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(items: list[tuple[int, dict]], prefix: tuple) -> Iterator[tuple]:
    seen: dict[str, int] = {}
    for i, item in items:
        name = item.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            where = _format_loc(prefix + (seen[name],))
            yield prefix + (i, "name"), f"duplicate name {name!r} (also at {where})", name
        else:
            seen[name] = i


def _cross_check(raw: dict) -> Iterator[tuple[tuple, str, Any]]:
    """Problems that span fields: (loc, message, offending value) triples."""
    periods = raw.get("periods")
    n_periods = len(periods) if isinstance(periods, list) else None
    if isinstance(periods, list):
        seen = set()
        for i, label in enumerate(periods):
            if not isinstance(label, str):  # its field reports it (and it may be unhashable)
                continue
            if label in seen:
                yield ("periods", i), f"duplicate period {label!r}", label
            seen.add(label)

    racks = _items(raw, "rack_types")
    options = _items(raw, "retrofits")
    sites = _items(raw, "sites")
    yield from _duplicates(racks, ("rack_types",))
    yield from _duplicates(options, ("retrofits",))
    yield from _duplicates(sites, ("sites",))

    for key in ("budget_usd_per_period", "gpu_targets"):
        value = raw.get(key)
        if isinstance(value, list) and n_periods is not None and len(value) != n_periods:
            yield (
                (key,),
                f"has {len(value)} entries but there are {n_periods} periods",
                value,
            )
    if raw.get("objective") == "min_cost" and raw.get("gpu_targets") is None:
        yield ("gpu_targets",), "objective min_cost needs gpu_targets (one per period)", None

    for i, rack in racks:
        fraction = _as_number(rack.get("liquid_fraction", 0.0))
        problem = fraction is not None and _liquid_fraction_problem(rack.get("cooling"), fraction)
        if problem:
            yield ("rack_types", i, "liquid_fraction"), problem[1], rack.get("liquid_fraction")
        given = [k for k in ("network_multiple", "network_gbps") if rack.get(k) is not None]
        if len(given) != 1:
            what = "both" if given else "neither"
            yield (
                ("rack_types", i),
                f"give exactly one of network_multiple or network_gbps ({what} given)",
                None,
            )
        elif given == ["network_multiple"] and raw.get("reference_rack") is None:
            yield (
                ("rack_types", i, "network_multiple"),
                "network_multiple needs reference_rack.network_gbps",
                rack.get("network_multiple"),
            )

    kinds = {o["name"]: o.get("kind") for _, o in options if isinstance(o.get("name"), str)}
    for s, site in sites:
        halls = _items(site, "halls")
        yield from _duplicates(halls, ("sites", s, "halls"))
        for h, hall in halls:
            cpu = hall.get("cpu_racks")
            count = _as_number(cpu.get("count")) if isinstance(cpu, dict) else None
            positions = _as_number(hall.get("positions"))
            if count is not None and positions is not None:
                problem = _cpu_racks_problem(count, positions)
                if problem:
                    yield ("sites", s, "halls", h, "cpu_racks", "count"), problem[1], count
            names = hall.get("retrofits")
            if not isinstance(names, list):
                continue
            for k, name in enumerate(names):
                if not isinstance(name, str):  # its field reports it
                    continue
                loc = ("sites", s, "halls", h, "retrofits", k)
                if name not in kinds:
                    known = ", ".join(str(n) for n in kinds) or "none"
                    yield loc, f"unknown retrofit {name!r} (the catalog has: {known})", name
                elif kinds[name] in SITE_KINDS:
                    yield (
                        loc,
                        f"{name!r} is a site-scope option ({kinds[name]}); it is available "
                        "to every site and is not listed per hall",
                        name,
                    )
                elif names.index(name) != k:
                    yield loc, f"{name!r} is listed twice", name


# -- loading files and reporting problems ------------------------------------------------
class ScenarioError(InputError):
    """A scenario that cannot be used, with every problem found in it."""

    what = "invalid scenario"


_format_loc = format_loc
_Loader = Loader  # the YAML loader of scenario files, for --set values and grid files


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
        "`planner/units.py` (a decimal comma, a thousands separator or an unknown unit is an",
        "error). Every number has the finite range given (an interval: `(0, 10000]` is above 0",
        "and at most 10,000). Names need a visible character. Unknown keys and keys repeated in",
        "one mapping are errors. The rules these fields enter are stated in",
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
