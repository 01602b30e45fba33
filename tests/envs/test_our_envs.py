"""Every env we ship: gymnasium's checker, seeded determinism, rendering, and its MDP by hand."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ganghwa.envs import OUR_ENVS, make_env
from ganghwa.envs.gridworld import GridWorld
from ganghwa.envs.moving_obstacles import MovingObstacles
from ganghwa.errors import GanghwaError

IDS = list(OUR_ENVS)
TOY_TEXT = ["FrozenLake-v1", "FrozenLake8x8-v1", "CliffWalking-v1", "Taxi-v4"]


@pytest.mark.parametrize("env_id", IDS + TOY_TEXT)
def test_passes_gymnasium_check_env(env_id):
    for mode in (None, "ansi", "rgb_array"):
        check_env(make_env(env_id, render_mode=mode).unwrapped)


@pytest.mark.parametrize("env_id", IDS + TOY_TEXT)
def test_same_seed_same_rollout(env_id):
    def rollout() -> list:
        env = make_env(env_id)
        env.action_space.seed(7)
        obs, _ = env.reset(seed=3)
        out = [np.asarray(obs).tolist()]
        for _ in range(60):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            out.append((np.asarray(obs).tolist(), float(reward), terminated, truncated))
            if terminated or truncated:
                obs, _ = env.reset()
        return out

    assert rollout() == rollout()


@pytest.mark.parametrize("env_id", IDS)
def test_renders_text_and_pixels(env_id):
    env = make_env(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3  # not a blank image
    text_env = make_env(env_id, render_mode="ansi")
    text_env.reset(seed=0)
    assert isinstance(text_env.render(), str) and text_env.render().strip()


def test_gridworld_model_by_hand():
    env = GridWorld()  # the lecture's map: S at (0,0), traps (1,2) (2,1), goal (2,2)
    assert env.P[0][0] == [(1.0, 0, 0.0, False)]  # left at the edge: stay
    assert env.P[0][2] == [(1.0, 1, 0.0, False)]  # right
    assert env.P[7][1] == [(1.0, 7, 0.0, True)]  # state 7 = (1, 2) is a trap: it absorbs
    assert env.P[17][3] == [(1.0, 12, 1.0, True)]  # (3, 2) up reaches the goal (2, 2)
    assert env.P[6][2] == [(1.0, 7, -1.0, True)]  # (1,1) right into the trap (1,2)
    slippery = GridWorld(slip=0.2)
    outcomes = {nxt: p for p, nxt, _, _ in slippery.P[0][1]}  # down from the corner
    # down 0.8 -> (1,0)=5; sideways left (edge: stay) 0.1 and right -> (0,1)=1 0.1
    assert outcomes == pytest.approx({5: 0.8, 0: 0.1, 1: 0.1})


@pytest.mark.parametrize("desc, fragment", [
    ("S../.X.", "no goal"),
    ("S#G/##.", "cannot be reached"),
    ("SXG/X..", "cannot be reached"),
    ("S.G/..", "not a rectangle"),
    ("S.Q/..G", "unknown cells"),
])
def test_gridworld_bad_maps(desc, fragment):
    with pytest.raises(GanghwaError, match=fragment):
        GridWorld(desc=desc)


def test_moving_obstacles_features_and_bounce():
    env = MovingObstacles()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (15,)
    env.cols[:] = (0, 2, 4)
    env.dirs[:] = (-1, 1, 1)
    obs, reward, terminated, _, _ = env.step(0)  # stay: obstacles bounce or move one cell
    assert env.cols.tolist() == [1, 3, 3] and env.dirs.tolist() == [1, 1, -1]
    # goal (4,4) relative to the agent (0,0): +4 columns, +4 rows, label +1
    assert obs[:3].tolist() == [4, 4, 1]
    # first obstacle in row 1, column 1: relative (1, 1), label -1, moving right
    assert obs[3:7].tolist() == [1, 1, -1, 1]
    assert reward == pytest.approx(-0.01) and not terminated


def test_moving_obstacles_collision_ends_with_minus_one():
    env = MovingObstacles(step_reward=0.0)
    env.reset(seed=0)
    env.cols[:] = (1, 0, 0)
    env.dirs[:] = (-1, 1, 1)  # the row-1 obstacle moves to column 0 as the agent steps down
    _, reward, terminated, _, info = env.step(2)
    assert terminated and reward == -1.0 and info["hit"]
