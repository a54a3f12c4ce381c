"""Resident memory of a process tree and the CPU others use, read from ``/proc`` (psutil is
not a dependency).

``RssSampler`` polls the summed ``VmRSS`` of a process and all its descendants (dbt runs as
a child of ``ozg run``) every ``interval`` seconds on a daemon thread and keeps
``(epoch seconds, bytes)`` samples, so that each sample can later be attributed to the
pipeline stage that was running at that moment (``stages.stage_peaks``). Pages shared
between processes count once per process, as in ``ps``/``top``. ``CpuShare`` measures how
many cores other processes kept busy meanwhile (``/proc/stat`` minus our own rusage).
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

PROC = Path("/proc")


def parse_vmrss(status_text: str) -> int:
    """Bytes of ``VmRSS`` in a ``/proc/<pid>/status`` text; 0 when absent (a zombie)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit.lower() != "kb":
                raise ValueError(f"unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    return 0


def parse_ppid(stat_text: str) -> int:
    """The parent pid in a ``/proc/<pid>/stat`` line; the command name (field 2) is in
    parentheses and may itself contain spaces or parentheses, so split after the last one."""
    return int(stat_text[stat_text.rindex(")") + 2 :].split()[1])


def descendants(root: int, parents: Mapping[int, int]) -> set[int]:
    """``root`` and every process below it, given pid → parent pid."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None  # the process ended between listing and reading


def _parents(pids: Iterable[int]) -> dict[int, int]:
    parents = {}
    for pid in pids:
        text = _read(PROC / str(pid) / "stat")
        if text:
            parents[pid] = parse_ppid(text)
    return parents


def tree_rss(root: int) -> int:
    """Summed VmRSS in bytes of ``root`` and its descendants (0 once it has ended)."""
    pids = [int(name) for name in os.listdir(PROC) if name.isdigit()]
    total = 0
    for pid in descendants(root, _parents(pids)):
        text = _read(PROC / str(pid) / "status")
        if text:
            total += parse_vmrss(text)
    return total


def parse_cpu_busy(stat_text: str, ticks_per_second: int) -> float:
    """Seconds all CPUs were busy since boot, from the ``cpu`` line of ``/proc/stat``
    (user, nice, system, irq, softirq, steal; guest time is inside user already)."""
    fields = stat_text.splitlines()[0].split()
    if fields[0] != "cpu":
        raise ValueError("/proc/stat does not start with the cpu line")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / ticks_per_second


def cpu_busy() -> float:
    return parse_cpu_busy((PROC / "stat").read_text(), os.sysconf("SC_CLK_TCK"))


def own_cpu() -> float:
    """CPU seconds of this process and of its waited-for descendants (an ``ozg run`` with
    its dbt children once it has been waited for)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class CpuShare:
    """How many cores other processes kept busy, on average, between ``start()`` and
    ``others()``: the machine is shared, and a busy neighbour slows every figure."""

    def start(self) -> CpuShare:
        self._busy, self._own, self._clock = cpu_busy(), own_cpu(), time.monotonic()
        return self

    def others(self) -> float:
        elapsed = time.monotonic() - self._clock
        foreign = (cpu_busy() - self._busy) - (own_cpu() - self._own)
        return max(foreign, 0.0) / elapsed if elapsed > 0 else 0.0


class RssSampler:
    """Samples ``tree_rss(pid)`` until ``stop()``; ``samples`` holds (time.time(), bytes)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        # Wait first: right after the fork, before its exec, the child still shows the
        # benchmark's own memory.
        while not self._stop.wait(self.interval):
            self.samples.append((time.time(), tree_rss(self.pid)))

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)
