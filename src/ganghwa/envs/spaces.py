"""What an algorithm needs of an env's spaces, checked before anything is built or written.

Each check raises a one-line GanghwaError naming the fix. The algorithms declare what they
read (a network over vectors, a CNN over images, or a table over states); nothing here names
an algorithm.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from ganghwa.errors import GanghwaError


def check_network_spaces(env_id: str, obs_space: gym.Space, action_space: gym.Space, algo: str,
                         network: str = "mlp", has_cnn: bool = False) -> None:
    """Discrete actions, and an observation the network reads: a flat Box for an MLP, an image
    Box (3 axes) for a CNN (where the algorithm has one); `network="auto"` takes what fits."""
    if not isinstance(action_space, gym.spaces.Discrete):
        hint = (" For CarRacing use ganghwa/CarRacing-v0 (discrete actions, preprocessed "
                "frames)." if "CarRacing" in env_id else "")
        raise GanghwaError(f"{algo} needs a discrete action space, but {env_id} has {action_space} "
                           "(continuous actions); pick a discrete env such as CartPole-v1 or "
                           f"LunarLander-v3.{hint}")
    flat = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1
    image = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 3
    if image and not has_cnn:
        raise GanghwaError(f"{algo} has no CNN yet for {env_id}'s image observations "
                           f"{obs_space}; use dqn or ga")
    if network == "cnn" and not image:
        raise GanghwaError(f"a CNN needs image observations, but {env_id} has {obs_space}; "
                           "use --set network=mlp (or auto)")
    if network == "mlp" and image:
        raise GanghwaError(f"{algo}'s MLP would need {env_id}'s image observations {obs_space} "
                           "flattened; use --set network=cnn (or auto)")
    if not (flat or image):
        raise GanghwaError(f"{algo} needs a flat or an image Box observation, but {env_id} has "
                           f"{obs_space}; flatten it (gymnasium.wrappers.FlattenObservation) or "
                           "use an env with vector observations")


def transition_model(env: gym.Env, algo: str) -> Any:
    """The env's toy-text model P[s][a] = [(prob, next_state, reward, terminated), ...]."""
    P = getattr(env.unwrapped, "P", None)
    if P is None:
        raise GanghwaError(f"{algo} needs the env's transition model P (as FrozenLake, "
                           f"CliffWalking, Taxi and ganghwa/GridWorld-v0 have), and "
                           f"{env.spec.id if env.spec else type(env.unwrapped).__name__} has "
                           "none; learn from experience with q_learning or sarsa instead")
    return P


def check_table_spaces(env_id: str, env: gym.Env, algo: str, needs_model: bool) -> None:
    """A table needs finite states and actions numbered from 0; DP also needs the model P."""
    obs_space, action_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Discrete):
        shape = f" of shape {obs_space.shape}" if obs_space.shape else ""
        raise GanghwaError(f"{algo} keeps a table over states, but {env_id} has a continuous or "
                           f"structured observation space ({type(obs_space).__name__}{shape}); "
                           f"use dqn for it, e.g. `ganghwa train dqn {env_id}`")
    if not isinstance(action_space, gym.spaces.Discrete):
        raise GanghwaError(f"{algo} needs a discrete action space, but {env_id} has "
                           f"{action_space}")
    if obs_space.start != 0 or action_space.start != 0:
        raise GanghwaError(f"{algo} indexes its table from 0, but {env_id} numbers its states "
                           f"from {obs_space.start} and actions from {action_space.start}; "
                           "wrap it so that both start at 0")
    if needs_model:
        transition_model(env, algo)


def check_observation(env_id: str, call: str, obs: Any, space: gym.Space) -> None:
    """An observation the env returned fits its declared space well enough to learn from:
    the shape, a numeric dtype (float64 for a float32 Box is fine: it is cast), an in-range
    index for a Discrete space. Bounds are not checked: many envs exceed theirs."""
    import numpy as np

    if isinstance(space, gym.spaces.Discrete):
        ok = np.ndim(obs) == 0 and np.issubdtype(np.asarray(obs).dtype, np.integer) \
            and space.start <= int(obs) < space.start + space.n
        if not ok:
            raise GanghwaError(f"{env_id}'s {call} returned {obs!r}, but its observation_space "
                               f"is {space}; return an int in that range")
        return
    if not isinstance(space, gym.spaces.Box):
        return
    array = np.asarray(obs)
    if array.shape != space.shape or not (np.issubdtype(array.dtype, np.number)
                                          or array.dtype == np.bool_):
        raise GanghwaError(f"{env_id}'s {call} returned an observation of shape {array.shape} "
                           f"and dtype {array.dtype}, but its observation_space is {space}; "
                           "make them agree (gymnasium's check_env(env) reports such mismatches)")
