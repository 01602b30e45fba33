"""강화 ganghwa: one reinforcement-learning toolkit from Q-tables to DQN, with one CLI."""

from ganghwa.algos.dqn import DQN
from ganghwa.config import DQNConfig

__all__ = ["DQN", "DQNConfig", "__version__"]
__version__ = "0.1.0"
