"""A3C (Mnih et al. 2016): asynchronous actor-learners updating one global network.

This process is the coordinator: it holds the global network and its optimizer, starts the
workers (algos/a3c_workers.py: local processes with Hogwild updates, or Ray actors), logs the
episodes they report, evaluates, checkpoints, and replaces workers that die. Each worker
computes A2C's loss, one gradient per n_steps rollout of its own env (actor_learner.py).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import torch

from ganghwa.algos.a3c_workers import LocalWorkers, RayWorkers
from ganghwa.algos.actor_critic import (
    PolicyMethods,
    build_network,
    check_finite,
    policy_loader,
)
from ganghwa.algos.actor_learner import GlobalOptimizer
from ganghwa.algos.dqn import check_spaces
from ganghwa.config import A3CConfig, apply
from ganghwa.envs import env_spaces
from ganghwa.fastpath.backprop import flatten_parameters
from ganghwa.run import Run
from ganghwa.runtime import seed_everything
from ganghwa.session import learning_session


class A3C(PolicyMethods):
    """The global actor-critic and the coordinator of its workers.

    >>> agent = A3C("CartPole-v1", workers=2, backend="local").learn(200_000)
    >>> action, _ = agent.predict(obs)
    """

    def __init__(self, env: str | None = None, config: A3CConfig | None = None, **hp: Any):
        """`env` (default: the config's, CartPole-v1) and `hp` override `config`."""
        cfg = apply(config or A3CConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        self.config = cfg
        obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
        check_spaces(cfg.env_id, obs_space, action_space, "A3C")
        assert isinstance(action_space, gym.spaces.Discrete)
        self.action_start = int(action_space.start)
        seed_everything(cfg.seed)
        torch.set_num_threads(1)  # the workers have the cores; this process evaluates
        self.net = build_network(cfg, obs_space, action_space)
        self._global = GlobalOptimizer(cfg, flatten_parameters(self.net))
        self.optimizer = self._global.optimizer
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.step = self.episode = self.updates = self.restarts = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""
        self.workers: LocalWorkers | RayWorkers | None = None

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> A3C:
        """Train until `total_steps` env steps in all, summed over the workers."""
        cfg = self.config
        total = cfg.total_steps if total_steps is None else total_steps
        backend = LocalWorkers if cfg.backend == "local" else RayWorkers
        loss = math.nan
        with learning_session(self, run, total, progress) as session:
            self.workers = workers = backend(cfg, self._global, self.step, self.updates, total)
            try:
                workers.start()
                while self.step < total and not self.stop_reason:
                    prev_step = self.step
                    news = workers.poll(timeout=0.05)
                    self.step, self.updates = news.step, news.updates
                    if news.episodes:
                        loss = news.loss
                        check_finite(loss, self.step)
                    for ret, length in news.episodes:
                        self.episode += 1
                        session.logger.episode(self.step, self.episode, ret, length, 0.0, loss)
                    for worker, reason in news.restarts:
                        self.restarts += 1
                        session.logger.message(f"A3C worker {worker} died ({reason}) at step "
                                               f"{self.step}; a replacement was started")
                        if run is not None:
                            run.append_restart(self.step, worker, reason)
                    session.tick(prev_step)
            finally:
                workers.stop()
                # local workers apply their last rollouts while stopping: count those too
                self.step, self.updates = workers.totals()
                self.workers = None
        return self


load_policy = policy_loader(A3CConfig)
