"""dc-retrofit-planner: GPU racks and retrofits for CPU-era data halls, by MILP.

>>> import planner
>>> scenario = planner.load_scenario("configs/legacy-hall.yaml")
>>> plan = planner.solve(scenario)
>>> plan.verify()
[]

The package is laid out as a plan is made (docs/architecture.md): ``scenario`` (what the
question is) -> ``model`` (the MILP) -> ``plan`` (the decisions as tables, and their
independent check) -> ``solving`` (from model to checked plan) -> ``insight`` (why a plan
is what it is) -> ``analysis`` and ``plots`` (the pictures) -> ``sweeps`` -> ``cli``.
"""

import sys

from .insight import compare_plans
from .plan import Plan, Violation, baseline
from .plan.numbers import readable
from .scenario import Problem, Scenario, ScenarioError, json_schema, load_scenario, synth
from .scenario.overrides import apply_overrides, what_if
from .solving import Hedge, SolveOptions, Stress, replan, scenario_at, slipped, solve, stress
from .sweeps import sweep
from .sweeps.alternatives import Alternatives, alternatives

__version__ = "0.1.0"

# ``import planner.baseline`` and ``import planner.synth`` keep working: the modules live in
# their layers (planner/plan/baseline.py, planner/scenario/synth.py)
sys.modules[f"{__name__}.baseline"] = baseline
sys.modules[f"{__name__}.synth"] = synth

#: submodules loaded on first use (``planner.plots`` imports matplotlib)
_LAZY = ("analysis", "plots")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


__all__ = [
    "Alternatives",
    "Hedge",
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "Stress",
    "Violation",
    "apply_overrides",
    "baseline",
    "compare_plans",
    "json_schema",
    "load_scenario",
    "readable",
    "replan",
    "scenario_at",
    "slipped",
    "solve",
    "stress",
    "sweep",
    "synth",
    "what_if",
    "__version__",
    "alternatives",
]
