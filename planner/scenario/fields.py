"""The kinds of field a scenario file holds: quantities with units, counts, shares and
names, each with its finite range (listed in ``docs/scenario.md``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.json_schema import WithJsonSchema

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


def _label(value: Any) -> Any:
    """Period labels are text; a bare year or number (``2024``) is read as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Label = Annotated[
    str, BeforeValidator(_label), Field(min_length=1, max_length=200), AfterValidator(_visible)
]


def _doc(text: str, default: Any = ...) -> Any:
    return Field(default, description=text)
