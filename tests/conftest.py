import os
import signal

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# The suite runs two test processes at once (pytest-xdist, see pyproject.toml), each on one
# torch thread: a second OpenMP thread waiting for a busy core makes an update up to 30x
# slower (docs/benchmarks.md). Child processes (the CLI under test) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# A shell starts a background job (`pytest ... &`) with SIGINT ignored, and a process keeps an
# ignored signal across exec, as nohup relies on: the Ctrl-C tests would then see a run that
# rightly ignores SIGINT. Catching it here gives this process Python's usual KeyboardInterrupt,
# and every process it starts the default disposition.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# nohup does the same to SIGHUP, and the hang-up tests would see runs that never get it.
if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 CPUs for one test module (A3C's and the GA's actors)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


# The longest tests (tens of seconds each; `pytest --durations=40` lists them), so that each
# test process starts on its share of them and the quick ones fill in at the end. With
# pytest-xdist's worksteal, each of the N processes first gets one contiguous Nth of the
# collected list; a long test left at the end of one would run alone while the others idle.
LONG = ("test_readme.py::test_code_block_runs", "test_every_stop_signal",
        "test_deep_sarsa_reaches", "solves_cartpole", "survives_a_killed_worker",
        "test_a3c_trains_with_local_workers", "test_sigterm_on_ray",
        "test_python_run_folder_is_a_cli_run_folder", "test_train_writes_the_whole_run_folder",
        "test_ga_trains_through_the_cli", "test_dqn_trains_a_cnn", "test_dqn_learns_snake",
        "test_dueling_double_switches", "test_an_env_error_in_a_worker",
        "test_a3c_divergence_names", "test_broken_logs_and_configs",
        "test_on_ray_a_killed_workers_run", "test_a_sweep_stopped_by_ctrl_c",
        "test_a_tuning_study_resumes", "test_corrupt_and_mismatched_checkpoints",
        "test_tabular_run_folder_with_pictures", "test_the_notebook_runs_top_to_bottom",
        "test_noisy_nets_learn", "test_c51_learns")


def pytest_collection_modifyitems(config, items):
    """Deal the long tests in turn to the front of each process's share of the run order."""
    workers = config.getoption("numprocesses", None)
    workers = workers if isinstance(workers, int) and workers > 1 else 2
    long = [item for item in items if any(name in item.nodeid for name in LONG)]
    if not long or len(items) < workers * len(long):
        return
    chosen = set(long)
    short = [item for item in items if item not in chosen]
    size = -(-len(items) // workers)  # each process's share, rounded up
    ordered = []
    for k in range(workers):
        dealt = long[k::workers]
        take = max(0, min(size, len(items) - len(ordered)) - len(dealt))
        ordered += [*dealt, *short[:take]]
        short = short[take:]
    items[:] = [*ordered, *short]
