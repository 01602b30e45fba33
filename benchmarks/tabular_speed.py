"""Env steps per second of the tabular learners, and of a plain gymnasium loop for scale.

    python benchmarks/tabular_speed.py                      # Q-learning on FrozenLake-v1
    python benchmarks/tabular_speed.py --env CliffWalking-v1 --algos q_learning sarsa mc

Training runs without a run folder (no CSV or TensorBoard) and with one, as `ganghwa train`
does; the plain loop is env.step with random actions and no learning at all.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import gymnasium as gym

from ganghwa.algos.tabular import TabularAgent
from ganghwa.config import TabularConfig
from ganghwa.run import Run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="FrozenLake-v1")
    parser.add_argument("--algos", nargs="+", default=["q_learning"])
    parser.add_argument("--steps", type=int, default=1_000_000)
    args = parser.parse_args()
    env = gym.make(args.env)
    env.reset(seed=0)
    start, n = time.perf_counter(), 100_000
    for _ in range(n):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    print(f"gymnasium env.step loop, random actions: {n / (time.perf_counter() - start):,.0f} "
          "steps/s")
    for algo in args.algos:
        cfg = TabularConfig(algo=algo, env_id=args.env, total_steps=args.steps, eval_every=0,
                            eps_start=1.0, eps_end=0.05, eps_duration=args.steps // 2)
        start = time.perf_counter()
        TabularAgent(config=cfg).learn()
        bare = args.steps / (time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as tmp:
            run = Run.create(Path(tmp), algo, args.env, 0)
            start = time.perf_counter()
            TabularAgent(config=cfg).learn(run=run)
            logged = args.steps / (time.perf_counter() - start)
        print(f"{algo} on {args.env}: {bare:,.0f} steps/s without a run folder, "
              f"{logged:,.0f} with progress.csv and TensorBoard")


if __name__ == "__main__":
    main()
