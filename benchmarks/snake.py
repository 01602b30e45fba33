"""DQN on ganghwa/Snake-v0 (feature vector): the snake's mean length over 100 greedy episodes.

    python benchmarks/snake.py --seeds 3

Each seed trains the `tuned` preset in a fresh process; its final policy then plays 100
episodes (seeds 100000...), and a uniform random policy plays the same 100 for comparison.
Length is the env's info["length"] at the end of each episode (1 at the start).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

ENV = "ganghwa/Snake-v0"


def train(seed: int) -> dict[str, Any]:
    from ganghwa.algos.dqn import DQN
    from ganghwa.config import DQNConfig, apply, preset_values
    from ganghwa.evaluation import evaluate

    values, _ = preset_values("tuned", "dqn", ENV)
    cfg = apply(DQNConfig(), {**values, "env_id": ENV, "seed": seed, "eval_every": 0})
    start = time.perf_counter()
    model = DQN(config=cfg).learn()
    seconds = time.perf_counter() - start
    result = evaluate(model.policy, ENV, 100, 100_000, cfg.env_kwargs)
    return {"seed": seed, "steps": model.step, "seconds": seconds,
            "length": float(result.final_info["length"].mean()), "return": result.mean}


def random_lengths(episodes: int) -> float:
    from ganghwa.evaluation import evaluate

    rng = np.random.default_rng(0)
    result = evaluate(lambda obs: rng.integers(3, size=len(obs)), ENV, episodes, 100_000)
    return float(result.final_info["length"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print(f"random policy: mean length {random_lengths(100):.2f} over 100 episodes", flush=True)
    rows = []
    for seed in range(args.seeds):
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
            row = pool.submit(train, seed).result()
        rows.append(row)
        print(f"seed {seed}: mean length {row['length']:.2f} (return {row['return']:.2f}) over "
              f"100 greedy episodes after {row['steps']:,} steps, {row['seconds']:.1f} s",
              flush=True)
    print(f"dqn: mean lengths {[round(r['length'], 2) for r in rows]}, median wall time "
          f"{statistics.median(r['seconds'] for r in rows):.1f} s")


if __name__ == "__main__":
    main()
