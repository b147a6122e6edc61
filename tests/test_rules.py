"""Each rule family of MODEL.md on a tiny scenario with a known exact optimum.

Every case states its optimum twice: worked out by hand (the comment and the expected
values) and found by exhaustive search (``tests/bruteforce.py``, which does not use
``planner/model.py``). ``planner.solve`` must reach exactly that optimum (objective, spend
and the decisive decisions) and its plan must pass ``Plan.verify()``. The second half
tampers with solved plans and checks that ``verify()`` names the broken rule.

Shared defaults (see :func:`builders.scenario`): one site ``s1`` with one hall ``h1``; rack ``a`` is
air-cooled, 10 kW, 8 GPUs, 10 PFLOPS, 100 Gbps, 500 kg, one position, $1M. Halls have room
to spare on everything a case does not mention (1,000 kW power and room air, 50 kW per-rack
air limit, 1,000 kg floor, 100 Tbps fabric, facility water piped, 1,000 kW of site water).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pytest
from bruteforce import (
    brute_force,
    mutate,
    random_candidates,
    search,
    search_by_verify,
    to_plan,
    violations,
)
from builders import hall, liquid, option, rack, scenario

import planner
from planner.plan import Plan
from planner.plan import accounting as acc

M = 1e6  # USD
TWO = ("P0", "P1")  # two periods


# -- what a plan decided, as plain dicts -----------------------------------------------------
def rack_counts(plan: Plan) -> dict:
    """``{(hall, period, rack_type): racks}`` (doors merged), non-zero only."""
    out: Counter = Counter()
    for row in plan.racks.itertuples(index=False):
        out[row.hall, row.period, row.rack_type] += int(row.count)
    return {k: v for k, v in out.items() if v}


def door_counts(plan: Plan) -> dict:
    """``{(hall, period, rdhx option): racks behind it}``, non-zero only."""
    out: Counter = Counter()
    for row in plan.racks.itertuples(index=False):
        if row.rdhx_option:
            out[row.hall, row.period, row.rdhx_option] += int(row.count)
    return {k: v for k, v in out.items() if v}


def unit_counts(plan: Plan) -> dict:
    """``{(hall, or site for site scope, period, option): units installed by then}``."""
    return {
        (row.hall or row.site, row.period, row.option): int(row.units)
        for row in plan.retrofits.itertuples(index=False)
        if row.units
    }


def retired_counts(plan: Plan) -> dict:
    """``{(hall, period): CPU racks retired by then}``, non-zero only."""
    return {
        (row.hall, row.period): int(row.cpu_racks_retired)
        for row in plan.halls.itertuples(index=False)
        if row.cpu_racks_retired
    }


def liquid_split(plan: Plan) -> dict:
    """``{(hall, period): (kW to CDU, kW to AALC)}``."""
    return {
        (row.hall, row.period): (row.liquid_to_cdu_kw, row.liquid_to_aalc_kw)
        for row in plan.halls.itertuples(index=False)
    }


def totals_by(counts: dict, *, keep: tuple) -> Counter:
    """Sum a counts dict over the key positions not in ``keep``."""
    out: Counter = Counter()
    for key, n in counts.items():
        out[tuple(key[i] for i in keep)] += n
    return out


# -- the cases ---------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    data: dict
    objective: float  # PFLOPS-periods (max_compute) or USD (min_cost)
    spend: float  # USD
    racks: dict | None = None  # exact rack_counts(plan), when the optimum's racks are unique
    units: dict | None = None  # exact unit_counts(plan)
    doors: dict | None = None  # exact door_counts(plan)
    retired: dict | None = None  # exact retired_counts(plan)
    check: Callable[[Plan], None] | None = None  # decisions that hold for every optimum
    # brute-force bounds beyond the scenario's own (positions, max_units), see
    # bruteforce.decision_space: here, for options with max_units null (4 doors = 4 positions)
    bounds: dict = field(default_factory=dict)


CASES: list[Case] = []


def case(*args, **kw) -> Case:
    c = Case(*args, **kw)
    CASES.append(c)
    return c


# ---- space and CPU retirement
# 6 positions, 4 CPU racks (1 kW each, retirable at $100k), power 45 kW, racks of 10 kW.
# n racks need n <= 6 - (4 - k) positions with k retired, and 10 n + (4 - k) <= 45 kW:
# n = 5 would draw at least 50 kW > 45 kW, so n = 4, with the fewest retirements, k = 2:
# 4 x 10 = 40 PFLOPS; spend 4 x $1M + 2 x $100k = $4.2M.
CPU = dict(count=4, power_kw=1, network_gbps=10, retire_cost_usd=1e5)
case(
    "space-retire-cpu",
    scenario([rack()], [hall(positions=6, power_kw=45, cpu_racks=CPU)]),
    objective=40,
    spend=4.2 * M,
    racks={("h1", "P0", "a"): 4},
    retired={("h1", "P0"): 2},
)
# The same CPU racks cannot be retired (retire_cost_usd null): 6 - 4 = 2 racks, 20 PFLOPS.
case(
    "space-cpu-not-retirable",
    scenario(
        [rack()], [hall(positions=6, power_kw=45, cpu_racks=CPU | dict(retire_cost_usd=None))]
    ),
    objective=20,
    spend=2 * M,
    racks={("h1", "P0", "a"): 2},
    retired={},
)
# 5 positions; a: 1 position 10 PFLOPS $1M, b: 2 positions 25 PFLOPS $2M.
# 2 b + 1 a = 5 positions, 60 PFLOPS (beats 1 b + 3 a = 55 and 5 a = 50); spend $5M.
case(
    "space-two-position-rack",
    scenario([rack(), rack("b", positions=2, pflops=25, capex_usd=2 * M)], [hall(positions=5)]),
    objective=60,
    spend=5 * M,
    racks={("h1", "P0", "a"): 1, ("h1", "P0", "b"): 2},
)
# Two periods, 4 positions all taken by CPU racks ($100k to retire), $2.2M a period:
# P0: k0 >= n0 and n0 x $1M + k0 x $100k <= $2.2M -> n0 = k0 = 2 (20 PFLOPS);
# P1: the 2 retired stay retired (paid once): 2 more retirements + 2 racks = $2.2M -> 4 racks.
# 20 + 40 = 60 PFLOPS-periods, spend $4.4M.
case(
    "space-retire-cumulative",
    scenario(
        [rack()],
        [hall(positions=4, cpu_racks=CPU)],
        periods=("P0", "P1"),
        budget_usd_per_period=2.2 * M,
    ),
    objective=60,
    spend=4.4 * M,
    racks={("h1", "P0", "a"): 2, ("h1", "P1", "a"): 4},
    retired={("h1", "P0"): 2, ("h1", "P1"): 4},
)

# ---- power (+ power units)
# 8 positions, 100 kW, racks of 41 kW and 32 PFLOPS: floor(100 / 41) = 2 racks -> 64 PFLOPS.
BIG = rack("big", power_kw=41, pflops=32)
PW50 = option("pw", "power", 50, 5e5, max_units=2)
case(
    "power",
    scenario([BIG], [hall(positions=8, power_kw=100)], [PW50 | dict(max_units=0)]),
    objective=64,
    spend=2 * M,
    racks={("h1", "P0", "big"): 2},
    units={},
)
# + up to 2 units of 50 kW ($500k): floor((100 + 2 x 50) / 41) = 4 racks (1 unit: 3) ->
# 128 PFLOPS; spend 4 x $1M + 2 x $500k = $5M.
case(
    "power-units",
    scenario([BIG], [hall(positions=8, power_kw=100)], [PW50]),
    objective=128,
    spend=5 * M,
    racks={("h1", "P0", "big"): 4},
    units={("h1", "P0", "pw"): 2},
)
# The hall allows no retrofit (retrofits: []): back to 2 racks.
case(
    "power-units-not-allowed",
    scenario([BIG], [hall(positions=8, power_kw=100, retrofits=[])], [PW50]),
    objective=64,
    spend=2 * M,
    racks={("h1", "P0", "big"): 2},
    units={},
)


# ---- liquid heat: CDU and AALC
# Power 120 kW -> 3 liquid racks (40 kW): 90 kW of liquid heat. CDU 75 kW (max 1, $500k),
# AALC 30 kW ($200k, max 2), site water 70 kW (so at most 70 kW to CDUs).
# CDU alone 75 < 90, two AALC 60 < 90: the optimum needs both, 1 CDU + 1 AALC:
# 90 PFLOPS, spend 3 x $1M + $500k + $200k = $3.7M; split: CDU 60..70 kW, AALC 20..30 kW.
def _both_used(plan: Plan) -> None:
    cdu, aalc = liquid_split(plan)["h1", "P0"]
    assert cdu + aalc == pytest.approx(90)
    assert 60 - 1e-6 <= cdu <= 70 + 1e-6
    assert 20 - 1e-6 <= aalc <= 30 + 1e-6


CDU75 = option("cdu", "cdu", 75, 5e5, max_units=1)
AALC30 = option("aalc", "aalc", 30, 2e5, max_units=2)
case(
    "liquid-cdu-and-aalc",
    scenario([liquid()], [hall(power_kw=120)], [CDU75, AALC30], site=dict(facility_water_kw=70)),
    objective=90,
    spend=3.7 * M,
    racks={("h1", "P0", "liq"): 3},
    units={("h1", "P0", "cdu"): 1, ("h1", "P0", "aalc"): 1},
    check=_both_used,
)

# ---- room air with AALC heat (hall without facility water: AALC is the only liquid path)
# Room air 80 kW; each liquid rack puts 10 kW residual + 30 kW through its AALC sidecar
# (30 kW, 1 position, $200k) into room air = 40 kW: floor(80 / 40) = 2 racks + 2 sidecars
# (4 of 8 positions). 60 PFLOPS, spend 2 x $1M + 2 x $200k = $2.4M. (Were sidecar heat not
# counted, space would allow 4 racks + 4 sidecars; were the cheap CDU allowed without
# facility water, more still.)
AALC_POS = option("aalc", "aalc", 30, 2e5, positions=1, max_units=4)
CHEAP_CDU = option("cdu", "cdu", 100, 1e5, max_units=1)
NO_WATER = dict(positions=8, air_cooling_kw=80, facility_water=False)
case(
    "room-air-aalc-heat",
    scenario([liquid()], [hall(**NO_WATER)], [AALC_POS, CHEAP_CDU]),
    objective=60,
    spend=2.4 * M,
    racks={("h1", "P0", "liq"): 2},
    units={("h1", "P0", "aalc"): 2},
)
# + one 40 kW air-cooling unit ($100k): 120 kW -> 3 racks + 3 sidecars (6 positions):
# 90 PFLOPS, spend $3M + $600k + $100k = $3.7M.
case(
    "room-air-aalc-heat-air-unit",
    scenario(
        [liquid()],
        [hall(**NO_WATER)],
        [AALC_POS, CHEAP_CDU, option("crah", "air_cooling", 40, 1e5, max_units=1)],
    ),
    objective=90,
    spend=3.7 * M,
    racks={("h1", "P0", "liq"): 3},
    units={("h1", "P0", "aalc"): 3, ("h1", "P0", "crah"): 1},
)

# ---- rear doors (RDHx)
# Per-rack air limit 20 kW; hot: 30 kW air, 30 PFLOPS; cool: 10 kW air, 8 PFLOPS; 4 positions.
HOT = rack("hot", power_kw=30, pflops=30)
COOL = rack("cool", power_kw=10, pflops=8)
DOORS = hall(max_air_rack_kw=20)
DOOR35 = option("door", "rdhx", 35, 1e5)
# A 35 kW door ($100k) per hot rack: 4 hot racks, 4 doors: 120 PFLOPS, $4M + $400k.
case(
    "rdhx-mandatory",
    scenario([HOT, COOL], [DOORS], [DOOR35]),
    objective=120,
    spend=4.4 * M,
    racks={("h1", "P0", "hot"): 4},
    doors={("h1", "P0", "door"): 4},
    units={("h1", "P0", "door"): 4},
    bounds=dict(max_units=4),
)
# Doors rated 25 kW < 30 kW cannot take a hot rack: 4 cool racks, 32 PFLOPS, $4M.
case(
    "rdhx-too-weak",
    scenario([HOT, COOL], [DOORS], [DOOR35 | dict(capacity=25)]),
    objective=32,
    spend=4 * M,
    racks={("h1", "P0", "cool"): 4},
    units={},
    bounds=dict(max_units=4),
)
# A cheap weak door (25 kW, $50k) and the 35 kW one: only the strong one serves hot racks.
case(
    "rdhx-weak-and-strong",
    scenario([HOT, COOL], [DOORS], [option("weak", "rdhx", 25, 5e4), DOOR35]),
    objective=120,
    spend=4.4 * M,
    racks={("h1", "P0", "hot"): 4},
    doors={("h1", "P0", "door"): 4},
    units={("h1", "P0", "door"): 4},
    bounds=dict(max_units=4),
)
# One door serves one rack: 2 doors at most -> 2 hot + 2 cool = 60 + 16 = 76 PFLOPS,
# spend $4M + $200k.
case(
    "rdhx-one-per-rack",
    scenario([HOT, COOL], [DOORS], [DOOR35 | dict(max_units=2)]),
    objective=76,
    spend=4.2 * M,
    racks={("h1", "P0", "hot"): 2, ("h1", "P0", "cool"): 2},
    doors={("h1", "P0", "door"): 2},
    units={("h1", "P0", "door"): 2},
)
# A door's rack sends its whole heat to site water: 70 kW of water takes 2 hot racks (60 kW):
# 2 hot + 2 cool again, 76 PFLOPS, $4.2M.
case(
    "rdhx-facility-water",
    scenario([HOT, COOL], [DOORS], [DOOR35], site=dict(facility_water_kw=70)),
    objective=76,
    spend=4.2 * M,
    racks={("h1", "P0", "hot"): 2, ("h1", "P0", "cool"): 2},
    doors={("h1", "P0", "door"): 2},
    units={("h1", "P0", "door"): 2},
    bounds=dict(max_units=4),
)
# Any air rack may use a door: 15 kW racks (<= 20 kW limit, 12 PFLOPS), room air 30 kW:
# 2 racks without doors; 2 more behind 20 kW doors ($100k): 48 PFLOPS, $4.2M.
case(
    "rdhx-optional-for-room-air",
    scenario(
        [rack("warm", power_kw=15, pflops=12)],
        [hall(max_air_rack_kw=20, air_cooling_kw=30)],
        [option("door", "rdhx", 20, 1e5)],
    ),
    objective=48,
    spend=4.2 * M,
    racks={("h1", "P0", "warm"): 4},
    doors={("h1", "P0", "door"): 2},
    units={("h1", "P0", "door"): 2},
    bounds=dict(max_units=4),
)


# ---- facility water shared by the halls of a site (+ site water)
# Two halls of 3 positions; liquid racks (30 kW liquid each) need a CDU (100 kW, $500k, one
# per hall); the site's water loop rejects 70 kW for both halls together:
# floor(70 / 30) = 2 racks, in one hall with one CDU (either hall): 60 PFLOPS, $2.5M.
# (Per-hall water would allow 2 racks per hall.)
def _water_totals(racks: int, cdus: int) -> Callable[[Plan], None]:
    def check(plan: Plan) -> None:
        assert sum(rack_counts(plan).values()) == racks
        per_hall = {k[0]: n for k, n in totals_by(rack_counts(plan), keep=(0,)).items()}
        cdu = {k[0]: v for k, v in unit_counts(plan).items() if k[2] == "cdu"}
        assert sum(cdu.values()) == cdus
        assert all(cdu.get(h, 0) >= 1 for h, n in per_hall.items() if n)
        water = sum(qc for qc, _ in liquid_split(plan).values())
        assert water == pytest.approx(30 * racks)

    return check


TWO_HALLS = [hall("h1", positions=3), hall("h2", positions=3)]
CDU100 = option("cdu", "cdu", 100, 5e5, max_units=1)
case(
    "water-shared-by-halls",
    scenario([liquid()], TWO_HALLS, [CDU100], site=dict(facility_water_kw=70)),
    objective=60,
    spend=2.5 * M,
    check=_water_totals(2, 1),
)


# + one site_water unit of 60 kW ($300k): 130 kW -> 4 racks (120 kW), so both halls and 2 CDUs:
# 120 PFLOPS, spend $4M + $1M + $300k = $5.3M.
def _water_with_chiller(plan: Plan) -> None:
    _water_totals(4, 2)(plan)
    assert unit_counts(plan)["s1", "P0", "chiller"] == 1


case(
    "water-shared-site-water-unit",
    scenario(
        [liquid()],
        TWO_HALLS,
        [CDU100, option("chiller", "site_water", 60, 3e5, max_units=1)],
        site=dict(facility_water_kw=70),
    ),
    objective=120,
    spend=5.3 * M,
    check=_water_with_chiller,
)
# A hall without facility water can have neither CDU nor RDHx: h1 (water) takes 2 liquid racks
# with a CDU (60 PFLOPS); h2 (no water) can take neither liquid racks (no AALC in the catalog)
# nor hot air racks (30 kW > 20 kW limit, doors impossible): 2 cool racks (2 x 5 PFLOPS).
# 70 PFLOPS; spend 4 racks x $1M + $500k = $4.5M.
case(
    "water-hall-without-facility-water",
    scenario(
        [liquid(), HOT | dict(pflops=25), COOL | dict(pflops=5)],
        [
            hall("h1", positions=2, max_air_rack_kw=20),
            hall("h2", positions=2, max_air_rack_kw=20, facility_water=False),
        ],
        [CDU100, DOOR35],
    ),
    objective=70,
    spend=4.5 * M,
    racks={("h1", "P0", "liq"): 2, ("h2", "P0", "cool"): 2},
    units={("h1", "P0", "cdu"): 1},
)

# ---- network
# reference rack 50 Gbps; racks with network_multiple 8 = 400 Gbps; fabric 1,000 Gbps with 2
# CPU racks (50 Gbps each, not retirable): (1000 - 100) / 400 -> 2 racks, 20 PFLOPS.
NET = dict(reference_rack=dict(network_gbps=50))
NET_HALL = hall(
    positions=6,
    fabric_gbps=1000,
    cpu_racks=dict(count=2, power_kw=1, network_gbps=50, retire_cost_usd=None),
)
FABRIC = option("fabric", "fabric", 400, 5e5, max_units=2)
case(
    "network-multiple",
    scenario([rack(network_multiple=8)], [NET_HALL], [FABRIC | dict(max_units=0)], **NET),
    objective=20,
    spend=2 * M,
    racks={("h1", "P0", "a"): 2},
    units={},
)
# + 2 fabric units of 400 Gbps ($500k): 1,700 Gbps -> 4 racks (1 unit: 3), 40 PFLOPS,
# spend $4M + $1M.
case(
    "network-fabric-units",
    scenario([rack(network_multiple=8)], [NET_HALL], [FABRIC], **NET),
    objective=40,
    spend=5 * M,
    racks={("h1", "P0", "a"): 4},
    units={("h1", "P0", "fabric"): 2},
)

# ---- floor
# Floor 1,000 kg per position, 3 positions; heavy: 1,300 kg, 20 PFLOPS; light: 800 kg, 10.
# A 1,200 kg floor unit ($100k) is too weak; a 1,300 kg one ($500k) takes heavy racks
# (no heavier than its capacity): 3 heavy, 60 PFLOPS, $3M + $500k.
HEAVY = rack("heavy", weight_kg=1300, pflops=20)
LIGHT = rack("light", weight_kg=800, pflops=10)
WEAK_FLOOR = option("weak", "floor", 1200, 1e5)
case(
    "floor-reinforced",
    scenario(
        [HEAVY, LIGHT], [hall(positions=3)], [WEAK_FLOOR, option("strong", "floor", 1300, 5e5)]
    ),
    objective=60,
    spend=3.5 * M,
    racks={("h1", "P0", "heavy"): 3},
    units={("h1", "P0", "strong"): 1},
)
# Only the weak floor unit: heavy racks cannot stand: 3 light, 30 PFLOPS, $3M, no floor unit.
case(
    "floor-too-weak",
    scenario([HEAVY, LIGHT], [hall(positions=3)], [WEAK_FLOOR]),
    objective=30,
    spend=3 * M,
    racks={("h1", "P0", "light"): 3},
    units={},
)

# ---- floor upgrade: units do not stack, the strongest installed unit counts, and a
# stronger option may follow a weaker one. 2 positions, 60 kW; A: 1,300 kg, 10 kW,
# 10 PFLOPS from P0; B: 1,900 kg, 50 kW, 100 PFLOPS from P1. Floor 1,000 kg; "w" 1,400 kg
# ($100k) from P0, "s" 2,000 kg ($500k) from P1. P0: one A on "w" (10); P1: that A and a B
# on "s" (110): 120 PFLOPS-periods, spend $2M + $600k. With a single floor unit per hall
# the best would be 110 ("s" alone, nothing in P0); two A racks throughout give only 40.
case(
    "floor-upgrade",
    scenario(
        [
            rack("A", weight_kg=1300),
            rack("B", weight_kg=1900, power_kw=50, pflops=100, lead_periods=1),
        ],
        [hall(positions=2, power_kw=60)],
        [
            option("w", "floor", 1400, 1e5),  # max_units null: still one unit at most
            option("s", "floor", 2000, 5e5, max_units=1, lead_periods=1),
        ],
        periods=TWO,
    ),
    objective=120,
    spend=2.6 * M,
    racks={("h1", "P0", "A"): 1, ("h1", "P1", "A"): 1, ("h1", "P1", "B"): 1},
    units={("h1", "P0", "w"): 1, ("h1", "P1", "w"): 1, ("h1", "P1", "s"): 1},
)

# ---- site feed (air and liquid overheads, + site_feed unit)
# Feed 130 kW, air overhead 0.5: an air rack of 10 kW draws 10 + 0.5 x 10 = 15 kW:
# floor(130 / 15) = 8 racks, 80 PFLOPS, $8M.
FEED = dict(feed_kw=130, air_overhead=0.5, liquid_overhead=0.1)
case(
    "feed-air-overhead",
    scenario([rack()], [hall(positions=10)], site=FEED),
    objective=80,
    spend=8 * M,
    racks={("h1", "P0", "a"): 8},
)
# + a 30 kW site_feed unit ($500k): floor(160 / 15) = 10 racks (all 10 positions): 100 PFLOPS,
# $10.5M.
case(
    "feed-site-feed-unit",
    scenario(
        [rack()],
        [hall(positions=10)],
        [option("feed", "site_feed", 30, 5e5, max_units=1)],
        site=FEED,
    ),
    objective=100,
    spend=10.5 * M,
    racks={("h1", "P0", "a"): 10},
    units={("s1", "P0", "feed"): 1},
)
# Feed 200 kW, overheads 0.5 air / 0.1 liquid. A liquid rack (40 kW, 30 kW liquid): with its
# liquid heat to a CDU it draws 40 + 0.5 x 10 + 0.1 x 30 = 48 kW, to AALC 40 + 0.5 x 40 = 60 kW.
# floor(200 / 48) = 4 racks with a CDU ($100k), 120 PFLOPS, $4.1M (5 racks: 240 kW).
case(
    "feed-liquid-overhead",
    scenario(
        [liquid()],
        [hall(positions=6)],
        [
            option("cdu", "cdu", 1000, 1e5, max_units=1),
            option("aalc", "aalc", 1000, 1e5, max_units=1),
        ],
        site=dict(feed_kw=200, air_overhead=0.5, liquid_overhead=0.1),
    ),
    objective=120,
    spend=4.1 * M,
    racks={("h1", "P0", "liq"): 4},
    units={("h1", "P0", "cdu"): 1},
)

# ---- budgets (per period and total)
# $3.5M a period: 3 racks in P0, 3 more in P1: 30 + 60 = 90 PFLOPS-periods, $6M.
case(
    "budget-per-period",
    scenario([rack()], [hall(positions=6)], periods=TWO, budget_usd_per_period=3.5 * M),
    objective=90,
    spend=6 * M,
    racks={("h1", "P0", "a"): 3, ("h1", "P1", "a"): 6},
)
# Budgets [$1M, $5M]: 1 rack, then 5 more: 10 + 60 = 70, $6M.
case(
    "budget-per-period-list",
    scenario([rack()], [hall(positions=6)], periods=TWO, budget_usd_per_period=[1 * M, 5 * M]),
    objective=70,
    spend=6 * M,
    racks={("h1", "P0", "a"): 1, ("h1", "P1", "a"): 6},
)
# $4M in total, no cap per period: all 4 racks in P0 (they count twice): 40 + 40 = 80, $4M.
case(
    "budget-total",
    scenario([rack()], [hall(positions=6)], periods=TWO, budget_usd_total=4 * M),
    objective=80,
    spend=4 * M,
    racks={("h1", "P0", "a"): 4, ("h1", "P1", "a"): 4},
)
# $3M a period and $4.5M in total: 3 racks, then 1 more: 30 + 40 = 70, $4M.
case(
    "budget-period-and-total",
    scenario(
        [rack()],
        [hall(positions=6)],
        periods=TWO,
        budget_usd_per_period=3 * M,
        budget_usd_total=4.5 * M,
    ),
    objective=70,
    spend=4 * M,
    racks={("h1", "P0", "a"): 3, ("h1", "P1", "a"): 4},
)

# ---- lead times
# 2 positions; old: 5 PFLOPS from P0; new: 20 PFLOPS from P1; future: 100 PFLOPS but only from
# index 2 (never, in 2 periods). Racks stay once placed: 2 new in P1 = 40 beats
# 1 old + 1 new (5 + 25 = 30) and 2 old (20). Spend $2M.
case(
    "lead-time-racks",
    scenario(
        [
            rack("old", pflops=5),
            rack("new", pflops=20, lead_periods=1),
            rack("future", pflops=100, lead_periods=2),
        ],
        [hall(positions=2)],
        periods=TWO,
    ),
    objective=40,
    spend=2 * M,
    racks={("h1", "P1", "new"): 2},
)
# Power 10 kW (1 rack), 3 positions; power units of 10 kW ($100k, max 2) arrive from P1:
# 1 rack in P0, 3 in P1: 10 + 30 = 40 PFLOPS-periods, spend $3M + $200k.
case(
    "lead-time-retrofit",
    scenario(
        [rack()],
        [hall(positions=3, power_kw=10)],
        [option("pw", "power", 10, 1e5, max_units=2, lead_periods=1)],
        periods=TWO,
    ),
    objective=40,
    spend=3.2 * M,
    racks={("h1", "P0", "a"): 1, ("h1", "P1", "a"): 3},
    units={("h1", "P1", "pw"): 2},
)

# ---- cumulative decisions
# $2M a period, 6 positions: racks bought in P0 keep operating in P1 (and are paid once):
# 2 in P0, 4 in P1: 20 + 40 = 60 PFLOPS-periods, $4M.
case(
    "cumulative-racks",
    scenario([rack()], [hall(positions=6)], periods=TWO, budget_usd_per_period=2 * M),
    objective=60,
    spend=4 * M,
    racks={("h1", "P0", "a"): 2, ("h1", "P1", "a"): 4},
)
# A 20 kW power unit ($1M) bought in P0 still serves P1. Power 10 kW, 4 positions, $2M a
# period. P0: 1 rack + the unit ($2M), or 1 rack alone; P1: with the unit from P0, $2M buys
# 2 racks (3 racks on 30 kW), 10 + 30 = 40; without it P1 can only buy unit + 1 rack (2 racks):
# 10 + 20 = 30. Optimum 40, $4M: unit in P0.
case(
    "cumulative-units",
    scenario(
        [rack()],
        [hall(positions=4, power_kw=10)],
        [option("pw", "power", 20, 1 * M, max_units=1)],
        periods=TWO,
        budget_usd_per_period=2 * M,
    ),
    objective=40,
    spend=4 * M,
    racks={("h1", "P0", "a"): 1, ("h1", "P1", "a"): 3},
    units={("h1", "P0", "pw"): 1, ("h1", "P1", "pw"): 1},
)


# ---- GPU targets with min_cost
# Targets 16 then 40 GPUs, 3 positions; A: 8 GPUs $1M; B: 16 GPUs $1.5M; budgets $1.5M, $3M.
# 40 GPUs in 3 positions: 2 B + 1 A ($4M) or 3 B ($4.5M); P0 <= $1.5M with 16 GPUs: 1 B.
# Least cost $4M: 1 B, then + 1 B + 1 A.
case(
    "targets-min-cost",
    scenario(
        [rack("A", gpus=8), rack("B", gpus=16, capex_usd=1.5 * M)],
        [hall(positions=3)],
        periods=TWO,
        objective="min_cost",
        gpu_targets=[16, 40],
        budget_usd_per_period=[1.5 * M, 3 * M],
    ),
    objective=4 * M,
    spend=4 * M,
    racks={("h1", "P0", "B"): 1, ("h1", "P1", "B"): 2, ("h1", "P1", "A"): 1},
)
# 32 GPUs = 4 racks of 10 kW on a 20 kW hall: 20 kW more, as 2 units of 10 kW ($200k each,
# $400k) rather than one of 20 kW ($500k): $4M + $400k.
case(
    "targets-min-cost-retrofit",
    scenario(
        [rack()],
        [hall(power_kw=20)],
        [
            option("pw10", "power", 10, 2e5, max_units=3),
            option("pw20", "power", 20, 5e5, max_units=1),
        ],
        objective="min_cost",
        gpu_targets=[32],
    ),
    objective=4.4 * M,
    spend=4.4 * M,
    racks={("h1", "P0", "a"): 4},
    units={("h1", "P0", "pw10"): 2},
)

# ---- least-spend tie-break of max_compute
# Same PFLOPS, $2M vs $1M: 4 cheap racks, 40 PFLOPS, $4M.
case(
    "tie-break-cheaper-rack",
    scenario([rack("dear", capex_usd=2 * M), rack("cheap")]),
    objective=40,
    spend=4 * M,
    racks={("h1", "P0", "cheap"): 4},
)
# Equal compute two ways on a 40 kW hall: 4 x 10 kW racks at $2M ($8M), or 4 x 20 kW racks at
# $1M + a 40 kW power unit ($500k): $4.5M. Mixed: 2 + 2 needs the unit: $6.5M.
case(
    "tie-break-cheaper-plan",
    scenario(
        [rack("dear", capex_usd=2 * M), rack("cheap", power_kw=20)],
        [hall(power_kw=40)],
        [option("pw", "power", 40, 5e5, max_units=1)],
    ),
    objective=40,
    spend=4.5 * M,
    racks={("h1", "P0", "cheap"): 4},
    units={("h1", "P0", "pw"): 1},
)


# -- tests: the exact optimum ------------------------------------------------------------------
def _check_decisions(c: Case, plan: Plan) -> None:
    if c.racks is not None:
        assert rack_counts(plan) == c.racks
    if c.units is not None:
        assert unit_counts(plan) == c.units
    if c.doors is not None:
        assert door_counts(plan) == c.doors
    if c.retired is not None:
        assert retired_counts(plan) == c.retired
    if c.check is not None:
        c.check(plan)


@cache
def _scenario(case_id: str) -> planner.Scenario:
    c = next(c for c in CASES if c.id == case_id)
    return planner.Scenario.model_validate(copy.deepcopy(c.data))


@cache
def _solved(case_id: str, solver: str = "highs") -> Plan:
    return planner.solve(_scenario(case_id), solver=solver)


@cache
def _brute(case_id: str):
    c = next(c for c in CASES if c.id == case_id)
    return search(_scenario(case_id), **c.bounds)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_bruteforce_finds_the_hand_optimum(c: Case):
    found = _brute(c.id)
    plan = found.plan
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert plan.objective == pytest.approx(c.objective, rel=1e-9)
    assert plan.total_spend_usd == pytest.approx(c.spend, rel=1e-9)
    _check_decisions(c, plan)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_planner_finds_the_exact_optimum(c: Case, solver: str):
    plan = _solved(c.id, solver)
    assert plan.status == "optimal", plan.message
    assert plan.verify() == []
    assert plan.objective == pytest.approx(c.objective, rel=1e-9)
    assert plan.total_spend_usd == pytest.approx(c.spend, rel=1e-9)
    _check_decisions(c, plan)
    # and it agrees with the exhaustive search, in both numbers
    best = _brute(c.id).plan
    assert plan.objective == pytest.approx(best.objective, rel=1e-9)
    assert plan.total_spend_usd == pytest.approx(best.total_spend_usd, rel=1e-9)


# -- the tie-break must not trade compute for spend -------------------------------------------
def test_tie_break_keeps_the_most_compute_on_a_large_fleet():
    """Too big to enumerate; by hand: 5,601 positions and 739,201 kW. gb200 racks (132 kW,
    180 PFLOPS, $3M) and l4 racks (1 kW, 0.97 PFLOPS, $50k). Compute is at most 5,600 gb200
    (739,200 kW) + 1 l4 in the last position and kW = 1,008,000.97 PFLOPS (5,599 gb200 + 2 l4
    is 179.03 less); spend $16.8B + $50k. Solved exactly (mip_gap=0), the plan must keep the
    l4 rack: 0.97 PFLOPS is less than 1e-6 x 1,008,000, but it is still more compute."""
    data = scenario(
        [
            rack("gb200", gpus=72, power_kw=132, pflops=180, capex_usd=3 * M),
            rack("l4", gpus=8, power_kw=1, pflops=0.97, capex_usd=5e4),
        ],
        [
            hall(
                positions=5601,
                power_kw=5600 * 132 + 1,
                air_cooling_kw=1e7,
                max_air_rack_kw=200,
                fabric_gbps=1e9,
            )
        ],
    )
    plan = planner.solve(planner.Scenario.model_validate(data), mip_gap=0)
    assert plan.status == "optimal"
    assert plan.verify() == []
    assert rack_counts(plan) == {("h1", "P0", "gb200"): 5600, ("h1", "P0", "l4"): 1}
    assert plan.objective == pytest.approx(1_008_000.97, rel=1e-12)
    assert plan.total_spend_usd == pytest.approx(5600 * 3 * M + 5e4, rel=1e-12)


# -- infeasible scenarios ----------------------------------------------------------------------
INFEASIBLE = {
    # 4 positions x 8 GPUs = 32 < 100
    "target-above-space": scenario([rack()], gpu_targets=[100]),
    # min_cost: 8 GPUs needed in P0 but the only rack arrives in P1
    "target-before-lead-time": scenario(
        [rack(lead_periods=1)], periods=TWO, objective="min_cost", gpu_targets=[8, 8]
    ),
    # 16 GPUs = 2 racks = $2M, but $1M to spend
    "target-over-budget": scenario(
        [rack()], objective="min_cost", gpu_targets=[16], budget_usd_per_period=1 * M
    ),
    # every position holds a CPU rack that cannot be retired
    "target-no-room": scenario(
        [rack()], [hall(cpu_racks=dict(count=4, power_kw=1, network_gbps=1))], gpu_targets=[8]
    ),
}


@pytest.mark.parametrize("data", INFEASIBLE.values(), ids=INFEASIBLE.keys())
def test_unreachable_target_is_infeasible(data):
    sc = planner.Scenario.model_validate(data)
    assert brute_force(sc).status == "infeasible"
    for solver in ("highs", "cbc"):
        plan = planner.solve(sc, solver=solver)
        assert plan.status == "infeasible"
        assert plan.racks.empty and plan.objective is None
        assert plan.verify() == []


# -- the brute force's own rules agree with Plan.verify --------------------------------------
RICH = scenario(
    [
        rack("a", power_kw=30, network_multiple=2, weight_kg=1100, lead_periods=1),
        liquid("l", pflops=30),
        rack("c", gpus=4),
    ],
    [
        hall(
            "h",
            positions=5,
            power_kw=150,
            air_cooling_kw=100,
            max_air_rack_kw=25,
            fabric_gbps=400,
            cpu_racks=dict(count=2, power_kw=5, network_gbps=50, retire_cost_usd=1e4),
        ),
        hall(
            "g",
            positions=4,
            power_kw=150,
            air_cooling_kw=100,
            max_air_rack_kw=25,
            fabric_gbps=400,
            facility_water=False,
            retrofits=["aalc", "door", "pw", "fl"],
            cpu_racks=dict(count=1, power_kw=5, network_gbps=50),
        ),
    ],
    [
        option("cdu", "cdu", 100, 5e5, max_units=1, lead_periods=1),
        option("aalc", "aalc", 40, 2e5, positions=1),
        option("door", "rdhx", 35, 1e5, max_units=2),
        option("weak", "rdhx", 20, 1e5),
        option("pw", "power", 50, 1e5, max_units=2),
        option("crah", "air_cooling", 50, 1e5),
        option("fab", "fabric", 100, 1e5),
        option("fl", "floor", 1200, 1e5),
        option("fl2", "floor", 1000, 1e5),
        option("sw", "site_water", 50, 1e5, max_units=1, lead_periods=1),
        option("sf", "site_feed", 50, 1e5),
    ],
    periods=TWO,
    site=dict(facility_water_kw=90, feed_kw=300, air_overhead=0.3, liquid_overhead=0.1),
    budget_usd_per_period=[3 * M, 2 * M],
    budget_usd_total=4 * M,
    gpu_targets=[8, 16],
    reference_rack=dict(network_gbps=50),
)


@pytest.mark.parametrize(
    "case_id",
    [
        "space-retire-cpu",
        "power-units",
        "liquid-cdu-and-aalc",
        "rdhx-optional-for-room-air",
        "water-shared-site-water-unit",
        "network-fabric-units",
        "floor-reinforced",
        "feed-liquid-overhead",
        "budget-period-and-total",
        "lead-time-retrofit",
        "targets-min-cost-retrofit",
        "tie-break-cheaper-plan",
    ],
)
def test_literal_verify_search_agrees(case_id):
    """The literal brute force (every completion of every candidate judged by verify()
    alone, no rule of bruteforce.py applied) finds the same optimum as the fast search."""
    c = next(c for c in CASES if c.id == case_id)
    found = search_by_verify(_scenario(case_id), **c.bounds)
    assert found.plan.status == "optimal"
    assert found.plan.objective == pytest.approx(c.objective, rel=1e-9)
    assert found.plan.total_spend_usd == pytest.approx(c.spend, rel=1e-9)


@pytest.mark.parametrize(
    "case_id",
    [
        "liquid-cdu-and-aalc",
        "rdhx-facility-water",
        "space-retire-cumulative",
        "water-shared-site-water-unit",
        "feed-liquid-overhead",
        "lead-time-retrofit",
    ],
)
def test_bruteforce_rules_agree_with_verify_near_the_optimum(case_id):
    """Plans one or two small changes away from the optimum: the brute force's rule
    names equal verify()'s."""
    sc = _scenario(case_id)
    best = _brute(case_id).candidate
    rng = np.random.default_rng(7)
    seen_sound = seen_broken = 0
    for _ in range(40):
        cand = mutate(sc, best, rng, steps=int(rng.integers(1, 3)))
        plan = to_plan(sc, cand)
        mine = violations(sc, cand, plan.objective, plan.total_spend_usd)
        assert mine == {v.rule for v in plan.verify()}
        seen_sound += not mine
        seen_broken += bool(mine)
    assert seen_broken


