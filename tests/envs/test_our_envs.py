"""Every env we ship: gymnasium's checker, seeded determinism, rendering, and its MDP by hand."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from ganghwa.envs import OUR_ENVS, make_env
from ganghwa.envs.gridworld import GridWorld
from ganghwa.envs.moving_obstacles import MovingObstacles
from ganghwa.errors import GanghwaError

IDS = [env_id for env_id in OUR_ENVS if "CarRacing" not in env_id]  # Box2D: tested below
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


# ---------------------------------------------------------------- Snake

def _snake(body, heading=0, food=(0, 0), size=6, obs_mode="features"):
    """A Snake placed by hand: body head first, as (row, col) cells."""
    from ganghwa.envs.snake import BODY, FOOD, HEAD, Snake

    env = Snake(size=size, obs_mode=obs_mode)
    env.reset(seed=0)
    env.board[:] = 0
    env.body.clear()
    env.body.extend(body)
    for cell in body[1:]:
        env.board[cell] = BODY
    env.board[body[0]] = HEAD
    env.food = food
    env.board[food] = FOOD
    env.heading = heading
    return env


def test_snake_pixels_mode_passes_check_env():
    for mode in (None, "ansi", "rgb_array"):
        env = gym.make("ganghwa/Snake-v0", size=8, obs_mode="pixels", render_mode=mode)
        check_env(env.unwrapped)


def test_snake_features_by_hand():
    # head (2,2) heading right, body to its left; a wall is 3 cells right; food up-left
    env = _snake([(2, 2), (2, 1), (2, 0)], heading=1, food=(0, 0))
    # danger straight/left/right: none; heading right; food above and to the left
    assert env._obs().tolist() == [0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0]
    # at the top wall heading up: danger straight; left (west) is free, right (east) too
    env = _snake([(0, 3), (1, 3)], heading=0, food=(5, 5))
    assert env._obs()[:3].tolist() == [1, 0, 0]
    assert env._obs()[7:].tolist() == [0, 1, 0, 1]  # food below and to the right


def test_snake_eats_grows_and_dies():
    env = _snake([(2, 2), (3, 2)], heading=0, food=(1, 2))
    _, reward, terminated, truncated, info = env.step(0)  # straight up onto the food
    assert (reward, terminated, truncated) == (1.0, False, False)
    assert info == {"length": 3, "score": 1} and list(env.body) == [(1, 2), (2, 2), (3, 2)]
    assert env.food not in env.body  # new food on a free cell
    env.food, env.board[env.food] = (5, 5), 0  # move the food out of the way
    env.board[5, 5] = 3
    env.step(0)  # to (0, 2): length stays 3, the tail left (3, 2)
    assert list(env.body) == [(0, 2), (1, 2), (2, 2)] and env.board[3, 2] == 0
    _, reward, terminated, _, info = env.step(0)  # into the top wall
    assert (reward, terminated, info["length"]) == (-1.0, True, 3)


def test_snake_hits_its_body_but_may_chase_its_tail():
    # a 2x2 loop: head (1,1) heading left, body (1,2) (2,2) (2,1); turning left (south)
    # enters (2,1), the tail's cell, which moves away in the same step
    env = _snake([(1, 1), (1, 2), (2, 2), (2, 1)], heading=3, food=(5, 5))
    _, reward, terminated, _, _ = env.step(1)
    assert (reward, terminated) == (0.0, False) and env.body[0] == (2, 1)
    # a longer body: the head turning right (north from heading west) hits (0,1)... free;
    # heading down into (3,2) which is body but not the tail
    env = _snake([(2, 2), (2, 3), (3, 3), (3, 2), (3, 1)], heading=3, food=(5, 5))
    _, reward, terminated, _, _ = env.step(1)  # turn left from west = south, into (3,2)
    assert (reward, terminated) == (-1.0, True)


def test_snake_truncates_when_it_starves():
    env = _snake([(2, 2)], heading=0, food=(5, 5), size=6)
    turns = 0
    for _ in range(36):  # turning right forever circles a 2x2 square without eating
        _, _, terminated, truncated, _ = env.step(2)
        turns += 1
        assert not terminated
        if truncated:
            break
    assert truncated and turns == 36  # size * size steps without food


def test_snake_random_policy_rarely_grows():
    """The baseline the DQN Snake figure is quoted against: mean length of a random policy."""
    env = make_env("ganghwa/Snake-v0")
    env.action_space.seed(0)
    lengths = []
    for episode in range(100):
        env.reset(seed=episode)
        while True:
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            if terminated or truncated:
                lengths.append(info["length"])
                break
    assert np.mean(lengths) <= 2.0


# ---------------------------------------------------------------- CarRacing preprocessing

def test_car_racing_chain_passes_check_env_and_is_deterministic():
    env = gym.make("ganghwa/CarRacing-v0", max_episode_steps=30)
    assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
    check_env(env.unwrapped, skip_render_check=True)

    def rollout() -> list:
        e = gym.make("ganghwa/CarRacing-v0", max_episode_steps=30)
        obs, _ = e.reset(seed=5)
        out = [obs.sum()]
        for t in range(10):
            obs, reward, *_ = e.step(t % 5)
            out.append((int(obs.sum()), round(float(reward), 6)))
        return out

    assert rollout() == rollout()


def test_car_racing_action_table_and_negative_reward_stop():
    from ganghwa.envs.car_racing import ActionTable, NegativeRewardStop, check_action_table

    table = check_action_table([[-1, 1, 0], [0, 0, 0.5]])
    assert table.dtype == np.float32 and table.tolist() == [[-1, 1, 0], [0, 0, 0.5]]
    base = gym.make("CarRacing-v3", continuous=True)
    env = ActionTable(base, table)
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.action(1).tolist() == [0, 0, 0.5]
    with pytest.raises(GanghwaError, match="triple"):
        check_action_table([[0, 1, 0], [1, 0]])
    with pytest.raises(GanghwaError, match="steer lies in"):
        check_action_table([[0, 2, 0]])
    # braking on the spot earns -0.1 a frame (after the start tile's bonus): truncated once
    # 7 negative rewards come in a row
    stop = NegativeRewardStop(base, patience=7)
    stop.reset(seed=0)
    run = 0
    for _ in range(20):
        _, reward, terminated, truncated, info = stop.step(np.array([0, 0, 1], np.float32))
        run = run + 1 if reward < 0 else 0
        assert not terminated and truncated == (run == 7)
        if truncated:
            break
    assert run == 7 and info["negative_reward_stop"]


def test_a_350_by_350_gridworld_frame_stays_small_and_its_model_is_refused_in_one_line():
    """48-pixel cells would make each video frame of this grid 847 MB, and the dense DP model
    (S, A, S) about 30 TB: the frame is bounded, the model is refused before it is allocated."""
    from ganghwa.algos.tabular import model_arrays

    desc = ["S" + "." * 349] + ["." * 350] * 348 + ["." * 349 + "G"]
    env = GridWorld(desc=desc, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape[0] <= 1024 and frame.shape[1] <= 1024 and frame.shape[2] == 3
    assert (frame == (40, 90, 200)).all(axis=2).any()  # the agent is drawn
    n = 350 * 350
    with pytest.raises(GanghwaError, match="dense transition model of 122,500 states"):
        model_arrays(env.unwrapped.P, n, 4)
