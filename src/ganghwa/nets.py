"""Networks shared by the algorithms: an MLP builder, a CNN for frames, and the Q-network
with a dueling switch (over either)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganghwa.activations import ACTIVATIONS  # the one table (also importable here)
from ganghwa.resources import require_memory


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int,
        activation: str = "relu") -> nn.Sequential:
    """Linear layers with an activation (a key of ACTIVATIONS) between them and none after the
    last."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    sizes = (in_dim, *hidden)
    params = sum((a + 1) * b for a, b in itertools.pairwise((*sizes, out_dim)))
    # weights, gradients, Adam's two moments and a target network's copy: float32 each
    require_memory(params * 4 * 5, f"an MLP of hidden sizes {','.join(map(str, hidden))} "
                   f"({params:,} weights)", "use smaller --set hidden=...")
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), ACTIVATIONS[activation].module()]
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


def scale_noise(x: torch.Tensor) -> torch.Tensor:
    """f(x) = sign(x)·√|x|, the factorised noise's scaling (Fortunato et al. 2018)."""
    return x.sign() * x.abs().sqrt()


class NoisyLinear(nn.Module):
    """A linear layer with factorised Gaussian noise on its weights (Fortunato et al. 2018):

        w = μ_w + σ_w ⊙ (f(ε_out) f(ε_in)ᵀ),   b = μ_b + σ_b ⊙ f(ε_out),   ε ~ N(0, 1)

    p + q noise draws for a p×q layer instead of p·q. μ starts U(±1/√in), σ at σ0/√in. The
    noise is redrawn by `reset_noise()`; with `noise = False` the layer is its mean (greedy
    evaluation). Written here because torch has no noisy layer (torchrl's needs its package).
    """

    def __init__(self, in_features: int, out_features: int, sigma0: float = 0.5):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound,
                                                                                      bound))
        self.weight_sigma = nn.Parameter(torch.full((out_features, in_features), sigma0 * bound))
        self.bias_mu = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.bias_sigma = nn.Parameter(torch.full((out_features,), sigma0 * bound))
        self.register_buffer("eps_in", torch.zeros(in_features))
        self.register_buffer("eps_out", torch.zeros(out_features))
        self.noise = True

    eps_in: torch.Tensor
    eps_out: torch.Tensor

    def reset_noise(self) -> None:
        with torch.no_grad():
            self.eps_in.copy_(scale_noise(torch.randn(self.in_features)))
            self.eps_out.copy_(scale_noise(torch.randn(self.out_features)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.noise:
            return F.linear(x, self.weight_mu, self.bias_mu)
        weight = self.weight_mu + self.weight_sigma * torch.outer(self.eps_out, self.eps_in)
        return F.linear(x, weight, self.bias_mu + self.bias_sigma * self.eps_out)


def make_noisy(module: nn.Module, sigma0: float) -> None:
    """Replace every nn.Linear inside `module` by a NoisyLinear of the same shape."""
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, NoisyLinear(child.in_features, child.out_features, sigma0))
        else:
            make_noisy(child, sigma0)


def dueling_aggregate(value: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """Q(s,a) = V(s) + A(s,a) - mean_a' A(s,a'), the identifiable form of Wang et al. (2016)."""
    return value + advantages - advantages.mean(dim=-1, keepdim=True)


def image_layout(shape: tuple[int, ...]) -> tuple[int, int, int, bool]:
    """(channels, height, width, channels_last) of an image observation's shape.

    Gymnasium's frames are channels-last (H, W, 3); its FrameStackObservation over grayscale
    frames gives channels-first (k, H, W). The channel axis is the short one (<= 4) at an end.
    """
    if len(shape) != 3:
        raise ValueError(f"an image observation has 3 axes, got shape {shape}")
    if shape[-1] <= 4 and shape[-1] < shape[0]:
        return shape[2], shape[0], shape[1], True
    return shape[0], shape[1], shape[2], False


def input_scale(obs_space: Any) -> float:
    """1/255 for uint8 pixels, which the encoder scales to [0, 1]; 1 for anything else."""
    return 1 / 255 if getattr(obs_space, "dtype", None) == np.uint8 else 1.0


class ImageEncoder(nn.Module):
    """Frames to a feature vector: the Nature DQN convolutions (Mnih et al. 2015) for frames of
    36 pixels and more, and three 3×3 convolutions for small boards (Snake's 20×20), where the
    Nature stack's 8×8 stride-4 filters would leave no image. uint8 pixels are scaled to [0, 1].
    """

    def __init__(self, shape: tuple[int, ...], scale: float = 1.0):
        super().__init__()
        channels, height, width, self.channels_last = image_layout(shape)
        self.scale = scale
        if min(height, width) >= 36:
            self.convs = nn.Sequential(
                nn.Conv2d(channels, 32, 8, stride=4), nn.ReLU(),
                nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
                nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(), nn.Flatten())
        else:
            self.convs = nn.Sequential(
                nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            self.out_dim = int(self.convs(torch.zeros(1, channels, height, width)).shape[1])

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float() * self.scale
        if self.channels_last:
            x = x.permute(0, 3, 1, 2)
        return self.convs(x)


class QNetwork(nn.Module):
    """Maps an observation to one Q-value per action; `dueling` splits V and A heads.

    A flat observation (an int size, or a 1-D shape) goes straight into the MLP; an image
    (a 3-D shape) goes through the ImageEncoder first, and `hidden` sizes the MLP after it.
    With a `support` (C51's atoms) each action gets a categorical return distribution.
    """

    support: torch.Tensor

    def __init__(self, obs_shape: int | tuple[int, ...], n_actions: int,
                 hidden: tuple[int, ...] = (256, 256), activation: str = "relu",
                 dueling: bool = False, init: str = "default", pixel_scale: float = 1.0,
                 support: torch.Tensor | None = None, noisy_sigma0: float | None = None):
        super().__init__()
        self.dueling = dueling
        self.activation = activation
        self.n_actions = n_actions
        # C51: a distribution over `support` per action; forward() still returns its mean
        self.atoms = 1 if support is None else int(support.numel())
        if support is not None:
            self.register_buffer("support", support.float())
        outputs = n_actions * self.atoms
        shape = (obs_shape,) if isinstance(obs_shape, int) else tuple(obs_shape)
        self.encoder: nn.Module = nn.Identity()
        in_dim = shape[0]
        if len(shape) == 3:
            self.encoder = ImageEncoder(shape, pixel_scale)
            in_dim = self.encoder.out_dim
        elif len(shape) != 1:
            raise ValueError(f"QNetwork takes a flat or an image observation, got shape {shape}")
        if dueling:
            self.body = mlp(in_dim, hidden[:-1], hidden[-1], activation)
            self.body.append(ACTIVATIONS[activation].module())
            self.value_head = nn.Linear(hidden[-1], self.atoms)
            self.advantage_head = nn.Linear(hidden[-1], outputs)
        else:
            self.body = mlp(in_dim, hidden, outputs, activation)
        init_weights(self, init)
        self.noisy = noisy_sigma0 is not None
        if noisy_sigma0 is not None:  # the fully connected layers, not the convolutions
            make_noisy(self.body, noisy_sigma0)
            for name in ("value_head", "advantage_head"):
                head = getattr(self, name, None)
                if isinstance(head, nn.Linear):
                    setattr(self, name, NoisyLinear(head.in_features, head.out_features,
                                                    noisy_sigma0))
            self.reset_noise()

    def noisy_layers(self) -> list[NoisyLinear]:
        return [m for m in self.modules() if isinstance(m, NoisyLinear)]

    def reset_noise(self) -> None:
        """Fresh noise in every noisy layer."""
        for layer in self.noisy_layers():
            layer.reset_noise()

    def use_noise(self, on: bool) -> None:
        """Noisy weights (acting and learning) or their means (greedy evaluation)."""
        for layer in self.noisy_layers():
            layer.noise = on

    @property
    def is_image(self) -> bool:
        return isinstance(self.encoder, ImageEncoder)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Q-values (batch, actions); for C51 the mean of each action's distribution."""
        if self.atoms == 1:
            features = self.body(self.encoder(obs))
            if not self.dueling:
                return features
            return dueling_aggregate(self.value_head(features), self.advantage_head(features))
        return (torch.softmax(self.logits(obs), dim=-1) * self.support).sum(dim=-1)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """C51: (batch, actions, atoms) logits of each action's return distribution; dueling
        aggregates per atom, as in Rainbow."""
        features = self.body(self.encoder(obs))
        if not self.dueling:
            return features.view(len(features), self.n_actions, self.atoms)
        value = self.value_head(features).view(len(features), 1, self.atoms)
        advantage = self.advantage_head(features).view(len(features), self.n_actions, self.atoms)
        return value + advantage - advantage.mean(dim=1, keepdim=True)


def greedy_actions(q_net: nn.Module, obs: np.ndarray, action_start: int = 0) -> np.ndarray:
    """argmax_a of a network's outputs (Q-values, or a policy's logits) for a batch, as env
    actions (offset by the space's start)."""
    device = next(q_net.parameters()).device
    with torch.inference_mode():
        q_values = q_net(torch.as_tensor(obs, dtype=torch.float32, device=device))
    return q_values.argmax(dim=1).cpu().numpy() + action_start


def sample_actions(actor: nn.Module, obs: np.ndarray,
                   generator: torch.Generator | None) -> np.ndarray:
    """Action indices for a batch of (flattened) observations from a policy's logits: the most
    probable with no generator, else sampled from π with it."""
    x = torch.as_tensor(np.asarray(obs), dtype=torch.float32).reshape(len(obs), -1)
    if generator is None:
        return greedy_actions(actor, x.numpy())
    with torch.no_grad():
        probs = torch.softmax(actor(x), dim=1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1).numpy()


class ObsNorm(nn.Module):
    """Observations scaled by their running mean and standard deviation, clipped to ±clip:
    Stable-Baselines3's VecNormalize (ε 1e-8, clip 10), as a layer in front of the network.

    Written here rather than taken from gymnasium's NormalizeObservation wrapper because the
    statistics must travel with the weights: as buffers they are in every state_dict (so a
    weights_only checkpoint restores them), and every user of the network (evaluate, record,
    play, predict) sees observations scaled the same way without wrapping its own env. They
    change only through `update`, never in forward, so evaluation leaves them as they are.
    """

    mean: torch.Tensor
    var: torch.Tensor
    count: torch.Tensor

    def __init__(self, dim: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))  # gymnasium's
        self.clip, self.eps = clip, eps
        self._scale()

    def _scale(self) -> None:
        """float32 copies for forward, so no step recomputes them from the float64 sums. They
        are plain attributes, not buffers, so everything that replaces the buffers (update,
        load_state_dict, and `_apply` behind .to(), .cuda() and share_memory()) remakes them."""
        self._shift = self.mean.float()
        self._inv_std = (self.var + self.eps).rsqrt().float()

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> ObsNorm:
        super()._apply(fn, *args, **kwargs)
        self._scale()
        return self

    @torch.no_grad()
    def update(self, batch: np.ndarray) -> None:
        """Merge a batch of observations (rows) into the running moments (Chan et al.)."""
        x = torch.as_tensor(np.asarray(batch), dtype=torch.float64).reshape(-1, len(self.mean))
        if not bool(torch.isfinite(x).all()):  # one NaN would poison the moments for good
            raise ValueError("ObsNorm.update got an observation with NaN or inf; fix the env "
                             "(gymnasium's check_env finds many such faults)")
        n = float(len(x))
        mean, var = x.mean(0), x.var(0, unbiased=False)
        total = self.count + n
        delta = mean - self.mean
        self.var.copy_((self.var * self.count + var * n + delta**2 * self.count * n / total)
                       / total)
        self.mean.add_(delta * n / total)
        self.count.copy_(total)
        self._scale()

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._scale()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self._shift) * self._inv_std).clamp(-self.clip, self.clip)


