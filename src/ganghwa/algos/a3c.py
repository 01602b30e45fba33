"""A3C (Mnih et al. 2016): asynchronous actor-learners updating one global network.

This process is the coordinator: it holds the global network and its optimizer, starts the
workers (algos/a3c_workers.py: local processes with Hogwild updates, or Ray actors), logs the
episodes they report, evaluates, checkpoints, and replaces workers that die. Each worker
computes A2C's loss, one gradient per n_steps rollout of its own env (actor_learner.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.algos.a3c_workers import LocalWorkers, RayWorkers, check_worker_count
from ganghwa.algos.actor_learner import GlobalOptimizer
from ganghwa.config import A3CConfig
from ganghwa.errors import check_finite
from ganghwa.fastpath.backprop import flatten_parameters
from ganghwa.nets import ActorCritic, sample_actions
from ganghwa.run import Run
from ganghwa.session import learning_session


class A3C(Agent):
    """The global actor-critic and the coordinator of its workers.

    >>> agent = A3C("CartPole-v1", workers=2, backend="local").learn(200_000)
    >>> action, _ = agent.predict(obs)
    """

    metrics: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy")

    def __init__(self, env: str | None = None, config: A3CConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, A3CConfig, env, config, settings)
        cfg = self.config
        self.action_start = int(action_space.start)  # type: ignore[attr-defined]
        torch.set_num_threads(1)  # the workers have the cores; this process evaluates
        self.net = ActorCritic.for_spaces(obs_space, action_space, cfg.hidden, cfg.activation)
        self._global = GlobalOptimizer(cfg, flatten_parameters(self.net))
        self.optimizer = self._global.optimizer
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.restarts = 0
        self.workers: LocalWorkers | RayWorkers | None = None

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions: the most probable, or sampled from π."""
        return sample_actions(self.net.actor, obs, None if deterministic else self.generator
                              ) + self.action_start

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> A3C:
        """Train until `steps` env steps in all, summed over the workers.

        However the loop ends (done, a stop signal, an error), the workers are stopped before
        this returns, and a Ray instance this call started is shut down.
        """
        cfg = self.config
        total = cfg.total_steps if steps is None else steps
        backend = LocalWorkers if cfg.backend == "local" else RayWorkers
        check_worker_count(cfg)
        with learning_session(self, run, total, progress) as session:
            self.workers = workers = backend(cfg, self._global, self.step, self.updates, total)
            try:
                workers.start()
                while self.step < total and not self.stop_reason:
                    prev_step = self.step
                    news = workers.poll(timeout=0.05)
                    self.step, self.updates = news.step, news.updates
                    if news.metrics:
                        check_finite(news.metrics["loss"], self.step)
                        session.logger.update(self.step, **{k: v for k, v in news.metrics.items()
                                                            if k in self.metrics})
                    for ret, length in news.episodes:
                        self.episode += 1
                        session.logger.episode(self.step, self.episode, ret, length)
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

    # ---------------------------------------------------------------- checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The global network; full adds its optimizer's state and the sampling RNG."""
        return checkpoint.network_state(self.net, self.optimizer, self.generator, full)

    def load_state(self, state: dict[str, Any]) -> None:
        checkpoint.load_network_state(state, self.net, self.optimizer, self.generator)

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)
