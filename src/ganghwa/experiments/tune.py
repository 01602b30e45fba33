"""`ganghwa tune ALGO ENV`: Optuna's TPE over a search space kept as data, each trial scored
over several seeds, pruned on the periodic greedy evaluations.

- The space is a TOML file per algorithm (`spaces/dqn.toml`, after RL-Zoo's samplers), or the
  user's own (`--space FILE`); every key must be a setting of the algorithm.
- A trial trains `seeds` runs, one after another, each an ordinary run folder under
  `experiments/<name>/trials/`. Its score is the mean over the seeds of the final greedy
  evaluation (eval.json). Every periodic evaluation is reported to the pruner at step
  `seed index × (steps + 1) + env step`, so trials are compared seed by seed, at the same
  point of the same seed's run.
- The study lives in `study.journal` in the experiment folder (Optuna's JournalStorage: safe
  for several processes on one filesystem), or in `--storage URL` (PostgreSQL or MySQL for many
  machines, as Optuna's docs advise). Ctrl-C stops the running trial; a rerun of the same
  command finishes the study, running the cut-short trial's parameters again first.
- At the end: best.toml, a preset that `--preset path/best.toml` loads, and tune.png, the
  optimisation history beside the parameter importances.

RL-Zoo scores a trial on one seed by default; its users have asked for more (rl-baselines3-zoo
#40, #151, #204). Two seeds is the default here: half the noise of one, at twice the cost.
"""

from __future__ import annotations

import contextlib
import math
import sys
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.run import atomic_write_text

SPACES = Path(__file__).parent / "spaces"
DEFAULT_SEEDS = 2
STUDY_FILE = "study.journal"


def optuna_module() -> Any:
    first = "optuna" not in sys.modules
    try:
        import optuna
    except ImportError:
        raise GanghwaError("tune needs Optuna: pip install 'ganghwa[tune]'") from None
    if first:  # once: `optimize` quietens it further while trials run
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# ---------------------------------------------------------------- the search space (data)

@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "float", "int" or "choices"
    values: tuple[Any, ...]
    log: bool = False

    def sample(self, trial: Any) -> Any:
        if self.kind == "float":
            return trial.suggest_float(self.name, *self.values, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, *self.values, log=self.log)
        return trial.suggest_categorical(self.name, list(self.values))