def test_bruteforce_rules_agree_with_verify_on_random_plans():
    sc = planner.Scenario.model_validate(RICH)
    rng = np.random.default_rng(3)
    for cand in random_candidates(sc, rng, 60):
        plan = to_plan(sc, cand)
        mine = violations(sc, cand, plan.objective, plan.total_spend_usd)
        assert mine == {v.rule for v in plan.verify()}


# Several rule families at once: a hall with water and one without, two periods, liquid and
# hot air racks, CDU with a lead time, AALC sidecars taking positions, rear doors, site water,
# budgets and targets. No hand optimum: the planner must reach the exhaustive one.
MIXED = scenario(
    [liquid("liq", pflops=30), HOT | dict(pflops=20, capex_usd=0.8 * M)],
    [
        hall("h", positions=3, max_air_rack_kw=20, air_cooling_kw=60),
        hall(
            "g",
            positions=2,
            max_air_rack_kw=20,
            air_cooling_kw=50,
            facility_water=False,
            retrofits=["aalc"],
        ),
    ],
    [
        option("cdu", "cdu", 60, 4e5, max_units=1, lead_periods=1),
        option("aalc", "aalc", 30, 2e5, positions=1, max_units=1),
        option("door", "rdhx", 35, 1e5, max_units=2),
        option("sw", "site_water", 40, 3e5, max_units=1),
    ],
    periods=TWO,
    site=dict(facility_water_kw=60, feed_kw=260, air_overhead=0.4, liquid_overhead=0.1),
    budget_usd_per_period=3 * M,
    gpu_targets=[8, 16],
)


