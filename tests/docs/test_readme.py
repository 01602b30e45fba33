"""Every ```bash and ```python block of README.md and README.ko.md runs as written.

Each runnable block is one test, in a temporary working directory of its own (so the suite's
two processes share them out): a bash block's lines run in order, so `ganghwa eval last` and
`ganghwa plot runs/dqn-CartPole-v1-*` see the runs trained above them, and the my_env.py
guide's commands find the file its earlier blocks wrote. A block fails with the README line,
the command, its stdout and its stderr for every command that exits non-zero and every python
block that raises.

The rules, the same for both READMEs:

- Blocks. Only ```bash and ```python blocks run. Listings and synopses (the run folder, the
  `ganghwa train [ALGO] [ENV] ...` usage) are ```text blocks; any other fence fails the test,
  so that nothing escapes it by accident.
- Bash. Every line that is not blank or a comment is one command for `bash -c` (a line
  ending in a backslash goes on), with the scripts folder of the Python running the tests
  (the venv's bin, which holds `ganghwa` and `python`) first on PATH. Skipped lines:
  `make ...` (`make demo` and `make test` are this suite itself); a line with `--device cuda`
  when `torch.cuda.is_available()` is False; a line with `RAY_ADDRESS=auto` unless
  `ray.init(address="auto")` joins a cluster with a CPU for each of the line's `--workers`
  (one-CPU actors: fewer CPUs leave them pending). The test still runs every other line and
  names each skipped line, with its reason, in a warning (pytest prints it in the summary).
- Python. A block whose first line is a comment naming a file (`# my_env.py: ...`) is written
  to that file: the first such block creates it, a later one (`# my_env.py, at the end`) is
  appended to it. Any other block runs on its own in a fresh interpreter (`python -`, the
  working directory on sys.path, like the bash lines).
- Small budgets, applied here and never by the library:
  - a `ganghwa train` line loses any `--steps N`, `--video`, `--no-video` and `--no-progress`
    and ends in `--steps 100 --no-video --no-progress --set ...`;
  - that one `--set` holds the line's own settings, then `final_eval_episodes=1
    eval_episodes=1 eval_every=0` (an agent trained for 100 steps can play 10,000-step
    episodes: Corridor, CarRacing, LunarLander; with no periodic evaluation the final policy
    is evaluated once, for eval.json), and for `ganghwa train ga` also `generations=2 population=4
    elites=1` (LunarLander's preset keeps 5 elites, which need a population of 6);
  - a `ganghwa sweep` line runs seeds 0-1 with `--steps 100`, and a `ganghwa tune` line one
    trial of one seed with `--steps 100` (its variants, grids and space as written);
  - in python blocks, `.learn(N)` becomes `.learn(100)`, `steps=N` becomes `steps=100`, and
    `seeds="..."` becomes `seeds="0-1"`, as on a `ganghwa sweep` line.

`pytest -s` prints each command's wall and CPU time, slowest first. The two CarRacing lines
cost most (gymnasium draws each frame in about 15 ms, four frames an agent step), then A3C,
pixel Snake, LunarLander and the GA; every command also spends 1 to 2 s starting Python, torch
and Gymnasium.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import resource
import shlex
import subprocess
import sys
import sysconfig
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = ["README.md", "README.ko.md"]
RUNNABLE = {"bash", "python"}
LANGUAGES = RUNNABLE | {"text"}
STEPS = "100"
SWEEP_SEEDS = "0-1"
EVAL_SETTINGS = {"final_eval_episodes": "1", "eval_episodes": "1", "eval_every": "0"}
GA_SETTINGS = {"generations": "2", "population": "4", "elites": "1"}
TIMEOUT_S = 600
TAIL = 6000  # characters of stdout and stderr shown for a failed command

FENCE = re.compile(r"^```(\S*)\s*$")
FILE_HEADER = re.compile(r"#\s*([\w./-]+\.py)\b")
LEARN = re.compile(r"\.learn\(\s*[\d_]+\s*\)")
STEPS_KW = re.compile(r"\bsteps\s*=\s*[\d_]+")
SEEDS_KW = re.compile(r"""\bseeds\s*=\s*(["'])[\d,\s-]+\1""")


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # line number of the first line inside the fence
    lines: tuple[str, ...]

    @property
    def code(self) -> str:
        return "\n".join(self.lines) + "\n"


def read_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their language and first line number."""
    blocks: list[Block] = []
    language: str | None = None
    start, body = 0, list[str]()
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if language is None and fence:
            language, start, body = fence.group(1), number + 1, []
        elif language is not None and line.strip() == "```":
            blocks.append(Block(language, start, tuple(body)))
            language = None
        elif language is not None:
            body.append(line)
    assert language is None, f"a code fence opened on line {start - 1} is never closed"
    return blocks


def bash_commands(block: Block) -> list[tuple[int, str]]:
    """(README line number, command) for each command of a bash block."""
    commands: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for offset, line in enumerate(block.lines):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            first = block.line + offset
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        commands.append((first, " ".join([*pending, line]).strip()))
        pending = []
    return commands


def budget_bash(command: str) -> str:
    """A `ganghwa train`, `sweep` or `tune` command with the test's small budget; any other
    command as it is."""
    tokens = shlex.split(command, comments=True)
    at = next((i for i, token in enumerate(tokens) if "=" not in token), len(tokens))
    if tokens[at:at + 2] in (["ganghwa", "sweep"], ["ganghwa", "tune"]):
        return budget_experiment(tokens, at)
    if tokens[at:at + 2] != ["ganghwa", "train"]:
        return command
    head, args = tokens[:at + 2], tokens[at + 2:]
    kept: list[str] = []
    settings: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--steps":
            i += 2
        elif token in ("--video", "--no-video", "--no-progress"):
            i += 1
        elif token == "--set":
            i += 1
            while i < len(args) and not args[i].startswith("--"):
                key, _, value = args[i].partition("=")
                settings[key] = value
                i += 1
        else:
            kept.append(token)
            i += 1
    settings.update(EVAL_SETTINGS)
    if args and args[0] == "ga":
        settings.update(GA_SETTINGS)
    return shlex.join([*head, *kept, "--steps", STEPS, "--no-video", "--no-progress",
                       "--set", *(f"{key}={value}" for key, value in settings.items())])


def budget_experiment(tokens: list[str], at: int) -> str:
    """`ganghwa sweep`: seeds 0-1, 100 steps a run; `ganghwa tune`: 1 trial of 1 seed, 100
    steps. The variants, grids and the rest stay as written."""
    replace = ({"--seeds": SWEEP_SEEDS, "--steps": STEPS} if tokens[at + 1] == "sweep" else
               {"--trials": "1", "--seeds": "1", "--steps": STEPS})
    kept: list[str] = []
    i = at
    while i < len(tokens):
        if tokens[i] in replace:
            i += 2
            continue
        kept.append(tokens[i])
        i += 1
    extra = [item for flag, value in replace.items() for item in (flag, value)]
    return shlex.join([*tokens[:at], *kept, *extra])


def budget_python(code: str) -> str:
    """A python block with the test's small budget: `.learn(100)`, `steps=100`, and (as a
    `ganghwa sweep` line) `seeds="0-1"`."""
    code = SEEDS_KW.sub(f'seeds="{SWEEP_SEEDS}"', code)
    return STEPS_KW.sub(f"steps={STEPS}", LEARN.sub(f".learn({STEPS})", code))


def skip_reason(command: str) -> str | None:
    """Why a bash command is not run here, or None to run it."""
    if re.match(r"make\b", command):
        return "`make` targets are the test suite itself"
    if re.search(r"--device[= ]cuda\b", command) and not cuda_available():
        return "needs CUDA: torch.cuda.is_available() is False"
    if re.search(r"\bRAY_ADDRESS=auto\b", command):
        workers = re.search(r"--workers[= ](\d+)", command)
        needed = int(workers.group(1)) if workers else 1
        cpus = ray_cluster_cpus()
        if cpus < needed:
            found = f"one with {cpus:g} CPUs" if cpus else "none"
            return f"needs a Ray cluster with {needed} CPUs: ray.init(address='auto') found {found}"
    return None


@functools.cache
def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def ray_cluster_cpus() -> float:
    """The CPUs of the Ray cluster that RAY_ADDRESS=auto joins; 0 when there is none."""
    if importlib.util.find_spec("ray") is None:
        return 0
    probe = ("import ray; ray.init(address='auto', log_to_driver=False); "
             "print(ray.cluster_resources().get('CPU', 0)); ray.shutdown()")
    try:
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                timeout=60)
    except subprocess.TimeoutExpired:
        return 0
    lines = result.stdout.split()
    return float(lines[-1]) if result.returncode == 0 and lines else 0


def environment() -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
            "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg", "COLUMNS": "120"}


@dataclass
class Steps:
    """What one README's run did: failures, skipped lines, and (wall s, CPU s, what) per command."""

    readme: str
    cwd: Path
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    timings: list[tuple[float, float, str]] = field(default_factory=list)

    def run(self, where: str, shown: str, args: list[str], stdin: str | None = None) -> None:
        """Run one command in the README's working directory; note its time and any failure."""
        cpu_before = children_cpu()
        started = time.perf_counter()
        try:
            result = subprocess.run(args, cwd=self.cwd, env=environment(), input=stdin,
                                    capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as timeout:
            result = None
            problem = f"ran past {TIMEOUT_S} s\n--- stdout ---\n{text_of(timeout.stdout)}\n" \
                      f"--- stderr ---\n{text_of(timeout.stderr)}"
        self.timings.append((time.perf_counter() - started, children_cpu() - cpu_before,
                             f"{where}: {shown}"))
        if result is not None and result.returncode == 0:
            return
        if result is not None:
            problem = (f"exit code {result.returncode}\n--- stdout ---\n{result.stdout[-TAIL:]}"
                       f"\n--- stderr ---\n{result.stderr[-TAIL:]}")
        script = f"\n{stdin}" if stdin else ""
        self.failures.append(f"{where}: {shown}{script}\n  {problem}")

    def summary(self) -> str:
        wall = sum(t[0] for t in self.timings)
        cpu = sum(t[1] for t in self.timings)
        rows = [f"  {w:6.1f} s wall {c:6.1f} s CPU  {what}"
                for w, c, what in sorted(self.timings, reverse=True)]
        return "\n".join([f"{self.readme}: {wall:.1f} s wall, {cpu:.1f} s CPU in all", *rows])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def text_of(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    return (output or "")[-TAIL:]


def units(readme: str) -> list[tuple[Block, list[Block]]]:
    """The README's runnable blocks, one test each: every bash block, and every python block
    that is not a file, each with the file blocks above it (the my_env.py guide's commands
    need the file written so far). A bash block's lines run in order in one directory, so
    `ganghwa eval last` sees the run trained above it in that block."""
    blocks = read_blocks((ROOT / readme).read_text(encoding="utf-8"))
    files: list[Block] = []
    found: list[tuple[Block, list[Block]]] = []
    for block in blocks:
        if block.language == "python" and block.lines and FILE_HEADER.match(block.lines[0]):
            files.append(block)
        elif block.language in RUNNABLE:
            found.append((block, list(files)))
    return found


def test_fences_are_bash_python_or_text() -> None:
    for readme in READMES:
        blocks = read_blocks((ROOT / readme).read_text(encoding="utf-8"))
        unknown = [(b.line - 1, b.language or "(none)") for b in blocks
                   if b.language not in LANGUAGES]
        assert not unknown, f"{readme}: fences must be bash, python or text: {unknown}"


@pytest.mark.parametrize(("block", "files"), units(READMES[0]),
                         ids=[f"line{b.line}" for b, _ in units(READMES[0])])
def test_code_block_runs(block: Block, files: list[Block], tmp_path: Path) -> None:
    """One block of README.md, run; README.ko.md's are the same code (the test below), so
    this runs them too, once."""
    readme = READMES[0]
    written: set[str] = set()
    for file_block in files:
        header = FILE_HEADER.match(file_block.lines[0])
        assert header is not None
        name = header.group(1)
        with (tmp_path / name).open("a" if name in written else "w") as f:
            f.write(file_block.code)
        written.add(name)

    steps = Steps(readme, tmp_path)
    if block.language == "python":
        steps.run(f"{readme} line {block.line}", "python block", [sys.executable, "-"],
                  stdin=budget_python(block.code))
    else:
        for line, command in bash_commands(block):
            reason = skip_reason(command)
            if reason:
                steps.skipped.append(f"{readme} line {line}: {command}  [{reason}]")
                continue
            command = budget_bash(command)
            steps.run(f"{readme} line {line}", command, ["bash", "-c", command])

    print("\n" + steps.summary())
    for skipped in steps.skipped:
        warnings.warn(f"skipped {skipped}", stacklevel=1)
    if steps.skipped and not steps.timings:
        pytest.skip("; ".join(steps.skipped))
    assert not steps.failures, "\n\n".join(steps.failures)


def test_both_readmes_have_the_same_blocks_in_the_same_order() -> None:
    """README.ko.md translates README.md: the same fences, the same bash commands and the same
    python code (compared as syntax trees, so only comments and blank lines may differ; a file
    block's header names the same file)."""

    def code(block: Block) -> list[str]:
        if block.language == "bash":
            return [shlex.join(shlex.split(c, comments=True)) for _line, c in bash_commands(block)]
        if block.language == "python":
            header = FILE_HEADER.match(block.lines[0]) if block.lines else None
            return [header.group(1) if header else "", ast.dump(ast.parse(block.code))]
        return []

    def outline(readme: str) -> list[tuple[str, list[str]]]:
        blocks = read_blocks((ROOT / readme).read_text(encoding="utf-8"))
        return [(b.language, code(b)) for b in blocks]

    assert outline("README.ko.md") == outline("README.md")
