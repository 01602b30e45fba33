"""Short fixed-seed runs for the GA, DQN on Snake, and DQN from CarRacing's pixels."""

from __future__ import annotations

import numpy as np
import pytest

from ganghwa.algos.dqn import DQN
from ganghwa.algos.ga import GA
from ganghwa.config import DQNConfig, GAConfig, apply, preset_values
from tests.greedy import greedy_eval

pytestmark = pytest.mark.learning


def test_ga_solves_cartpole_with_the_tuned_preset():
    values, _ = preset_values("tuned", "ga", "CartPole-v1")
    cfg = apply(GAConfig(), {**values, "seed": 0, "workers": 1})
    ga = GA(config=cfg).learn()
    assert ga.stop_reason == "solved" and ga.generation <= 15
    assert greedy_eval(ga, 20, seed=100_000).mean >= 475
    # fitness can only be as good as the fittest: the elite is carried over unchanged
    assert ga.fitness.max() >= 100


def test_ga_same_seed_same_population_with_one_or_two_workers():
    """The pool splits the work but not the randomness: both give the same evolution."""
    runs = [GA("CartPole-v1", seed=3, workers=w, population=12, generations=3,
               eval_every=0).learn() for w in (1, 2)]
    assert np.array_equal(runs[0].population, runs[1].population)
    assert np.array_equal(runs[0].fitness, runs[1].fitness)


def test_ga_on_ray_actors(local_ray):
    ga = GA("CartPole-v1", seed=0, backend="ray", workers=2, population=10, generations=2,
            eval_every=0).learn()
    local = GA("CartPole-v1", seed=0, workers=1, population=10, generations=2,
               eval_every=0).learn()
    assert ga.generation == 2 and np.array_equal(ga.fitness, local.fitness)


def test_dqn_learns_snake_from_features():
    values, _ = preset_values("tuned", "dqn", "ganghwa/Snake-v0")
    cfg = apply(DQNConfig(), {**values, "env_id": "ganghwa/Snake-v0", "seed": 0,
                              "total_steps": 30_000, "eps_duration": 15_000, "eval_every": 0})
    model = DQN(config=cfg).learn()
    result = greedy_eval(model, 20, seed=100_000)
    assert result.final_info["length"].mean() >= 6  # a random policy: ~1.1


def test_dqn_trains_a_cnn_from_carracing_frames():
    """A smoke run: frames in, a few hundred CNN updates, a finite loss, a policy that acts."""
    model = DQN("ganghwa/CarRacing-v0", seed=0, total_steps=200, hidden=(64,), batch_size=16,
                buffer_size=2_000, learning_starts=100, train_freq=2, eval_every=0,
                env_kwargs={"max_episode_steps": 25})
    assert model.q_net.is_image and model.replay_buffer.__class__.__name__ == \
        "FrameReplayBuffer"
    model.learn()
    assert model.updates >= 45 and model.episode >= 5  # 25-step episodes
    obs = np.zeros((4, 84, 84), np.uint8)
    action, _ = model.predict(obs)
    assert 0 <= int(action) < 5


def test_dqn_with_prioritized_replay_and_n_step_on_frame_stacks():
    """The frame buffer keys its transitions for the sum tree and reads n-step returns."""
    model = DQN("ganghwa/CarRacing-v0", seed=0, total_steps=200, hidden=(64,), batch_size=16,
                buffer_size=2_000, learning_starts=100, train_freq=2, eval_every=0,
                prioritized=True, n_step=3, env_kwargs={"max_episode_steps": 25})
    model.learn()
    assert model.updates >= 45 and model.n_step_window is None  # the buffer does the n steps
    priorities = model.priorities.tree.priorities(np.arange(model.replay_buffer.capacity))
    assert (priorities > 0).sum() == len(model.replay_buffer)  # every complete one keyed
    assert len(np.unique(priorities[priorities > 0])) > 10  # updated from TD errors
    batch = model.replay_buffer.sample(64, np.random.default_rng(0))
    assert batch.discounts is not None and float(batch.discounts.min()) < 0.99 ** 2
