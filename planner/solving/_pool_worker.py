"""``python -m planner.solving._pool_worker READ_FD WRITE_FD``: a worker of
:func:`planner.solving.pool.solve_many`."""

import sys

from planner.solving.pool import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
