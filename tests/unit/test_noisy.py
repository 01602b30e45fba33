"""Noisy nets: the factorised noise's shapes and scaling, a layer worked by hand, and what the
DQN does with it (ε is 0, greedy evaluation on the mean weights, fresh noise when acting)."""

import numpy as np
import torch

from ganghwa import DQN
from ganghwa.nets import NoisyLinear, QNetwork, scale_noise


def test_the_noise_scaling_by_hand():
    assert scale_noise(torch.tensor([4.0, -9.0, 0.0, 0.25])).tolist() == [2.0, -3.0, 0.0, 0.5]


def test_a_noisy_layer_by_hand_and_its_factorisation():
    layer = NoisyLinear(3, 2, sigma0=0.5)
    assert layer.eps_in.shape == (3,) and layer.eps_out.shape == (2,)  # p + q draws, not p·q
    assert torch.allclose(layer.weight_sigma, torch.full((2, 3), 0.5 / 3 ** 0.5))
    with torch.no_grad():
        layer.weight_mu.zero_()
        layer.bias_mu.fill_(1.0)
        layer.weight_sigma.fill_(1.0)
        layer.bias_sigma.fill_(2.0)
        layer.eps_in.copy_(torch.tensor([1.0, -2.0, 3.0]))
        layer.eps_out.copy_(torch.tensor([0.5, -1.0]))
    # w = ε_out ε_inᵀ = [[0.5, -1, 1.5], [-1, 2, -3]], b = 1 + 2 ε_out = (2, -1); x = (1, 1, 1)
    out = layer(torch.ones(1, 3))
    assert torch.allclose(out, torch.tensor([[1.0 + 2.0, -2.0 - 1.0]]))
    layer.noise = False  # the mean: μ_w x + μ_b
    assert torch.allclose(layer(torch.ones(1, 3)), torch.tensor([[1.0, 1.0]]))
    # fresh noise is rank one: (w - μ) / σ is the outer product of two scaled vectors
    layer.noise = True
    torch.manual_seed(0)
    layer.reset_noise()
    delta = (layer.weight_mu + layer.weight_sigma * torch.outer(layer.eps_out, layer.eps_in)
             - layer.weight_mu) / layer.weight_sigma
    assert torch.linalg.matrix_rank(delta) == 1
    assert torch.allclose(delta, torch.outer(layer.eps_out, layer.eps_in))


def test_every_fully_connected_layer_of_a_dueling_network_is_noisy():
    net = QNetwork(4, 2, (8, 8), dueling=True, noisy_sigma0=0.5)
    assert not any(type(m) is torch.nn.Linear for m in net.modules())
    assert len(net.noisy_layers()) == 4  # 4→8, 8→8, and the value and advantage heads
    x = torch.randn(5, 4)
    first = net(x)
    net.reset_noise()
    assert not torch.allclose(first, net(x))  # new noise, new values
    net.use_noise(False)
    mean = net(x)
    net.reset_noise()
    assert torch.allclose(mean, net(x))  # the mean network ignores the noise


def test_a_noisy_dqn_explores_by_its_noise_and_evaluates_on_the_mean():
    model = DQN("CartPole-v1", noisy=True, hidden=(16,), seed=0)
    assert model.epsilon == 0.0 and model.fast_path_off
    obs = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    greedy = [model.policy(obs, deterministic=True) for _ in range(3)]
    assert all(np.array_equal(greedy[0], g) for g in greedy)  # the mean weights: no noise
    explored = [model.policy(obs, deterministic=False) for _ in range(3)]
    assert not all(np.array_equal(explored[0], e) for e in explored)  # fresh noise each call
