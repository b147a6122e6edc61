"""Plans: the decisions of a solve as tables, and everything that checks and keeps them.

* :mod:`.plan`: :class:`Plan`, its tables and derived usage; :mod:`.binding`: its limits;
* :mod:`.accounting` and :mod:`.verify`: every rule recomputed from the tables alone,
  sharing no code with the model;
* :mod:`.planfile`: the plan file; :mod:`.files`: writing results in one step;
* :mod:`.baseline` (with :mod:`.greedy_state`): the rule-of-thumb plan, drawn without a
  solver.
"""

from .plan import Plan
from .verify import Violation, verify

__all__ = ["Plan", "Violation", "verify"]
