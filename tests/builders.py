"""Small factories for the tests' scenarios, each with keyword overrides, and the command
line run in-process.

Defaults (see :func:`scenario`): one site ``s1`` with one hall ``h1``; rack ``a`` is
air-cooled, 10 kW, 8 GPUs, 10 PFLOPS, 100 Gbps, 500 kg, one position, $1M. Halls have room
to spare on everything a case does not mention (1,000 kW power and room air, 50 kW per-rack
air limit, 1,000 kg floor, 100 Tbps fabric, facility water piped, 1,000 kW of site water).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from planner.cli import app

M = 1e6  # USD


def rack(name: str = "a", **kw) -> dict:
    base = dict(
        name=name,
        gpus=8,
        power_kw=10,
        cooling="air",
        liquid_fraction=0.0,
        network_gbps=100,
        weight_kg=500,
        positions=1,
        capex_usd=1 * M,
        pflops=10,
        lead_periods=0,
    )
    if "network_multiple" in kw:
        base.pop("network_gbps")
    return base | kw


def liquid(name: str = "liq", **kw) -> dict:
    """40 kW, 3/4 to liquid: 30 kW liquid heat and 10 kW residual air heat per rack."""
    return rack(name, power_kw=40, cooling="liquid", liquid_fraction=0.75, pflops=30) | kw


def option(name: str, kind: str, capacity: float, cost_usd: float, **kw) -> dict:
    return (
        dict(
            name=name,
            kind=kind,
            capacity=capacity,
            cost_usd=cost_usd,
            positions=0,
            max_units=None,
            lead_periods=0,
        )
        | kw
    )


def hall(name: str = "h1", **kw) -> dict:
    base = dict(
        name=name,
        positions=4,
        power_kw=1000,
        air_cooling_kw=1000,
        max_air_rack_kw=50,
        floor_kg_per_position=1000,
        fabric_gbps=100_000,
        facility_water=True,
    )
    return base | kw


def scenario(
    racks: list,
    halls: list | None = None,
    retrofits: list = (),
    periods=("P0",),
    site: dict | None = None,
    **top,
) -> dict:
    the_site = dict(
        name="s1",
        feed_kw=None,
        facility_water_kw=1000,
        air_overhead=0.0,
        liquid_overhead=0.0,
        halls=halls or [hall()],
    ) | (site or {})
    return (
        dict(
            name="test",
            periods=list(periods),
            objective="max_compute",
            budget_usd_per_period=None,
            budget_usd_total=None,
            gpu_targets=None,
            rack_types=racks,
            retrofits=list(retrofits),
            sites=[the_site],
        )
        | top
    )


def first_hall(doc: dict) -> dict:
    """The first hall of the first site of a scenario document."""
    return doc["sites"][0]["halls"][0]


def invoke(*args: str | Path):
    """Run the command line in-process and check it ended by an exit code, not by an
    exception (CliRunner catches exceptions: an uncaught one would be a traceback)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output
    return result
