"""Numbers as planners write them: money in $M and $B, whole GPUs and racks, percentages
that never read "-0.0%", "once" and "11 times"; and :func:`readable`, a table made fit to
read (its numbers stay in the plan's own tables)."""

from __future__ import annotations

import math

import pandas as pd


def usd(value: float | None) -> str:
    """``$9.5M`` (from $0.1M), ``$2.50B``, ``$40k``; ``-`` for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}${value / 1e9:,.2f}B"
    if value >= 1e5 or value == 0:
        return f"{sign}${value / 1e6:,.1f}M"
    return f"{sign}${value / 1e3:,.0f}k"


def percent(share: float, signed: bool = False) -> str:
    """A share as a percentage with the digits it needs: ``3.7%``, ``-0.03%``, and ``0%`` for
    anything under 0.005% (never ``-0.0%``)."""
    if share is None or math.isnan(share):
        return "-"
    if abs(share) < 5e-5:
        return "0%"
    digits = 1 if abs(share) >= 1e-3 else 2
    return f"{share:+.{digits}%}" if signed else f"{share:.{digits}%}"


def times(n: int) -> str:
    """``once``, ``twice``, ``11 times``."""
    return {1: "once", 2: "twice"}.get(n, f"{n:,} times")


def plural(n: int, word: str) -> str:
    """``1 period``, ``3 periods``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


#: columns of whole things (GPUs, racks, units, clusters), by name or suffix
WHOLE = ("gpus", "racks", "count", "units", "clusters", "positions")


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table fit to read: ``*_usd`` columns as ``$1,745.3M`` / ``$2.50B``,
    ``*share*`` columns as percentages, whole-number columns (GPUs, racks, units, clusters)
    as integers rather than ``36368.0``. For display only: compute on the original."""
    out = table.copy()
    for name in out.columns:
        column = out[name]
        key = str(name).lower()
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        if key.endswith("_usd") or key.startswith("spend") or key.startswith("budget"):
            out[name] = column.map(usd)
        elif "share" in key:
            out[name] = column.map(percent)
        elif any(key == w or key.endswith(w) or key.startswith(w) for w in WHOLE):
            whole = column.dropna()
            if (whole == whole.round()).all():
                out[name] = column.round().astype("Int64")
    return out
