"""Independent solves at the same time, in worker processes on this machine.

An explanation re-solves one scenario tens of times, each solve independent of the others.
:func:`solve_many` runs them in plain worker processes (``python -m
planner.solving._pool_worker``: a fresh interpreter that never re-imports the caller's
script, so no ``__main__`` guard is needed, and whose HiGHS thread scheduler starts clean),
each solving with ``cores // workers`` threads so that the machine is not oversubscribed.
Jobs go to whichever worker is free. A worker that dies costs only the job it was running:
that job and any left over are solved here, one after another.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any


def default_workers(jobs: int) -> int:
    """Worker processes for ``jobs`` solves: one per core (``PLANNER_WORKERS`` where set),
    at most one per job."""
    text = os.environ.get("PLANNER_WORKERS", "").strip()
    cores = int(text) if text.isdigit() and int(text) > 0 else (os.cpu_count() or 1)
    return max(1, min(cores, jobs))


#: below this many seconds a solve is quicker here than a worker process is to start
QUICK_S = 1.0


def workers_for(jobs: int, seconds_each: float | None, workers: int | None = None) -> int:
    """Worker processes for ``jobs`` solves of about ``seconds_each`` each: ``workers`` when
    given, one (this process) for quick solves (under :data:`QUICK_S`), else
    :func:`default_workers`."""
    if workers is not None:
        return max(1, workers)
    if seconds_each is not None and seconds_each < QUICK_S:
        return 1
    return default_workers(jobs)


def threads_per_worker(workers: int) -> int:
    """Solver threads per worker so that workers x threads <= cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


class _Worker:
    """One worker process and the two pipes to it."""

    def __init__(self) -> None:
        to_child, self._send_fd = os.pipe()
        self._recv_fd, from_child = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "planner.solving._pool_worker", str(to_child), str(from_child)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(to_child, from_child),
        )
        os.close(to_child)
        os.close(from_child)
        self.send = Connection(self._send_fd, readable=False)
        self.receive = Connection(self._recv_fd, writable=False)

    def run(self, job: Callable, args: tuple) -> tuple[bool, Any]:
        """``(True, result)``, or ``(False, exception)`` raised by the job; raises OSError or
        EOFError when the process is gone."""
        self.send.send_bytes(pickle.dumps((job, args)))
        return pickle.loads(self.receive.recv_bytes())

    def close(self) -> None:
        self.send.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.receive.close()


def serve(read_fd: int, write_fd: int) -> None:
    """The worker's loop: read ``(job, args)``, answer ``(ok, result or exception)``, until
    the parent closes the pipe."""
    receive = Connection(read_fd, writable=False)
    send = Connection(write_fd, readable=False)
    while True:
        try:
            message = receive.recv_bytes()
        except EOFError:
            return
        try:
            job, args = pickle.loads(message)
            answer = (True, job(*args))
        except Exception as exc:  # handed back, raised in the parent
            answer = (False, exc)
        send.send_bytes(pickle.dumps(answer))


def solve_many(
    job: Callable[..., Any],
    args: Sequence[tuple],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``[job(*a) for a in args]``, in ``workers`` processes (None: :func:`default_workers`;
    1: in this process), in the order of ``args``. ``progress(done, total)`` is called (in
    this thread) as each finishes. ``job`` must be a module-level function and its
    arguments picklable; an exception it raises is raised here."""
    total = len(args)
    workers = default_workers(total) if workers is None else max(1, min(workers, total))
    results: list[Any] = [None] * total
    finished = [False] * total
    done = 0

    def record(i: int, value: Any) -> None:
        nonlocal done
        results[i], finished[i] = value, True
        done += 1
        if progress is not None:
            progress(done, total)

    if workers > 1:
        todo: queue.Queue = queue.Queue()
        for i in range(total):
            todo.put(i)
        answers: queue.Queue = queue.Queue()

        def drive() -> None:
            try:
                worker = _Worker()
            except OSError:
                answers.put(None)
                return
            try:
                while True:
                    try:
                        i = todo.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        answers.put((i, *worker.run(job, args[i])))
                    except (OSError, EOFError):  # the worker died: i is done here later
                        break
            finally:
                worker.close()
                answers.put(None)

        threads = [threading.Thread(target=drive, daemon=True) for _ in range(workers)]
        for thread in threads:
            thread.start()
        running, failure = workers, None
        while running:
            answer = answers.get()
            if answer is None:
                running -= 1
                continue
            i, ok, value = answer
            if ok:
                record(i, value)
            elif failure is None:  # stop handing out jobs, let the running ones end
                failure = value
                while not todo.empty():
                    todo.get_nowait()
        if failure is not None:
            raise failure
    for i in range(total):
        if not finished[i]:
            record(i, job(*args[i]))
    return results
