"""`ganghwa sweep`, `compare` and `tune` through the real console script: a sweep stopped by a
terminal's Ctrl-C and rerun, a tuning study resumed from its storage, the bad inputs, and the
Ray path (a killed worker's run retried and resumed; run folders collected to the driver)."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.test_runs import wait_for

pytest.importorskip("optuna")
pytest.importorskip("rliable")

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "200"}
# q_learning on FrozenLake: about 300k steps/s, so a run's length is set by --steps alone
FAST = ["q_learning", "FrozenLake-v1"]


def ganghwa(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def steps_of(run: Path) -> list[int]:
    with (run / "progress.csv").open() as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def test_a_sweep_stopped_by_ctrl_c_finishes_on_rerun_and_never_redoes_a_run(tmp_path):
    args = ["sweep", *FAST, "--seeds", "0-3", "--steps", "600000", "--workers", "2",
            "--variant", "v:checkpoint_seconds=0.2 eval_every=0"]
    proc = subprocess.Popen([GANGHWA, *args], cwd=tmp_path, env=ENV, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    runs = tmp_path / "experiments" / "q_learning-FrozenLake-v1" / "runs"
    try:
        def second_pair_started() -> bool:  # so a run of the first pair has finished
            return any((runs / f"v-s{s}" / "checkpoints" / "latest.pt").is_file()
                       for s in (2, 3))
        wait_for(second_pair_started, 120, "a run of the second pair to checkpoint")
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole process group
        _stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "SIGINT: stopped" in stderr and "ganghwa sweep" in stderr, stderr
    assert "Traceback" not in stderr
    finished = {p.parent.name: p.stat().st_mtime_ns for p in runs.glob("*/eval.json")}
    cut = [p.name for p in runs.iterdir() if p.name not in finished]
    assert finished and cut, (finished, cut)
    for name in cut:  # saved at the stop, not lost
        assert (runs / name / "checkpoints" / "latest.pt").is_file() or \
            not (runs / name).exists()

    again = ganghwa(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"4 of 4 runs finished ({len(finished)} were already), 0 failed" in again.stdout
    for name, mtime in finished.items():  # never redone
        assert (runs / name / "eval.json").stat().st_mtime_ns == mtime
    for run in runs.iterdir():
        steps = steps_of(run)
        assert all(a < b for a, b in itertools.pairwise(steps)), run.name
        assert json.loads((run / "eval.json").read_text())["step"] == 600_000
    third = ganghwa(*args, cwd=tmp_path)
    assert "4 of 4 runs finished (4 were already)" in third.stdout

    compared = ganghwa("compare", str(runs.parent), cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    assert "v " in compared.stdout and "0.7" in compared.stdout  # FrozenLake's threshold
    with (runs.parent / "compare.csv").open() as f:
        (row,) = list(csv.DictReader(f))
    assert row["group"] == "v" and row["seeds"] == "4"
    assert float(row["iqm_low"]) <= float(row["iqm"]) <= float(row["iqm_high"])
    assert (runs.parent / "compare.png").stat().st_size > 10_000


def test_a_tuning_study_resumes_from_its_storage_and_its_best_preset_trains(tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("[alpha]\nfloat = [0.05, 0.5]\n\n[gamma]\nchoices = [0.9, 0.99]\n")
    args = ["tune", *FAST, "--seeds", "2", "--steps", "30000", "--space", str(space),
            "--pruner", "none"]
    first = ganghwa(*args, "--trials", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "(2 complete, 0 pruned, 0 failed)" in first.stdout, first.stdout
    root = tmp_path / "experiments" / "tune-q_learning-FrozenLake-v1"
    assert (root / "study.journal").is_file()
    assert sorted(p.name for p in (root / "trials").iterdir()) == [
        "t0-s0", "t0-s1", "t1-s0", "t1-s1"]  # every trial seed is an ordinary run folder
    # the settings not searched are the general defaults (no --preset), not the tuned preset
    assert 'preset = "none"' in (root / "trials" / "t0-s0" / "config.toml").read_text()

    second = ganghwa(*args, "--trials", "3", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "(3 complete, 0 pruned, 0 failed)" in second.stdout, second.stdout
    assert len(list((root / "trials").iterdir())) == 6  # one more trial, not three
    assert (root / "tune.png").stat().st_size > 10_000

    best = root / "best.toml"
    assert "[q_learning.FrozenLake-v1]" in best.read_text()
    trained = ganghwa("train", *FAST, "--preset", str(best), "--steps", "2000",
                      "--no-progress", "--no-video", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "runs").iterdir()
    config = (run / "config.toml").read_text()
    assert f'preset = "{best}"' in config
    value = [line for line in best.read_text().splitlines() if line.startswith("alpha")]
    assert value and value[0] in config


BAD = [
    (["sweep", *FAST, "--variant", "a:nosuch=1"], "variant 'a'", "nosuch"),
    (["sweep", *FAST, "--variant", "a:preset=nosuch"], "unknown preset 'nosuch'", ""),
    (["sweep", *FAST, "--seeds", "3-1"], "is not a seed range", "0-9"),
    (["sweep", *FAST, "--seeds", "0-x"], "is not a seed range", ""),
    (["sweep", *FAST, "--grid", "alpha"], "is not key=v1,v2", "--grid"),
    (["sweep", *FAST, "--grid", "alpha=0.1,x"], "alpha", ""),
    (["sweep", *FAST, "--variant", "a:alpha=0.1", "--variant", "a:alpha=0.2"], "twice", ""),
    (["tune", *FAST, "--trials", "0"], "--trials must be at least 1", ""),
    (["tune", "dqn", "CartPole-v1", "--storage", "sqlite:////nonexistent/folder/study.db"],
     "cannot be opened", "--storage"),
    (["tune", "dqn", "CartPole-v1", "--storage", "postgresql://nobody@127.0.0.1:1/none"],
     "cannot be opened", ""),
    (["tune", "dqn", "CartPole-v1", "--space", "SPACE"], "'learning_rate' is not a dqn setting",
     "ganghwa list --config dqn"),
    (["tune", "reinforce", "CartPole-v1"], "no search space for reinforce", "--space FILE"),
    (["compare", "nowhere"], "does not exist", ""),
]


@pytest.mark.parametrize(("args", "message", "also"), BAD, ids=[
    "variant-key", "preset", "seeds-reversed", "seeds-text", "grid-form", "grid-value",
    "variant-twice", "trials", "storage-sqlite", "storage-postgres", "space-key", "no-space",
    "compare-path"])
def test_bad_input_is_one_line_and_exit_2_before_any_run(args, message, also, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("[learning_rate]\nfloat = [1e-4, 1e-3]\n")
    result = ganghwa(*[str(space) if a == "SPACE" else a for a in args], cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and also in lines[0], result.stderr
    assert not list(tmp_path.glob("experiments/*/runs/*")) and not list(
        tmp_path.glob("experiments/*/trials/*"))


def test_on_ray_a_killed_workers_run_is_retried_and_resumed_and_collect_brings_runs_back(
        tmp_path):
    pytest.importorskip("ray")
    env = {k: v for k, v in ENV.items() if k != "RAY_ADDRESS"}
    args = [GANGHWA, "sweep", *FAST, "--seeds", "0-1", "--steps", "2000000", "--backend", "ray",
            "--variant", "v:checkpoint_seconds=0.2 eval_every=0"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    runs = tmp_path / "experiments" / "q_learning-FrozenLake-v1" / "runs"
    try:
        wait_for(lambda: (runs / "v-s0" / "checkpoints" / "latest.pt").is_file(), 180,
                 "the first checkpoint on a Ray worker")
        marker = runs / "v-s0" / "kept.txt"  # a resumed run keeps its folder
        marker.write_text("the folder from before the kill")
        pid = int((runs / "v-s0" / ".lock").read_text().split()[1])  # "process PID (...)"
        os.kill(pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "2 of 2 runs finished (0 were already), 0 failed" in stdout, stdout
    assert marker.is_file()
    steps = steps_of(runs / "v-s0")
    assert all(a < b for a, b in itertools.pairwise(steps))
    assert json.loads((runs / "v-s0" / "eval.json").read_text())["step"] == 2_000_000

    collected = subprocess.run(
        [GANGHWA, "sweep", *FAST, "--seeds", "0", "--steps", "20000", "--backend", "ray",
         "--ray-files", "collect", "--name", "collected"], cwd=tmp_path, env=env, text=True,
        capture_output=True, timeout=300)
    assert collected.returncode == 0, collected.stderr
    run = tmp_path / "experiments" / "collected" / "runs" / "default-s0"
    for name in ("config.toml", "eval.json", "progress.csv", "checkpoints/latest.pt"):
        assert (run / name).is_file(), name


def test_a_sweep_with_workers_from_a_script_on_stdin(tmp_path):
    """`python -` (a README block, a heredoc): spawned workers re-run the parent's main file,
    which is "<stdin>" there; every run failed at once, and silently, before the fix."""
    import subprocess
    import sys

    script = ("import ganghwa\n"
              "s = ganghwa.sweep('q_learning', 'FrozenLake-v1', seeds='0-1', steps=2000, "
              "workers=2)\n"
              "print([r.status for r in s.results])\n")
    done = subprocess.run([sys.executable, "-"], input=script, cwd=tmp_path, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "['done', 'done']", done.stderr[-2000:]