def test_bruteforce_and_planner_on_a_mixed_scenario():
    sc = planner.Scenario.model_validate(MIXED)
    # every option has max_units: the search's bounds are the scenario's own
    best = search(sc).plan
    plan = planner.solve(sc)
    assert best.status == plan.status == "optimal"
    assert plan.verify() == [] and best.verify() == []
    # For the record: P0 2 hot racks behind doors in h + 1 liquid rack with a sidecar in g
    # (70 PFLOPS, $3M = the budget); P1 + 1 liquid rack on the CDU in h, whose 30 kW with the
    # doors' 60 kW needs the 40 kW site-water unit (100 PFLOPS, $1.7M). 170, $4.7M.
    assert best.objective == pytest.approx(170) and best.total_spend_usd == pytest.approx(4.7 * M)
    assert plan.objective == pytest.approx(best.objective, rel=1e-9)
    assert plan.total_spend_usd == pytest.approx(best.total_spend_usd, rel=1e-9)


# -- tampering: verify() names the broken rule -------------------------------------------------
def _copy(plan: Plan) -> Plan:
    return Plan(
        plan.scenario,
        plan.status,
        objective=plan.objective,
        total_spend_usd=plan.total_spend_usd,
        racks=plan.racks.copy(),
        retrofits=plan.retrofits.copy(),
        halls=plan.halls.copy(),
    )


