"""`ganghwa report RUN|EXPERIMENT ...`: the lab report, one self-contained HTML file.

The runs are grouped as `ganghwa compare` groups them (by what differs in their configs, seeds
pooled). The report holds the env and algorithm, a settings table with the differing rows
marked, the results per group (mean ± std; the IQM with its 95% CI from rliable where a group
has several seeds and the `tune` extra is installed), wall time and env steps/s, the learning
curves, each group's first run shown as a notebook shows it (evaluation, curve, value map,
Q-table, video: notebook.py), and the commands that reproduce every run. Every image and video
is embedded as data and the style is inline, so the file opens offline and prints to PDF.
"""

from __future__ import annotations

import dataclasses
import html
import json
import platform
import shlex
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.experiments.compare import (
    IGNORED,
    Group,
    RunData,
    find_runs,
    group,
    load,
    plot,
    threshold_for,
)
from ganghwa.notebook import RunView, image
from ganghwa.run import atomic_write_text

WORDS = {
    "en": {"title": "ganghwa lab report", "setup": "Setup", "settings": "Settings",
           "results": "Results", "curves": "Learning curves", "runs": "Runs",
           "commands": "Reproduce", "group": "group", "seeds": "seeds", "solved": "solved",
           "mean": "mean ± std", "iqm": "IQM [95% CI]", "wall": "wall time (median)",
           "sps": "env steps/s (median)", "steps": "env steps (median)",
           "differs": "marked rows differ between groups",
           "no_iqm": "IQM needs several seeds and the tune extra (pip install 'ganghwa[tune]')",
           "made": "made", "machine": "machine", "env": "env", "algo": "algorithm",
           "threshold": "solved: final evaluation mean at least"},
    "ko": {"title": "ganghwa 실험 보고서", "setup": "실험 환경", "settings": "설정",
           "results": "결과", "curves": "학습 곡선", "runs": "실행", "commands": "재현 명령",
           "group": "그룹", "seeds": "시드", "solved": "해결", "mean": "평균 ± 표준편차",
           "iqm": "IQM [95% 신뢰구간]", "wall": "학습 시간(중앙값)",
           "sps": "초당 환경 스텝(중앙값)", "steps": "환경 스텝(중앙값)",
           "differs": "표시된 행은 그룹마다 값이 다릅니다",
           "no_iqm": "IQM은 시드가 여럿이고 tune 추가 설치가 있어야 합니다 "
                     "(pip install 'ganghwa[tune]')",
           "made": "작성", "machine": "머신", "env": "환경", "algo": "알고리즘",
           "threshold": "해결: 최종 평가 평균이 다음 이상"},
}

STYLE = """
body { font-family: "Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Apple SD Gothic Neo",
       "Malgun Gothic", system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.differs { background: #fff3c4; font-weight: 600; }
pre, code { font-family: "Noto Sans Mono CJK KR", "D2Coding", monospace; font-size: 0.85rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
img, video { max-width: 100%; }
section.run { page-break-inside: avoid; }
@media print { body { margin: 0; max-width: none; } video { display: none; }
               h2 { page-break-after: avoid; } }
"""


def report(paths: list[str], out: str | Path | None = None, lang: str = "en") -> Path:
    """Write the report of the runs under `paths` to `out` (default report.html); its path."""
    if lang not in WORDS:
        raise GanghwaError(f"--lang takes {' or '.join(WORDS)}, got {lang!r}")
    target = Path(out or "report.html")
    if target.suffix.lower() not in (".html", ".htm"):
        raise GanghwaError(f"--out must end in .html, got {target}")
    runs = [load(p) for p in find_runs(paths)]
    groups = group(runs)
    threshold = threshold_for(runs, None)
    w = WORDS[lang]
    body = [f"<h1>{w['title']}</h1>", _setup(runs, w), _settings(groups, w),
            _results(groups, threshold, w), _curves(groups, threshold, w),
            f"<h2>{w['runs']}</h2>", *(_run(g) for g in groups), _commands(runs, w)]
    page = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{w['title']}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    try:
        atomic_write_text(target, page)
    except OSError as e:
        raise GanghwaError(f"cannot write {target} ({e.strerror or e}); pass --out with a "
                           "file in a folder you can write to") from None
    return target


