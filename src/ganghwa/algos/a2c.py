"""A2C and PPO: one synchronous actor-critic loop on gymnasium vector envs, with switches.

Every `n_steps` steps of `num_envs` envs (a rollout), advantages A and returns R = A + V come
from generalised advantage estimation (λ = 1: n-step returns). Episodes cut off by a time limit
are bootstrapped from the value of their last observation (infos["final_obs"]). Then
`n_epochs` passes over the rollout in minibatches of `batch_size` minimise

    loss = policy loss + vf_coef mean (R - V(s))² - ent_coef mean H(π(·|s))
    A2C (clip_range none):  policy loss = -mean log π(a|s) A
    PPO (clip_range ε):     policy loss = -mean min(ρ A, clip(ρ, 1-ε, 1+ε) A),
                            ρ = π(a|s) / π_old(a|s), π_old the policy that collected the data

A2C is one epoch over the whole rollout; PPO is the same loop with PPOConfig's defaults. A3C's
workers (actor_learner.py) reuse `collect`, `rollout_batch` and `loss`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.buffers import compute_gae
from ganghwa.config import A2CConfig, BaseConfig, PPOConfig
from ganghwa.envs import make_vec_env
from ganghwa.errors import check_finite
from ganghwa.losses import (
    actor_critic_loss,
    gradient_step,
    log_prob_of,
    normalized,
    policy_gradient_loss,
    ppo_clip_loss,
)
from ganghwa.nets import ActorCritic, sample_actions
from ganghwa.run import Run
from ganghwa.runtime import set_threads
from ganghwa.session import learning_session


class Rollout(NamedTuple):
    """One rollout, flattened over (step, env): what the loss needs."""

    obs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor


class A2C(Agent):
    """An actor-critic learned from synchronous rollouts of several envs (A2C, or PPO).

    >>> agent = A2C("CartPole-v1", preset="tuned").learn(500_000)
    >>> action, _ = agent.predict(obs)
    """

    config_class: ClassVar[type[BaseConfig]] = A2CConfig
    metrics: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy")

    def __init__(self, env: str | None = None, config: BaseConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, self.config_class, env, config, settings)
        cfg = self.config
        self.net = ActorCritic.for_spaces(obs_space, action_space, cfg.hidden, cfg.activation,
                                          cfg.normalize_obs)
        self.action_start = int(action_space.start)  # type: ignore[attr-defined]
        set_threads(cfg.threads)
        self.optimizer: torch.optim.Optimizer = (
            torch.optim.RMSprop(self.net.parameters(), lr=cfg.lr, alpha=0.99, eps=1e-5)
            if cfg.optimizer == "rmsprop"
            else torch.optim.Adam(self.net.parameters(), lr=cfg.lr, eps=1e-5))  # SB3's eps
        self.generator = torch.Generator().manual_seed(cfg.seed)
        shape = (cfg.n_steps, cfg.num_envs)
        obs_dim = self.net.obs_dim
        self._obs = np.zeros((*shape, obs_dim), dtype=np.float32)
        self._next_obs = np.zeros_like(self._obs)
        self._actions = np.zeros(shape, dtype=np.int64)
        self._log_probs = np.zeros(shape, dtype=np.float32)
        self._values = np.zeros(shape)
        self._rewards = np.zeros(shape)
        self._terminated = np.zeros(shape)
        self._ends = np.zeros(shape)
        self._ep_returns = np.zeros(cfg.num_envs)
        self._ep_lengths = np.zeros(cfg.num_envs, dtype=np.int64)

    # ---------------------------------------------------------------- acting
    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions: the most probable, or sampled from π."""
        return sample_actions(self.net.actor, obs, None if deterministic else self.generator
                              ) + self.action_start

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    def _act(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sampled actions, their log-probabilities and the state values."""
        with torch.no_grad():
            logits, values = self.net(torch.as_tensor(obs))
            log_probs = torch.log_softmax(logits, dim=1)
            actions = torch.multinomial(log_probs.exp(), 1, generator=self.generator)
        return (actions.squeeze(1).numpy(), log_probs.gather(1, actions).squeeze(1).numpy(),
                values.numpy())

    # ---------------------------------------------------------------- learning
    def collect(self, envs: gym.vector.VectorEnv, obs: np.ndarray,
                on_episode: Callable[[int, float, int], None]) -> np.ndarray:
        """Step `envs` for n_steps into the rollout buffers; returns the next observations.

        `on_episode(steps_into_rollout, return, length)` is called as each episode ends.
        """
        cfg = self.config
        for t in range(cfg.n_steps):
            obs = np.asarray(obs, dtype=np.float32).reshape(cfg.num_envs, -1)
            actions, self._log_probs[t], self._values[t] = self._act(obs)
            next_obs, rewards, terminated, truncated, infos = envs.step(
                actions + self.action_start)
            ends = terminated | truncated
            self._obs[t] = obs
            self._actions[t] = actions
            self._rewards[t] = rewards
            self._terminated[t] = terminated
            self._ends[t] = ends
            self._next_obs[t] = np.asarray(next_obs).reshape(cfg.num_envs, -1)
            self._ep_returns += rewards
            self._ep_lengths += 1
            for i in np.flatnonzero(ends):  # the true last observation, then report
                self._next_obs[t, i] = np.asarray(infos["final_obs"][i]).reshape(-1)
                on_episode((t + 1) * cfg.num_envs, float(self._ep_returns[i]),
                           int(self._ep_lengths[i]))
                self._ep_returns[i], self._ep_lengths[i] = 0.0, 0
            obs = next_obs
        return obs

    def rollout_batch(self) -> Rollout:
        """The rollout in the buffers as flat tensors, with GAE advantages and returns."""
        cfg = self.config
        with torch.no_grad():
            next_values = self.net.critic(torch.as_tensor(
                self._next_obs.reshape(-1, self._next_obs.shape[-1]))).squeeze(-1)
        advantages, returns = compute_gae(
            self._rewards, self._values, next_values.numpy().reshape(self._values.shape),
            self._terminated, self._ends, cfg.gamma, cfg.gae_lambda)
        return Rollout(torch.as_tensor(self._obs.reshape(-1, self._obs.shape[-1])),
                       torch.as_tensor(self._actions.reshape(-1)),
                       torch.as_tensor(self._log_probs.reshape(-1)),
                       torch.as_tensor(advantages.reshape(-1), dtype=torch.float32),
                       torch.as_tensor(returns.reshape(-1), dtype=torch.float32))

    def loss(self, batch: Rollout, idx: torch.Tensor | slice, clip: float | None
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The actor-critic loss on rows `idx` of a rollout (PPO's clipped one if `clip`),
        and its parts for logging."""
        cfg = self.config
        logits, values = self.net(batch.obs[idx])
        adv = normalized(batch.advantages[idx]) if cfg.normalize else batch.advantages[idx]
        extra: dict[str, torch.Tensor] = {}
        if clip is None:
            policy_loss = policy_gradient_loss(logits, batch.actions[idx], adv)
        else:
            policy_loss, extra["approx_kl"], extra["clip_fraction"] = ppo_clip_loss(
                log_prob_of(logits, batch.actions[idx]), batch.log_probs[idx], adv, clip)
        loss, parts = actor_critic_loss(policy_loss, logits, values, batch.returns[idx],
                                        cfg.vf_coef, cfg.ent_coef)
        return loss, {**parts, **extra, "loss": loss.detach()}

    def update(self, progress: float = 0.0) -> dict[str, float]:
        """`n_epochs` passes over the rollout in the buffers; returns the mean loss parts.

        `progress` (0 to 1, the share of training done) drives the linear schedules.
        """
        cfg = self.config
        remaining = max(0.0, 1.0 - progress)  # the last rollout can overshoot the budget
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr * (remaining if cfg.lr_schedule == "linear" else 1.0)
        clip = cfg.clip_range
        if clip is not None and cfg.clip_range_schedule == "linear":
            clip *= remaining
        batch = self.rollout_batch()
        n = len(batch.obs)
        size = cfg.batch_size or n
        sums: dict[str, torch.Tensor] = {}
        count = 0
        for _ in range(cfg.n_epochs):
            order = torch.randperm(n, generator=self.generator) if size < n else torch.arange(n)
            for first in range(0, n, size):
                loss, parts = self.loss(batch, order[first:first + size], clip)
                gradient_step(self.net, self.optimizer, loss, cfg.max_grad_norm)
                for key, value in parts.items():
                    sums[key] = sums[key] + value if key in sums else value
                count += 1
        if self.net.obs_norm is not None:  # after the epochs: the rollout's π_old and V used
            self.net.obs_norm.update(self._obs)  # the statistics its loss uses (ρ = 1 at first)
        self.updates += 1
        return {key: float(value) / count for key, value in sums.items()}

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> A2C:
        """Train until `steps` env steps in all (earlier calls and resumed runs count)."""
        cfg = self.config
        total = cfg.total_steps if steps is None else steps
        # A resume seeds its fresh envs too (seed + 1 + episode), so it is repeatable.
        seed = cfg.seed + (1 + self.episode if self.episode else 0)
        envs, obs = make_vec_env(cfg.env_id, cfg.num_envs, seed, cfg.env_kwargs)
        self._ep_returns[:], self._ep_lengths[:] = 0.0, 0
        try:
            with learning_session(self, run, total, progress) as session:
                def log_episode(offset: int, ret: float, length: int) -> None:
                    self.episode += 1
                    session.logger.episode(self.step + offset, self.episode, ret, length)

                while self.step < total and not self.stop_reason:
                    prev_step = self.step
                    obs = self.collect(envs, obs, log_episode)
                    self.step += cfg.n_steps * cfg.num_envs
                    parts = self.update(progress=self.step / total)
                    check_finite(parts["loss"], self.step)
                    session.logger.update(self.step, **{k: v for k, v in parts.items()
                                                        if k in self.metrics})
                    session.tick(prev_step)
        finally:
            envs.close()
        return self

    # ---------------------------------------------------------------- checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The network; full adds the optimizer and the sampling RNG (a resume starts fresh
        episodes)."""
        return checkpoint.network_state(self.net, self.optimizer, self.generator, full)

    def load_state(self, state: dict[str, Any]) -> None:
        checkpoint.load_network_state(state, self.net, self.optimizer, self.generator)

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)


class PPO(A2C):
    """PPO: A2C's loop with PPOConfig's defaults (clipped ratio, minibatch epochs, λ 0.95); it
    adds only its defaults and the two diagnostics it logs."""

    config_class: ClassVar[type[BaseConfig]] = PPOConfig
    metrics: ClassVar[tuple[str, ...]] = (*A2C.metrics, "approx_kl", "clip_fraction")
