"""Deep SARSA: SARSA's on-policy TD(0) update with a neural network in place of the Q-table.

    a' ~ ε-greedy(Q(s', ·))                     the action the agent will really take next
    loss = (r + γ (1 - terminated) Q(s', a') - Q(s, a))²

One update per env step, on that step alone: no replay memory and no target network, as in
the lecture (they are what DQN adds). The forward and backward passes are ManualBackprop's
with a batch of one, so a step costs tens of microseconds rather than autograd's hundreds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ganghwa.algos.dqn import Diverged, check_spaces, greedy_actions
from ganghwa.config import DeepSarsaConfig, apply
from ganghwa.envs import env_spaces, make_env
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import EvalResult, evaluate
from ganghwa.fastpath.backprop import ManualBackprop, flatten_parameters, param_views
from ganghwa.nets import QNetwork
from ganghwa.run import Run, load_weights, save_checkpoint
from ganghwa.runtime import seed_everything, set_threads
from ganghwa.schedules import epsilon
from ganghwa.session import learning_session


def _network(cfg: DeepSarsaConfig, obs_dim: int, n_actions: int) -> QNetwork:
    return QNetwork(obs_dim, n_actions, cfg.hidden, cfg.activation)


class DeepSarsa:
    """A Q-network trained on-policy, one transition at a time."""

    def __init__(self, env: str | None = None, config: DeepSarsaConfig | None = None,
                 **hp: Any):
        """`env` (default: the config's, ganghwa/MovingObstacles-v0) and `hp` override it."""
        cfg = apply(config or DeepSarsaConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        self.config = cfg
        self.env = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        check_spaces(cfg.env_id, self.env.observation_space, self.env.action_space)
        obs_dim = int(np.prod(self.env.observation_space.shape or (1,)))
        self.n_actions = int(self.env.action_space.n)  # type: ignore[attr-defined]
        self.action_start = int(self.env.action_space.start)  # type: ignore[attr-defined]
        seed_everything(cfg.seed)
        self.q_net = _network(cfg, obs_dim, self.n_actions)
        n_params = sum(p.numel() for p in self.q_net.parameters())
        set_threads(cfg.threads, n_params, 1, torch.device("cpu"))  # batch 1: one thread
        self._flat = flatten_parameters(self.q_net)
        self._weights = list(self.q_net.parameters())
        assert self._flat.grad is not None
        self._backprop = ManualBackprop(self.q_net, param_views(self._flat.grad, self._weights),
                                        batch_size=1)
        self.optimizer = torch.optim.Adam([self._flat], lr=cfg.lr, fused=True)
        self.rng = np.random.default_rng(cfg.seed)
        self.step = self.episode = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""
        self._grad_q = torch.zeros(1, self.n_actions)

    def _q_values(self, obs: np.ndarray, keep: bool = False) -> torch.Tensor:
        x = torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1)
        return self._backprop.forward(x, self._weights, keep=keep)[0]

    def _act(self, q_values: torch.Tensor, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(self.n_actions))
        return int(q_values.argmax())

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray:
        return greedy_actions(self.q_net, np.asarray(obs).reshape(len(obs), -1),
                              self.action_start)

    def evaluate(self, episodes: int, seed: int) -> EvalResult:
        return evaluate(self.greedy_policy, self.config.env_id, episodes, seed,
                        self.config.env_kwargs)

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> DeepSarsa:
        cfg = self.config
        total = cfg.total_steps if total_steps is None else total_steps
        # The first reset of every learn() call is seeded (a resume too, so it is repeatable).
        reset_seed: int | None = cfg.seed + (1 + self.episode if self.episode else 0)
        with learning_session(self, run, total, progress) as session:
            logger = session.logger
            while self.step < total and not self.stop_reason:
                eps = epsilon(cfg, self.episode if cfg.eps_unit == "episode" else self.step)
                obs, _ = self.env.reset(seed=reset_seed)
                reset_seed = None
                action = self._act(self._q_values(obs), eps)
                ret, length, loss_sum, prev_step = 0.0, 0, 0.0, self.step
                done = False
                while not done:
                    next_obs, reward, terminated, truncated, _ = self.env.step(
                        action + self.action_start)
                    done = terminated or truncated
                    next_q = self._q_values(next_obs)
                    next_action = self._act(next_q, eps)
                    target = float(reward) + (0.0 if terminated
                                              else cfg.gamma * float(next_q[next_action]))
                    # loss (Q(s,a) - target)^2 on one sample: its gradient in Q(s,a) is 2 error
                    error = float(self._q_values(obs, keep=True)[action]) - target
                    self._grad_q[0, action] = 2.0 * error
                    self._backprop.backward(self._grad_q, self._weights)
                    self._grad_q[0, action] = 0.0
                    self.optimizer.step()
                    loss_sum += error * error
                    obs, action = next_obs, next_action
                    ret += float(reward)
                    length += 1
                    if self.step + length >= total:
                        break
                self.step += length
                self.episode += 1
                mean_loss = loss_sum / length
                if not math.isfinite(mean_loss):
                    raise Diverged(f"the TD loss became {mean_loss} at step {self.step}; the "
                                   "last good checkpoint is kept. Lower --set lr")
                logger.episode(self.step, self.episode, ret, length, eps, mean_loss)
                session.tick(prev_step)
        return self

    # ---------------------------------------------------------------- saving
    def _model_state(self) -> dict[str, Any]:
        return {"algo": "deep_sarsa", "config": dataclasses.asdict(self.config),
                "q_net": self.q_net.state_dict()}

    def save(self, path: str | Path) -> None:
        save_checkpoint(self._model_state(), Path(path))

    def save_state(self, path: Path, elapsed: float) -> None:
        """Network, optimizer, counters and RNG; a resume starts a fresh episode."""
        save_checkpoint({**self._model_state(), "optimizer": self.optimizer.state_dict(),
                         "counters": {"step": self.step, "episode": self.episode,
                                      "best_score": self.best_score, "elapsed": elapsed},
                         "rng": {"numpy": self.rng.bit_generator.state}}, path)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_weights(self.q_net, self.optimizer, state, "q_net")
        if "counters" in state:
            c = state["counters"]
            self.step, self.episode = c["step"], c["episode"]
            self.best_score, self.elapsed = c["best_score"], c["elapsed"]
            self.rng.bit_generator.state = state["rng"]["numpy"]


def load_policy(state: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The greedy policy of a checkpoint: the network alone, on the CPU."""
    cfg = apply(DeepSarsaConfig(), state["config"])
    obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
    assert isinstance(action_space, gym.spaces.Discrete)
    q_net = _network(cfg, int(np.prod(obs_space.shape or (1,))), int(action_space.n))
    try:
        q_net.load_state_dict(state["q_net"])
    except (RuntimeError, KeyError) as e:
        raise GanghwaError(f"checkpoint does not match its config "
                           f"({str(e).splitlines()[0][:100]})") from None
    start = int(action_space.start)
    return lambda obs: greedy_actions(q_net, np.asarray(obs).reshape(len(obs), -1), start)
