"""The policy-gradient losses as pure functions of tensors (Dopamine's habit): REINFORCE, A2C,
PPO and A3C's workers all call these, and the tests check them against hand-computed values."""

from __future__ import annotations

import torch
from torch import nn

from ganghwa.fastpath import plain_step


def log_prob_of(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log π(a|s) of the actions taken, from the policy's logits."""
    return torch.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)


def policy_gradient_loss(logits: torch.Tensor, actions: torch.Tensor,
                         advantages: torch.Tensor) -> torch.Tensor:
    """-mean log π(a|s) · A: its gradient is the policy gradient estimate."""
    return -(log_prob_of(logits, actions) * advantages).mean()


def ppo_clip_loss(log_probs: torch.Tensor, old_log_probs: torch.Tensor,
                  advantages: torch.Tensor, clip_range: float
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, negated: -mean min(ρ A, clip(ρ, 1-ε, 1+ε) A), with the
    approximate KL divergence mean((ρ - 1) - log ρ) and the share of clipped ratios
    (CleanRL's approx_kl and clipfrac), both without gradient."""
    log_ratio = log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    clipped = torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = -torch.min(ratio * advantages, clipped * advantages).mean()
    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
        clip_fraction = ((ratio - 1.0).abs() > clip_range).float().mean()
    return loss, approx_kl, clip_fraction


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy H(π(·|s)) of a batch of categorical policies."""
    log_probs = torch.log_softmax(logits, dim=-1)
    return -(log_probs.exp() * log_probs).sum(dim=-1).mean()


def actor_critic_loss(policy_loss: torch.Tensor, logits: torch.Tensor,
                      values: torch.Tensor | None, returns: torch.Tensor, vf_coef: float,
                      ent_coef: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """policy loss + vf_coef mean (R - V)² - ent_coef H, and its parts (detached) for logging.
    `values` None leaves out the value loss (REINFORCE without a baseline)."""
    h = entropy(logits)
    loss = policy_loss - ent_coef * h if ent_coef else policy_loss
    parts = {"policy_loss": policy_loss.detach(), "entropy": h.detach()}
    if values is not None:
        value_loss = (returns - values).pow(2).mean()
        loss = loss + vf_coef * value_loss
        parts["value_loss"] = value_loss.detach()
    return loss, parts


def normalized(advantages: torch.Tensor) -> torch.Tensor:
    """Mean 0, standard deviation 1 (a batch of one is left alone)."""
    if len(advantages) < 2:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def gradient_step(net: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                  max_grad_norm: float | None) -> None:
    """Backward, clip the gradient norm, step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(net.parameters(), max_grad_norm)
    plain_step(optimizer)
