"""Scenarios: what a planning question is, read from files and checked.

* :mod:`.fields` and :mod:`.units`: the kinds of field (quantities with units, counts,
  names) and their ranges;
* :mod:`.models`: the pydantic models of a scenario (halls, rack types, retrofits, sites);
* :mod:`.checks`: checks that span fields; :mod:`.problems`: problems by path and line;
* :mod:`.documents` and :mod:`.loading`: reading YAML and JSON safely into a scenario;
* :mod:`.overrides`: what-if changes by path; :mod:`.synth`: synthetic fleets.
"""

from .fields import CAPACITY_UNIT, HALL_KINDS, SITE_KINDS
from .loading import json_schema, load_scenario, reference_markdown, revalidate, validate_document
from .models import (
    ClusterKind,
    CpuRacks,
    Hall,
    InstalledRacks,
    RackType,
    ReferenceRack,
    Retrofit,
    Scenario,
    Site,
)
from .problems import DocumentError, InputError, Problem, ScenarioError

__all__ = [
    "CAPACITY_UNIT",
    "ClusterKind",
    "HALL_KINDS",
    "SITE_KINDS",
    "CpuRacks",
    "DocumentError",
    "Hall",
    "InstalledRacks",
    "InputError",
    "Problem",
    "RackType",
    "ReferenceRack",
    "Retrofit",
    "Scenario",
    "ScenarioError",
    "Site",
    "json_schema",
    "load_scenario",
    "reference_markdown",
    "revalidate",
    "validate_document",
]
