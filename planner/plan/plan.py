"""Plans: the decisions a solve found, as tidy tables, with their derived usage and spend."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..scenario import Scenario, ScenarioError
from . import accounting as acc
from .files import Staging, write_text
from .planfile import FORMAT, FORMAT_VERSION, PlanFileError, dumps, read_plan_document
from .verify import Violation, verify


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(eq=False)
class Plan:
    """A build-out plan for a scenario.

    Attributes
    ----------
    scenario : Scenario
        The scenario the plan answers.
    status : str
        ``"optimal"``; ``"feasible"`` (the solver stopped early with this plan, see
        ``gap``); ``"infeasible"`` (no plan satisfies every rule: tables are empty);
        ``"error"`` (no plan was found, see ``message``).
    objective : float or None
        The scenario's objective: PFLOPS-periods for ``max_compute``, USD for ``min_cost``.
    total_spend_usd : float
        Spend over all periods, USD.
    gap : float or None
        Relative MIP gap of the objective at the end of the solve (0 = proven optimal,
        None = unknown).
    racks : DataFrame
        ``site, hall, period, rack_type, rdhx_option, count``: racks operating, one row per
        group of identical racks; ``rdhx_option`` is the rear door they sit behind ("" for
        none). Cumulative: a rack operating in a period operates in every later one.
    retrofits : DataFrame
        ``site, hall, period, option, kind, units, added``: retrofit units installed by each
        period (``units``, cumulative) and in it (``added``); ``hall`` is "" for site-scope
        options.
    halls : DataFrame
        ``site, hall, period, cpu_racks_retired, cpu_racks_left, liquid_to_cdu_kw,
        liquid_to_aalc_kw``: CPU racks retired by each period and how the hall's liquid heat
        is split between CDUs and AALC sidecars.
    clusters : DataFrame
        ``kind, domain, site, hall, rack_type, period, count, racks, gpus``: training
        clusters operating (MODEL.md section 5), cumulative, one row per kind, place (a
        hall; for site-domain kinds the site, ``hall`` "") and rack type; ``racks`` and
        ``gpus`` are the whole clusters' (``count`` x racks per cluster, x GPUs per rack).
    diagnosis : DataFrame or None
        For an infeasible scenario: ``rule, site, hall, period, shortfall, unit, message``,
        the shortfalls that would make it feasible (see :func:`planner.solving.diagnose`).
    solver, message : str
        Solver used and its last word.
    build_seconds, solve_seconds : float
        Wall time to build the model and to solve it.
    """

    scenario: Scenario
    status: str
    objective: float | None = None
    total_spend_usd: float = 0.0
    gap: float | None = None
    racks: pd.DataFrame = field(default_factory=lambda: _empty(acc.RACK_COLUMNS))
    retrofits: pd.DataFrame = field(default_factory=lambda: _empty(acc.RETROFIT_COLUMNS))
    halls: pd.DataFrame = field(default_factory=lambda: _empty(acc.HALL_COLUMNS))
    clusters: pd.DataFrame = field(default_factory=lambda: _empty(acc.CLUSTER_COLUMNS))
    diagnosis: pd.DataFrame | None = None
    solver: str = ""
    message: str = ""
    build_seconds: float = 0.0
    solve_seconds: float = 0.0

    # -- derived tables -------------------------------------------------------------------
    @property
    def has_plan(self) -> bool:
        return self.status in ("optimal", "feasible")

    @cached_property
    def utilisation(self) -> pd.DataFrame:
        """``site, hall, period, resource, unit, used, capacity`` for every resource of every
        hall (space, power, room_air, liquid_cdu, liquid_aalc, rdhx_doors, network) and site
        (facility_water, feed; ``hall`` ""), recomputed from the decisions. NaN capacity =
        no cap."""
        if not self.has_plan:
            return _empty(acc.UTILISATION_COLUMNS)
        return acc.utilisation(self.scenario, self.racks, self.retrofits, self.halls)

    @cached_property
    def spend(self) -> pd.DataFrame:
        """``period, racks_usd, retrofits_usd, retirements_usd, total_usd, budget_usd``."""
        if not self.has_plan:
            return _empty(acc.SPEND_COLUMNS)
        return acc.spend(self.scenario, self.racks, self.retrofits, self.halls)

    @property
    def spend_usd_per_period(self) -> pd.Series:
        """Spend in each period, USD (index: period)."""
        return self.spend.set_index("period")["total_usd"]

    def gpus(self) -> pd.Series:
        """GPUs operating in each period (index: period)."""
        return acc.gpus(self.scenario, self.racks)

    def pflops(self) -> pd.Series:
        """PFLOPS operating in each period (index: period)."""
        return acc.compute_pflops(self.scenario, self.racks)

    def clustered_gpus(self) -> pd.Series:
        """GPUs in training clusters in each period (index: period)."""
        per = self.clusters.groupby("period")["gpus"].sum() if len(self.clusters) else {}
        return pd.Series(
            [int(per.get(p, 0)) for p in self.scenario.periods],
            index=pd.Index(self.scenario.periods, name="period"),
        )

    def summary(self) -> pd.DataFrame:
        """One row per period: GPUs and PFLOPS operating, spend and budget (USD), the
        retrofit units installed in that period and, for scenarios with cluster kinds, the
        GPUs in clusters and the clusters operating (``clustered_gpus``, ``clusters``)."""
        periods = pd.Index(self.scenario.periods, name="period")
        if not self.has_plan:
            return pd.DataFrame(index=periods)
        bought = {p: [] for p in self.scenario.periods}
        for row in self.retrofits.itertuples(index=False):
            if row.added:
                where = row.hall or row.site
                bought[row.period].append(f"{row.added:g} {row.option} in {where}")
        spend = self.spend.set_index("period")
        table = pd.DataFrame(
            {
                "gpus": self.gpus(),
                "pflops": self.pflops(),
                "spend_usd": spend["total_usd"],
                "budget_usd": spend["budget_usd"],
                "retrofits_added": pd.Series({p: ", ".join(b) for p, b in bought.items()}),
            },
            index=periods,
        )
        if self.scenario.cluster_kinds():
            table["clustered_gpus"] = self.clustered_gpus()
            table["clusters"] = pd.Series(
                {p: _clusters_text(self.clusters, p) for p in self.scenario.periods}
            )
        return table

    def binding(self, tolerance: float = 1e-3) -> pd.DataFrame:
        """Limits that bind (or are within ``tolerance`` of capacity): see
        :func:`planner.plan.binding`."""
        from .binding import binding

        return binding(self, tolerance)

    def limits(self) -> pd.DataFrame:
        """Every rule at (or near) capacity, by resource and state (binding, capped, sized,
        near) and money: see :func:`planner.plan.limits.limits`."""
        from .limits import limits

        return limits(self)

    def limit_lines(self) -> list[str]:
        """:meth:`limits` as sentences, and the periods money does not limit, and why."""
        from .limits import limit_lines

        return limit_lines(self)

    def explain(self, which: str = "binding", **solve_options):
        """Binding limits, marginal values of retrofits (by re-solving) and LP shadow prices:
        an :class:`planner.insight.Explanation`. ``which="all"`` values every option in
        every hall and period (many solves); ``"binding"`` only those relieving a binding
        limit."""
        from ..insight.explain import explain  # a shortcut to a higher layer

        return explain(self, which=which, **solve_options)

    def verify(self) -> list[Violation]:
        """Problems found by recomputing every rule from the plan and scenario alone;
        ``[]`` means the plan is sound."""
        return verify(self)

    # -- text -------------------------------------------------------------------------------
    def headline(self) -> str:
        sc = self.scenario
        if not self.has_plan:
            return f"{sc.name}: {self.status}. {self.message}".strip()
        unit = "PFLOPS-periods" if sc.objective == "max_compute" else "USD"
        gap = "" if self.gap is None else f", gap {self.gap:.2%}"
        return (
            f"{sc.name}: {self.status}{gap}; objective {self.objective:,.6g} {unit}; "
            f"total spend ${self.total_spend_usd:,.0f}"
        )

    def __str__(self) -> str:
        if not self.has_plan:
            lines = [self.headline()]
            if self.diagnosis is not None and len(self.diagnosis):
                lines += ["Shortfalls that would make it feasible:"]
                lines += [f"  {m}" for m in self.diagnosis["message"]]
            return "\n".join(lines)
        table = self.summary().copy()
        table["spend_usd"] = table["spend_usd"].map(lambda v: f"${v / 1e6:,.1f}M")
        table["budget_usd"] = table["budget_usd"].map(
            lambda v: "-" if math.isnan(v) else f"${v / 1e6:,.1f}M"
        )
        table["pflops"] = table["pflops"].map(lambda v: f"{v:,.6g}")
        return self.headline() + "\n" + table.to_string()

    def __repr__(self) -> str:
        return f"<Plan {self.headline()}>"

    # -- files --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        def records(df: pd.DataFrame) -> list[dict]:
            return json.loads(df.to_json(orient="records"))

        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "status": self.status,
            "objective": self.objective,
            "total_spend_usd": self.total_spend_usd,
            "gap": self.gap,
            "solver": self.solver,
            "message": self.message,
            "build_seconds": self.build_seconds,
            "solve_seconds": self.solve_seconds,
            "scenario": self.scenario.model_dump(mode="json"),
            "racks": records(self.racks),
            "retrofits": records(self.retrofits),
            "halls": records(self.halls),
            "clusters": records(self.clusters),
            "diagnosis": None if self.diagnosis is None else records(self.diagnosis),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """The plan as strict JSON (scenario included); written to ``path`` when given, in
        one step (a temporary file renamed over the old one: never half-written)."""
        text = dumps(self.to_dict())
        if path is not None:
            write_text(path, text + "\n")
        return text

    @classmethod
    def from_tables(
        cls,
        scenario: Scenario,
        racks,
        retrofits,
        halls,
        status: str = "optimal",
        clusters=None,
        **meta,
    ) -> Plan:
        """A Plan of given decision tables, its objective and total spend computed from them
        by :mod:`planner.plan.accounting` (for plans drawn up by hand or by other tools)."""
        clusters = _empty(acc.CLUSTER_COLUMNS) if clusters is None else clusters
        spend = float(acc.spend(scenario, racks, retrofits, halls)["total_usd"].sum())
        compute = float(acc.counted_pflops(scenario, racks, clusters).sum())
        return cls(
            scenario,
            status,
            objective=compute if scenario.objective == "max_compute" else spend,
            total_spend_usd=spend,
            racks=racks.reset_index(drop=True),
            retrofits=retrofits.reset_index(drop=True),
            halls=halls.reset_index(drop=True),
            clusters=clusters.reset_index(drop=True),
            **meta,
        )

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        """A plan from its document (as :meth:`to_dict` writes it), checked:
        :class:`~planner.plan.planfile.PlanFileError` names every problem."""
        return cls._from_document(read_plan_document(dumps(data)))

    @classmethod
    def from_json(cls, source: str | Path) -> Plan:
        """Read a plan written by :meth:`to_json` (a path, or the JSON text itself). Raises
        :class:`~planner.plan.planfile.PlanFileError` naming every problem of a broken file (not
        JSON, cut short, an unknown version or status, a count that is not a whole
        number, an invalid scenario). The plan's decisions are not checked against the
        rules here: call :meth:`verify`."""
        return cls._from_document(read_plan_document(source), source)

    @classmethod
    def _from_document(cls, doc, source=None) -> Plan:
        where = None if source is None or str(source).lstrip().startswith("{") else str(source)
        try:  # a stressed or hedged plan's scenario may have deliveries after the horizon
            scenario = Scenario.model_validate(doc.scenario, context={"late": True})
        except ScenarioError as exc:
            problems = [type(p)(f"scenario.{p.path}", p.message, p.line) for p in exc.problems]
            raise PlanFileError(problems, where) from None

        def table(rows: list, columns: list[str]) -> pd.DataFrame:
            records = [row.model_dump() for row in rows]
            return pd.DataFrame(records, columns=columns) if records else _empty(columns)

        return cls(
            scenario=scenario,
            status=doc.status,
            objective=doc.objective,
            total_spend_usd=doc.total_spend_usd,
            gap=doc.gap,
            racks=table(doc.racks, acc.RACK_COLUMNS),
            retrofits=table(doc.retrofits, acc.RETROFIT_COLUMNS),
            halls=table(doc.halls, acc.HALL_COLUMNS),
            clusters=table(doc.clusters, acc.CLUSTER_COLUMNS),
            diagnosis=None if doc.diagnosis is None else pd.DataFrame(doc.diagnosis),
            solver=doc.solver,
            message=doc.message,
            build_seconds=doc.build_seconds,
            solve_seconds=doc.solve_seconds,
        )

    def write(self, directory: str | Path) -> list[Path]:
        """Write ``plan.json`` and CSVs of every table to a directory, all in one step (see
        :class:`planner.plan.files.Staging`); return the paths."""
        with Staging(directory) as out:
            return self.stage(out)

    def stage(self, out: Staging) -> list[Path]:
        """Stage ``plan.json`` and the tables' CSVs in a results folder being written
        (``clusters.csv`` too when the scenario has training clusters)."""
        written = [out.text("plan.json", self.to_json() + "\n")]
        tables = {
            "racks": self.racks,
            "retrofits": self.retrofits,
            "halls": self.halls,
            "utilisation": self.utilisation,
            "spend": self.spend,
            "summary": self.summary().reset_index(),
        }
        if self.scenario.cluster_kinds():
            tables["clusters"] = self.clusters
        for name, df in tables.items():
            written.append(
                out.write(f"{name}.csv", lambda path, df=df: df.to_csv(path, index=False))
            )
        return written


def _clusters_text(clusters: pd.DataFrame, period: str) -> str:
    """``"3 ai-zone, 1 building"``: the clusters of each kind operating in a period."""
    if clusters.empty:
        return ""
    here = clusters[clusters["period"] == period].groupby("kind", sort=False)["count"].sum()
    return ", ".join(f"{int(n)} {kind}" for kind, n in here.items() if n)
