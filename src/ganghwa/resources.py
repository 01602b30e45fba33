"""What this machine can give a run: memory and CPUs, checked before anything is allocated.

A replay buffer of 10**9 transitions or a 100,000-wide network is accepted by numpy and torch
until the kernel's OOM killer ends the whole session; refusing with the figure first is the fix.
Linux only reports what a process may use through /proc/meminfo and the cgroup files, so they
are read here (psutil would do the same, but it is not a dependency of ganghwa).
"""

from __future__ import annotations

import os
from pathlib import Path

from ganghwa.errors import GanghwaError

MEMORY_FRACTION = 0.8
"""A run may plan to use at most this share of the memory available when it starts."""


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int:
    """Bytes a new allocation can take: MemAvailable, capped by the cgroup's limit (containers)."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    if available is None:  # not Linux: the physical memory, as the OS reports it
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            available = 1 << 62
    limit = _read_int("/sys/fs/cgroup/memory.max") or _read_int(
        "/sys/fs/cgroup/memory/memory.limit_in_bytes")
    if limit is not None and limit < 1 << 60:
        used = _read_int("/sys/fs/cgroup/memory.current") or _read_int(
            "/sys/fs/cgroup/memory/memory.usage_in_bytes") or 0
        available = min(available, max(limit - used, 0))
    return available


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def require_memory(nbytes: float, what: str, fix: str) -> None:
    """Refuse (GanghwaError, exit 2) a plan that needs more than MEMORY_FRACTION of the memory
    available now; `what` names the allocation and `fix` the setting that shrinks it."""
    available = available_memory()
    if nbytes > MEMORY_FRACTION * available:
        raise GanghwaError(f"{what} needs about {human_bytes(nbytes)}, but this machine has "
                           f"{human_bytes(available)} available; {fix}")


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask, which containers and taskset set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
