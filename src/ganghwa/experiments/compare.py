"""`ganghwa compare`: any run folders, grouped by what differs in their configs, seeds pooled.

Per group: seeds solved, the final evaluation (eval.json: best.pt's greedy mean) as mean ± std
for learners and as the interquartile mean with a 95% stratified bootstrap CI, the probability
of improvement over the first group (both from rliable, Agarwal et al. 2021, rather than
written here), and the env steps and wall time to the solve threshold (the first periodic
evaluation that reaches it). Writes the table as CSV and a plot of each group's mean curve
against env steps with its 95% CI band.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganghwa.errors import GanghwaError
from ganghwa.run import Run, atomic_write_text, read_progress, read_rows

IGNORED = {"seed", "device", "video", "threads", "checkpoint_every", "checkpoint_seconds"}
"""Config fields that never make two runs different experiments."""
REPS = 2000
"""Bootstrap resamples: rliable's papers use 2,000 for CIs on a handful of runs."""
GRID = 100
"""Points on the env-step axis of the curve plot."""


@dataclass
class RunData:
    path: Path
    config: dict[str, Any]
    final: float
    evaluations: list[tuple[int, float]]
    progress: dict[str, list[float]]


@dataclass
class Group:
    label: str
    runs: list[RunData] = field(default_factory=list)
    row: dict[str, Any] = field(default_factory=dict)


def rliable() -> tuple[Any, Any]:
    import warnings

    # rliable hands arch a RandomState, which arch 7 deprecates in favour of a Generator;
    # the resampling is the same, so the warning says nothing to the user.
    warnings.filterwarnings("ignore", message="random_state is deprecated",
                            category=FutureWarning)
    try:
        from rliable import library, metrics
    except ImportError as e:
        raise GanghwaError(f"compare needs rliable ({e.name or e}): pip install "
                           "'ganghwa[tune]'") from None
    return library, metrics


@contextlib.contextmanager
def seeded_resampling(seed: int) -> Iterator[np.random.RandomState]:
    """A RandomState for rliable, and numpy's global generator seeded too, then put back.

    Why: rliable's StratifiedBootstrap draws its resamples with the global np.random.choice
    (update_indices) and never uses the random_state it passes to arch, so without this the
    same runs gave a different CI on every call (497.1 then 497.5 for one 10-seed group)."""
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield np.random.RandomState(seed)
    finally:
        np.random.set_state(saved)


def find_runs(paths: list[str]) -> list[Path]:
    """Run folders from experiment folders, run folders or their parents; finished ones."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise GanghwaError(f"{text} does not exist; pass an experiment folder or run "
                               "folders")
        if (path / "config.toml").is_file():
            found.append(path)
        elif (path / "manifest.json").is_file():  # an experiment: its variants in order
            from ganghwa.experiments.folder import manifest_tasks, run_dir

            found.extend(run_dir(path, task) for task in manifest_tasks(path))
        else:
            found.extend(sorted(p.parent for p in path.glob("**/config.toml")))
    runs = [p for p in dict.fromkeys(found) if (p / "eval.json").is_file()]
    if not runs:
        raise GanghwaError(f"no finished run (with eval.json) under {' '.join(paths)}; "
                           "train or sweep first")
    return runs


def load(path: Path) -> RunData:
    from ganghwa.pipeline import read_config

    run = Run(path)
    cfg = read_config(run)
    try:
        final = float(json.loads(run.eval_path.read_text())["mean"])
    except (OSError, ValueError, KeyError) as e:
        raise GanghwaError(f"cannot read {run.eval_path} ({e}); retrain or remove that run") \
            from None
    _, rows = read_rows(run.evaluations_path) if run.evaluations_path.exists() else ([], [])
    evaluations = [(int(float(r["step"])), float(r["mean"])) for r in rows]
    progress = read_progress(run.progress_path) if run.progress_path.exists() else {}
    return RunData(path, dataclasses.asdict(cfg), final, evaluations, progress)


def group(runs: list[RunData]) -> list[Group]:
    """Groups of runs whose configs differ only in the seed (and IGNORED fields), labelled by
    the settings that tell them apart; an experiment's runs keep their variant names."""
    keys = sorted({k for r in runs for k in r.config} - IGNORED)
    differing = [k for k in keys if len({repr(r.config.get(k)) for r in runs}) > 1]
    groups: dict[tuple[str, ...], Group] = {}
    for r in runs:
        variant = _variant(r)  # an experiment's variant is a group, even if its config
        signature = (variant if variant is not None else  # matches another variant's
                     tuple(repr(r.config.get(k)) for k in differing))
        if signature not in groups:
            groups[signature] = Group(variant[1] if variant is not None else "")
        groups[signature].runs.append(r)
    found = list(groups.values())
    labels = [g.label for g in found]
    duplicated = len(set(labels)) < len(labels)  # variant names that do not tell groups apart
    for g in found:
        if duplicated or not g.label:
            g.label = _label(g, found, differing)
    return found


