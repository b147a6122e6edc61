"""Synthetic fleets: valid, realistic scenarios of any size, for benchmarks and sweeps.

``fleet(sites, halls_per_site, periods, seed)`` draws a fleet of CPU-era halls from the
published ranges that the shipped configs cite figure by figure (configs/*.yaml), and
returns a validated :class:`~planner.Scenario`:

* halls of 260-400 positions (a classic hall is ~330) with 1-2 MW of usable IT power, room
  air sized to it, legacy (15-20 kW/rack: a liquid H100 rack's 15 kW residual fits, so every
  hall can take GPU racks) or contained (25-30 kW/rack) air, 1,000-1,200 kg
  floors, a CPU-era fabric of 200 Gbps per CPU rack and 10-30 % headroom;
* 55-85 % of positions held by 6-10 kW CPU racks, retirable at $10k-25k each, except in
  about one hall in ten, whose racks cannot be retired;
* facility water reaching about 60 % of halls, with 0-8 MW of spare heat rejection per
  site; a utility feed of 1.3-1.6x the site's usable IT power;
* the catalogue of ``configs/meta-2023-retrofit.yaml`` (Grand Teton, 4-DGX, liquid HGX and
  GB200 racks; CDUs, rear doors, AALC sidecars, power blocks, fabric, floors, chillers,
  transformers) with lead times drawn per fleet: GPU racks 1 quarter, CDUs 2-3, power and
  chillers 3-4, transformers 8-10;
* per-period budgets of $4-8M per hall ramping up 2x over the horizon: a full hall holds
  $50-150M of GPU racks, so money binds in most periods.

The same arguments give the same scenario, on every machine (``random.Random(seed)``).
"""

from __future__ import annotations

import random
from typing import Any

from .loading import validate_document
from .models import Scenario

__all__ = ["fleet", "fleet_document", "quarters"]

#: the rack catalogue (see configs/meta-2023-retrofit.yaml for each figure's source)
RACK_TYPES: list[dict[str, Any]] = [
    # Meta Grand Teton: 2 x 8 H100, ~22 kW, 6.4 Tbps = 28x a 200 Gbps CPU rack
    dict(name="h100-air", gpus=16, power_kw=22, cooling="air", liquid_fraction=0.0,
         network_multiple=28, weight_kg=700, positions=1, capex_usd=6.0e5, pflops=15.824),
    # 4 DGX H100 (NVIDIA SuperPOD design guide): 40.8 kW, needs a rear door in most halls
    dict(name="dgx-h100-air-4", gpus=32, power_kw=40.8, cooling="air", liquid_fraction=0.0,
         network_multiple=64, weight_kg=800, positions=1, capex_usd=1.2e6, pflops=31.648),
    # liquid HGX H100 rack (ServeTheHome, xAI Colossus): 75 kW, 80 % to liquid
    dict(name="hgx-h100-liquid", gpus=64, power_kw=75, cooling="liquid", liquid_fraction=0.8,
         network_multiple=128, weight_kg=1250, positions=1, capex_usd=2.4e6, pflops=63.296),
    # GB200 NVL72 (NVIDIA DGX GB200 user guide): 132 kW, 85 % to liquid, ~$3M
    dict(name="gb200-nvl72", gpus=72, power_kw=132, cooling="liquid", liquid_fraction=0.85,
         network_multiple=144, weight_kg=1500, positions=1, capex_usd=3.0e6, pflops=180),
]  # fmt: skip

#: the retrofit catalogue (figures as in configs/meta-2023-retrofit.yaml)
RETROFITS: list[dict[str, Any]] = [
    dict(name="cdu-1200kw", kind="cdu", capacity=1200, positions=2, cost_usd=2.4e6,
         max_units=4),
    dict(name="rdhx-active-50kw", kind="rdhx", capacity=50, positions=0, cost_usd=1.0e5,
         max_units=None),
    dict(name="rdhx-passive-30kw", kind="rdhx", capacity=30, positions=0, cost_usd=6.0e4,
         max_units=None),
    dict(name="aalc-20kw", kind="aalc", capacity=20, positions=1, cost_usd=4.0e4,
         max_units=None),
    dict(name="power-1mw", kind="power", capacity=1000, positions=0, cost_usd=5.0e6,
         max_units=4),
    dict(name="crah-500kw", kind="air_cooling", capacity=500, positions=1, cost_usd=1.0e6,
         max_units=4),
    dict(name="fabric-256gpu", kind="fabric", capacity=102400, positions=0, cost_usd=1.3824e6,
         max_units=None),
    dict(name="floor-1500kg", kind="floor", capacity=1500, positions=0, cost_usd=2.0e6,
         max_units=1),
    dict(name="chillers-2mw", kind="site_water", capacity=2000, positions=0, cost_usd=4.0e6,
         max_units=3),
    dict(name="transformer-20mw", kind="site_feed", capacity=20000, positions=0,
         cost_usd=1.0e8, max_units=1),
]  # fmt: skip

