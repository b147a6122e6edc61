"""The child process of a time-limited HiGHS run (see :mod:`planner.solving.highs`)."""

import sys

from planner.solving.highs import _child_main

if __name__ == "__main__":
    _child_main(int(sys.argv[1]))