def _setup(runs: list[RunData], w: dict[str, str]) -> str:
    from ganghwa import __version__

    envs = sorted({str(r.config.get("env_id")) for r in runs})
    algos = sorted({str(r.config.get("algo")) for r in runs})
    rows = [(w["env"], ", ".join(envs)), (w["algo"], ", ".join(algos)),
            (w["seeds"], str(len(runs))),
            (w["machine"], f"{platform.platform()}, Python {platform.python_version()}, "
                           f"ganghwa {__version__}"),
            (w["made"], time.strftime("%Y-%m-%d %H:%M"))]
    return f"<h2>{w['setup']}</h2>" + _table(["", ""], rows, header=False)


def _settings(groups: list[Group], w: dict[str, str]) -> str:
    """Every config field, one column per group; the rows that differ come first, marked."""
    configs = [g.runs[0].config for g in groups]
    keys = sorted({k for c in configs for k in c} - {"seed"})
    differing = [k for k in keys if k not in IGNORED
                 and len({repr(c.get(k)) for c in configs}) > 1]
    rows = [(k, *(_value(c.get(k)) for c in configs)) for k in differing + [
        k for k in keys if k not in differing]]
    note = f"<p>{w['differs']}</p>" if differing else ""
    return (f"<h2>{w['settings']}</h2>{note}"
            + _table(["", *(g.label for g in groups)], rows, marked=len(differing)))


def _results(groups: list[Group], threshold: float | None, w: dict[str, str]) -> str:
    iqm = _iqm(groups)
    rows = []
    for g in groups:
        finals = [r.final for r in g.runs]
        mean = sum(finals) / len(finals)
        std = (sum((f - mean) ** 2 for f in finals) / len(finals)) ** 0.5
        times = [_eval(r).get("train_seconds") for r in g.runs]
        steps = [_eval(r).get("step") for r in g.runs]
        seconds = [t for t in times if isinstance(t, (int, float)) and t > 0]
        rates = [s / t for s, t in zip(steps, times, strict=True)
                 if isinstance(s, (int, float)) and isinstance(t, (int, float)) and t > 0]
        solved = ("–" if threshold is None else
                  f"{sum(f >= threshold for f in finals)}/{len(finals)}")
        rows.append((g.label, str(len(g.runs)), solved, f"{mean:.2f} ± {std:.2f}",
                     iqm.get(g.label, "–"),
                     f"{median(v for v in steps if isinstance(v, (int, float))):,.0f}"
                     if any(isinstance(v, (int, float)) for v in steps) else "–",
                     f"{median(seconds):.1f} s" if seconds else "–",
                     f"{median(rates):,.0f}" if rates else "–"))
    notes = [f"{w['threshold']} {threshold:g}" if threshold is not None else ""]
    if len(iqm) < len(groups):
        notes.append(w["no_iqm"])
    return (f"<h2>{w['results']}</h2>"
            + _table([w["group"], w["seeds"], w["solved"], w["mean"], w["iqm"], w["steps"],
                      w["wall"], w["sps"]], rows)
            + "".join(f"<p>{html.escape(n)}</p>" for n in notes if n))


def _iqm(groups: list[Group]) -> dict[str, str]:
    """'IQM [low, high]' per group of 2 seeds or more, when rliable is installed."""
    from ganghwa.experiments.compare import statistics

    if not any(len(g.runs) > 1 for g in groups):
        return {}
    try:
        rows = statistics(groups, None)
    except GanghwaError:  # no rliable: the table says how to get it
        return {}
    return {row["group"]: f"{row['iqm']:.2f} [{row['iqm_low']:.2f}, {row['iqm_high']:.2f}]"
            for row, g in zip(rows, groups, strict=True) if len(g.runs) > 1}


