"""What a plan means: why it is what it is (binding limits, what one more retrofit unit is
worth, shadow prices, what stops the next training cluster) and what differs between two
plans."""

from .clusters import next_clusters
from .compare import compare_plans
from .explain import Explanation, explain, marginal_values, shadow_prices

__all__ = [
    "Explanation",
    "compare_plans",
    "explain",
    "marginal_values",
    "next_clusters",
    "shadow_prices",
]
