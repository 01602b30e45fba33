"""DQN with switches: one implementation for DQN, Double DQN, Dueling DQN and the textbook recipes.

    td_target = r + γ (1 - terminated) Q_target(s', a*)
    a* = argmax_a Q_target(s', a)           (DQN, Mnih et al. 2015)
    a* = argmax_a Q_online(s', a)           (Double DQN, van Hasselt et al. 2016)
    loss = Huber or MSE of Q_online(s, a) - td_target

`learn` is the one loop: act ε-greedily, store the transition, update every `train_freq`
steps, copy or average the target network, log each episode. The target and the loss are pure
functions; the update runs on the CPU fast path (fastpath/) where that supports the network,
and through autograd and torch.optim otherwise.
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.buffers import Batch, FrameReplayBuffer, NStepWindow, ReplayBuffer
from ganghwa.config import DQNConfig
from ganghwa.envs import make_vec_env, restore_env_state, snapshot_env_state
from ganghwa.errors import Diverged
from ganghwa.fastpath import fused_step, make_adam, manual_backprop_reason
from ganghwa.fastpath.backprop import ManualBackprop, NumpyActor, flatten_parameters, param_views
from ganghwa.nets import QNetwork, greedy_actions, image_layout, input_scale
from ganghwa.priority import Priorities
from ganghwa.run import Run
from ganghwa.runtime import pick_device, set_threads
from ganghwa.schedules import crossings, epsilon
from ganghwa.session import learning_session


def td_target(rewards: torch.Tensor, terminated: torch.Tensor, gamma: float,
              next_q_target: torch.Tensor, next_q_online: torch.Tensor | None = None,
              discounts: torch.Tensor | None = None) -> torch.Tensor:
    """The bootstrapped target; pass next_q_online for Double DQN's decoupled argmax, and
    n-step transitions' own discounts γ^m (m ≤ n where the episode ended sooner)."""
    if next_q_online is None:
        next_values = next_q_target.max(dim=1).values
    else:
        next_actions = next_q_online.argmax(dim=1, keepdim=True)
        next_values = next_q_target.gather(1, next_actions).squeeze(1)
    discount = gamma if discounts is None else discounts
    return rewards + discount * (1.0 - terminated) * next_values


def categorical_projection(next_probs: torch.Tensor, rewards: torch.Tensor,
                           terminated: torch.Tensor, discounts: float | torch.Tensor,
                           support: torch.Tensor) -> torch.Tensor:
    """C51's target distribution (Bellemare et al. 2017, Algorithm 1), for a batch.

    Atom z_j of the next state's distribution (probability p_j) moves to
    Tz_j = r + γ^m (1 - terminated) z_j, clipped to [v_min, v_max]; at b_j = (Tz_j - v_min)/Δz
    its probability is split between the atoms floor(b_j) and ceil(b_j) in proportion to
    closeness, and given whole to an atom it lands on exactly.
    """
    n_atoms = support.numel()
    v_min, v_max = float(support[0]), float(support[-1])
    delta = (v_max - v_min) / (n_atoms - 1)
    scale = discounts * (1.0 - terminated)
    moved = (rewards[:, None] + scale[:, None] * support[None, :]).clamp_(v_min, v_max)
    b = (moved - v_min) / delta
    lower, upper = b.floor().long(), b.ceil().long()
    target = torch.zeros_like(next_probs)
    target.scatter_add_(1, lower, next_probs * (upper - b))
    target.scatter_add_(1, upper, next_probs * (b - lower))
    target.scatter_add_(1, lower, next_probs * (lower == upper))
    return target


