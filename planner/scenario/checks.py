"""Checks that span fields of a scenario, on the raw document, so that every problem of a
file is reported at once (pydantic skips a model's own check once any of its fields
failed)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, get_args

from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from .fields import SITE_KINDS
from .installed import installed_names
from .problems import format_loc


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
            where = format_loc(prefix + (seen[name],))
            yield prefix + (i, "name"), f"duplicate name {name!r} (also at {where})", name
        else:
            seen[name] = i


def _cross_check(raw: dict, late: bool = False) -> Iterator[tuple[tuple, str, Any]]:
    """Problems that span fields: (loc, message, offending value) triples. ``late``: a
    cluster kind no rack type can form within the horizon is not one (deliveries made late
    on purpose, :func:`planner.slipped`)."""
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
    kinds = _items(raw, "clusters")
    yield from _duplicates(kinds, ("clusters",))
    cluster_targets = any(isinstance(k.get("targets"), list) for _, k in kinds)
    if (
        raw.get("objective") == "min_cost"
        and raw.get("gpu_targets") is None
        and not cluster_targets
    ):
        yield (
            ("gpu_targets",),
            "objective min_cost needs gpu_targets (one per period) or cluster targets",
            None,
        )
    if raw.get("compute_counts") == "clustered" and not kinds:
        yield ("compute_counts",), "compute_counts clustered needs cluster kinds (clusters)", None
    yield from _cluster_checks(raw, kinds, n_periods, late)

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
    yield from installed_names(sites, kinds, [r.get("name") for _, r in racks])
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


def _cluster_checks(
    raw: dict, kinds: list, n_periods: int | None, late: bool = False
) -> Iterator[tuple]:
    """Cluster kinds: rack types that exist, targets of the right length, and a kind that
    some rack type can form somewhere within the horizon (else why not)."""
    racks = {
        r.get("name"): r for _, r in _items(raw, "rack_types") if isinstance(r.get("name"), str)
    }
    halls = [h for _, site in _items(raw, "sites") for _, h in _items(site, "halls")]
    sites = [[h for _, h in _items(site, "halls")] for _, site in _items(raw, "sites")]
    for i, kind in kinds:
        names = kind.get("rack_types")
        if isinstance(names, list):
            for j, name in enumerate(names):
                if isinstance(name, str) and name not in racks:
                    known = ", ".join(racks) or "none"
                    yield (
                        ("clusters", i, "rack_types", j),
                        f"unknown rack type {name!r} (the catalog has: {known})",
                        name,
                    )
                elif isinstance(name, str) and names.index(name) != j:
                    yield ("clusters", i, "rack_types", j), f"{name!r} is listed twice", name
        targets = kind.get("targets")
        if isinstance(targets, list) and n_periods is not None and len(targets) != n_periods:
            yield (
                ("clusters", i, "targets"),
                f"has {len(targets)} entries but there are {n_periods} periods",
                targets,
            )
        reasons = [] if late else _why_unformable(kind, racks, halls, sites, n_periods)
        if reasons:
            yield (
                ("clusters", i),
                "no rack type can ever form this cluster kind: " + "; ".join(reasons),
                None,
            )


def _why_unformable(kind: dict, racks: dict, halls: list, sites: list, n_periods) -> list[str]:
    """Why each rack type a kind may use cannot form one cluster (positions, GPUs, lead
    time); [] when some type can, or when the document is too broken to tell."""
    gpus = _as_number(kind.get("gpus"))
    if not gpus or gpus <= 0:
        return []
    names = kind.get("rack_types")
    if names is not None and not isinstance(names, list):
        return []
    chosen = [racks[n] for n in (names if names is not None else list(racks)) if n in racks]
    if not chosen:
        return ["it names no rack type of the catalog"] if names is not None else []
    domain = kind.get("domain", "hall")
    spaces = [_as_number(h.get("positions")) or 0 for h in halls]
    if domain == "site":
        spaces = [sum(_as_number(h.get("positions")) or 0 for h in site) for site in sites]
    room = max(spaces, default=0)
    reasons = []
    for rack in chosen:
        name, per = rack.get("name"), _as_number(rack.get("gpus"))
        positions, lead = (
            _as_number(rack.get("positions", 1)),
            _as_number(rack.get("lead_periods", 0)),
        )
        if per is None or positions is None or lead is None:
            return []  # its own fields report it
        if per <= 0:
            reasons.append(f"{name} has no GPUs")
            continue
        need = math.ceil(gpus / per)
        if need * positions > room:
            where = "site" if domain == "site" else "hall"
            reasons.append(
                f"{name} needs {need:,} racks ({gpus:,.0f} GPUs / {per:,.0f} per rack) "
                f"taking {need * positions:,.0f} positions, more than the largest {where} "
                f"has ({room:,.0f})"
            )
        elif n_periods is not None and lead >= n_periods:
            reasons.append(
                f"{name} arrives only from period index {_plain(lead)}, after the horizon"
            )
        else:
            return []
    return reasons
