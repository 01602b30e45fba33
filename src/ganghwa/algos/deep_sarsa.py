"""Deep SARSA: SARSA's on-policy TD(0) update with a neural network in place of the Q-table.

    a' ~ ε-greedy(Q(s', ·))                     the action the agent will really take next
    loss = (r + γ (1 - terminated) Q(s', a') - Q(s, a))²

One update per env step, on that step alone: no replay memory and no target network, as in
the lecture (they are what DQN adds). The forward and backward passes are ManualBackprop's
with a batch of one, so a step costs tens of microseconds rather than autograd's hundreds.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.config import DeepSarsaConfig
from ganghwa.envs import make_env
from ganghwa.errors import check_finite
from ganghwa.fastpath import fused_step, make_adam, manual_backprop_reason
from ganghwa.fastpath.backprop import ManualBackprop, flatten_parameters, param_views
from ganghwa.nets import QNetwork, greedy_actions
from ganghwa.run import Run
from ganghwa.runtime import set_threads
from ganghwa.schedules import epsilon
from ganghwa.session import learning_session


class DeepSarsa(Agent):
    """A Q-network trained on-policy, one transition at a time."""

    display_name: ClassVar[str] = "Deep SARSA"
    metrics: ClassVar[tuple[str, ...]] = ("epsilon", "td_loss")

    def __init__(self, env: str | None = None, config: DeepSarsaConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, DeepSarsaConfig, env, config, settings)
        cfg = self.config
        self.n_actions = int(action_space.n)  # type: ignore[attr-defined]
        self.action_start = int(action_space.start)  # type: ignore[attr-defined]
        self.q_net = QNetwork(int(np.prod(obs_space.shape or (1,))), self.n_actions, cfg.hidden,
                              cfg.activation)
        set_threads(cfg.threads)
        self._flat = flatten_parameters(self.q_net)
        self._weights = list(self.q_net.parameters())
        assert self._flat.grad is not None
        # The fast path's forward and backward with a batch of one where it supports the
        # network; autograd where it does not.
        self._backprop = None if manual_backprop_reason(self.q_net, "cpu") else ManualBackprop(
            self.q_net, param_views(self._flat.grad, self._weights), batch_size=1)
        self.optimizer = make_adam(self._flat, lr=cfg.lr)
        self._optimizer_step = fused_step(self.optimizer, self._flat)
        self.rng = np.random.default_rng(cfg.seed)
        self._grad_q = torch.zeros(1, self.n_actions)
        self.env: gym.Env | None = None

    def _q_values(self, obs: np.ndarray, keep: bool = False) -> torch.Tensor:
        """Q(obs, ·); `keep` records what the gradient step needs."""
        x = torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1)
        if self._backprop is not None:
            return self._backprop.forward(x, self._weights, keep=keep)[0]
        with torch.set_grad_enabled(keep):
            return self.q_net(x)[0]

    def _gradient_step(self, q_values: torch.Tensor, action: int, target: float) -> float:
        """One Adam step on (Q(s, a) - target)²; returns the squared error."""
        error = float(q_values[action]) - target
        if self._backprop is not None:  # the loss's gradient in Q(s, a) is 2 error
            self._grad_q[0, action] = 2.0 * error
            self._backprop.backward(self._grad_q, self._weights)
            self._grad_q[0, action] = 0.0
        else:
            assert self._flat.grad is not None
            self._flat.grad.zero_()
            (q_values[action] - target).pow(2).backward()
        self._optimizer_step()
        return error * error

    def _act(self, q_values: torch.Tensor, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(self.n_actions))
        return int(q_values.argmax())

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions: the highest Q-value (the only mode it evaluates)."""
        return greedy_actions(self.q_net, np.asarray(obs).reshape(len(obs), -1),
                              self.action_start)

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> DeepSarsa:
        """Train until `steps` env steps in all (earlier calls and resumed runs count)."""
        cfg = self.config
        total = cfg.total_steps if steps is None else steps
        env = self.env = self.env or make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        # The first reset of every learn() call is seeded (a resume too, so it is repeatable).
        reset_seed: int | None = cfg.seed + (1 + self.episode if self.episode else 0)
        with learning_session(self, run, total, progress) as session:
            while self.step < total and not self.stop_reason:
                eps = epsilon(cfg, self.episode if cfg.eps_unit == "episode" else self.step)
                obs, _ = env.reset(seed=reset_seed)
                reset_seed = None
                action = self._act(self._q_values(obs), eps)
                ret, length, loss_sum, prev_step = 0.0, 0, 0.0, self.step
                done = False
                while not done:
                    next_obs, reward, terminated, truncated, _ = env.step(
                        action + self.action_start)
                    done = terminated or truncated
                    next_q = self._q_values(next_obs)
                    next_action = self._act(next_q, eps)
                    target = float(reward) + (0.0 if terminated
                                              else cfg.gamma * float(next_q[next_action]))
                    loss_sum += self._gradient_step(self._q_values(obs, keep=True), action,
                                                    target)
                    obs, action = next_obs, next_action
                    ret += float(reward)
                    length += 1
                    if self.step + length >= total:
                        break
                self.step += length
                self.episode += 1
                check_finite(loss_sum / length, self.step)
                session.logger.episode(self.step, self.episode, ret, length, epsilon=eps,
                                       td_loss=loss_sum / length)
                session.tick(prev_step)
        return self

    # ---------------------------------------------------------------- checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The network; full adds the optimizer and RNG (a resume starts a fresh episode)."""
        state: dict[str, Any] = {"q_net": self.q_net.state_dict()}
        if full:
            state.update(optimizer=self.optimizer.state_dict(),
                         rng={"numpy": self.rng.bit_generator.state})
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        self.q_net.load_state_dict(state["q_net"])
        if "optimizer" in state:
            self.optimizer.load_state_dict(state["optimizer"])
            self.rng.bit_generator.state = state["rng"]["numpy"]

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)
