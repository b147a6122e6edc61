"""What limits a plan, read from its tables alone: every rule at capacity, grouped by
resource and classed by what a planner can do about it, the rules close to capacity, and
the periods where money is (or is not) what stops the plan.

A rule at capacity is one of:

- ``binding``: the hall or site as built (with any units bought) is full, and more units
  of the option that adds to it could be bought, or none is offered there;
- ``capped``: every option that adds to it is at its ``max_units`` there: only a higher cap
  would lift it;
- ``sized``: the capacity exists only because the plan bought it (liquid cooling, rear
  doors) and more units are on offer: the plan bought what its racks need, so the rule is
  met by construction and limits nothing.

Money is ``binding`` in a period whose spend reaches the budget, or whose unspent budget is
less than the cheapest purchase that adds compute: one rack that can operate then (with
clustered compute, the racks of the cheapest whole cluster).
"""

from __future__ import annotations

import math

import pandas as pd

from ..model import Index
from ..scenario import Scenario
from .accounting import RESOURCE_LABELS
from .binding import BINDING_SHARE
from .numbers import times
from .numbers import usd as _usd

#: share of capacity from which a rule short of binding is reported as near binding
NEAR_SHARE = 0.98

#: the retrofit kind that adds capacity to each resource (space has none)
ADDS = {
    "power": "power",
    "room_air": "air_cooling",
    "liquid_cdu": "cdu",
    "liquid_aalc": "aalc",
    "rdhx_doors": "rdhx",
    "network": "fabric",
    "facility_water": "site_water",
    "feed": "site_feed",
}

LIMIT_COLUMNS = [
    "resource",
    "state",
    "times",
    "places",
    "first_period",
    "most_share",
    "capped_options",
]

_ORDER = {"binding": 0, "capped": 0, "near": 2, "sized": 3}


