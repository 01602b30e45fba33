"""강화 ganghwa: one reinforcement-learning toolkit from Q-tables to DQN, with one CLI.

    import ganghwa                       # also registers ganghwa/GridWorld-v0, Snake-v0, ...
    from ganghwa import DQN, PPO, A2C, REINFORCE, A3C, GA, TabularAgent, DeepSarsa
    model = DQN("CartPole-v1", preset="tuned").learn(30_000)
    run = ganghwa.train("ppo", "CartPole-v1", out="runs")   # the CLI's pipeline: a run folder
    run.show()                           # in a notebook: its evaluation, curve and video inline
    ganghwa.sweep("dqn", "CartPole-v1", seeds="0-9").show()   # 10 seeds: IQM, CI, curves
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import ganghwa.envs  # noqa: F401  registers ganghwa's envs with Gymnasium

if TYPE_CHECKING:
    from ganghwa.algos.a2c import A2C, PPO
    from ganghwa.algos.a3c import A3C
    from ganghwa.algos.deep_sarsa import DeepSarsa
    from ganghwa.algos.dqn import DQN
    from ganghwa.algos.ga import GA
    from ganghwa.algos.reinforce import REINFORCE
    from ganghwa.algos.tabular import TabularAgent
    from ganghwa.config import DQNConfig
    from ganghwa.experiments.sweep import sweep
    from ganghwa.notebook import show
    from ganghwa.pipeline import train

_LAZY = {"DQN": "ganghwa.algos.dqn", "PPO": "ganghwa.algos.a2c", "A2C": "ganghwa.algos.a2c",
         "REINFORCE": "ganghwa.algos.reinforce", "A3C": "ganghwa.algos.a3c",
         "GA": "ganghwa.algos.ga", "TabularAgent": "ganghwa.algos.tabular",
         "DeepSarsa": "ganghwa.algos.deep_sarsa", "DQNConfig": "ganghwa.config",
         "train": "ganghwa.pipeline", "show": "ganghwa.notebook",
         "sweep": "ganghwa.experiments.sweep"}

__all__ = ["A2C", "A3C", "DQN", "GA", "PPO", "REINFORCE", "DQNConfig", "DeepSarsa",
           "TabularAgent", "__version__", "show", "sweep", "train"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy, so that `ganghwa --help` and input errors answer before torch is imported.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ganghwa' has no attribute {name!r}")
