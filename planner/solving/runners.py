"""Running many solves at once: in local worker processes, in this process, or as tasks on
a ``dask.distributed`` cluster. A task is a module-level function
``task(payload, point, options) -> dict`` that never raises (its failures are rows);
the runners call ``done(i, row)`` as each point finishes, in any order.

Solver threads: each local worker process solves with ``max(1, cores // workers)``
threads (``PLANNER_THREADS``); on Dask, each worker process with ``max(1, cores of its
host // threads of all workers on that host)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Task = Callable[[dict, dict, dict], dict]
#: seconds to reach a Dask scheduler by its address before giving up
CONNECT_S = 30


def set_threads(threads: int | None) -> None:
    """Solver threads for solves in this process (``PLANNER_THREADS``)."""
    if threads:
        os.environ["PLANNER_THREADS"] = str(threads)


# -- local processes -------------------------------------------------------------------------
def _threads_per_worker(workers: int) -> int:
    """Solver threads per worker so that workers x threads <= cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def _lane(threads: int) -> cf.ProcessPoolExecutor:
    """One worker process (spawned: safe beside solver and client threads) for one point
    at a time, so that a process that dies is charged to the point it was solving."""
    return cf.ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=set_threads,
        initargs=(threads,),
    )


class Local:
    """``workers`` local worker processes kept for several batches of points (spawning one
    costs about a second: a search runs hundreds of batches)."""

    def __init__(self, workers: int):
        self.lanes = workers
        self.threads = _threads_per_worker(workers)
        self.pools = [_lane(self.threads) for _ in range(workers)]

    def run(self, task: Task, payload, points, options, done: Callable[[int, dict], None]) -> None:
        """Solve ``points``, calling ``done(i, row)`` as each finishes. A worker process
        that dies is replaced; its point is an ``error`` row."""
        queue = iter(enumerate(points))
        running: dict[cf.Future, tuple[int, int]] = {}  # future -> (lane, point)

        def feed(lane: int) -> None:
            """Hand the next point, if any, to the lane."""
            nxt = next(queue, None)
            if nxt is not None:
                i, point = nxt
                running[self.pools[lane].submit(task, payload, point, options)] = (lane, i)

        for lane in range(self.lanes):
            feed(lane)
        while running:
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                lane, i = running.pop(future)
                try:
                    row = future.result()
                except Exception as exc:  # the process died (killed, out of memory, crash)
                    row = {"status": "error", "error": f"worker process failed: {exc!r}"}
                    self.pools[lane].shutdown(wait=False, cancel_futures=True)
                    self.pools[lane] = _lane(self.threads)
                done(i, row)
                feed(lane)

    def close(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


def run_local(
    task: Task,
    payload: dict,
    points: list[dict],
    options: dict,
    workers: int,
    done: Callable[[int, dict], None],
) -> None:
    """Solve ``points`` in ``workers`` worker processes, calling ``done(i, row)`` as each
    finishes. A worker process that dies is replaced; its point is an ``error`` row."""
    local = Local(workers)
    try:
        local.run(task, payload, points, options, done)
    finally:
        local.close()


class Inline:
    """This process, one point after another, with this process's threads."""

    lanes = 1

    def run(self, task: Task, payload, points, options, done: Callable[[int, dict], None]) -> None:
        run_inline(task, payload, points, options, done)

    def close(self) -> None:
        pass


def run_inline(task: Task, payload, points, options, done: Callable[[int, dict], None]) -> None:
    """Solve every point in this process, one after another, with this process's threads."""
    for i, point in enumerate(points):
        done(i, task(payload, point, options))


# -- dask ------------------------------------------------------------------------------------
def _host_and_cores() -> tuple[str, int]:
    """This machine's name and core count (run on each Dask worker)."""
    return socket.gethostname(), os.cpu_count() or 1


def _dask_threads(client) -> dict[str, int]:
    """Solver threads for each Dask worker: its host's cores shared among the threads of
    every worker on that host (at least 1)."""
    facts = client.run(_host_and_cores)
    nthreads = client.nthreads()
    per_host = Counter()
    for address, (host, _) in facts.items():
        per_host[host] += nthreads.get(address) or 1
    return {address: max(1, cores // per_host[host]) for address, (host, cores) in facts.items()}


def _dask_task(task: Task, payload, point, options, threads_by_worker) -> dict[str, Any]:
    """``task`` on a Dask worker, with that worker's solver threads (1 for a worker that
    joined after the work started)."""
    from distributed import get_worker

    set_threads(threads_by_worker.get(get_worker().address, 1))
    return task(payload, point, options)


class Dask:
    """The workers of a ``dask.distributed`` client, with solver threads per worker fixed
    when it was opened."""

    def __init__(self, client):
        self.client = client
        self.threads = _dask_threads(client)
        self.lanes = max(1, sum(client.nthreads().values()))

    def run(self, task: Task, payload, points, options, done: Callable[[int, dict], None]) -> None:
        """Solve ``points`` as tasks, calling ``done`` as each finishes; a task that fails
        (a worker lost too often) is an ``error`` row."""
        from distributed import as_completed

        futures = {
            self.client.submit(
                _dask_task, task, payload, point, options, self.threads, pure=False
            ): i
            for i, point in enumerate(points)
        }
        for future in as_completed(futures):
            try:
                row = future.result()
            except Exception as exc:
                row = {"status": "error", "error": f"dask task failed: {type(exc).__name__}: {exc}"}
            done(futures[future], row)

    def close(self) -> None:
        pass


@contextmanager
def dask_client(client) -> Iterator[Any]:
    """The given Client, or one connected to a scheduler address (closed afterwards)."""
    if not isinstance(client, str):
        yield client
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise ImportError(
            "work on a Dask cluster needs dask.distributed: pip install 'dc-retrofit-planner[dask]'"
        ) from exc
    connected = Client(client, timeout=CONNECT_S)
    try:
        yield connected
    finally:
        connected.close()


def check_workers(workers: int | None) -> None:
    """ValueError unless ``workers`` is None or a whole number >= 1."""
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")


@contextmanager
def runner(workers: int | None = None, client: Any = None) -> Iterator[Local | Inline | Dask]:
    """Where batches of points run, kept open for many of them: the Dask ``client`` (a
    Client or a scheduler address) when given, else ``workers`` local processes (default
    one per core; one runs in this process). Its ``lanes`` is how many points it solves at
    once; ``run(task, payload, points, options, done)`` solves a batch."""
    if client is not None:
        with dask_client(client) as connected:
            yield Dask(connected)
        return
    count = workers if workers is not None else (os.cpu_count() or 1)
    opened = Inline() if count <= 1 else Local(count)
    try:
        yield opened
    finally:
        opened.close()


def run_points(
    task: Task,
    payload: dict,
    points: list[dict],
    options: dict,
    done: Callable[[int, dict], None],
    workers: int | None = None,
    client: Any = None,
) -> None:
    """Run ``task`` on every point: on the Dask ``client`` (a Client or a scheduler
    address) when given, else in ``workers`` local processes (default one per core, never
    more than there are points; one runs in this process)."""
    count = None if client is not None else min(workers or os.cpu_count() or 1, len(points))
    with runner(count, client) as opened:
        opened.run(task, payload, points, options, done)
