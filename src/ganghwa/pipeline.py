"""One training, end to end: config → checks → run folder → learn → evaluation → plots → video.

The CLI, the Python API (`ganghwa.train`) and, later, sweeps and notebooks all run a training
through this module, so a run folder is the same whoever made it, and `ganghwa eval`,
`record`, `plot` and `resume` accept it.

    cfg, note = configure("dqn", "CartPole-v1", preset=None, flags={"steps": 20_000})
    outcome = train_run(cfg, out="runs")          # or ganghwa.train("dqn", "CartPole-v1", ...)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from ganghwa.config import BaseConfig, apply, from_toml, parse_toml, resolve, to_toml
from ganghwa.errors import GanghwaError
from ganghwa.registry import algos_with_field, get_algo
from ganghwa.run import Run, atomic_write_text

FLAGS = {"steps": "total_steps", "seed": "seed", "device": "device", "num_envs": "num_envs",
         "workers": "workers", "backend": "backend", "video": "video",
         "env_kwargs": "env_kwargs"}
"""Shortcuts (the CLI's flags, ganghwa.train's keywords) for config fields."""


@dataclass
class Outcome:
    """What a training left: its run folder, the agent, and eval.json's figures."""

    run: Run
    agent: Any
    note: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    """eval.json: the best checkpoint's greedy evaluation, and the final policy's."""
    result: Any = None
    """The EvalResult behind `evaluation` (per-episode returns, lengths, info numbers)."""
    files: dict[str, Path] = field(default_factory=dict)
    views: list[Any] = field(default_factory=list)
    """What the algorithm shows of itself at the end (the Q-table), as rich renderables."""

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def stop_reason(self) -> str:
        return str(self.agent.stop_reason)

    def show(self) -> Any:
        """The run folder for a notebook (notebook.py), as `ganghwa.show(path)` shows it later."""
        return self.run.show()


# ---------------------------------------------------------------- config and env

def configure(algo: str, env: str | None = None, preset: str | None = None,
              flags: dict[str, Any] | None = None, overrides: dict[str, str] | None = None,
              default_preset: str | None = "tuned") -> tuple[BaseConfig, str]:
    """The resolved config: defaults < preset < flags (typed values) < overrides (--set text).

    With no `preset`, `default_preset` applies where it covers the env (the CLI's "tuned").
    """
    spec = get_algo(algo)
    values = {FLAGS.get(k, k): v for k, v in (flags or {}).items() if v is not None}
    names = {f.name for f in dataclasses.fields(spec.config)}
    for key in values:
        if key not in names and algos_with_field(key):
            flag = next((k for k, v in FLAGS.items() if v == key), key).replace("_", "-")
            raise GanghwaError(f"--{flag} applies to {', '.join(algos_with_field(key))}, not "
                               f"{spec.name}; drop it or pick one of those algorithms")
    given = overrides or {}
    for key in sorted(values.keys() & given.keys()):
        from ganghwa.errors import warn

        flag = next((k for k, v in FLAGS.items() if v == key), key).replace("_", "-")
        warn(f"--{flag} {values[key]} and --set {key}={given[key]} both set {key}; using "
             f"{key}={given[key]} (--set wins)")
    cfg, note = resolve(spec.config, spec.preset_sections, spec.name,
                        env or spec.config().env_id, preset, values, given,
                        default_preset=default_preset)
    resolve_auto = getattr(cfg, "resolve_auto", None)  # settings sized to the env (tabular)
    if resolve_auto is not None:
        from ganghwa.envs import make_env

        probe = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
        try:
            cfg, sized = resolve_auto(probe)
        finally:
            probe.close()
        note = "; ".join(part for part in (note, sized) if part)
    return cfg, note


def check_env(cfg: BaseConfig) -> tuple[gym.Space, gym.Space]:
    """The env, built once and checked against the algorithm before anything is written; its
    spaces are handed to the agent, which then builds no env of its own to learn them.

    It is also reset and stepped once, so that an env whose observations do not fit its
    observation_space, or whose reset or step raises, fails here in one line and not in the
    middle of training.
    """
    from ganghwa.envs import make_env
    from ganghwa.envs.guard import EnvError
    from ganghwa.envs.spaces import check_observation

    env = make_env(cfg.env_id, env_kwargs=cfg.env_kwargs)
    try:
        get_algo(cfg.algo).check_env(cfg.env_id, env, cfg)
        try:
            obs, _ = env.reset(seed=cfg.seed)
            check_observation(cfg.env_id, "reset()", obs, env.observation_space)
            obs, *_ = env.step(env.action_space.sample())
            check_observation(cfg.env_id, "step()", obs, env.observation_space)
        except EnvError as e:  # found before anything is written: bad input
            raise GanghwaError(str(e)) from None
        if env.spec is None or env.spec.max_episode_steps is None:
            from ganghwa.errors import warn
            from ganghwa.evaluation import EPISODE_STEP_CAP

            warn(f"{cfg.env_id} has no time limit: evaluation and video episodes stop after "
                 f"{EPISODE_STEP_CAP:,} steps (register it with max_episode_steps=N to set one)")
        return env.observation_space, env.action_space
    finally:
        env.close()


