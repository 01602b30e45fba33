"""The `ganghwa` command: train | eval | record | plot | resume | solve | list, and sweep |
compare | tune (cli_experiments.py).

Bad input gets one line on stderr and exit code 2; nothing is written before the input is known
to be good.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import typing
import warnings
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ganghwa.config import (
    field_help,
    load_preset,
    parse_env_kwargs,
    parse_set,
    preset_envs,
    preset_names,
    preset_values,
)
from ganghwa.errors import GanghwaError, GanghwaWarning
from ganghwa.pipeline import FLAGS
from ganghwa.registry import ALGOS, DEFAULT_ALGO, get_algo
from ganghwa.solve import SOLVE_OPTIONS, solve_views

if TYPE_CHECKING:
    from ganghwa.pipeline import Outcome

EPILOGS = {
    "train": """examples:
  ganghwa train                                   # dqn CartPole-v1 --preset tuned
  ganghwa train dqn LunarLander-v3 --seed 1
  ganghwa train dqn CartPole-v1 --preset pytorch-tutorial
  ganghwa train dqn CartPole-v1 --set double=false dueling=true lr=5e-4
  ganghwa train dqn my_env:MyEnv --steps 20000     # your own gymnasium.Env class
  ganghwa train q_learning FrozenLake-v1 --env-kw map_name=8x8 is_slippery=false
  ganghwa train sarsa CliffWalking-v1 --steps 100000
  ganghwa train value_iteration ganghwa/GridWorld-v0 --set gamma=0.9
  ganghwa train ppo LunarLander-v3
  ganghwa train a3c CartPole-v1 --workers 2 --backend local
  RAY_ADDRESS=auto ganghwa train a3c CartPole-v1 --workers 8 --backend ray
  ganghwa train ga CartPole-v1 --workers 2 --set selection=ranking generations=30
  ganghwa train dqn ganghwa/Snake-v0               # the Snake game, feature vector""",
    "solve": """examples:
  ganghwa solve value_iteration ganghwa/GridWorld-v0
  ganghwa solve policy_iteration FrozenLake-v1 --gamma 0.99 --png frozenlake.png
  ganghwa solve policy_evaluation ganghwa/GridWorld-v0 --gamma 0.9   # the random policy
  ganghwa solve value_iteration ganghwa/RoadTrip-v0 --gamma 1
  ganghwa solve value_iteration ganghwa/GridWorld-v0 --env-kw desc=S..X/.#.G slip=0.2""",
    "eval": """examples:
  ganghwa eval runs/dqn-CartPole-v1-s0-20261122-101500
  ganghwa eval last --episodes 100 --checkpoint latest""",
    "record": """examples:
  ganghwa record last
  ganghwa record last --episodes 3 --format gif""",
    "plot": """examples:
  ganghwa plot last
  ganghwa plot runs/dqn-CartPole-v1-s0-* --out compare.png""",
    "resume": """examples:
  ganghwa resume runs/dqn-CartPole-v1-s0-20261122-101500
  ganghwa resume last --steps 200000               # train longer than first asked
  ganghwa resume last --set generations=60         # a GA run: evolve longer""",
    "list": """examples:
  ganghwa list
  ganghwa list --config                            # every --set key with its default
  ganghwa list --config ppo                        # only ppo's settings""",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit with 2 like ours."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _version() -> str:
    try:
        return metadata.version("ganghwa")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _preset_sets(field: str) -> bool:
    """Whether any preset sets `field`, for some algorithm or env."""
    def keys(table: dict[str, Any]) -> set[str]:
        return {k for k, v in table.items() if not isinstance(v, dict)} | {
            k for v in table.values() if isinstance(v, dict) for k in keys(v)}
    return any(field in keys(load_preset(name)) for name in preset_names())


