"""Two ganghwa checkouts side by side on one machine, alternating, each run in a fresh process.

Both sides share this venv but import their own code (PYTHONPATH=<checkout>/src first; each
side prints its ganghwa.__file__). OMP_NUM_THREADS is unset in the children, as vs_sb3.py leaves
it: ganghwa chooses its threads. Rounds alternate the arm order (ABC, CBA, ...).

    git -C . worktree add --detach /tmp/speed/old 711cfb3       # the main before the refactor
    python benchmarks/compare_commits.py --old /tmp/speed/old --new . --mode raw --steps 20000
    python benchmarks/compare_commits.py --old /tmp/speed/old --new . --mode solve --seeds 5

raw: DQN on CartPole-v1 with vs_sb3.py's identical raw config, steps/s over learn() only.
solve: `ganghwa.cli train dqn CartPole-v1 --preset tuned`; train_seconds and step of eval.json.
Arm "new-autograd" is the new code with fast_path=False (autograd + stock torch.optim).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ENV = "CartPole-v1"
EXTRA: dict[str, dict[str, Any]] = {"old": {}, "new": {}, "new-autograd": {"fast_path": False}}
# vs_sb3.py's raw mode, as DQN(env, **hp) keywords (eps over the first 10% of the steps).
RAW_HP: dict[str, Any] = dict(hidden=[256, 256], lr=1e-3, batch_size=128, buffer_size=100_000,
                              learning_starts=1000, gamma=0.99, target_update_interval=1000,
                              train_freq=4, gradient_steps=1, eps_end=0.05, double=False,
                              eval_every=0, max_grad_norm=10.0)
RAW_CHILD = """import json, sys, time
import ganghwa
from ganghwa import DQN
hp, steps = json.loads(sys.argv[1]), int(sys.argv[2])
model = DQN("CartPole-v1", **hp)
start = time.perf_counter()
model.learn(steps)
seconds = time.perf_counter() - start
print(json.dumps({"file": ganghwa.__file__, "seconds": seconds, "step": model.step}))
"""
SOLVE_KEYS = ("train_seconds", "step", "mean")


def child_env(checkout: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout / "src"),
                                                      env.get("PYTHONPATH")]))
    return env


def run_child(cmd: list[str], checkout: Path, cwd: str) -> str:
    """The child's stdout; a failure raises RuntimeError with the last line of stderr."""
    proc = subprocess.run(cmd, env=child_env(checkout), cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
        raise RuntimeError(f"exit {proc.returncode}: {lines[-1]}")
    return proc.stdout


def measure(arm: str, checkout: Path, mode: str, seed: int, steps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="speed-", dir="/tmp") as tmp:
        if mode == "raw":
            hp = {**RAW_HP, "total_steps": steps, "eps_duration": int(0.1 * steps),
                  "seed": seed, **EXTRA[arm]}
            out = run_child([sys.executable, "-c", RAW_CHILD, json.dumps(hp), str(steps)],
                            checkout, tmp)
            r = json.loads(out.strip().splitlines()[-1])
            return {"arm": arm, "seed": seed, "seconds": r["seconds"], "step": r["step"],
                    "value": r["step"] / r["seconds"]}
        sets = [f"{k}={v}" for k, v in EXTRA[arm].items()]
        cmd = [sys.executable, "-m", "ganghwa.cli", "train", "dqn", ENV, "--preset", "tuned",
               "--seed", str(seed), "--no-video", "--no-progress", "--out", tmp,
               *(["--set", *sets] if sets else [])]
        run_child(cmd, checkout, tmp)
        found = sorted(Path(tmp).glob("*/eval.json"))
        if not found:
            raise RuntimeError("no eval.json written")
        ev = json.loads(found[-1].read_text())
        missing = [k for k in SOLVE_KEYS if k not in ev]
        if missing:
            print(f"  note: {arm} eval.json lacks {', '.join(missing)}", flush=True)
        return {"arm": arm, "seed": seed, "value": ev.get("train_seconds", float("nan")),
                "step": ev.get("step"), "mean": ev.get("mean")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="old checkout (has src/)")
    parser.add_argument("--new", type=Path, required=True, help="new checkout (has src/)")
    parser.add_argument("--mode", choices=("raw", "solve"), default="raw")
    parser.add_argument("--arms", default="old,new,new-autograd")
    parser.add_argument("--seeds", type=int, default=5, help="rounds, seed 0.. (one per round)")
    parser.add_argument("--steps", type=int, default=20_000, help="raw mode: env steps")
    args = parser.parse_args()
    arms = [a for a in args.arms.split(",") if a]
    unknown = [a for a in arms if a not in EXTRA]
    if unknown:
        parser.error(f"unknown arms {unknown}; known: {', '.join(EXTRA)}")
    where = {a: (args.old if a == "old" else args.new).resolve() for a in arms}
    for arm in list(arms):  # prove which code each side imports; skip those that cannot
        try:
            out = run_child([sys.executable, "-c", "import ganghwa; print(ganghwa.__file__)"],
                            where[arm], tempfile.gettempdir())
            print(f"{arm}: ganghwa from {out.strip()}", flush=True)
        except RuntimeError as e:
            print(f"skipping arm {arm}: import failed ({e})", flush=True)
            arms.remove(arm)
    results: list[dict[str, Any]] = []
    for seed in range(args.seeds):
        for arm in (list(arms) if seed % 2 == 0 else arms[::-1]):
            if arm not in arms:
                continue
            try:
                results.append(measure(arm, where[arm], args.mode, seed, args.steps))
                print(json.dumps(results[-1]), flush=True)
            except (RuntimeError, ValueError, KeyError) as e:
                print(f"skipping arm {arm} from seed {seed} on: {e}", flush=True)
                arms.remove(arm)
    unit = "env steps/s (higher is better)" if args.mode == "raw" else "train_seconds (lower " \
        "is better)"
    print(f"\n```bash\n{shlex.join(['python', *sys.argv])}\n```\n")
    print(f"| arm | runs | median {unit} | min | max | median/old | steps (median) |")
    print("|---|---|---|---|---|---|---|")
    medians: dict[str, float] = {}
    for arm in where:
        rows = [r for r in results if r["arm"] == arm]
        if not rows:
            continue
        values = [r["value"] for r in rows]
        medians[arm] = statistics.median(values)
        ratio = f"{medians[arm] / medians['old']:.3f}" if "old" in medians else "-"
        steps = [r["step"] for r in rows if r["step"] is not None]
        step = f"{statistics.median(steps):,.0f}" if steps else "?"
        extra = "" if args.mode == "raw" else " (means " + ", ".join(
            f"{r['mean']:.0f}" if r["mean"] is not None else "?" for r in rows) + ")"
        print(f"| {arm} | {len(rows)} | {medians[arm]:,.1f} | {min(values):,.1f} | "
              f"{max(values):,.1f} | {ratio} | {step}{extra} |")
    if "old" in medians and "new" in medians:
        r = medians["new"] / medians["old"]
        ok = r >= 0.95 if args.mode == "raw" else r <= 1.05
        print(f"\nnew/old = {r:.3f}: {'within' if ok else 'OUTSIDE'} the 5% allowance")


if __name__ == "__main__":
    main()
