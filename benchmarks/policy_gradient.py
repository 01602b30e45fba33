"""Policy-gradient methods over several seeds (figures in docs/policy_gradient.md).

    python benchmarks/policy_gradient.py --seeds 5                      # reinforce, a2c, ppo
    python benchmarks/policy_gradient.py --seeds 5 --algos ppo --env LunarLander-v3
    python benchmarks/policy_gradient.py --seeds 5 --algos a3c --set backend=ray

Each seed trains the `tuned` preset to its full budget (no early stop) in a fresh process, one
after another; the final greedy policy is evaluated on 20 fresh episodes ("solved": >= 475
on CartPole, >= 200 on LunarLander).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

THRESHOLD = {"CartPole-v1": 475.0, "LunarLander-v3": 200.0}


def run(algo: str, env_id: str, seed: int, extra: dict[str, str]) -> dict[str, Any]:
    from ganghwa.config import apply, preset_values
    from ganghwa.evaluation import evaluate
    from ganghwa.registry import get_algo

    entry = get_algo(algo)
    values, _ = preset_values("tuned", algo, env_id)
    cfg = apply(entry.config(), {**values, "env_id": env_id, "seed": seed, "eval_every": 0,
                                 **extra})
    start = time.perf_counter()
    agent = entry.agent_class()(config=cfg).learn()
    seconds = time.perf_counter() - start
    mean = evaluate(agent.policy, env_id, 20, 100_000 + seed, cfg.env_kwargs).mean
    return {"seed": seed, "steps": agent.step, "seconds": seconds, "eval_mean": mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--algos", nargs="+", default=["reinforce", "a2c", "ppo"])
    parser.add_argument("--env", default="CartPole-v1", choices=tuple(THRESHOLD))
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="settings over the preset, e.g. backend=ray")
    args = parser.parse_args()
    from ganghwa.config import parse_set

    extra = parse_set(args.set)
    ctx = mp.get_context("spawn")
    for algo in args.algos:
        rows = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            # not a Pool: its daemonic processes could not start A3C's workers
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                row = pool.submit(run, algo, args.env, seed, extra).result()
            rows.append(row)
            print(f"{algo} seed {seed}: eval {row['eval_mean']:.1f} after {row['steps']} steps, "
                  f"{row['seconds']:.1f} s ({row['steps'] / row['seconds']:,.0f} steps/s)",
                  flush=True)
        solved = sum(r["eval_mean"] >= THRESHOLD[args.env] for r in rows)
        print(f"{algo} {extra or ''}: {solved}/{len(rows)} seeds solved, median wall time "
              f"{statistics.median(r['seconds'] for r in rows):.1f} s\n", flush=True)


if __name__ == "__main__":
    main()
