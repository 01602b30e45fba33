"""Every tuned preset's headline figure over 10 seeds: `ganghwa sweep` then `ganghwa compare`.

Each (algo, env) is one experiment folder under --out (default experiments/presets), run with
the tuned preset as `ganghwa train` runs it; rerunning the command finishes what a stop left
and never redoes a finished run. The table is read back from each compare.csv: seeds solved
(the final evaluation, eval.json, at the env's reward_threshold or the preset's stop_at), the
mean ± std, and the IQM with its 95% stratified bootstrap CI (rliable).

    python benchmarks/preset_sweeps.py                       # all of them (about 35 min)
    python benchmarks/preset_sweeps.py --only ppo:CartPole-v1 dqn:CartPole-v1
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

# (algo, env, sweep workers): A3C runs 2 worker processes itself, so its runs go one at a time.
HEADLINES = [
    ("dqn", "CartPole-v1", 2), ("dqn", "LunarLander-v3", 2),
    ("ppo", "CartPole-v1", 2), ("ppo", "LunarLander-v3", 2),
    ("a2c", "CartPole-v1", 2), ("reinforce", "CartPole-v1", 2), ("a3c", "CartPole-v1", 1),
    ("ga", "CartPole-v1", 2),
    ("q_learning", "FrozenLake-v1", 2), ("sarsa", "FrozenLake-v1", 2),
    ("q_learning", "FrozenLake8x8-v1", 2), ("sarsa", "CliffWalking-v1", 2),
    ("deep_sarsa", "ganghwa/MovingObstacles-v0", 2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--out", default="experiments/presets")
    parser.add_argument("--only", nargs="*", help="ALGO:ENV pairs (default: all)")
    args = parser.parse_args()
    ganghwa = str(Path(sys.executable).with_name("ganghwa"))
    rows = []
    for algo, env, workers in HEADLINES:
        if args.only and f"{algo}:{env}" not in args.only:
            continue
        name = f"{algo}-{env.replace('/', '-')}"
        started = time.perf_counter()
        subprocess.run([ganghwa, "sweep", algo, env, "--seeds", args.seeds, "--workers",
                        str(workers), "--name", name, "--out", args.out], check=True)
        seconds = time.perf_counter() - started
        folder = Path(args.out) / name
        subprocess.run([ganghwa, "compare", str(folder)], check=True)
        with (folder / "compare.csv").open() as f:
            row = next(csv.DictReader(f))
        rows.append((algo, env, row, seconds))
        print(f"{algo} {env}: {row}  ({seconds:.0f} s)", flush=True)
    print("\n| algo | env | seeds solved | final eval mean ± std | IQM [95% CI] | median steps"
          " to threshold | sweep wall time |")
    print("|---|---|---|---|---|---|---|")
    for algo, env, row, seconds in rows:
        steps = f"{float(row['steps_to_threshold']):,.0f}" if row["steps_to_threshold"] else "–"
        print(f"| {algo} | {env} | {row['solved']}/{row['seeds']} | {float(row['mean']):.2f} ± "
              f"{float(row['std']):.2f} | {float(row['iqm']):.2f} [{float(row['iqm_low']):.2f}, "
              f"{float(row['iqm_high']):.2f}] | {steps} | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
