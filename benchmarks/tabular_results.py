"""The tabular issue's measured results, over several seeds (figures in docs/tabular.md).

    python benchmarks/tabular_results.py                 # DP, CliffWalking, FrozenLake, RoadTrip
    python benchmarks/tabular_results.py --deep-sarsa 5  # and Deep SARSA on 5 seeds (minutes)

Every learner runs the `tuned` preset; the greedy policy is evaluated on fresh seeds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from ganghwa.algos.deep_sarsa import DeepSarsa
from ganghwa.algos.tabular import TabularAgent, solve
from ganghwa.checkpoint import load_checkpoint, load_policy
from ganghwa.config import DeepSarsaConfig, TabularConfig, apply, preset_values
from ganghwa.envs import make_env
from ganghwa.evaluation import evaluate
from ganghwa.run import Run


def tuned(algo: str, env_id: str, seed: int) -> TabularConfig:
    values, _ = preset_values("tuned", ("tabular", algo), env_id)
    return apply(TabularConfig(), {**values, "algo": algo, "env_id": env_id, "seed": seed,
                                   "eval_every": 0})


def greedy_mean(agent: TabularAgent, episodes: int, seed: int) -> float:
    return evaluate(agent.policy, agent.config.env_id, episodes, seed).mean


def exact_value(P: dict, n: int, actions: np.ndarray, gamma: float) -> np.ndarray:
    P_pi, R_pi = np.zeros((n, n)), np.zeros(n)
    for s in range(n):
        for prob, nxt, reward, terminated in P[s][int(actions[s])]:
            R_pi[s] += prob * reward
            if not terminated:
                P_pi[s, nxt] += prob
    return np.linalg.solve(np.eye(n) - gamma * P_pi, R_pi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--deep-sarsa", type=int, default=0, help="seeds of Deep SARSA to run")
    args = parser.parse_args()
    seeds = range(args.seeds)

    print("## DP against the exact value of the returned policy (γ = 0.99)")
    for env_id in ("FrozenLake-v1", "FrozenLake8x8-v1"):
        env = gym.make(env_id)
        n = env.observation_space.n
        start = time.perf_counter()
        v_vi, _, a_vi, sweeps_vi = solve("value_iteration", env, 0.99)
        v_pi, _, a_pi, sweeps_pi = solve("policy_iteration", env, 0.99)
        seconds = time.perf_counter() - start
        exact_vi = exact_value(env.unwrapped.P, n, a_vi, 0.99)
        exact_pi = exact_value(env.unwrapped.P, n, a_pi, 0.99)
        print(f"{env_id}: max |V_VI - V_PI| {np.abs(v_vi - v_pi).max():.1e}, "
              f"|V_VI - exact| {np.abs(v_vi - exact_vi).max():.1e}, "
              f"|V_PI - exact| {np.abs(v_pi - exact_pi).max():.1e}; V(start) {v_vi[0]:.4f}; "
              f"{sweeps_vi} VI sweeps, {sweeps_pi} PI evaluation sweeps, both in {seconds:.2f} s")

    print("\n## CliffWalking-v1, ε = 0.1: return of the greedy path, seeds", list(seeds))
    for algo in ("q_learning", "sarsa", "expected_sarsa"):
        start = time.perf_counter()
        returns = [greedy_mean(TabularAgent(config=tuned(algo, "CliffWalking-v1", s)).learn(),
                               1, 0) for s in seeds]
        per_run = (time.perf_counter() - start) / len(seeds)
        print(f"{algo}: {', '.join(f'{r:g}' for r in returns)}  ({per_run:.2f} s per run)")

    print("\n## FrozenLake-v1 (slippery): greedy success over 1000 episodes")
    env = gym.make("FrozenLake-v1")
    _, _, actions, _ = solve("value_iteration", env, 0.99)
    optimum = evaluate(lambda obs: actions[obs], "FrozenLake-v1", 1000, 0).mean
    print(f"DP optimum (value iteration's policy): {optimum:.3f}")
    for algo in ("q_learning", "sarsa", "expected_sarsa", "mc"):
        start = time.perf_counter()
        rates = [greedy_mean(TabularAgent(config=tuned(algo, "FrozenLake-v1", s)).learn(),
                             1000, 0) for s in seeds]
        per_run = (time.perf_counter() - start) / len(seeds)
        within = sum(r >= optimum - 0.05 for r in rates)
        print(f"{algo}: {', '.join(f'{r:.3f}' for r in rates)}; within 0.05 of the optimum: "
              f"{within}/{len(rates)} ({per_run:.2f} s per run incl. evaluation)")

    print("\n## RoadTrip (γ = 1)")
    env = make_env("ganghwa/RoadTrip-v0")
    V, Q, actions, _ = solve("value_iteration", env, 1.0)
    names = env.unwrapped.state_labels
    print(f"from Seoul: Q(→Wonju) {Q[0, 1]:g}, Q(→Daejeon) {Q[0, 2]:g}; "
          f"greedy first stop {names[actions[0]]}; V(Seoul) {V[0]:g}")

    for seed in range(args.deep_sarsa):
        values, _ = preset_values("tuned", "deep_sarsa", "ganghwa/MovingObstacles-v0")
        cfg = apply(DeepSarsaConfig(), {**values, "seed": seed})
        with tempfile.TemporaryDirectory() as tmp:
            run = Run.create(Path(tmp), "deep_sarsa", cfg.env_id, seed)
            start = time.perf_counter()
            agent = DeepSarsa(config=cfg).learn(run=run)
            seconds = time.perf_counter() - start
            policy = load_policy(load_checkpoint(run.best))
        result = evaluate(policy, cfg.env_id, 100, 100_000 + seed)
        print(f"deep_sarsa seed {seed}: goal reached in {(result.returns > 0).mean():.0%} of 100 "
              f"episodes (best.pt), {agent.step} steps, {seconds:.0f} s, "
              f"{agent.step / seconds:,.0f} steps/s")


if __name__ == "__main__":
    main()
