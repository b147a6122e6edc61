"""Fleet search: a neighbourhood search for models too large for one MILP run to improve.

It starts from a sound plan (the rule-of-thumb plan), replaced by the LP relaxation split
among groups of sites (:meth:`Search.split`) when that is better. Then it repeatedly
frees a neighbourhood of the whole-number decisions, fixes every other column at the
incumbent, and solves the small MILP that leaves (fix-and-optimise): the fixed columns move
into the row bounds, so the sub-MILP has only the free columns and the rows they touch, and
the incumbent restricted to them is a feasible start, so no step makes the plan worse.

Neighbourhood kinds, chosen adaptively by the compute each has gained per second so far
(with a share of random picks so that none is starved):

* ``periods``: one or more consecutive periods across every hall and site (they move
  money between sites within a period);
* ``blocks``: two or three consecutive periods of a few sites;
* ``sites``: a few whole sites, every period;
* ``halls``: a few halls of one site (and the site's own units), every period.

Each neighbourhood's size is steered to a target number of whole-number columns, grown
when its MILP is solved well within its time, shrunk when it is not. Every improved
solution is checked against every row and bound of the whole model before it is taken.
For a seed, the neighbourhoods are drawn in the same order, and HiGHS's own seed is fixed:
the search is the same whenever each neighbourhood's MILP is solved to optimality within
its time and the choice of kinds does not hang on timings (one kind, or kinds whose gains
per second are far apart).

Neighbourhoods that share no column can be solved at the same time, in local worker
processes or on a Dask cluster (:func:`lanes`): a round solves one per lane, and a row
they share (a period's budget, across sites) gives each of them an equal share of its
slack, so that their solutions can be taken together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import RetrofitModel
from . import highs
from .solvers import Matrix, audit, matrix

#: whole-number columns of a first neighbourhood (steered per kind as the search goes)
TARGET_FREE = 400
#: free whole-number columns of a group of sites in the split of the LP relaxation
SPLIT_FREE = 4000
#: time limit of one neighbourhood's MILP (s)
STEP_S = 2.0
#: share of picks made at random rather than by what has paid off
EXPLORE = 0.25
KINDS = ("periods", "blocks", "sites", "halls")

#: solves a list of :func:`solve_part` points, returning their rows in order
Solve = Callable[[list[dict]], list[dict]]


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
    lanes: int = 1
    split: str = ""
    failed: list = field(default_factory=list)  # why neighbourhoods failed (worker errors)

    def text(self) -> str:
        done = sum(self.tried.values())
        kinds = ", ".join(f"{k} {self.improved[k]}/{self.tried[k]}" for k in KINDS if self.tried[k])
        at_once = f", {self.lanes} at a time" if self.lanes > 1 else ""
        split = f"LP relaxation split into {self.split}; " if self.split else ""
        failed = f"; {len(self.failed)} failed (first: {self.failed[0]})" if self.failed else ""
        return (
            f"{split}neighbourhood search: {done} neighbourhoods{at_once} ({kinds} improved)"
            f"{failed}"
        )


class Search:
    """The state of one search over a model's arrays."""

    def __init__(
        self,
        m: RetrofitModel,
        values: dict[str, float],
        seed: int = 0,
        target: float = TARGET_FREE,
        kinds: tuple[str, ...] = KINDS,
    ):
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown or not kinds:
            raise ValueError(f"neighbourhood kinds must be among {', '.join(KINDS)}: {kinds!r}")
        self.kinds = tuple(kinds)
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
        kinds = self.kinds
        untried = [k for k in kinds if not self.log.tried[k]]
        if untried:
            return untried[0]
        if self.rng.random() < EXPLORE:
            return kinds[int(self.rng.integers(len(kinds)))]
        rate = {k: (self.log.gained[k] + 1e-9) / (self.log.seconds[k] + 1.0) for k in kinds}
        return max(kinds, key=lambda k: rate[k])

    def free(self, kind: str) -> np.ndarray:
        """A mask of the columns one neighbourhood of ``kind`` frees, about its target size."""
        return self.parts_of(kind, 1)[0]

    def parts_of(self, kind: str, count: int) -> list[np.ndarray]:
        """Masks of up to ``count`` neighbourhoods of ``kind`` that share no column, each
        about the kind's target size: different sites (``sites``, ``halls``, ``blocks``,
        the last in one window of periods) or different windows of periods (``periods``)."""
        p, target = self.parts, self.target[kind]
        per_site = np.bincount(p.site[self.whole & (p.site >= 0)], minlength=p.n_sites)
        if kind == "periods":
            per_period = max(self.whole.sum() / max(p.n_periods, 1), 1.0)
            width = int(min(max(round(target / per_period), 1), p.n_periods))
            offset = int(self.rng.integers(p.n_periods - width + 1)) % width
            starts = np.arange(offset, p.n_periods - width + 1, width)
            chosen = np.sort(self.rng.permutation(starts)[:count])
            return [(p.period >= a) & (p.period < a + width) for a in chosen]
        window = np.ones(len(self.x), dtype=bool)
        if kind == "blocks":
            width = int(min(self.rng.integers(2, 4), p.n_periods))
            start = int(self.rng.integers(p.n_periods - width + 1))
            window = (p.period >= start) & (p.period < start + width)
            per_site = np.bincount(p.site[self.whole & window & (p.site >= 0)], minlength=p.n_sites)
        order = self.rng.permutation(p.n_sites)
        if kind == "halls":
            masks = []
            for s in order[:count]:
                halls = list(p.halls_of.get(int(s), []))
                self.rng.shuffle(halls)
                per_hall = max(per_site[s] / max(len(halls), 1), 1.0)
                chosen = halls[: max(int(target / per_hall), 1)]
                masks.append(np.isin(p.hall, chosen) | ((p.site == s) & (p.hall < 0)))
            return masks
        return [
            window & np.isin(p.site, sites) for sites in _chunks(order, per_site, target, count)
        ]

    def sub_problem(
        self,
        free: np.ndarray,
        held: tuple[np.ndarray, np.ndarray] | None = None,
        at: np.ndarray | None = None,
    ) -> tuple[dict, np.ndarray]:
        """The MILP over the ``free`` columns, every other column fixed at the incumbent
        (or at ``at``), moved into the bounds of the rows they share with free ones:
        ``(arrays, the free columns' indices)``. ``held``: how much to lower each row's
        upper bound and raise its lower bound (rows shared with other neighbourhoods
        solved at once)."""
        mat, x = self.mat, (self.x if at is None else at)
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
            "row_lower": mat.row_lower[rows] - fixed[rows] + (0 if held is None else held[1][rows]),
            "row_upper": mat.row_upper[rows] - fixed[rows] - (0 if held is None else held[0][rows]),
            "sign": mat.sign,
            "constant": 0.0,
        }
        return arrays, cols

    def sub_problems(
        self, masks: list[np.ndarray], at: np.ndarray | None = None
    ) -> list[tuple[dict, np.ndarray]]:
        """The sub-MILPs of neighbourhoods that share no column, to be solved at once. A
        row that several of them touch (a period's budget, across sites) keeps its
        incumbent activity ``a``, and each of the ``k`` neighbourhoods on it gets ``1/k``
        of its slack: ``a_i <= a_i* + (U - a*)/k`` and ``a_i >= a_i* - (a* - L)/k`` for the
        neighbourhood's own part ``a_i``, so any combination of their solutions keeps
        ``L <= a <= U``. ``at``: the point whose activity is shared (the incumbent)."""
        mat, x = self.mat, (self.x if at is None else at)
        if len(masks) == 1:
            return [self.sub_problem(masks[0], at=at)]
        activity = np.bincount(self.row_of, weights=mat.value * x[mat.index],
                               minlength=len(mat.rows))  # fmt: skip
        sharing = np.zeros(len(mat.rows))
        for mask in masks:
            sharing[np.unique(self.row_of[mask[mat.index]])] += 1
        keep = np.where(sharing > 1, 1 - 1 / np.maximum(sharing, 1), 0.0)
        up, low = mat.row_upper - activity, activity - mat.row_lower
        held = tuple(
            np.where(np.isfinite(slack), np.maximum(slack, 0), 0.0) * keep for slack in (up, low)
        )
        return [self.sub_problem(mask, held, at) for mask in masks]

    def split(
        self, relaxed: np.ndarray, solve: Solve, lanes: int, seconds: float, mip_gap: float,
        group: float = SPLIT_FREE,
    ) -> bool:  # fmt: skip
        """Start from the LP relaxation ``relaxed`` split among groups of sites, for fleets
        too large for one MILP near it: each group's whole-number columns may rise to at
        most their relaxed values rounded up (RENS), its share of a row the groups share
        (a period's budget) is its relaxed activity, and each group's MILP, of about
        ``group`` free whole-number columns, is solved on its own, ``lanes`` at a time,
        within ``seconds`` together. A group without a plan does nothing. The plan is
        taken when the whole model holds it and it is better than the incumbent; returns
        whether it was."""
        p, mat = self.parts, self.mat
        caps = np.where(self.whole, np.ceil(relaxed - 1e-6), mat.col_upper)
        caps = np.maximum(np.minimum(caps, mat.col_upper), mat.col_lower)
        movable = self.whole & (caps > mat.col_lower) & (p.site >= 0)
        per_site = np.bincount(p.site[movable], minlength=p.n_sites)
        groups = _chunks(np.arange(p.n_sites), per_site, group, p.n_sites)
        masks = [np.isin(p.site, g) for g in groups]
        parts = self.sub_problems(masks, at=relaxed)
        rounds = -(-len(parts) // max(lanes, 1))
        points = []
        for arrays, cols in parts:
            arrays["col_upper"] = caps[cols]
            points.append({"arrays": arrays, "start": None, "seconds": seconds / rounds,
                           "mip_gap": mip_gap})  # fmt: skip
        rows = solve(points)
        x = relaxed.copy()
        for (_, cols), row in zip(parts, rows, strict=True):
            x[cols] = mat.col_lower[cols] if row.get("x") is None else row["x"]
        x[mat.integer] = np.round(x[mat.integer])
        check = audit(mat, x)
        solved = sum(row.get("x") is not None for row in rows)
        self.log.split = f"{len(parts)} groups of sites ({solved} solved)"
        if check.feasible and mat.sign * (check.objective - self.objective) < 0:
            self.x = x
            return True
        return False

    def round(self, kind: str, lanes: int, solve: Solve, seconds: float, mip_gap: float) -> float:
        """Solve up to ``lanes`` neighbourhoods of ``kind`` at once (``solve`` maps a list of
        :func:`solve_part` points to their rows, in order) within ``seconds``; take their
        solutions where the whole model holds them and they are better. Returns the gain
        (objective units, >= 0)."""
        began = time.perf_counter()
        parts = self.sub_problems(self.parts_of(kind, lanes))
        points = [
            {"arrays": arrays, "start": self.x[cols], "seconds": seconds, "mip_gap": mip_gap}
            for arrays, cols in parts
        ]
        rows = solve(points)
        self.log.failed += [row["error"] for row in rows if "error" in row]
        before = self.objective
        improved = self.take(
            [(cols, row.get("x")) for (_, cols), row in zip(parts, rows, strict=True)]
        )
        gain = abs(self.objective - before)
        log = self.log
        log.tried[kind] += len(parts)
        log.improved[kind] += improved
        log.gained[kind] += gain
        log.seconds[kind] += time.perf_counter() - began
        optimal = all(row.get("word") == "optimal" for row in rows)
        quick = optimal and max(row.get("seconds", seconds) for row in rows) < 0.5 * seconds
        self.target[kind] *= 1.3 if quick else (1.0 if optimal else 0.7)
        self.target[kind] = min(max(self.target[kind], 50.0), float(self.whole.sum()))
        return gain

    def take(self, solutions: list[tuple[np.ndarray, np.ndarray | None]]) -> int:
        """Take the neighbourhoods' solutions ``(columns, values)``: all together when the
        whole model holds them (it does when the slack was shared, up to tolerances),
        else each on its own that the whole model holds and that is better. Returns how
        many neighbourhoods improved the plan."""
        found = [(cols, np.asarray(x, dtype=float)) for cols, x in solutions if x is not None]
        gains = [float(self.mat.cost[cols] @ (self.x[cols] - x)) for cols, x in found]
        together = self._checked(found)
        if together is not None:
            self.x = together
            return sum(g > 0 for g in gains)
        improved = 0
        for one in found:
            alone = self._checked([one])
            if alone is not None:
                self.x, improved = alone, improved + 1
        return improved

    def _checked(self, found: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
        """The incumbent with ``found`` put in (whole numbers rounded), when every row and
        bound of the whole model holds it and it is better; else None."""
        x = self.x.copy()
        for cols, values in found:
            x[cols] = values
        x[self.mat.integer] = np.round(x[self.mat.integer])
        check = audit(self.mat, x)
        better = self.mat.sign * (check.objective - self.objective) < 0
        return x if check.feasible and better else None

    def values(self) -> dict[str, float]:
        return {var.name: float(self.x[i]) for i, var in enumerate(self.mat.variables)}


def solve_part(payload: dict, point: dict, options: dict) -> dict:
    """One neighbourhood's sub-MILP (a runner's task; never raises): ``point`` holds its
    ``arrays``, the incumbent's values as ``start``, ``seconds`` and ``mip_gap``; the row
    has its solution ``x`` (None without one), HiGHS's ``word`` and the ``seconds`` it
    took. Solver threads: ``options["threads"]``, else this process's."""
    began = time.perf_counter()
    try:
        raw = highs.run_here(
            point["arrays"], point["seconds"], point["mip_gap"], False, point["start"], False,
            options.get("threads") or highs.threads(),
        )  # fmt: skip
    except Exception as exc:  # a worker's failure is a row, never the search's end
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}", "x": None}
    took = time.perf_counter() - began
    return {"status": "solved", "word": raw.word, "x": raw.x, "seconds": took}


@contextmanager
def lanes(workers: int | None, client: Any, threads: int) -> Iterator[tuple[int, Solve]]:
    """Where neighbourhoods are solved: ``(how many at once, solve)``. In this process
    with ``threads`` solver threads (one worker, no client), else in ``workers`` local
    processes or on the Dask ``client`` (a Client or a scheduler address), through the
    runners sweeps use too (:mod:`planner.solving.runners`)."""
    if client is None and (workers or 1) <= 1:
        yield 1, lambda points: [solve_part({}, p, {"threads": threads}) for p in points]
        return
    from .runners import runner

    with runner(None if client is not None else workers, client) as opened:

        def solve(points: list[dict]) -> list[dict]:
            rows: list[dict] = [{} for _ in points]
            opened.run(solve_part, {}, points, {}, rows.__setitem__)
            return rows

        yield opened.lanes, solve


def neighbourhood_search(
    m: RetrofitModel,
    start: dict[str, float],
    deadline: float | None,
    mip_gap: float,
    threads: int,
    seed: int = 0,
    max_steps: int | None = None,
    target: float = TARGET_FREE,
    workers: int | None = None,
    client: Any = None,
    kinds: tuple[str, ...] = KINDS,
    step_s: float = STEP_S,
    relaxed: dict[str, float] | None = None,
    split_s: float | None = None,
) -> tuple[dict[str, float], Log]:
    """Improve ``start`` (a sound solution of ``m``) by neighbourhoods until ``deadline``
    (a ``time.perf_counter()`` reading) or ``max_steps`` rounds; without either it stops
    after ``3 x len(kinds)`` rounds in a row gain nothing. ``target``: whole-number columns
    of a first neighbourhood; ``kinds``: the kinds to choose from; ``step_s``: the time
    limit of one round's MILPs. Each round solves as many neighbourhoods of one kind as
    there are lanes (:func:`lanes`: ``workers`` local processes or a Dask ``client``; one,
    in this process, by default), sharing the slack of the rows they share. With the LP
    relaxation's values ``relaxed``, the search first tries its split among groups of
    sites (:meth:`Search.split`) for ``split_s`` seconds (default: a tenth of the time to
    the deadline, or 60 s). Returns the best values and the log."""
    search = Search(m, start, seed, target, kinds)
    idle, steps = 0, 0
    with lanes(workers, client, threads) as (count, solve):
        search.log.lanes = count
        if relaxed is not None:
            if split_s is None:
                split_s = 60.0 if deadline is None else 0.1 * (deadline - time.perf_counter())
            guide = np.array([float(relaxed.get(v.name) or 0.0) for v in search.mat.variables])
            search.split(guide, solve, count, split_s, mip_gap)
        while True:
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left < 0.5:
                break
            if max_steps is not None and steps >= max_steps:
                break
            if deadline is None and max_steps is None and idle >= 3 * len(kinds):
                break
            seconds = step_s if left is None else min(step_s, left)
            gain = search.round(search.pick(), count, solve, seconds, mip_gap)
            idle = 0 if gain > 0 else idle + 1
            steps += 1
    return search.values(), search.log


def _chunks(order: np.ndarray, per_site: np.ndarray, target: float, count: int) -> list:
    """Up to ``count`` runs of consecutive sites of ``order``, each with about ``target``
    whole-number columns (at least one site each)."""
    chunks, current, size = [], [], 0.0
    for s in order:
        current.append(int(s))
        size += per_site[s]
        if size >= target:
            chunks.append(current)
            current, size = [], 0.0
            if len(chunks) == count:
                return chunks
    if current:
        chunks.append(current)
    return chunks
