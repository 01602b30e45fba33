"""DQN with switches: one implementation for DQN, Double DQN, Dueling DQN and the textbook recipes.

    td_target = r + γ (1 - terminated) Q_target(s', a*)
    a* = argmax_a Q_target(s', a)           (DQN, Mnih et al. 2015)
    a* = argmax_a Q_online(s', a)           (Double DQN, van Hasselt et al. 2016)
    loss = Huber or MSE of Q_online(s, a) - td_target

Acting (`act`) and updating (`update`) are separate methods; `learn` is the one loop that
joins them with the env, the replay memory, the schedules and the logger.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from ganghwa.buffers import Batch, FrameReplayBuffer, ReplayBuffer
from ganghwa.config import DQNConfig, apply
from ganghwa.envs import env_spaces, make_vec_env, restore_env_state, snapshot_env_state
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import EvalResult, evaluate
from ganghwa.fastpath.backprop import ManualBackprop, NumpyActor, flatten_parameters, param_views
from ganghwa.fastpath.optim import FusedStep
from ganghwa.logging import Logger
from ganghwa.nets import QNetwork, image_layout, input_scale
from ganghwa.run import Run, load_checkpoint, save_checkpoint
from ganghwa.runtime import pick_device, seed_everything, set_threads
from ganghwa.schedules import crossings, epsilon
from ganghwa.session import learning_session


class Diverged(GanghwaError):
    """The loss became NaN or inf; the last good checkpoint is kept."""

    exit_code = 1


def greedy_actions(q_net: QNetwork, obs: np.ndarray, action_start: int = 0) -> np.ndarray:
    """argmax_a Q(obs, a) for a batch, as env actions."""
    device = next(q_net.parameters()).device
    with torch.inference_mode():
        q_values = q_net(torch.as_tensor(obs, dtype=torch.float32, device=device))
    return q_values.argmax(dim=1).cpu().numpy() + action_start


def td_target(rewards: torch.Tensor, terminated: torch.Tensor, gamma: float,
              next_q_target: torch.Tensor, next_q_online: torch.Tensor | None = None
              ) -> torch.Tensor:
    """The bootstrapped target; pass next_q_online for Double DQN's decoupled argmax."""
    if next_q_online is None:
        next_values = next_q_target.max(dim=1).values
    else:
        next_actions = next_q_online.argmax(dim=1, keepdim=True)
        next_values = next_q_target.gather(1, next_actions).squeeze(1)
    return rewards + gamma * (1.0 - terminated) * next_values


