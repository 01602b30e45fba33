"""Seeding, device choice and CPU thread count: the process-wide settings a run depends on."""

from __future__ import annotations

import os
import random

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

    Measured on 2 cores (docs/benchmarks.md): an idle machine runs a 256-256 MLP at batch 128
    14% faster on 2 threads, but when another process holds a core (several seeds at once, a
    test suite) OpenMP's waiting threads made the same update 15x slower. MLP-sized work therefore
    stays on one thread; only large passes (CNNs on frames) spread over the cores.
    """
    if requested > 0:
        threads = requested
    elif device.type == "cuda" or n_params * batch_size < 50_000_000:
        threads = 1
    else:
        threads = min(4, len(os.sched_getaffinity(0)))
    torch.set_num_threads(threads)
    # Adam's second-moment estimates drift into subnormal floats, which are many times slower
    # on x86 CPUs; flushing them to zero changes no result that matters (measured: ~25% faster).
    torch.set_flush_denormal(True)
    return threads
