"""dc-retrofit-planner: GPU racks and retrofits for CPU-era data halls, by MILP.

>>> import planner
>>> scenario = planner.load_scenario("configs/legacy-hall.yaml")
>>> plan = planner.solve(scenario)
>>> plan.verify()
[]
"""

from . import baseline, synth
from .compare import compare_plans
from .optimize import solve
from .overrides import apply_overrides, what_if
from .plan import Plan
from .scenario import Problem, Scenario, ScenarioError, json_schema, load_scenario
from .sweeps import sweep
from .verify import Violation

__version__ = "0.1.0"

#: submodules loaded on first use (``planner.plots`` imports matplotlib)
_LAZY = ("analysis", "plots")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


__all__ = [
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Violation",
    "apply_overrides",
    "baseline",
    "compare_plans",
    "json_schema",
    "load_scenario",
    "solve",
    "sweep",
    "synth",
    "what_if",
    "__version__",
]
