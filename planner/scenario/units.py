"""Quantities written with units: ``"1.2 MW"``, ``"80 Tbps"``, ``"1.5 t"``, ``"$2.5M"``.

Every scenario field has a fixed unit (kW, Gbps, kg, USD). A field may be given as a plain
number (already in that unit), as a numeric string (``"4.0e9"``, ``"1_500"``), or as a
number followed by a unit of the field's kind. The units are read from a short table, as
planners write them, and nothing else is guessed:

* power: ``W``, ``kW``, ``MW``, ``GW`` (the prefix in any case: ``KW`` and ``mw`` are kW and
  MW; milliwatts are never meant), and ``watt(s)``, ``kilowatt(s)``, ``megawatt(s)``;
* bandwidth: bits per second as ``bps``, ``b/s``, ``bit/s`` with a prefix ``k``, ``M``,
  ``G``, ``T``, ``P`` (``Gbps``, ``Gb/s``, ``12.8 Tb/s``, ``gbps``), or bytes per second as
  ``B/s``/``Bps`` (``50 GB/s`` = 400 Gbps); ``GBPS`` in capitals is refused as ambiguous;
* mass: ``g``, ``kg``, ``t``, ``tonne(s)``, ``lb``/``lbs``;
* money: ``USD`` or a leading ``$``, with a multiplier ``k``, ``M`` (or ``m``, ``mn``),
  ``B`` (or ``bn``, ``G``): ``"$2.5M"``, ``"300k USD"``, ``"20 MUSD"``.

A decimal comma (``"1,5 MW"``), a thousands separator (``"1,500 kW"``), a second decimal
point, a unit with no number or a number with trailing words are errors, never silently
converted: the value a planner meant is not guessed.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: the kinds of quantity and what each is called in messages
KINDS = {"kW": "a power", "Gbps": "a bandwidth", "kg": "a mass", "USD": "an amount of money"}

_NUMBER = r"[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^(?P<dollar>\$)?\s*(?P<number>{_NUMBER})\s*(?P<unit>\S.*?)?$")
_PLAIN = re.compile(rf"^{_NUMBER}$")

_SI = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
_POWER = re.compile(r"^(?P<prefix>[kKmMgG]?)(?:W|w)$")
_POWER_WORDS = {
    "watt": 1e-3,
    "watts": 1e-3,
    "kilowatt": 1.0,
    "kilowatts": 1.0,
    "megawatt": 1e3,
    "megawatts": 1e3,
    "gigawatt": 1e6,
    "gigawatts": 1e6,
}
_BITS = re.compile(r"^(?P<prefix>[kKmMgGtTpP]?)(?:bps|b/s|bit/s|bits/s|bit/sec|bits/sec)$")
_BYTES = re.compile(r"^(?P<prefix>[kKmMgGtTpP]?)(?:Bps|B/s|byte/s|bytes/s)$")
_MASS = {"g": 1e-3, "kg": 1.0, "t": 1e3, "tonne": 1e3, "tonnes": 1e3, "lb": 0.45359237}
_MASS["lbs"] = _MASS["lb"]
_MONEY_MULTIPLIER = {
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "B": 1e9,
    "bn": 1e9,
    "G": 1e9,
}
_MONEY = re.compile(r"^(?P<multiplier>k|K|M|m|mn|B|bn|G)?\s*(?P<usd>USD|usd)?$")


def _factor(unit: str, kind: str, dollar: bool) -> float | None:
    """The factor from ``unit`` to the unit of ``kind``; None when the unit is not of that
    kind (or unknown)."""
    if kind == "USD":
        found = _MONEY.match(unit)
        if found is None or (not dollar and not found.group("usd") and not unit):
            return None if unit else 1.0
        return _MONEY_MULTIPLIER[found.group("multiplier") or ""]
    if dollar:
        return None
    if kind == "kW":
        found = _POWER.match(unit)
        if found:
            return _SI[found.group("prefix").lower()] / 1e3
        return _POWER_WORDS.get(unit.lower())
    if kind == "Gbps":
        found = _BITS.match(unit)
        if found:
            return _SI[found.group("prefix").lower()] / 1e9
        found = _BYTES.match(unit)
        if found:
            return 8 * _SI[found.group("prefix").lower()] / 1e9
        return None
    if kind == "kg":
        return _MASS.get(unit)
    raise KeyError(kind)


def _kind_of(unit: str, dollar: bool) -> str | None:
    """Which kind of quantity a unit measures, for messages."""
    return next((kind for kind in KINDS if _factor(unit, kind, dollar) is not None), None)


def to_unit(value: Any, unit: str) -> Any:
    """Convert ``value`` to a float in ``unit`` (a key of :data:`KINDS`).

    Numbers pass through; strings are read as described in the module docstring. Anything
    else is returned unchanged so that pydantic reports its own type error. Raises
    ``ValueError`` with a readable reason when a string cannot be read or its unit is not
    of the field's kind.
    """
    if isinstance(value, bool):
        # YAML reads ``yes``/``true`` as a bool, which pydantic would take as 1.0
        raise ValueError(f"expected a quantity in {unit}, not {value!r}")
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _PLAIN.match(text):
        return _finite(float(text.replace("_", "")), value, unit)
    if "," in text:
        raise ValueError(
            f"cannot read {value!r} as a quantity in {unit}: write decimals with a point and "
            "no thousands separators (1.5, 1500 or 1_500)"
        )
    found = _QUANTITY.match(text)
    if found is None:
        if text and not re.search(r"\d", text):
            raise ValueError(f"cannot read {value!r} as a quantity in {unit}: it has no number")
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}")
    dollar = bool(found.group("dollar"))
    written = found.group("unit") or ""
    compact = re.sub(r"\s+(?=USD$|usd$)", "", re.sub(r"\s*/\s*", "/", written))
    if re.search(r"[\d.]", compact) or " " in compact.strip():
        raise ValueError(
            f"cannot read {value!r} as a quantity in {unit}: expected one number and one unit"
        )
    if compact.isupper() and compact.endswith("BPS"):
        raise ValueError(
            f"cannot read {value!r}: {compact} is ambiguous, write "
            f"{compact[:-3]}bps (bits per second) or {compact[:-3]}B/s (bytes per second)"
        )
    factor = _factor(compact, unit, dollar)
    if factor is None:
        other = _kind_of(compact, dollar)
        if other is not None:
            raise ValueError(
                f"{value!r} is not a quantity in {unit} (its unit is {compact or '$'}, "
                f"{KINDS[other]})"
            )
        raise ValueError(f"cannot read {value!r} as a quantity in {unit}: unknown unit {compact!r}")
    magnitude = float(found.group("number").replace("_", "")) * factor
    return _finite(float(f"{magnitude:.12g}"), value, unit)


def _finite(number: float, value: str, unit: str) -> float:
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is too large to be a quantity in {unit}")
    return number
