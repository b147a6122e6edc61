"""The retrofit MILP: a scenario's decisions and rules as a PuLP problem.

* :mod:`.core`: the index of a scenario's structure and the model holding its variables;
* :mod:`.variables`: the decisions; :mod:`.rules`: one function per rule family;
* :mod:`.build`: :func:`build`, which assembles them.
"""

from .build import build, total_spend
from .core import MONEY, Gift, Index, Limit, RetrofitModel, expr, rack_gbps, value_at
from .rules import RULES, spend_terms

__all__ = [
    "MONEY",
    "RULES",
    "Gift",
    "Index",
    "Limit",
    "RetrofitModel",
    "build",
    "expr",
    "rack_gbps",
    "spend_terms",
    "total_spend",
    "value_at",
]
