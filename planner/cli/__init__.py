"""The ``planner`` command: solve, validate and describe scenario files.

Exit status: 0 a plan was found; 1 no plan for another reason (solver missing, time limit
reached before any plan); 2 invalid scenario file or options; 3 infeasible scenario.
"""

from . import (  # noqa: F401 - they register commands
    alternatives,
    explaining,
    plotting,
    replanning,
    risking,
    solving,
    sweeping,
)
from .common import EXIT_INFEASIBLE, EXIT_INVALID, EXIT_NO_PLAN, EXIT_OK, app
from .solving import summary_table
from .sweeping import sweep_table


def main() -> None:
    app()


__all__ = [
    "EXIT_INFEASIBLE",
    "EXIT_INVALID",
    "EXIT_NO_PLAN",
    "EXIT_OK",
    "app",
    "main",
    "summary_table",
    "sweep_table",
]
