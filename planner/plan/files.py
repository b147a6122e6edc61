"""Writing results so that nothing is ever half-written or mixed.

* :func:`write_text` writes one file in one step: to a temporary file beside it, then
  renamed over the old one, so a full disk or a crash leaves the old file whole.
* :class:`Staging` writes a folder of results (``plan.json``, its tables, its plots) as
  one: every file goes to a temporary first; only when all are written are they renamed
  into place, and the files of an earlier run (listed in the folder's ``.planner-files``)
  of the kinds this run writes (``.png``, ``.csv``, ...) but that it did not write are
  removed: a folder never mixes the plots of two solves. A lock (``.planner-lock``)
  keeps two runs from writing into one folder at once: the second is refused with a
  clear error.

Every failure of the disk or the path (read-only, full, a file where a folder should be)
is an :class:`OutputError` naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

try:  # POSIX: a lock the system releases if its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None

MANIFEST = ".planner-files"
LOCK = ".planner-lock"
#: what a results folder held before manifests were written: treated as this tool's files
KNOWN = (
    "plan.json",
    "racks.csv",
    "retrofits.csv",
    "halls.csv",
    "utilisation.csv",
    "spend.csv",
    "summary.csv",
    "clusters.csv",
    "timeline.png",
    "utilisation.png",
    "feasible.png",
    "clusters.png",
    "frontier.png",
    "bandwidth.png",
)


class OutputError(RuntimeError):
    """Results could not be written: the path and why."""


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only?)"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    return exc.strerror or str(exc)


def _folder(directory: Path, for_file: Path | None = None) -> None:
    """Make ``directory`` (and its parents), or say why it cannot be one (naming the file
    to be written in it, when there is one)."""
    head = f"{for_file}: cannot write it: {directory}" if for_file else f"{directory}"
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"{head}: is a file, not a folder: choose another --out")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{head}: cannot create the folder: {_reason(exc)}") from None


def _temporary(directory: Path, name: str) -> Path:
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{directory / name}: cannot write: {_reason(exc)}") from None
    os.close(fd)
    return Path(temp)


def _fill(temp: Path, target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(temp)``; on any failure remove the temporary and raise OutputError."""
    try:
        write(temp)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write: {_reason(exc)}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_file(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write one file in one step: ``write(temporary path)``, then rename it to ``path``."""
    path = Path(path)
    _folder(path.parent, path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file")
    temp = _temporary(path.parent, path.name)
    _fill(temp, path, write)
    try:
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write: {_reason(exc)}") from None
    return path


def check_writable(path: str | Path) -> Path:
    """Raise OutputError now if ``path`` could not be written later (its folder cannot be
    made, is read-only, or ``path`` is a folder): before a long run, not after it."""
    path = Path(path)
    _folder(path.parent, path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder, not a file")
    _temporary(path.parent, path.name).unlink()
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` in one step."""
    return write_file(path, lambda temp: temp.write_text(text, encoding="utf-8"))


class Staging:
    """A results folder written as one (see the module docstring). Use as a context
    manager: the files staged are committed when the block ends without an error, and
    dropped (the folder left as it was) when it raises::

        with Staging("out/fleet") as out:
            out.write("plan.json", lambda path: path.write_text(text))
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._staged: dict[str, Path] = {}
        self._lock = None

    def __enter__(self) -> Staging:
        _folder(self.directory)
        _temporary(self.directory, MANIFEST).unlink()  # writable at all? say so now
        self._take_lock()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self.commit()
            else:
                self.abort()
        finally:
            self._release_lock()

    def _take_lock(self) -> None:
        path = self.directory / LOCK
        try:
            handle = open(path, "a+")  # noqa: SIM115 - held until the commit
        except OSError as exc:
            raise OutputError(f"{self.directory}: cannot write there: {_reason(exc)}") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise OutputError(
                    f"{self.directory}: another planner run is writing there now; wait for "
                    "it to finish or choose another --out"
                ) from None
        self._lock = handle

    def _release_lock(self) -> None:
        # the lock file stays: unlinking it would let two later runs lock two files
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def write(self, name: str, write: Callable[[Path], None]) -> Path:
        """Stage the file ``name``: ``write(temporary path)`` writes it. Returns the path it
        will have once committed."""
        target = self.directory / name
        temp = _temporary(self.directory, name)
        _fill(temp, target, write)
        old = self._staged.pop(name, None)
        if old is not None:
            old.unlink(missing_ok=True)
        self._staged[name] = temp
        return target

    def text(self, name: str, text: str) -> Path:
        return self.write(name, lambda temp: temp.write_text(text, encoding="utf-8"))

    def _previous(self) -> set[str]:
        manifest = self.directory / MANIFEST
        try:
            return {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}
        except (OSError, UnicodeDecodeError):
            return {name for name in KNOWN if (self.directory / name).exists()}

    def commit(self) -> list[Path]:
        """Rename every staged file into place, remove the earlier run's other files, and
        record this run's files. Returns the paths written."""
        previous = self._previous()
        try:
            for name, temp in self._staged.items():
                os.replace(temp, self.directory / name)
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.directory}: cannot write: {_reason(exc)}") from None
        # an earlier run's files of the kinds written now (say its plots, when plots are
        # written) that this run did not write go; other kinds stay
        kinds = {Path(name).suffix for name in self._staged}
        stale = {n for n in previous - set(self._staged) if Path(n).suffix in kinds}
        for name in stale:
            if "/" not in name and name not in (MANIFEST, LOCK):
                with contextlib.suppress(OSError):
                    (self.directory / name).unlink(missing_ok=True)
        names = sorted(self._staged)
        kept = sorted((previous - stale) | set(names))
        self._staged = {}
        write_text(self.directory / MANIFEST, "".join(f"{n}\n" for n in kept))
        return [self.directory / n for n in names]

    def abort(self) -> None:
        """Drop every staged file; the folder stays as it was."""
        for temp in self._staged.values():
            temp.unlink(missing_ok=True)
        self._staged = {}
