"""Seeding, device choice and CPU thread count: the process-wide settings a run depends on."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ganghwa.errors import GanghwaError
from ganghwa.ray_setup import STOP_SIGNALS  # the one list; workers ignore the same ones


def seed_everything(seed: int) -> None:
    """Seed Python, numpy's global RNG and torch; envs are seeded at reset."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    """'auto' takes the GPU when there is one; 'cuda' without one is a one-line error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise GanghwaError("--device cuda was asked for but no CUDA GPU is visible; "
                           "use --device cpu or auto")
    return torch.device(name)


def set_threads(requested: int = 0) -> int:
    """Set torch's intra-op threads: `requested`, else OMP_NUM_THREADS, else one.

    One by default, measured on 2 cores (docs/benchmarks.md): a second thread makes a
    256-256 MLP at batch 128 train ~14% faster on an idle machine, but when another process
    holds the other core, OpenMP's threads wait for it at every kernel and the same run is
    about 7x slower (73 s against 10.8 s). A steady 1x is worth more than a fragile 1.14x;
    `--set threads=2` takes the gain on a machine known to be idle. GPUs need no CPU threads.
    """
    if requested > 0:
        threads = requested
    elif "OMP_NUM_THREADS" in os.environ:
        threads = torch.get_num_threads()
    else:
        threads = 1
    torch.set_num_threads(threads)
    # Adam's second-moment estimates drift into subnormal floats, which are many times slower
    # on x86 CPUs; flushing them to zero changes no result that matters (measured: ~25% faster).
    torch.set_flush_denormal(True)
    return threads




class InterruptFlag:
    """The first stop signal asks the loop to stop at a consistent point and save; a second
    Ctrl-C aborts (KeyboardInterrupt). A repeated SIGTERM or SIGHUP does not: a dropped SSH
    session sends SIGHUP twice (the shell's, then the kernel's). A signal the process was
    started with ignored (`nohup` ignores SIGHUP) stays ignored. `signal` names the one that
    came, for the exit code and the message."""

    def __init__(self, enabled: bool):
        self.flag = False
        self.signal: str | None = None
        self._previous: dict[int, Any] = {}
        if enabled and threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                number = getattr(signal, name, None)
                if number is None or signal.getsignal(number) == signal.SIG_IGN:
                    continue
                self._previous[number] = signal.signal(number, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.flag:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.flag = True
        self.signal = signal.Signals(signum).name

    def restore(self) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, signal.SIG_DFL if previous is None else previous)
        self._previous = {}


@contextlib.contextmanager
def spawnable_main() -> Iterator[None]:
    """Start spawned processes within this. A spawned child first runs the parent's __main__
    file again; a script read from stdin (`python -`, `python - <<EOF`) has the file name
    "<stdin>", which does not exist, so every child died before it started and a sweep or an
    A3C run with workers failed without a word. Such a main is hidden from multiprocessing
    while processes start, as an interactive session's (which has no __file__) is."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or os.path.exists(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path
