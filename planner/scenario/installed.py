"""What is already there (MODEL.md section 6): checks of installed retrofit units and GPU
racks, by path, before any solve.

* :func:`installed_names` runs on the raw document with the other cross-references: every
  option and rack type named under ``installed`` and ``gpu_racks`` exists and has the right
  scope or kind.
* :func:`as_it_stands` runs on a scenario whose fields are sound: installed units within
  ``max_units`` (rear doors of installed racks included), one unit of each floor option, no
  CDU or rear door in a hall without facility water, every installed rack within the rules
  of its hall as it stands (air density, rear doors, floor), and the installed racks
  breaking no capacity rule of their hall or site with the CPU racks still standing. A
  capacity rule is reported only when the installed racks break it (the CPU racks alone may
  exceed a limit: the plan then repairs it), and the liquid heat is split between CDUs and
  AALC sidecars in the way most favourable to the rule checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .fields import SITE_KINDS

Found = Iterator[tuple[tuple, str, Any]]
_EPS = 1e-9


def _named(raw: Any, key: str) -> list[tuple[int, dict]]:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _groups(value: Any) -> list[tuple[tuple, Any]]:
    """``(path suffix, group)`` of one ``gpu_racks`` entry (a count, a mapping or a list)."""
    if isinstance(value, list):
        return [((j,), v) for j, v in enumerate(value)]
    return [((), value)]


def installed_names(sites: list[tuple[int, dict]], kinds: dict, rack_names: list) -> Found:
    """Names under ``installed`` and ``gpu_racks`` that the catalogs do not hold, or hold at
    another scope or kind: ``(loc, message, value)``."""
    known = ", ".join(str(n) for n in kinds) or "none"
    racks_known = ", ".join(str(n) for n in rack_names if isinstance(n, str)) or "none"

    def option_problem(name: str, scope: str) -> str | None:
        if name not in kinds:
            return f"unknown retrofit option {name!r} (the catalog has: {known})"
        if (kinds[name] in SITE_KINDS) != (scope == "site"):
            other = "site" if kinds[name] in SITE_KINDS else "hall"
            return f"{name!r} is a {other}-scope option ({kinds[name]}): list it under the {other}"
        return None

    for s, site in sites:
        units = site.get("installed")
        if isinstance(units, dict):
            for name in units:
                problem = option_problem(name, "site")
                if problem:
                    yield ("sites", s, "installed", name), problem, name
        for h, hall in _named(site, "halls"):
            at = ("sites", s, "halls", h)
            units = hall.get("installed")
            if isinstance(units, dict):
                for name in units:
                    problem = option_problem(name, "hall")
                    if problem:
                        yield at + ("installed", name), problem, name
            racks = hall.get("gpu_racks")
            if not isinstance(racks, dict):
                continue
            for name, value in racks.items():
                if name not in rack_names:
                    message = f"unknown rack type {name!r} (the catalog has: {racks_known})"
                    yield at + ("gpu_racks", name), message, name
                for suffix, group in _groups(value):
                    door = group.get("rdhx") if isinstance(group, dict) else None
                    if not isinstance(door, str):
                        continue
                    loc = at + ("gpu_racks", name) + suffix + ("rdhx",)
                    problem = option_problem(door, "hall")
                    if problem is None and kinds[door] != "rdhx":
                        problem = f"{door!r} is a {kinds[door]} option, not a rear door (rdhx)"
                    if problem:
                        yield loc, problem, door


def as_it_stands(sc) -> Found:
    """Problems of the fleet as it stands before the first period (see the module's text)."""
    options = {o.name: o for o in sc.retrofits}
    racks = {r.name: r for r in sc.rack_types}
    ref = sc.reference_rack.network_gbps if sc.reference_rack else 0.0
    for s, site in enumerate(sc.sites):
        at_site = ("sites", s)
        for name, n in site.installed_units().items():
            opt = options[name]
            if opt.max_units is not None and n > opt.max_units:
                yield at_site + ("installed", name), _over_max(n, opt), n
        with_racks, without = [], []
        for h, hall in enumerate(site.halls):
            at = at_site + ("halls", h)
            yield from _unit_problems(hall, options, at)
            yield from _rack_problems(hall, racks, options, at)
            entries = [(racks[t], door, n) for t, door, n in hall.installed_racks()]
            loads = _loads(hall, entries, options, ref)
            bare = _loads(hall, [], options, ref)
            with_racks.append(loads)
            without.append(bare)
            if not entries:
                continue
            for rule, (used, cap, unit, what) in loads["rules"].items():
                if used > cap + _EPS * max(1.0, cap) and not _broken(bare["rules"][rule]):
                    message = (
                        f"the installed GPU racks break the {rule} rule as the hall stands: "
                        f"{what} {used:,.6g} {unit} against {cap:,.6g} {unit}"
                    )
                    yield at + ("gpu_racks",), message, None
        yield from _site_problems(sc, s, site, options, with_racks, without)


def _over_max(n: int, opt) -> str:
    return f"{n} units installed, more than max_units {opt.max_units} of {opt.name}"


def _unit_problems(hall, options: dict, at: tuple) -> Found:
    listed = hall.installed or {}
    for name, n in hall.installed_units().items():
        opt = options[name]
        loc = at + ("installed", name) if name in listed else at + ("gpu_racks",)
        if opt.max_units is not None and n > opt.max_units:
            doors = " (rear doors of the installed racks included)" if opt.kind == "rdhx" else ""
            yield loc, _over_max(n, opt) + doors, n
        if opt.kind == "floor" and n > 1:
            yield loc, f"{n} units of floor option {name}: floor units do not stack (one each)", n
        if opt.kind in ("cdu", "rdhx") and not hall.facility_water and name in listed:
            yield loc, f"{name} ({opt.kind}) needs facility water, which this hall has not", n


def _rack_problems(hall, racks: dict, options: dict, at: tuple) -> Found:
    """Rules of one rack: rear doors, air density and floor."""
    units = hall.installed_units()
    floor = max(
        (options[o].capacity for o, n in units.items() if n and options[o].kind == "floor"),
        default=hall.floor_kg_per_position,
    )
    floor = max(floor, hall.floor_kg_per_position)
    for name, door, _ in hall.installed_racks():
        rack = racks[name]
        loc = at + ("gpu_racks", name)
        if door:
            opt = options[door]
            if rack.cooling == "liquid":
                yield loc, f"rdhx: {name} is liquid-cooled and cannot sit behind a rear door", door
            elif opt.capacity < rack.power_kw:
                yield (
                    loc,
                    f"rdhx: {door} takes racks of at most {opt.capacity:g} kW; {name} draws "
                    f"{rack.power_kw:g} kW",
                    door,
                )
            if not hall.facility_water:
                yield loc, f"rdhx: {door} needs facility water, which this hall has not", door
        elif rack.cooling == "air" and rack.power_kw > hall.max_air_rack_kw + _EPS:
            yield (
                loc,
                f"air density: {name} racks put {rack.power_kw:g} kW each into room air, above "
                f"the hall's max_air_rack_kw {hall.max_air_rack_kw:g}, and sit behind no rear door",
                None,
            )
        residual = (1 - rack.liquid_fraction) * rack.power_kw
        if rack.cooling == "liquid" and residual > hall.max_air_rack_kw + _EPS:
            yield (
                loc,
                f"air density: {name} racks leave {residual:g} kW each in room air, above the "
                f"hall's max_air_rack_kw {hall.max_air_rack_kw:g}",
                None,
            )
        if rack.weight_kg > floor:
            yield (
                loc,
                f"floor: {name} weighs {rack.weight_kg:g} kg per position, above the hall's "
                f"rating of {floor:g} kg with the floor units installed",
                None,
            )


def _broken(rule: tuple) -> bool:
    used, cap = rule[0], rule[1]
    return used > cap + _EPS * max(1.0, cap)


def _loads(hall, entries: list, options: dict, ref: float) -> dict:
    """Used and capacity of each hall rule with the given racks and the CPU racks standing,
    and the extremes of the liquid heat the CDUs may take (kW)."""
    units = hall.installed_units()

    def added(kind: str) -> float:
        return sum(options[o].capacity * n for o, n in units.items() if options[o].kind == kind)

    cpu = hall.cpu_racks
    cpu_n = cpu.count if cpu else 0
    cpu_kw = cpu_n * (cpu.power_kw if cpu else 0.0)
    positions = cpu_n + sum(options[o].positions * n for o, n in units.items())
    power, network, liquid, air, doors = (
        cpu_kw,
        cpu_n * (cpu.network_gbps if cpu else 0.0),
        0.0,
        cpu_kw,
        0.0,
    )
    for rack, door, n in entries:
        positions += rack.positions * n
        power += rack.power_kw * n
        gbps = rack.network_gbps if rack.network_gbps is not None else rack.network_multiple * ref
        network += gbps * n
        if rack.cooling == "liquid":
            liquid += rack.liquid_fraction * rack.power_kw * n
            air += (1 - rack.liquid_fraction) * rack.power_kw * n
        elif door:
            doors += rack.power_kw * n
        else:
            air += rack.power_kw * n
    cdu, aalc = added("cdu"), added("aalc")
    cdu_most = min(liquid, cdu)
    cdu_least = max(0.0, liquid - aalc)
    return {
        "rules": {
            "space": (positions, hall.positions, "positions", "racks and units take"),
            "power": (power, hall.power_kw + added("power"), "kW", "IT power"),
            "liquid": (liquid, cdu + aalc, "kW", "liquid heat (CDU and AALC capacity)"),
            "room_air": (
                air + liquid - cdu_most,
                hall.air_cooling_kw + added("air_cooling"),
                "kW",
                "heat into room air",
            ),
            "network": (network, hall.fabric_gbps + added("fabric"), "Gbps", "bandwidth"),
        },
        "it": power,
        "air": air + liquid,  # room air heat before the CDUs take any liquid heat
        "doors": doors,
        "cdu": (min(cdu_least, cdu_most), cdu_most),
    }


def _site_problems(sc, s: int, site, options: dict, with_racks: list, without: list) -> Found:
    """Facility water and site feed with the installed racks, where they break them."""
    units = site.installed_units()

    def added(kind: str) -> float:
        return sum(options[o].capacity * n for o, n in units.items() if options[o].kind == kind)

    def water(loads: list) -> float:  # the CDUs take the least liquid heat they can
        return sum(x["doors"] + x["cdu"][0] for x in loads)

    def feed(loads: list) -> float:  # the split that draws least
        total = 0.0
        for x in loads:
            total += x["it"] + min(
                site.air_overhead * (x["air"] - q) + site.liquid_overhead * (x["doors"] + q)
                for q in x["cdu"]
            )
        return total

    if not any(hall.installed_racks() for hall in site.halls):
        return
    at = ("sites", s)
    checks = [("facility water", water, site.facility_water_kw + added("site_water"))]
    if site.feed_kw is not None:
        checks.append(("site feed", feed, site.feed_kw + added("site_feed")))
    for rule, used_of, cap in checks:
        used, bare = used_of(with_racks), used_of(without)
        if used > cap + _EPS * max(1.0, cap) and bare <= cap + _EPS * max(1.0, cap):
            yield (
                at,
                f"the installed GPU racks break the {rule} rule as the site stands: "
                f"{used:,.6g} kW against {cap:,.6g} kW",
                None,
            )
