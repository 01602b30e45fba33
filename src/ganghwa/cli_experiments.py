"""The `ganghwa sweep | compare | tune | report` commands: their arguments and what they print.

The work is in ganghwa.experiments; this module parses and prints, as cli.py does for the
commands of one run.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ganghwa.config import parse_env_kwargs
from ganghwa.errors import GanghwaError

EPILOGS = {
    "sweep": """examples:
  ganghwa sweep dqn CartPole-v1 --seeds 0-9 --variant tutorial:preset=pytorch-tutorial \\
      --variant tuned:preset=tuned --workers 2
  ganghwa sweep ppo CartPole-v1 --seeds 0-4 --grid lr=1e-3,3e-4 --grid n_epochs=10,20
  ganghwa sweep dqn Acrobot-v1 --variant 'small:hidden=64,64 lr=5e-4' --steps 50000
  RAY_ADDRESS=auto ganghwa sweep dqn CartPole-v1 --seeds 0-99 --backend ray
  (run the same command again to finish what a stop or a crash left)""",
    "compare": """examples:
  ganghwa compare experiments/dqn-CartPole-v1
  ganghwa compare runs/dqn-CartPole-v1-s* runs/ppo-CartPole-v1-s*
  ganghwa compare experiments/dqn-CartPole-v1 --threshold 195""",
    "report": """examples:
  ganghwa report last --out cartpole.html
  ganghwa report experiments/course --lang ko --out course.html
  ganghwa report runs/q_learning-FrozenLake-v1-* runs/sarsa-FrozenLake-v1-*""",
    "tune": """examples:
  ganghwa tune dqn Acrobot-v1 --trials 30 --seeds 2 --steps 30000 --workers 2
  ganghwa tune ppo CartPole-v1 --space my_space.toml --pruner halving
  ganghwa tune dqn CartPole-v1 --storage postgresql://user@host/db   # one study, many machines
  ganghwa train dqn Acrobot-v1 --preset experiments/tune-dqn-Acrobot-v1/best.toml""",
}


def add_parsers(add: Any) -> None:
    """The experiment subcommands and report, on the main parser's `add(name, help)`."""
    p = add("sweep", "train seeds × variants as run folders of one experiment folder")
    p.add_argument("algo", help="algorithm")
    p.add_argument("env", help="Gymnasium id or module:Class")
    p.add_argument("--seeds", default="0-9", help="seeds: 0-9, 0,3,7 or 0-4,10-14 "
                   "(default 0-9)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE ...",
                   help="a variant: a name, then preset=NAME and/or settings, space-separated "
                        "in one quoted argument; repeat for more (default: one variant, the "
                        "tuned preset where it covers the env)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="every combination of these values, for every variant (default: none)")
    p.add_argument("--steps", type=int, help="env steps for every run (default: each "
                   "variant's own)")
    p.add_argument("--env-kw", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="keyword arguments for the env (default: none)")
    p.add_argument("--name", help="experiment name (default ALGO-ENV)")
    p.add_argument("--out", default="experiments", help="parent folder (default experiments/)")
    p.add_argument("--workers", type=int, default=1, help="runs at once on this machine, one "
                   "torch thread each (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local processes, or Ray tasks joining RAY_ADDRESS (default local)")
    p.add_argument("--ray-files", choices=("shared", "collect"), default="shared",
                   help="Ray: write into the experiment folder (one machine or a shared "
                        "filesystem), or send each run folder back to this machine "
                        "(default shared)")

    p = add("compare", "compare runs grouped by their settings: IQM with 95%% CIs, seeds solved")
    p.add_argument("runs", nargs="+", help="an experiment folder, run folders, or folders "
                   "holding run folders")
    p.add_argument("--threshold", type=float, help="the solve threshold (default: the env's "
                   "reward_threshold, else stop_at)")
    p.add_argument("--out", help="folder for compare.csv and compare.png (default: the "
                   "experiment folder, else here)")

    p = add("report", "write the lab report of runs or experiments: one self-contained HTML "
                      "file")
    p.add_argument("runs", nargs="+", help="run folders ('last'), experiment folders, or "
                   "folders holding run folders")
    p.add_argument("--out", default="report.html", help="the HTML file (default report.html)")
    p.add_argument("--lang", choices=("en", "ko"), default="en",
                   help="the report's language (default en)")

    p = add("tune", "search settings with Optuna; writes the best as a preset file")
    p.add_argument("algo", help="algorithm")
    p.add_argument("env", help="Gymnasium id or module:Class")
    p.add_argument("--trials", type=int, default=20, help="trials to finish (default 20)")
    p.add_argument("--seeds", type=int, default=2, help="seeds per trial, scored by their mean "
                   "(default 2)")
    p.add_argument("--steps", type=int, help="env steps per run (default: the algorithm's)")
    p.add_argument("--preset", default=None, help="the settings not searched come from this "
                   "preset (default: none, the general defaults)")
    p.add_argument("--space", help="search space TOML (default: ganghwa's for ALGO, after "
                   "RL-Zoo)")
    p.add_argument("--pruner", choices=("median", "halving", "none"), default="median",
                   help="prune on the periodic evaluations (default median)")
    p.add_argument("--storage", help="an Optuna storage URL shared by machines (default: a "
                   "journal file in the experiment folder)")
    p.add_argument("--name", help="study and folder name (default tune-ALGO-ENV)")
    p.add_argument("--out", default="experiments", help="parent folder (default experiments/)")
    p.add_argument("--workers", type=int, default=1, help="trials at once (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="trial processes here, or Ray tasks (default local)")
    p.add_argument("--sampler-seed", type=int, default=0, help="TPE's seed (default 0)")


# ---------------------------------------------------------------- sweep

def cmd_sweep(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ganghwa.experiments.sweep import prepare, run

    console = Console(stderr=False)
    totals = {"n": 0}

    def report(task: Any, result: Any) -> None:
        totals["n"] += 1
        mean = f"mean {result.mean:8.2f}" if result.mean is not None else " " * 13
        what = result.error if result.status == "failed" else result.status
        console.print(f"[{totals['n']}/{totals['of']}] {task.folder:<28} {mean} "
                      f"{result.seconds:7.1f} s  {what}", highlight=False)

    root, tasks = prepare(args.algo, args.env, args.seeds, args.variant, args.grid, args.steps,
                          args.name, args.out, parse_env_kwargs(args.env_kw) or None,
                          sys.argv[1:])
    totals["of"] = len(tasks)
    at_once = args.workers if args.backend == "local" else "Ray's choice of"
    print(f"experiment: {root}  ({len(tasks)} runs, {at_once} at a time)")
    outcome = run(root, tasks, args.backend, args.workers, args.ray_files, report)
    finished = outcome.count("done", "solved", "skipped")
    failed = outcome.count("failed")
    print(f"{finished} of {len(outcome.tasks)} runs finished ({outcome.count('skipped')} were "
          f"already), {failed} failed, in {outcome.seconds:.1f} s")
    if outcome.stop_signal:
        name = signal.Signals(outcome.stop_signal).name
        print(f"{name}: stopped; the runs cut short are saved. Finish with the same command:\n"
              f"  ganghwa {' '.join(sys.argv[1:])}", file=sys.stderr)
        return 128 + outcome.stop_signal
    if failed:
        return 1
    print(f"compare with:  ganghwa compare {root}")
    return 0


# ---------------------------------------------------------------- compare

def _number(value: Any, digits: int | None = None) -> str:
    """One decimal for returns like CartPole's, two for FrozenLake's success rates."""
    if value is None:
        return "–"
    if digits is None:
        digits = 2 if abs(value) < 10 else 1
    return f"{value:.{digits}f}"


def cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ganghwa.experiments.compare import compare

    rows, threshold, files = compare(args.runs, args.threshold, args.out)
    table = Table(title=f"final evaluation (eval.json) per group; solved = mean ≥ "
                        f"{_number(threshold)}" if threshold is not None else
                        "final evaluation (eval.json) per group")
    for column in ("group", "seeds solved", "mean ± std", "IQM [95% CI]",
                   f"P(> {rows[0]['group']}) [95% CI]", "steps to threshold",
                   "steps IQM [95% CI]", "time to threshold"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in rows:
        solved = "–" if row["solved"] is None else f"{row['solved']}/{row['seeds']}"
        poi = ("–" if "p_improvement" not in row else
               f"{row['p_improvement']:.2f} [{row['p_low']:.2f}, {row['p_high']:.2f}]")
        reached = f" ({row['reached_threshold']}/{row['seeds']})" \
            if row["steps_to_threshold"] is not None else ""
        table.add_row(row["group"], solved,
                      f"{_number(row['mean'])} ± {_number(row['std'])}",
                      f"{_number(row['iqm'])} [{_number(row['iqm_low'])}, "
                      f"{_number(row['iqm_high'])}]", poi,
                      _number(row["steps_to_threshold"], 0) + reached,
                      "–" if "steps_iqm" not in row else
                      f"{row['steps_iqm']:,.0f} [{row['steps_low']:,.0f}, "
                      f"{row['steps_high']:,.0f}]",
                      _number(row["seconds_to_threshold"]) + " s"
                      if row["seconds_to_threshold"] is not None else "–")
    Console().print(table)
    print("IQM: the mean of the middle 50% of seeds; CIs: stratified bootstrap (rliable); "
          "steps and time: the median over the seeds whose periodic evaluation reached the "
          "threshold; steps IQM: over all seeds, one that never reached it counting its whole "
          "budget")
    for name, path in files.items():
        print(f"{name}: {path}")
    return 0


# ---------------------------------------------------------------- tune

def cmd_tune(args: argparse.Namespace) -> int:
    from ganghwa.experiments.tune import tune

    if args.trials < 1:
        raise GanghwaError(f"--trials must be at least 1, got {args.trials}")
    if args.seeds < 1:
        raise GanghwaError(f"--seeds must be at least 1, got {args.seeds}")
    outcome = tune(args.algo, args.env, args.trials, args.seeds, args.steps, args.preset,
                   args.space, args.pruner, args.storage, args.name, Path(args.out),
                   args.workers, args.backend, args.sampler_seed,
                   report=lambda line: print(line, flush=True))
    print(f"study: {outcome['root']}  ({outcome['complete']} complete, {outcome['pruned']} "
          f"pruned, {outcome['fail']} failed)")
    if outcome.get("best_value") is not None:
        print(f"best: trial {outcome['best_number']}, score {outcome['best_value']:.2f}: "
              f"{outcome['best_params']}")
    for name in ("preset", "plot"):
        if outcome.get(name):
            print(f"{name}: {outcome[name]}")
    if outcome.get("preset"):
        print(f"train with:  ganghwa train {args.algo} {args.env} --preset {outcome['preset']}")
    if outcome.get("stop_signal"):
        name = signal.Signals(outcome["stop_signal"]).name
        print(f"{name}: stopped; the study is kept. Continue with the same command.",
              file=sys.stderr)
        return 128 + outcome["stop_signal"]
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ganghwa.report import report
    from ganghwa.run import Run

    paths = [str(Run.open(p).path) if p == "last" else p for p in args.runs]
    print(f"report: {report(paths, args.out, args.lang)}")
    return 0


COMMANDS = {"sweep": cmd_sweep, "compare": cmd_compare, "tune": cmd_tune, "report": cmd_report}