def limits(plan, near: float = NEAR_SHARE) -> pd.DataFrame:
    """Every rule of a plan at (or near) capacity, one row per resource and state.

    Columns: ``resource`` (a utilisation resource, or ``budget``), ``state`` (``binding``,
    ``capped``, ``sized`` or ``near``; see the module), ``times`` (hall-, site- or
    fleet-periods in that state), ``places`` (halls or sites, comma-separated, in the order
    first reached), ``first_period``, ``most_share`` (the highest share of capacity used),
    ``capped_options`` (for ``capped``: the options at their cap, ``option in place``).
    Rows are ordered by what matters: binding and capped rules first, most often first, then
    money, the near ones, and the sized ones last.
    """
    if not plan.has_plan:
        return pd.DataFrame(columns=LIMIT_COLUMNS)
    sc = plan.scenario
    offered = _offered(sc)
    installed = _installed(plan)
    util = plan.utilisation
    util = util[(util["capacity"] > 0) & util["capacity"].notna()]
    share = util["used"] / util["capacity"]
    order = {p: t for t, p in enumerate(sc.periods)}
    groups: dict = {}
    for row, used_share in zip(util.itertuples(index=False), share, strict=True):
        if used_share >= BINDING_SHARE:
            state, capped = _state(sc, row, offered, installed)
        elif used_share >= near:
            state, capped = "near", ""
        else:
            continue
        groups.setdefault((row.resource, state), []).append((row, used_share, capped))
    rows = []
    for (resource, state), found in groups.items():
        found.sort(key=lambda f: order[f[0].period])
        places = list(dict.fromkeys(f[0].hall or f[0].site for f in found))
        capped = list(dict.fromkeys(c for f in found for c in f[2].split(", ") if c))
        rows.append(
            (
                resource,
                state,
                len(found),
                ", ".join(places),
                found[0][0].period,
                max(f[1] for f in found),
                ", ".join(capped),
            )
        )
    money = money_limits(plan)
    bound = money[money["money_binds"]]
    if len(bound):
        rows.append(
            (
                "budget",
                "binding",
                len(bound),
                "fleet",
                bound["period"].iloc[0],
                float((bound["spend_usd"] / bound["budget_usd"]).max()),
                "",
            )
        )
    out = pd.DataFrame(rows, columns=LIMIT_COLUMNS)
    out = out.assign(_rank=out["state"].map(_ORDER))
    out = out.sort_values(["_rank", "times"], ascending=[True, False], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def _offered(sc: Scenario) -> dict:
    """``{(site, hall): set of option names offered there}`` (hall "" for site scope)."""
    idx = Index.of(sc)
    offered = {
        (site.name, hall.name): {sc.retrofits[o].name for o in idx.hall_options[h]}
        for h, (_, site, hall) in enumerate(idx.halls)
    }
    for site in sc.sites:
        offered[site.name, ""] = {sc.retrofits[o].name for o in idx.site_options}
    return offered


def _installed(plan) -> dict:
    """``{(site, hall, period, option): units standing}``."""
    return {
        (r.site, r.hall, r.period, r.option): r.units
        for r in plan.retrofits.itertuples(index=False)
    }


def _state(sc: Scenario, row, offered: dict, installed: dict) -> tuple[str, str]:
    """``(state, capped options)`` of one rule at capacity (see the module)."""
    kind = ADDS.get(row.resource)
    options = [
        o
        for o in sc.retrofits
        if o.kind == kind and o.name in offered.get((row.site, row.hall), ())
    ]
    if not options:
        return "binding", ""
    units = {o.name: installed.get((row.site, row.hall, row.period, o.name), 0) for o in options}
    capped = [o for o in options if o.max_units is not None and units[o.name] >= o.max_units]
    where = row.hall or row.site
    if len(capped) == len(options):
        return "capped", ", ".join(f"{o.name} in {where}" for o in capped)
    bought = sum(o.capacity * units[o.name] for o in options)
    if row.capacity - bought <= 1e-6 * max(1.0, row.capacity):
        return "sized", ""
    return "binding", ""


MONEY_COLUMNS = [
    "period",
    "spend_usd",
    "budget_usd",
    "unspent_usd",
    "cheapest_usd",
    "cheapest",
    "money_binds",
]


def money_limits(plan) -> pd.DataFrame:
    """Per period with a budget: spend, budget, what is left, the cheapest purchase that
    adds compute then (``cheapest``, ``cheapest_usd``; NaN when nothing can: no rack type
    operates yet) and ``money_binds``: the unspent budget is under 0.1% of the budget or
    buys less than that cheapest purchase. The total cap (``budget_usd_total``) is one more
    row, period ``"total"``."""
    sc = plan.scenario
    spend = plan.spend
    rows = []
    for t, row in enumerate(spend.itertuples(index=False)):
        if row.budget_usd is None or math.isnan(row.budget_usd):
            continue
        rows.append(_money_row(sc, row.period, row.total_usd, row.budget_usd, t))
    if sc.budget_usd_total is not None:
        spent = float(spend["total_usd"].sum())
        rows.append(_money_row(sc, "total", spent, sc.budget_usd_total, sc.n_periods - 1))
    return pd.DataFrame(rows, columns=MONEY_COLUMNS)


def _money_row(sc: Scenario, period: str, spent: float, budget: float, t: int) -> tuple:
    left = budget - spent
    name, price = cheapest_purchase(sc, t)
    binds = left <= (1 - BINDING_SHARE) * budget or (not math.isnan(price) and left < price)
    return (period, spent, budget, left, price, name, bool(binds))


def cheapest_purchase(sc: Scenario, t: int) -> tuple[str, float]:
    """``(what, USD)``: the cheapest purchase that adds counted compute in period ``t``: one
    rack of a type that can operate by then, or, with ``compute_counts: clustered``, the
    racks of one whole cluster (``("", nan)`` when nothing can operate yet)."""
    ready = [r for r in sc.rack_types if r.lead_periods <= t and r.pflops > 0]
    if sc.compute_counts == "clustered" and sc.cluster_kinds():
        best = ("", math.nan)
        for kind in sc.cluster_kinds():
            for rack in sc.cluster_rack_types(kind):
                if rack in ready:
                    price = math.ceil(kind.gpus / rack.gpus) * rack.capex_usd
                    if math.isnan(best[1]) or price < best[1]:
                        best = (f"one {kind.name} of {rack.name}", price)
        return best
    if not ready:
        return "", math.nan
    rack = min(ready, key=lambda r: r.capex_usd)
    return f"one {rack.name} rack", rack.capex_usd


def by_option(text: str) -> str:
    """``"pw in a1, pw in a2, ch in prn"`` as ``"pw in a1, a2; ch in prn"``."""
    places: dict[str, list[str]] = {}
    for item in (i for i in text.split(", ") if i):
        option, _, where = item.partition(" in ")
        places.setdefault(option, []).append(where)
    return "; ".join(f"{o} in {_places(', '.join(w))}" for o, w in places.items())


def _places(text: str, most: int = 6) -> str:
    places = [p for p in text.split(", ") if p]
    shown = ", ".join(places[:most])
    return shown + (f" and {len(places) - most} more" if len(places) > most else "")


def label(resource: str) -> str:
    """A resource as a planner says it (``room air``, ``facility water``)."""
    return RESOURCE_LABELS.get(resource, resource)


def limit_lines(plan, table: pd.DataFrame | None = None) -> list[str]:
    """The limits of a plan as sentences, one per resource and state, in the order of
    :func:`limits`, then the one-sentence story of unspent money (:func:`unspent_line`)."""
    table = limits(plan) if table is None else table
    out = []
    for row in table.itertuples(index=False):
        name, where = label(row.resource), _places(row.places)
        when = f"from {row.first_period}"
        if row.resource == "budget":
            out.append(f"money binds {times(row.times)}, {_money_line(plan)}")
        elif row.state == "binding":
            out.append(f"{name} binds {times(row.times)}, {when}: {where}")
        elif row.state == "capped":
            out.append(
                f"{name} binds {times(row.times)} with its retrofits at their cap, {when}: "
                f"{by_option(row.capped_options)}"
            )
        elif row.state == "near":
            out.append(
                f"{name} near its limit {times(row.times)} (up to {row.most_share:.1%} used), "
                f"{when}: {where}"
            )
        else:
            out.append(
                f"{name} used to the units bought {times(row.times)} ({where}): sized to the "
                "racks, more on offer, not a limit"
            )
    story = unspent_line(plan, table)
    if story:
        out.append(story)
    return out


def _money_line(plan) -> str:
    """Where money binds: the periods, what is left and the cheapest purchase."""
    money = money_limits(plan)
    bound = money[money["money_binds"]]
    text = spans(plan.scenario.periods, [p for p in bound["period"] if p != "total"])
    if (bound["period"] == "total").any():
        text = ", ".join(x for x in (text, "the total budget") if x)
    most = bound["unspent_usd"].max()
    if most <= (1 - BINDING_SHARE) * bound["budget_usd"].min():
        return f"{text}: spent to the budget"
    priced = bound.dropna(subset=["cheapest_usd"])
    cheapest = priced.loc[priced["cheapest_usd"].idxmin()] if len(priced) else None
    tail = f": up to {_usd(most)} left"
    if cheapest is not None:
        tail += (
            f", less than the cheapest purchase that adds compute ({cheapest.cheapest}, "
            f"{_usd(cheapest.cheapest_usd)})"
        )
    return text + tail


def unspent_line(plan, table: pd.DataFrame | None = None) -> str:
    """One sentence on the periods whose budget money does not limit: how much is left and
    which limits stop it buying more ("" when money limits every period with a budget)."""
    money = money_limits(plan)
    free = money[~money["money_binds"] & (money["period"] != "total")]
    if free.empty:
        return ""
    periods = list(free["period"])
    span = spans(plan.scenario.periods, periods)
    low, high = free["unspent_usd"].min(), free["unspent_usd"].max()
    left = _usd(low) if math.isclose(low, high) else f"{_usd(low)}-{_usd(high)}"
    waiting = free[free["cheapest_usd"].isna()]["period"].tolist()
    reasons = []
    if waiting:
        reasons.append(f"no rack type can operate yet in {', '.join(waiting)} (lead times)")
    util = plan.utilisation
    util = util[util["period"].isin(set(periods) - set(waiting))]
    util = util[(util["capacity"] > 0) & util["capacity"].notna()]
    full = util[util["used"] >= BINDING_SHARE * util["capacity"]]
    table = limits(plan) if table is None else table
    real = table[table["state"].isin(["binding", "capped"]) & (table["resource"] != "budget")]
    stops = list(dict.fromkeys(label(r) for r in real["resource"] if r in set(full["resource"])))
    if stops:
        reasons.append(f"{_join(stops)} bind{'s' if len(stops) == 1 else ''}")
    capped = real[(real["state"] == "capped") & real["resource"].isin(set(full["resource"]))]
    if len(capped):
        reasons.append(f"{by_option(', '.join(capped['capped_options']))} at their cap")
    if not reasons:
        reasons.append("the rack catalog and positions end there")
    whose = "its" if len(periods) == 1 else "each period's"
    return (
        f"In {span} money does not limit the plan: {left} of {whose} budget is left, "
        f"because {'; '.join(reasons)}."
    )


def spans(order: list[str], chosen: list[str]) -> str:
    """Periods as runs: ``2023Q1, 2023Q3-2024Q4``."""
    at = {p: t for t, p in enumerate(order)}
    runs: list[list[str]] = []
    for p in sorted(chosen, key=at.__getitem__):
        if runs and at[p] == at[runs[-1][-1]] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
