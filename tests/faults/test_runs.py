"""Faults, as they really happen: signals sent, processes killed, disks filled, bad input.

Every test runs the real `ganghwa` console script in a subprocess. The tests that need root
and a tmpfs mount (a full disk, a read-only --out) skip with the reason where they cannot
mount; CI runs as root, so they run there.
"""

from __future__ import annotations

import csv
import errno
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "120"}
QUIET = ["--no-progress", "--no-video"]
SMALL_DQN = ["--set", "hidden=32,32", "learning_starts=300", "train_freq=8", "gradient_steps=1",
             "eval_every=0", "checkpoint_every=1000000", "target_update_interval=200",
             "final_eval_episodes=2"]


def ganghwa(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([GANGHWA, *args], cwd=cwd, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def runs_in(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []


def wait_for(predicate, timeout: float = 120, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def episodes(run: Path) -> list[tuple[str, ...]]:
    """progress.csv without the wall-clock column: what must match an uninterrupted run."""
    return [tuple(v for k, v in r.items() if k != "time") for r in rows(run / "progress.csv")]


def latest_step(run: Path) -> int:
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    return int(state["counters"]["step"])


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, result.stderr)


# ---------------------------------------------------------------- signals and hard kills

def test_every_stop_signal_saves_and_a_hard_kill_loses_only_seconds(tmp_path):
    """SIGINT, SIGTERM and SIGHUP each stop the run at a consistent point, save and print the
    resume hint (exit 128 + the signal); a SIGKILL loses at most the wall-clock checkpoint
    interval. After each, `resume` continues, and the final progress.csv has strictly
    increasing steps and is row for row the uninterrupted run's (wall time aside)."""
    args = ["train", "dqn", "CartPole-v1", "--steps", "24000", "--seed", "5", *QUIET,
            *SMALL_DQN, "checkpoint_seconds=0.25"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reference = ganghwa(*args, cwd=tmp_path / "a")
    assert reference.returncode == 0, reference.stderr
    expected = episodes(runs_in(tmp_path / "a" / "runs")[0])

    proc = start(*args, cwd=tmp_path / "b")
    run: Path | None = None
    reached = 0
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        def progressed(reached: int = reached) -> bool:
            found = runs_in(tmp_path / "b" / "runs")
            return bool(found) and (found[0] / "checkpoints" / "latest.pt").is_file() \
                and latest_step(found[0]) > reached + 1000
        wait_for(progressed, what=f"a checkpoint past step {reached + 1000} before {sig.name}")
        run = runs_in(tmp_path / "b" / "runs")[0]
        killed_at = time.time()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig), \
            stderr
        if sig != signal.SIGKILL:
            assert f"{sig.name}: stopped at step" in stderr and "ganghwa resume" in stderr
        else:  # checkpoint_seconds=0.25 (a save every ~1,000 steps here, so that four stops
            # fit in the budget): latest.pt is at most that (plus one save) old
            age = killed_at - (run / "checkpoints" / "latest.pt").stat().st_mtime
            assert age < 1.5, f"latest.pt was {age:.1f} s old at the kill"
        reached = latest_step(run)
        assert 0 < reached < 24000
        proc = start("resume", str(run), "--no-progress", cwd=tmp_path / "b")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert run is not None
    steps = [int(r["step"]) for r in rows(run / "progress.csv")]
    assert all(a < b for a, b in itertools.pairwise(steps))
    assert episodes(run) == expected
    assert not list(run.rglob("*.tmp"))


def test_a_run_that_diverges_before_its_first_checkpoint_leaves_no_folder(tmp_path):
    """The divergence message says what is kept; here nothing was, so the folder goes (and
    `last` cannot name an empty run)."""
    result = ganghwa("train", "--steps", "3000", *QUIET, "--set", "hidden=16",
                     "learning_starts=500", "checkpoint_every=100000", "checkpoint_seconds=0",
                     "reward_scale=1e38", "loss=mse", "max_grad_norm=none", "eval_every=0",
                     cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    one_line_error(result, "loss became", "no checkpoint had been written, so the run folder "
                   "is removed")
    assert runs_in(tmp_path / "runs") == []


# ---------------------------------------------------------------- one run per folder

def test_a_folder_in_use_refuses_a_second_resume_and_a_dead_holder_leaves_no_lock(tmp_path):
    proc = start("train", "q_learning", "FrozenLake-v1", "--steps", "100000000", *QUIET,
                 "--set", "checkpoint_seconds=0.5", "eval_every=0", cwd=tmp_path)
    try:
        wait_for(lambda: any((r / "checkpoints" / "latest.pt").is_file()
                             for r in runs_in(tmp_path / "runs")), what="a checkpoint")
        run = runs_in(tmp_path / "runs")[0]
        second = ganghwa("resume", str(run), "--no-progress", cwd=tmp_path)
        assert second.returncode == 2
        one_line_error(second, "is in use by process", str(proc.pid))
    finally:
        proc.kill()
        proc.communicate()
    # a kill mid-write leaves a temp file; the next holder of the folder removes it
    orphan = run / "checkpoints" / ".latest.pt.abc123.tmp"
    orphan.write_bytes(b"\0" * 1000)
    step = latest_step(run)
    resumed = ganghwa("resume", str(run), "--steps", str(step + 2000), *QUIET, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not orphan.exists()
    assert latest_step(run) == step + 2000


# ---------------------------------------------------------------- full disks

def _mount_tmpfs(path: Path, size: str, read_only: bool = False) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path):
    """A real full disk: a tmpfs with room for one checkpoint of this run, not two (the
    atomic writer needs the new file beside the old one)."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "1500k")
    try:
        result = ganghwa("train", "dqn", "CartPole-v1", "--steps", "100000", *QUIET, "--out",
                         str(disk), "--set", "hidden=32,32", "buffer_size=20000",
                         "checkpoint_every=2000", "eval_every=0", cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        one_line_error(result, "no space left", "latest.pt", "the previous version is kept",
                       "free at least")
        run = runs_in(disk)[0]
        step = latest_step(run)  # still loads, with weights_only=True
        assert step > 0 and step % 2000 == 0
        assert not list(run.rglob("*.tmp"))
    finally:
        _unmount(disk)


def test_a_write_that_finds_no_space_keeps_the_old_file(tmp_path, monkeypatch):
    """The same without a mount: os.replace raising ENOSPC, in this process."""
    from ganghwa.run import DiskFull, atomic_write_bytes

    target = tmp_path / "latest.pt"
    target.write_bytes(b"old")

    def no_space(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(DiskFull, match=r"latest.pt \(10.0 KiB\); the previous version is kept"):
        atomic_write_bytes(target, b"x" * 10240)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


# ---------------------------------------------------------------- bad input: one line, no folder

BROKEN_ENVS = textwrap.dedent('''
    import gymnasium as gym
    import numpy as np

    class Base(gym.Env):
        metadata = {"render_modes": []}
        def __init__(self, render_mode=None):
            self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
            self.action_space = gym.spaces.Discrete(2)
            self.t = 0
        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return self.obs(), {}
        def obs(self):
            return np.zeros(3, np.float32)
        def step(self, action):
            self.t += 1
            return self.obs(), 1.0, self.t >= 20, False, {}

    class WrongShape(Base):
        def obs(self):
            return np.zeros(4, np.float32)

    class WrongDtype(Base):
        def obs(self):
            return np.array(["a", "b", "c"])

    class RaisesInStep(Base):
        def step(self, action):
            raise RuntimeError("the simulator lost its connection")

    class RaisesLater(Base):
        def step(self, action):
            out = super().step(action)
            if self.t >= 15:
                raise RuntimeError("the simulator lost its connection")
            return out

    class NaNLater(Base):
        def obs(self):
            return np.full(3, np.nan if self.t >= 10 else 0.0, np.float32)
''')


@pytest.mark.parametrize(("args", "code", "fragments"), [
    (["dqn", "--set", "buffer_size=10000000000"], 2,
     ["replay buffer of 10,000,000,000 transitions needs about", "available"]),
    (["dqn", "--set", "buffer_size=1000000000"], 2, ["buffer_size"]),
    (["dqn", "--set", "hidden=100000,100000"], 2, ["MLP of hidden sizes 100000,100000"]),
    (["a2c", "--set", "hidden=100000,100000"], 2, ["--set hidden"]),
    (["dqn", "broken:WrongShape"], 2, ["reset() returned an observation of shape (4,)"]),
    (["dqn", "broken:WrongDtype"], 2, ["dtype <U1"]),
    (["dqn", "broken:RaisesInStep"], 2, ["step() raised RuntimeError: the simulator lost"]),
    (["dqn", "broken:RaisesLater", "--set", "learning_starts=10"], 1,
     ["step() raised RuntimeError", "fix the env"]),
    (["dqn", "broken:NaNLater", "--set", "learning_starts=10"], 1,
     ["returned an observation with NaN", "fix the env"]),
    (["dqn", "--device", "cuda"], 2, ["no CUDA GPU"]),
])
def test_bad_input_and_broken_envs_get_one_line_and_leave_no_folder(args, code, fragments,
                                                                    tmp_path):
    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    (tmp_path / "broken.py").write_text(BROKEN_ENVS)
    result = ganghwa("train", *args, "--steps", "3000", *QUIET, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    one_line_error(result, *fragments)
    assert runs_in(tmp_path / "runs") == []


def test_an_out_folder_that_cannot_be_written(tmp_path):
    (tmp_path / "a_file").write_text("")
    result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "100", *QUIET,
                     "--out", "a_file/runs", cwd=tmp_path)
    assert result.returncode == 2
    one_line_error(result, "cannot create a run folder in a_file/runs", "--out")
    result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "100", *QUIET,
                     "--out", "a_file", cwd=tmp_path)
    assert result.returncode == 2
    one_line_error(result, "cannot create a run folder in a_file (it is a file)")

    read_only = tmp_path / "ro"
    _mount_tmpfs(read_only, "1m", read_only=True)
    try:
        result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "100", *QUIET,
                         "--out", str(read_only), cwd=tmp_path)
        assert result.returncode == 2
        one_line_error(result, "Read-only file system", "--out")
    finally:
        _unmount(read_only)


def test_broken_logs_and_configs_get_one_line_or_are_read_around(tmp_path):
    """A garbage CSV row is left out with a warning (plot and resume go on); a config.toml
    that is nested absurdly deep, or whose algo was changed, gets one line."""
    result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "20000", *QUIET,
                     "--set", "checkpoint_every=10000", "eval_every=10000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = runs_in(tmp_path / "runs")[0]
    with (run / "progress.csv").open("a") as f:
        f.write("garbage,\x00,row\n")
    with (run / "evaluations.csv").open("a") as f:
        f.write("12x,oops\n")
    plotted = ganghwa("plot", str(run), cwd=tmp_path)
    assert plotted.returncode == 0, plotted.stderr
    assert "left out 1 malformed row(s)" in plotted.stderr and "Traceback" not in plotted.stderr
    resumed = ganghwa("resume", str(run), "--steps", "30000", *QUIET, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "eval.json").is_file()
    steps = [int(r["step"]) for r in rows(run / "progress.csv")]
    assert steps == sorted(steps) and steps[-1] > 20000
    evaluated = [int(r["step"]) for r in rows(run / "evaluations.csv")]
    assert len(evaluated) == 3 and evaluated == sorted(set(evaluated)) and evaluated[-1] == 30000

    config = (run / "config.toml").read_text()
    (run / "config.toml").write_text(config.replace('algo = "q_learning"', 'algo = "ppo"'))
    changed = ganghwa("eval", str(run), cwd=tmp_path)
    assert changed.returncode == 2
    one_line_error(changed, "does not know", "algo = 'ppo'", "put its algo back")

    (run / "config.toml").write_text(".".join(["a"] * 100_000) + " = 1\n")
    started = time.time()
    nested = ganghwa("resume", str(run), cwd=tmp_path)
    assert nested.returncode == 2 and time.time() - started < 30
    one_line_error(nested, "nested more than")


def test_files_follow_the_umask_and_odd_budgets_warn(tmp_path):
    script = (f"umask 027 && {GANGHWA} train dqn CartPole-v1 --steps 200 --no-progress "
              "--no-video --set learning_starts=1000 hidden=16 final_eval_episodes=1 "
              "total_steps=300")
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=ENV, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ganghwa: warning: --steps 300 is not more than learning_starts=1000" in result.stderr
    assert "--steps 200 and --set total_steps=300 both set total_steps; using total_steps=300" \
        in result.stderr
    run = runs_in(tmp_path / "runs")[0]
    for name in ("config.toml", "eval.json", "curve.png", "checkpoints/latest.pt",
                 "checkpoints/best.pt", "progress.csv"):
        assert (run / name).stat().st_mode & 0o777 == 0o640, name


def test_the_readme_corridor_trains_evaluates_and_notes_the_missing_video(tmp_path):
    """The README's own env, exactly as written there: no time limit and no rgb_array mode.
    Evaluation episodes are capped (and the cap stated), the video is skipped with one note."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(# my_env\.py: .*?)```", readme, re.S)
    assert block is not None
    (tmp_path / "my_env.py").write_text(block.group(1))
    started = time.time()
    result = ganghwa("train", "dqn", "my_env:Corridor", "--steps", "3000", "--env-kw",
                     "length=8", "--no-progress", "--set", "learning_starts=500", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert time.time() - started < 60
    notes = [line for line in result.stderr.splitlines() if line.startswith("ganghwa: warning")]
    assert any("no time limit" in n and "stop after 1,000 steps" in n for n in notes), notes
    assert any(n.startswith("ganghwa: warning: no video: my_env:Corridor has no rgb_array")
               for n in notes), notes
    assert "Traceback" not in result.stderr
    run = runs_in(tmp_path / "runs")[0]
    assert (run / "eval.json").is_file() and not (run / "videos").exists()