#: lead time ranges in quarters, drawn once per fleet (Omdia; Cushman & Wakefield 2025;
#: Wood Mackenzie)
LEADS: dict[str, tuple[int, int]] = {
    "h100-air": (1, 1),
    "dgx-h100-air-4": (1, 1),
    "hgx-h100-liquid": (1, 1),
    "gb200-nvl72": (4, 6),
    "cdu-1200kw": (2, 3),
    "rdhx-active-50kw": (1, 1),
    "rdhx-passive-30kw": (1, 1),
    "aalc-20kw": (1, 1),
    "power-1mw": (3, 4),
    "crah-500kw": (2, 3),
    "fabric-256gpu": (1, 2),
    "floor-1500kg": (1, 2),
    "chillers-2mw": (3, 4),
    "transformer-20mw": (8, 10),
}


def quarters(count: int, start: str = "2025Q1") -> list[str]:
    """``count`` quarter labels from ``start`` (``"2025Q1"``), in order."""
    year, quarter = int(start[:4]), int(start[-1])
    labels = []
    for i in range(count):
        q = quarter - 1 + i
        labels.append(f"{year + q // 4}Q{q % 4 + 1}")
    return labels


def _hall(rng: random.Random, name: str) -> dict[str, Any]:
    """One CPU-era hall: classic size, 1-2 MW usable, mostly full of CPU racks."""
    positions = rng.randint(260, 400)
    power_kw = 100 * rng.randint(10, 20)
    contained = rng.random() < 0.25
    cpu_kw = rng.choice([6, 7, 8, 8, 9, 10])
    share = rng.uniform(0.55, 0.85)
    count = min(int(positions * share), int(0.9 * power_kw / cpu_kw))
    cpu_gbps = 200
    return dict(
        name=name,
        positions=positions,
        power_kw=power_kw,
        air_cooling_kw=int(power_kw * rng.uniform(0.95, 1.1)),
        max_air_rack_kw=rng.choice([25, 30]) if contained else rng.choice([15, 15, 20, 20]),
        floor_kg_per_position=rng.choice([1000, 1000, 1200]),
        fabric_gbps=int(count * cpu_gbps * rng.uniform(1.1, 1.3)),
        facility_water=rng.random() < 0.6,
        retrofits=None,
        cpu_racks=dict(
            count=count,
            power_kw=cpu_kw,
            network_gbps=cpu_gbps,
            retire_cost_usd=None if rng.random() < 0.1 else 5000 * rng.randint(2, 5),
        ),
    )


def _site(rng: random.Random, name: str, halls: int) -> dict[str, Any]:
    hall_docs = [_hall(rng, f"{name}-h{j + 1:02d}") for j in range(halls)]
    it_kw = sum(h["power_kw"] for h in hall_docs)
    watered = any(h["facility_water"] for h in hall_docs)
    return dict(
        name=name,
        feed_kw=int(it_kw * rng.uniform(1.3, 1.6)),
        facility_water_kw=500 * rng.randint(0, 16) if watered else 0,
        air_overhead=0.35,
        liquid_overhead=0.08,
        halls=hall_docs,
    )


def _budgets(rng: random.Random, halls: int, periods: int) -> list[float]:
    """Per-period budgets (USD): $4-8M per hall in the first period, ramping to twice that.

    A hall takes $50-150M of GPU racks when full, so money binds in most periods."""
    first = halls * rng.uniform(4e6, 8e6)
    ramp = [1.0 + t / max(periods - 1, 1) for t in range(periods)]
    return [round(first * k * rng.uniform(0.9, 1.1), -6) for k in ramp]


def fleet_document(
    sites: int = 3,
    halls_per_site: int = 4,
    periods: int | list[str] = 12,
    seed: int = 0,
    name: str | None = None,
) -> dict[str, Any]:
    """The scenario document (plain data, as a YAML file holds it) of a synthetic fleet."""
    if sites < 1 or halls_per_site < 1:
        raise ValueError("a fleet needs at least one site and one hall per site")
    labels = quarters(periods) if isinstance(periods, int) else list(periods)
    if not labels:
        raise ValueError("a fleet needs at least one period")
    rng = random.Random(seed)
    leads = {item: rng.randint(lo, hi) for item, (lo, hi) in LEADS.items()}
    rack_types = [dict(rt, lead_periods=leads[rt["name"]]) for rt in RACK_TYPES]
    retrofits = [dict(op, lead_periods=leads[op["name"]]) for op in RETROFITS]
    site_docs = [_site(rng, f"s{i + 1:03d}", halls_per_site) for i in range(sites)]
    return dict(
        name=name or f"fleet-{sites}x{halls_per_site}-{len(labels)}q-seed{seed}",
        periods=labels,
        objective="max_compute",
        budget_usd_per_period=_budgets(rng, sites * halls_per_site, len(labels)),
        budget_usd_total=None,
        gpu_targets=None,
        reference_rack=dict(network_gbps=200),
        rack_types=rack_types,
        retrofits=retrofits,
        sites=site_docs,
    )


def fleet(
    sites: int = 3,
    halls_per_site: int = 4,
    periods: int | list[str] = 12,
    seed: int = 0,
    name: str | None = None,
) -> Scenario:
    """A validated synthetic fleet of ``sites x halls_per_site`` CPU-era halls over
    ``periods`` quarters (a count, from 2025Q1, or a list of labels). Deterministic for a
    ``seed``; see the module docstring for the ranges drawn."""
    return validate_document(fleet_document(sites, halls_per_site, periods, seed, name))
