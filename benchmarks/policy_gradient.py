"""Policy-gradient methods on CartPole-v1 over several seeds (figures in docs/policy_gradient.md).

    python benchmarks/policy_gradient.py --seeds 5

Each seed trains the `tuned` preset in a fresh process, one after another, and its final
greedy policy is evaluated on 20 fresh episodes ("solved": mean >= 475).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from typing import Any


def run_reinforce(seed: int) -> dict[str, Any]:
    from ganghwa.algos.reinforce import Reinforce
    from ganghwa.config import ReinforceConfig, apply, preset_values

    values, _ = preset_values("tuned", "reinforce", "CartPole-v1")
    cfg = apply(ReinforceConfig(), {**values, "seed": seed, "eval_every": 0})
    start = time.perf_counter()
    agent = Reinforce(config=cfg).learn()
    seconds = time.perf_counter() - start
    mean = agent.evaluate(20, seed=100_000 + seed).mean
    return {"seed": seed, "steps": agent.step, "seconds": seconds, "eval_mean": mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for seed in range(args.seeds):
        with ctx.Pool(1) as pool:
            row = pool.apply(run_reinforce, (seed,))
        rows.append(row)
        print(f"reinforce seed {seed}: eval {row['eval_mean']:.1f} after {row['steps']} steps, "
              f"{row['seconds']:.1f} s ({row['steps'] / row['seconds']:,.0f} steps/s)",
              flush=True)
    solved = sum(r["eval_mean"] >= 475 for r in rows)
    print(f"\nreinforce: {solved}/{len(rows)} seeds solved, median wall time "
          f"{statistics.median(r['seconds'] for r in rows):.1f} s")


if __name__ == "__main__":
    main()