def td_loss_and_grad(q_taken: torch.Tensor, target: torch.Tensor, kind: str,
                     weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean Huber (delta 1) or squared TD error, and its gradient with respect to q_taken;
    with `weights` (prioritized replay's importance weights) each sample's term is scaled."""
    diff = q_taken - target
    if weights is None:
        if kind == "huber":
            loss = F.smooth_l1_loss(q_taken, target)
            return loss, diff.clamp_(-1.0, 1.0).div_(diff.numel())
        loss = F.mse_loss(q_taken, target)
        return loss, diff.mul_(2.0 / diff.numel())
    terms = td_terms(q_taken, target, kind)
    grad = diff.clamp_(-1.0, 1.0) if kind == "huber" else diff.mul_(2.0)
    return (weights * terms).mean(), grad.mul_(weights).div_(diff.numel())


def td_terms(q_taken: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Each sample's Huber (delta 1) or squared TD error."""
    if kind == "huber":
        return F.smooth_l1_loss(q_taken, target, reduction="none")
    return F.mse_loss(q_taken, target, reduction="none")


class DQN(Agent):
    """Deep Q-learning in the Stable-Baselines3 style: `DQN(env, preset=..., **settings)`.

    >>> model = DQN("CartPole-v1", preset="tuned", seed=0).learn(30_000)
    >>> action, _ = model.predict(obs)
    >>> model.save("dqn.pt"); model = DQN.load("dqn.pt")
    """

    has_cnn: ClassVar[bool] = True
    metrics: ClassVar[tuple[str, ...]] = ("epsilon", "td_loss")

    def __init__(self, env: str | None = None, config: DQNConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, DQNConfig, env, config, settings)
        cfg: DQNConfig = self.config
        assert isinstance(action_space, gym.spaces.Discrete) and obs_space.shape is not None
        self.n_actions = int(action_space.n)
        self.action_start = int(action_space.start)
        self.device = pick_device(cfg.device)
        support = (torch.linspace(cfg.v_min, cfg.v_max, cfg.n_atoms) if cfg.distributional
                   else None)
        self.q_net = QNetwork(obs_space.shape, self.n_actions, cfg.hidden, cfg.activation,
                              cfg.dueling, cfg.init, input_scale(obs_space), support,
                              cfg.noisy_sigma0 if cfg.noisy else None).to(self.device)
        self.threads = set_threads(cfg.threads)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        # All weights live in one flat tensor (the modules hold views of it), so Adam, clipping
        # and the target update are one kernel each.
        self._flat = flatten_parameters(self.q_net)
        self._target_flat = flatten_parameters(self.target_net).detach()
        self._weights = list(self.q_net.parameters())
        self._target_weights = list(self.target_net.parameters())
        assert self._flat.grad is not None
        # The fast path (hand-written backward, numpy acting, fused Adam without torch.optim's
        # wrapper) where it supports this network; autograd and torch.optim where it does not.
        self.fast_path_off = (manual_backprop_reason(self.q_net, self.device)
                              or (None if cfg.fast_path else "fast_path=false")
                              or ("compile=true" if cfg.compile else None))
        self._backprop = None if self.fast_path_off else ManualBackprop(
            self.q_net, param_views(self._flat.grad, self._weights), cfg.batch_size)
        self._numpy_actor = None if self._backprop is None else NumpyActor(
            self._weights, cfg.activation, cfg.dueling)
        hyper: dict[str, Any] = {"lr": cfg.lr, "amsgrad": cfg.amsgrad,
                                 "weight_decay": cfg.weight_decay}
        if cfg.fast_path:
            self.optimizer = make_adam(self._flat, cfg.optimizer == "adamw", **hyper)
            self._optimizer_step = fused_step(self.optimizer, self._flat)
        else:  # stock torch.optim, as a user would write it
            optim_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
            self.optimizer = optim_cls([self._flat], **hyper)
            self._optimizer_step = self.optimizer.step
        self._autograd_loss = (torch.compile(self._compute_loss) if cfg.compile
                               else self._compute_loss)
        self.replay_buffer: ReplayBuffer | FrameReplayBuffer
        image = self.q_net.is_image
        if image and not image_layout(obs_space.shape)[3] and obs_space.dtype == np.uint8:
            # (k, H, W) frame stacks: each frame stored once, n-step read off the ring
            self.replay_buffer = FrameReplayBuffer(cfg.buffer_size, obs_space.shape,
                                                   cfg.num_envs, self.device, cfg.n_step,
                                                   cfg.gamma)
        else:
            obs_dtype = obs_space.dtype if image else np.float32
            self.replay_buffer = ReplayBuffer(
                cfg.buffer_size, obs_space.shape, obs_dtype,  # type: ignore[arg-type]
                self.device, discounts=cfg.n_step > 1)
        self.n_step_window = (NStepWindow(cfg.n_step, cfg.gamma, cfg.num_envs, obs_space.shape,
                                          obs_space.dtype if image else np.float32)  # type: ignore[arg-type]
                              if cfg.n_step > 1 and isinstance(self.replay_buffer, ReplayBuffer)
                              else None)
        self.priorities = (Priorities(self.replay_buffer.capacity, cfg.per_alpha, cfg.per_beta,
                                      cfg.per_eps) if cfg.prioritized else None)
        self.rng = np.random.default_rng(cfg.seed)
        self._loss_sum = torch.zeros((), device=self.device)
        self._loss_count = 0
        self._envs: gym.vector.SyncVectorEnv | None = None
        self._obs = np.zeros(0)
        self._ep_returns = np.zeros(cfg.num_envs)
        self._ep_lengths = np.zeros(cfg.num_envs, dtype=np.int64)
        self._env_snapshot: Any = None

    # ------------------------------------------------------------------ acting
    @property
    def epsilon(self) -> float:
        """The schedule's ε at this step; 0 with noisy nets, whose weights explore."""
        if self.config.noisy:
            return 0.0
        unit = self.config.eps_unit
        t = self.step if unit == "step" else self.updates if unit == "update" else self.episode
        return epsilon(self.config, t)

    def act(self, obs: np.ndarray, eps: float) -> np.ndarray:
        """Epsilon-greedy action indices (from 0) for a batch of observations."""
        n = len(obs)
        explore = self.rng.random(n) < eps
        random_actions = self.rng.integers(self.n_actions, size=n)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self._greedy(obs))

    def _greedy(self, obs: np.ndarray) -> np.ndarray:
        if self._numpy_actor is not None and self.device.type == "cpu":
            return self._numpy_actor.q_values(obs).argmax(axis=1)
        return greedy_actions(self.q_net, obs)

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Env actions: the highest Q-value (drawing no random numbers, so evaluations leave
        training's RNG alone; noisy nets act on their mean weights), or ε-greedy at the
        current ε (noisy nets: on fresh noise)."""
        if not deterministic:
            return self._explore(obs) + self.action_start
        if not self.config.noisy:
            return self._greedy(obs) + self.action_start
        self.q_net.use_noise(False)
        try:
            return self._greedy(obs) + self.action_start
        finally:
            self.q_net.use_noise(True)

    def _explore(self, obs: np.ndarray) -> np.ndarray:
        """Training's actions: ε-greedy, or greedy on freshly drawn noise (noisy nets)."""
        if self.config.noisy:
            self.q_net.reset_noise()
        return self.act(obs, self.epsilon)

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    # ------------------------------------------------------------------ updating
    def _compute_loss(self, batch: Batch, weights: torch.Tensor | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """The TD loss through autograd (weighted per sample under prioritized replay), and
        the TD errors: the reference that ManualBackprop is tested against."""
        cfg = self.config
        if cfg.distributional:
            return self._distributional_loss(batch, weights)
        q_values = self.q_net(batch.obs).gather(1, batch.actions.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            next_q_target = self.target_net(batch.next_obs)
            next_q_online = self.q_net(batch.next_obs) if cfg.double else None
            target = td_target(batch.rewards, batch.terminated, cfg.gamma, next_q_target,
                               next_q_online, batch.discounts)
        td_error = (q_values - target).detach()
        if weights is not None:
            return (weights * td_terms(q_values, target, cfg.loss)).mean(), td_error
        if cfg.loss == "huber":
            return F.smooth_l1_loss(q_values, target), td_error
        return F.mse_loss(q_values, target), td_error

    def _distributional_loss(self, batch: Batch, weights: torch.Tensor | None
                             ) -> tuple[torch.Tensor, torch.Tensor]:
        """C51: the cross-entropy between the projected target distribution of the next
        state's best action (Double: chosen by the online network) and the predicted one; the
        per-sample cross-entropy is also prioritized replay's priority, as in Rainbow."""
        cfg = self.config
        rows = torch.arange(len(batch.actions), device=batch.actions.device)
        log_probs = torch.log_softmax(self.q_net.logits(batch.obs)[rows, batch.actions], dim=-1)
        with torch.no_grad():
            next_probs = torch.softmax(self.target_net.logits(batch.next_obs), dim=-1)
            chooser = self.q_net if cfg.double else self.target_net
            next_actions = chooser(batch.next_obs).argmax(dim=1)
            target = categorical_projection(
                next_probs[rows, next_actions], batch.rewards, batch.terminated,
                cfg.gamma if batch.discounts is None else batch.discounts, self.q_net.support)
        cross_entropy = -(target * log_probs).sum(dim=1)
        loss = cross_entropy.mean() if weights is None else (weights * cross_entropy).mean()
        return loss, cross_entropy.detach()

    def _loss_and_grad(self, batch: Batch, weights: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The TD loss, with its gradient written into the flat grad by ManualBackprop, and
        (for prioritized replay, given weights) the TD errors."""
        cfg = self.config
        bp = self._backprop
        assert bp is not None
        q_values = bp.forward(batch.obs, self._weights, keep=True)
        next_q_target = bp.forward(batch.next_obs, self._target_weights)
        next_q_online = bp.forward(batch.next_obs, self._weights) if cfg.double else None
        target = td_target(batch.rewards, batch.terminated, cfg.gamma, next_q_target,
                           next_q_online, batch.discounts)
        taken = batch.actions.unsqueeze(1)
        q_taken = q_values.gather(1, taken).squeeze(1)
        td_error = None if weights is None else q_taken - target
        loss, grad = td_loss_and_grad(q_taken, target, cfg.loss, weights)
        bp.backward(torch.zeros_like(q_values).scatter_(1, taken, grad.unsqueeze(1)),
                    self._weights)
        return loss, td_error

    def update(self) -> None:
        """One gradient step on a minibatch, uniform or prioritized; the loss is accumulated
        without a sync (prioritized replay reads the TD errors back, one sync an update)."""
        cfg = self.config
        if cfg.noisy:  # independent noise for the online and the target network, each update
            self.q_net.reset_noise()
            self.target_net.reset_noise()
        weights = slots = None
        if self.priorities is not None:
            slots, w = self.priorities.sample(cfg.batch_size, len(self.replay_buffer),
                                              self.rng, self.step / cfg.total_steps)
            batch = self.replay_buffer.gather(slots)
            weights = torch.as_tensor(w, dtype=torch.float32, device=self.device)
        else:
            batch = self.replay_buffer.sample(cfg.batch_size, self.rng)
        if self._backprop is not None:
            loss, td_error = self._loss_and_grad(batch, weights)
        else:
            assert self._flat.grad is not None
            self._flat.grad.zero_()
            loss, td_error = self._autograd_loss(batch, weights)
            loss.backward()
        if slots is not None and self.priorities is not None:
            assert td_error is not None
            self.priorities.update(slots, td_error.cpu().numpy())
        if cfg.grad_clip_value is not None:
            torch.nn.utils.clip_grad_value_(self._flat, cfg.grad_clip_value)
        if cfg.max_grad_norm is not None:
            # clip_grad_norm_'s arithmetic on the one flat grad, without its per-call list work
            # (~150 µs of an update at 256-256 on CPU).
            grad = self._flat.grad
            assert grad is not None
            norm = torch.linalg.vector_norm(grad)
            grad.mul_(torch.clamp(cfg.max_grad_norm / (norm + 1e-6), max=1.0))
        self._optimizer_step()
        self._loss_sum += loss.detach()
        self._loss_count += 1
        self.updates += 1
        if cfg.target_update_unit == "update" and self.updates % cfg.target_update_interval == 0:
            self.update_target()

    def update_target(self) -> None:
        """Hard copy (tau = 1) or Polyak averaging, in place: no state_dict round trip."""
        with torch.no_grad():
            if self.config.tau >= 1.0:
                self._target_flat.copy_(self._flat)
            else:
                self._target_flat.lerp_(self._flat, self.config.tau)

    def _train(self, rounds: int) -> None:
        if rounds > 0 and len(self.replay_buffer) >= self.config.batch_size:
            for _ in range(rounds * self.config.gradient_steps):
                self.update()

    def _mean_loss(self) -> float:
        """The mean TD loss since the last call (one sync an episode); Diverged if not finite."""
        if not self._loss_count:
            return math.nan
        loss = float(self._loss_sum) / self._loss_count
        if not math.isfinite(loss):
            raise Diverged(f"the TD loss became {loss} at step {self.step}; the last good "
                           "checkpoint is kept. Lower --set lr, or clip with "
                           "--set max_grad_norm=10")
        self._loss_sum.zero_()
        self._loss_count = 0
        return loss

    # ------------------------------------------------------------------ the loop
    def _start_envs(self) -> gym.vector.SyncVectorEnv:
        """The training envs, made on the first learn(); a resume puts back their state, or
        (where that cannot be saved) starts fresh episodes."""
        cfg = self.config
        if self._envs is None:
            self._envs, obs = make_vec_env(cfg.env_id, cfg.num_envs, cfg.seed, cfg.env_kwargs)
            if self._env_snapshot is not None:
                restore_env_state(self._envs, self._env_snapshot)
            elif self._obs.size:
                self._obs, _ = self._envs.reset(seed=cfg.seed + 1 + self.episode)
                if isinstance(self.replay_buffer, FrameReplayBuffer):
                    fresh = self.replay_buffer.break_episodes()
                    if self.priorities is not None:
                        self.priorities.added(np.asarray(fresh, dtype=np.int64))
                self._ep_returns[:] = 0
                self._ep_lengths[:] = 0
            if not self._obs.size:
                self._obs = obs
            self._env_snapshot = None
        return self._envs

    def _store(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
               next_obs: np.ndarray, terminated: np.ndarray, ends: np.ndarray) -> None:
        """Into the replay memory: the step's transitions, or the n-step transitions it
        completes; new ones get the largest priority under prioritized replay."""
        buffer = self.replay_buffer
        if isinstance(buffer, FrameReplayBuffer):  # it keys the transitions it completes
            fresh, stale = buffer.add(obs, actions, rewards, next_obs, terminated, ends)
            if self.priorities is not None:  # overwritten stacks drop out, new ones come in
                self.priorities.removed(np.asarray(stale, dtype=np.int64))
                self.priorities.added(np.asarray(fresh, dtype=np.int64))
            return
        if self.n_step_window is None:
            if self.priorities is not None:
                self.priorities.added(buffer.slots(len(actions)))
            buffer.add(obs, actions, rewards, next_obs, terminated, ends)
            return
        obs, actions, returns, next_obs, terminated, discounts = self.n_step_window.push(
            obs, actions, rewards, next_obs, terminated, ends)
        if len(actions):
            if self.priorities is not None:
                self.priorities.added(buffer.slots(len(actions)))
            buffer.add(obs, actions, returns, next_obs, terminated, discounts=discounts)

    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> DQN:
        """Train until `steps` env steps in all (earlier calls and resumed runs count).

        With a run folder: progress.csv, TensorBoard, checkpoints, and Ctrl-C saving.
        """
        cfg = self.config
        total = cfg.total_steps if steps is None else steps
        envs = self._start_envs()
        obs = self._obs
        with learning_session(self, run, total, progress) as session:
            if self.fast_path_off and cfg.fast_path:
                session.logger.message(f"DQN trains through autograd ({self.fast_path_off})")
            while self.step < total and not self.stop_reason:
                eps = self.epsilon
                actions = self._explore(obs)
                next_obs, rewards, terminated, truncated, infos = envs.step(
                    actions + self.action_start)
                done_idx = np.flatnonzero(terminated | truncated)
                real_next_obs = next_obs
                if done_idx.size:  # SAME_STEP autoreset: the true last obs is in final_obs
                    real_next_obs = next_obs.copy()
                    for i in done_idx:
                        real_next_obs[i] = infos["final_obs"][i]
                stored_rewards = rewards * cfg.reward_scale
                if cfg.terminal_reward is not None:
                    stored_rewards = np.where(terminated, cfg.terminal_reward, stored_rewards)
                self._store(obs, actions, stored_rewards, real_next_obs, terminated,
                            terminated | truncated)
                self._ep_returns += rewards
                self._ep_lengths += 1
                obs = self._obs = next_obs
                prev_step, self.step = self.step, self.step + cfg.num_envs

                if cfg.train_freq_unit == "step" and self.step > cfg.learning_starts:
                    self._train(crossings(prev_step, self.step, cfg.train_freq))
                if cfg.target_update_unit == "step" and crossings(
                        prev_step, self.step, cfg.target_update_interval):
                    self.update_target()
                for i in done_idx:
                    self.episode += 1
                    session.logger.episode(self.step, self.episode, float(self._ep_returns[i]),
                                           int(self._ep_lengths[i]), epsilon=eps,
                                           td_loss=self._mean_loss())
                    self._ep_returns[i], self._ep_lengths[i] = 0.0, 0
                    if cfg.train_freq_unit == "episode" and self.step > cfg.learning_starts \
                            and self.episode % cfg.train_freq == 0:
                        self._train(1)
                    if cfg.target_update_unit == "episode" \
                            and self.episode % cfg.target_update_interval == 0:
                        self.update_target()
                session.tick(prev_step)
        return self

    # ------------------------------------------------------------------ checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The Q-network; full adds the target, optimizer, replay memory, RNGs and envs.

        Refused (Diverged) when the loss has gone non-finite since the last episode, so that
        best.pt and latest.pt keep the last good state."""
        if self._loss_count and not bool(torch.isfinite(self._loss_sum)):
            raise Diverged(f"the TD loss became non-finite before step {self.step}; the last "
                           "good checkpoint is kept. Lower --set lr, or clip with "
                           "--set max_grad_norm=10")
        state: dict[str, Any] = {"q_net": self.q_net.state_dict()}
        if full:
            envs = self._envs
            state.update({
                "target_net": self.target_net.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "replay_buffer": self.replay_buffer.state_dict(),
                **({"priorities": self.priorities.state_dict()} if self.priorities else {}),
                **({"n_step": self.n_step_window.state_dict()} if self.n_step_window else {}),
                "loss": {"sum": self._loss_sum.detach().cpu().clone(),
                         "count": self._loss_count},
                "rng": {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()},
                "envs": {"obs": torch.from_numpy(np.array(self._obs)),
                         "returns": torch.from_numpy(self._ep_returns.copy()),
                         "lengths": torch.from_numpy(self._ep_lengths.copy()),
                         "state": snapshot_env_state(envs) if envs is not None else None}})
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        self.q_net.load_state_dict(state["q_net"])
        if "optimizer" not in state:
            self.target_net.load_state_dict(state["q_net"])
            return
        self.target_net.load_state_dict(state["target_net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.replay_buffer.load_state_dict(state["replay_buffer"])
        if self.priorities is not None and "priorities" in state:
            self.priorities.load_state_dict(state["priorities"])
        if self.n_step_window is not None and "n_step" in state:
            self.n_step_window.load_state_dict(state["n_step"])
        self._loss_sum.copy_(state["loss"]["sum"])
        self._loss_count = state["loss"]["count"]
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])
        envs = state["envs"]
        self._obs = envs["obs"].numpy()
        self._ep_returns = envs["returns"].numpy().copy()
        self._ep_lengths = envs["lengths"].numpy().copy()
        self._env_snapshot = envs["state"]

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)
