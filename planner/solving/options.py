"""How a solve is run: :class:`SolveOptions`, with the defaults stated here once, and
:class:`Deadline`, the time limit of one call.

Every function of the package that solves (``planner.solve``, explanations, analyses,
sweeps) takes ``options=SolveOptions(...)`` and, for convenience, the same fields as
keywords (``time_limit_s=5``), which override the options given::

    planner.analysis.frontier(plan, budgets, time_limit_s=5, mip_gap=1e-3)
    planner.analysis.frontier(plan, budgets, options=SolveOptions(time_limit_s=5))
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

#: the solvers the planner can use
SOLVERS = ("highs", "cbc")
#: how a scenario's MILP is searched (see planner.solving.search)
METHODS = ("auto", "milp", "search")


@dataclass(frozen=True)
class SolveOptions:
    """How each solve is run.

    Attributes
    ----------
    solver : str
        ``"highs"`` (default) or ``"cbc"``.
    time_limit_s : float or None
        Seconds each solve may take (the whole call of ``planner.solve``, starts included);
        None: no limit.
    mip_gap : float
        Relative gap, in [0, 1], at which a solve may stop (default 1e-4).
    threads : int or None
        Solver threads; None: ``PLANNER_THREADS`` where set, else the cores (at most 4).
    msg : bool
        Show the solver's log.
    method : str
        ``"milp"``: one HiGHS (or CBC) run on the whole model from the best start;
        ``"search"``: a neighbourhood search from it (:mod:`planner.solving.search`; HiGHS
        only; a model too small to need one is solved as ``"milp"``); ``"auto"`` (default):
        the search for large models under a time limit, else the MILP.
    workers : int or None
        Local worker processes that solve the fleet search's neighbourhoods at the same
        time, each with ``cores // workers`` solver threads; None or 1: one at a time, in
        this process. (``planner.solve(..., client=...)`` runs them on a Dask cluster.)
    """

    solver: str = "highs"
    time_limit_s: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    msg: bool = False
    method: str = "auto"
    workers: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.solver, str) or self.solver.lower() not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}: choose one of {', '.join(SOLVERS)}")
        object.__setattr__(self, "solver", self.solver.lower())
        limit = self.time_limit_s
        if limit is not None and (not _number(limit) or not limit > 0):
            raise ValueError(
                f"time_limit_s must be a number of seconds > 0 (or None), not {limit!r}"
            )
        if not _number(self.mip_gap) or not 0 <= self.mip_gap <= 1:
            raise ValueError(
                f"mip_gap must be a relative gap between 0 and 1, not {self.mip_gap!r}"
            )
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}: choose one of {', '.join(METHODS)}")
        if self.method == "search" and self.solver != "highs":
            raise ValueError("the neighbourhood search runs on HiGHS: use solver='highs'")
        for name in ("threads", "workers"):
            value = getattr(self, name)
            whole = isinstance(value, int) and not isinstance(value, bool)
            if value is not None and (not whole or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1 (or None), not {value!r}")

    def replace(self, **changes: Any) -> SolveOptions:
        """These options with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def of(cls, options: SolveOptions | None = None, **fields: Any) -> SolveOptions:
        """``options`` (default: the defaults) with the fields given as keywords set; an
        unknown keyword is a TypeError naming it."""
        base = options if options is not None else cls()
        if not isinstance(base, SolveOptions):
            raise TypeError(f"options must be SolveOptions, not {type(base).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(
                f"unknown solve option(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        return base.replace(**fields) if fields else base

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data (to send a solve to another process)."""
        return dataclasses.asdict(self)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Deadline:
    """The time limit of one call, counted from the moment it was made."""

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self.began = time.perf_counter()
        self.at = None if seconds is None else self.began + seconds

    def remaining(self) -> float | None:
        """Seconds left (None: no limit; 0 once it has passed)."""
        return None if self.at is None else max(self.at - time.perf_counter(), 0.0)

    def limit(self) -> float | None:
        """The time left as a solve's time limit: None (no limit), else at least 1 ms (a
        limit must be positive; a solve given 1 ms stops at once with what it has)."""
        left = self.remaining()
        return None if left is None else max(left, 1e-3)

    def share(self, fraction: float) -> float | None:
        """``fraction`` of the time left (None: no limit)."""
        left = self.remaining()
        return None if left is None else fraction * left

    def after(self, fraction: float) -> float | None:
        """The ``time.perf_counter()`` reading ``fraction`` of the time left from now (None:
        no limit)."""
        left = self.remaining()
        return None if left is None else time.perf_counter() + fraction * left

    def expired(self) -> bool:
        return self.at is not None and time.perf_counter() >= self.at


#: the options of explanations: exact solves, since a marginal value is a small difference
EXACT = SolveOptions(mip_gap=0.0)
