"""The small protocol every algorithm implements, and the one opening of every constructor.

An agent is built from its config, learns with `learn(steps)`, acts with `policy(obs)`, and
hands its state to checkpoint.py as tensors and plain data. Everything around a training
(run folder, evaluation, plots, video) is pipeline.py's; everything about files on disk is
checkpoint.py's. So an algorithm file holds its maths and its loop, and nothing else.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    import gymnasium as gym

    from ganghwa.config import BaseConfig
    from ganghwa.run import Run

COUNTERS = ("step", "episode", "updates", "generation", "best_score", "elapsed")
"""Progress counters an agent may have; checkpoints save and restore the ones it has."""


class Agent(Protocol):
    """What the pipeline, checkpoints and evaluation need of an algorithm.

    The algorithms subclass it to declare that they implement it (PEP 544): it holds no code
    they inherit, only the attributes `start` sets, so that type checkers see them.
    """

    config: Any = None
    spaces: tuple[gym.Space, gym.Space] = ()  # type: ignore[assignment]
    step: int = 0
    episode: int = 0
    updates: int = 0
    generation: int = 0
    best_score: float = -math.inf
    elapsed: float = 0.0
    stop_reason: str = ""
    stop_signal: str = ""
    """The signal that interrupted `learn` (SIGINT, SIGTERM, SIGHUP), when one did."""
    metrics: ClassVar[tuple[str, ...]]
    """progress.csv's columns besides step, episode, return, length and time."""

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> Any:
        """Train until `steps` (default: the config's budget) in all, resumes included."""

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions for a batch of observations: greedy, or sampled as when learning."""

    def state(self, full: bool) -> dict[str, Any]:
        """Tensors and plain data: enough to act, or (full) everything a resume needs."""

    def load_state(self, state: dict[str, Any]) -> None:
        """The inverse of `state`, for either kind; counters are restored by checkpoint.py."""


def start(agent: Any, config_cls: type[BaseConfig], env: str | None, config: BaseConfig | None,
          settings: dict[str, Any]) -> tuple[gym.Space, gym.Space]:
    """The opening of every agent's constructor, `Cls(env, config, preset=..., **settings)`.

    The config is the class's defaults < `preset` < `config` < the keyword settings, checked
    once; the env is built once for its spaces, unless the pipeline (which built and checked
    it already) passes `spaces=`; counters start at zero and every RNG is seeded.
    """
    from dataclasses import asdict

    from ganghwa.config import apply, resolve
    from ganghwa.registry import get_algo
    from ganghwa.runtime import seed_everything

    preset, spaces = settings.pop("preset", None), settings.pop("spaces", None)
    values = {**(asdict(config) if config is not None else {}), **settings}
    values.pop("preset", None)
    algo = str(values.get("algo") or config_cls().algo)
    spec = get_algo(algo)
    if env:
        values["env_id"] = env
    if preset is None and config is not None:
        cfg = apply(config, values)
        cfg.validate()
    else:
        cfg, _ = resolve(config_cls, spec.preset_sections, algo, values.get("env_id"), preset,
                         values, {}, default_preset=None)
    agent.config = cfg
    if spaces is None:
        from ganghwa.envs import make_env

        probe = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        try:
            check_env(type(agent), cfg.env_id, probe, cfg)
            spaces = (probe.observation_space, probe.action_space)
        finally:
            probe.close()
    agent.spaces = spaces
    for name in COUNTERS:
        setattr(agent, name, 0)
    agent.best_score, agent.elapsed = -math.inf, 0.0
    agent.stop_reason = agent.stop_signal = ""
    seed_everything(cfg.seed)
    return spaces


def check_env(agent_cls: Any, env_id: str, env: gym.Env, cfg: BaseConfig) -> None:
    """Raise GanghwaError when the env does not suit the algorithm: its own check where it has
    one (a table's), else discrete actions and an observation its network reads (a vector,
    or an image where the class declares `has_cnn`)."""
    own = getattr(agent_cls, "check_env", None)
    if own is not None:
        own(env_id, env, cfg)
        return
    from ganghwa.envs.spaces import check_network_spaces

    check_network_spaces(env_id, env.observation_space, env.action_space,
                         getattr(agent_cls, "display_name", cfg.algo.upper()),
                         getattr(cfg, "network", "mlp"), getattr(agent_cls, "has_cnn", False))


def predict(agent: Agent, obs: Any, deterministic: bool = True) -> tuple[Any, None]:
    """Stable-Baselines3's `predict`: one observation or a batch in, (action(s), None) out."""
    obs = np.asarray(obs)
    single = obs.shape == tuple(agent.spaces[0].shape or ())
    actions = agent.policy(obs[None] if single else obs, deterministic)
    return (actions[0] if single else actions), None
