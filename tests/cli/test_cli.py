"""The real `ganghwa` console script in a subprocess: happy paths, bad input, Ctrl-C, resume."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
FAST = ["--set", "hidden=32,32", "learning_starts=200", "eval_every=500", "eval_episodes=2",
        "final_eval_episodes=3", "checkpoint_every=500"]


def ganghwa(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "120"}
    return subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def progress_rows(run: Path) -> list[dict[str, str]]:
    with (run / "progress.csv").open() as f:
        return list(csv.DictReader(f))


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize("command", ["train", "eval", "record", "plot", "resume", "solve",
                                     "list"])
def test_every_command_has_help_with_examples(command, tmp_path):
    result = ganghwa(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "examples:" in result.stdout and "usage: ganghwa " + command in result.stdout


def test_train_writes_the_whole_run_folder_then_eval_record_plot(tmp_path):
    result = ganghwa("train", "dqn", "CartPole-v1", "--steps", "1500", "--seed", "3",
                     "--no-progress", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path / "runs")
    assert run.name.startswith("dqn-CartPole-v1-s3-")
    for name in ("config.toml", "progress.csv", "evaluations.csv", "curve.png", "eval.json",
                 "checkpoints/latest.pt", "checkpoints/best.pt"):
        assert (run / name).is_file(), name
    assert list(run.glob("events.out.tfevents.*"))
    assert (run / "curve.png").stat().st_size > 10_000
    videos = list((run / "videos").glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 1000
    config = (run / "config.toml").read_text()
    assert 'env_id = "CartPole-v1"' in config and "total_steps = 1500" in config
    rows = progress_rows(run)
    assert list(rows[0]) == ["step", "episode", "return", "length", "epsilon", "td_loss", "time"]
    assert int(rows[-1]["step"]) <= 1500 and len(rows) > 10
    summary = json.loads((run / "eval.json").read_text())
    assert summary["episodes"] == 3 and len(summary["returns"]) == 3
    assert 0 < summary["checkpoint_step"] <= 1500 and summary["final_policy"]["step"] == 1500
    # the final policy is evaluated like the periodic ones, but not twice at step 1500
    with (run / "evaluations.csv").open() as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [500, 1000, 1500]

    result = ganghwa("eval", str(run), "--episodes", "4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 episodes" in result.stdout and "±" in result.stdout

    result = ganghwa("record", str(run), "--format", "gif", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert list((run / "videos").glob("*.gif"))

    out = tmp_path / "both.png"
    result = ganghwa("plot", str(run), str(run), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0 and out.stat().st_size > 10_000


def test_list_shows_algorithms_presets_and_envs(tmp_path):
    result = ganghwa("list", cwd=tmp_path)
    assert result.returncode == 0
    for word in ("dqn", "tuned", "pytorch-tutorial", "blog-2021", "lab8", "lecture",
                 "CartPole-v1", "LunarLander-v3"):
        assert word in result.stdout
    assert "Pendulum-v1" not in result.stdout  # continuous actions: not offered for DQN


def test_users_own_env_class_trains(tmp_path):
    (tmp_path / "my_env.py").write_text('''
import gymnasium as gym
import numpy as np

class Corridor(gym.Env):
    """Walk right to the end of a corridor of 5 cells: +1 there, -0.01 per step."""
    def __init__(self, render_mode=None):
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.render_mode = render_mode
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos, self.t = 0, 0
        return np.array([0.0], np.float32), {}
    def step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1)); self.t += 1
        done = self.pos == 4
        return (np.array([self.pos / 4], np.float32), 1.0 if done else -0.01, done,
                self.t >= 50, {})
''')
    result = ganghwa("train", "dqn", "my_env:Corridor", "--steps", "600", "--no-video",
                     "--no-progress", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no tuned preset" in result.stdout
    assert (only_run(tmp_path / "runs") / "eval.json").is_file()


BAD_INPUTS = [
    (["train", "dqnn"], "Did you mean 'dqn'"),
    (["train", "dqn", "CartPol-v1"], "Did you mean 'CartPole-v1'"),
    (["train", "dqn", "CartPole-v1", "--preset", "tunde"], "Did you mean 'tuned'"),
    (["train", "dqn", "Pendulum-v1"], "discrete action space"),
    (["train", "--set", "lrr=0.1"], "unknown setting 'lrr'"),
    (["train", "--set", "batch_size=big"], "batch_size takes a int"),
    (["train", "--set", "lr=-0.001"], "lr must be positive"),
    (["train", "--set", "batch_size=512", "buffer_size=100"], "larger than buffer_size"),
    (["train", "--steps", "ten"], "invalid int value"),
    (["eval", "runs/nope"], "does not exist"),
    (["resume", "runs/nope"], "does not exist"),
    (["train", "dqn", "no_such_module:Env"], "cannot import module"),
    (["train", "q_learning", "CartPole-v1"], "use dqn for it"),
    (["train", "value_iteration", "LunarLander-v3"], "use dqn for it"),
    (["solve", "value_iteration", "no_model:Walk"], "needs the env's transition model P"),
    (["train", "q_learning", "--set", "gamma=1.5"], "gamma must lie in [0, 1]"),
    (["solve", "value_iteration", "FrozenLake-v1", "--gamma", "-0.1"], "gamma must lie in"),
    (["train", "sarsa", "FrozenLake-v1", "--set", "alpha=0"], "alpha must be positive"),
    (["train", "q_learning", "ganghwa/GridWorld-v0", "--env-kw", "desc=S../..."], "no goal"),
    (["solve", "value_iteration", "ganghwa/GridWorld-v0", "--env-kw", "desc=S#G"],
     "cannot be reached"),
    (["solve", "q_learning", "FrozenLake-v1"], "solve runs a DP method"),
    (["train", "ga", "--set", "population=1"], "at least 2 individuals"),
    (["train", "ga", "--set", "p_mutation=1.5"], "p_mutation must lie in [0, 1]"),
    (["train", "ga", "--set", "p_crossover=-0.1"], "p_crossover must lie in [0, 1]"),
    (["train", "ga", "Pendulum-v1"], "discrete action space"),
    (["train", "dqn", "CartPole-v1", "--set", "network=cnn"], "use --set network=mlp"),
    (["train", "dqn", "ganghwa/Snake-v0", "--env-kw", "obs_mode=pixels", "--set",
      "network=mlp"], "use --set network=cnn"),
    (["train", "a2c", "ganghwa/Snake-v0", "--env-kw", "obs_mode=pixels"], "use dqn or ga"),
    (["train", "dqn", "CarRacing-v3"], "use ganghwa/CarRacing-v0"),
    (["train", "dqn", "ganghwa/CarRacing-v0", "--env-kw", "actions=[[0,1],[1,0,0]]"],
     "(steer, gas, brake) triple"),
    (["train", "dqn", "ganghwa/Snake-v0", "--env-kw", "size=2"], "Snake needs size >= 4"),
    (["train", "reinforce", "CartPole-v1", "--num-envs", "4"], "num_envs must be exactly 1, got 4"),
    (["train", "ppo", "ganghwa/Snake-v0", "--env-kw", "obs_mode=pixels"], "PPO has no CNN yet"),
]

NO_MODEL_ENV = """
import gymnasium as gym


