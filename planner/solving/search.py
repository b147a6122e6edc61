"""Fleet search: a neighbourhood search for models too large for one MILP run to improve.

From a sound start (the better of the rule-of-thumb and LP-guided plans), it repeatedly
frees a neighbourhood of the whole-number decisions, fixes every other column at the
incumbent, and solves the small MILP that leaves (fix-and-optimise): the fixed columns move
into the row bounds, so the sub-MILP has only the free columns and the rows they touch, and
the incumbent restricted to them is a feasible start, so no step makes the plan worse.

Neighbourhood kinds, chosen adaptively by the compute each has gained per second so far
(with a share of random picks so that none is starved):

* ``periods``: two or three consecutive periods across every hall and site (they move
  money between sites within a period);
* ``blocks``: two or three consecutive periods of a few sites;
* ``sites``: a few whole sites, every period;
* ``halls``: a few halls of one site (and the site's own units), every period.

Each neighbourhood's size is steered to a target number of whole-number columns, grown
when its MILP is solved well within its time, shrunk when it is not. Every improved
solution is checked against every row and bound of the whole model before it is taken.
The search is deterministic for a seed (the neighbourhood order and HiGHS's own seed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..model import RetrofitModel
from . import highs
from .solvers import Matrix, audit, matrix

#: whole-number columns of a first neighbourhood (steered per kind as the search goes)
TARGET_FREE = 400
#: time limit of one neighbourhood's MILP (s)
STEP_S = 2.0
#: share of picks made at random rather than by what has paid off
EXPLORE = 0.25
KINDS = ("periods", "blocks", "sites", "halls")


@dataclass
class Parts:
    """Where each column of the model's arrays belongs: its site, hall (flattened index)
    and period (-1 where it has none)."""

    site: np.ndarray
    hall: np.ndarray
    period: np.ndarray
    halls_of: dict[int, list[int]]
    n_sites: int
    n_periods: int


def parts_of(m: RetrofitModel, mat: Matrix) -> Parts:
    """The site, hall and period of every column, from the model's stores."""
    n = len(mat.variables)
    site, hall, period = (np.full(n, -1, dtype=np.int64) for _ in range(3))
    site_of_hall = {h: s for s, hs in m.index.site_halls.items() for h in hs}
    position = {var.name: i for i, var in enumerate(mat.variables)}

    def put(var, s, h, t) -> None:
        i = position.get(var.name)
        if i is not None:
            site[i], hall[i], period[i] = s, h, t

    for store in (m.n, m.z, m.u, m.x, m.qc, m.qa):
        for key, var in store.items():
            put(var, site_of_hall[key[0]], key[0], key[-1])
    for (s, _o, t), var in m.w.items():
        put(var, s, -1, t)
    kinds = m.scenario.cluster_kinds()
    for (c, d, _r, t), var in m.k.items():
        if kinds[c].domain == "hall":
            put(var, site_of_hall[d], d, t)
        else:
            put(var, d, -1, t)
    return Parts(
        site, hall, period, m.index.site_halls, len(m.scenario.sites), m.scenario.n_periods
    )


@dataclass
class Log:
    """What a search did: neighbourhoods tried and improving, per kind, and the compute
    gained (model objective units)."""

    tried: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    improved: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    gained: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    seconds: dict = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))

    def text(self) -> str:
        done = sum(self.tried.values())
        kinds = ", ".join(f"{k} {self.improved[k]}/{self.tried[k]}" for k in KINDS if self.tried[k])
        return f"neighbourhood search: {done} neighbourhoods ({kinds} improved)"


