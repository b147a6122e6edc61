"""Quantities written with units: ``"1.2 MW"``, ``"80 Tbps"``, ``"1.5 t"``, ``"4.0e9"``.

Every scenario field has a fixed unit (kW, Gbps, kg, USD, ...). A field may be given as a
plain number (already in that unit), as a numeric string (PyYAML reads ``4.0e9`` as a
string), or as a string with a unit that pint can convert to the field's unit.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pint

#: the unit each kind of quantity is stored in, as pint spells it
UNITS = {
    "kW": "kW",
    "Gbps": "Gbit/s",
    "kg": "kg",
    "USD": "USD",
}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    # pint's bare ``bps`` is baud (1/s); bandwidth here is bits per second.
    ureg.define("bit_per_second = bit / second = bps_")
    ureg.define("USD = [currency] = usd = dollar = dollars")
    return ureg


def _number(text: str) -> float | None:
    try:
        return float(text.replace("_", "").replace(",", ""))
    except ValueError:
        return None


def to_unit(value: Any, unit: str) -> Any:
    """Convert ``value`` to a float in ``unit`` (a key of :data:`UNITS`).

    Numbers pass through; strings are parsed. Anything else is returned unchanged so that
    pydantic reports its own type error. Raises ``ValueError`` with a readable reason when a
    string cannot be read or its unit does not fit.
    """
    if isinstance(value, bool):
        # YAML reads ``yes``/``true`` as a bool, which pydantic would take as 1.0
        raise ValueError(f"expected a quantity in {unit}, not {value!r}")
    if not isinstance(value, str):
        return value
    text = value.strip()
    number = _number(text)
    if number is not None:
        return number
    ureg = registry()
    # "80 Tbps" -> "80 Tbit/s": accept the usual networking spelling
    spelled = text
    for prefix in ("", "k", "M", "G", "T", "P"):
        spelled = spelled.replace(f"{prefix}bps", f"{prefix}bit/s")
    try:
        quantity = ureg.Quantity(spelled)
    except Exception as exc:  # pint raises several error types for unreadable text
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}") from exc
    if not isinstance(quantity, ureg.Quantity) or quantity.unitless:
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}")
    try:
        magnitude = quantity.to(UNITS[unit]).magnitude
    except pint.DimensionalityError:
        raise ValueError(
            f"{value!r} is not a quantity in {unit} (its unit is {quantity.units:~})"
        ) from None
    return float(f"{float(magnitude):.12g}")
