"""강화 ganghwa: one reinforcement-learning toolkit from Q-tables to DQN, with one CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganghwa.algos.deep_sarsa import DeepSarsa
    from ganghwa.algos.dqn import DQN
    from ganghwa.algos.tabular import TabularAgent
    from ganghwa.config import DQNConfig

__all__ = ["DQN", "DQNConfig", "DeepSarsa", "TabularAgent", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy, so that `ganghwa --help` and input errors answer before torch is imported.
    if name == "DQN":
        from ganghwa.algos.dqn import DQN
        return DQN
    if name == "TabularAgent":
        from ganghwa.algos.tabular import TabularAgent
        return TabularAgent
    if name == "DeepSarsa":
        from ganghwa.algos.deep_sarsa import DeepSarsa
        return DeepSarsa
    if name == "DQNConfig":
        from ganghwa.config import DQNConfig
        return DQNConfig
    raise AttributeError(f"module 'ganghwa' has no attribute {name!r}")
