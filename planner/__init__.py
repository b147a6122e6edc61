"""dc-retrofit-planner: GPU racks and retrofits for CPU-era data halls, by MILP.

>>> import planner
>>> scenario = planner.load_scenario("configs/legacy-hall.yaml")
>>> plan = planner.solve(scenario)
>>> plan.verify()
[]
"""

from .optimize import solve
from .plan import Plan
from .scenario import Problem, Scenario, ScenarioError, json_schema, load_scenario
from .verify import Violation

__version__ = "0.1.0"
__all__ = [
    "Plan",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Violation",
    "json_schema",
    "load_scenario",
    "solve",
    "__version__",
]
