"""An env that raises after a few hundred steps: a user's buggy env, for the A3C error test."""

from __future__ import annotations

from gymnasium.envs.classic_control import CartPoleEnv


class CrashingCartPole(CartPoleEnv):
    def __init__(self, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        self.steps = 0

    def step(self, action):  # type: ignore[no-untyped-def]
        self.steps += 1
        if self.steps > 300:
            raise RuntimeError("the env broke at step 301")
        return super().step(action)