def load_space(algo: str, path: str | None) -> list[Param]:
    """The search space: `path`, else the algorithm's own file; each key checked against the
    algorithm's settings."""
    from ganghwa.registry import get_algo

    file = Path(path) if path else SPACES / f"{algo}.toml"
    if not file.is_file():
        if path:
            raise GanghwaError(f"--space {path} does not exist")
        known = ", ".join(sorted(p.stem for p in SPACES.glob("*.toml")))
        raise GanghwaError(f"no search space for {algo} (there are spaces for {known}); "
                           "write one and pass --space FILE (see spaces/dqn.toml)")
    try:
        data = tomllib.loads(file.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise GanghwaError(f"cannot read {file} ({e})") from None
    settings = {f.name for f in fields(get_algo(algo).config)} - {"algo", "env_id", "seed"}
    params = []
    for name, entry in data.items():
        if name not in settings:
            from ganghwa.config import did_you_mean

            hint = did_you_mean(name, sorted(settings))
            raise GanghwaError(f"{file}: {name!r} is not a {algo} setting.{hint} "
                               f"`ganghwa list --config {algo}` lists them")
        kinds = [k for k in ("float", "int", "choices") if isinstance(entry, dict) and k in entry]
        if len(kinds) != 1:
            raise GanghwaError(f"{file}: [{name}] needs exactly one of float = [low, high], "
                               "int = [low, high] or choices = [...]")
        kind = kinds[0]
        values = tuple(entry[kind])
        if kind != "choices" and (len(values) != 2 or not values[0] <= values[1]):
            raise GanghwaError(f"{file}: [{name}] {kind} needs [low, high] with low <= high")
        if kind == "choices" and not values:
            raise GanghwaError(f"{file}: [{name}] choices is empty")
        params.append(Param(name, kind, values, bool(entry.get("log", False))))
    if not params:
        raise GanghwaError(f"{file} names no setting to search")
    return params


def as_setting(value: Any) -> str:
    """A sampled value as --set text (True -> "true", [64, 64] -> "64,64")."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- one trial

def score_trial(trial: Any, algo: str, env: str, seeds: list[int], steps: int | None,
                space: list[Param], root: Path, preset: str | None) -> float:
    """Train every seed with the trial's settings; the mean of their final evaluations."""
    from ganghwa.pipeline import build_agent, check_env, configure, create_run, execute

    optuna = optuna_module()
    settings = {p.name: as_setting(p.sample(trial)) for p in space}
    scores = []
    for index, seed in enumerate(seeds):
        cfg, _ = configure(algo, env, preset, {"seed": seed, "steps": steps, "video": False},
                           settings, default_preset=None)  # unsearched: preset or defaults
        offset = index * (cfg.total_steps + 1)

        def hook(step: int, mean: float, offset: int = offset) -> bool:
            trial.report(mean, offset + step)
            return not trial.should_prune()

        agent = build_agent(cfg, check_env(cfg))
        agent.evaluation_hook = hook
        run = create_run(cfg, root / "trials", name=f"t{trial.number}-s{seed}")
        outcome = execute(agent, run, fresh=True)
        if agent.stop_reason == "pruned":
            raise optuna.TrialPruned()
        if agent.stop_reason == "interrupted":
            raise KeyboardInterrupt(outcome.agent.stop_signal or "SIGINT")
        scores.append(float(outcome.evaluation["mean"]))
    return sum(scores) / len(scores)


# ---------------------------------------------------------------- the study

def storage_for(root: Path, url: str | None) -> Any:
    """The study's storage: a journal file in the experiment folder, or `url` (checked now,
    so that an unreachable database is one line before any trial starts)."""
    optuna = optuna_module()
    if url is None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        root.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(root / STUDY_FILE)))
    try:
        # A trial whose machine dies stops beating; Optuna fails it after the grace period
        # and queues its parameters again. Optuna 4.9 renamed the callback; both are
        # "experimental", which it says in a warning on every start.
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", FutureWarning)
            stale = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
            retry = {"heartbeat_stale_trial_callback": stale(max_retry=2)} if stale else {
                "failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=2)}
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True},
                                              heartbeat_interval=60, grace_period=180, **retry)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise GanghwaError(f"--storage {url} cannot be opened ({first}); check the URL and "
                           "that the database answers") from None


def pruner_for(name: str) -> Any:
    optuna = optuna_module()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise GanghwaError(f"--pruner must be median, halving or none, got {name!r}")


def open_study(root: Path, name: str, storage_url: str | None, pruner: str, seed: int
               ) -> tuple[Any, Any]:
    optuna = optuna_module()
    storage = storage_for(root, storage_url)
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True,
                                direction="maximize", pruner=pruner_for(pruner),
                                sampler=optuna.samplers.TPESampler(seed=seed))
    return study, storage


def requeue_cut_short(study: Any, storage: Any, root: Path) -> int:
    """Trials left RUNNING by an earlier, stopped tune in this experiment folder: marked
    failed, their parameters queued to run first. A trial whose run folder another process
    still holds (a tune running beside this one) is left alone. With --storage URL this is
    the database's heartbeat's job (storage_for), so nothing is done here."""
    from optuna.storages import JournalStorage

    from ganghwa.run import Run

    if not isinstance(storage, JournalStorage):
        return 0
    optuna = optuna_module()

    def held(number: int) -> bool:
        for folder in (root / "trials").glob(f"t{number}-s*"):
            run = Run(folder)
            try:
                run.lock()
            except GanghwaError:
                return True
            run.unlock()
        return False

    stale = [t for t in study.get_trials(deepcopy=False)
             if t.state == optuna.trial.TrialState.RUNNING and not held(t.number)]
    for t in stale:
        storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params, skip_if_exists=False)
    return len(stale)


def finished(study: Any) -> int:
    optuna = optuna_module()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sum(t.state in done for t in study.get_trials(deepcopy=False))


# ---------------------------------------------------------------- results

def best_preset(study: Any, algo: str, env: str, steps: int | None, path: Path,
                base: str | None = None) -> Path | None:
    """The best trial as a preset TOML that `--preset path` loads: the `base` preset's
    settings (the trials ran on them), then the trial's own."""
    import tomli_w

    optuna = optuna_module()
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return None
    best = max(complete, key=lambda t: t.value)
    values: dict[str, Any] = {}
    if base is not None and base != "none":
        from ganghwa.config import preset_values
        from ganghwa.registry import get_algo

        values, _ = preset_values(base, get_algo(algo).preset_sections, env)
    values.update(best.params)
    if "hidden" in values and isinstance(values["hidden"], str):
        values["hidden"] = [int(v) for v in values["hidden"].split(",")]
    if steps is not None:
        values["total_steps"] = steps
    header = (f"# ganghwa tune {algo} {env}: trial {best.number}, score {best.value:.2f} "
              f"(mean final evaluation over its seeds) of {len(complete)} complete trials\n")
    atomic_write_text(path, header + tomli_w.dumps({algo: {env: values}}))
    return path


