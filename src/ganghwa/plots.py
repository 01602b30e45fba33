"""Learning curves from progress.csv: return with its 100-episode moving average, then one
panel per metric the algorithm logged (TD loss and epsilon, policy and value loss, ...).
Overlaid runs are labelled by what differs between their config.toml files. Also V(s) over a
grid env (values.png), at a bounded size whatever the grid."""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ganghwa.config import parse_toml
from ganghwa.errors import GanghwaError
from ganghwa.logging import metric_label
from ganghwa.run import PROGRESS_FIELDS, atomic_write_bytes, read_progress
from ganghwa.tables import NO_DECISION_CELLS

LOG_SCALE = frozenset({"td_loss", "value_loss", "loss"})
"""Metrics drawn on a log scale when all their values are positive (losses spanning decades)."""

SAVE_DPI = 110


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
    fig, axes = figure(1 + len(metrics), 1, figsize=(9, 3 + 2.5 * len(metrics)),
                             sharex=True, squeeze=False)
    ax_ret, *ax_metrics = axes[:, 0]
    labels = run_labels(run_dirs)
    for k, (label, run_dir, data) in enumerate(zip(labels, run_dirs, progress, strict=True)):
        color = f"C{k}"
        steps = data["step"]
        if len(steps) <= 2000:  # beyond that the raw returns are a solid band
            ax_ret.plot(steps, data["return"], color=color, alpha=0.25, linewidth=0.8)
        ax_ret.plot(steps, moving_average(data["return"], window), color=color, linewidth=2,
                    label=f"{label} ({window}-ep mean)")
        evaluations = Path(run_dir) / "evaluations.csv"
        if evaluations.is_file():  # greedy evaluations: what the policy does without epsilon
            ev = read_progress(evaluations)  # the same row checks as progress.csv
            ax_ret.plot(ev["step"], ev["mean"], "o--", color=color, markersize=4, linewidth=1,
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
    return save_png(fig, Path(out))


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
    fig, ax = figure(figsize=(9, 5))
    labels = run_labels(run_dirs)
    for k, (label, data) in enumerate(zip(labels, progress, strict=True)):
        color = f"C{k}"
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
    return save_png(fig, Path(out))


# ---------------------------------------------------------------- legend labels

IDENTITY = ("algo", "env_id", "preset", "seed")
"""Config keys that name a run rather than tune it; the rest are its settings."""

MAX_SETTINGS_IN_LABEL = 4
"""Differing settings a label names before it says how many more there are."""


def run_labels(run_dirs: list[Path]) -> list[str]:
    """One legend label per run, from its config.toml, never from the folder's timestamp.

    A single run: `dqn on CartPole-v1, seed 0`. Several: what differs between their configs,
    in this order: the algo and env (if they differ), preset=, the settings whose values differ
    (`lr=0.0005, double=false`; env keywords by their own names), then the seed. Settings only
    some of the algorithms have are not compared (the algo already says it). Runs whose labels
    would be equal, identical configs among them, are numbered: `#1`, `#2`. A folder without
    a readable config.toml is labelled by its name, less the timestamp.
    """
    configs = [_flat_config(Path(d)) for d in run_dirs]
    if len(run_dirs) == 1:
        labels = [_identity(configs[0], Path(run_dirs[0]))]
    else:
        known = [c for c in configs if c is not None]
        differing = [key for key in dict.fromkeys(k for c in known for k in c)
                     if len({_shown(c.get(key)) for c in known}) > 1
                     and (key.startswith("env_kwargs.") or all(key in c for c in known))]
        labels = [_difference(c, differing) or _identity(c, Path(d)) if c is not None
                  else _folder_label(Path(d)) for c, d in zip(configs, run_dirs, strict=True)]
    counts = {label: labels.count(label) for label in labels}
    seen: dict[str, int] = {}
    numbered = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        numbered.append(f"{label} #{seen[label]}" if counts[label] > 1 else label)
    return numbered


def _flat_config(run_dir: Path) -> dict[str, Any] | None:
    """config.toml as one flat dict (env_kwargs.<name> for the env's keywords), or None."""
    try:
        data = parse_toml((run_dir / "config.toml").read_text(), str(run_dir / "config.toml"))
    except (OSError, UnicodeDecodeError, GanghwaError):
        return None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _shown(value: Any) -> str:
    """A setting as TOML writes it: false, 0.0005, [64, 64], a string bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"[{', '.join(_shown(v) for v in value)}]"
    return str(value)


def _identity(config: dict[str, Any] | None, run_dir: Path) -> str:
    if config is None or not {"algo", "env_id"} <= config.keys():
        return _folder_label(run_dir)
    seed = f", seed {config['seed']}" if "seed" in config else ""
    return f"{config['algo']} on {config['env_id']}{seed}"


def _difference(config: dict[str, Any], differing: list[str]) -> str:
    names = " on ".join(str(config[k]) for k in ("algo", "env_id")
                        if k in differing and k in config)
    settings = [f"{key.removeprefix('env_kwargs.')}={_shown(config[key])}"
                for key in differing if key not in IDENTITY and key in config]
    if "preset" in differing and "preset" in config:
        settings.insert(0, f"preset={config['preset']}")
    if len(settings) > MAX_SETTINGS_IN_LABEL:
        more = len(settings) - MAX_SETTINGS_IN_LABEL
        settings = [*settings[:MAX_SETTINGS_IN_LABEL], f"+{more} more"]
    seed = [f"seed {config['seed']}"] if "seed" in differing and "seed" in config else []
    return ", ".join([names, *settings, *seed] if names else [*settings, *seed])


def _folder_label(run_dir: Path) -> str:
    """The folder's name without Run.create's `-YYYYmmdd-HHMMSS[-n]`."""
    return re.sub(r"-\d{8}-\d{6}(-\d+)?$", "", run_dir.name) or run_dir.name


def figure(*grid: int, **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes, as pyplot's `subplots` gives them, without pyplot.

    Why: importing pyplot costs about 0.7 s of every `ganghwa train` (its backends and state
    machine), and it would pick a backend for the user's own plots; a bare Figure is drawn by
    the Agg canvas at savefig and is freed with its last reference."""
    fig = Figure(figsize=kwargs.pop("figsize", None))
    return fig, fig.subplots(*grid, **kwargs)


def save_png(fig: Figure, out: Path) -> Path:
    """PNG through a buffer and an atomic rename."""
    fig.tight_layout()
    fig.set_layout_engine(None)  # with the layout's engine left set, savefig draws twice
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=SAVE_DPI)
    atomic_write_bytes(out, buffer.getvalue())
    return out


