"""The Python API and the one pipeline: every algorithm trained from Python into a run folder
that the real `ganghwa` console script then evaluates, plots and resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import ganghwa
from ganghwa import checkpoint
from ganghwa.evaluation import PERIODIC_EVAL_SEED, evaluate

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
SMALL = {"eval_episodes": 2, "final_eval_episodes": 3, "video": False}

# (algo, env, settings): a short budget each, every algorithm of the registry
CASES = [
    ("dqn", "CartPole-v1", {"steps": 1200, "learning_starts": 200, "hidden": (32, 32),
                            "eval_every": 500, "checkpoint_every": 500}),
    ("deep_sarsa", "ganghwa/MovingObstacles-v0", {"steps": 600, "eval_every": 300,
                                                  "checkpoint_every": 300}),
    ("q_learning", "FrozenLake-v1", {"steps": 3000, "eval_every": 1000,
                                     "checkpoint_every": 1000}),
    ("value_iteration", "ganghwa/GridWorld-v0", {}),
    ("reinforce", "CartPole-v1", {"steps": 1500, "eval_every": 500, "checkpoint_every": 500}),
    ("a2c", "CartPole-v1", {"steps": 1600, "eval_every": 800, "checkpoint_every": 800}),
    ("ppo", "CartPole-v1", {"steps": 1024, "n_steps": 256, "batch_size": 64, "n_epochs": 2,
                            "eval_every": 512, "checkpoint_every": 512}),
    ("a3c", "CartPole-v1", {"steps": 2000, "workers": 1, "eval_every": 1000,
                            "checkpoint_every": 1000}),
    ("ga", "CartPole-v1", {"generations": 2, "population": 6, "workers": 1}),
]


def ganghwa_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "120"}
    return subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.mark.parametrize(("algo", "env_id", "settings"), CASES, ids=[c[0] for c in CASES])
def test_python_run_folder_is_a_cli_run_folder(algo, env_id, settings, tmp_path):
    outcome = ganghwa.train(algo, env_id, out=tmp_path / "runs", **SMALL, **settings)
    run = outcome.path
    for name in ("config.toml", "eval.json", "checkpoints/best.pt", "checkpoints/latest.pt"):
        assert (run / name).is_file(), name
    config = tomllib.loads((run / "config.toml").read_text())
    assert config["algo"] == algo and config["env_id"] == env_id
    report = json.loads((run / "eval.json").read_text())
    assert report == outcome.evaluation
    assert report["episodes"] == 3 and "final_policy" in report

    result = ganghwa_cli("eval", str(run), "--episodes", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # the CLI's table shows the same best.pt on the same seeds as eval.json
    assert f"{report['mean']:.1f} ±" in result.stdout
    if (run / "progress.csv").exists():  # DP has no learning curve, so nothing to plot
        result = ganghwa_cli("plot", str(run), "--out", str(tmp_path / "p.png"), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "p.png").stat().st_size > 5000
    if algo == "value_iteration":
        return
    longer = ["--set", "generations=3"] if algo == "ga" else [
        "--steps", str(2 * settings["steps"])]
    result = ganghwa_cli("resume", str(run), *longer, "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resumed = checkpoint.load_checkpoint(run / "checkpoints" / "latest.pt")["counters"]
    if algo == "ga":
        assert resumed["generation"] == 3
    else:
        assert resumed["step"] >= 2 * settings["steps"]


def test_presets_are_honoured_by_the_classes():
    tuned = ganghwa.DQN("CartPole-v1", preset="tuned").config
    plain = ganghwa.DQN("CartPole-v1").config
    assert tuned.preset == "tuned" and plain.preset == "none"
    # tuned.toml's CartPole recipe, not the general defaults (lr 1e-3, batch 128, 256-256)
    recipe = tomllib.loads((Path(ganghwa.__file__).parent / "presets" / "tuned.toml")
                           .read_text())["dqn"]["CartPole-v1"]
    for key, value in recipe.items():
        expected = tuple(value) if isinstance(value, list) else value
        assert getattr(tuned, key) == expected, key
    assert (plain.lr, plain.batch_size, plain.hidden) == (1e-3, 128, (256, 256))
    # a keyword beats the preset
    assert ganghwa.PPO("CartPole-v1", preset="tuned", lr=1e-4).config.lr == 1e-4


def test_an_agent_built_in_python_trains_through_the_pipeline(tmp_path):
    model = ganghwa.REINFORCE("CartPole-v1", total_steps=800, eval_every=400, eval_episodes=2,
                              final_eval_episodes=2, video=False, seed=4)
    outcome = ganghwa.train(model, out=tmp_path)
    assert outcome.agent is model and model.step >= 800
    assert outcome.evaluation["final_policy"]["step"] == model.step
    obs, _ = gym.make("CartPole-v1").reset(seed=0)
    action, _ = model.predict(obs)
    assert action in (0, 1)
    again = ganghwa.REINFORCE.load(outcome.path / "checkpoints" / "latest.pt")
    batch = np.stack([obs] * 3)
    assert np.array_equal(again.policy(batch), model.policy(batch))


def test_import_ganghwa_registers_its_envs():
    code = ("import gymnasium as gym, ganghwa, sys; gym.make('ganghwa/Snake-v0'); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # registering the envs imports no torch


def test_the_final_policy_is_evaluated_and_best_pt_is_the_best_of_all(tmp_path):
    """The protocol, checked against an independent evaluation of each checkpoint: the last
    periodic evaluation is at the final step, best.pt is the (latest) best of the evaluations,
    and eval.json names its step and reports the final policy's own figure."""
    total = 2500
    outcome = ganghwa.train("dqn", "CartPole-v1", out=tmp_path, steps=total, seed=1,
                            learning_starts=200, hidden=(32, 32), eval_every=1000,
                            eval_episodes=3, final_eval_episodes=4, video=False)
    run = outcome.path
    rows = np.loadtxt(run / "evaluations.csv", delimiter=",", skiprows=1, ndmin=2)
    assert list(rows[:, 0]) == [1000, 2000, total]  # the end of training is evaluated too
    best_row = max(range(len(rows)), key=lambda i: (rows[i, 1], i))
    report = outcome.evaluation
    assert report["checkpoint_step"] == rows[best_row, 0]
    best = checkpoint.load_checkpoint(run / "checkpoints" / "best.pt")
    latest = checkpoint.load_checkpoint(run / "checkpoints" / "latest.pt")
    assert best["step"] == report["checkpoint_step"]
    # the periodic protocol (eval_episodes on seed + PERIODIC_EVAL_SEED) reproduces the row
    again = evaluate(checkpoint.load_policy(best), "CartPole-v1", 3, 1 + PERIODIC_EVAL_SEED)
    assert again.mean == pytest.approx(rows[best_row, 1], rel=1e-5)
    final = evaluate(checkpoint.load_policy(latest), "CartPole-v1", 4, report["seed"])
    assert report["final_policy"]["mean"] == pytest.approx(final.mean)
    assert report["final_policy"]["step"] == total
