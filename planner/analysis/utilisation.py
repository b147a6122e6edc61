"""The share of every resource used, per hall (site) and period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plan import Plan
from ..plan.verify import ABS
from .common import BINDING_SHARE


def utilisation_matrix(plan: Plan) -> pd.DataFrame:
    """Share of every resource used, per hall (site rows for facility water and feed:
    ``hall`` "") and period: ``site, hall, period, period_index, resource, unit, used,
    capacity, share, binding``. ``share`` = used / capacity (NaN where there is no cap or
    neither capacity nor use); ``binding`` when share >= 99.9%."""
    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    u = plan.utilisation.copy()
    order = {p: i for i, p in enumerate(plan.scenario.periods)}
    u.insert(3, "period_index", u["period"].map(order).astype(int))
    used = u["used"].to_numpy(dtype=float)
    cap = u["capacity"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cap > 0, used / np.where(cap > 0, cap, 1.0), np.nan)
    share = np.where((cap == 0) & (used > ABS), np.inf, share)
    u["share"] = share
    u["binding"] = np.nan_to_num(share, nan=0.0, posinf=1.0) >= BINDING_SHARE
    return u
