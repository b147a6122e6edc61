"""What a plan means: why it is what it is (binding limits, what one more retrofit unit is
worth, shadow prices, what stops the next training cluster), what differs between two
plans, and what a plan keeps when deliveries slip against a plan that hedged them."""

from .clusters import next_clusters
from .compare import compare_plans
from .explain import Explanation, explain, marginal_values, shadow_prices
from .risk import hedge_against

__all__ = [
    "Explanation",
    "compare_plans",
    "explain",
    "hedge_against",
    "marginal_values",
    "next_clusters",
    "shadow_prices",
]
