"""REINFORCE: the Monte Carlo policy gradient, the first policy-gradient method of the course.

For a batch of whole episodes, with G_t the discounted return from step t (reward-to-go):

    loss = -mean_t log π(a_t|s_t) A_t + vf_coef mean_t (G_t - V(s_t))² - ent_coef mean_t H(π(·|s_t))
    A_t  = G_t - V(s_t)    with the learned baseline,   A_t = G_t without it

The baseline lowers the variance without biasing the gradient (Sutton & Barto, 13.4).
Evaluation is greedy (the most probable action), as for the value-based methods.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ganghwa.algos.actor_critic import (
    PolicyMethods,
    build_network,
    check_finite,
    normalized,
    policy_gradient_loss,
    policy_loader,
    value_and_entropy_step,
)
from ganghwa.algos.dqn import check_spaces
from ganghwa.buffers import discounted_returns
from ganghwa.config import ReinforceConfig, apply
from ganghwa.envs import make_env
from ganghwa.run import Run
from ganghwa.runtime import seed_everything, set_threads
from ganghwa.session import learning_session


class Reinforce(PolicyMethods):
    """A stochastic policy (and its baseline) learned from whole episodes.

    >>> agent = Reinforce("CartPole-v1", lr=1e-3).learn(200_000)
    >>> action, _ = agent.predict(obs)
    """

    def __init__(self, env: str | None = None, config: ReinforceConfig | None = None,
                 **hp: Any):
        """`env` (default: the config's, CartPole-v1) and `hp` override `config`."""
        cfg = apply(config or ReinforceConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        self.config = cfg
        self.env = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        check_spaces(cfg.env_id, self.env.observation_space, self.env.action_space)
        self.action_start = int(self.env.action_space.start)  # type: ignore[attr-defined]
        seed_everything(cfg.seed)
        self.net = build_network(cfg, self.env.observation_space, self.env.action_space)
        n_params = sum(p.numel() for p in self.net.parameters())
        set_threads(cfg.threads, n_params, 1, torch.device("cpu"))  # acting dominates
        self.optimizer: torch.optim.Optimizer = torch.optim.Adam(self.net.parameters(),
                                                                 lr=cfg.lr, fused=True)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.step = self.episode = self.updates = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""

    # ---------------------------------------------------------------- acting
    def _sample(self, obs: np.ndarray) -> int:
        with torch.no_grad():
            logits = self.net.actor(torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1))
        probs = torch.softmax(logits[0], dim=0)
        return int(torch.multinomial(probs, 1, generator=self.generator))

    # ---------------------------------------------------------------- learning
    def update(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
               episode_ends: np.ndarray) -> float:
        """One gradient step on a batch of whole episodes; returns the loss."""
        cfg = self.config
        if cfg.reward_to_go:
            returns = discounted_returns(rewards, episode_ends, cfg.gamma)
        else:  # every step of an episode weighted by that episode's whole return
            returns = np.zeros(len(rewards))
            starts = np.concatenate(([0], np.flatnonzero(episode_ends)[:-1] + 1))
            for start, end in zip(starts, np.flatnonzero(episode_ends) + 1, strict=True):
                returns[start:end] = discounted_returns(rewards[start:end],
                                                        episode_ends[start:end], cfg.gamma)[0]
        obs_t = torch.as_tensor(obs, dtype=torch.float32)
        returns_t = torch.as_tensor(returns, dtype=torch.float32)
        logits, values = self.net(obs_t)
        advantages = returns_t - values.detach() if cfg.baseline else returns_t
        if cfg.normalize:
            advantages = normalized(advantages)
        loss = value_and_entropy_step(
            cfg, self.net, self.optimizer,
            policy_gradient_loss(logits, torch.as_tensor(actions), advantages), logits,
            values if cfg.baseline else None, returns_t)
        self.updates += 1
        return float(loss)

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> Reinforce:
        cfg = self.config
        total = cfg.total_steps if total_steps is None else total_steps
        # The first reset of every learn() call is seeded (a resume too, so it is repeatable).
        reset_seed: int | None = cfg.seed + (1 + self.episode if self.episode else 0)
        batch: dict[str, list[Any]] = {"obs": [], "actions": [], "rewards": [], "ends": []}
        loss = math.nan
        with learning_session(self, run, total, progress) as session:
            while self.step < total and not self.stop_reason:
                obs, _ = self.env.reset(seed=reset_seed)
                reset_seed = None
                ret, length, prev_step, done = 0.0, 0, self.step, False
                while not done:
                    action = self._sample(obs)
                    next_obs, reward, terminated, truncated, _ = self.env.step(
                        action + self.action_start)
                    done = terminated or truncated
                    batch["obs"].append(np.asarray(obs, dtype=np.float32).reshape(-1))
                    batch["actions"].append(action)
                    batch["rewards"].append(float(reward))
                    batch["ends"].append(done)
                    obs = next_obs
                    ret += float(reward)
                    length += 1
                self.step += length
                self.episode += 1
                if self.episode % cfg.episodes_per_update == 0:
                    loss = self.update(np.stack(batch["obs"]), np.array(batch["actions"]),
                                       np.array(batch["rewards"]), np.array(batch["ends"]))
                    check_finite(loss, self.step)
                    for values in batch.values():
                        values.clear()
                session.logger.episode(self.step, self.episode, ret, length, 0.0, loss)
                session.tick(prev_step)
        return self


load_policy = policy_loader(ReinforceConfig)