def _restate(plan: Plan) -> Plan:
    """State the objective and spend that the (tampered) tables give, so that only the
    tampered rule is broken."""
    sc = plan.scenario
    spend = float(acc.spend(sc, plan.racks, plan.retrofits, plan.halls)["total_usd"].sum())
    compute = float(acc.compute_pflops(sc, plan.racks).sum())
    plan.total_spend_usd = spend
    plan.objective = compute if sc.objective == "max_compute" else spend
    return plan


def _rows(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        mask &= df[column] == value
    assert mask.any(), f"no row with {where}"
    return mask


def add_rack(hall="h1", period="P0", rack_type="a", door="", count=1):
    def tamper(plan: Plan) -> None:
        row = pd.DataFrame([("s1", hall, period, rack_type, door, count)], columns=acc.RACK_COLUMNS)
        plan.racks = pd.concat([plan.racks, row], ignore_index=True)

    return tamper


def set_racks(count, **where):
    def tamper(plan: Plan) -> None:
        plan.racks.loc[_rows(plan.racks, **where), "count"] = count

    return tamper


def set_doors(door, **where):
    def tamper(plan: Plan) -> None:
        plan.racks.loc[_rows(plan.racks, **where), "rdhx_option"] = door

    return tamper


def move_door_off_one_rack(hall="h1", period="P0"):
    """One rack behind a door comes out from behind it (door units unchanged)."""

    def tamper(plan: Plan) -> None:
        df = plan.racks
        i = df.index[_rows(df, hall=hall, period=period) & (df["rdhx_option"] != "")][0]
        df.loc[i, "count"] -= 1
        row = df.loc[[i]].assign(rdhx_option="", count=1)
        plan.racks = pd.concat([df, row], ignore_index=True)

    return tamper


def set_units(units, **where):
    return set_units_column("units", units, **where)


def set_units_column(column, value, **where):
    def tamper(plan: Plan) -> None:
        plan.retrofits.loc[_rows(plan.retrofits, **where), column] = value

    return tamper


def repeat_row(table, first=False, **changes):
    """Repeat the table's first row with ``changes``, before (``first``) or after it."""

    def tamper(plan: Plan) -> None:
        df = getattr(plan, table)
        row = df.iloc[[0]].assign(**changes)
        parts = [row, df] if first else [df, row]
        setattr(plan, table, pd.concat(parts, ignore_index=True))

    return tamper


def rename_option(old, new):
    def tamper(plan: Plan) -> None:
        plan.retrofits.loc[plan.retrofits["option"] == old, "option"] = new
        plan.racks.loc[plan.racks["rdhx_option"] == old, "rdhx_option"] = new

    return tamper


def drop_units(**where):
    def tamper(plan: Plan) -> None:
        plan.retrofits = plan.retrofits[~_rows(plan.retrofits, **where)].reset_index(drop=True)

    return tamper


def add_units(site="s1", hall="h1", period="P0", option="pw", kind="power", units=1):
    def tamper(plan: Plan) -> None:
        row = pd.DataFrame(
            [(site, hall, period, option, kind, units, units)], columns=acc.RETROFIT_COLUMNS
        )
        plan.retrofits = pd.concat([plan.retrofits, row], ignore_index=True)

    return tamper


def set_hall(column, value, **where):
    def tamper(plan: Plan) -> None:
        plan.halls.loc[_rows(plan.halls, **where), column] = value

    return tamper


def state_objective(delta: float = 1.0, column: str = "objective"):
    def tamper(plan: Plan) -> None:
        setattr(plan, column, getattr(plan, column) + delta)

    return tamper


TAMPERING = [
    # (case solved, tampering, rule verify must name, restate objective and spend?)
    ("power-units", add_rack(rack_type="big"), "power", True),  # 5 x 41 kW > 200 kW
    ("power-units", set_units(3, option="pw"), "max_units", True),
    ("power-units-not-allowed", add_units(), "availability", True),
    ("space-retire-cpu", set_hall("cpu_racks_retired", 1, hall="h1"), "space", True),
    ("space-cpu-not-retirable", set_hall("cpu_racks_retired", 1, hall="h1"), "cpu_racks", True),
    ("rdhx-mandatory", set_units(3, option="door"), "rdhx", True),  # 4 racks behind 3 doors
    ("rdhx-mandatory", set_doors("", rack_type="hot"), "air_density", True),
    ("rdhx-weak-and-strong", rename_option("door", "weak"), "rdhx", True),  # 25 kW < 30 kW
    ("rdhx-optional-for-room-air", move_door_off_one_rack(), "room_air", True),
    ("cumulative-racks", set_racks(1, period="P1"), "cumulative", True),
    # the P1 racks then lack the unit's power as well
    ("cumulative-units", set_units(0, option="pw", period="P1"), {"cumulative", "power"}, True),
    ("lead-time-racks", add_rack(period="P0", rack_type="new", count=2), "lead_time", True),
    ("lead-time-retrofit", add_units(period="P0", units=1), "lead_time", True),
    ("budget-per-period", set_racks(4, period="P0"), "budget", True),  # $4M > $3.5M in P0
    ("budget-total", set_racks(5, period="P1"), "budget_total", True),  # $5M > $4M
    ("floor-reinforced", drop_units(option="strong"), "floor", True),
    ("floor-reinforced", rename_option("strong", "weak"), "floor", True),  # 1,200 < 1,300 kg
    ("floor-upgrade", set_units(2, option="w", period="P1"), "floor", True),  # no stacking
    ("liquid-cdu-and-aalc", set_hall("liquid_to_cdu_kw", 0.0, hall="h1"), "liquid", True),
    ("liquid-cdu-and-aalc", drop_units(option="aalc"), "liquid", True),  # AALC heat, no AALC
    # a third rack: its 30 kW of liquid heat is unserved, its 10 kW residual overflows room air
    ("room-air-aalc-heat", add_rack(rack_type="liq"), {"liquid", "room_air"}, True),
    (
        "water-hall-without-facility-water",
        add_units(hall="h2", option="cdu", kind="cdu"),
        "facility_water",
        True,
    ),
    ("water-shared-site-water-unit", drop_units(option="chiller"), "facility_water", True),
    ("network-fabric-units", set_units(1, option="fabric"), "network", True),
    ("feed-site-feed-unit", drop_units(option="feed"), "feed", True),
    ("targets-min-cost", set_racks(1, period="P1", rack_type="B"), "target", True),
    ("tie-break-cheaper-plan", state_objective(1.0), "objective", False),
    ("targets-min-cost", state_objective(-1e5), "objective", False),  # $100k off
    ("power", state_objective(1e5, "total_spend_usd"), "objective", False),
    # tables that name what the scenario does not have, or break their own form
    ("power", add_rack(rack_type="nope"), "table", False),
    (
        "water-shared-site-water-unit",
        set_units_column("hall", "h1", option="chiller"),
        "table",
        False,
    ),  # a site-scope unit recorded in a hall
    ("liquid-cdu-and-aalc", set_hall("liquid_to_aalc_kw", -5.0, hall="h1"), "liquid", True),
    # a second row for the same place stating other numbers (accounting reads the last one)
    ("power-units", repeat_row("retrofits", units=1, added=1, first=True), "table", False),
    (
        "liquid-cdu-and-aalc",
        repeat_row("halls", liquid_to_cdu_kw=0.0, liquid_to_aalc_kw=90.0),
        "table",
        False,
    ),
]


@pytest.mark.parametrize(
    ("case_id", "tamper", "rule", "restate"),
    TAMPERING,
    ids=[f"{c}-{'+'.join(sorted(r)) if isinstance(r, set) else r}" for c, _t, r, _s in TAMPERING],
)
def test_verify_names_the_tampered_rule(case_id, tamper, rule, restate):
    plan = _copy(_solved(case_id))
    assert plan.verify() == []
    tamper(plan)
    if restate:
        _restate(plan)
    expected = rule if isinstance(rule, set) else {rule}
    assert {v.rule for v in plan.verify()} == expected, plan.verify()


def test_verify_after_json_round_trip(tmp_path):
    """A solved plan read back from its JSON is still sound, and tampering is still seen."""
    plan = _solved("rdhx-mandatory")
    path = tmp_path / "plan.json"
    plan.to_json(path)
    back = Plan.from_json(path)
    assert back.verify() == []
    assert rack_counts(back) == rack_counts(plan) and door_counts(back) == door_counts(plan)
    set_units(3, option="door")(back)
    assert {v.rule for v in _restate(back).verify()} == {"rdhx"}