def build_agent(cfg: BaseConfig, spaces: tuple[gym.Space, gym.Space] | None = None) -> Any:
    return get_algo(cfg.algo).agent_class()(config=cfg, spaces=spaces)


def create_run(cfg: BaseConfig, out: str | Path = "runs", name: str | None = None) -> Run:
    """A new run folder, locked by this process, holding the resolved config.toml (a folder
    that fails to be written is not left behind)."""
    run = Run.create(Path(out), cfg.algo, cfg.env_id, cfg.seed, name)
    try:
        atomic_write_text(run.config_path, to_toml(cfg))
    except BaseException:
        run.remove()
        raise
    return run


# ---------------------------------------------------------------- training

def train_run(cfg: BaseConfig, out: str | Path = "runs", progress: bool = False,
              note: str = "", on_start: Any = None, name: str | None = None) -> Outcome:
    """Check the env, make the run folder (`name`d, or by algo, env, seed and time), build
    the agent and run it to the end."""
    spaces = check_env(cfg)
    warn_about(cfg)
    agent = build_agent(cfg, spaces)
    run = create_run(cfg, out, name)
    if on_start is not None:
        try:
            on_start(run)
        except BaseException:
            run.remove()
            raise
    return execute(agent, run, progress, note, fresh=True)


def warn_about(cfg: BaseConfig) -> None:
    """One line each for settings that will run but not as the user likely means."""
    from ganghwa.errors import warn

    learning_starts = getattr(cfg, "learning_starts", 0)
    if learning_starts >= cfg.total_steps:
        warn(f"--steps {cfg.total_steps} is not more than learning_starts={learning_starts}: "
             "the agent will never train; pass more --steps or --set learning_starts=N")


def execute(agent: Any, run: Run, progress: bool = False, note: str = "",
            fresh: bool = False) -> Outcome:
    """learn, then (unless interrupted) the final evaluation of best.pt into eval.json, the
    algorithm's pictures, curve.png and a video.

    The run folder stays locked until this returns. A `fresh` run (not a resume) that fails
    before its first checkpoint removes its folder, so that `last` never names an empty run.
    """
    try:
        return _execute(agent, run, progress, note, fresh)
    finally:
        run.unlock()


def _execute(agent: Any, run: Run, progress: bool, note: str, fresh: bool) -> Outcome:
    from ganghwa.errors import Diverged
    from ganghwa.plots import plot_runs

    outcome = Outcome(run, agent, note)
    try:
        agent.learn(run=run, progress=progress)
    except BaseException as e:
        kept = run.latest.is_file()
        if fresh and not kept:
            run.remove()
        if isinstance(e, Diverged):
            raise Diverged(f"{e}; " + (f"{run.latest} is kept" if kept else
                                       "no checkpoint had been written, so the run folder is "
                                       "removed")) from None
        raise
    if run.progress_path.exists():
        outcome.files["curve"] = plot_runs([run.path], run.curve_path)
    if agent.stop_reason in ("interrupted", "pruned"):
        return outcome
    pictures = getattr(agent, "pictures", None)
    if pictures is not None:
        outcome.files.update(pictures(run))
    view = getattr(agent, "view", None)
    if view is not None:
        outcome.views.append(view())
    outcome.evaluation, outcome.result, policy = final_evaluation(agent, run)
    if agent.config.video:
        from ganghwa.errors import warn
        from ganghwa.evaluation import FINAL_EVAL_SEED
        from ganghwa.video import record, video_problem

        cfg = agent.config
        problem = video_problem(cfg.env_id, cfg.env_kwargs)
        if problem:
            warn(f"no video: {problem}")
        else:
            videos = record(policy, cfg.env_id, run.video_dir, 1, "mp4",
                            cfg.seed + FINAL_EVAL_SEED, env_kwargs=cfg.env_kwargs)
            outcome.files.update({f"video {i}": v for i, v in enumerate(videos)})
    outcome.files["eval"] = run.eval_path
    return outcome


def final_evaluation(agent: Any, run: Run) -> tuple[dict[str, Any], Any, Any]:
    """best.pt's greedy evaluation on fresh seeds, and the final policy's, into eval.json.

    best.pt is the best of the periodic evaluations, the final one included (session.py); the
    file names the step it was saved at. When that is the final policy, it is scored once.
    """
    from ganghwa import checkpoint
    from ganghwa.evaluation import FINAL_EVAL_SEED, evaluate

    cfg = agent.config
    seed = cfg.seed + FINAL_EVAL_SEED
    best = checkpoint.load_checkpoint(run.best)
    best_step = int(best.get("step", agent.step))
    final_policy = lambda obs: agent.policy(obs, True)  # noqa: E731
    policy = (final_policy if best_step == agent.step
              else checkpoint.load_policy(best, spaces=agent.spaces))
    result = evaluate(policy, cfg.env_id, cfg.final_eval_episodes, seed, cfg.env_kwargs)
    final = result if best_step == agent.step else evaluate(
        final_policy, cfg.env_id, cfg.final_eval_episodes, seed, cfg.env_kwargs)
    summary = {"checkpoint": "best", "checkpoint_step": best_step, "seed": seed,
               "step": agent.step, "stop_reason": agent.stop_reason,
               "train_seconds": round(agent.elapsed, 3), **result.summary(),
               "final_policy": {"step": agent.step, **final.summary()}}
    run.write_json(run.eval_path, summary)
    return summary, result, policy