def _shortcut(parser: argparse.ArgumentParser, flag: str, field: str) -> None:
    """A flag for a config field, typed and documented from the first config that has it, its
    default given where every algorithm (and every preset) agrees on it."""
    for algo in ALGOS.values():
        fields = {f.name: f for f in dataclasses.fields(algo.config)}
        if field in fields:
            kind = typing.get_type_hints(algo.config)[field]
            help_text = fields[field].metadata.get("help", "").replace(
                f" (--{flag.replace('_', '-')})", "")  # the field's help names this very flag
            break
    uses = [a for a in ALGOS.values() if field in {f.name for f in dataclasses.fields(a.config)}]
    notes = [", ".join(a.name for a in uses)] if len(uses) < len(ALGOS) else []
    defaults = {getattr(a.config(), field) for a in uses}
    if len(defaults) == 1 and not _preset_sets(field):
        (default,) = defaults
        notes.append(f"default {('on' if default else 'off') if kind is bool else default}")
    else:
        notes.append("default: the algorithm's, see `ganghwa list --config ALGO`, or its preset's")
    help_text += f" ({'; '.join(notes)})"
    if kind is bool:
        parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None,
                            help=help_text)
    else:
        parser.add_argument(f"--{flag.replace('_', '-')}", dest=flag, help=help_text,
                            type=int if kind is int else str)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganghwa", description="강화 ganghwa — train, evaluate, record and plot "
                     "RL agents with one command.", formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ganghwa {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=EPILOGS[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    def settings(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                       help=what)

    p = add("train", "train an agent; writes a run folder")
    p.add_argument("algo", nargs="?", default=DEFAULT_ALGO,
                   help=f"algorithm (default {DEFAULT_ALGO})")
    p.add_argument("env", nargs="?", default=None,
                   help="Gymnasium id or module:Class (default: the algorithm's own, "
                        "`ganghwa list --config` shows it)")
    p.add_argument("--preset", default=None,
                   help="preset name (default tuned, where it covers the env)")
    settings(p, "override any setting; the last value of a key wins (default: the preset's, "
                "else the algorithm's, `ganghwa list --config ALGO` shows them)")
    p.add_argument("--env-kw", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="keyword arguments for the env, e.g. map_name=8x8 is_slippery=false; "
                        "the last value of a key wins (default: none, the env's own)")
    for flag, field in FLAGS.items():
        if flag != "env_kwargs":
            _shortcut(p, flag, field)
    p.add_argument("--out", default="runs", help="parent folder of run folders (default runs/)")
    p.add_argument("--no-progress", action="store_true",
                   help="no live progress bar (default: the bar is shown)")

    p = add("eval", "evaluate the greedy policy of a run and print a table")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--episodes", type=int, default=20, metavar="N",
                   help="episodes to play (default 20)")
    p.add_argument("--seed", type=int, help="first episode seed (default: run seed + 100000)")
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best",
                   help="which checkpoint's policy (default best)")

    p = add("record", "record a video of the greedy policy of a run")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--episodes", type=int, default=1, metavar="N",
                   help="episodes to record (default 1)")
    p.add_argument("--format", choices=("mp4", "gif"), default="mp4",
                   help="video format (default mp4)")
    p.add_argument("--seed", type=int, help="first episode seed (default: run seed + 100000)")
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best",
                   help="which checkpoint's policy (default best)")

    p = add("plot", "plot learning curves of one or more runs")
    p.add_argument("runs", nargs="+", help="run folders (or 'last')")
    p.add_argument("--out", help="PNG file (default RUN/curve.png for one run, else curves.png)")

    p = add("resume", "continue an interrupted run from checkpoints/latest.pt")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--steps", type=int, help="new total env steps (default: the run's)")
    settings(p, "change settings for the rest of the run, e.g. lr=0.0005; the last value of a "
                "key wins (default: the run's)")
    p.add_argument("--video", action=argparse.BooleanOptionalAction, default=None,
                   help="record a video of the greedy agent at the end (default: the run's)")
    p.add_argument("--no-progress", action="store_true",
                   help="no live progress bar (default: the bar is shown)")

    p = add("solve", "solve an env with a known model by dynamic programming; print V and "
                     "the policy")
    p.add_argument("algo", help="a DP method (`ganghwa list` shows them)")
    p.add_argument("env", help="an env with a transition model P, e.g. FrozenLake-v1")
    for flag, spec in SOLVE_OPTIONS.items():
        help_text = spec.get("help", "")
        if "default" not in help_text:
            help_text += f" (default {spec['default']:g})"
        p.add_argument(f"--{flag}", **{**spec, "help": help_text})
    p.add_argument("--env-kw", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                   help="keyword arguments for the env; the last value of a key wins "
                        "(default: none, the env's own)")
    p.add_argument("--png", help="also write the value map to this PNG file (default: none)")

    from ganghwa import cli_experiments

    EPILOGS.update(cli_experiments.EPILOGS)
    cli_experiments.add_parsers(add)

    p = add("list", "show algorithms, environments and presets")
    p.add_argument("--config", nargs="?", const="", default=None, metavar="ALGO",
                   help="list the settings of ALGO, or of every algorithm, with their defaults "
                        "(default: every algorithm)")
    return parser


# ---------------------------------------------------------------- train / resume

def cmd_train(args: argparse.Namespace) -> int:
    from ganghwa import pipeline

    flags = {flag: getattr(args, flag) for flag in FLAGS if flag != "env_kwargs"}
    flags["env_kwargs"] = parse_env_kwargs(args.env_kw) or None
    cfg, note = pipeline.configure(args.algo, args.env, args.preset, flags, parse_set(args.set))
    outcome = pipeline.train_run(
        cfg, args.out, progress=not args.no_progress, note=note,
        on_start=lambda run: print(f"run folder: {run.path}" + (f"  ({note})" if note else "")))
    return _report(outcome)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganghwa import pipeline

    prepared = pipeline.prepare_resume(args.run, args.steps, parse_set(args.set), args.video)
    if isinstance(prepared, str):
        print(prepared)
        return 0
    run, agent = prepared
    print(f"resuming {run.path} at step {agent.step} of {agent.config.total_steps}")
    return _report(pipeline.execute(agent, run, progress=not args.no_progress))


def _report(outcome: Outcome) -> int:
    """What a finished (or interrupted) training prints."""
    from rich.console import Console

    run, agent = outcome.run, outcome.agent
    if agent.stop_reason == "interrupted":
        by = agent.stop_signal or "SIGINT"
        print(f"\n{by}: stopped at step {agent.step} and saved {run.latest}\n"
              f"continue with:  ganghwa resume {run.path}", file=sys.stderr)
        return 128 + int(getattr(signal, by, signal.SIGINT))
    console = Console()
    for view in outcome.views:
        console.print(view)
    ev = outcome.evaluation
    _print_eval_table(f"{run.path.name}", f"best.pt from step {ev['checkpoint_step']}",
                      outcome.result)
    for name, path in outcome.files.items():
        if name != "eval":
            print(f"{name}: {path}")
    final = ev["final_policy"]
    print(f"eval:  {run.eval_path}  (best.pt mean {ev['mean']:.1f}; final policy at step "
          f"{final['step']} mean {final['mean']:.1f})")
    return 0


def _print_eval_table(title: str, checkpoint: str, result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    s = result.summary()
    table = Table(title=f"{title} ({checkpoint}, {s['episodes']} episodes)")
    columns = ["return mean ± std", "min", "max", "length mean", "min", "max",
               *(f"info[{key!r}] mean" for key in result.final_info)]
    for col in columns:  # the env's own scores (Snake's length) with their whole names
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    table.add_row(f"{s['mean']:.1f} ± {s['std']:.1f}", f"{s['min']:.1f}", f"{s['max']:.1f}",
                  f"{s['mean_length']:.1f}", str(s["min_length"]), str(s["max_length"]),
                  *(f"{v.mean():.2f}" for v in result.final_info.values()))
    Console(width=max(100, sum(len(c) + 3 for c in columns))).print(table)


# ---------------------------------------------------------------- eval / record / plot / list

def cmd_eval(args: argparse.Namespace) -> int:
    from ganghwa.evaluation import FINAL_EVAL_SEED, evaluate
    from ganghwa.pipeline import run_policy

    if args.episodes < 1:
        raise GanghwaError("--episodes must be at least 1")
    run, cfg, which, policy = run_policy(args.run, args.checkpoint)
    seed = cfg.seed + FINAL_EVAL_SEED if args.seed is None else args.seed
    result = evaluate(policy, cfg.env_id, args.episodes, seed, cfg.env_kwargs)
    _print_eval_table(run.path.name, f"{which}.pt", result)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from ganghwa.evaluation import FINAL_EVAL_SEED
    from ganghwa.pipeline import run_policy
    from ganghwa.video import record

    if args.episodes < 1:
        raise GanghwaError("--episodes must be at least 1")
    run, cfg, _, policy = run_policy(args.run, args.checkpoint)
    seed = cfg.seed + FINAL_EVAL_SEED if args.seed is None else args.seed
    for f in record(policy, cfg.env_id, run.video_dir, args.episodes, args.format, seed,
                    env_kwargs=cfg.env_kwargs):
        print(f)
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ganghwa.plots import plot_runs
    from ganghwa.run import Run

    runs = [Run.open(r) for r in args.runs]
    out = Path(args.out) if args.out else (runs[0].curve_path if len(runs) == 1
                                           else Path("curves.png"))
    if out.suffix.lower() != ".png":
        raise GanghwaError(f"--out must end in .png, got {out}")
    print(plot_runs([r.path for r in runs], out))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ganghwa.registry import compatible_envs

    console = Console()
    if args.config is not None:
        for algo in [get_algo(args.config)] if args.config else ALGOS.values():
            table = Table(title=f"{algo.name} settings (--set KEY=VALUE)")
            for col in ("key", "default", "meaning"):
                table.add_column(col)
            for name, default, help_text in field_help(algo.config):
                table.add_row(name, default, help_text)
            console.print(table)
        return 0
    table = Table(title="algorithms")
    table.add_column("name")
    table.add_column("what")
    for algo in ALGOS.values():
        table.add_row(algo.name, algo.summary)
    console.print(table)
    table = Table(title="presets (ganghwa train ALGO ENV --preset NAME)")
    for col in ("preset", "algo", "envs"):
        table.add_column(col)
    for name in preset_names():
        for algo in ALGOS.values():
            envs = preset_envs(name, algo.preset_sections)
            _, any_env = preset_values(name, algo.preset_sections, "*")
            if envs or any_env:
                table.add_row(name, algo.name, ", ".join(envs) + (" (+ any env)" if any_env
                                                                  else ""))
    console.print(table)
    with warnings.catch_warnings():  # listing builds every env, CartPole-v0 too: not the user's
        warnings.filterwarnings("ignore", r".*The environment \S+ is out of date",
                                DeprecationWarning, r"gymnasium\.")
        accepted = compatible_envs(list(ALGOS.values()))
    groups: dict[tuple[tuple[str, str, str], ...], list[str]] = {}
    for name, rows in accepted.items():
        groups.setdefault(tuple(rows), []).append(name)
    for group, names in groups.items():
        table = Table(title=f"registered environments for {', '.join(names)} "
                            "(also: any registered id or module:Class)")
        for col in ("id", "observation", "actions"):
            table.add_column(col)
        for row in group:
            table.add_row(*row)
        console.print(table)
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    from rich.console import Console


    console = Console()
    settings = {flag: getattr(args, flag) for flag in SOLVE_OPTIONS}
    for view in solve_views(args.algo, args.env, settings, parse_env_kwargs(args.env_kw),
                            args.png):
        console.print(view)
    return 0


def _experiment_commands() -> dict[str, Any]:
    from ganghwa.cli_experiments import COMMANDS as experiment_commands

    return experiment_commands


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "record": cmd_record, "plot": cmd_plot,
            "resume": cmd_resume, "solve": cmd_solve, "list": cmd_list,
            **_experiment_commands()}


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """ganghwa's own warnings as one line on stderr; any other warning as Python shows it."""
    if issubclass(category, GanghwaWarning):
        print(f"ganghwa: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except GanghwaError as e:
        if os.environ.get("GANGHWA_DEBUG"):
            raise
        print(f"ganghwa {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("\nganghwa: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"ganghwa {args.command}: error: out of memory; use smaller settings (buffer_size, "
              "hidden, num_envs, workers)", file=sys.stderr)
        return 1
    except Exception as e:  # a bug of ours: one line, and the traceback on request
        if os.environ.get("GANGHWA_DEBUG"):
            raise
        reason = str(e).splitlines()[0][:200] if str(e) else ""
        print(f"ganghwa {args.command}: internal error: {type(e).__name__}"
              f"{': ' + reason if reason else ''} (run again with GANGHWA_DEBUG=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