class Walk(gym.Env):
    observation_space = gym.spaces.Discrete(3)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, 0.0, True, False, {}
"""


@pytest.mark.parametrize("args, fragment", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_nothing_written(args, fragment, tmp_path):
    if "no_model:Walk" in args:
        (tmp_path / "no_model.py").write_text(NO_MODEL_ENV)
    before = sorted(tmp_path.iterdir())
    result = ganghwa(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0] and "Traceback" not in result.stderr
    assert sorted(p for p in tmp_path.iterdir() if p.name != "__pycache__") == before


def _trained_run(tmp_path: Path) -> Path:
    result = ganghwa("train", "--steps", "600", "--no-video", "--no-progress", *FAST,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return only_run(tmp_path / "runs")


def test_corrupt_and_mismatched_checkpoints_are_refused(tmp_path):
    run = _trained_run(tmp_path)
    (run / "checkpoints" / "best.pt").write_bytes(b"garbage")
    result = ganghwa("eval", str(run), cwd=tmp_path)
    assert result.returncode == 2 and "corrupt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    state["config"]["env_id"] = "Acrobot-v1"
    torch.save(state, run / "checkpoints" / "latest.pt")
    for command in ("resume", "eval"):
        extra = ["--checkpoint", "latest"] if command == "eval" else ["--steps", "900"]
        result = ganghwa(command, str(run), *extra, cwd=tmp_path)
        assert result.returncode == 2 and "mismatched" in result.stderr, result.stderr


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    result = ganghwa("train", "--steps", "3000", "--no-video", "--no-progress", "--set",
                     "hidden=16", "learning_starts=500", "checkpoint_every=250",
                     "reward_scale=1e38", "loss=mse", "max_grad_norm=none", "eval_every=0",
                     cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "loss became" in result.stderr and "Traceback" not in result.stderr
    assert "latest.pt is kept" in result.stderr
    run = only_run(tmp_path / "runs")
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    assert state["counters"]["step"] <= 750
    assert all(torch.isfinite(p).all() for p in state["q_net"].values())


def test_solve_prints_the_route_values_and_writes_a_value_map(tmp_path):
    result = ganghwa("solve", "value_iteration", "ganghwa/RoadTrip-v0", "--gamma", "1",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Seoul → Daejeon → Gwangju → Busan  (return -85)" in result.stdout
    assert "V(start) = -85.0000" in result.stdout
    result = ganghwa("solve", "policy_iteration", "FrozenLake-v1", "--png", "v.png",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "←" in result.stdout and "Q(s, a)" in result.stdout
    assert (tmp_path / "v.png").stat().st_size > 10_000


def test_tabular_run_folder_with_pictures_then_eval_and_resume(tmp_path):
    result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "30000", "--seed", "1",
                     "--set", "eval_every=10000", "checkpoint_every=10000", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path / "runs")
    for name in ("config.toml", "progress.csv", "curve.png", "values.png", "q_table.txt",
                 "eval.json", "checkpoints/best.pt", "checkpoints/latest.pt"):
        assert (run / name).is_file(), name
    assert (run / "values.png").stat().st_size > 10_000
    assert list((run / "videos").glob("*.mp4"))
    assert "Q-table of q_learning on FrozenLake-v1" in result.stdout
    assert "15 (3,3)" in (run / "q_table.txt").read_text()  # all 16 states, as printed
    rows = progress_rows(run)
    assert len(rows) > 500 and int(rows[-1]["step"]) == 30000
    result = ganghwa("eval", str(run), "--episodes", "50", cwd=tmp_path)
    assert result.returncode == 0 and "(best.pt, 50" in result.stdout
    assert "prob" not in result.stdout  # toy-text's transition probability is no score
    result = ganghwa("resume", str(run), "--steps", "40000", "--no-video", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert int(progress_rows(run)[-1]["step"]) == 40000


def test_ppo_preset_from_rl_zoo_runs_through_the_cli(tmp_path):
    result = ganghwa("train", "ppo", "CartPole-v1", "--steps", "3000", "--no-video",
                     "--no-progress", "--set", "eval_every=1500", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = (only_run(tmp_path / "runs") / "config.toml").read_text()
    assert 'lr_schedule = "linear"' in config and "n_epochs = 20" in config
    result = ganghwa("train", "ppo", "--set", "clip_range=-0.1", cwd=tmp_path)
    assert result.returncode == 2 and "clip_range must be positive" in result.stderr


def test_a3c_trains_with_local_workers_and_resumes(tmp_path):
    result = ganghwa("train", "a3c", "CartPole-v1", "--workers", "2", "--backend", "local",
                     "--steps", "3000", "--no-video", "--no-progress", "--set",
                     "eval_every=1500", "checkpoint_every=1500", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path / "runs")
    config = (run / "config.toml").read_text()
    assert "workers = 2" in config and 'backend = "local"' in config
    rows = progress_rows(run)
    assert len(rows) > 50 and 1500 < int(rows[-1]["step"]) <= 3000 + 2 * 100
    assert torch.load(run / "checkpoints" / "latest.pt", weights_only=True)["counters"][
        "step"] >= 3000
    assert not (run / "restarts.csv").exists()
    result = ganghwa("resume", str(run), "--steps", "4500", "--no-video", "--no-progress",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    assert state["counters"]["step"] >= 4500


@pytest.mark.parametrize("args,message", [
    (["a3c", "--workers", "0"], "workers must be at least 1, got 0"),
    (["dqn", "--workers", "2"], "--workers applies to a3c, ga, not dqn"),
    (["a3c", "--backend", "spark"], "backend must be one of local, ray, got 'spark'"),
    (["a3c", "--set", "n_epochs=4"], "A3C takes one gradient per rollout"),
])
def test_a3c_bad_input_is_one_line_and_exit_2(args, message, tmp_path):
    result = ganghwa("train", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "runs").exists()


def test_ga_trains_through_the_cli_and_plots_min_mean_max_fitness(tmp_path):
    result = ganghwa("train", "ga", "CartPole-v1", "--workers", "2", "--no-progress",
                     "--set", "generations=3", "population=8", "eval_episodes=2",
                     "final_eval_episodes=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path / "runs")
    rows = progress_rows(run)
    assert list(rows[0]) == ["step", "generation", "fitness_min", "fitness_mean",
                             "fitness_max", "time"]
    assert [int(r["generation"]) for r in rows] == [1, 2, 3]
    assert all(float(r["fitness_min"]) <= float(r["fitness_mean"]) <= float(r["fitness_max"])
               for r in rows)
    assert (run / "curve.png").stat().st_size > 10_000 and list((run / "videos").glob("*.mp4"))
    state = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    assert state["population"].shape[0] == 8 and state["counters"]["generation"] == 3
    result = ganghwa("resume", str(run), "--no-video", "--no-progress", "--set",
                     "generations=4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [int(r["generation"]) for r in progress_rows(run)] == [1, 2, 3, 4]


def test_snake_eval_reports_the_snake_length(tmp_path):
    result = ganghwa("train", "dqn", "ganghwa/Snake-v0", "--steps", "600", "--no-video",
                     "--no-progress", *FAST, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads((only_run(tmp_path / "runs") / "eval.json").read_text())
    assert summary["final_length_mean"] >= 1 and "info['length'] mean" in result.stdout
