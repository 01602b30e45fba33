"""How a sweep scales: the same 10-run CartPole sweep on 1 and 2 local workers and on Ray,
alternating, with the scheduler's own cost per run.

    python benchmarks/sweep_scaling.py --reps 2 --out /tmp/scaling

Each run is tuned DQN on CartPole-v1 for a fixed budget (no early stop, no periodic
evaluation), so every run does the same work. Runs per hour = runs / wall time. The
scheduler's cost per run is (wall time × workers − the runs' own time) / runs: pool start,
hand-out and collection, and idle time at the end. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ganghwa.experiments.sweep import sweep

VARIANT = "fixed:preset=tuned stop_at=none eval_every=0 video=false final_eval_episodes=5"


def one(out: Path, name: str, backend: str, workers: int, runs: int, steps: int) -> dict:
    """One sweep. "ray-up" is Ray on a cluster that is already running: ray.init happens
    before the clock starts, as on a cluster that outlives its sweeps."""
    ray = None
    if backend == "ray-up":
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    started = time.perf_counter()
    outcome = sweep("dqn", "CartPole-v1", f"0-{runs - 1}", [VARIANT], steps=steps, name=name,
                    out=out, backend="ray" if ray else backend, workers=workers)
    wall = time.perf_counter() - started
    if ray is not None:
        ray.shutdown()
    assert outcome.count("done") == runs, [r.status for r in outcome.results]
    own = sum(r.seconds for r in outcome.results)
    slots = workers if backend == "local" else 2  # the local Ray has 2 CPUs
    return {"wall": wall, "per_hour": runs / wall * 3600,
            "overhead": (wall * slots - own) / runs, "own": own / runs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--out", default="/tmp/sweep-scaling")
    parser.add_argument("--setups", default="local-1,local-2,ray-2,ray-up-2")
    args = parser.parse_args()
    setups = [(key.rsplit("-", 1)[0], int(key.rsplit("-", 1)[1]))
              for key in args.setups.split(",")]
    figures: dict[str, list[dict]] = {f"{b}-{w}": [] for b, w in setups}
    for rep in range(args.reps):
        for backend, workers in setups:
            key = f"{backend}-{workers}"
            figures[key].append(one(Path(args.out), f"{key}-rep{rep}", backend, workers,
                                    args.runs, args.steps))
            print(key, rep, {k: round(v, 2) for k, v in figures[key][-1].items()}, flush=True)
    base = statistics.median(f["per_hour"] for f in figures["local-1"])
    for key, rows in figures.items():
        per_hour = statistics.median(f["per_hour"] for f in rows)
        print(f"{key}: {per_hour:.0f} runs/h ({per_hour / base:.2f}x of 1 worker), scheduler "
              f"{statistics.median(f['overhead'] for f in rows):.2f} s/run, run "
              f"{statistics.median(f['own'] for f in rows):.1f} s, walls "
              f"{[round(f['wall'], 1) for f in rows]}")


if __name__ == "__main__":
    main()