VALUE_MAP_MAX_INCHES = 15.5
"""The grid's side in the picture at most: with the colour bar and title the PNG stays under
2,000 px a side at SAVE_DPI, whatever the grid (a 350×350 one once needed 24 GB)."""

LABELLED_CELLS = 40
"""Grids up to this many cells a side get an arrow and a value in each cell; beyond, the cells
are too small to read and the picture is the colours alone (the title says so)."""

def plot_value_map(values: np.ndarray, cells: np.ndarray, arrows: list[str], out: Path,
                   title: str) -> Path:
    """V(s) as a heatmap over the grid, each cell showing its value and greedy action.

    Cells where the agent never decides (goal G, traps X / H, cliff C, walls #) are grey and
    show their letter only: their "value" is an artefact of the model, not something to read.
    Text is black or white, whichever contrasts more with its cell's colour. The picture's size
    is bounded (VALUE_MAP_MAX_INCHES), and so are its cost in time and memory: grids larger
    than LABELLED_CELLS a side are drawn as the colours alone.
    """
    rows, cols = cells.shape
    grid = np.asarray(values, dtype=float).reshape(rows, cols)
    inert = np.isin(cells, list(NO_DECISION_CELLS))
    shown = np.ma.masked_array(grid, mask=inert)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.8")
    side = max(rows, cols)
    cell = min(0.8, VALUE_MAP_MAX_INCHES / side)  # inches
    labelled = side <= LABELLED_CELLS
    fig, ax = figure(figsize=(max(4.0, cols * cell + 2.5), max(3.0, rows * cell + 1.5)))
    image = ax.imshow(shown, cmap=cmap, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="V(s)")
    if labelled:
        points = cell * 72
        colors = text_colors(np.asarray(cmap(image.norm(grid))))
        for r in range(rows):
            for c in range(cols):
                if inert[r, c]:
                    ax.text(c, r, str(cells[r, c]), ha="center", va="center",
                            fontsize=min(16.0, 0.35 * points), in_layout=False)
                    continue
                ax.text(c, r - 0.12, arrows[r * cols + c], ha="center", va="center",
                        fontsize=min(16.0, 0.3 * points), color=colors[r, c], in_layout=False)
                ax.text(c, r + 0.28, f"{grid[r, c]:.2f}", ha="center", va="center",
                        fontsize=min(7.0, 0.22 * points), color=colors[r, c], in_layout=False)
        ax.set_xticks(range(cols))
        ax.set_yticks(range(rows))
    else:
        title += (f" ({rows}×{cols} cells, too many to label: the colour is V(s), grey cells "
                  "are goals, traps and walls)")
    fontsize = 10
    width_chars = int(0.9 * fig.get_figwidth() * 72 / (0.6 * fontsize))
    fig.suptitle(textwrap.fill(title, max(20, width_chars)), fontsize=fontsize)
    return save_png(fig, Path(out))


def text_colors(rgba: np.ndarray) -> np.ndarray:
    """"black" or "white" for text on each colour (..., 4): whichever contrasts more, by the
    WCAG relative luminance L (black wins where (L + 0.05) / 0.05 > 1.05 / (L + 0.05), i.e.
    L > 0.179)."""
    linear = np.where(rgba[..., :3] <= 0.04045, rgba[..., :3] / 12.92,
                      ((rgba[..., :3] + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(luminance > 0.179, "black", "white")
