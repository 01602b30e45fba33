"""Making envs from an id or `module:Class`, vectorised, and snapshotting their state.

This is the only module that knows Gymnasium's autoreset rules: vector envs run in SAME_STEP
mode, so a finished sub-env is reset inside `step()` and its last observation is in
`infos["final_obs"]`, where the learner needs it for the bootstrap target.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from ganghwa.envs.guard import EnvGuard
from ganghwa.errors import GanghwaError, did_you_mean


def _env_factory(env_id: str) -> Callable[..., gym.Env]:
    """A callable that builds the env: a registered id, or a user's `module:Class`."""
    if ":" in env_id:
        module_name, _, attr = env_id.partition(":")
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise GanghwaError(f"cannot import module {module_name!r} for env {env_id!r} ({e}); "
                               "run from the folder that holds it, or add it to PYTHONPATH"
                               ) from None
        if attr in gym.registry:  # the module registered an id on import
            return lambda **kw: gym.make(attr, **kw)
        target = getattr(module, attr, None)
        if not (isinstance(target, type) and issubclass(target, gym.Env)):
            raise GanghwaError(f"{env_id!r}: {module_name} has no gymnasium.Env subclass or "
                               f"registered id named {attr!r}")
        return lambda **kw: gym.wrappers.PassiveEnvChecker(target(**kw))
    if env_id not in gym.registry:
        raise GanghwaError(f"unknown environment {env_id!r}.{did_you_mean(env_id, gym.registry)} "
                           "Use a registered Gymnasium id or module:Class; "
                           "`ganghwa list` shows some")
    return lambda **kw: gym.make(env_id, **kw)


def make_env(env_id: str, render_mode: str | None = None,
             env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """One env, not yet reset; render_mode is passed to the constructor as Gymnasium expects."""
    factory = _env_factory(env_id)
    kwargs = dict(env_kwargs or {})
    if render_mode:
        kwargs["render_mode"] = render_mode
    try:
        return EnvGuard(factory(**kwargs), env_id)
    except GanghwaError:
        raise
    except gym.error.DependencyNotInstalled as e:
        raise GanghwaError(f"{env_id} needs an extra package: {e}") from None
    except TypeError as e:
        if render_mode and "render_mode" in str(e):
            raise GanghwaError(f"{env_id} does not accept render_mode={render_mode!r}; "
                               "add render_mode to its __init__ to record videos") from None
        if env_kwargs and "argument" in str(e):
            raise GanghwaError(f"{env_id} does not take these --env-kw settings "
                               f"({str(e).splitlines()[0]})") from None
        raise
    except (ValueError, KeyError, AssertionError) as e:
        if not env_kwargs:
            raise
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GanghwaError(f"{env_id} rejected --env-kw {env_kwargs} ({reason}); see the "
                           "env's documentation for its arguments") from None


def make_vec_env(env_id: str, num_envs: int, seed: int,
                 env_kwargs: dict[str, Any] | None = None) -> tuple[SyncVectorEnv, np.ndarray]:
    """num_envs copies in one process, SAME_STEP autoreset, reset with seeds seed..seed+n-1.

    In-process stepping beats subprocesses for envs as cheap as CartPole or LunarLander.
    """
    def factory() -> gym.Env:
        return make_env(env_id, env_kwargs=env_kwargs)

    envs = SyncVectorEnv([factory for _ in range(num_envs)], autoreset_mode=AutoresetMode.SAME_STEP)
    obs, _ = envs.reset(seed=seed)
    return envs, obs


def env_spaces(env_id: str, env_kwargs: dict[str, Any] | None = None
               ) -> tuple[gym.Space, gym.Space]:
    """(observation_space, action_space), building and closing one env."""
    env = make_env(env_id, env_kwargs=env_kwargs)
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


# ---------------------------------------------------------------- state snapshots for resume

_SIMPLE = (type(None), bool, int, float, str, np.ndarray, np.generic)
_SKIP = {"env", "spec", "metadata", "render_mode", "screen", "clock", "isopen", "np_random",
         "_np_random", "_np_random_seed", "action_space", "observation_space", "_action_space",
         "_observation_space", "_metadata", "_cached_spec", "viewer", "window"}


def _layers(env: gym.Env) -> list[Any]:
    """The wrappers and the core env, outermost first; EnvGuard holds no state and is left
    out, so that snapshots taken before it existed still line up."""
    layers = [env]
    while isinstance(layers[-1], gym.Wrapper):
        layers.append(layers[-1].env)
    return [layer for layer in layers if not isinstance(layer, EnvGuard)]


def _to_portable(value: Any) -> Any:
    """numpy to tensors so that torch.load(weights_only=True) can read it back."""
    import torch  # here, so that registering the envs (import ganghwa) needs no torch

    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, np.generic):
        return value.item()
    return value


def snapshot_env_state(envs: SyncVectorEnv) -> list[list[dict[str, Any]]] | None:
    """Each sub-env's wrapper and core attributes plus its RNG, or None if not restorable.

    An env is restorable when its state is plain numbers and arrays (the classic-control envs);
    Box2D worlds and the like are not, and a resume then starts a fresh episode.
    """
    snapshot = []
    for env in envs.envs:
        layers = []
        for layer in _layers(env):
            attrs = {}
            for key, value in vars(layer).items():
                if key in _SKIP:
                    continue
                if not isinstance(value, _SIMPLE):
                    if layer is env.unwrapped:
                        return None
                    continue
                attrs[key] = _to_portable(value)
            rng = vars(layer).get("_np_random")
            if rng is not None:
                attrs["__rng__"] = rng.bit_generator.state
            layers.append(attrs)
        snapshot.append(layers)
    return snapshot


def restore_env_state(envs: SyncVectorEnv, snapshot: list[list[dict[str, Any]]]) -> None:
    """Put back what snapshot_env_state took."""
    import torch

    for env, layers in zip(envs.envs, snapshot, strict=True):
        for layer, attrs in zip(_layers(env), layers, strict=True):
            for key, value in attrs.items():
                if key == "__rng__":
                    rng = np.random.Generator(getattr(np.random, value["bit_generator"])())
                    rng.bit_generator.state = value
                    layer._np_random = rng
                elif isinstance(value, torch.Tensor):
                    setattr(layer, key, value.numpy())
                else:
                    setattr(layer, key, value)