def _label(g: Group, groups: list[Group], differing: list[str]) -> str:
    """The settings that tell the group apart. Groups of other algorithms or envs are named
    by those first, and then by what differs among the groups of the same algorithm and env
    only: the fields of one algorithm that another lacks, or sets otherwise, are no choice."""
    config = g.runs[0].config
    head = [k for k in ("algo", "env_id") if k in differing]
    alike = [h for h in groups if all(h.runs[0].config.get(k) == config.get(k) for k in head)]
    rest = [k for k in differing if k not in head
            and len({repr(h.runs[0].config.get(k)) for h in alike}) > 1]
    return " ".join([*(str(config.get(k)) for k in head),
                     *(f"{k}={_text(config.get(k))}" for k in rest)]) or "all runs"


def _variant(run: RunData) -> tuple[str, str] | None:
    """(experiment folder, variant name) of a sweep's run folder, else None."""
    stem, sep, seed = run.path.name.rpartition("-s")
    if sep and seed.isdigit() and run.path.parent.name == "runs" and \
            (run.path.parent.parent / "manifest.json").is_file():
        return str(run.path.parent.parent), stem
    return None


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def threshold_for(runs: list[RunData], given: float | None) -> float | None:
    """--threshold, else the env's reward_threshold (CartPole-v1: 475), else stop_at."""
    if given is not None:
        return given
    import gymnasium as gym

    env_id = runs[0].config.get("env_id", "")
    try:
        spec_threshold = gym.spec(env_id).reward_threshold
    except Exception:  # a module:Class env, or an id gym does not know
        spec_threshold = None
    if spec_threshold is not None:
        return float(spec_threshold)
    stop_at = runs[0].config.get("stop_at")
    return float(stop_at) if stop_at is not None else None


def first_solve(run: RunData, threshold: float) -> tuple[int, float] | None:
    """(env step, wall seconds) of the first periodic evaluation at or above threshold."""
    for step, mean in run.evaluations:
        if mean >= threshold:
            steps, times = run.progress.get("step", []), run.progress.get("time", [])
            index = int(np.searchsorted(np.asarray(steps), step, side="left"))
            seconds = times[min(index, len(times) - 1)] if times else float("nan")
            return step, float(seconds)
    return None


def solve_step(run: RunData, threshold: float) -> int:
    """The env step of the first evaluation at or above threshold, else the run's budget
    (so a seed that never solves counts as the slowest, a lower bound on its true steps)."""
    solved = first_solve(run, threshold)
    if solved is not None:
        return solved[0]
    budget = run.config.get("total_steps")
    last = max([s for s, _ in run.evaluations] + list(run.progress.get("step", [])) + [0])
    return int(budget) if isinstance(budget, int | float) else int(last)


def statistics(groups: list[Group], threshold: float | None, reps: int = REPS,
               seed: int = 0) -> list[dict[str, Any]]:
    """One row per group: seeds, solved, mean ± std, IQM and its 95% CI, P(improvement over
    the first group) and its CI, median steps and seconds to the threshold."""
    library, metrics = rliable()
    scores = {g.label: np.array([[r.final] for r in g.runs]) for g in groups}
    with seeded_resampling(seed) as state:
        return _rows(groups, threshold, reps, scores, state, library, metrics)


def _rows(groups: list[Group], threshold: float | None, reps: int,
          scores: dict[str, np.ndarray], state: np.random.RandomState, library: Any,
          metrics: Any) -> list[dict[str, Any]]:
    iqm, iqm_ci = library.get_interval_estimates(
        scores, lambda x: np.array([metrics.aggregate_iqm(x)]), reps=reps, random_state=state)
    steps_iqm: dict[str, Any] = {}
    steps_ci: dict[str, Any] = {}
    if threshold is not None:  # a seed that never reaches it counts its whole budget
        steps = {g.label: np.array([[solve_step(r, threshold)] for r in g.runs], dtype=float)
                 for g in groups}
        steps_iqm, steps_ci = library.get_interval_estimates(
            steps, lambda x: np.array([metrics.aggregate_iqm(x)]), reps=reps,
            random_state=state)
    rows = []
    first = groups[0].label
    for g in groups:
        finals = scores[g.label][:, 0]
        solves = [first_solve(r, threshold) for r in g.runs] if threshold is not None else []
        hit = [s for s in solves if s is not None]
        row: dict[str, Any] = {
            "group": g.label, "seeds": len(g.runs),
            "solved": sum(f >= threshold for f in finals) if threshold is not None else None,
            "mean": float(finals.mean()), "std": float(finals.std()),
            "iqm": _scalar(iqm[g.label]), "iqm_low": _scalar(iqm_ci[g.label][0]),
            "iqm_high": _scalar(iqm_ci[g.label][1]),
            "steps_to_threshold": float(np.median([s for s, _ in hit])) if hit else None,
            "seconds_to_threshold": float(np.median([t for _, t in hit])) if hit else None,
            "reached_threshold": len(hit),
        }
        if threshold is not None:
            row.update(steps_iqm=_scalar(steps_iqm[g.label]),
                       steps_low=_scalar(steps_ci[g.label][0]),
                       steps_high=_scalar(steps_ci[g.label][1]))
        if g.label != first:
            pair = {f"{g.label},{first}": (scores[g.label], scores[first])}
            poi, poi_ci = library.get_interval_estimates(
                pair, metrics.probability_of_improvement, reps=reps, random_state=state)
            key = next(iter(pair))
            row.update(p_improvement=_scalar(poi[key]), p_low=_scalar(poi_ci[key][0]),
                       p_high=_scalar(poi_ci[key][1]))
        g.row = row
        rows.append(row)
    return rows


