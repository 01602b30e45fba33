"""One A3C actor-learner, and the global network's optimizer whose state the workers share.

An actor-learner owns its envs and a local copy of the network. Given the global weights, it
steps its envs for n_steps and returns the actor-critic gradient of that rollout; A2C's
collection and loss do the work, one gradient per rollout. It runs in a worker process (the
local backend) or a Ray actor (the ray backend), and never touches the run folder.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np
import torch

from ganghwa.algos.a2c import A2C
from ganghwa.config import A3CConfig, apply
from ganghwa.envs import make_vec_env
from ganghwa.errors import check_finite
from ganghwa.fastpath import fused_step, make_adam, plain_step
from ganghwa.fastpath.backprop import flatten_parameters


class Gradient(NamedTuple):
    """What one rollout sends to the global network."""

    grad: torch.Tensor  # flat, like the global weights
    steps: int
    episodes: list[tuple[float, int]]  # (return, length) of the episodes that ended
    metrics: dict[str, float]  # the loss and its parts


def worker_seed(cfg: A3CConfig, worker: int, incarnation: int, start_step: int) -> int:
    """Distinct env and sampling seeds per worker, per replacement of a dead one, and per
    resumed run (which starts at a later step)."""
    return cfg.seed + 1 + 1_000 * worker + 100_000 * incarnation + 7_919 * start_step


class ActorLearner:
    """Rollouts on its own envs in, gradients out."""

    def __init__(self, cfg: A3CConfig, worker: int, incarnation: int = 0, start_step: int = 0):
        seed = worker_seed(cfg, worker, incarnation, start_step)
        self.agent = A2C(config=apply(cfg, {"seed": seed, "threads": 1}))
        self.flat = flatten_parameters(self.agent.net)
        self.max_grad_norm = cfg.max_grad_norm
        self.envs, self.obs = make_vec_env(cfg.env_id, cfg.num_envs, seed, cfg.env_kwargs)
        self.steps = cfg.n_steps * cfg.num_envs

    def compute(self, weights: torch.Tensor, step: int = 0) -> Gradient:
        """The gradient of one rollout taken with `weights`; `step` is the global env step
        (all workers) before it, which a diverged loss names."""
        with torch.no_grad():
            self.flat.copy_(weights)
        episodes: list[tuple[float, int]] = []
        self.obs = self.agent.collect(self.envs, self.obs,
                                      lambda _, ret, length: episodes.append((ret, length)))
        loss, parts = self.agent.loss(self.agent.rollout_batch(), slice(None), None)
        metrics = {name: float(value) for name, value in parts.items()}
        # A NaN loss must stop here, before its gradient reaches the global weights.
        check_finite(metrics["loss"], step + self.steps)
        grad = self.flat.grad
        assert grad is not None
        grad.zero_()
        loss.backward()
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.flat, self.max_grad_norm)
        return Gradient(grad, self.steps, episodes, metrics)

    def close(self) -> None:
        self.envs.close()


class GlobalOptimizer:
    """The optimizer of the global flat weights, with its state made up front so that it can
    be shared: a zero-gradient step creates Adam's or RMSprop's state without moving a weight.
    """

    def __init__(self, cfg: A3CConfig, flat: torch.nn.Parameter,
                 state: dict[str, torch.Tensor] | None = None):
        self.cfg = cfg
        self.flat = flat
        if cfg.optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = make_adam(flat, lr=cfg.lr, eps=1e-5)
        else:  # Mnih et al.'s shared RMSprop
            self.optimizer = torch.optim.RMSprop([flat], lr=cfg.lr, alpha=0.99, eps=1e-5)
        if state is None:
            flat.grad = torch.zeros_like(flat)
            plain_step(self.optimizer)
            self.state["step"].zero_()
        else:
            self.optimizer.state[flat] = state
        self._step = (fused_step(self.optimizer, flat) if cfg.optimizer == "adam"
                      else partial(plain_step, self.optimizer))

    @property
    def state(self) -> dict[str, torch.Tensor]:
        return self.optimizer.state[self.flat]

    def share_memory(self) -> None:
        self.flat.share_memory_()
        for tensor in self.state.values():
            tensor.share_memory_()

    def apply(self, grad: torch.Tensor | np.ndarray, progress: float) -> None:
        """One optimizer step of the global weights with a worker's gradient."""
        remaining = max(0.0, 1.0 - progress)
        self.optimizer.param_groups[0]["lr"] = self.cfg.lr * (
            remaining if self.cfg.lr_schedule == "linear" else 1.0)
        self.flat.grad = torch.as_tensor(grad)
        self._step()
