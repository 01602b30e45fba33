"""Tabular RL: dynamic programming on a known model, and model-free control with a Q-table.

Dynamic programming (Sutton & Barto ch. 4) works on the env's transition model
`P[s][a] = [(prob, next_state, reward, terminated), ...]`, turned into dense arrays:

    R[s, a]     = Σ prob · reward                      expected reward
    T[s, a, s'] = Σ prob · (1 - terminated)            probability of going on to s'
    Q = R + γ T V                                      one Bellman backup

Model-free control (ch. 5-6) learns Q from episodes with ε-greedy behaviour:

    Q-learning       Q(s,a) += α (r + γ max_a' Q(s',a') - Q(s,a))
    SARSA            Q(s,a) += α (r + γ Q(s',a') - Q(s,a)),  a' the action taken next
    Expected SARSA   Q(s,a) += α (r + γ Σ_a' π(a'|s') Q(s',a') - Q(s,a))
    Monte Carlo      Q(s,a) += α (G - Q(s,a)) at the first visit of (s,a) in an episode

The model-free loop runs on Python lists, not numpy: per step it touches a handful of floats,
and list indexing costs a fraction of a numpy scalar access. When the env exposes P, episodes
are simulated from P (the same distribution as env.step, without the wrapper stack).
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import math
import random
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.config import TabularConfig
from ganghwa.envs import make_env
from ganghwa.envs.layout import action_labels, grid_cells, state_labels
from ganghwa.envs.spaces import check_table_spaces, transition_model
from ganghwa.errors import GanghwaError
from ganghwa.resources import require_memory
from ganghwa.run import Run
from ganghwa.schedules import epsilon, linear
from ganghwa.session import learning_session

DP_ALGOS = TabularConfig.DP_ALGOS


# ---------------------------------------------------------------- dynamic programming

def model_arrays(P: dict[int, dict[int, list[tuple[float, int, float, bool]]]], n_states: int,
                 n_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, R) from a toy-text transition model: T[s, a, s'] without terminal mass, R[s, a]."""
    require_memory(8.0 * n_states * n_actions * n_states,
                   f"the dense transition model of {n_states:,} states x {n_actions} actions",
                   "use a model-free method (q_learning, sarsa) for an env this large")
    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, nxt, reward, terminated in P[s][a]:
                R[s, a] += prob * reward
                if not terminated:
                    T[s, a, nxt] += prob
    return T, R