def _scalar(value: Any) -> float:
    return float(np.ravel(value)[0])


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    columns = ["group", "seeds", "solved", "mean", "std", "iqm", "iqm_low", "iqm_high",
               "p_improvement", "p_low", "p_high", "reached_threshold", "steps_to_threshold",
               "seconds_to_threshold", "steps_iqm", "steps_low", "steps_high"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    atomic_write_text(path, buffer.getvalue())


def curves(groups: list[Group], reps: int = 500, seed: int = 0
           ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], str]:
    """Per group: an env-step grid, the mean over seeds and its 95% bootstrap CI (rliable,
    resampling runs at every point), and what the curve is.

    The curve is each run's periodic greedy evaluations (evaluations.csv), the figure its
    solve is judged on. A run that stopped early (solved) keeps its last evaluation to the end
    of the axis, and no run is drawn before its first point. Runs without evaluations fall
    back to the 20-episode running mean of their training returns (exploration included)."""
    library, _ = rliable()
    runs = [r for g in groups for r in g.runs]
    evaluated = all(r.evaluations for r in runs)
    series = {id(r): _series(r, evaluated) for r in runs}
    ends = [s[0][-1] for s in series.values() if len(s[0])]
    if not ends:
        return {}, ""
    grid = np.linspace(0, max(ends), GRID)
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    with seeded_resampling(seed) as state:
        for g in groups:
            _curve(g, grid, series, reps, state, library, out)
    what = ("greedy evaluation mean (held after a run stops)" if evaluated else
            "episode return (20-episode mean)")
    return out, what


def _curve(g: Group, grid: np.ndarray, series: dict[int, tuple[np.ndarray, np.ndarray]],
           reps: int, state: np.random.RandomState, library: Any,
           out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """One group's mean curve on the grid and its CI band, into `out`."""
    lines = [np.interp(grid, *series[id(r)], left=np.nan) for r in g.runs
             if len(series[id(r)][0])]  # nothing before a run's first point
    if not lines:
        return
    mean, ci = library.get_interval_estimates({g.label: np.array(lines)},
                                              lambda x: x.mean(axis=0), reps=reps,
                                              random_state=state)
    out[g.label] = (grid, mean[g.label], ci[g.label])


def _series(run: RunData, evaluated: bool) -> tuple[np.ndarray, np.ndarray]:
    if evaluated:
        at = np.array([step for step, _ in run.evaluations], dtype=float)
        return at, np.array([mean for _, mean in run.evaluations], dtype=float)
    at = np.asarray(run.progress.get("step", []), dtype=float)
    returns = np.asarray(run.progress.get("return", []), dtype=float)
    if len(at) == 0:
        return at, returns
    window = min(20, len(returns))
    smooth = np.convolve(returns, np.ones(window) / window, mode="full")[:len(returns)]
    smooth[:window] = np.cumsum(returns[:window]) / np.arange(1, window + 1)
    return at, smooth


def plot(groups: list[Group], path: Path, threshold: float | None, title: str) -> Path:
    from ganghwa.plots import figure, save_png

    fig, ax = figure(figsize=(8, 4.5))
    found, what = curves(groups)
    for label, (grid, mean, ci) in found.items():
        (line,) = ax.plot(grid, mean, label=label)
        ax.fill_between(grid, ci[0], ci[1], color=line.get_color(), alpha=0.2)
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle=":", linewidth=1,
                   label=f"threshold {threshold:g}")
    ax.set_xlabel("env steps")
    ax.set_ylabel(what)
    ax.set_title(f"{title}: mean over seeds, 95% bootstrap CI")
    ax.legend(fontsize=8)
    return save_png(fig, path)


def compare(paths: list[str], threshold: float | None = None, out: str | None = None
            ) -> tuple[list[dict[str, Any]], float | None, dict[str, Path]]:
    """Group, compute, and write compare.csv and compare.png (in the one experiment folder
    given, else in `out` or the current folder)."""
    rliable()
    runs = [load(p) for p in find_runs(paths)]
    groups = group(runs)
    limit = threshold_for(runs, threshold)
    rows = statistics(groups, limit)
    folder = Path(out) if out else (Path(paths[0]) if len(paths) == 1 and
                                    (Path(paths[0]) / "manifest.json").is_file() else Path("."))
    folder.mkdir(parents=True, exist_ok=True)
    files = {"csv": folder / "compare.csv", "plot": folder / "compare.png"}
    write_csv(rows, files["csv"])
    env = runs[0].config.get("env_id", "")
    plot(groups, files["plot"], limit, f"{runs[0].config.get('algo', '')} on {env}")
    return rows, limit, files
