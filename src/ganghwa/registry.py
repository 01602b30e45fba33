"""What the CLI can train: algorithm name -> config class, train function, policy loader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from ganghwa.algos import dqn
from ganghwa.config import BaseConfig, DQNConfig
from ganghwa.errors import GanghwaError, did_you_mean


@dataclass(frozen=True)
class Algo:
    name: str
    summary: str
    config: type[BaseConfig]
    train: Callable[..., Any]
    load_policy: Callable[..., Callable[[Any], Any]]
    check_spaces: Callable[[str, gym.Space, gym.Space], None]


ALGOS: dict[str, Algo] = {
    "dqn": Algo("dqn", "DQN with Double, Dueling, hard/Polyak target and epsilon switches",
                DQNConfig, dqn.train, dqn.load_policy, dqn.check_spaces),
}


def get_algo(name: str) -> Algo:
    if name not in ALGOS:
        raise GanghwaError(f"unknown algorithm {name!r}.{did_you_mean(name, ALGOS)} "
                           f"Algorithms: {', '.join(ALGOS)}")
    return ALGOS[name]


def compatible_envs(algo: Algo) -> list[tuple[str, str, str]]:
    """Registered Gymnasium envs that this algorithm accepts: (id, observation, actions)."""
    out = []
    for env_id, spec in gym.registry.items():
        entry = str(spec.entry_point)
        if not entry.startswith(("gymnasium.envs.classic_control", "gymnasium.envs.box2d",
                                 "gymnasium.envs.toy_text", "ganghwa")):
            continue
        try:
            env = gym.make(env_id)
        except Exception:  # an optional dependency missing, or an env that needs arguments
            continue
        try:
            algo.check_spaces(env_id, env.observation_space, env.action_space)
        except GanghwaError:
            continue
        finally:
            env.close()
        out.append((env_id, str(env.observation_space), str(env.action_space)))
    return out
