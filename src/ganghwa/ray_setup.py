"""Scaling out, shared by A3C's workers and the GA's evaluators: how many workers this machine
can hold, worker processes that end with their coordinator, and joining Ray.

A worker is one process (a local one, or a Ray actor on this machine). Its coordinator is the
`ganghwa` process that started it and holds the run folder; nothing a worker does is saved
without it, so a worker whose coordinator is gone, whatever killed it, has no reason to go on
using a core.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from ganghwa import resources
from ganghwa.errors import GanghwaError, warn

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
"""The signals the coordinator handles as "stop and save" (runtime.InterruptFlag). A terminal's
Ctrl-C and hang-up, and Slurm's or systemd's SIGTERM, reach every process of the job at once;
the workers ignore them and are stopped by their coordinator, at a consistent point."""

PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that its coordinator is alive, where the kernel does not tell it."""

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def start_worker_process(parent: int) -> None:
    """The first call in a worker process started by the coordinator whose pid is `parent`.

    It ignores the stop signals (the coordinator's to handle), and it ends when the
    coordinator does: on Linux the kernel sends it SIGKILL the moment the coordinator exits,
    SIGKILL included (prctl PR_SET_PDEATHSIG); a coordinator that died before that call has
    already left this process to another parent, which getppid shows, so the check follows
    the call. Elsewhere, and as a second net (the kernel's signal follows the *thread* that
    started the worker, not the process), a daemon thread checks getppid every
    PARENT_CHECK_SECONDS.
    """
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_IGN)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """End this process when its parent `parent` ends, SIGKILL included (see above): what a
    non-daemonic worker needs, since only a daemonic one is ended by multiprocessing, and then
    only at a normal exit."""
    if sys.platform.startswith("linux"):  # without a libc to call, the thread still watches
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL),
                                                    0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True,
                     name="ganghwa-parent-watch").start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def check_workers(workers: int, per_worker: int, backend: str, what: str) -> None:
    """Before any worker starts: refuse a count whose processes cannot fit in memory (in one
    line, with the figure and the count that fits), and warn about more workers than CPUs.

    `per_worker` is the measured memory of one worker process. Workers on the Ray cluster of
    RAY_ADDRESS run on its machines, not this one, so they are not counted here.
    """
    if backend == "ray" and os.environ.get("RAY_ADDRESS"):
        return
    fits = max(1, int(resources.MEMORY_FRACTION * resources.available_memory() // per_worker))
    resources.require_memory(
        workers * per_worker, f"--workers {workers} ({what} processes of about "
        f"{resources.human_bytes(per_worker)} each)", f"pass --workers {fits} or fewer")
    cores = resources.cpu_count()
    if workers > cores:
        warn(f"--workers {workers} is more than the {cores} CPUs this process may use: the "
             f"workers will take turns on them and each runs slower; --workers {cores} is "
             "usually as fast")


def start_ray(workers: int) -> tuple[Any, bool]:
    """The ray module, initialised, and whether this call started it (and should shut it down).

    `ray.init` joins the cluster named by RAY_ADDRESS, or starts a local instance with at least
    `workers` CPUs, so that many one-CPU actors fit. A RAY_ADDRESS where no cluster answers is
    bad input (one line, exit 2): "auto" with no cluster on this machine, or a host:port that
    refuses a connection (Ray itself retries one for minutes). ray.init installs its own
    SIGTERM handler (sys.exit): the handlers in place before it are put back, so that SIGTERM
    still stops the run at a consistent point and saves it, as Ctrl-C does.
    """
    try:
        import ray
    except ImportError:
        raise GanghwaError("--backend ray needs Ray: pip install 'ganghwa[distributed]'") from None
    if ray.is_initialized():
        return ray, False
    address = os.environ.get("RAY_ADDRESS")
    no_cluster = GanghwaError(
        f"RAY_ADDRESS={address} but no Ray cluster is running there; start one with `ray "
        "start --head`, or unset RAY_ADDRESS to start a local one")
    if address and not _answers(address):
        raise no_cluster
    handlers = _signal_handlers()
    try:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING,
                 num_cpus=None if address else max(workers, os.cpu_count() or 1))
    except ConnectionError as e:
        if ray.is_initialized():  # pragma: no cover - a half-made connection
            ray.shutdown()
        if address:
            raise no_cluster from None
        raise GanghwaError(f"could not start a local Ray instance "
                           f"({str(e).strip().splitlines()[0]})") from None
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    return ray, True


def _answers(address: str, timeout: float = 5.0) -> bool:
    """Whether the GCS at a host:port address accepts a connection; other forms ("auto",
    ray://...) are left to ray.init."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or "/" in address:
        return True
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def _signal_handlers() -> dict[int, Any]:
    """The stop signals' handlers now, where this thread may set them (the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    numbers = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    return {n: signal.getsignal(n) for n in numbers if signal.getsignal(n) is not None}
