"""The DQN math against small examples computed by hand."""

import math

import pytest
import torch

from ganghwa import DQN
from ganghwa.algos.dqn import td_target
from ganghwa.nets import QNetwork, dueling_aggregate
from ganghwa.schedules import crossings, exponential, linear, multiplicative


def test_td_target_vanilla_takes_max_of_target_net():
    rewards = torch.tensor([1.0, 0.5])
    terminated = torch.tensor([0.0, 1.0])
    next_q_target = torch.tensor([[2.0, 3.0], [10.0, -1.0]])
    # row 0: 1 + 0.9 * max(2, 3) = 3.7; row 1 terminated: just the reward 0.5
    out = td_target(rewards, terminated, 0.9, next_q_target)
    assert torch.allclose(out, torch.tensor([3.7, 0.5]))


def test_double_dqn_target_uses_online_argmax_and_target_value():
    rewards = torch.tensor([1.0, 0.0])
    terminated = torch.tensor([0.0, 0.0])
    next_q_target = torch.tensor([[2.0, 3.0], [5.0, 4.0]])
    next_q_online = torch.tensor([[9.0, 1.0], [0.0, 7.0]])  # argmax: action 0, action 1
    # row 0: 1 + 0.5 * Q_target[0, 0] = 1 + 0.5 * 2 = 2.0 (vanilla would give 2.5)
    # row 1: 0 + 0.5 * Q_target[1, 1] = 2.0 (vanilla would give 2.5)
    out = td_target(rewards, terminated, 0.5, next_q_target, next_q_online)
    assert torch.allclose(out, torch.tensor([2.0, 2.0]))


def test_dueling_aggregation_subtracts_mean_advantage():
    value = torch.tensor([[1.0]])
    advantages = torch.tensor([[1.0, 2.0, 6.0]])  # mean 3
    assert torch.allclose(dueling_aggregate(value, advantages), torch.tensor([[-1.0, 0.0, 4.0]]))


def test_dueling_network_shapes_and_identifiability():
    net = QNetwork(4, 3, (16, 16), dueling=True)
    obs = torch.randn(5, 4)
    q = net(obs)
    features = net.body(obs)
    assert q.shape == (5, 3)
    # mean over actions of Q equals V, the property the aggregation is chosen for
    assert torch.allclose(q.mean(dim=1, keepdim=True), net.value_head(features), atol=1e-6)


def test_polyak_update_in_place_and_hard_copy():
    model = DQN("CartPole-v1", hidden=(2,), tau=0.1, device="cpu")
    with torch.no_grad():
        for p in model.q_net.parameters():
            p.fill_(1.0)
        for p in model.target_net.parameters():
            p.fill_(3.0)
    target_ids = [id(p) for p in model.target_net.parameters()]
    model.update_target()
    # 3 + 0.1 * (1 - 3) = 2.8, in the same tensors
    for p in model.target_net.parameters():
        assert torch.allclose(p, torch.full_like(p, 2.8))
    assert [id(p) for p in model.target_net.parameters()] == target_ids
    hard = DQN("CartPole-v1", hidden=(2,), tau=1.0, device="cpu")
    with torch.no_grad():
        for p in hard.q_net.parameters():
            p.fill_(-2.0)
    hard.update_target()
    for p in hard.target_net.parameters():
        assert torch.equal(p, torch.full_like(p, -2.0))


def test_schedules_match_their_formulas():
    assert linear(0, 1.0, 0.1, 100) == 1.0
    assert linear(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert linear(500, 1.0, 0.1, 100) == pytest.approx(0.1)
    # PyTorch tutorial: 0.05 + 0.85 * exp(-1000 / 1000)
    assert exponential(1000, 0.9, 0.05, 1000) == pytest.approx(0.05 + 0.85 / math.e)
    assert exponential(0, 0.9, 0.05, 1000) == pytest.approx(0.9)
    # lecture: 1.0 * 0.999 ** 693 = 0.5000..., floor 0.01 after ~4603 updates
    assert multiplicative(693, 1.0, 0.999, 0.01) == pytest.approx(0.999**693)
    assert multiplicative(10_000, 1.0, 0.999, 0.01) == 0.01


def test_crossings_counts_multiples_in_half_open_interval():
    assert crossings(0, 4, 4) == 1
    assert crossings(4, 8, 4) == 1
    assert crossings(5, 7, 4) == 0
    assert crossings(3, 11, 4) == 2  # 4 and 8, with 8 vector envs per step


def test_image_layout_and_pixel_scaling():
    import torch

    from ganghwa.nets import QNetwork, image_layout

    assert image_layout((4, 84, 84)) == (4, 84, 84, False)  # FrameStackObservation
    assert image_layout((96, 96, 3)) == (3, 96, 96, True)  # a gymnasium RGB frame
    assert image_layout((4, 4, 3)) == (3, 4, 4, True)  # Snake's smallest board
    net = QNetwork((6, 6, 3), 2, (8,), pixel_scale=1 / 255)
    same = QNetwork((6, 6, 3), 2, (8,))  # floats: no scaling
    same.load_state_dict(net.state_dict())
    x = torch.rand(1, 6, 6, 3)
    assert torch.allclose(net(x * 255), same(x), atol=1e-5)
