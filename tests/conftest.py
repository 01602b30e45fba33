import os

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# The suite runs two test processes at once (pytest-xdist, see pyproject.toml), each on one
# torch thread: a second OpenMP thread waiting for a busy core makes an update up to 30x
# slower (docs/benchmarks.md). Child processes (the CLI under test) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs for one test module (A3C's and the GA's actors)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