class ActorCritic(nn.Module):
    """Separate policy and value MLPs, as Stable-Baselines3's on-policy defaults (64-64 tanh).

    Orthogonal init with a small last-layer gain for the policy (0.01), so the first policy is
    close to uniform, and gain 1 for the value head (Andrychowicz et al. 2021). With
    `normalize_obs`, one ObsNorm feeds both MLPs (actor and critic are then Sequential(norm,
    MLP), so anything that calls `actor` directly sees scaled observations too).
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64),
                 activation: str = "tanh", normalize_obs: bool = False):
        super().__init__()
        actor = mlp(obs_dim, hidden, n_actions, activation)
        critic = mlp(obs_dim, hidden, 1, activation)
        init_weights(actor, "orthogonal")
        init_weights(critic, "orthogonal")
        last_actor, last_critic = actor[-1], critic[-1]
        assert isinstance(last_actor, nn.Linear) and isinstance(last_critic, nn.Linear)
        nn.init.orthogonal_(last_actor.weight, 0.01)
        nn.init.orthogonal_(last_critic.weight, 1.0)
        self.obs_norm = ObsNorm(obs_dim) if normalize_obs else None
        if self.obs_norm is None:
            self.actor, self.critic = actor, critic
        else:
            self.actor = nn.Sequential(self.obs_norm, actor)
            self.critic = nn.Sequential(self.obs_norm, critic)
        self.obs_dim = obs_dim

    @classmethod
    def for_spaces(cls, obs_space: Any, action_space: Any, hidden: tuple[int, ...],
                   activation: str, normalize_obs: bool = False) -> ActorCritic:
        """The network for a (flattened) Box observation and Discrete actions."""
        return cls(int(np.prod(obs_space.shape)), int(action_space.n), hidden, activation,
                   normalize_obs)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(action logits, state values)."""
        return self.actor(obs), self.critic(obs).squeeze(-1)
