"""Networks shared by the algorithms: an MLP builder and the Q-network with a dueling switch."""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int,
        activation: str = "relu") -> nn.Sequential:
    """Linear layers with an activation between them and none after the last."""
    layers: list[nn.Module] = []
    sizes = (in_dim, *hidden)
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(sizes[-1], out_dim))
    return nn.Sequential(*layers)


def init_weights(module: nn.Module, scheme: str) -> None:
    """Re-initialise Linear layers: 'he_uniform' matches Keras (the lab and lecture code)."""
    if scheme == "default":
        return
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            if scheme == "he_uniform":
                # Keras he_uniform: U(-sqrt(6/fan_in), +sqrt(6/fan_in)), zero bias.
                bound = math.sqrt(6.0 / layer.in_features)
                nn.init.uniform_(layer.weight, -bound, bound)
            elif scheme == "orthogonal":
                nn.init.orthogonal_(layer.weight, math.sqrt(2))
            nn.init.zeros_(layer.bias)


def dueling_aggregate(value: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """Q(s,a) = V(s) + A(s,a) - mean_a' A(s,a'), the identifiable form of Wang et al. (2016)."""
    return value + advantages - advantages.mean(dim=-1, keepdim=True)


class QNetwork(nn.Module):
    """Maps a flat observation to one Q-value per action; `dueling` splits V and A heads."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (256, 256),
                 activation: str = "relu", dueling: bool = False, init: str = "default"):
        super().__init__()
        self.dueling = dueling
        self.activation = activation
        self.n_actions = n_actions
        if dueling:
            self.body = mlp(obs_dim, hidden[:-1], hidden[-1], activation)
            self.body.append(ACTIVATIONS[activation]())
            self.value_head = nn.Linear(hidden[-1], 1)
            self.advantage_head = nn.Linear(hidden[-1], n_actions)
        else:
            self.body = mlp(obs_dim, hidden, n_actions, activation)
        init_weights(self, init)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.body(obs)
        if not self.dueling:
            return features
        return dueling_aggregate(self.value_head(features), self.advantage_head(features))


class ActorCritic(nn.Module):
    """Separate policy and value MLPs, as Stable-Baselines3's on-policy defaults (64-64 tanh).

    Orthogonal init with a small last-layer gain for the policy (0.01), so the first policy is
    close to uniform, and gain 1 for the value head (Andrychowicz et al. 2021).
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64),
                 activation: str = "tanh"):
        super().__init__()
        self.actor = mlp(obs_dim, hidden, n_actions, activation)
        self.critic = mlp(obs_dim, hidden, 1, activation)
        init_weights(self, "orthogonal")
        last_actor, last_critic = self.actor[-1], self.critic[-1]
        assert isinstance(last_actor, nn.Linear) and isinstance(last_critic, nn.Linear)
        nn.init.orthogonal_(last_actor.weight, 0.01)
        nn.init.orthogonal_(last_critic.weight, 1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(action logits, state values)."""
        return self.actor(obs), self.critic(obs).squeeze(-1)
