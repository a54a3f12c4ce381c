"""One writer per data directory, whoever starts the run.

``ozg run`` holds the lock for its whole run. A run the Dagster daemon or the UI launches
takes the same lock in each step process, through the ``ozg`` resource
(``pipelines/resources.py``), for as long as the step runs; so a scheduled step waits for
a manual ``ozg run`` (and the other way round) instead of writing the same raw landing,
normalised partition or warehouse at the same time. Steps of one such run are serialised
too: the lock is per data directory, not per run.

The lock is a ``filelock.FileLock`` on ``<data_dir>/.ozg-run.lock`` (an ``flock``, released
by the kernel when its process dies, so a killed run never leaves it behind). A process
that already holds it (``ozg run`` executing its jobs in process) takes it again for free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".ozg-run.lock"
_held: dict[Path, int] = {}  # lock file -> how often this process entered it


class DataDirBusy(RuntimeError):
    """Another process writes the data directory and did not let go in time."""


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / LOCK_NAME


@contextmanager
def data_dir_lock(
    data_dir: Path, *, timeout: float, on_wait: Callable[[str], object] = print
) -> Iterator[None]:
    """Hold the data directory's write lock; wait up to ``timeout`` s for it (0 = refuse at
    once), telling ``on_wait`` that it waits."""
    path = lock_path(data_dir)
    if path in _held:  # this process holds it already
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if timeout <= 0:
            raise DataDirBusy(
                f"another ozg run is using {data_dir} (lock {path}); refused"
            ) from None
        on_wait(f"another ozg run is using {data_dir}; waiting up to {timeout:g}s …")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise DataDirBusy(
                f"another ozg run kept {data_dir} locked for {timeout:g}s; gave up"
            ) from None
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        lock.release()
