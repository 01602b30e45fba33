"""A run folder shown inline in a notebook: its pictures, evaluation table and video.

    run = ganghwa.train("dqn", "CartPole-v1")   # or ganghwa.show("runs/dqn-CartPole-v1-...")
    run.show()                                  # the whole run; or run.show().curve(), .video()

Everything is read from the folder, so a run trained in the notebook and one loaded from disk
show alike. Images and the video are embedded as base64 data, not linked by path: a path
breaks in Colab's output frame and in an exported HTML file, while data plays anywhere.
Each view is an object with `_repr_html_`, which Jupyter, Colab and nbconvert render, so this
module needs no IPython import (and prints a plain summary outside a notebook).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.run import Run

QUICK_ENV = "GANGHWA_QUICK"
"""Set to 1, every notebook budget shrinks to its quick value (the test suite runs them so)."""

MAX_VIDEO_BYTES = 50 * 2**20
"""A larger video is linked by its path rather than embedded, so a notebook stays openable."""

EVAL_ROWS = (("mean", "mean return"), ("std", "std"), ("min", "min"), ("max", "max"),
             ("episodes", "episodes"), ("mean_length", "mean length"), ("step", "env steps"),
             ("checkpoint_step", "scored checkpoint's step"), ("stop_reason", "stop reason"),
             ("train_seconds", "training time (s)"))


class Html:
    """A piece of HTML that a notebook renders; `str()` is its plain-text summary."""

    def __init__(self, markup: str, text: str):
        self.markup, self.text = markup, text

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def image(path: Path, alt: str) -> Html:
    """A PNG embedded as data."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Html(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
                f'style="max-width:100%">', f"{alt}: {path}")


def video(path: Path) -> Html:
    """An MP4 (or GIF) embedded as data, with controls; too large a file is linked instead."""
    if path.stat().st_size > MAX_VIDEO_BYTES:
        return Html(f'<p>video too large to embed ({path.stat().st_size / 2**20:.0f} MB): '
                    f'<a href="{html.escape(str(path))}">{html.escape(path.name)}</a></p>',
                    f"video: {path}")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    if path.suffix.lower() == ".gif":
        return Html(f'<img src="data:image/gif;base64,{data}" alt="video">', f"video: {path}")
    return Html(f'<video controls loop muted playsinline style="max-width:100%" '
                f'src="data:video/mp4;base64,{data}"></video>', f"video: {path}")


def evaluation_table(evaluation: dict[str, Any]) -> Html:
    """eval.json as a two-column table (and the final policy's column when it differs)."""
    final = evaluation.get("final_policy") or {}
    heads = ["", f"{evaluation.get('checkpoint', 'best')}.pt"] + (["final policy"] if final else [])
    rows, lines = [], []
    for key, label in EVAL_ROWS:
        if key not in evaluation and key not in final:
            continue
        cells = [_cell(evaluation.get(key))] + ([_cell(final.get(key))] if final else [])
        rows.append(f"<tr><th>{html.escape(label)}</th>"
                    + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        lines.append(f"{label}: {' | '.join(cells)}")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
                "\n".join(lines))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