def train(algo: str | Any, env: str | None = None, *, preset: str | None = None,
          out: str | Path = "runs", progress: bool = False, **settings: Any) -> Outcome:
    """The whole pipeline from Python, as `ganghwa train` runs it: a run folder with
    config.toml, checkpoints, progress.csv, curve.png, eval.json and a video.

    `algo` is a name ("dqn") or an agent you built (its config is used as it is). `settings`
    are config fields or the shortcuts steps=, seed=, video=, ... With no preset, "tuned"
    applies where it covers the env, as on the command line.
    """
    if not isinstance(algo, str):
        agent = algo
        if settings or env or preset:
            raise GanghwaError("ganghwa.train(agent) trains the agent as configured; set "
                               "env, preset and settings when you build it")
        return execute(agent, create_run(agent.config, out), progress, fresh=True)
    cfg, note = configure(algo, env, preset, settings)
    return train_run(cfg, out, progress, note)


# ---------------------------------------------------------------- resume, eval, record

def read_config(run: Run) -> BaseConfig:
    """config.toml of a run folder, as its algorithm's config."""
    try:
        text = run.config_path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise GanghwaError(f"cannot read {run.config_path} ({e})") from None
    algo = str(parse_toml(text, str(run.config_path)).get("algo", "dqn"))
    return from_toml(get_algo(algo).config, text, str(run.config_path))


def prepare_resume(run_arg: str | Path, steps: int | None = None,
                   overrides: dict[str, str] | None = None, video: bool | None = None,
                   finish: bool = False) -> tuple[Run, Any] | str:
    """The run and its agent restored from latest.pt, ready for `execute`; or a sentence
    saying why there is nothing to do (the budget is reached), unless `finish`: then the agent
    comes back anyway, for `execute` to write what a run killed after its last step lacks
    (eval.json, the pictures). The folder is locked from here until `execute` returns: a
    second train or resume of it refuses."""
    run = Run.open(run_arg)
    run.lock()
    try:
        return _prepare_resume(run, steps, overrides, video, finish)
    except BaseException:
        run.unlock()
        raise


def _prepare_resume(run: Run, steps: int | None, overrides: dict[str, str] | None,
                    video: bool | None, finish: bool = False) -> tuple[Run, Any] | str:
    from ganghwa import checkpoint

    cfg = read_config(run)
    state = checkpoint.load_checkpoint(run.latest)
    if state.get("algo") != cfg.algo or "counters" not in state:
        raise GanghwaError(f"{run.latest} is not a full {cfg.algo} training checkpoint; "
                           "it cannot be resumed")
    if state["config"].get("env_id") != cfg.env_id:
        raise GanghwaError(f"{run.latest} was trained on {state['config'].get('env_id')}, "
                           f"but {run.config_path} says {cfg.env_id}; the checkpoint is mismatched")
    changes: dict[str, Any] = dict(overrides or {})
    if changes.keys() & {"algo", "env_id", "env_kwargs", "seed"}:
        raise GanghwaError("a resumed run keeps its algo, env and seed; start a new run with "
                           "`ganghwa train` to change them")
    if steps is not None:
        changes["total_steps"] = steps
    if video is not None:
        changes["video"] = video
    if changes:
        cfg = apply(cfg, changes)
        cfg.validate()
        atomic_write_text(run.config_path, to_toml(cfg))
    agent_cls = get_algo(cfg.algo).agent_class()
    budget, counter = getattr(agent_cls, "budget", ("total_steps", "step"))
    done = state["counters"].get(counter, 0)
    if done >= getattr(cfg, budget) and not finish:
        flag = "--steps N" if budget == "total_steps" else f"--set {budget}=N"
        run.unlock()
        return (f"{run.path} already reached {done} of {getattr(cfg, budget)} "
                f"{budget.replace('total_', '')}; pass {flag} to train longer")
    agent = build_agent(cfg, check_env(cfg))
    checkpoint.restore(agent, state)
    run.truncate_logs(agent.step)
    return run, agent


def run_policy(run_arg: str | Path, which: str = "best") -> tuple[Run, BaseConfig, str, Any]:
    """(run, config, checkpoint name, greedy policy) of a run folder, for eval and record."""
    from ganghwa import checkpoint

    run = Run.open(run_arg)
    cfg = read_config(run)
    path = run.best if which == "best" and run.best.exists() else run.latest
    state = checkpoint.load_checkpoint(path)
    if state.get("algo") != cfg.algo or state.get("config", {}).get("env_id") != cfg.env_id:
        raise GanghwaError(f"{path} does not belong to this run ({cfg.algo} on {cfg.env_id}); "
                           "the checkpoint is mismatched")
    return run, cfg, path.stem, checkpoint.load_policy(state, spaces=check_env(cfg))
