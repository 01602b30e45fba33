"""CarRacing from pixels: gymnasium's CarRacing-v3 behind the usual preprocessing chain.

Registered as ganghwa/CarRacing-v0. Every step of the chain is a gymnasium wrapper except the
two that gymnasium lacks (the action table and the early stop on a run of negative rewards):

    CarRacing-v3 -> ActionTable or continuous=False -> MaxAndSkipObservation(skip)
    -> NegativeRewardStop(patience) -> crop the HUD strip -> GrayscaleObservation
    -> ResizeObservation(size) -> FrameStackObservation(stack)

The observation is (stack, size, size) uint8, channels first, as DQN's CNN reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import (
    FrameStackObservation,
    GrayscaleObservation,
    MaxAndSkipObservation,
    ResizeObservation,
    TransformObservation,
)

from ganghwa.errors import GanghwaError

HUD_ROWS = 12
"""The bottom 12 of CarRacing's 96 rows are the dashboard (speed, ABS, steering, gyro)."""

TUTORIAL_ACTIONS = (
    (-1.0, 1.0, 0.2), (0.0, 1.0, 0.2), (1.0, 1.0, 0.2),
    (-1.0, 1.0, 0.0), (0.0, 1.0, 0.0), (1.0, 1.0, 0.0),
    (-1.0, 0.0, 0.2), (0.0, 0.0, 0.2), (1.0, 0.0, 0.2),
    (-1.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0),
)
"""Every (steer, gas, brake) from steer {-1, 0, 1} × gas {1, 0} × brake {0.2, 0}: 12 actions."""


class ActionTable(gym.ActionWrapper):
    """Discrete(n) actions mapped to rows of a table of continuous (steer, gas, brake) triples."""

    def __init__(self, env: gym.Env, table: Sequence[Sequence[float]]):
        super().__init__(env)
        self.table = check_action_table(table)
        self.action_space = gym.spaces.Discrete(len(self.table))

    def action(self, action: Any) -> np.ndarray:
        return self.table[int(action)]


def check_action_table(table: Any) -> np.ndarray:
    """The table as an (n, 3) float32 array, or a one-line error naming what is wrong."""
    rows = list(table) if isinstance(table, list | tuple | np.ndarray) else None
    if not rows:
        raise GanghwaError("actions must be 'discrete' or a list of [steer, gas, brake] triples, "
                           f"got {table!r}; e.g. --env-kw 'actions=[[-1,1,0],[0,1,0],[1,1,0]]'")
    for row in rows:
        if not isinstance(row, list | tuple | np.ndarray) or len(row) != 3:
            raise GanghwaError(f"each action is a (steer, gas, brake) triple, but {row!r} has "
                               f"{len(row) if isinstance(row, list | tuple | np.ndarray) else 1} "
                               "value(s); "
                               "e.g. [0, 1, 0] for full gas")
    out = np.asarray(rows, dtype=np.float32)
    low, high = np.array([-1, 0, 0]), np.array([1, 1, 1])
    if np.any(out < low) or np.any(out > high):
        raise GanghwaError("steer lies in [-1, 1], gas and brake in [0, 1]; fix the action table")
    return out


class NegativeRewardStop(gym.Wrapper):
    """Ends the episode (truncated: the state is not terminal) after `patience` steps in a row
    with a negative reward: the car has left the track or stopped, and the rest of the episode
    would teach little. Off with patience 0."""

    def __init__(self, env: gym.Env, patience: int):
        super().__init__(env)
        self.patience = patience
        self.run = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.run = 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.run = self.run + 1 if float(reward) < 0 else 0
        if self.patience and self.run >= self.patience and not terminated:
            truncated = True
            info = {**info, "negative_reward_stop": True}
        return obs, float(reward), terminated, truncated, info


def make_car_racing(actions: str | list[list[float]] = "discrete", frame_skip: int = 4,
                    stack: int = 4, size: int = 84, grayscale: bool = True,
                    crop_hud: bool = True, patience: int = 100,
                    render_mode: str | None = None, **car_racing_kwargs: Any) -> gym.Env:
    """CarRacing-v3 preprocessed for a CNN. `actions`: "discrete" (gymnasium's 5: nothing,
    right, left, gas, brake), "tutorial" (TUTORIAL_ACTIONS), or a list of triples."""
    for name, value, least in (("frame_skip", frame_skip, 1), ("stack", stack, 1),
                               ("size", size, 16), ("patience", patience, 0)):
        if not isinstance(value, int) or value < least:
            raise GanghwaError(f"{name} must be an integer of at least {least}, got {value!r}")
    if not grayscale:  # (size, size, 3) frames would stack to (stack, size, size, 3)
        raise GanghwaError("colour frames are not supported by the frame buffer yet; keep "
                           "grayscale=true")
    if actions == "discrete":
        env: gym.Env = gym.make("CarRacing-v3", continuous=False, render_mode=render_mode,
                                **car_racing_kwargs)
    else:
        table = TUTORIAL_ACTIONS if actions == "tutorial" else actions
        check_action_table(table)
        env = ActionTable(gym.make("CarRacing-v3", continuous=True, render_mode=render_mode,
                                   **car_racing_kwargs), table)  # type: ignore[arg-type]
    if frame_skip > 1:
        env = MaxAndSkipObservation(env, skip=frame_skip)
    env = NegativeRewardStop(env, patience)
    if crop_hud:
        box = env.observation_space
        assert isinstance(box, gym.spaces.Box)
        rows = box.shape[0] - HUD_ROWS
        cropped = gym.spaces.Box(0, 255, (rows, *box.shape[1:]), np.uint8)
        env = TransformObservation(env, lambda obs: obs[:rows], cropped)
    env = GrayscaleObservation(env, keep_dim=False)
    env = ResizeObservation(env, (size, size))
    return FrameStackObservation(env, stack)
