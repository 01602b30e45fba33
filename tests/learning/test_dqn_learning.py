"""Short fixed-seed runs that must really learn, and the same seed giving the same curve."""

import numpy as np
import pytest

from ganghwa import DQN, DQNConfig
from ganghwa.config import apply, preset_values
from ganghwa.run import Run, read_progress
from tests.greedy import greedy_eval

pytestmark = pytest.mark.learning


def tuned_cartpole(**overrides):
    values, _ = preset_values("tuned", "dqn", "CartPole-v1")
    return apply(DQNConfig(), {**values, **overrides})


def test_dqn_learns_cartpole_to_195_with_a_fixed_seed():
    # stop_at 200 ends the run as soon as 10 greedy episodes average 200 (Tianshou's habit of
    # stopping at a threshold below the maximum); 20 fresh episodes must then average >= 195.
    cfg = tuned_cartpole(seed=0, total_steps=30_000, stop_at=200.0)
    model = DQN("CartPole-v1", config=cfg).learn()
    result = greedy_eval(model, 20, seed=12345)
    assert result.mean >= 195, (model.step, result.returns)
    random_like = greedy_eval(DQN("CartPole-v1", config=cfg), 20, seed=12345)
    assert random_like.mean < 100  # the untrained network does not balance the pole


def test_dueling_double_switches_learn_too():
    cfg = tuned_cartpole(seed=1, total_steps=30_000, stop_at=200.0, dueling=True)
    model = DQN("CartPole-v1", config=cfg).learn()
    assert greedy_eval(model, 20, seed=999).mean >= 195


def test_prioritized_replay_learns_and_resumes_its_priorities(tmp_path):
    cfg = tuned_cartpole(seed=2, total_steps=30_000, stop_at=200.0, prioritized=True)
    model = DQN("CartPole-v1", config=cfg).learn()
    assert greedy_eval(model, 20, seed=777).mean >= 195
    # the priorities have moved off their start, and a full checkpoint keeps them exactly
    tree = model.priorities.tree
    assert model.priorities.max_priority > 1.0 and tree.total > 0
    model.save(tmp_path / "full.pt", full=True)
    again = DQN.load(tmp_path / "full.pt")
    assert np.array_equal(again.priorities.tree.tree, tree.tree)
    assert again.priorities.max_priority == model.priorities.max_priority


def test_n_step_returns_learn_and_resume_their_window(tmp_path):
    cfg = tuned_cartpole(seed=3, total_steps=40_000, n_step=3)  # stops at a perfect 500
    model = DQN("CartPole-v1", config=cfg).learn()
    assert greedy_eval(model, 20, seed=4242).mean >= 195
    # CartPole pays 1 a step: a 3-step return inside an episode is 1 + γ + γ², discount γ³
    buffer, g = model.replay_buffer, cfg.gamma
    inside = buffer.discounts[: len(buffer)] == np.float32(g**3)
    assert inside.mean() > 0.9
    assert np.allclose(buffer.rewards[: len(buffer)][inside], 1 + g + g**2)
    model.save(tmp_path / "full.pt", full=True)
    again = DQN.load(tmp_path / "full.pt")
    assert np.array_equal(again.n_step_window.obs, model.n_step_window.obs)
    assert np.array_equal(again.n_step_window.count, model.n_step_window.count)


def test_c51_learns_through_autograd_and_with_the_other_switches():
    cfg = tuned_cartpole(seed=0, total_steps=40_000, stop_at=200.0, distributional=True)
    model = DQN("CartPole-v1", config=cfg)
    assert "C51" in model.fast_path_off  # trained through autograd, and it says why
    model.learn()
    assert greedy_eval(model, 20, seed=5151).mean >= 195
    # every switch together trains (a few updates): C51, dueling, n-step, prioritized, noisy
    both = DQN("CartPole-v1", config=tuned_cartpole(
        seed=0, total_steps=1_500, learning_starts=500, distributional=True, dueling=True,
        n_step=3, prioritized=True, noisy=True, n_atoms=11, eval_every=0)).learn()
    assert both.updates > 0 and both.priorities.max_priority > 1.0


def test_noisy_nets_learn_without_epsilon():
    cfg = tuned_cartpole(seed=0, total_steps=50_000, stop_at=200.0, noisy=True)
    model = DQN("CartPole-v1", config=cfg).learn()
    assert model.epsilon == 0.0
    assert greedy_eval(model, 20, seed=2024).mean >= 195


def test_same_seed_gives_the_same_curve(tmp_path):
    curves = []
    for name in ("a", "b"):
        run = Run.create(tmp_path / name, "dqn", "CartPole-v1", 4)
        cfg = tuned_cartpole(seed=4, total_steps=4_000, eval_every=0, learning_starts=500)
        DQN("CartPole-v1", config=cfg).learn(run=run)
        progress = read_progress(run.progress_path)
        curves.append({k: v for k, v in progress.items() if k != "time"})
    assert len(curves[0]["return"]) > 50
    for key in curves[0]:
        assert np.array_equal(curves[0][key], curves[1][key], equal_nan=True), key
