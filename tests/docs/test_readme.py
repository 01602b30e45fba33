"""Every ```bash and ```python block of README.md and README.ko.md runs as written.

One test per README runs all of its blocks in order, in one temporary working directory, so
`ganghwa eval last`, `ganghwa plot runs/dqn-CartPole-v1-*` and the my_env.py guide see what the
lines before them wrote. It fails with the README line, the command, its stdout and its stderr
for every command that exits non-zero and every python block that raises.

The rules, the same for both READMEs:

- Blocks. Only ```bash and ```python blocks run. Listings and synopses (the run folder, the
  `ganghwa train [ALGO] [ENV] ...` usage) are ```text blocks; any other fence fails the test,
  so that nothing escapes it by accident.
- Bash. Every line that is not blank or a comment is one command for bash (`shell=True`;
  a line ending in a backslash goes on), with the scripts folder of the Python running the tests
  (the venv's bin, which holds `ganghwa` and `python`) first on PATH. Skipped lines:
  `make ...` (`make demo` and `make test` are this suite itself); a line with `--device cuda`
  when `torch.cuda.is_available()` is False; a line with `RAY_ADDRESS=auto` unless a Ray cluster
  answers `ray.init(address="auto")`. The test still runs every other line and names each
  skipped line, with its reason, in a warning (pytest prints it in the summary).
- Python. A block whose first line is a comment naming a file (`# my_env.py: ...`) is written
  to that file: the first such block creates it, a later one (`# my_env.py, at the end`) is
  appended to it. Any other block runs on its own in a fresh interpreter (`python -`, the
  working directory on sys.path, like the bash lines).
- Small budgets, applied here and never by the library:
  - a `ganghwa train` line loses any `--steps N`, `--video`, `--no-video` and `--no-progress`
    and ends in `--steps 600 --no-video --no-progress`;
  - `ganghwa train ga` gets `generations=2 population=4`, merged into the line's own `--set`
    (one `--set` at the end of the line: argparse keeps only the last one it sees);
  - in python blocks, `.learn(N)` becomes `.learn(600)` and `steps=N` becomes `steps=600`.

Running one README takes about a minute on 2 CPU cores (`pytest -s` prints each command's time).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READMES = ["README.md", "README.ko.md"]
RUNNABLE = {"bash", "python"}
LANGUAGES = RUNNABLE | {"text"}
STEPS = "600"
GA_SETTINGS = {"generations": "2", "population": "4"}
TIMEOUT_S = 600
TAIL = 6000  # characters of stdout and stderr shown for a failed command

FENCE = re.compile(r"^```(\S*)\s*$")
FILE_HEADER = re.compile(r"#\s*([\w./-]+\.py)\b")
LEARN = re.compile(r"\.learn\(\s*[\d_]+\s*\)")
STEPS_KW = re.compile(r"\bsteps\s*=\s*[\d_]+")


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
    start, body = 0, []
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
    """A `ganghwa train` command with the test's small budget; any other command as it is."""
    tokens = shlex.split(command, comments=True)
    at = next((i for i, token in enumerate(tokens) if "=" not in token), len(tokens))
    if tokens[at:at + 2] != ["ganghwa", "train"]:
        return command
    head, args = tokens[:at + 2], tokens[at + 2:]
    is_ga = bool(args) and args[0] == "ga"
    kept: list[str] = []
    settings: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--steps":
            i += 2
        elif token in ("--video", "--no-video", "--no-progress"):
            i += 1
        elif token == "--set" and is_ga:
            i += 1
            while i < len(args) and not args[i].startswith("--"):
                key, _, value = args[i].partition("=")
                settings[key] = value
                i += 1
        else:
            kept.append(token)
            i += 1
    tail = ["--steps", STEPS, "--no-video", "--no-progress"]
    if is_ga:
        settings.update(GA_SETTINGS)
        tail += ["--set", *(f"{key}={value}" for key, value in settings.items())]
    return shlex.join([*head, *kept, *tail])


def budget_python(code: str) -> str:
    """A python block with the test's small budget: `.learn(600)`, `steps=600`."""
    return STEPS_KW.sub(f"steps={STEPS}", LEARN.sub(f".learn({STEPS})", code))


