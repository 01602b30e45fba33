"""The boundary between ganghwa and an env's own code.

A user's env that raises in `reset` or `step`, or returns NaN observations, should end a run
in one line that blames the env, not in a traceback from deep in a learner or in a "lower the
learning rate" message once the NaN reaches the loss. Every env ganghwa builds (make_env) is
wrapped in EnvGuard; GANGHWA_DEBUG=1 shows the original traceback.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ganghwa.errors import GanghwaError


class EnvError(GanghwaError):
    """The env's own code failed, or broke its contract, while a run was using it."""

    exit_code = 1


class EnvGuard(gym.Wrapper):
    """Re-raises an exception of the env's reset/step as EnvError naming the env and the call,
    and checks float observations for NaN and inf (a few microseconds a step)."""

    def __init__(self, env: gym.Env, env_id: str):
        super().__init__(env)
        self.env_id = env_id
        space = env.observation_space
        self._check_finite = (isinstance(space, gym.spaces.Box)
                              and np.issubdtype(space.dtype, np.floating))

    def reset(self, **kwargs: Any) -> Any:
        try:
            obs, info = self.env.reset(**kwargs)
        except GanghwaError:
            raise
        except Exception as e:
            raise _env_error(self.env_id, "reset()", e) from e
        self._finite(obs, "reset()")
        return obs, info

    def step(self, action: Any) -> Any:
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except GanghwaError:
            raise
        except Exception as e:
            raise _env_error(self.env_id, "step()", e) from e
        self._finite(obs, "step()")
        return obs, reward, terminated, truncated, info

    def _finite(self, obs: Any, call: str) -> None:
        if not self._check_finite:
            return
        try:
            finite = bool(np.isfinite(obs).all())
        except TypeError:  # not numbers at all: check_observation says so at the start
            return
        if not finite:
            raise EnvError(f"{self.env_id}'s {call} returned an observation with NaN or inf "
                           f"({np.asarray(obs).ravel()[:6]}...); fix the env: nothing a learner "
                           "setting changes can learn from it")


def _env_error(env_id: str, call: str, e: Exception) -> EnvError:
    reason = str(e).splitlines()[0][:160] if str(e) else ""
    return EnvError(f"{env_id}'s {call} raised {type(e).__name__}"
                    f"{': ' + reason if reason else ''}; fix the env (GANGHWA_DEBUG=1 shows the "
                    "traceback; gymnasium's check_env(env) finds many such faults)")
