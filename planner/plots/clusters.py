"""The cluster map: where each training cluster stands and when it comes up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..plan import Plan
from .style import HATCHES, OKABE_ITO, _axes, _legend_outside

if TYPE_CHECKING:  # matplotlib is imported lazily: ``planner validate`` stays fast
    from matplotlib.axes import Axes


def cluster_map(plan: Plan, *, ax: Axes | None = None) -> Axes:
    """Halls by site on the vertical axis (a site's own row above its halls holds its
    site-domain clusters), periods on the horizontal; each training cluster is a block from
    the period it comes up to the end of the horizon, labelled with its kind and rack type,
    coloured by kind and hatched by rack type. A row with several clusters is split into
    lanes, one per cluster."""
    from matplotlib.patches import Patch, Rectangle

    sc = plan.scenario
    if not plan.has_plan:
        raise ValueError(f"the plan has no decisions (status {plan.status})")
    if not sc.cluster_kinds():
        raise ValueError("the scenario has no cluster kinds: there is no cluster to draw")
    order = {p: t for t, p in enumerate(sc.periods)}
    rows: list[tuple[str, str]] = []  # (site, hall or "") from the top down
    for site in sc.sites:
        if any(k.domain == "site" for k in sc.cluster_kinds()):
            rows.append((site.name, ""))
        rows += [(site.name, hall.name) for hall in site.halls]
    ax = _axes(ax, (11.0, max(3.0, 0.45 * len(rows) + 1.5)))
    kinds = [k.name for k in sc.cluster_kinds()]
    types = list(dict.fromkeys(plan.clusters["rack_type"])) if len(plan.clusters) else []
    n = len(sc.periods)
    for y, (site, hall) in enumerate(rows):
        here = plan.clusters[(plan.clusters["site"] == site) & (plan.clusters["hall"] == hall)]
        # one lane per cluster: each (kind, rack type) block appears as its count grows
        blocks = []
        for (kind, rack), group in here.groupby(["kind", "rack_type"], sort=False):
            counts = dict(zip(group["period"].map(order), group["count"], strict=True))
            last = 0
            for t in range(n):
                now = int(counts.get(t, 0))
                blocks += [(kind, rack, t)] * max(now - last, 0)
                last = max(last, now)
        lanes = max(len(blocks), 1)
        for lane, (kind, rack, t) in enumerate(blocks):
            height = 0.8 / lanes
            bottom = y - 0.4 + lane * height
            colour = OKABE_ITO[kinds.index(kind) % len(OKABE_ITO)]
            hatch = HATCHES[types.index(rack) % len(HATCHES)]
            ax.add_patch(
                Rectangle((t - 0.45, bottom), n - t - 0.1, height * 0.92, facecolor=colour,
                          edgecolor="#000000", hatch=hatch, linewidth=0.6)
            )  # fmt: skip
            if height >= 0.25:
                ax.text(t - 0.4, bottom + height * 0.46, f"{kind} · {rack}", va="center",
                        fontsize=7, color="#000000")  # fmt: skip
        ax.axhline(y + 0.5, color="#dddddd", linewidth=0.5)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(n), sc.periods, rotation=45 if n > 8 else 0)
    ax.set_yticks(range(len(rows)), [f"{s} (site)" if not h else f"{s}/{h}" for s, h in rows])
    ax.set_xlabel("period (a block starts when its cluster comes up)")
    ax.set_ylabel("hall (site rows: site-domain clusters)")
    total = plan.clustered_gpus()
    ax.set_title(
        f"{sc.name}: training clusters, {int(total.iloc[-1]):,} GPUs in clusters in "
        f"{sc.periods[-1]}"
    )
    handles = [
        Patch(facecolor=OKABE_ITO[i % len(OKABE_ITO)], edgecolor="#000000", label=kind)
        for i, kind in enumerate(kinds)
    ]
    handles += [
        Patch(facecolor="#ffffff", edgecolor="#000000", hatch=HATCHES[i % len(HATCHES)],
              label=rack)
        for i, rack in enumerate(types)
    ]  # fmt: skip
    _legend_outside(ax, handles, title="kind / rack type")
    return ax