def _curves(groups: list[Group], threshold: float | None, w: dict[str, str]) -> str:
    """compare's plot (the mean over seeds with its CI band) when there is more than one run;
    one run's own curve.png is shown with it below."""
    if sum(len(g.runs) for g in groups) < 2:
        return ""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "curves.png"
        first = groups[0].runs[0].config
        try:
            plot(groups, path, threshold, f"{first.get('algo', '')} on {first.get('env_id', '')}")
        except GanghwaError:  # no rliable for the CI band: each run's curve is below
            return ""
        return f"<h2>{w['curves']}</h2>" + image(path, "learning curves")._repr_html_()


def _run(g: Group) -> str:
    view = RunView(g.runs[0].path)
    seeds = ", ".join(str(r.config.get("seed")) for r in g.runs)
    head = (f"<h3>{html.escape(g.label)}: {html.escape(view.title())}</h3>"
            f"<p><code>{html.escape(str(view.path))}</code> (seeds {html.escape(seeds)})</p>")
    return f'<section class="run">{head}' + "".join(p._repr_html_() for p in view.parts()) \
        + "</section>"


def _commands(runs: list[RunData], w: dict[str, str]) -> str:
    """Each experiment's sweep command as its manifest keeps it, then a train line per run."""
    sweeps = []
    for r in runs:
        manifest = r.path.parent.parent / "manifest.json"
        if r.path.parent.name == "runs" and manifest.is_file():
            try:
                words = json.loads(manifest.read_text()).get("command")
            except (OSError, ValueError):
                words = None
            if words:
                sweeps.append(shlex.join(["ganghwa", *map(str, words)]))
    lines = [*dict.fromkeys(sweeps), *(command(r) for r in runs)]
    return (f'<h2>{w["commands"]}</h2><pre class="commands">' + html.escape("\n".join(lines))
            + "</pre>")


def command(run: RunData) -> str:
    """The `ganghwa train` line that resolves to this run's config: its preset and seed, and
    `--set` for every field that differs from what they give."""
    from ganghwa.pipeline import configure

    cfg = run.config
    algo, env, preset = str(cfg["algo"]), str(cfg["env_id"]), str(cfg.get("preset", "none"))
    env_kwargs = cfg.get("env_kwargs") or {}
    try:
        base = dataclasses.asdict(configure(algo, env, preset, {
            "env_kwargs": env_kwargs or None, "seed": cfg.get("seed", 0)})[0])
    except GanghwaError:  # the preset file has moved, say: every setting, from the defaults
        base, preset = {}, "none"
    keys = [k for k, v in cfg.items()
            if k not in ("algo", "env_id", "preset", "seed", "env_kwargs") and base.get(k) != v]
    # a plain lr=0.001 reads as a constant schedule: a key with a `<key>_schedule` field
    # brings its schedule too, set after it
    keys += [f"{k}_schedule" for k in keys if f"{k}_schedule" in cfg]
    keys = sorted(dict.fromkeys(keys), key=lambda k: k.endswith("_schedule"))
    sets = [f"{k}={_value(cfg[k])}" for k in keys]
    words = ["ganghwa", "train", algo, env, "--preset", preset, "--seed", str(cfg.get("seed"))]
    for k, v in env_kwargs.items():  # as TOML reads it back: "3" stays a string
        words += ["--env-kw", f"{k}={json.dumps(v) if isinstance(v, (str, list)) else _value(v)}"]
    return shlex.join(words + (["--set", *sets] if sets else []))


def _eval(run: RunData) -> dict[str, Any]:
    try:
        return dict(json.loads((run.path / "eval.json").read_text()))
    except (OSError, ValueError):
        return {}


def _value(value: Any) -> str:
    """A config value as `--set` takes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(_value(v) for v in value)
    return str(value)


def _table(head: list[str], rows: Sequence[tuple[str, ...]], marked: int = 0,
           header: bool = True) -> str:
    thead = ("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
             + "</tr></thead>") if header else ""
    body = "".join(
        ('<tr class="differs">' if i < marked else "<tr>")
        + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for i, row in enumerate(rows))
    return f"<table>{thead}<tbody>{body}</tbody></table>"
