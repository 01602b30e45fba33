"""Joining Ray, shared by everything that scales out on it (A3C's actors, the GA's evaluators)."""

from __future__ import annotations

import os
from typing import Any

from ganghwa.errors import GanghwaError


def start_ray(workers: int) -> tuple[Any, bool]:
    """The ray module, initialised, and whether this call started it (and should shut it down).

    `ray.init` joins the cluster named by RAY_ADDRESS, or starts a local instance with at least
    `workers` CPUs, so that many one-CPU actors fit.
    """
    try:
        import ray
    except ImportError:
        raise GanghwaError("--backend ray needs Ray: pip install 'ganghwa[distributed]'") from None
    if ray.is_initialized():
        return ray, False
    address = os.environ.get("RAY_ADDRESS")
    ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
             num_cpus=None if address else max(workers, os.cpu_count() or 1))
    return ray, True
