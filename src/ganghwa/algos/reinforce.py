"""REINFORCE: the Monte Carlo policy gradient, the first policy-gradient method of the course.

For a batch of whole episodes, with G_t the discounted return from step t (reward-to-go):

    loss = -mean_t log π(a_t|s_t) A_t + vf_coef mean_t (G_t - V(s_t))² - ent_coef mean_t H(π(·|s_t))
    A_t  = G_t - V(s_t)    with the learned baseline,   A_t = G_t without it

The baseline lowers the variance without biasing the gradient (Sutton & Barto, 13.4).
Evaluation is greedy (the most probable action), as for the value-based methods.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.buffers import discounted_returns
from ganghwa.config import ReinforceConfig
from ganghwa.envs import make_env
from ganghwa.errors import check_finite
from ganghwa.fastpath import fused_adam_reason
from ganghwa.losses import actor_critic_loss, gradient_step, normalized, policy_gradient_loss
from ganghwa.nets import ActorCritic, sample_actions
from ganghwa.run import Run
from ganghwa.runtime import set_threads
from ganghwa.session import learning_session


def episode_returns(rewards: np.ndarray, episode_ends: np.ndarray, gamma: float,
                    reward_to_go: bool) -> np.ndarray:
    """G_t from t on (reward-to-go), or every step weighted by its episode's whole return."""
    returns = discounted_returns(rewards, episode_ends, gamma)
    if reward_to_go:
        return returns
    starts = np.concatenate(([0], np.flatnonzero(episode_ends)[:-1] + 1))
    ends = np.flatnonzero(episode_ends) + 1
    return np.repeat(returns[starts], ends - starts)


class REINFORCE(Agent):
    """A stochastic policy (and its baseline) learned from whole episodes.

    >>> agent = REINFORCE("CartPole-v1", preset="tuned").learn(200_000)
    >>> action, _ = agent.predict(obs)
    """

    metrics: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy")

    def __init__(self, env: str | None = None, config: ReinforceConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, ReinforceConfig, env, config, settings)
        cfg = self.config
        self.action_start = int(action_space.start)  # type: ignore[attr-defined]
        self.net = ActorCritic.for_spaces(obs_space, action_space, cfg.hidden, cfg.activation)
        set_threads(cfg.threads)
        self.optimizer: torch.optim.Optimizer = torch.optim.Adam(
            self.net.parameters(), lr=cfg.lr, fused=fused_adam_reason("cpu") is None)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.env: gym.Env | None = None

    # ---------------------------------------------------------------- acting
    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions: the most probable, or sampled from π."""
        return sample_actions(self.net.actor, obs, None if deterministic else self.generator
                              ) + self.action_start

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    # ---------------------------------------------------------------- learning
    def update(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
               episode_ends: np.ndarray) -> dict[str, float]:
        """One gradient step on a batch of whole episodes; returns the loss and its parts."""
        cfg = self.config
        returns = torch.as_tensor(episode_returns(rewards, episode_ends, cfg.gamma,
                                                  cfg.reward_to_go), dtype=torch.float32)
        logits, values = self.net(torch.as_tensor(obs, dtype=torch.float32))
        advantages = returns - values.detach() if cfg.baseline else returns
        if cfg.normalize:
            advantages = normalized(advantages)
        loss, parts = actor_critic_loss(
            policy_gradient_loss(logits, torch.as_tensor(actions), advantages), logits,
            values if cfg.baseline else None, returns, cfg.vf_coef, cfg.ent_coef)
        gradient_step(self.net, self.optimizer, loss, cfg.max_grad_norm)
        self.updates += 1
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in parts.items()}}

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> REINFORCE:
        """Train until `steps` env steps in all (earlier calls and resumed runs count)."""
        cfg = self.config
        total = cfg.total_steps if steps is None else steps
        env = self.env = self.env or make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        # The first reset of every learn() call is seeded (a resume too, so it is repeatable).
        reset_seed: int | None = cfg.seed + (1 + self.episode if self.episode else 0)
        batch: dict[str, list[Any]] = {"obs": [], "actions": [], "rewards": [], "ends": []}
        with learning_session(self, run, total, progress) as session:
            while self.step < total and not self.stop_reason:
                obs, _ = env.reset(seed=reset_seed)
                reset_seed = None
                ret, length, prev_step, done = 0.0, 0, self.step, False
                while not done:
                    flat = np.asarray(obs, dtype=np.float32).reshape(1, -1)
                    action = int(sample_actions(self.net.actor, flat, self.generator)[0])
                    obs, reward, terminated, truncated, _ = env.step(action + self.action_start)
                    done = terminated or truncated
                    batch["obs"].append(flat[0])
                    batch["actions"].append(action)
                    batch["rewards"].append(float(reward))
                    batch["ends"].append(done)
                    ret += float(reward)
                    length += 1
                self.step += length
                self.episode += 1
                if self.episode % cfg.episodes_per_update == 0:
                    parts = self.update(np.stack(batch["obs"]), np.array(batch["actions"]),
                                        np.array(batch["rewards"]), np.array(batch["ends"]))
                    check_finite(parts["loss"], self.step)
                    session.logger.update(self.step, **{k: v for k, v in parts.items()
                                                        if k in self.metrics})
                    for values in batch.values():
                        values.clear()
                session.logger.episode(self.step, self.episode, ret, length)
                session.tick(prev_step)
        return self

    # ---------------------------------------------------------------- checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The networks; full adds the optimizer and the sampling RNG (a resume starts a fresh
        episode)."""
        return checkpoint.network_state(self.net, self.optimizer, self.generator, full)

    def load_state(self, state: dict[str, Any]) -> None:
        checkpoint.load_network_state(state, self.net, self.optimizer, self.generator)

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)
