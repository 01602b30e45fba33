"""Learning curves from progress.csv: return with its 100-episode moving average, then one
panel per metric the algorithm logged (TD loss and epsilon, policy and value loss, ...)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ganghwa.errors import GanghwaError
from ganghwa.logging import metric_label
from ganghwa.run import PROGRESS_FIELDS, atomic_write_bytes, read_progress
from ganghwa.tables import NO_DECISION_CELLS

LOG_SCALE = frozenset({"td_loss", "value_loss", "loss"})
"""Metrics drawn on a log scale when all their values are positive (losses spanning decades)."""


def moving_average(values: np.ndarray, window: int = 100) -> np.ndarray:
    """Trailing mean over up to `window` points (shorter at the start, never padded with zeros)."""
    if len(values) == 0:
        return values
    csum = np.cumsum(np.insert(values.astype(float), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def _progress(run_dir: Path) -> dict[str, np.ndarray]:
    path = Path(run_dir) / "progress.csv"
    if not path.is_file():
        raise GanghwaError(f"{run_dir} has no progress.csv yet; pass a run folder that has "
                           "trained at least one episode")
    return {key: np.asarray(v) for key, v in read_progress(path).items()}


def plot_runs(run_dirs: list[Path], out: Path, window: int = 100) -> Path:
    """Overlay runs against env steps: the return, then one panel per metric column that has
    data in any run (GA runs: fitness against generations); written atomically as PNG."""
    progress = [_progress(d) for d in run_dirs]
    evolved = ["fitness_mean" in data for data in progress]
    if any(evolved):
        if not all(evolved):
            raise GanghwaError("GA runs plot fitness per generation, the others return per env "
                               "step; plot them separately")
        return plot_generations(run_dirs, progress, out)
    metrics = _metric_columns(progress)
    fig, axes = plt.subplots(1 + len(metrics), 1, figsize=(9, 3 + 2.5 * len(metrics)),
                             sharex=True, squeeze=False)
    ax_ret, *ax_metrics = axes[:, 0]
    for k, (run_dir, data) in enumerate(zip(run_dirs, progress, strict=True)):
        color = f"C{k}"
        label = Path(run_dir).name
        steps = data["step"]
        if len(steps) <= 2000:  # beyond that the raw returns are a solid band
            ax_ret.plot(steps, data["return"], color=color, alpha=0.25, linewidth=0.8)
        ax_ret.plot(steps, moving_average(data["return"], window), color=color, linewidth=2,
                    label=f"{label} ({window}-ep mean)")
        evaluations = Path(run_dir) / "evaluations.csv"
        if evaluations.is_file():  # greedy evaluations: what the policy does without epsilon
            ev = np.loadtxt(evaluations, delimiter=",", skiprows=1, ndmin=2)
            ax_ret.plot(ev[:, 0], ev[:, 1], "o--", color=color, markersize=4, linewidth=1,
                        label=f"{label} (greedy eval)")
        for name, ax in zip(metrics, ax_metrics, strict=True):
            if name in data:
                logged = ~np.isnan(data[name])
                ax.plot(steps[logged], data[name][logged], color=color, linewidth=1.2)
    ax_ret.set_ylabel("episode return")
    ax_ret.legend(loc="lower right", fontsize=8)
    for name, ax in zip(metrics, ax_metrics, strict=True):
        ax.set_ylabel(metric_label(name))
        values = np.concatenate([d[name][~np.isnan(d[name])] for d in progress if name in d])
        if name in LOG_SCALE and (values > 0).all():
            ax.set_yscale("log")
    for ax in axes[:, 0]:
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("env steps")
    return _save(fig, Path(out))


def _metric_columns(progress: list[dict[str, np.ndarray]]) -> list[str]:
    """The columns besides step, episode, return, length and time that hold a number in any
    run, in the order the runs' headers first name them."""
    fixed = {*PROGRESS_FIELDS, "time"}
    names = dict.fromkeys(k for data in progress for k in data if k not in fixed)
    return [name for name in names
            if any(name in data and (~np.isnan(data[name])).any() for data in progress)]


def plot_generations(run_dirs: list[Path], progress: list[dict[str, np.ndarray]],
                     out: Path) -> Path:
    """The GA's curve, as the tutorial draws it: min, mean and max fitness per generation."""
    fig, ax = plt.subplots(figsize=(9, 5))
    for k, (run_dir, data) in enumerate(zip(run_dirs, progress, strict=True)):
        color, label = f"C{k}", Path(run_dir).name
        gens = data["generation"]
        ax.fill_between(gens, data["fitness_min"], data["fitness_max"], color=color, alpha=0.15)
        ax.plot(gens, data["fitness_max"], color=color, linewidth=1.2, linestyle="--",
                label=f"{label} max")
        ax.plot(gens, data["fitness_mean"], color=color, linewidth=2, label=f"{label} mean")
        ax.plot(gens, data["fitness_min"], color=color, linewidth=1, linestyle=":",
                label=f"{label} min")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness (mean return over k episodes)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, Path(out))


def _save(fig: Figure, out: Path) -> Path:
    """PNG through a buffer and an atomic rename; the figure is closed."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(out, buffer.getvalue())
    return out


def plot_value_map(values: np.ndarray, cells: np.ndarray, arrows: list[str], out: Path,
                   title: str) -> Path:
    """V(s) as a heatmap over the grid, each cell showing its value and greedy action.

    Cells where the agent never decides (goal G, traps X / H, cliff C, walls #) are grey and
    show their letter only: their "value" is an artefact of the model, not something to read.
    """
    rows, cols = cells.shape
    grid = np.asarray(values, dtype=float).reshape(rows, cols)
    inert = np.isin(cells, list(NO_DECISION_CELLS))
    shown = np.ma.masked_array(grid, mask=inert)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.8")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * cols + 1.5), max(3.0, 0.8 * rows + 1)))
    image = ax.imshow(shown, cmap=cmap)
    fig.colorbar(image, ax=ax, shrink=0.8, label="V(s)")
    low, span = shown.min(), np.ptp(shown) if shown.count() else 0.0
    for r in range(rows):
        for c in range(cols):
            if inert[r, c]:
                ax.text(c, r, str(cells[r, c]), ha="center", va="center", fontsize=16)
                continue
            shade = "black" if grid[r, c] > low + 0.6 * span else "white"
            ax.text(c, r - 0.12, arrows[r * cols + c], ha="center", va="center", fontsize=16,
                    color=shade)
            ax.text(c, r + 0.28, f"{grid[r, c]:.2f}", ha="center", va="center", fontsize=7,
                    color=shade)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title(title, fontsize=10)
    return _save(fig, Path(out))
