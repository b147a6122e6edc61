"""Feasible regions found with the MILP, one solve per lattice column: the most the budget
can buy in a hall, and every region of a site (the racks spread over its halls)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..model import build, expr
from ..plan import Plan
from ..scenario import Hall, RackType, Site
from ..solving import SolveOptions, run
from .common import MODES, RULE_LABELS
from .hall_region import _best

LIMIT_RULES = {"liquid_cdu": "liquid", "liquid_aalc": "liquid", "budget_total": "budget"}


def _fix(var, value: float) -> None:
    """Hold a model variable at one value."""
    var.lowBound = var.upBound = value


def _pin(m, snap: Plan, free: set, mode: str, bare: set, bare_site: int | None) -> None:
    """Hold in the snapshot's MILP ``m`` what a picture holds.

    Every rack count but the ``free`` (hall index, rack index) pairs is held as in the
    snapshot. For ``mode`` "plan" and "none" every retrofit unit and CPU retirement is held
    as in the snapshot too, except that "none" holds the units of the ``bare`` halls (and of
    site ``bare_site``, when given) at zero; "budget" leaves units and retirements free.
    Rear doors and the liquid split are always free.
    """
    sc = m.scenario
    names = [r.name for r in sc.rack_types]
    counts = snap.racks.groupby(["site", "hall", "rack_type"])["count"].sum().to_dict()
    for (h, r, _t), var in m.n.items():
        if (h, r) not in free:
            _, site, hall = m.index.halls[h]
            _fix(var, counts.get((site.name, hall.name, names[r]), 0))
    if mode == "budget":
        return
    options = [o.name for o in sc.retrofits]
    units = snap.retrofits.groupby(["site", "hall", "option"])["units"].sum().to_dict()
    for (h, o, _t), var in m.u.items():
        _, site, hall = m.index.halls[h]
        held = units.get((site.name, hall.name, options[o]), 0)
        _fix(var, 0 if mode == "none" and h in bare else held)
    for (s, o, _t), var in m.w.items():
        held = units.get((sc.sites[s].name, "", options[o]), 0)
        _fix(var, 0 if mode == "none" and s == bare_site else held)
    retired = snap.halls.groupby(["site", "hall"])["cpu_racks_retired"].sum().to_dict()
    for (h, _t), var in m.x.items():
        _, site, hall = m.index.halls[h]
        _fix(var, retired.get((site.name, hall.name), 0))


class _MilpRegion:
    """A region decided by the snapshot's MILP: racks of types A and B free in ``halls``
    (one hall, or every hall of a site) with their totals ``x`` and ``y`` over those halls
    as two more variables, everything else held by :func:`_pin` for the retrofit set
    ``mode``. A point is feasible when some spread over the halls, rear-door assignment and
    liquid split (and, for "budget", some purchase within the budget) passes every rule.

    ``site_scope``: "none" also holds the site's site-scope units at zero (the site as it
    stands). ``explain``: :meth:`stops` names the rules that stop one more rack, from the
    elastic twin of the model.
    """

    def __init__(
        self,
        snap: Plan,
        site: Site,
        halls: Sequence[Hall],
        a: RackType,
        b: RackType,
        mode: str,
        opts: SolveOptions,
        *,
        site_scope: bool = False,
        explain: bool = False,
        elastic: bool = False,
    ):

        if a.name == b.name:
            raise ValueError("rack_a and rack_b must be different rack types")
        if mode not in MODES:
            raise ValueError(f"retrofits must be one of {', '.join(MODES)}, not {mode!r}")
        self.args = (snap, site, halls, a, b, mode, opts)
        self.site_scope, self.explain = site_scope, explain
        self.a, self.b, self.opts = a, b, opts
        sc = snap.scenario
        self.m = m = build(sc, elastic=elastic)
        self.elastic_objective = m.prob.objective
        wanted = {hall.name for hall in halls}
        hs = {
            h
            for h, (_, s, hall) in enumerate(m.index.halls)
            if s.name == site.name and hall.name in wanted
        }
        names = [r.name for r in sc.rack_types]
        ra, rb = names.index(a.name), names.index(b.name)
        s_index = [s.name for s in sc.sites].index(site.name)
        free = {(h, r) for h in hs for r in (ra, rb)}
        _pin(m, snap, free, mode, hs, s_index if site_scope else None)
        self.ta = self._total([m.n[h, ra, 0] for h in sorted(hs) if (h, ra, 0) in m.n], "total_a")
        self.tb = self._total([m.n[h, rb, 0] for h in sorted(hs) if (h, rb, 0) in m.n], "total_b")
        self._twin: _MilpRegion | None = None

    def _total(self, parts: list, name: str):
        """An integer variable equal to the sum of ``parts``; None when there are none (the
        rack type can stand in none of the halls)."""
        import pulp

        if not parts:
            return None
        total = self.m.prob.add_variable(name, 0, sum(v.upBound for v in parts), pulp.LpInteger)
        total.cap = total.upBound
        terms = [(v, 1.0) for v in parts] + [(total, -1.0)]
        self.m.prob.addConstraint(pulp.LpConstraint(expr(terms), pulp.LpConstraintEQ, name, 0))
        return total

    def _hold(self, total, value: int | None) -> bool:
        """Hold a total at ``value`` (None: free); False when it cannot take that value."""
        if total is None:
            return not value
        if value is None:
            total.lowBound, total.upBound = 0, total.cap
            return True
        if value > total.cap:
            return False
        _fix(total, value)
        return True

    def _solve(self, terms: list, sense: int, gap_below: float | None = None) -> float | None:
        """Optimise ``sum(terms)``; None when no decision passes every rule. ``gap_below``:
        the objective's largest value, to set the relative MIP gap below one unit of it, so
        that a whole-number objective is the integer optimum."""
        import pulp

        objective = expr(terms)
        self.m.prob.sense = sense
        self.m.prob.setObjective(objective)
        opts = self.opts
        if gap_below is not None:
            opts = opts.replace(mip_gap=min(opts.mip_gap or 1.0, 0.5 / (1.0 + gap_below)))
        if not run(self.m.prob, opts).has_solution:
            return None
        return float(pulp.value(objective) or 0.0)

    def _most(self, total) -> int:
        """Largest value of a total with the other held; -1 when nothing passes."""
        import pulp

        if total is None:
            found = self._solve(list(self.m.compute.items()), pulp.LpMaximize)
            return -1 if found is None else 0
        found = self._solve([(total, 1.0)], pulp.LpMaximize, total.cap)
        return -1 if found is None else int(round(found))

    def largest_y(self, x: int) -> int:
        """Largest total of B with a total of ``x`` racks of A (-1: none)."""
        if not self._hold(self.ta, x):
            return -1
        self._hold(self.tb, None)
        return self._most(self.tb)

    def largest_x(self) -> int:
        """Largest total of A with no rack of B (-1: not even the empty point)."""
        self._hold(self.tb, 0)
        self._hold(self.ta, None)
        return self._most(self.ta)

    def best(self, columns: dict[int, int], step: int) -> tuple[int, int] | None:
        """The point with the most PFLOPS: the MILP's, or a better sampled column top."""
        import pulp

        known = [(x, y) for x, y in columns.items() if y >= 0]
        self._hold(self.ta, None)
        self._hold(self.tb, None)
        terms = [(t, r.pflops) for t, r in ((self.ta, self.a), (self.tb, self.b)) if t is not None]
        if self._solve(terms, pulp.LpMaximize) is not None:
            known.append(tuple(int(round(t.varValue or 0)) if t else 0 for t in (self.ta, self.tb)))
        return _best(self.a, self.b, known)

    def shortfall(self, x: int, y: int) -> str:
        """The rules broken at ``(x, y)`` by the least shortfall that makes it fit (elastic
        model only: each capacity rule may be exceeded, measured relative to its size), with
        the halls where they are broken; "" when it fits."""
        import pulp

        for total, rack, n in ((self.ta, self.a, x), (self.tb, self.b, y)):
            if total is None and n:
                return _absent(rack)
            if not self._hold(total, n):
                return RULE_LABELS["space"]
        m = self.m
        m.prob.sense = pulp.LpMinimize
        m.prob.setObjective(self.elastic_objective)

        if not run(m.prob, self.opts).has_solution:
            return "rear doors, floor or per-rack air density"
        found: dict = defaultdict(set)
        for name, f in m.shortfall.items():
            limit = m.limits[name]
            if (f.varValue or 0.0) > 1e-6 * max(1.0, limit.scale):
                where = m.index.halls[limit.hall][2].name if limit.hall is not None else ""
                found[LIMIT_RULES.get(limit.rule, limit.rule)].add(where)
        parts = []
        for rule in [*RULE_LABELS, *sorted(set(found) - set(RULE_LABELS))]:
            if rule in found:
                halls = ", ".join(sorted(w for w in found[rule] if w))
                parts.append(RULE_LABELS.get(rule, rule) + (f" in {halls}" if halls else ""))
        return ", ".join(parts)

    def stops(self, x: int, y: int) -> tuple[str, str]:
        """The rules that stop one more rack of type A, and of type B ("" when not
        ``explain``)."""
        if not self.explain:
            return "", ""
        if self._twin is None:
            self._twin = _MilpRegion(*self.args, site_scope=self.site_scope, elastic=True)
        return self._twin.shortfall(x + 1, y), self._twin.shortfall(x, y + 1)


def _absent(rack: RackType) -> str:
    """Why a rack type can stand in none of a picture's halls in the snapshot."""
    if rack.lead_periods > 0:
        return RULE_LABELS["lead_time"]
    return "no hall can take it (floor, per-rack air density or liquid cooling)"
