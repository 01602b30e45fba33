"""Worker processes, as they really fail: a coordinator killed with SIGKILL, a worker count the
machine cannot hold, a Ray cluster that is not there, a loss that diverges in a worker.

A coordinator's processes are found as it would be by hand: its children in /proc/*/stat. A
worker is "up" once it has run ray_setup.start_worker_process, which /proc/<pid>/status shows
as the stop signals (SIGHUP, SIGINT, SIGTERM) in its SigIgn mask.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from gymnasium.envs.classic_control import CartPoleEnv

from ganghwa import ray_setup
from ganghwa.errors import GanghwaError, GanghwaWarning
from ganghwa.resources import cpu_count

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "200"}
QUIET = ["--no-progress", "--no-video"]
STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


class HugeRewardCartPole(CartPoleEnv):
    """CartPole whose reward becomes 1e30 after 1,000 steps of one env: the squared value
    error overflows float32, so the loss of that worker's next rollout is inf."""

    def __init__(self, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.steps = 0

    def step(self, action):  # type: ignore[no-untyped-def]
        self.steps += 1
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, 1e30 if self.steps > 1_000 else reward, terminated, truncated, info


# ---------------------------------------------------------------- /proc helpers

def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    """Running or sleeping: not gone, and not a zombie waiting for its reaper."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def ignores_stop_signals(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(re.search(r"^SigIgn:\s*([0-9a-f]+)", status, re.M).group(1), 16)  # type: ignore[union-attr]
    return all(mask >> (s - 1) & 1 for s in STOP_SIGNALS)


def wait_for(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds until predicate() held."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def only_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ---------------------------------------------------------------- dying with the coordinator


@pytest.mark.parametrize("algo", ["a3c", "ga"])
def test_killing_the_coordinator_leaves_no_worker_within_5_s(algo, tmp_path):
    """SIGKILL gives the coordinator no chance to stop anything: its workers must go by
    themselves (the kernel's parent-death signal), and the resource tracker after them."""
    proc = subprocess.Popen([GANGHWA, "train", algo, "CartPole-v1", "--workers", "2",
                             "--backend", "local", "--steps", "10000000", *QUIET,
                             "--out", str(tmp_path / "runs")],
                            cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        def workers_up() -> bool:
            assert proc.poll() is None, proc.communicate()[1]
            workers = [c for c in children(proc.pid) if "spawn_main" in cmdline(c)]
            return len(workers) == 2 and all(ignores_stop_signals(w) for w in workers)

        wait_for(workers_up, 120, f"the {algo} workers to start")
        spawned = children(proc.pid)  # the workers and multiprocessing's resource tracker
        assert len(spawned) >= 2
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    seconds = wait_for(lambda: not any(alive(p) for p in spawned), 5,
                       f"the {algo} workers {spawned} to exit")
    print(f"{algo}: {len(spawned)} processes gone {seconds:.2f} s after the SIGKILL")


def test_a_sweep_runs_a3c_and_killing_its_driver_leaves_no_process_within_5_s(tmp_path):
    """A sweep's pool process runs A3C, which starts worker processes of its own (a daemonic
    pool process may not: "daemonic processes are not allowed to have children"). SIGKILL of
    the sweep's driver then ends the pool process, and that its A3C workers, by themselves."""
    proc = subprocess.Popen([GANGHWA, "sweep", "a3c", "CartPole-v1", "--seeds", "0-1",
                             "--steps", "10000000", "--workers", "1", "--name", "k"],
                            cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

    def descendants(pid: int) -> list[int]:
        return [d for c in children(pid) for d in (c, *descendants(c))]

    try:
        def a3c_workers_up() -> bool:
            assert proc.poll() is None, proc.communicate()[1]
            pool = [c for c in children(proc.pid) if "spawn_main" in cmdline(c)]
            return any(len([w for w in children(p) if "spawn_main" in cmdline(w)
                            and ignores_stop_signals(w)]) == 2 for p in pool)

        wait_for(a3c_workers_up, 120, "the sweep's run to start its two A3C workers")
        spawned = descendants(proc.pid)
        assert len(spawned) >= 3  # the pool process and its run's two workers, at least
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    seconds = wait_for(lambda: not any(alive(p) for p in spawned), 5,
                       f"the sweep's processes {spawned} to exit")
    print(f"sweep: {len(spawned)} processes gone {seconds:.2f} s after the SIGKILL")


def _orphan_script(use_kernel: bool) -> str:
    """A parent that starts one worker (no torch: a second) and prints its pid."""
    worker = textwrap.dedent(f"""
        import os, sys, time
        if not {use_kernel}:
            sys.platform = "other"  # no prctl: only the getppid watch is left
        from ganghwa.ray_setup import start_worker_process
        start_worker_process(os.getppid())
        time.sleep(60)
    """)
    return textwrap.dedent(f"""
        import subprocess, sys, time
        worker = subprocess.Popen([sys.executable, "-c", {worker!r}])
        print(worker.pid, flush=True)
        time.sleep(60)
    """)


@pytest.mark.parametrize("use_kernel", [True, False], ids=["pdeathsig", "getppid-watch"])
def test_a_worker_exits_when_its_parent_is_killed(use_kernel):
    parent = subprocess.Popen([sys.executable, "-c", _orphan_script(use_kernel)], env=ENV,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        wait_for(lambda: ignores_stop_signals(worker), 30, "the worker to start")
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    limit = 1.0 if use_kernel else ray_setup.PARENT_CHECK_SECONDS + 2.0
    wait_for(lambda: not alive(worker), limit, "the orphaned worker to exit")


def test_a_worker_whose_parent_died_before_it_started_exits_at_once():
    """The race prctl leaves: the parent died before the call, so no signal will ever come."""
    code = "from ganghwa.ray_setup import start_worker_process; start_worker_process(-5); " \
           "print('still running')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, env=ENV)
    assert result.returncode == 1 and "still running" not in result.stdout


# ---------------------------------------------------------------- how many workers fit

def test_more_workers_than_cpus_is_one_warning():
    cores = cpu_count()
    with pytest.warns(GanghwaWarning, match=rf"--workers {cores + 1} is more than the {cores} "
                                            "CPUs"):
        ray_setup.check_workers(cores + 1, 1, "local", f"{cores + 1} A3C worker")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ray_setup.check_workers(cores, 1, "local", f"{cores} A3C worker")


@pytest.mark.parametrize("algo", ["a3c", "ga"])
def test_a_worker_count_that_cannot_fit_is_refused_before_anything_starts(algo, tmp_path):
    result = subprocess.run([GANGHWA, "train", algo, "CartPole-v1", "--workers", "100000",
                             *QUIET, "--out", str(tmp_path / "runs")], cwd=tmp_path, env=ENV,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    line = only_error_line(result.stderr)
    assert re.search(r"--workers 100000 \(100000 .* processes of about [\d.]+ MiB each\) needs "
                     r"about [\d.]+ TiB, but this machine has [\d.]+ [GMT]iB available; pass "
                     r"--workers \d+ or fewer", line), line
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


# ---------------------------------------------------------------- divergence

def test_a3c_divergence_names_the_global_step(tmp_path):
    """A worker's inf loss stops the run as Diverged (exit 1), at the step of all workers
    together, not at its rollout's length (100), and keeps the last good checkpoint."""
    env_id = f"{__name__}:HugeRewardCartPole"
    result = subprocess.run(
        [GANGHWA, "train", "a3c", env_id, "--workers", "2", "--backend", "local", "--steps",
         "200000", *QUIET, "--out", str(tmp_path / "runs"), "--set", "eval_every=0",
         "checkpoint_every=500"],
        cwd=tmp_path, env={**ENV, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    match = re.search(r"the loss became (inf|nan) at step (\d+)", errors[0])
    assert match, errors[0]
    assert int(match.group(2)) > 1_000  # the diverging worker alone took more than 1,000
    assert "latest.pt is kept" in errors[0]


def test_an_env_error_in_a_worker_is_one_line_with_the_envs_exit_code(tmp_path):
    """The env's own error, raised in a worker, reaches the user as the coordinator would
    report it (EnvError, exit 1), with the worker named, not as an exit 2 with a type name."""
    result = subprocess.run(
        [GANGHWA, "train", "a3c", "tests.crashing_env:CrashingCartPole", "--workers", "2",
         *QUIET, "--out", str(tmp_path / "runs"), "--set", "n_steps=20", "eval_every=0"],
        cwd=tmp_path, env={**ENV, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=300)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(r"error: A3C worker \d failed: \S+CrashingCartPole's step\(\) raised "
                     "RuntimeError: the env broke", errors[0]), errors[0]


# ---------------------------------------------------------------- Ray

def _gcs_running() -> bool:
    return any("gcs_server" in cmdline(int(p)) for p in os.listdir("/proc") if p.isdigit())


def test_ray_address_auto_without_a_cluster_is_one_line(tmp_path):
    pytest.importorskip("ray")
    if _gcs_running():
        pytest.skip("a Ray instance is running on this machine: RAY_ADDRESS=auto would join it")
    result = subprocess.run([GANGHWA, "train", "a3c", "CartPole-v1", "--workers", "2",
                             "--backend", "ray", "--steps", "2000", *QUIET,
                             "--out", str(tmp_path / "runs")], cwd=tmp_path,
                            env={**ENV, "RAY_ADDRESS": "auto"}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert only_error_line(result.stderr) == (
        "ganghwa train: error: RAY_ADDRESS=auto but no Ray cluster is running there; start one "
        "with `ray start --head`, or unset RAY_ADDRESS to start a local one")
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_an_unreachable_ray_address_is_refused_at_once(monkeypatch):
    """Ray itself retries a host:port with no cluster for minutes."""
    import socket

    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is already on Ray (the local_ray fixture)")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(GanghwaError, match=rf"RAY_ADDRESS=127.0.0.1:{port} but no Ray cluster"):
        ray_setup.start_ray(2)
    assert time.monotonic() - start < 5 and not ray.is_initialized()


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def test_sigterm_on_ray_saves_and_leaves_no_ray_process(tmp_path):
    """SIGTERM stops an A3C run on the local Ray instance it started like Ctrl-C: it saves,
    kills its actors and shuts Ray down (Ray's own SIGTERM handler would just exit)."""
    pytest.importorskip("ray")
    proc = subprocess.Popen([GANGHWA, "train", "a3c", "CartPole-v1", "--workers", "2",
                             "--backend", "ray", "--steps", "10000000", *QUIET,
                             "--out", str(tmp_path / "runs"), "--set", "eval_every=0"],
                            cwd=tmp_path, env={k: v for k, v in ENV.items()
                                               if k != "RAY_ADDRESS"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def actors_up() -> bool:
            assert proc.poll() is None, proc.communicate()
            return sum("ray::_RayActorLearner" in cmdline(p)
                       for p in descendants(proc.pid)) == 2

        wait_for(actors_up, 180, "the Ray actors to start")
        started = descendants(proc.pid)
        time.sleep(1.0)  # a few gradients
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "SIGTERM" in stderr and "saved" in stderr, stderr
    assert list((tmp_path / "runs").glob("*/checkpoints/latest.pt"))
    seconds = wait_for(lambda: not any(alive(p) for p in started), 10,
                       "Ray's processes to exit")
    print(f"ray: {len(started)} processes gone {seconds:.2f} s after the run returned")


def test_a_failed_run_kills_its_ray_actors_on_a_ray_it_did_not_start(local_ray):
    """On a Ray this process did not start (a cluster, here the fixture's), a run that fails
    leaves Ray up but kills its actors, which would otherwise sit on their CPUs."""
    import threading

    from ganghwa.algos.a3c import A3C

    def actor_processes() -> list[int]:
        return [p for p in descendants(os.getpid()) if "ray::_RayActorLearner" in cmdline(p)]

    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.update(actor_processes())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    agent = A3C("tests.crashing_env:CrashingCartPole", workers=2, backend="ray",
                eval_every=0, n_steps=20)
    try:
        with pytest.raises(GanghwaError, match=r"A3C worker \d failed: .*the env broke"):
            agent.learn(50_000)
    finally:
        done.set()
        watcher.join()
    assert len(seen) == 2 and local_ray.is_initialized()
    wait_for(lambda: not any(alive(p) for p in seen), 10, "the actors to be killed")