def plot_study(study: Any, path: Path) -> Path | None:
    """The optimisation history (each trial's score, the best so far) and the parameter
    importances (Optuna's PED-ANOVA, which needs no scikit-learn)."""
    from ganghwa.plots import figure, save_png

    optuna = optuna_module()
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return None
    fig, (history, importance) = figure(1, 2, figsize=(11, 4))
    numbers = [t.number for t in complete]
    values = [t.value for t in complete]
    best = [max(values[:i + 1]) for i in range(len(values))]
    history.scatter(numbers, values, s=14, label="trial")
    history.step(numbers, best, where="post", color="C3", label="best so far")
    history.set_xlabel("trial")
    history.set_ylabel("score (mean final evaluation)")
    history.set_title("optimisation history")
    history.legend(fontsize=8)
    import warnings

    try:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        with warnings.catch_warnings():  # "too few trials": the bars then say so themselves
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except Exception as e:  # too few trials, or a single distinct value
        found = {}
        importance.text(0.5, 0.5, f"no importances yet\n({type(e).__name__})",
                        ha="center", va="center", transform=importance.transAxes)
    if found:
        names = list(found)[::-1]
        importance.barh(names, [found[n] for n in names])
    importance.set_title("parameter importances (PED-ANOVA)")
    return save_png(fig, path)


def summary(study: Any) -> dict[str, Any]:
    optuna = optuna_module()
    states = [t.state for t in study.get_trials(deepcopy=False)]
    count = {s.name.lower(): states.count(s) for s in optuna.trial.TrialState}
    try:
        best = study.best_trial
        count.update(best_number=best.number, best_value=best.value, best_params=best.params)
    except ValueError:
        pass
    return count


def check_trials(trials: int) -> None:
    if trials < 1 or math.isnan(trials):
        raise GanghwaError(f"--trials must be at least 1, got {trials}")


# ---------------------------------------------------------------- the driver

@dataclass(frozen=True)
class Study:
    """Everything a trial process needs to open the study and score trials (picklable)."""

    algo: str
    env: str
    seeds: tuple[int, ...]
    steps: int | None
    preset: str | None
    space: str | None
    root: str
    name: str
    storage: str | None
    pruner: str
    sampler_seed: int
    trials: int

    def objective(self, stop: list[int]) -> Any:
        """The trial function; a stop signal (a run's, or one between trials) goes to `stop`."""
        import signal

        space = load_space(self.algo, self.space)
        root = Path(self.root)

        def objective(trial: Any) -> float:
            try:
                return score_trial(trial, self.algo, self.env, list(self.seeds), self.steps,
                                   space, root, self.preset)
            except KeyboardInterrupt as e:
                trial.study.enqueue_trial(trial.params)  # the rerun runs these first
                stop.append(int(getattr(signal, str(e.args[0]) if e.args else "SIGINT",
                                        signal.SIGINT)))
                raise
        return objective


def optimize(study_args: Study, worker: int = 0, stop: list[int] | None = None) -> None:
    """Trials until the study has `trials` finished ones (several processes may share it),
    or a stop signal. A trial that fails (a diverged run) is recorded as failed and the
    study goes on."""
    import logging

    from ganghwa.errors import GanghwaError

    optuna = optuna_module()
    stop = [] if stop is None else stop
    study, _ = open_study(Path(study_args.root), study_args.name, study_args.storage,
                          study_args.pruner, study_args.sampler_seed + worker)
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    left = study_args.trials - finished(study)
    if left <= 0:
        return
    quiet = logging.getLogger("optuna")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a stopped trial is ours to report, in one line
    try:
        study.optimize(study_args.objective(stop), n_trials=left, catch=(GanghwaError,),
                       callbacks=[optuna.study.MaxTrialsCallback(study_args.trials,
                                                                 states=done),
                                  lambda study, _trial: study.stop() if stop else None])
    except KeyboardInterrupt:  # the objective noted which signal
        if not stop:
            stop.append(2)
    finally:
        quiet.setLevel(level)