class RunView:
    """What one run folder shows: `.curve()`, `.evaluation()`, `.video()`, `.values()`,
    `.q_table()`; displayed as a whole, all of those it has."""

    def __init__(self, run: str | Path | Run | Any):
        # a path, or a Run or an Outcome (ganghwa.train's), both of which have .path
        self.run = Run.open(run if isinstance(run, (str, Path)) else run.path)
        self.path = self.run.path

    def title(self) -> str:
        from ganghwa.config import parse_toml

        cfg = parse_toml(self.run.config_path.read_text(), str(self.run.config_path))
        return f"{cfg.get('algo', '?')} on {cfg.get('env_id', '?')}, seed {cfg.get('seed', '?')}"

    def curve(self) -> Html:
        """curve.png: the return and the algorithm's own panels (the GA's fitness)."""
        return image(self._need(self.run.curve_path, "a curve (it has no progress yet)"),
                     "learning curve")

    def evaluation(self) -> Html:
        """eval.json as a table."""
        path = self._need(self.run.eval_path, "an evaluation (training has not finished; "
                          "`ganghwa resume` it)")
        return evaluation_table(json.loads(path.read_text()))

    def video(self) -> Html:
        """The newest video of the greedy agent."""
        videos = sorted((p for p in self.run.video_dir.glob("*") if p.suffix.lower()
                         in (".mp4", ".gif")), key=lambda p: p.stat().st_mtime)
        if not videos:
            raise GanghwaError(f"{self.path} has no video; `ganghwa record {self.path}` "
                               "makes one")
        return video(videos[-1])

    def values(self) -> Html:
        """values.png of a tabular run on a grid: V(s) and the greedy arrows."""
        return image(self._need(self.path / "values.png", "a value map (tabular runs on a "
                                "grid env have one)"), "value map")

    def q_table(self) -> Html:
        """q_table.txt of a tabular run, best actions marked *."""
        text = self._need(self.path / "q_table.txt", "a Q-table (tabular runs have one)"
                          ).read_text()
        return Html(f"<pre>{html.escape(text)}</pre>", text)

    def parts(self) -> list[Html]:
        """Every view the folder has files for, in reading order."""
        shown = []
        for view, present in ((self.evaluation, self.run.eval_path.is_file()),
                              (self.curve, self.run.curve_path.is_file()),
                              (self.values, (self.path / "values.png").is_file()),
                              (self.q_table, (self.path / "q_table.txt").is_file()),
                              (self.video, any(self.run.video_dir.glob("*.mp4"))
                               or any(self.run.video_dir.glob("*.gif")))):
            if present:
                shown.append(view())
        return shown

    def _repr_html_(self) -> str:
        head = f"<h3>{html.escape(self.title())}</h3><p><code>{html.escape(str(self.path))}" \
               "</code></p>"
        return head + "".join(part._repr_html_() for part in self.parts())

    def __repr__(self) -> str:
        return "\n".join([f"{self.title()}: {self.path}", *(str(p) for p in self.parts())])

    def _need(self, path: Path, what: str) -> Path:
        if not path.is_file():
            raise GanghwaError(f"{self.path} has no {path.name}: no {what}")
        return path


class Comparison:
    """Runs grouped as `ganghwa compare` groups them: a table per group (seeds, solved,
    mean ± std, IQM with its 95% CI, P(improvement over the first group)) and the curves of
    the mean over seeds with their CI band. compare.csv and compare.png are written as the
    command writes them."""

    def __init__(self, paths: Sequence[str | Path], threshold: float | None = None):
        from ganghwa.experiments.compare import compare

        self.paths = [str(p) for p in paths]
        self.rows, self.threshold, self.files = compare(self.paths, threshold)

    def table(self) -> Html:
        heads = ["group", "seeds", "solved", "mean ± std", "IQM [95% CI]",
                 "P(better than first) [95% CI]", "median steps to threshold"]
        rows, lines = [], []
        for row in self.rows:
            cells = [row["group"], str(row["seeds"]),
                     "–" if row["solved"] is None else f"{row['solved']}/{row['seeds']}",
                     f"{row['mean']:.2f} ± {row['std']:.2f}",
                     f"{row['iqm']:.2f} [{row['iqm_low']:.2f}, {row['iqm_high']:.2f}]",
                     f"{row['p_improvement']:.2f} [{row['p_low']:.2f}, {row['p_high']:.2f}]"
                     if "p_improvement" in row else "–",
                     "–" if row["steps_to_threshold"] is None else
                     f"{row['steps_to_threshold']:,.0f} ({row['reached_threshold']} seeds)"]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            lines.append(" | ".join(cells))
        head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
        note = "" if self.threshold is None else f"threshold {self.threshold:g}"
        return Html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                    f"</table><p>{html.escape(note)}</p>",
                    "\n".join([" | ".join(heads), *lines, note]))

    def curves(self) -> Html:
        return image(self.files["plot"], "mean over seeds with 95% CI")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_() + self.curves()._repr_html_()

    def __repr__(self) -> str:
        return f"{self.table()}\ncurves: {self.files['plot']}"


def show(run: str | Path | Run | Any, *more: str | Path | Any,
         threshold: float | None = None) -> RunView | Comparison:
    """A run folder (a path, 'last', a Run, or what `ganghwa.train` returned) for display; an
    experiment folder, or several runs, as their comparison."""
    items = [_where(x) for x in (run, *more)]
    if len(items) == 1 and (str(items[0]) == "last" or (Path(items[0]) / "config.toml").is_file()):
        return RunView(items[0])
    return Comparison(items, threshold)


def _where(x: Any) -> str | Path:
    """The folder of a path, a Run, an Outcome (`.path`) or a SweepOutcome (`.root`)."""
    if isinstance(x, (str, Path)):
        return x
    return getattr(x, "path", None) or x.root


def quick() -> bool:
    """Whether GANGHWA_QUICK=1 asks for the shrunk budgets."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


def budget(full: int, quick_value: int) -> int:
    """`full`, or `quick_value` under GANGHWA_QUICK=1: the notebooks' budgets, so that the test
    suite executes every notebook top to bottom in seconds and it cannot rot."""
    return quick_value if quick() else full
