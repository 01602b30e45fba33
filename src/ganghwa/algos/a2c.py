"""A2C: synchronous advantage actor-critic on gymnasium vector envs.

Every `n_steps` steps of `num_envs` envs (a rollout), one gradient step on

    loss = -mean log π(a|s) A + vf_coef mean (R - V(s))² - ent_coef mean H(π(·|s))

with A and R = A + V from generalised advantage estimation (λ = 1: n-step returns). Episodes
cut off by a time limit are bootstrapped from the value of their last observation, which the
vector env keeps in infos["final_obs"].
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ganghwa.algos.actor_critic import (
    build_network,
    greedy,
    policy_gradient_loss,
    policy_loader,
    restore,
    save_model,
    save_training_state,
)
from ganghwa.algos.dqn import Diverged, check_spaces
from ganghwa.buffers import compute_gae
from ganghwa.config import A2CConfig, apply
from ganghwa.envs import env_spaces, make_vec_env
from ganghwa.evaluation import EvalResult, evaluate
from ganghwa.run import Run
from ganghwa.runtime import seed_everything, set_threads
from ganghwa.session import learning_session


class A2C:
    """An actor-critic learned from short synchronous rollouts of several envs.

    >>> agent = A2C("CartPole-v1", num_envs=8).learn(500_000)
    >>> action, _ = agent.predict(obs)
    """

    def __init__(self, env: str | None = None, config: A2CConfig | None = None, **hp: Any):
        """`env` (default: the config's, CartPole-v1) and `hp` override `config`."""
        cfg = apply(config or A2CConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        self.config = cfg
        obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
        check_spaces(cfg.env_id, obs_space, action_space)
        assert isinstance(action_space, gym.spaces.Discrete) and obs_space.shape is not None
        self.action_start = int(action_space.start)
        seed_everything(cfg.seed)
        self.net = build_network(cfg, obs_space, action_space)
        n_params = sum(p.numel() for p in self.net.parameters())
        set_threads(cfg.threads, n_params, cfg.num_envs, torch.device("cpu"))
        self.optimizer: torch.optim.Optimizer = (
            torch.optim.RMSprop(self.net.parameters(), lr=cfg.lr, alpha=0.99, eps=1e-5)
            if cfg.optimizer == "rmsprop" else torch.optim.Adam(self.net.parameters(), lr=cfg.lr))
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.step = self.episode = self.updates = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""
        shape = (cfg.n_steps, cfg.num_envs)
        obs_dim = int(np.prod(obs_space.shape))
        self._obs = np.zeros((*shape, obs_dim), dtype=np.float32)
        self._next_obs = np.zeros_like(self._obs)
        self._actions = np.zeros(shape, dtype=np.int64)
        self._rewards = np.zeros(shape)
        self._terminated = np.zeros(shape)
        self._ends = np.zeros(shape)

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray:
        return greedy(self.net, obs, self.action_start)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """SB3's signature: the most probable action, or a sample from π."""
        obs = np.asarray(obs, dtype=np.float32)
        batch = obs if obs.ndim == 2 else obs[None]
        actions = self.greedy_policy(batch) if deterministic \
            else self._sample(batch) + self.action_start
        return (actions if obs.ndim == 2 else actions[0]), None

    def evaluate(self, episodes: int, seed: int) -> EvalResult:
        return evaluate(self.greedy_policy, self.config.env_id, episodes, seed,
                        self.config.env_kwargs)

    def _sample(self, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.net.actor(torch.as_tensor(obs).reshape(len(obs), -1))
        return torch.multinomial(torch.softmax(logits, dim=1), 1,
                                 generator=self.generator).squeeze(1).numpy()

    def update(self) -> float:
        """One gradient step on the rollout in the buffers; returns the loss."""
        cfg = self.config
        obs = torch.as_tensor(self._obs.reshape(-1, self._obs.shape[-1]))
        logits, values = self.net(obs)
        with torch.no_grad():
            next_values = self.net.critic(
                torch.as_tensor(self._next_obs.reshape(obs.shape))).squeeze(-1)
        shape = self._rewards.shape
        advantages, returns = compute_gae(
            self._rewards, values.detach().numpy().reshape(shape).astype(np.float64),
            next_values.numpy().reshape(shape).astype(np.float64), self._terminated,
            self._ends, cfg.gamma, cfg.gae_lambda)
        adv = torch.as_tensor(advantages.reshape(-1), dtype=torch.float32)
        if cfg.normalize and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        returns_t = torch.as_tensor(returns.reshape(-1), dtype=torch.float32)
        loss = policy_gradient_loss(logits, torch.as_tensor(self._actions.reshape(-1)), adv)
        loss = loss + cfg.vf_coef * (returns_t - values).pow(2).mean()
        if cfg.ent_coef:
            entropy = torch.distributions.Categorical(logits=logits).entropy().mean()
            loss = loss - cfg.ent_coef * entropy
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return float(loss.detach())

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> A2C:
        cfg = self.config
        total = cfg.total_steps if total_steps is None else total_steps
        # A resume seeds its fresh envs too (seed + 1 + episode), so it is repeatable.
        seed = cfg.seed + (1 + self.episode if self.episode else 0)
        envs, obs = make_vec_env(cfg.env_id, cfg.num_envs, seed, cfg.env_kwargs)
        ep_returns = np.zeros(cfg.num_envs)
        ep_lengths = np.zeros(cfg.num_envs, dtype=np.int64)
        loss = math.nan
        with learning_session(self, run, total, progress) as session:
            while self.step < total and not self.stop_reason:
                prev_step = self.step
                for t in range(cfg.n_steps):
                    obs = np.asarray(obs, dtype=np.float32).reshape(cfg.num_envs, -1)
                    actions = self._sample(obs)
                    next_obs, rewards, terminated, truncated, infos = envs.step(
                        actions + self.action_start)
                    ends = terminated | truncated
                    self._obs[t] = obs
                    self._actions[t] = actions
                    self._rewards[t] = rewards
                    self._terminated[t] = terminated
                    self._ends[t] = ends
                    self._next_obs[t] = np.asarray(next_obs).reshape(cfg.num_envs, -1)
                    ep_returns += rewards
                    ep_lengths += 1
                    for i in np.flatnonzero(ends):  # the true last observation, then log
                        self._next_obs[t, i] = np.asarray(infos["final_obs"][i]).reshape(-1)
                        self.episode += 1
                        session.logger.episode(self.step + (t + 1) * cfg.num_envs,
                                               self.episode, float(ep_returns[i]),
                                               int(ep_lengths[i]), 0.0, loss)
                        ep_returns[i], ep_lengths[i] = 0.0, 0
                    obs = next_obs
                self.step += cfg.n_steps * cfg.num_envs
                loss = self.update()
                if not math.isfinite(loss):
                    raise Diverged(f"the loss became {loss} at step {self.step}; the last good "
                                   "checkpoint is kept. Lower --set lr")
                session.tick(prev_step)
        envs.close()
        return self

    def save(self, path: str | Path) -> None:
        save_model(self, path)

    def save_state(self, path: Path, elapsed: float) -> None:
        """A resume starts fresh episodes on freshly seeded envs."""
        save_training_state(self, path, elapsed)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore(self, state)


def train(cfg: A2CConfig, run: Run | None, progress: bool = True,
          resume_from: dict[str, Any] | None = None) -> A2C:
    agent = A2C(config=cfg)
    if resume_from is not None:
        agent.load_state_dict(resume_from)
    return agent.learn(cfg.total_steps, run=run, progress=progress)


load_policy = policy_loader(A2CConfig)