def td_loss_and_grad(q_taken: torch.Tensor, target: torch.Tensor,
                     kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean Huber (delta 1) or squared TD error, and its gradient with respect to q_taken."""
    diff = q_taken - target
    if kind == "huber":
        loss = F.smooth_l1_loss(q_taken, target)
        return loss, diff.clamp_(-1.0, 1.0).div_(diff.numel())
    loss = F.mse_loss(q_taken, target)
    return loss, diff.mul_(2.0 / diff.numel())


def check_spaces(env_id: str, obs_space: gym.Space, action_space: gym.Space,
                 algo: str = "DQN", network: str = "mlp") -> None:
    """Discrete actions, and an observation the network can read: a flat Box for an MLP, an
    image Box (3 axes) for a CNN; `network="auto"` takes whichever fits."""
    if not isinstance(action_space, gym.spaces.Discrete):
        hint = (" For CarRacing use ganghwa/CarRacing-v0 (discrete actions, preprocessed "
                "frames)." if "CarRacing" in env_id else "")
        raise GanghwaError(f"{algo} needs a discrete action space, but {env_id} has {action_space} "
                           "(continuous actions); pick a discrete env such as CartPole-v1 or "
                           f"LunarLander-v3.{hint}")
    flat = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1
    image = isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 3
    if network == "cnn" and not image:
        raise GanghwaError(f"a CNN needs image observations, but {env_id} has {obs_space}; "
                           "use --set network=mlp (or auto)")
    if network == "mlp" and image:
        can = "" if algo in ("DQN", "GA") else f"; {algo} has no CNN yet, use dqn or ga"
        raise GanghwaError(f"{algo}'s MLP would need {env_id}'s image observations {obs_space} "
                           f"flattened; use --set network=cnn (or auto){can}")
    if network == "auto" and image and algo not in ("DQN", "GA"):
        raise GanghwaError(f"{algo} has no CNN yet for {env_id}'s image observations "
                           f"{obs_space}; use dqn or ga")
    if not (flat or image):
        raise GanghwaError(f"{algo} needs a flat or an image Box observation, but {env_id} has "
                           f"{obs_space}; flatten it (gymnasium.wrappers.FlattenObservation) or "
                           "use an env with vector observations")


class DQN:
    """Deep Q-learning in the Stable-Baselines3 style: `DQN(env, **hp).learn(steps)`.

    >>> model = DQN("CartPole-v1", lr=1e-3, seed=0).learn(30_000)
    >>> action, _ = model.predict(obs)
    >>> model.save("dqn.pt"); model = DQN.load("dqn.pt")
    """

    def __init__(self, env: str | None = None, config: DQNConfig | None = None, **hp: Any):
        """`env` (default: the config's, CartPole-v1) and `hp` override `config`."""
        cfg = apply(config or DQNConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
        check_spaces(cfg.env_id, obs_space, action_space, "DQN", cfg.network)
        assert isinstance(action_space, gym.spaces.Discrete) and obs_space.shape is not None
        self.config = cfg
        self.obs_shape = tuple(obs_space.shape)
        self.n_actions = int(action_space.n)
        self.action_start = int(action_space.start)
        self.device = pick_device(cfg.device)
        seed_everything(cfg.seed)
        self.q_net = QNetwork(obs_space.shape, self.n_actions, cfg.hidden, cfg.activation,
                              cfg.dueling, cfg.init, input_scale(obs_space)).to(self.device)
        self.image = self.q_net.is_image
        n_params = sum(p.numel() for p in self.q_net.parameters())
        self.threads = set_threads(cfg.threads, n_params, cfg.batch_size, self.device)
        self.target_net = copy.deepcopy(self.q_net).requires_grad_(False)
        # All weights live in one flat tensor (the modules hold views of it), so Adam, clipping
        # and the target update are one kernel each.
        self._flat = flatten_parameters(self.q_net)
        self._target_flat = flatten_parameters(self.target_net).detach()
        self._weights = list(self.q_net.parameters())
        self._target_weights = list(self.target_net.parameters())
        assert self._flat.grad is not None
        # An MLP trains through ManualBackprop and acts through numpy (both measured faster on
        # CPU); a CNN trains through autograd and acts through torch.
        self._backprop = None if self.image else ManualBackprop(
            self.q_net, param_views(self._flat.grad, self._weights), cfg.batch_size)
        self._numpy_actor = (NumpyActor(self._weights, cfg.activation, cfg.dueling)
                             if self.device.type == "cpu" and not self.image else None)
        optim_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        fused = self.device.type in ("cpu", "cuda")
        self.optimizer = optim_cls([self._flat], lr=cfg.lr, amsgrad=cfg.amsgrad,
                                   weight_decay=cfg.weight_decay, fused=fused, foreach=not fused)
        self._optimizer_step = (FusedStep(self.optimizer, self._flat).step if fused
                                else self.optimizer.step)
        self.replay_buffer: ReplayBuffer | FrameReplayBuffer
        if self.image and not image_layout(obs_space.shape)[3] and obs_space.dtype == np.uint8:
            # (k, H, W) frame stacks: each frame stored once
            self.replay_buffer = FrameReplayBuffer(cfg.buffer_size, obs_space.shape,
                                                   cfg.num_envs, self.device)
        else:
            self.replay_buffer = ReplayBuffer(
                cfg.buffer_size, obs_space.shape,
                obs_space.dtype if self.image else np.float32, self.device)  # type: ignore[arg-type]
        self.rng = np.random.default_rng(cfg.seed)
        self.step = self.episode = self.updates = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""
        self._loss_sum = torch.zeros((), device=self.device)
        self._loss_count = 0
        self._envs: gym.vector.SyncVectorEnv | None = None
        self._obs = np.zeros(0)
        self._ep_returns = np.zeros(cfg.num_envs)
        self._ep_lengths = np.zeros(cfg.num_envs, dtype=np.int64)
        self._env_snapshot: Any = None
        # compile=true, or a CNN, trains through autograd (on a compiled loss when asked)
        # instead of ManualBackprop.
        self._autograd_loss: Callable[[Batch], torch.Tensor] | None = (
            torch.compile(self._compute_loss) if cfg.compile
            else self._compute_loss if self.image else None)

    # ------------------------------------------------------------------ acting
    @property
    def epsilon(self) -> float:
        unit = self.config.eps_unit
        t = self.step if unit == "step" else self.updates if unit == "update" else self.episode
        return epsilon(self.config, t)

    def act(self, obs: np.ndarray, eps: float) -> np.ndarray:
        """Epsilon-greedy action indices for a batch of observations."""
        n = len(obs)
        explore = self.rng.random(n) < eps
        random_actions = self.rng.integers(self.n_actions, size=n)
        if explore.all():
            return random_actions
        if self._numpy_actor is not None:
            greedy = self._numpy_actor.q_values(obs).argmax(axis=1)
        elif self._backprop is None:
            with torch.inference_mode():
                q_values = self.q_net(torch.as_tensor(obs, device=self.device))
            greedy = q_values.argmax(dim=1).cpu().numpy()
        else:
            q_values = self._backprop.forward(
                torch.as_tensor(obs, dtype=torch.float32, device=self.device), self._weights)
            greedy = q_values.argmax(dim=1).cpu().numpy()
        return np.where(explore, random_actions, greedy)

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray:
        """Env actions (offset by the space's start) with the highest Q-value."""
        return greedy_actions(self.q_net, obs, self.action_start)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """SB3's signature: an observation (or a batch) in, (action(s), None) out."""
        obs = np.asarray(obs)
        single = obs.ndim == len(self.obs_shape)
        batch = obs[None] if single else obs
        if deterministic:
            actions = self.greedy_policy(batch)
        else:
            actions = self.act(batch, self.epsilon) + self.action_start
        return (actions[0] if single else actions), None

    # ------------------------------------------------------------------ updating
    def _compute_loss(self, batch: Batch) -> torch.Tensor:
        """The TD loss through autograd: the reference that ManualBackprop is tested against."""
        cfg = self.config
        q_values = self.q_net(batch.obs).gather(1, batch.actions.unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            next_q_target = self.target_net(batch.next_obs)
            next_q_online = self.q_net(batch.next_obs) if cfg.double else None
            target = td_target(batch.rewards, batch.terminated, cfg.gamma, next_q_target,
                               next_q_online)
        if cfg.loss == "huber":
            return F.smooth_l1_loss(q_values, target)
        return F.mse_loss(q_values, target)

    def _loss_and_grad(self, batch: Batch) -> torch.Tensor:
        """The TD loss, with its gradient written into the flat grad by ManualBackprop."""
        cfg = self.config
        bp = self._backprop
        assert bp is not None
        q_values = bp.forward(batch.obs, self._weights, keep=True)
        next_q_target = bp.forward(batch.next_obs, self._target_weights)
        next_q_online = bp.forward(batch.next_obs, self._weights) if cfg.double else None
        target = td_target(batch.rewards, batch.terminated, cfg.gamma, next_q_target,
                           next_q_online)
        taken = batch.actions.unsqueeze(1)
        loss, grad = td_loss_and_grad(q_values.gather(1, taken).squeeze(1), target, cfg.loss)
        bp.backward(torch.zeros_like(q_values).scatter_(1, taken, grad.unsqueeze(1)),
                    self._weights)
        return loss

    def update(self) -> None:
        """One gradient step on a uniform minibatch; the loss is accumulated without a sync."""
        cfg = self.config
        batch = self.replay_buffer.sample(cfg.batch_size, self.rng)
        if self._autograd_loss is None:
            loss = self._loss_and_grad(batch)
        else:
            assert self._flat.grad is not None
            self._flat.grad.zero_()
            loss = self._autograd_loss(batch)
            loss.backward()
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

    # ------------------------------------------------------------------ the loop
    def _start_envs(self) -> gym.vector.SyncVectorEnv:
        cfg = self.config
        if self._envs is None:
            self._envs, obs = make_vec_env(cfg.env_id, cfg.num_envs, cfg.seed, cfg.env_kwargs)
            if self._env_snapshot is not None:  # resuming where the env state was saved
                restore_env_state(self._envs, self._env_snapshot)
            elif self._obs.size:  # resuming an env whose state cannot be restored
                self._obs, _ = self._envs.reset(seed=cfg.seed + 1 + self.episode)
                if isinstance(self.replay_buffer, FrameReplayBuffer):
                    self.replay_buffer.break_episodes()
                self._ep_returns[:] = 0
                self._ep_lengths[:] = 0
            if not self._obs.size:
                self._obs = obs
            self._env_snapshot = None
        return self._envs

    def learn(self, total_steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> DQN:
        """Train until `total_steps` env steps in all (counting earlier calls and resumed runs).

        With a run folder, progress.csv, TensorBoard, checkpoints and Ctrl-C saving are on.
        """
        cfg = self.config
        total = cfg.total_steps if total_steps is None else total_steps
        envs = self._start_envs()
        obs = self._obs
        with learning_session(self, run, total, progress) as session:
            logger = session.logger
            while self.step < total and not self.stop_reason:
                eps = self.epsilon
                actions = self.act(obs, eps)
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
                self.replay_buffer.add(obs, actions, stored_rewards, real_next_obs, terminated,
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
                    self._end_episode(int(i), eps, logger)
                session.tick(prev_step)
        return self

    def _end_episode(self, i: int, eps: float, logger: Logger) -> None:
        cfg = self.config
        self.episode += 1
        loss = math.nan
        if self._loss_count:
            loss = float(self._loss_sum) / self._loss_count
            if not math.isfinite(loss):
                raise Diverged(f"the TD loss became {loss} at step {self.step}; the last good "
                               "checkpoint is kept. Lower --set lr, or clip with "
                               "--set max_grad_norm=10")
            self._loss_sum.zero_()
            self._loss_count = 0
        logger.episode(self.step, self.episode, float(self._ep_returns[i]),
                       int(self._ep_lengths[i]), eps, loss)
        self._ep_returns[i] = 0.0
        self._ep_lengths[i] = 0
        if cfg.train_freq_unit == "episode" and self.step > cfg.learning_starts \
                and self.episode % cfg.train_freq == 0:
            self._train(1)
        if cfg.target_update_unit == "episode" and self.episode % cfg.target_update_interval == 0:
            self.update_target()

    def _check_finite(self) -> None:
        if self._loss_count and not bool(torch.isfinite(self._loss_sum)):
            raise Diverged(f"the TD loss became non-finite before step {self.step}; the last "
                           "good checkpoint is kept. Lower --set lr, or clip with "
                           "--set max_grad_norm=10")

    def evaluate(self, episodes: int, seed: int) -> EvalResult:
        return evaluate(self.greedy_policy, self.config.env_id, episodes, seed,
                        self.config.env_kwargs)

    # ------------------------------------------------------------------ saving and loading
    def _model_state(self) -> dict[str, Any]:
        return {"algo": "dqn", "config": _config_dict(self.config),
                "q_net": self.q_net.state_dict()}

    def save(self, path: str | Path) -> None:
        """The network and its config (enough to act); written atomically. Refused (Diverged)
        when the loss has gone non-finite since the last episode, so best.pt stays good."""
        self._check_finite()
        save_checkpoint(self._model_state(), Path(path))

    def save_state(self, path: Path, elapsed: float) -> None:
        """Everything a resume needs: nets, optimizer, replay memory, counters, RNGs, envs.

        A diverged run raises instead, so latest.pt keeps the last good state."""
        self._check_finite()
        envs = self._envs
        snapshot = snapshot_env_state(envs) if envs is not None else None
        save_checkpoint({
            **self._model_state(),
            "target_net": self.target_net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "replay_buffer": self.replay_buffer.state_dict(),
            "counters": {"step": self.step, "episode": self.episode, "updates": self.updates,
                         "best_score": self.best_score, "elapsed": elapsed},
            "loss": {"sum": self._loss_sum.detach().cpu().clone(), "count": self._loss_count},
            "rng": {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()},
            "envs": {"obs": torch.from_numpy(np.array(self._obs)),
                     "returns": torch.from_numpy(self._ep_returns.copy()),
                     "lengths": torch.from_numpy(self._ep_lengths.copy()),
                     "state": snapshot},
        }, path)

    @classmethod
    def load(cls, path: str | Path, **overrides: Any) -> DQN:
        """A model from `save`, best.pt or latest.pt; a full checkpoint restores training too."""
        state = load_checkpoint(Path(path))
        if state.get("algo") != "dqn":
            raise GanghwaError(f"{path} holds a {state.get('algo')!r} model, not a DQN one")
        config = apply(DQNConfig(), {**state["config"], **overrides})
        model = cls(config.env_id, config=config)
        model.load_state_dict(state, str(path))
        return model

    def load_state_dict(self, state: dict[str, Any], where: str = "checkpoint") -> None:
        try:
            self.q_net.load_state_dict(state["q_net"])
            if "optimizer" not in state:
                self.target_net.load_state_dict(state["q_net"])
                return
            self.target_net.load_state_dict(state["target_net"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.replay_buffer.load_state_dict(state["replay_buffer"])
        except (RuntimeError, KeyError, ValueError) as e:
            reason = str(e).splitlines()[0][:100]
            raise GanghwaError(f"{where} does not match this network or config ({reason}); "
                               "load it with the config it was trained with") from None
        c = state["counters"]
        self.step, self.episode, self.updates = c["step"], c["episode"], c["updates"]
        self.best_score, self.elapsed = c["best_score"], c["elapsed"]
        self._loss_sum.copy_(state["loss"]["sum"])
        self._loss_count = state["loss"]["count"]
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])
        envs = state["envs"]
        self._obs = envs["obs"].numpy()
        self._ep_returns = envs["returns"].numpy().copy()
        self._ep_lengths = envs["lengths"].numpy().copy()
        self._env_snapshot = envs["state"]


def _config_dict(cfg: DQNConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def train(cfg: DQNConfig, run: Run | None, progress: bool = True,
          resume_from: dict[str, Any] | None = None) -> DQN:
    """The registry's entry point: a fresh model, or one restored from a full checkpoint."""
    model = DQN(cfg.env_id, config=cfg)
    if resume_from is not None:
        model.load_state_dict(resume_from, "checkpoints/latest.pt")
    return model.learn(cfg.total_steps, run=run, progress=progress)


def load_policy(state: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """The greedy policy of a checkpoint, for eval and record: the network alone, on the CPU."""
    config = apply(DQNConfig(), state["config"])
    obs_space, action_space = env_spaces(config.env_id, config.env_kwargs)
    check_spaces(config.env_id, obs_space, action_space, "DQN", config.network)
    assert isinstance(action_space, gym.spaces.Discrete) and obs_space.shape is not None
    q_net = QNetwork(obs_space.shape, int(action_space.n), config.hidden, config.activation,
                     config.dueling, pixel_scale=input_scale(obs_space))
    try:
        q_net.load_state_dict(state["q_net"])
    except (RuntimeError, KeyError) as e:
        raise GanghwaError(f"checkpoint does not match its config ({str(e).splitlines()[0][:100]})"
                           "; it is mismatched or from another version") from None
    start = int(action_space.start)
    return lambda obs: greedy_actions(q_net, obs, start)
