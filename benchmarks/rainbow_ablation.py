"""Rainbow's parts, one at a time, over 10 seeds: `ganghwa sweep` then `ganghwa compare`.

Seven variants of the one DQN on the tuned preset (Double DQN, 1-step): plain, +PER, +n-step (3),
+C51, +noisy, +dueling, and all of them (the rainbow preset). Every run gets the same budget
(--steps) and evaluation schedule, so "steps to solve" means the same thing in each row: the
first periodic evaluation at or above the threshold (the env's reward_threshold), a seed that
never gets there counting its whole budget. The table is compare's: IQM of the final
evaluation and of the steps to solve, each with a 95% stratified bootstrap CI (rliable).

    python benchmarks/rainbow_ablation.py CartPole-v1 --steps 50000
    python benchmarks/rainbow_ablation.py LunarLander-v3 --steps 100000 --eval-every 5000

Rerunning the same command finishes what a stop left and never redoes a finished run.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

# C51's support for each env: CartPole's discounted returns lie in [0, 100] at γ = 0.99.
SUPPORT = {"CartPole-v1": "v_min=0 v_max=100", "LunarLander-v3": "v_min=-200 v_max=200"}
# Each row is one part over plain Double DQN, so every row but n-step sets n_step=1: the tuned
# preset itself uses 3-step returns where they paid (LunarLander).
VARIANTS = [
    ("double", "n_step=1"),
    ("per", "n_step=1 prioritized=true"),
    ("nstep", "n_step=3"),
    ("c51", "n_step=1 distributional=true {support}"),
    ("noisy", "n_step=1 noisy=true"),
    ("dueling", "n_step=1 dueling=true"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env")
    parser.add_argument("--steps", type=int, required=True, help="env steps for every run")
    parser.add_argument("--eval-every", type=int, default=None,
                        help="periodic evaluation interval (default: the preset's)")
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--only", nargs="*", help="variant names (default: all)")
    parser.add_argument("--out", default="experiments/ablation")
    parser.add_argument("--workers", type=int, default=2, help="runs at once (default: 2)")
    args = parser.parse_args()
    support = SUPPORT.get(args.env, "")
    common = f" eval_every={args.eval_every}" if args.eval_every else ""
    variants = [(name, f"preset=tuned {extra.format(support=support)}{common}")
                for name, extra in VARIANTS]
    variants.append(("rainbow", f"preset=rainbow{common}"))
    if args.only:
        variants = [v for v in variants if v[0] in args.only]
    ganghwa = str(Path(sys.executable).with_name("ganghwa"))
    name = f"ablation-{args.env.replace('/', '-')}-{args.steps // 1000}k"
    folder = Path(args.out) / name
    started = time.perf_counter()
    command = [ganghwa, "sweep", "dqn", args.env, "--seeds", args.seeds, "--steps",
               str(args.steps), "--workers", str(args.workers), "--name", name, "--out", args.out]
    for variant, settings in variants:
        command += ["--variant", f"{variant}:{settings.strip()}"]
    print(" ".join(command), flush=True)
    swept = subprocess.run(command)
    if swept.returncode:  # stopped (it has said how to finish) or failed: its own exit code
        sys.exit(swept.returncode)
    print(f"sweep: {time.perf_counter() - started:.0f} s", flush=True)
    subprocess.run([ganghwa, "compare", str(folder)], check=True)
    with (folder / "compare.csv").open() as f:
        rows = list(csv.DictReader(f))
    print("\n| variant | solved | IQM final return [95% CI] | P(> first) [95% CI] "
          "| steps to solve, IQM [95% CI] |")
    print("|---|---|---|---|---|")
    for row in rows:
        poi = (f"{float(row['p_improvement']):.2f} [{float(row['p_low']):.2f}, "
               f"{float(row['p_high']):.2f}]" if row["p_improvement"] else "–")
        print(f"| {row['group']} | {row['solved']}/{row['seeds']} "
              f"| {float(row['iqm']):.1f} [{float(row['iqm_low']):.1f}, "
              f"{float(row['iqm_high']):.1f}] | {poi} "
              f"| {float(row['steps_iqm']):,.0f} [{float(row['steps_low']):,.0f}, "
              f"{float(row['steps_high']):,.0f}] |")


if __name__ == "__main__":
    main()