class Search:
    """The state of one search over a model's arrays."""

    def __init__(
        self, m: RetrofitModel, values: dict[str, float], seed: int = 0, target: float = TARGET_FREE
    ):
        self.mat = matrix(m.prob)
        self.parts = parts_of(m, self.mat)
        self.x = np.array([float(values.get(v.name) or 0.0) for v in self.mat.variables])
        self.x[self.mat.integer] = np.round(self.x[self.mat.integer])
        self.whole = np.zeros(len(self.x), dtype=bool)
        self.whole[self.mat.integer] = True
        n_rows = len(self.mat.rows)
        self.row_of = np.repeat(
            np.arange(n_rows), np.diff(np.append(self.mat.starts, len(self.mat.index)))
        )
        self.rng = np.random.default_rng(seed)
        self.target = dict.fromkeys(KINDS, float(target))
        self.log = Log()

    @property
    def objective(self) -> float:
        """The incumbent's objective (model sense and units)."""
        return self.mat.objective(self.x)

    # -- neighbourhoods ----------------------------------------------------------------
    def pick(self) -> str:
        """The next kind: at random with probability EXPLORE (and until each was tried),
        else the one with the most gain per second so far."""
        untried = [k for k in KINDS if not self.log.tried[k]]
        if untried:
            return untried[0]
        if self.rng.random() < EXPLORE:
            return KINDS[int(self.rng.integers(len(KINDS)))]
        rate = {k: (self.log.gained[k] + 1e-9) / (self.log.seconds[k] + 1.0) for k in KINDS}
        return max(KINDS, key=lambda k: rate[k])

    def free(self, kind: str) -> np.ndarray:
        """A mask of the columns a neighbourhood of ``kind`` frees, about its target size."""
        p, target = self.parts, self.target[kind]
        per_site = np.bincount(p.site[self.whole & (p.site >= 0)], minlength=p.n_sites)
        if kind == "periods":
            per_period = max(self.whole.sum() / max(p.n_periods, 1), 1.0)
            width = int(min(max(round(target / per_period), 1), p.n_periods))
            start = int(self.rng.integers(p.n_periods - width + 1))
            return (p.period >= start) & (p.period < start + width)
        if kind == "blocks":
            width = int(min(self.rng.integers(2, 4), p.n_periods))
            start = int(self.rng.integers(p.n_periods - width + 1))
            window = (p.period >= start) & (p.period < start + width)
            per = np.bincount(p.site[self.whole & window & (p.site >= 0)], minlength=p.n_sites)
            order = self.rng.permutation(p.n_sites)
            take = np.searchsorted(np.cumsum(per[order]), target) + 1
            return window & np.isin(p.site, order[: max(int(take), 1)])
        if kind == "sites":
            order = self.rng.permutation(p.n_sites)
            take = np.searchsorted(np.cumsum(per_site[order]), target) + 1
            return np.isin(p.site, order[: max(int(take), 1)])
        s = int(self.rng.integers(p.n_sites))
        halls = list(p.halls_of.get(s, []))
        self.rng.shuffle(halls)
        per_hall = max(per_site[s] / max(len(halls), 1), 1.0)
        chosen = halls[: max(int(target / per_hall), 1)]
        return np.isin(p.hall, chosen) | ((p.site == s) & (p.hall < 0))

    def sub_problem(self, free: np.ndarray) -> tuple[dict, np.ndarray]:
        """The MILP over the ``free`` columns, every other column fixed at the incumbent
        (moved into the bounds of the rows they share with free ones): ``(arrays, the
        free columns' indices)``."""
        mat, x = self.mat, self.x
        cols = np.nonzero(free)[0]
        nz = free[mat.index]
        fixed = np.bincount(self.row_of[~nz], weights=mat.value[~nz] * x[mat.index[~nz]],
                            minlength=len(mat.rows))  # fmt: skip
        rows_nz = self.row_of[nz]
        rows = np.unique(rows_nz)
        position = np.full(len(x), -1, dtype=np.int64)
        position[cols] = np.arange(len(cols))
        new_row = np.full(len(mat.rows), -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        starts = np.searchsorted(new_row[rows_nz], np.arange(len(rows)))
        integer = np.nonzero(self.whole[cols])[0]
        arrays = {
            "n": len(cols),
            "n_rows": len(rows),
            "col_lower": mat.col_lower[cols],
            "col_upper": mat.col_upper[cols],
            "cost": mat.cost[cols],
            "integer": integer,
            "starts": starts,
            "index": position[mat.index[nz]],
            "value": mat.value[nz],
            "row_lower": mat.row_lower[rows] - fixed[rows],
            "row_upper": mat.row_upper[rows] - fixed[rows],
            "sign": mat.sign,
            "constant": 0.0,
        }
        return arrays, cols

    def step(self, kind: str, seconds: float, mip_gap: float, threads: int) -> float:
        """Solve one neighbourhood of ``kind`` within ``seconds``; take its solution when the
        whole model holds it and it is better. Returns the gain (objective units, >= 0)."""
        began = time.perf_counter()
        free = self.free(kind)
        arrays, cols = self.sub_problem(free)
        raw = highs.run_here(arrays, seconds, mip_gap, False, self.x[cols], False, threads)
        took = time.perf_counter() - began
        gain = 0.0
        if raw.x is not None:
            x = self.x.copy()
            x[cols] = raw.x
            x[self.mat.integer] = np.round(x[self.mat.integer])
            check = audit(self.mat, x)
            better = self.mat.sign * (check.objective - self.objective) < 0
            if check.feasible and better:
                gain = abs(check.objective - self.objective)
                self.x = x
        log = self.log
        log.tried[kind] += 1
        log.improved[kind] += gain > 0
        log.gained[kind] += gain
        log.seconds[kind] += took
        quick = raw.word == "optimal" and took < 0.5 * seconds
        self.target[kind] *= 1.3 if quick else (0.7 if raw.word != "optimal" else 1.0)
        self.target[kind] = min(max(self.target[kind], 50.0), float(self.whole.sum()))
        return gain

    def values(self) -> dict[str, float]:
        return {var.name: float(self.x[i]) for i, var in enumerate(self.mat.variables)}


def neighbourhood_search(
    m: RetrofitModel,
    start: dict[str, float],
    deadline: float | None,
    mip_gap: float,
    threads: int,
    seed: int = 0,
    max_steps: int | None = None,
    target: float = TARGET_FREE,
) -> tuple[dict[str, float], Log]:
    """Improve ``start`` (a sound solution of ``m``) by neighbourhoods until ``deadline``
    (a ``time.perf_counter()`` reading) or ``max_steps``; without either it stops after
    ``3 x len(KINDS)`` steps in a row gain nothing. ``target``: whole-number columns of a
    first neighbourhood. Returns the best values and the log."""
    search = Search(m, start, seed, target)
    idle, steps = 0, 0
    while True:
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left < 0.5:
            break
        if max_steps is not None and steps >= max_steps:
            break
        if deadline is None and max_steps is None and idle >= 3 * len(KINDS):
            break
        seconds = STEP_S if left is None else min(STEP_S, left)
        gain = search.step(search.pick(), seconds, mip_gap, threads)
        idle = 0 if gain > 0 else idle + 1
        steps += 1
    return search.values(), search.log
