"""A Q-network's forward and backward written out with preallocated buffers, and its flat weights.

Why: at batch 128 and 256-256 on a CPU, autograd's graph building and per-op dispatch cost
about as much as the matrix products themselves. Writing the backward of an MLP out by hand
(eight matrix products and a few fused element-wise ops) and keeping every weight and
gradient in one flat tensor (so Adam and clipping are one kernel each) makes a DQN update
~40% cheaper. tests/unit/test_backprop.py checks every gradient against autograd.

The dueling head is linear in its two heads, so it is folded into one effective output layer:
    Q = h (W_v + W_a - mean_a W_a)^T + (b_v + b_a - mean_a b_a)
and its gradient is unfolded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ganghwa.activations import ACTIVATIONS

if TYPE_CHECKING:
    from ganghwa.nets import QNetwork


def backprop_reason(net: nn.Module) -> str | None:
    """Why ManualBackprop cannot train `net`, or None when it can: it writes out a QNetwork's
    MLP (no image encoder) whose activation has an in-place form and a backward."""
    from ganghwa.nets import QNetwork  # here, not above: nets imports this package's table

    if not isinstance(net, QNetwork):
        return f"{type(net).__name__} is not a QNetwork"
    if net.is_image:
        return "an image encoder (CNN) has no hand-written backward"
    if net.noisy:
        return "noisy layers have no hand-written backward"
    if net.atoms > 1:
        return "the distributional (C51) head has no hand-written backward"
    activation = ACTIVATIONS.get(net.activation)
    if activation is None:
        return f"unknown activation {net.activation!r}"
    if activation.inplace is None or activation.backward is None:
        return f"activation {net.activation!r} has no hand-written backward"
    if not all(isinstance(m, (nn.Linear, activation.module)) for m in net.body):
        return "its body is not Linear layers and its activation"
    return None


def numpy_reason(activation: str) -> str | None:
    """Why NumpyActor cannot act with `activation`, or None when it can."""
    if activation not in ACTIVATIONS:
        return f"unknown activation {activation!r}"
    if ACTIVATIONS[activation].numpy is None:
        return f"activation {activation!r} has no numpy form for acting"
    return None


def flatten_parameters(module: nn.Module) -> nn.Parameter:
    """Make every parameter of `module` a view of one flat Parameter, which is returned.

    The module keeps working as before (state_dict, forward, autograd); an optimizer given the
    flat Parameter updates all weights with one kernel.
    """
    params = list(module.parameters())
    flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
    offset = 0
    for p in params:
        n = p.numel()
        p.data = flat.data[offset:offset + n].view_as(p)
        offset += n
    if all(p.requires_grad for p in params):
        flat.grad = torch.zeros_like(flat)
        # Autograd accumulates into an existing .grad in place, so backward() fills the flat grad.
        for p, g in zip(params, param_views(flat.grad, params), strict=True):
            p.grad = g
    else:
        flat.requires_grad_(False)
    return flat


def param_views(flat: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Views of `flat` shaped like `like`, in order: the per-layer slices of a flat buffer."""
    views, offset = [], 0
    for p in like:
        views.append(flat[offset:offset + p.numel()].view_as(p))
        offset += p.numel()
    return views


