"""The algorithms by name: config class, agent class (imported when first used), summary.

Importing this module imports no algorithm (nor torch), so the CLI answers bad input at once.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from ganghwa.config import (
    TABULAR_ALGOS,
    A2CConfig,
    A3CConfig,
    BaseConfig,
    DeepSarsaConfig,
    DQNConfig,
    GAConfig,
    PPOConfig,
    ReinforceConfig,
    TabularConfig,
)
from ganghwa.errors import GanghwaError, did_you_mean


@dataclass(frozen=True)
class AlgoSpec:
    name: str
    summary: str
    config: type[BaseConfig]
    agent: str
    """"module:Class" of the agent, imported on first use."""
    family: str = ""
    """A preset section shared with related algorithms ("tabular"), read before its own."""

    @property
    def preset_sections(self) -> tuple[str, ...]:
        return (self.family, self.name) if self.family else (self.name,)

    def agent_class(self) -> Any:
        module, _, name = self.agent.partition(":")
        return getattr(importlib.import_module(module), name)

    def default_config(self) -> BaseConfig:
        return dataclasses.replace(self.config(), algo=self.name)

    def check_env(self, env_id: str, env: gym.Env, cfg: BaseConfig | None = None) -> None:
        """Raise GanghwaError when the env does not suit the algorithm (or this config)."""
        from ganghwa.agent import check_env

        check_env(self.agent_class(), env_id, env, cfg or self.default_config())


_TABULAR_SUMMARIES = {
    "value_iteration": "value iteration on the env's model P (DP)",
    "policy_iteration": "policy evaluation and greedy improvement on P (DP)",
    "policy_evaluation": "V of the uniform random policy on P (DP)",
    "mc": "first-visit Monte Carlo control with a Q-table",
    "sarsa": "SARSA: on-policy TD control with a Q-table",
    "expected_sarsa": "Expected SARSA with a Q-table",
    "q_learning": "Q-learning: off-policy TD control with a Q-table",
}

ALGOS: dict[str, AlgoSpec] = {spec.name: spec for spec in (
    AlgoSpec("dqn", "DQN with Double, Dueling, hard/Polyak target and epsilon switches",
             DQNConfig, "ganghwa.algos.dqn:DQN"),
    *(AlgoSpec(name, _TABULAR_SUMMARIES[name], TabularConfig,
               "ganghwa.algos.tabular:TabularAgent", family="tabular") for name in TABULAR_ALGOS),
    AlgoSpec("deep_sarsa", "Deep SARSA: on-policy TD(0) with a Q-network, no replay",
             DeepSarsaConfig, "ganghwa.algos.deep_sarsa:DeepSarsa"),
    AlgoSpec("reinforce", "REINFORCE: Monte Carlo policy gradient, optional baseline",
             ReinforceConfig, "ganghwa.algos.reinforce:REINFORCE"),
    AlgoSpec("a2c", "A2C: synchronous n-step actor-critic on vector envs (GAE)",
             A2CConfig, "ganghwa.algos.a2c:A2C"),
    AlgoSpec("ppo", "PPO: clipped policy ratio, GAE, minibatch epochs (A2C's loop)",
             PPOConfig, "ganghwa.algos.a2c:PPO"),
    AlgoSpec("a3c", "A3C: asynchronous actor-learners on one global network (local or Ray)",
             A3CConfig, "ganghwa.algos.a3c:A3C"),
    AlgoSpec("ga", "genetic algorithm: evolves policy-network weights (MLP or CNN)",
             GAConfig, "ganghwa.algos.ga:GA"),
)}


DEFAULT_ALGO = "dqn"
"""What `ganghwa train` trains when no algorithm is named."""


def get_algo(name: str) -> AlgoSpec:
    if name not in ALGOS:
        raise GanghwaError(f"unknown algorithm {name!r}.{did_you_mean(name, ALGOS)} "
                           f"Algorithms: {', '.join(ALGOS)}")
    return ALGOS[name]


def algos_with_field(name: str) -> list[str]:
    """The algorithms whose config has a setting `name` (for errors about flags)."""
    return [a.name for a in ALGOS.values()
            if name in {f.name for f in dataclasses.fields(a.config)}]


def compatible_envs(algos: list[AlgoSpec]) -> dict[str, list[tuple[str, str, str]]]:
    """Registered Gymnasium envs each algorithm accepts: (id, observation, actions) rows.

    Each env is built once and shown to every algorithm's check.
    """
    from ganghwa.envs import make_env

    out: dict[str, list[tuple[str, str, str]]] = {a.name: [] for a in algos}
    for env_id, spec in gym.registry.items():
        entry = str(spec.entry_point)
        if not entry.startswith(("gymnasium.envs.classic_control", "gymnasium.envs.box2d",
                                 "gymnasium.envs.toy_text", "ganghwa")):
            continue
        try:
            env = make_env(env_id)
        except Exception:  # an optional dependency missing, or an env that needs arguments
            continue
        row = (env_id, str(env.observation_space), str(env.action_space))
        for algo in algos:
            try:
                algo.check_env(env_id, env)
            except GanghwaError:
                continue
            out[algo.name].append(row)
        env.close()
    return out
