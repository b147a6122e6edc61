"""Least spend for a plan's racks when there is no time for the exact tie-break.

:func:`prune_spend` takes a sound solution of the model and drops purchases it does not
need: a retrofit unit bought in period ``t`` (removed from ``t`` on), or a CPU rack retired
in ``t`` (kept standing from ``t`` on), one at a time, the dearest first, keeping each drop
whose solution still satisfies every row and bound of the model (checked by
:func:`planner.solving.solvers.audit` on the rows the drop touches). The racks never change, so
compute is kept exactly; spend only falls. It is a local repair, not the least spend over
every plan with that compute (which the MILP tie-break finds when time allows).
"""

from __future__ import annotations

import time

import numpy as np

from ..model import MONEY, RetrofitModel, total_spend, value_at
from .solvers import FEASIBILITY_REL, matrix


class _Columns:
    """The model's rows by column: for a change of a few columns, the rows it moves."""

    def __init__(self, mat):
        self.mat = mat
        n_rows = len(mat.rows)
        row_of = np.repeat(np.arange(n_rows), np.diff(np.append(mat.starts, len(mat.index))))
        order = np.argsort(mat.index, kind="stable")
        self.rows = row_of[order]
        self.coef = mat.value[order]
        self.start = np.searchsorted(mat.index[order], np.arange(len(mat.variables) + 1))

    def touched(self, cols: list[int], deltas: list[float]) -> tuple[np.ndarray, np.ndarray]:
        rows, change = [], []
        for c, d in zip(cols, deltas, strict=True):
            lo, hi = self.start[c], self.start[c + 1]
            rows.append(self.rows[lo:hi])
            change.append(self.coef[lo:hi] * d)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(rows), np.concatenate(change)


def _drops(m: RetrofitModel) -> list[tuple[float, list, str | None]]:
    """Every purchase that could be dropped: ``(USD saved, [variable names from the period
    it is bought in on], the variable of the period before or None)``: one unit of a
    cumulative decision removed from that period on, dearest first."""
    sc = m.scenario
    found = []
    priced = (
        (m.u, lambda key: sc.retrofits[key[1]].cost_usd),
        (m.w, lambda key: sc.retrofits[key[1]].cost_usd),
        (m.x, lambda key: m.index.halls[key[0]][2].cpu_racks.retire_cost_usd),
    )
    for store, price_of in priced:
        series: dict = {}
        for key, var in store.items():
            series.setdefault(key[:-1], []).append((key[-1], var))
        for head, items in series.items():
            items.sort(key=lambda tv: tv[0])
            price = price_of(head + (items[0][0],))
            if price:
                for i in range(len(items)):
                    before = items[i - 1][1].name if i else None
                    found.append((price, [v.name for _, v in items[i:]], before))
    return sorted(found, key=lambda d: -d[0])


def prune_spend(
    m: RetrofitModel, values: dict[str, float], deadline: float | None = None
) -> tuple[dict[str, float], float]:
    """``(values, USD saved)``: ``values`` (a sound solution) with every purchase dropped
    that the solution does not need, dearest first, until none can be or ``deadline`` (a
    ``time.perf_counter()`` reading) passes."""
    mat = matrix(m.prob)
    position = {var.name: i for i, var in enumerate(mat.variables)}
    x = np.array([float(values.get(v.name) or 0.0) for v in mat.variables])
    x[mat.integer] = np.round(x[mat.integer])
    activity, size = mat.activities(x)
    columns = _Columns(mat)
    drops = [  # a decision in no row of the problem (nothing uses it) is 0: nothing to drop
        (price, [position[n] for n in names], None if before is None else position[before])
        for price, names, before in _drops(m)
        if all(n in position for n in names) and (before is None or before in position)
    ]
    saved = 0.0
    changed = True
    while changed:
        changed = False
        for price, cols, before in drops:
            if deadline is not None and time.perf_counter() > deadline:
                return _as_values(mat, x), saved
            floor = x[before] if before is not None else mat.col_lower[cols[0]]
            if x[cols[0]] - 1 < floor - 1e-9 or np.any(x[cols] - 1 < mat.col_lower[cols] - 1e-9):
                continue  # nothing bought in this period (any more), or only what must stand
            rows, delta = columns.touched(cols, [-1.0] * len(cols))
            np.add.at(activity, rows, delta)
            here = np.unique(rows)
            tol = FEASIBILITY_REL * (1.0 + size[here])
            if np.any(activity[here] > mat.row_upper[here] + tol) or np.any(
                activity[here] < mat.row_lower[here] - tol
            ):
                np.subtract.at(activity, rows, delta)  # undo
                continue
            x[cols] -= 1
            saved += price
            changed = True
    return _as_values(mat, x), saved


def _as_values(mat, x) -> dict[str, float]:
    return {var.name: float(x[i]) for i, var in enumerate(mat.variables)}


def spend_at(m: RetrofitModel, values: dict[str, float]) -> float:
    """Total spend (USD) of a solution of the model."""
    return MONEY * value_at(total_spend(m), values)