class ManualBackprop:
    """Forward and backward passes of a QNetwork, by hand, into preallocated buffers.

    `weights` are the network's parameters (or a target network's, with the same layout);
    `grads` receives the gradient of the batch loss with respect to them.
    """

    def __init__(self, net: QNetwork, grads: Sequence[torch.Tensor], batch_size: int):
        reason = backprop_reason(net)
        if reason is not None:
            raise ValueError(f"ManualBackprop cannot train this network: {reason}; "
                             "train it through autograd")
        activation = ACTIVATIONS[net.activation]
        assert activation.inplace is not None and activation.backward is not None
        self._inplace = activation.inplace
        self._backward = activation.backward
        self.activation = net.activation
        self.dueling = net.dueling
        self.grads = grads
        device = grads[0].device
        widths = [m.out_features for m in net.body if isinstance(m, nn.Linear)]
        hidden = widths if net.dueling else widths[:-1]
        self.n_actions = net.n_actions
        self.batch_size = batch_size
        self._hidden = [torch.empty(batch_size, w, device=device) for w in hidden]
        self._scratch = [torch.empty(batch_size, w, device=device) for w in hidden]
        self._q = torch.empty(batch_size, self.n_actions, device=device)
        if net.dueling:
            self._head_grad = (torch.empty(self.n_actions, hidden[-1], device=device),
                               torch.empty(self.n_actions, device=device))
        self._input: torch.Tensor | None = None

    def _head(self, weights: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.dueling:
            return weights[-2], weights[-1]
        w_v, b_v, w_a, b_a = weights[-4:]
        return (w_v + w_a - w_a.mean(0, keepdim=True)), (b_v + b_a - b_a.mean())

    def forward(self, obs: torch.Tensor, weights: Sequence[torch.Tensor],
                keep: bool = False) -> torch.Tensor:
        """Q-values for `obs`; `keep` stores the activations that `backward` needs."""
        act = self._inplace
        full = len(obs) == self.batch_size
        buffers = self._hidden if keep else self._scratch if full else [None] * len(self._hidden)
        h = obs
        with torch.no_grad():
            for i, out in enumerate(buffers):
                h = act(torch.addmm(weights[2 * i + 1], h, weights[2 * i].t(), out=out))
            w, b = self._head(weights)
            q = torch.addmm(b, h, w.t(), out=self._q if keep else None)
        if keep:
            self._input = obs
        return q

    def backward(self, grad_q: torch.Tensor, weights: Sequence[torch.Tensor]) -> None:
        """Write d loss / d weights into `grads`, given d loss / d Q of the kept forward pass."""
        assert self._input is not None, "backward needs a forward pass with keep=True"
        act_backward = self._backward
        grads, hidden = self.grads, self._hidden
        with torch.no_grad():
            last = hidden[-1]
            if self.dueling:
                g_w, g_b = self._head_grad
                torch.mm(grad_q.t(), last, out=g_w)
                torch.sum(grad_q, 0, out=g_b)
                # Q = V + A - mean(A): dV sums over actions, dA is centred over actions.
                torch.sum(g_w, 0, keepdim=True, out=grads[-4])
                torch.sum(g_b, 0, keepdim=True, out=grads[-3])
                torch.sub(g_w, g_w.mean(0, keepdim=True), out=grads[-2])
                torch.sub(g_b, g_b.mean(), out=grads[-1])
            else:
                torch.mm(grad_q.t(), last, out=grads[-2])
                torch.sum(grad_q, 0, out=grads[-1])
            w_head, _ = self._head(weights)
            grad_h = grad_q @ w_head
            for i in reversed(range(len(hidden))):
                grad_h = act_backward(grad_h, hidden[i])
                layer_input = hidden[i - 1] if i > 0 else self._input
                torch.mm(grad_h.t(), layer_input, out=grads[2 * i])
                torch.sum(grad_h, 0, out=grads[2 * i + 1])
                if i > 0:
                    grad_h = grad_h @ weights[2 * i]


class NumpyActor:
    """Greedy actions for a few observations through numpy views of the live CPU weights.

    Why: acting is one tiny forward pass per env step, where torch's per-call dispatch (~5 µs
    an op) costs more than the arithmetic; numpy's is ~1 µs, which makes acting ~2.5x cheaper.
    The arrays share memory with the flat weights, so every in-place update is seen at once.
    """

    def __init__(self, weights: Sequence[torch.Tensor], activation: str, dueling: bool):
        reason = numpy_reason(activation)
        if reason is None and any(w.device.type != "cpu" for w in weights):
            reason = "numpy acting needs the weights on the CPU"
        if reason is not None:
            raise ValueError(f"NumpyActor cannot act: {reason}; act through the torch network")
        numpy_fn = ACTIVATIONS[activation].numpy
        assert numpy_fn is not None
        self._activation_fn = numpy_fn
        self.weights = [w.detach().numpy() for w in weights]
        self.activation = activation
        self.dueling = dueling

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        w = self.weights
        n_hidden = (len(w) - (4 if self.dueling else 2)) // 2
        h = np.asarray(obs, dtype=np.float32)
        for i in range(n_hidden):
            h = h @ w[2 * i].T
            h += w[2 * i + 1]
            self._activation_fn(h)
        if not self.dueling:
            return h @ w[-2].T + w[-1]
        w_v, b_v, w_a, b_a = w[-4:]
        advantages = h @ w_a.T + b_a
        return (h @ w_v.T + b_v) + advantages - advantages.mean(axis=1, keepdims=True)
