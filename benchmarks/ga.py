"""The genetic algorithm: seeds solved on CartPole, and the speed-up of parallel fitness.

    python benchmarks/ga.py --mode solve --seeds 5          # the tuned preset, 20-episode eval
    python benchmarks/ga.py --mode speedup --rounds 3       # 1 worker against 2, alternating

solve: each seed evolves with the `tuned` preset (it stops once the fittest individual's greedy
evaluation reaches 500); the final policy is then evaluated on 20 fresh episodes.
speedup: the same seed and generations with --workers 1 (fitness in this process) and 2 (a
process pool); identical populations, so identical work. Seconds per generation are taken
from progress.csv, after the first generation, so the pool's start-up is not counted (it is
printed apart).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def solve(seed: int) -> dict[str, float]:
    from ganghwa.algos.ga import GA
    from ganghwa.config import GAConfig, apply, preset_values
    from ganghwa.evaluation import evaluate

    values, _ = preset_values("tuned", "ga", "CartPole-v1")
    cfg = apply(GAConfig(), {**values, "env_id": "CartPole-v1", "seed": seed})
    start = time.perf_counter()
    ga = GA(config=cfg).learn()
    seconds = time.perf_counter() - start
    return {"seed": seed, "generations": ga.generation, "steps": ga.step, "seconds": seconds,
            "eval_mean": evaluate(ga.policy, cfg.env_id, 20, 100_000 + seed).mean}


def timed(workers: int, generations: int, population: int) -> tuple[float, float]:
    """(seconds per generation after the first, seconds from learn() to the first row)."""
    from ganghwa.algos.ga import GA
    from ganghwa.run import Run, read_progress

    with tempfile.TemporaryDirectory() as tmp:
        run = Run.create(Path(tmp), "ga", "CartPole-v1", 0)
        start = time.perf_counter()
        GA("CartPole-v1", seed=0, workers=workers, generations=generations,
           population=population, eval_every=0, checkpoint_every=10**9).learn(run=run)
        total = time.perf_counter() - start
        t = read_progress(run.progress_path)["time"]
    return (t[-1] - t[0]) / (len(t) - 1), total - (t[-1] - t[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("solve", "speedup"), default="solve")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--population", type=int, default=100)
    args = parser.parse_args()
    if args.mode == "solve":
        rows = []
        for seed in range(args.seeds):
            row = solve(seed)
            rows.append(row)
            print(f"seed {seed}: eval {row['eval_mean']:.1f} after {row['generations']} "
                  f"generations ({row['steps']:,} env steps), {row['seconds']:.1f} s", flush=True)
        solved = sum(r["eval_mean"] >= 475 for r in rows)
        print(f"ga: {solved}/{len(rows)} seeds solved; generations "
              f"{[int(r['generations']) for r in rows]}, median "
              f"{statistics.median(r['seconds'] for r in rows):.1f} s")
        return
    per_gen: dict[int, list[float]] = {1: [], 2: []}
    for r in range(args.rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            seconds, startup = timed(workers, args.generations, args.population)
            per_gen[workers].append(seconds)
            print(f"round {r} workers {workers}: {seconds:.3f} s per generation "
                  f"(start-up and first generation {startup:.2f} s)", flush=True)
    one, two = statistics.median(per_gen[1]), statistics.median(per_gen[2])
    print(f"median s/generation: 1 worker {one:.3f}, 2 workers {two:.3f}: "
          f"speed-up {one / two:.2f}x")


if __name__ == "__main__":
    main()
