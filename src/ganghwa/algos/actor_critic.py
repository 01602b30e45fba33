"""What the policy-gradient methods share: the loss, the network, greedy acting, checkpoints.

Functions, and one mixin of the thin public methods (predict, evaluate, save, ...): REINFORCE,
A2C and A3C collect their data differently, and each file keeps its own loop.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ganghwa.algos.dqn import Diverged
from ganghwa.config import BaseConfig, apply
from ganghwa.envs import env_spaces
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import EvalResult, evaluate
from ganghwa.nets import ActorCritic
from ganghwa.run import load_weights, save_checkpoint


def policy_gradient_loss(logits: torch.Tensor, actions: torch.Tensor,
                         advantages: torch.Tensor) -> torch.Tensor:
    """-mean log π(a|s) · A: its gradient is the policy gradient estimate."""
    log_probs = torch.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)
    return -(log_probs * advantages).mean()


class _LossConfig(Protocol):
    vf_coef: float
    ent_coef: float
    max_grad_norm: float | None


def actor_critic_loss(cfg: _LossConfig, policy_loss: torch.Tensor, logits: torch.Tensor,
                      values: torch.Tensor | None, returns: torch.Tensor) -> torch.Tensor:
    """The policy loss plus the value loss (unless `values` is None) minus the entropy bonus."""
    loss = policy_loss
    if values is not None:
        loss = loss + cfg.vf_coef * (returns - values).pow(2).mean()
    if cfg.ent_coef:
        log_probs = torch.log_softmax(logits, dim=-1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=-1).mean()
        loss = loss - cfg.ent_coef * entropy
    return loss


def gradient_step(net: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                  max_grad_norm: float | None) -> torch.Tensor:
    """Backward, clip the gradient norm, step; returns the loss, detached."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(net.parameters(), max_grad_norm)
    optimizer.step()
    return loss.detach()


def value_and_entropy_step(cfg: _LossConfig, net: ActorCritic, optimizer: torch.optim.Optimizer,
                           policy_loss: torch.Tensor, logits: torch.Tensor,
                           values: torch.Tensor | None, returns: torch.Tensor) -> torch.Tensor:
    """actor_critic_loss, then one clipped gradient step; returns the total loss."""
    return gradient_step(net, optimizer, actor_critic_loss(cfg, policy_loss, logits, values,
                                                           returns), cfg.max_grad_norm)


def check_finite(loss: float, step: int) -> None:
    """A NaN or infinite loss stops the run; the last good checkpoint stays."""
    if not math.isfinite(loss):
        raise Diverged(f"the loss became {loss} at step {step}; the last good checkpoint is "
                       "kept. Lower --set lr")


def normalized(advantages: torch.Tensor) -> torch.Tensor:
    """Mean 0, standard deviation 1 (a batch of one is left alone)."""
    if len(advantages) < 2:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def predict(agent: PolicyAgent, obs: np.ndarray, deterministic: bool
            ) -> tuple[np.ndarray, None]:
    """SB3's `predict`: the most probable action, or a sample from π; one obs or a batch."""
    obs = np.asarray(obs, dtype=np.float32)
    batch = obs if obs.ndim == 2 else obs[None]
    if deterministic:
        actions = greedy(agent.net, batch, agent.action_start)
    else:
        with torch.no_grad():
            logits = agent.net.actor(torch.as_tensor(batch))
        actions = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=agent.generator
                                    ).squeeze(1).numpy() + agent.action_start
    return (actions if obs.ndim == 2 else actions[0]), None


class _NetConfig(Protocol):
    hidden: tuple[int, ...]
    activation: str


def build_network(cfg: _NetConfig, obs_space: gym.Space, action_space: gym.Space
                  ) -> ActorCritic:
    assert isinstance(action_space, gym.spaces.Discrete) and obs_space.shape is not None
    return ActorCritic(int(np.prod(obs_space.shape)), int(action_space.n), cfg.hidden,
                       cfg.activation)


def greedy(net: ActorCritic, obs: np.ndarray, start: int) -> np.ndarray:
    """The most probable action of each observation, as env actions."""
    with torch.inference_mode():
        logits = net.actor(torch.as_tensor(np.asarray(obs), dtype=torch.float32)
                           .reshape(len(obs), -1))
    return logits.argmax(dim=1).numpy() + start


class PolicyAgent(Protocol):
    config: Any
    net: ActorCritic
    action_start: int
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    step: int
    episode: int
    updates: int
    best_score: float
    elapsed: float


def save_model(agent: PolicyAgent, path: str | Path) -> None:
    """The network and its config: enough to act."""
    save_checkpoint(_model_state(agent), Path(path))


def save_training_state(agent: PolicyAgent, path: Path, elapsed: float) -> None:
    """Network, optimizer, counters and sampling RNG, for `ganghwa resume`."""
    save_checkpoint({**_model_state(agent), "optimizer": agent.optimizer.state_dict(),
                     "counters": {"step": agent.step, "episode": agent.episode,
                                  "updates": agent.updates, "best_score": agent.best_score,
                                  "elapsed": elapsed},
                     "rng": {"torch": agent.generator.get_state()}}, path)


def restore(agent: PolicyAgent, state: dict[str, Any]) -> None:
    load_weights(agent.net, agent.optimizer, state, "net")
    if "counters" in state:
        c = state["counters"]
        agent.step, agent.episode, agent.updates = c["step"], c["episode"], c["updates"]
        agent.best_score, agent.elapsed = c["best_score"], c["elapsed"]
        agent.generator.set_state(state["rng"]["torch"])


def _model_state(agent: PolicyAgent) -> dict[str, Any]:
    return {"algo": agent.config.algo, "config": dataclasses.asdict(agent.config),
            "net": agent.net.state_dict()}


def policy_loader(config_cls: type[BaseConfig], build: Callable[..., Any] = build_network,
                  act: Callable[[Any, np.ndarray, int], np.ndarray] = greedy
                  ) -> Callable[[dict[str, Any]], Callable[[np.ndarray], np.ndarray]]:
    """A registry `load_policy` for checkpoints holding the config and a "net" state_dict:
    `build(cfg, obs_space, action_space)` makes the network, `act(net, obs, start)` acts."""
    def load_policy(state: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
        cfg = apply(config_cls(), state["config"])
        obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
        net = build(cfg, obs_space, action_space)
        try:
            net.load_state_dict(state["net"])
        except (RuntimeError, KeyError) as e:
            raise GanghwaError(f"checkpoint does not match its config "
                               f"({str(e).splitlines()[0][:100]})") from None
        start = int(action_space.start)  # type: ignore[attr-defined]
        return lambda obs: act(net, obs, start)

    return load_policy


class PolicyMethods:
    """The public methods every policy-gradient agent has alike (SB3's names), for a class
    with the PolicyAgent attributes."""

    config: Any
    net: ActorCritic
    action_start: int

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray:
        return greedy(self.net, obs, self.action_start)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """SB3's signature: the most probable action, or a sample from π."""
        return predict(self, obs, deterministic)  # type: ignore[arg-type]

    def evaluate(self, episodes: int, seed: int) -> EvalResult:
        return evaluate(self.greedy_policy, self.config.env_id, episodes, seed,
                        self.config.env_kwargs)

    def save(self, path: str | Path) -> None:
        save_model(self, path)  # type: ignore[arg-type]

    def save_state(self, path: Path, elapsed: float) -> None:
        """Network, optimizer, counters, RNG; a resume starts fresh episodes."""
        save_training_state(self, path, elapsed)  # type: ignore[arg-type]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore(self, state)  # type: ignore[arg-type]