def q_from_v(T: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    return R + gamma * (T @ V)


def _greedy(Q: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """argmax_a Q; ties keep the previous action, so policy iteration cannot cycle on them."""
    best = Q.argmax(axis=1)
    if previous is None:
        return best
    rows = np.arange(len(Q))
    keep = Q[rows, previous] >= Q[rows, best] - 1e-12
    return np.where(keep, previous, best)


def policy_evaluation(T: np.ndarray, R: np.ndarray, policy: np.ndarray, gamma: float,
                      theta: float, max_sweeps: int) -> tuple[np.ndarray, int]:
    """V^π by repeated Bellman expectation sweeps; `policy` holds π(a|s) as (S, A) rows."""
    V = np.zeros(T.shape[0])
    for sweep in range(1, max_sweeps + 1):
        new = (policy * q_from_v(T, R, V, gamma)).sum(axis=1)
        delta = np.abs(new - V).max()
        V = new
        if delta < theta:
            return V, sweep
    raise GanghwaError(f"policy evaluation did not converge in {max_sweeps} sweeps (this "
                       "policy may never end an episode with gamma=1); lower --set gamma or "
                       "raise --set max_sweeps")


def policy_iteration(T: np.ndarray, R: np.ndarray, gamma: float, theta: float,
                     max_sweeps: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Evaluate, improve greedily, repeat until the policy is stable; from the uniform policy."""
    n_states, n_actions = R.shape
    probs = np.full((n_states, n_actions), 1.0 / n_actions)
    actions: np.ndarray | None = None
    sweeps = 0
    while True:
        V, used = policy_evaluation(T, R, probs, gamma, theta, max_sweeps)
        sweeps += used
        new = _greedy(q_from_v(T, R, V, gamma), actions)
        if actions is not None and np.array_equal(new, actions):
            return V, actions, sweeps
        actions = new
        probs = np.eye(n_actions)[actions]


def value_iteration(T: np.ndarray, R: np.ndarray, gamma: float, theta: float,
                    max_sweeps: int) -> tuple[np.ndarray, np.ndarray, int]:
    """V ← max_a (R + γ T V) until no value moves more than theta; then the greedy policy."""
    V = np.zeros(T.shape[0])
    for sweep in range(1, max_sweeps + 1):
        new = q_from_v(T, R, V, gamma).max(axis=1)
        delta = np.abs(new - V).max()
        V = new
        if delta < theta:
            return V, _greedy(q_from_v(T, R, V, gamma)), sweep
    raise GanghwaError(f"value iteration did not converge in {max_sweeps} sweeps; lower "
                       "--set gamma or raise --set max_sweeps")


def solve(algo: str, env: gym.Env, gamma: float, theta: float = 1e-10,
          max_sweeps: int = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(V, Q, greedy actions, sweeps) of a DP method; policy_evaluation rates the uniform policy."""
    P = transition_model(env, algo)
    n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)  # type: ignore[attr-defined]
    T, R = model_arrays(P, n_states, n_actions)
    if algo == "value_iteration":
        V, actions, sweeps = value_iteration(T, R, gamma, theta, max_sweeps)
    elif algo == "policy_iteration":
        V, actions, sweeps = policy_iteration(T, R, gamma, theta, max_sweeps)
    else:
        uniform = np.full((n_states, n_actions), 1.0 / n_actions)
        V, sweeps = policy_evaluation(T, R, uniform, gamma, theta, max_sweeps)
        actions = _greedy(q_from_v(T, R, V, gamma))
    return V, q_from_v(T, R, V, gamma), actions, sweeps


# ---------------------------------------------------------------- model-free control

class _ModelSim:
    """Samples episodes from P: same outcomes as env.step, minus the wrappers' overhead."""

    def __init__(self, env: gym.Env, P: Any, rng: random.Random):
        self.env, self.rng = env, rng
        n_states, n_actions = int(env.observation_space.n), int(env.action_space.n)  # type: ignore[attr-defined]
        self.outcomes = [[_cumulative(P[s][a]) for a in range(n_actions)]
                         for s in range(n_states)]
        self.limit = env.spec.max_episode_steps if env.spec and env.spec.max_episode_steps \
            else math.inf
        self.t = 0

    def reset(self, seed: int | None) -> int:
        self.t = 0
        return int(self.env.reset(seed=seed)[0])

    def step(self, s: int, a: int) -> tuple[int, float, bool, bool]:
        cum, nexts, rewards, dones = self.outcomes[s][a]
        i = bisect.bisect(cum, self.rng.random()) if len(cum) > 1 else 0
        self.t += 1
        return nexts[i], rewards[i], dones[i], self.t >= self.limit


def _cumulative(outcomes: list[tuple[float, int, float, bool]]
                ) -> tuple[list[float], list[int], list[float], list[bool]]:
    cum, total = [], 0.0
    for prob, *_ in outcomes:
        total += prob
        cum.append(total)
    cum[-1] = math.inf  # rounding never makes the last outcome unreachable
    return (cum, [int(o[1]) for o in outcomes], [float(o[2]) for o in outcomes],
            [bool(o[3]) for o in outcomes])


class _EnvSim:
    """Episodes through env.step, for envs without a transition model."""

    def __init__(self, env: gym.Env):
        self.env = env

    def reset(self, seed: int | None) -> int:
        return int(self.env.reset(seed=seed)[0])

    def step(self, s: int, a: int) -> tuple[int, float, bool, bool]:
        obs, reward, terminated, truncated, _ = self.env.step(a)
        return int(obs), float(reward), bool(terminated), bool(truncated)


class TabularAgent(Agent):
    """A Q-table and the loop that learns it; DP methods fill it in one solve.

    >>> agent = TabularAgent("CliffWalking-v1", algo="sarsa", alpha=0.5).learn(50_000)
    >>> action, _ = agent.predict(obs)
    """

    metrics: ClassVar[tuple[str, ...]] = ("epsilon",)

    @staticmethod
    def check_env(env_id: str, env: gym.Env, cfg: TabularConfig) -> None:
        check_table_spaces(env_id, env, cfg.algo, needs_model=cfg.algo in DP_ALGOS)

    def __init__(self, env: str | None = None, config: TabularConfig | None = None,
                 **settings: Any):
        """`env`, `preset` and `settings` (algo="sarsa", ...) refine `config` (or the
        defaults). The agent keeps its own env: it steps it, or simulates it from P."""
        checked = settings.get("spaces") is not None
        start(self, TabularConfig, env, config, settings)
        cfg = self.config
        self.env = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        if checked:  # the pipeline checked its own copy; P is this one's
            self.check_env(cfg.env_id, self.env, cfg)
        self.config = cfg = cfg.resolve_auto(self.env)[0]  # the pipeline's has no "auto" left
        self.n_states = int(self.env.observation_space.n)  # type: ignore[attr-defined]
        self.n_actions = int(self.env.action_space.n)  # type: ignore[attr-defined]
        self.q = [[cfg.q_init] * self.n_actions for _ in range(self.n_states)]
        self.rng = random.Random(cfg.seed)
        self.values: np.ndarray | None = None  # DP: V

    @property
    def q_table(self) -> np.ndarray:
        return np.array(self.q)

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """First best action of each state (only the rows asked for are read); the table has
        no other mode worth returning."""
        return np.array([self.q[s] for s in np.asarray(obs, dtype=np.int64)]).argmax(axis=1)

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    # ---------------------------------------------------------------- DP
    def solve(self, run: Run | None = None) -> TabularAgent:
        """V and Q in one solve of the model; `step` counts the sweeps."""
        cfg = self.config
        V, Q, _, sweeps = solve(cfg.algo, self.env, cfg.gamma, cfg.theta, cfg.max_sweeps)
        self.values, self.q = V, Q.tolist()
        self.step, self.stop_reason = sweeps, "solved"
        if run is not None:
            checkpoint.save(self, run.best)
            checkpoint.save(self, run.latest, full=True)
        return self

    # ---------------------------------------------------------------- model-free
    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> TabularAgent:
        """Model-free: episodes until `steps` env steps in all. DP: one solve of the model."""
        cfg = self.config
        if cfg.algo in DP_ALGOS:
            return self.solve(run)
        total = cfg.total_steps if steps is None else steps
        P = getattr(self.env.unwrapped, "P", None)
        # Taxi's fickle passenger changes the destination outside P: step that one for real.
        use_model = P is not None and not cfg.env_kwargs.get("fickle_passenger")
        sim = _ModelSim(self.env, P, self.rng) if use_model else _EnvSim(self.env)
        q, rng, gamma, n_actions = self.q, self.rng, cfg.gamma, self.n_actions
        rand, randrange = rng.random, rng.randrange
        monte_carlo, q_learning, sarsa = (cfg.algo == name for name in ("mc", "q_learning",
                                                                          "sarsa"))
        # The first reset of every learn() call is seeded (a resume too, so it is repeatable).
        reset_seed: int | None = cfg.seed + (1 + self.episode if self.episode else 0)
        alpha_end = cfg.alpha if cfg.alpha_end is None else cfg.alpha_end
        # eps_duration 0: ε reaches its floor halfway through this budget, as α falls over all
        schedule = dataclasses.replace(cfg, eps_duration=cfg.eps_duration or max(1, total // 2))

        def act(s: int, eps: float) -> int:
            if rand() < eps:
                return randrange(n_actions)
            row = q[s]
            best = max(row)
            if row.count(best) == 1:
                return row.index(best)
            return rng.choice([i for i, v in enumerate(row) if v == best])

        with learning_session(self, run, total, progress, throttle=0.1) as session:
            logger = session.logger
            while self.step < total and not self.stop_reason:
                t = self.episode if cfg.eps_unit == "episode" else self.step
                eps = epsilon(schedule, t)
                alpha = linear(self.step, cfg.alpha, alpha_end, total)
                s = sim.reset(reset_seed)
                reset_seed = None
                a = act(s, eps)
                ret, length, start_step = 0.0, 0, self.step
                trajectory: list[tuple[int, int, float]] = []
                while True:
                    s2, r, terminated, truncated = sim.step(s, a)
                    ret += r
                    length += 1
                    a2 = act(s2, eps)
                    if monte_carlo:
                        trajectory.append((s, a, r))
                    else:
                        row2 = q[s2]
                        if q_learning:
                            bootstrap = max(row2)
                        elif sarsa:
                            bootstrap = row2[a2]
                        else:  # expected_sarsa under the ε-greedy policy
                            bootstrap = (1 - eps) * max(row2) + eps * sum(row2) / n_actions
                        target = r if terminated else r + gamma * bootstrap
                        q[s][a] += alpha * (target - q[s][a])
                    s, a = s2, a2
                    if terminated or truncated or start_step + length >= total:
                        break
                if monte_carlo:
                    self._monte_carlo_update(trajectory, alpha)
                prev_step = self.step
                self.step += length
                self.episode += 1
                logger.episode(self.step, self.episode, ret, length, epsilon=eps)
                session.tick(prev_step)
        return self

    def _monte_carlo_update(self, trajectory: list[tuple[int, int, float]], alpha: float) -> None:
        """First-visit: walk back accumulating G; the earliest visit's return is the one used."""
        gamma, q = self.config.gamma, self.q
        returns: dict[tuple[int, int], float] = {}
        g = 0.0
        for s, a, r in reversed(trajectory):
            g = r + gamma * g
            returns[(s, a)] = g  # overwritten until the first visit remains
        for (s, a), g in returns.items():
            q[s][a] += alpha * (g - q[s][a])

    # ---------------------------------------------------------------- checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The Q-table (and V, for DP); full adds the RNG."""
        state: dict[str, Any] = {"q_table": torch.tensor(self.q, dtype=torch.float64)}
        if self.values is not None:
            state["values"] = torch.from_numpy(np.asarray(self.values, dtype=np.float64))
        if full:
            version, internal, gauss = self.rng.getstate()
            state["rng"] = {"version": version, "state": torch.tensor(internal), "gauss": gauss}
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        table = state["q_table"]
        if tuple(table.shape) != (self.n_states, self.n_actions):
            raise ValueError(f"the Q-table is {tuple(table.shape)}, this env needs "
                             f"{(self.n_states, self.n_actions)}")
        self.q = table.tolist()
        if "values" in state:
            self.values = state["values"].numpy()
        if "rng" in state:
            rng = state["rng"]
            self.rng.setstate((rng["version"], tuple(rng["state"].tolist()), rng["gauss"]))

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)

    # ---------------------------------------------------------------- pictures
    def pictures(self, run: Run) -> dict[str, Path]:
        """q_table.txt (the table as printed, best actions marked `*`) and, for grid envs,
        values.png: V(s) with arrows, at a bounded size and cost for any grid."""
        from rich.console import Console

        from ganghwa.plots import plot_value_map
        from ganghwa.run import atomic_write_text

        console = Console(record=True, width=120, file=io.StringIO(),
                          force_jupyter=False)  # in Jupyter it would display, not write
        console.print(self.view())
        atomic_write_text(run.path / "q_table.txt", console.export_text())
        written = {"q_table": run.path / "q_table.txt"}
        cells = grid_cells(self.env)
        if cells is None:
            return written
        table = self.q_table
        values = self.values if self.values is not None else table.max(axis=1)
        labels = action_labels(self.env)
        arrows = [labels[a] for a in table.argmax(axis=1)]
        title = f"{self.config.algo} on {self.config.env_id}: V(s) and the greedy action"
        return {**written,
                "values": plot_value_map(values, cells, arrows, run.path / "values.png", title)}

    def view(self) -> Any:
        """The Q-table as a rich table, the best action of each state marked `*` (which
        q_table.txt keeps) and highlighted on a terminal."""
        from ganghwa.tables import q_table

        return q_table(self.q_table, state_labels(self.env), action_labels(self.env),
                       f"Q-table of {self.config.algo} on {self.config.env_id}")
