"""The `ganghwa` command: train | eval | record | plot | resume | solve | list.

Bad input gets one line on stderr and exit code 2; nothing is written before the input is known
to be good.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ganghwa.config import (
    BaseConfig,
    apply,
    field_help,
    from_toml,
    parse_env_kwargs,
    parse_set,
    preset_envs,
    preset_names,
    preset_values,
    to_toml,
)
from ganghwa.errors import GanghwaError

if TYPE_CHECKING:
    from ganghwa.run import Run

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
  ganghwa list --config                            # every --set key with its default""",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit with 2 like ours."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganghwa", description="강화 ganghwa — train, evaluate, record and plot "
                     "RL agents with one command.", formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, epilog=EPILOGS[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("train", "train an agent; writes a run folder")
    p.add_argument("algo", nargs="?", default="dqn", help="algorithm (default dqn)")
    p.add_argument("env", nargs="?", default=None,
                   help="Gymnasium id or module:Class (default: CartPole-v1 for dqn, "
                        "ganghwa/GridWorld-v0 for tabular methods, "
                        "ganghwa/MovingObstacles-v0 for deep_sarsa)")
    p.add_argument("--preset", default=None,
                   help="preset name (default tuned, where it covers the env)")
    p.add_argument("--steps", type=int, help="total env steps")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override any setting; `ganghwa list --config` shows them")
    p.add_argument("--env-kw", nargs="+", default=[], metavar="KEY=VALUE",
                   help="keyword arguments for the env, e.g. map_name=8x8 is_slippery=false")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="torch device")
    p.add_argument("--num-envs", type=int, help="vectorized envs stepped together")
    p.add_argument("--workers", type=int,
                   help="a3c: actor-learner processes; ga: fitness processes (default 2)")
    p.add_argument("--backend", choices=("local", "ray"),
                   help="a3c, ga: local processes, or Ray actors (joins RAY_ADDRESS)")
    p.add_argument("--out", default="runs", help="parent folder of run folders (default runs/)")
    p.add_argument("--video", action=argparse.BooleanOptionalAction, default=None,
                   help="record a video at the end (default on)")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar")

    p = add("eval", "evaluate the greedy policy of a run and print a table")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, help="first episode seed (default: run seed + 100000)")
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best")

    p = add("record", "record a video of the greedy policy of a run")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--format", choices=("mp4", "gif"), default="mp4")
    p.add_argument("--seed", type=int)
    p.add_argument("--checkpoint", choices=("best", "latest"), default="best")

    p = add("plot", "plot learning curves of one or more runs")
    p.add_argument("runs", nargs="+", help="run folders (or 'last')")
    p.add_argument("--out", help="PNG file (default RUN/curve.png for one run, curves.png)")

    p = add("resume", "continue an interrupted run from checkpoints/latest.pt")
    p.add_argument("run", help="run folder, or 'last'")
    p.add_argument("--steps", type=int, help="new total env steps (default: the run's)")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="change settings for the rest of the run, e.g. generations=60")
    p.add_argument("--video", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--no-progress", action="store_true")

    p = add("solve", "solve an env with a known model by dynamic programming; print V and "
                     "the policy")
    p.add_argument("algo", help="value_iteration, policy_iteration or policy_evaluation")
    p.add_argument("env", help="an env with a transition model P, e.g. FrozenLake-v1")
    p.add_argument("--gamma", type=float, default=0.99, help="discount (default 0.99)")
    p.add_argument("--theta", type=float, default=1e-10, help="convergence tolerance")
    p.add_argument("--env-kw", nargs="+", default=[], metavar="KEY=VALUE",
                   help="keyword arguments for the env")
    p.add_argument("--png", help="also write the value map to this PNG file")

    p = add("list", "show algorithms, environments and presets")
    p.add_argument("--config", action="store_true", help="list every setting and its default")
    return parser


# ---------------------------------------------------------------- train / resume

def resolve_train_config(args: argparse.Namespace) -> tuple[BaseConfig, str]:
    """Defaults < preset < flags < --set; returns the config and a note about the preset."""
    from ganghwa.registry import get_algo

    algo = get_algo(args.algo)
    args.env = args.env or algo.config().env_id
    overrides = parse_set(args.set)
    preset = args.preset or "tuned"
    values, covered = preset_values(preset, algo.preset_sections, args.env)
    note = ""
    if not covered:
        if args.preset:
            names = ", ".join(preset_envs(preset, algo.preset_sections)) or "no envs"
            raise GanghwaError(f"preset {preset!r} has no {algo.name} settings for {args.env} "
                               f"(it covers {names}); drop --preset to use the general defaults")
        preset, note = "none", f"no tuned preset for {args.env}: using the general defaults"
    flags = {"algo": algo.name, "env_id": args.env, "preset": preset, "total_steps": args.steps,
             "seed": args.seed, "device": args.device, "num_envs": args.num_envs,
             "video": args.video, "env_kwargs": parse_env_kwargs(args.env_kw) or None,
             "workers": args.workers, "backend": args.backend}
    if (args.workers or args.backend) and not hasattr(algo.config(), "workers"):
        raise GanghwaError(f"--workers and --backend apply to a3c and ga, not {algo.name}; "
                           "drop them or use `ganghwa train a3c` or `ganghwa train ga`")
    cfg = apply(algo.config(), values)
    cfg = apply(cfg, {k: v for k, v in flags.items() if v is not None})
    cfg = apply(cfg, overrides)
    cfg.validate()
    return cfg, note


def _checked_env(algo_name: str, env_id: str, env_kwargs: dict[str, Any],
                 network: str | None = None) -> Any:
    """The env, built once and checked against the algorithm before anything is written."""
    from ganghwa.envs import make_env
    from ganghwa.registry import get_algo

    env = make_env(env_id, env_kwargs=env_kwargs)
    try:
        get_algo(algo_name).check(env_id, env, network)
    except GanghwaError:
        env.close()
        raise
    return env


def cmd_train(args: argparse.Namespace) -> int:
    from ganghwa.run import Run, atomic_write_text

    cfg, note = resolve_train_config(args)
    _checked_env(cfg.algo, cfg.env_id, cfg.env_kwargs, getattr(cfg, "network", None)).close()
    run = Run.create(Path(args.out), cfg.algo, cfg.env_id, cfg.seed)
    atomic_write_text(run.config_path, to_toml(cfg))
    print(f"run folder: {run.path}" + (f"  ({note})" if note else ""))
    return _train_and_finish(cfg, run, progress=not args.no_progress)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganghwa.registry import get_algo
    from ganghwa.run import Run, atomic_write_text, load_checkpoint

    run = Run.open(args.run)
    algo_name = _read_algo(run.config_path)
    algo = get_algo(algo_name)
    cfg = from_toml(algo.config, run.config_path.read_text())
    state = load_checkpoint(run.latest)
    if state.get("algo") != cfg.algo or "counters" not in state:
        raise GanghwaError(f"{run.latest} is not a full {cfg.algo} training checkpoint; "
                           "it cannot be resumed")
    if state["config"].get("env_id") != cfg.env_id:
        raise GanghwaError(f"{run.latest} was trained on {state['config'].get('env_id')}, "
                           f"but {run.config_path} says {cfg.env_id}; the checkpoint is mismatched")
    changes: dict[str, Any] = dict(parse_set(args.set))
    if changes.keys() & {"algo", "env_id", "env_kwargs", "seed"}:
        raise GanghwaError("a resumed run keeps its algo, env and seed; start a new run with "
                           "`ganghwa train` to change them")
    if args.steps is not None:
        changes["total_steps"] = args.steps
    if args.video is not None:
        changes["video"] = args.video
    if changes:
        cfg = apply(cfg, changes)
        cfg.validate()
        atomic_write_text(run.config_path, to_toml(cfg))
    step = state["counters"]["step"]
    generation = state["counters"].get("generation")  # the GA counts generations
    if generation is not None and generation >= getattr(cfg, "generations", 0):
        print(f"{run.path} already evolved {generation} generations; pass --set generations=N "
              "to evolve longer")
        return 0
    if step >= cfg.total_steps:
        print(f"{run.path} already reached {step} of {cfg.total_steps} steps; pass --steps N "
              "to train longer")
        return 0
    run.truncate_progress(step)
    print(f"resuming {run.path} at step {step} of {cfg.total_steps}")
    return _train_and_finish(cfg, run, progress=not args.no_progress, resume_from=state)


def _read_algo(path: Path) -> str:
    import tomllib
    try:
        return str(tomllib.loads(path.read_text()).get("algo", "dqn"))
    except tomllib.TOMLDecodeError as e:
        raise GanghwaError(f"{path} is not valid TOML ({e})") from None


def _train_and_finish(cfg: BaseConfig, run: Run, progress: bool,
                      resume_from: dict[str, Any] | None = None) -> int:
    """Train, then (unless interrupted) evaluate best.pt, plot curve.png and record a video."""
    from ganghwa.evaluation import FINAL_EVAL_SEED
    from ganghwa.plots import plot_runs
    from ganghwa.registry import get_algo

    algo = get_algo(cfg.algo)
    model = algo.train(cfg, run, progress=progress, resume_from=resume_from)
    if run.progress_path.exists():
        plot_runs([run.path], run.curve_path)
    if model.stop_reason == "interrupted":
        print(f"\ninterrupted at step {model.step}: saved {run.latest}\n"
              f"continue with:  ganghwa resume {run.path}", file=sys.stderr)
        return 130
    policy = algo.load_policy(_load(run.best))
    result = _evaluate(policy, cfg, cfg.final_eval_episodes, cfg.seed + FINAL_EVAL_SEED)
    summary = {"checkpoint": "best", "seed": cfg.seed + FINAL_EVAL_SEED, "step": model.step,
               "stop_reason": model.stop_reason, "train_seconds": round(model.elapsed, 3),
               **result.summary()}
    run.write_json(run.eval_path, summary)
    _print_eval_table(run.path.name, "best", result)
    if cfg.video:
        from ganghwa.video import record
        files = record(policy, cfg.env_id, run.video_dir, 1, "mp4", cfg.seed + FINAL_EVAL_SEED,
                       env_kwargs=cfg.env_kwargs)
        print(f"video: {', '.join(str(f) for f in files)}")
    print(f"curve: {run.curve_path}\neval:  {run.eval_path}  (mean {result.mean:.1f})")
    return 0


def _load(path: Path) -> dict[str, Any]:
    from ganghwa.run import load_checkpoint
    return load_checkpoint(path)


def _evaluate(policy: Any, cfg: BaseConfig, episodes: int, seed: int) -> Any:
    from ganghwa.evaluation import evaluate
    return evaluate(policy, cfg.env_id, episodes, seed, cfg.env_kwargs)


def _print_eval_table(title: str, checkpoint: str, result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    s = result.summary()
    table = Table(title=f"{title} ({checkpoint}.pt, {s['episodes']} episodes)")
    for col in ("return mean ± std", "min", "max", "length mean", "min", "max"):
        table.add_column(col, justify="right")
    for key in result.final_info:  # the env's own score, e.g. Snake's length
        table.add_column(f"info[{key!r}] mean", justify="right")
    table.add_row(f"{s['mean']:.1f} ± {s['std']:.1f}", f"{s['min']:.1f}", f"{s['max']:.1f}",
                  f"{s['mean_length']:.1f}", str(s["min_length"]), str(s["max_length"]),
                  *(f"{v.mean():.2f}" for v in result.final_info.values()))
    Console().print(table)


# ---------------------------------------------------------------- eval / record / plot / list

def _run_policy(run_arg: str, checkpoint: str) -> tuple[Any, Any, Any]:
    from ganghwa.registry import get_algo
    from ganghwa.run import Run

    run = Run.open(run_arg)
    algo = get_algo(_read_algo(run.config_path))
    cfg = from_toml(algo.config, run.config_path.read_text())
    path = run.best if checkpoint == "best" and run.best.exists() else run.latest
    state = _load(path)
    if state.get("algo") != cfg.algo or state.get("config", {}).get("env_id") != cfg.env_id:
        raise GanghwaError(f"{path} does not belong to this run ({cfg.algo} on {cfg.env_id}); "
                           "the checkpoint is mismatched")
    return run, cfg, (path.stem, algo.load_policy(state))


def cmd_eval(args: argparse.Namespace) -> int:
    from ganghwa.evaluation import FINAL_EVAL_SEED

    if args.episodes < 1:
        raise GanghwaError("--episodes must be at least 1")
    run, cfg, (which, policy) = _run_policy(args.run, args.checkpoint)
    seed = cfg.seed + FINAL_EVAL_SEED if args.seed is None else args.seed
    result = _evaluate(policy, cfg, args.episodes, seed)
    _print_eval_table(run.path.name, which, result)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from ganghwa.evaluation import FINAL_EVAL_SEED
    from ganghwa.video import record

    if args.episodes < 1:
        raise GanghwaError("--episodes must be at least 1")
    run, cfg, (_, policy) = _run_policy(args.run, args.checkpoint)
    seed = cfg.seed + FINAL_EVAL_SEED if args.seed is None else args.seed
    files = record(policy, cfg.env_id, run.video_dir, args.episodes, args.format, seed,
                   env_kwargs=cfg.env_kwargs)
    for f in files:
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

    from ganghwa.registry import ALGOS, compatible_envs

    console = Console()
    if args.config:
        for algo in ALGOS.values():
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


def _greedy_path(P: Any, actions: Any, start: int, limit: int = 100
                 ) -> list[tuple[int, float]] | None:
    """The (state, reward) steps the greedy policy takes from start, if the model is
    deterministic along the way (as RoadTrip's is); None otherwise."""
    path, s = [], start
    for _ in range(limit):
        outcomes = P[s][int(actions[s])]
        if len(outcomes) != 1:
            return None
        _, s, reward, terminated = outcomes[0]
        path.append((int(s), float(reward)))
        if terminated:
            return path
    return None


def cmd_solve(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ganghwa.algos.tabular import DP_ALGOS, solve
    from ganghwa.config import TabularConfig
    from ganghwa.envs.layout import action_labels, grid_cells, state_labels
    from ganghwa.tables import q_table, value_grid

    if args.algo not in DP_ALGOS:
        raise GanghwaError(f"solve runs a DP method ({', '.join(DP_ALGOS)}), not {args.algo!r};"
                           f" learn from experience with `ganghwa train {args.algo} {args.env}`")
    if args.png and not args.png.lower().endswith(".png"):
        raise GanghwaError(f"--png must end in .png, got {args.png}")
    cfg = TabularConfig(algo=args.algo, env_id=args.env, gamma=args.gamma, theta=args.theta,
                        env_kwargs=parse_env_kwargs(args.env_kw))
    cfg.validate()
    env = _checked_env(cfg.algo, cfg.env_id, cfg.env_kwargs)
    V, Q, actions, sweeps = solve(cfg.algo, env, cfg.gamma, cfg.theta, cfg.max_sweeps)
    console = Console()
    labels = action_labels(env)
    arrows = [labels[a] for a in actions]
    cells = grid_cells(env)
    title = f"{cfg.algo} on {cfg.env_id}, γ={cfg.gamma} ({sweeps} sweeps)"
    if cells is not None:
        console.print(value_grid(V, cells, arrows, f"V(s) and greedy action: {title}"))
    console.print(q_table(Q, state_labels(env), labels, f"Q(s, a): {title}"))
    start = int(env.reset(seed=0)[0])
    console.print(f"V(start) = {V[start]:.4f}; greedy action at the start: {arrows[start]}")
    path = _greedy_path(env.unwrapped.P, actions, start)
    if path is not None:
        names, total = state_labels(env), sum(r for _, r in path)
        route = " → ".join([names[start]] + [names[s] for s, _ in path])
        console.print(f"greedy path: {route}  (return {total:g})")
    if args.png:
        from ganghwa.plots import plot_value_map

        if cells is None:
            raise GanghwaError(f"{cfg.env_id} is not a grid, so there is no value map to draw")
        print(plot_value_map(V, cells, arrows, Path(args.png), title))
    env.close()
    return 0


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "record": cmd_record, "plot": cmd_plot,
            "resume": cmd_resume, "solve": cmd_solve, "list": cmd_list}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except GanghwaError as e:
        print(f"ganghwa {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("\nganghwa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
