"""Progress of work made of many solves: a bar in a terminal (rich), in a notebook (tqdm,
or plain lines without it), or nothing."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def progress_bar(
    total: int, label: str, enabled: bool = True, unit: str = "point"
) -> Iterator[Callable[[], None]]:
    """A progress bar for ``total`` solves (or points); yields ``advance()``, called once
    each: the count done and left, with the time elapsed.
    rich on a terminal, tqdm in a notebook (plain lines without tqdm), nothing when not
    ``enabled``."""
    if not enabled:
        yield lambda: None
        return
    if _in_notebook():
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            with tqdm(total=total, desc=label, unit=unit) as bar:
                yield lambda: bar.update(1)
            return
        finished = itertools.count(1)
        yield lambda: print(f"{label}: {next(finished)}/{total} {unit}s", file=sys.stderr)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
