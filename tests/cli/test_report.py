"""`ganghwa report` through the console script: one HTML file that needs nothing beside it, whose
tables say what the run folders hold and whose commands rebuild the runs' configs."""

import base64
import json
import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("rliable")

GANGHWA = str(Path(sys.executable).parent / "ganghwa")
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "200"}
FAST = ["q_learning", "FrozenLake-v1", "--steps", "3000"]


def ganghwa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GANGHWA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=ENV)


class Page(HTMLParser):
    """Every tag's attributes, the text of each table row, and the commands' <pre>."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.rows: list[tuple[str, list[str]]] = []  # (class, cells)
        self.pre: list[str] = []
        self._row: list[str] | None = None
        self._in_pre = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attrs))
        if tag == "tr":
            self._row = []
            self.rows.append((attrs.get("class", ""), self._row))
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")
        self._in_pre = self._in_pre or (tag == "pre" and attrs.get("class") == "commands")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre.append(data)
        elif self._row:
            self._row[-1] += data


def test_report_of_a_run_and_a_sweep_is_self_contained_and_reproducible(tmp_path):
    assert ganghwa("train", *FAST, "--no-progress", "--set", "alpha=0.3",
                   cwd=tmp_path).returncode == 0
    sweep = ganghwa("sweep", *FAST, "--seeds", "0-1", "--variant", "slow:alpha=0.05",
                    "--variant", "fast:alpha=0.5", "--name", "two", cwd=tmp_path)
    assert sweep.returncode == 0, sweep.stderr
    (run,) = (tmp_path / "runs").iterdir()
    done = ganghwa("report", "last", "experiments/two", "--lang", "ko", "--out", "lab.html",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "lab.html").read_text(encoding="utf-8")
    page = Page(text)

    # nothing outside the file: every image and video is data, no script, no stylesheet link
    media = [(tag, a["src"]) for tag, a in page.tags if tag in ("img", "video", "source")]
    assert len(media) >= 1 + 3 * 3  # the curves, then per group: curve, value map, video
    for tag, src in media:
        kind, _, data = src.partition(";base64,")
        assert kind in ("data:image/png", "data:video/mp4"), (tag, src[:60])
        raw = base64.b64decode(data)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" if kind.endswith("png") else raw[4:8] == b"ftyp"
    assert not [t for t, a in page.tags if t in ("script", "link") or "href" in a]
    assert '<html lang="ko">' in text and "실험 보고서" in text and "재현 명령" in text

    # the settings table marks exactly the row that tells the three groups apart
    marked = [cells for cls, cells in page.rows if cls == "differs"]
    assert [cells[0] for cells in marked] == ["alpha"]
    assert marked[0][1:] == ["0.3", "0.05", "0.5"]
    # the results: one row per group, its seeds and eval.json's mean ± std, by hand
    results = {cells[0]: cells for _, cells in page.rows if len(cells) == 8}
    for label, folders in (("slow", ["slow-s0", "slow-s1"]), ("fast", ["fast-s0", "fast-s1"])):
        means = [json.loads((tmp_path / "experiments/two/runs" / f / "eval.json").read_text())
                 ["mean"] for f in folders]
        mean = sum(means) / 2
        std = abs(means[0] - means[1]) / 2
        shown_mean, shown_std = map(float, results[label][3].split(" ± "))
        assert results[label][1] == "2"  # two decimals shown: within half a unit of the last
        assert shown_mean == pytest.approx(mean, abs=0.0051)
        assert shown_std == pytest.approx(std, abs=0.0051)
        low, high = re.fullmatch(r"[-\d.]+ \[([-\d.]+), ([-\d.]+)\]", results[label][4]).groups()
        assert float(low) <= mean + 1e-9 and float(high) >= mean - 1e-9  # 2 seeds: IQM = mean

    # the commands: the sweep as its manifest has it, and a train line that rebuilds a run
    lines = "".join(page.pre).splitlines()
    assert lines[0] == ("ganghwa sweep q_learning FrozenLake-v1 --steps 3000 --seeds 0-1 "
                        "--variant slow:alpha=0.05 --variant fast:alpha=0.5 --name two")
    line = next(x for x in lines if "--seed" in x and "alpha=0.3" in x)
    again = tmp_path / "again"
    again.mkdir()
    words = shlex.split(line)
    assert words[:2] == ["ganghwa", "train"]
    rebuilt = ganghwa(*words[1:], "--no-progress", cwd=again)
    assert rebuilt.returncode == 0, rebuilt.stderr
    (copy,) = (again / "runs").iterdir()
    assert (copy / "config.toml").read_text() == (run / "config.toml").read_text()


@pytest.mark.parametrize(("args", "fragment"), [
    (["report", "nowhere"], "does not exist"),
    (["report", ".", "--out", "lab.txt"], "must end in .html"),
])
def test_bad_report_input_is_one_line_and_exit_2(tmp_path, args, fragment):
    result = ganghwa(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert not (tmp_path / "lab.txt").exists()
