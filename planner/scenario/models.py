"""Scenario files: pydantic models of halls, rack types and retrofit options.

Field names carry their unit; a quantity may be written with a unit (``"1.2 MW"``) and is
converted to the field's unit. Unknown keys are rejected. Every problem of a file is
reported at once, each with its path (``sites[0].halls[1].power_kw``) and, for YAML and
JSON files, its line. See ``MODEL.md`` section 1 and ``docs/model.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .checks import (
    _cpu_racks_problem,
    _cross_check,
    _liquid_fraction_problem,
    _reraisable,
    _text,
)
from .fields import (
    CAPACITY_UNIT,
    HALL_KINDS,
    MOST_COUNT,
    MOST_GBPS,
    MOST_KG,
    MOST_KW,
    MOST_KW_RACK,
    MOST_MULTIPLE,
    MOST_PERIODS,
    MOST_PFLOPS,
    SITE_KINDS,
    USD,
    Budget,
    Count,
    Label,
    Lead,
    Name,
    Overhead,
    Share,
    _count,
    _doc,
    _number,
    _number_or_text,
    _quantity,
)
from .installed import as_it_stands
from .problems import ScenarioError, problems_from
from .units import to_unit


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


class InstalledRacks(_Model):
    """GPU racks of one type already operating in a hall, and the rear doors they sit behind."""

    count: Count = _doc("Racks operating before the first period (paid for).")
    rdhx: Name | None = _doc(
        "The RDHx option whose doors these racks sit behind (one door each, which come with "
        "them), or null for none.",
        None,
    )


def _as_entries(value: Any) -> Any:
    """``gpu_racks`` values: a count, ``{count, rdhx}``, or a list of those, read as a list."""
    if isinstance(value, list):
        return [
            {"count": v} if isinstance(v, int) and not isinstance(v, bool) else v for v in value
        ]
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"count": value}]
    return [value] if isinstance(value, dict) else value


InstalledGroups = Annotated[list[InstalledRacks], BeforeValidator(_as_entries)]


class Hall(_Model):
    """A data hall as it stands before the first period (MODEL.md sections 1 and 6)."""

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
    cpu_racks: CpuRacks | None = _doc("Existing CPU-era racks still standing, if any.", None)
    installed: dict[Name, Count] | None = _doc(
        "Retrofit units in place before the first period (paid for), by hall-scope option.",
        None,
    )
    gpu_racks: dict[Name, InstalledGroups] | None = _doc(
        "GPU racks operating before the first period (paid for), by rack type: a count, "
        "{count, rdhx: OPTION} for racks behind rear doors, or a list of those.",
        None,
    )

    def installed_racks(self) -> list[tuple[str, str, int]]:
        """``(rack type, door option or "", count)`` of the racks already operating."""
        merged: dict[tuple[str, str], int] = {}
        for name, groups in (self.gpu_racks or {}).items():
            for group in groups:
                key = (name, group.rdhx or "")
                merged[key] = merged.get(key, 0) + group.count
        return [(name, door, n) for (name, door), n in merged.items() if n]

    def installed_only(self) -> set[str]:
        """Options installed here that the hall's ``retrofits`` list leaves out: they count,
        but no more of them may be bought here."""
        if self.retrofits is None:
            return set()
        return {name for name in self.installed_units() if name not in self.retrofits}

    def installed_units(self) -> dict[str, int]:
        """Units of each hall-scope option in place: those listed under ``installed`` and the
        rear doors the installed racks sit behind."""
        units = {name: n for name, n in (self.installed or {}).items() if n}
        for _, door, n in self.installed_racks():
            if door:
                units[door] = units.get(door, 0) + n
        return units

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
    installed: dict[Name, Count] | None = _doc(
        "Retrofit units in place before the first period (paid for), by site-scope option.",
        None,
    )

    def installed_units(self) -> dict[str, int]:
        """Units of each site-scope option in place."""
        return {name: n for name, n in (self.installed or {}).items() if n}


class ClusterKind(_Model):
    """A kind of training cluster: GPUs under one non-blocking backend fabric, all their
    racks in one hall or one site, all of one rack type."""

    name: Name = _doc("Unique name of the cluster kind.")
    gpus: _count(MOST_COUNT, least=1) = _doc(
        "GPUs in one cluster (a Meta AI zone: 2,000-4,000 GPUs)."
    )
    domain: Literal["hall", "site"] = _doc(
        "Where one cluster's racks stand: all in one hall, or all in the halls of one site.",
        "hall",
    )
    rack_types: list[Name] | None = _doc(
        "Rack types a cluster may be made of (one type per cluster); null = every type.", None
    )
    targets: list[Count] | None = _doc(
        "Clusters of this kind that must be operating in each period (one number per "
        "period), or null.",
        None,
    )


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
    clusters: list[ClusterKind] | None = _doc(
        "Training cluster kinds (MODEL.md section 5), or null for none.", None
    )
    compute_counts: Literal["all", "clustered"] = _doc(
        "What max_compute counts: all: every rack; clustered: a rack only while it is in a "
        "cluster. GPU targets count every GPU either way.",
        "all",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _collect_every_problem(cls, data: Any, handler: Any, info: ValidationInfo) -> Scenario:
        """Run field validation and the cross-reference checks, and report all problems.
        With ``context={"late": True}`` (a scenario whose deliveries were made late from a
        valid one), a cluster kind no rack type can form within the horizon is allowed: it
        forms no cluster."""
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
                for loc, message, value in _cross_check(
                    raw, late=bool((info.context or {}).get("late"))
                )
                if (tuple(loc), message) not in reported
            )
        if not errors and scenario is not None:  # the fleet as it stands, on sound fields
            errors.extend(
                InitErrorDetails(type=PydanticCustomError("scenario", message), loc=loc, input=v)
                for loc, message, v in as_it_stands(scenario)
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

    def cluster_kinds(self) -> list[ClusterKind]:
        """The cluster kinds (none when ``clusters`` is null)."""
        return list(self.clusters or [])

    def cluster_rack_types(self, kind: ClusterKind) -> list[RackType]:
        """The rack types a cluster of ``kind`` may be made of: those it names (every type
        when it names none) that have GPUs."""
        names = kind.rack_types
        return [r for r in self.rack_types if r.gpus > 0 and (names is None or r.name in names)]

    def hall_options(self, hall: Hall) -> list[Retrofit]:
        """Hall-scope options that may stand in ``hall``: those its ``retrofits`` list allows
        (every one when null; CDUs and rear doors only with facility water), and those
        installed there."""
        installed = hall.installed_units()
        return [
            o
            for o in self.retrofits
            if o.scope == "hall"
            and (
                o.name in installed
                or (hall.retrofits is None or o.name in hall.retrofits)
                and (hall.facility_water or o.kind not in ("cdu", "rdhx"))
            )
        ]

    def halls(self) -> Iterator[tuple[Site, Hall]]:
        """Every (site, hall) pair, in file order."""
        for site in self.sites:
            for hall in site.halls:
                yield site, hall