def _worker(study_args: Study, worker: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver forwards a stop as SIGTERM
    from ganghwa.errors import GanghwaError

    try:
        optimize(study_args, worker)
    except GanghwaError as e:
        print(f"ganghwa tune: error: {e}", file=sys.stderr)
        raise SystemExit(e.exit_code) from None


def tune(algo: str, env: str, trials: int, seeds: int = DEFAULT_SEEDS, steps: int | None = None,
         preset: str | None = None, space: str | None = None, pruner: str = "median",
         storage: str | None = None, name: str | None = None, out: Path = Path("experiments"),
         workers: int = 1, backend: str = "local", sampler_seed: int = 0,
         report: Any = None) -> dict[str, Any]:
    """Run the study to `trials` finished trials; write best.toml and tune.png."""
    from ganghwa.experiments.folder import default_name
    from ganghwa.experiments.runner import stop_signals
    from ganghwa.pipeline import configure

    optuna_module()
    check_trials(trials)
    if seeds < 1 or workers < 1:
        raise GanghwaError(f"--seeds and --workers must be at least 1, got {seeds} and "
                           f"{workers}")
    params = load_space(algo, space)
    for p in params:  # every value the space can give must be a valid setting
        ends = p.values if p.kind == "choices" else p.values[:1] + p.values[-1:]
        for value in ends:
            value = int(value) if p.kind == "int" else value
            configure(algo, env, preset, {"steps": steps}, {p.name: as_setting(value)},
                      default_preset=None)
    label = name or f"tune-{default_name(algo, env)}"
    root = Path(out) / label
    study, store = open_study(root, label, storage, pruner, sampler_seed)
    again = requeue_cut_short(study, store, root)
    if again and report:
        report(f"{again} trial(s) cut short earlier run again first")
    args = Study(algo, env, tuple(range(seeds)), steps, preset, space, str(root), label,
                 storage, pruner, sampler_seed, trials)
    stop_signal = 0
    with stop_signals() as stop:
        if finished(study) < trials:
            if backend == "ray":
                _on_ray(args, trials - finished(study))
            elif workers == 1:
                optimize(args, stop=stop)
            else:
                _on_processes(args, workers, stop)
        stop_signal = stop[0] if stop else 0
    study, _ = open_study(root, label, storage, pruner, sampler_seed)
    result = summary(study)
    result.update(root=root, stop_signal=stop_signal,
                  preset=best_preset(study, algo, env, steps, root / "best.toml", preset),
                  plot=plot_study(study, root / "tune.png"))
    return result


def _on_processes(args: Study, workers: int, stop: list[int]) -> None:
    import multiprocessing
    import os
    import signal
    import time

    from ganghwa.experiments.runner import ignoring_sigint
    from ganghwa.runtime import spawnable_main

    ctx = multiprocessing.get_context("spawn")
    processes = [ctx.Process(target=_worker, args=(args, i), daemon=True)
                 for i in range(workers)]
    with ignoring_sigint(), spawnable_main():
        for p in processes:
            p.start()
    forwarded = False
    while any(p.is_alive() for p in processes):
        if stop and not forwarded:
            for p in processes:
                with contextlib.suppress(ProcessLookupError):
                    if p.pid:
                        os.kill(p.pid, signal.SIGTERM)
            forwarded = True
        time.sleep(0.2)
    failed = [p.exitcode for p in processes if p.exitcode not in (0, None)]
    if failed and not stop:
        raise GanghwaError(f"{len(failed)} trial process(es) failed (exit codes {failed}); "
                           "their error is above")


def _on_ray(args: Study, count: int) -> None:
    from ganghwa.ray_setup import start_ray

    ray, started = start_ray(1)
    try:
        remote = ray.remote(num_cpus=1, max_retries=2)(_ray_trial)
        ray.get([remote.remote(args, i) for i in range(count)])
    finally:
        if started:
            ray.shutdown()


def _ray_trial(args: Study, index: int) -> None:
    """One trial on a Ray worker (the study's storage must be reachable from it: a journal
    file on a shared filesystem, or a database URL)."""
    study, _ = open_study(Path(args.root), args.name, args.storage, args.pruner,
                          args.sampler_seed + 1000 + index)
    if finished(study) < args.trials:
        from ganghwa.errors import GanghwaError

        study.optimize(args.objective([]), n_trials=1, catch=(GanghwaError,))
