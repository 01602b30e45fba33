"""Seeding, device choice and CPU thread count: the process-wide settings a run depends on."""

from __future__ import annotations

import os
import random
import signal
import threading
from typing import Any

import numpy as np
import torch

from ganghwa.errors import GanghwaError


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


def set_threads(requested: int, n_params: int, batch_size: int, device: torch.device) -> int:
    """Set torch's intra-op threads from the work in one minibatch pass.

    Measured on 2 cores (docs/benchmarks.md): a 256-256 MLP at batch 128 (~8.6M multiply-adds a
    pass) trains 14% faster on 2 threads; 128-128 and smaller gain nothing, so they stay on one.
    OMP_NUM_THREADS, when set, wins: several runs side by side should each use one thread, since
    OpenMP threads waiting for a busy core made one update 30x slower.
    """
    if requested > 0:
        threads = requested
    elif "OMP_NUM_THREADS" in os.environ:
        threads = torch.get_num_threads()
    elif device.type == "cuda" or n_params * batch_size < 4_000_000:
        threads = 1
    else:
        threads = min(4, len(os.sched_getaffinity(0)))
    torch.set_num_threads(threads)
    # Adam's second-moment estimates drift into subnormal floats, which are many times slower
    # on x86 CPUs; flushing them to zero changes no result that matters (measured: ~25% faster).
    torch.set_flush_denormal(True)
    return threads


class InterruptFlag:
    """First Ctrl-C asks the loop to stop at a consistent point and save; a second one aborts."""

    def __init__(self, enabled: bool):
        self.flag = False
        self._previous: Any = None
        if enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.flag:
            raise KeyboardInterrupt
        self.flag = True

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
