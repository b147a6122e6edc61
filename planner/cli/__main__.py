"""``python -m planner.cli``: the ``planner`` command."""

from . import main

main()
