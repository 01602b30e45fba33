"""What the CLI can train: algorithm name -> config class, train function, policy loader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from ganghwa.algos import a2c, a3c, deep_sarsa, dqn, ga, reinforce, tabular
from ganghwa.config import (
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
from ganghwa.session import entry_point


@dataclass(frozen=True)
class Algo:
    name: str
    summary: str
    config: type[BaseConfig]
    train: Callable[..., Any]
    load_policy: Callable[..., Callable[[Any], Any]]
    check: Callable[..., None]
    """check(env_id, env, network=None): raises GanghwaError when the env does not suit the
    algorithm (before a run is made); `network` is the config's choice, where it has one."""
    family: str = ""
    """A preset section shared with related algorithms ("tabular"), read before its own."""

    @property
    def preset_sections(self) -> tuple[str, ...]:
        return (self.family, self.name) if self.family else (self.name,)


def _mlp_check(name: str, default: str = "mlp") -> Callable[..., None]:
    """Discrete actions and a flat Box observation (or an image one, for network "auto"),
    named after the algorithm in errors."""
    def check(env_id: str, env: gym.Env, network: str | None = None) -> None:
        dqn.check_spaces(env_id, env.observation_space, env.action_space, name,
                         network or default)

    return check


def _tabular(name: str, summary: str) -> Algo:
    def check(env_id: str, env: gym.Env, network: str | None = None) -> None:
        tabular.check_env(env_id, env, name)

    return Algo(name, summary, TabularConfig, tabular.train, tabular.load_policy, check,
                family="tabular")


ALGOS: dict[str, Algo] = {
    "dqn": Algo("dqn", "DQN with Double, Dueling, hard/Polyak target and epsilon switches",
                DQNConfig, dqn.train, dqn.load_policy, _mlp_check("DQN", "auto")),
    **{a.name: a for a in (
        _tabular("value_iteration", "value iteration on the env's model P (DP)"),
        _tabular("policy_iteration", "policy evaluation and greedy improvement on P (DP)"),
        _tabular("policy_evaluation", "V of the uniform random policy on P (DP)"),
        _tabular("mc", "first-visit Monte Carlo control with a Q-table"),
        _tabular("sarsa", "SARSA: on-policy TD control with a Q-table"),
        _tabular("expected_sarsa", "Expected SARSA with a Q-table"),
        _tabular("q_learning", "Q-learning: off-policy TD control with a Q-table"),
    )},
    "deep_sarsa": Algo("deep_sarsa", "Deep SARSA: on-policy TD(0) with a Q-network, no replay",
                       DeepSarsaConfig, entry_point(deep_sarsa.DeepSarsa), deep_sarsa.load_policy,
                       _mlp_check("Deep SARSA")),
    "reinforce": Algo("reinforce", "REINFORCE: Monte Carlo policy gradient, optional baseline",
                      ReinforceConfig, entry_point(reinforce.Reinforce), reinforce.load_policy,
                      _mlp_check("REINFORCE")),
    "a2c": Algo("a2c", "A2C: synchronous n-step actor-critic on vector envs (GAE)",
                A2CConfig, entry_point(a2c.A2C), a2c.load_policy, _mlp_check("A2C")),
    "ppo": Algo("ppo", "PPO: clipped policy ratio, GAE, minibatch epochs (A2C's loop)",
                PPOConfig, entry_point(a2c.A2C), a2c.load_ppo_policy, _mlp_check("PPO")),
    "a3c": Algo("a3c", "A3C: asynchronous actor-learners on one global network (local or Ray)",
                A3CConfig, entry_point(a3c.A3C), a3c.load_policy, _mlp_check("A3C")),
    "ga": Algo("ga", "genetic algorithm: evolves policy-network weights (MLP or CNN)",
               GAConfig, ga.train, ga.load_policy, _mlp_check("GA", "auto")),
}


def get_algo(name: str) -> Algo:
    if name not in ALGOS:
        raise GanghwaError(f"unknown algorithm {name!r}.{did_you_mean(name, ALGOS)} "
                           f"Algorithms: {', '.join(ALGOS)}")
    return ALGOS[name]


def compatible_envs(algos: list[Algo]) -> dict[str, list[tuple[str, str, str]]]:
    """Registered Gymnasium envs each algorithm accepts: (id, observation, actions) rows.

    Each env is built once and shown to every algorithm's check.
    """
    out: dict[str, list[tuple[str, str, str]]] = {a.name: [] for a in algos}
    for env_id, spec in gym.registry.items():
        entry = str(spec.entry_point)
        if not entry.startswith(("gymnasium.envs.classic_control", "gymnasium.envs.box2d",
                                 "gymnasium.envs.toy_text", "ganghwa")):
            continue
        try:
            env = gym.make(env_id)
        except Exception:  # an optional dependency missing, or an env that needs arguments
            continue
        row = (env_id, str(env.observation_space), str(env.action_space))
        for algo in algos:
            try:
                algo.check(env_id, env)
            except GanghwaError:
                continue
            out[algo.name].append(row)
        env.close()
    return out
