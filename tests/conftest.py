"""Shared fixtures: a tiny valid scenario, and helpers to write it and run the CLI on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml


def tiny_scenario_dict() -> dict[str, Any]:
    """A fresh, small, valid scenario: 2 periods, 1 site, 1 hall with CPU racks, 2 rack types
    (one air, one liquid), 3 retrofit options (two hall-scope, one site-scope).

    It solves in well under a second. Tests mutate their own copy.
    """
    return {
        "name": "tiny",
        "periods": ["2024Q1", "2024Q2"],
        "objective": "max_compute",
        "budget_usd_per_period": [2.0e7, 2.0e7],
        "budget_usd_total": None,
        "gpu_targets": None,
        "reference_rack": {"network_gbps": 50},
        "rack_types": [
            {
                "name": "gpu-air",
                "gpus": 8,
                "power_kw": 15,
                "cooling": "air",
                "liquid_fraction": 0.0,
                "network_multiple": 8,
                "weight_kg": 900,
                "positions": 1,
                "capex_usd": 4.0e6,
                "pflops": 8,
                "lead_periods": 0,
            },
            {
                "name": "gpu-liquid",
                "gpus": 32,
                "power_kw": 60,
                "cooling": "liquid",
                "liquid_fraction": 0.8,
                "network_gbps": 1600,
                "weight_kg": 1100,
                "positions": 1,
                "capex_usd": 1.2e7,
                "pflops": 40,
                "lead_periods": 1,
            },
        ],
        "retrofits": [
            {
                "name": "busway",
                "kind": "power",
                "capacity": 200,
                "positions": 0,
                "cost_usd": 3.0e5,
                "max_units": 2,
                "lead_periods": 0,
            },
            {
                "name": "cdu",
                "kind": "cdu",
                "capacity": 300,
                "positions": 1,
                "cost_usd": 5.0e5,
                "max_units": 2,
                "lead_periods": 1,
            },
            {
                "name": "chiller",
                "kind": "site_water",
                "capacity": 500,
                "cost_usd": 8.0e5,
                "max_units": 1,
            },
        ],
        "sites": [
            {
                "name": "site-a",
                "feed_kw": 1500,
                "facility_water_kw": 200,
                "air_overhead": 0.3,
                "liquid_overhead": 0.1,
                "halls": [
                    {
                        "name": "hall-1",
                        "positions": 20,
                        "power_kw": 300,
                        "air_cooling_kw": 300,
                        "max_air_rack_kw": 20,
                        "floor_kg_per_position": 1200,
                        "fabric_gbps": 4000,
                        "facility_water": True,
                        "retrofits": ["busway", "cdu"],
                        "cpu_racks": {
                            "count": 10,
                            "power_kw": 8,
                            "network_gbps": 50,
                            "retire_cost_usd": 20000,
                        },
                    }
                ],
            }
        ],
    }


def rack_doc(name, gpus, kw, cooling, fraction, gbps, capex, pflops) -> dict[str, Any]:
    """A rack type as a scenario file writes it (800 kg, one position)."""
    return {
        "name": name,
        "gpus": gpus,
        "power_kw": kw,
        "cooling": cooling,
        "liquid_fraction": fraction,
        "network_gbps": gbps,
        "weight_kg": 800,
        "capex_usd": capex,
        "pflops": pflops,
    }


def write_scenario(data: Any, path: Path) -> Path:
    """Write scenario data to ``path`` as JSON (``.json``) or YAML (anything else)."""
    if path.suffix == ".json":
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny_dict() -> dict[str, Any]:
    """A fresh copy of :func:`tiny_scenario_dict`."""
    return tiny_scenario_dict()


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Path:
    """The tiny scenario written to a YAML file."""
    return write_scenario(tiny_scenario_dict(), tmp_path / "tiny.yaml")