def skip_reason(command: str) -> str | None:
    """Why a bash command is not run here, or None to run it."""
    if re.match(r"make\b", command):
        return "`make` targets are the test suite itself"
    if re.search(r"--device[= ]cuda\b", command) and not cuda_available():
        return "needs CUDA: torch.cuda.is_available() is False"
    if re.search(r"\bRAY_ADDRESS=auto\b", command) and not ray_cluster_reachable():
        return "needs a Ray cluster: ray.init(address='auto') found none"
    return None


@functools.cache
def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@functools.cache
def ray_cluster_reachable() -> bool:
    if importlib.util.find_spec("ray") is None:
        return False
    probe = "import ray; ray.init(address='auto', log_to_driver=False); ray.shutdown()"
    try:
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def environment() -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
            "SDL_VIDEODRIVER": "dummy", "MPLBACKEND": "Agg", "COLUMNS": "120"}


def report(where: str, command: str, result: subprocess.CompletedProcess[str] | str) -> str:
    if isinstance(result, str):
        return f"{where}: {command}\n  {result}"
    return (f"{where}: {command}\n  exit code {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-TAIL:]}\n--- stderr ---\n{result.stderr[-TAIL:]}")


def run(args: list[str], cwd: Path, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str] | str:
    """The finished process, or a sentence saying it ran past the timeout."""
    try:
        return subprocess.run(args, cwd=cwd, env=environment(), input=stdin,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"ran past {TIMEOUT_S} s"


@pytest.mark.parametrize("readme", READMES)
def test_every_code_block_runs(readme: str, tmp_path: Path) -> None:
    blocks = read_blocks((ROOT / readme).read_text(encoding="utf-8"))
    unknown = [(b.line - 1, b.language or "(none)") for b in blocks if b.language not in LANGUAGES]
    assert not unknown, f"{readme}: fences must be bash, python or text: {unknown}"

    failures: list[str] = []
    skipped: list[str] = []
    timings: list[tuple[float, str]] = []
    written: set[str] = set()
    for block in blocks:
        if block.language == "python":
            where = f"{readme} line {block.line} (python block)"
            header = FILE_HEADER.match(block.lines[0]) if block.lines else None
            if header:
                path = tmp_path / header.group(1)
                mode = "a" if header.group(1) in written else "w"
                with path.open(mode, encoding="utf-8") as f:
                    f.write(block.code)
                written.add(header.group(1))
                continue
            code = budget_python(block.code)
            started = time.perf_counter()
            result = run([sys.executable, "-"], tmp_path, stdin=code)
            timings.append((time.perf_counter() - started, where))
            if isinstance(result, str) or result.returncode != 0:
                failures.append(report(where, "\n" + code, result))
        elif block.language == "bash":
            for line, command in bash_commands(block):
                where = f"{readme} line {line}"
                reason = skip_reason(command)
                if reason:
                    skipped.append(f"{where}: {command}  [{reason}]")
                    continue
                command = budget_bash(command)
                started = time.perf_counter()
                result = run(["bash", "-c", command], tmp_path)
                timings.append((time.perf_counter() - started, f"{where}: {command}"))
                if isinstance(result, str) or result.returncode != 0:
                    failures.append(report(where, command, result))

    print(f"\n{readme}: {sum(t for t, _ in timings):.1f} s in all")
    for seconds, what in sorted(timings, reverse=True):
        print(f"  {seconds:6.1f} s  {what}")
    for line in skipped:
        warnings.warn(f"skipped {line}", stacklevel=1)
    assert not failures, "\n\n".join(failures)


def test_both_readmes_have_the_same_blocks_in_the_same_order() -> None:
    """README.ko.md translates README.md: the same fences, and the same bash commands."""

    def outline(readme: str) -> list[tuple[str, list[str]]]:
        blocks = read_blocks((ROOT / readme).read_text(encoding="utf-8"))
        return [(b.language, [shlex.join(shlex.split(c, comments=True))
                              for _, c in bash_commands(b)] if b.language == "bash" else [])
                for b in blocks]

    assert outline("README.ko.md") == outline("README.md")
