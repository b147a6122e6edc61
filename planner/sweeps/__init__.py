"""Work made of many solves, run in parallel (local processes or a Dask cluster).

* :mod:`planner.solving.runners`: running a task on many points, locally or on
  ``dask.distributed`` (shared with the fleet search);
* :mod:`.grid`: :func:`sweep`, the cartesian product of what-if overrides;
* :mod:`.alternatives`: :func:`alternatives`, near-optimal plans that each push one metric.
"""

from .grid import RESULT_COLUMNS, check_out, grid_points, save_table, solve_point, sweep

__all__ = ["RESULT_COLUMNS", "check_out", "grid_points", "save_table", "solve_point", "sweep"]
