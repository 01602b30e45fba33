"""The console script's smaller promises: --version, `list --config ALGO`, a default in every
option's help, a quiet `ganghwa list`, and repeated --set / --env-kw keys shown, not lost."""

from __future__ import annotations

import re
import tomllib
import warnings
from importlib import metadata

import pytest

from ganghwa.config import parse_env_kwargs, parse_set
from ganghwa.errors import GanghwaWarning
from tests.cli.test_cli import ganghwa, only_run


def test_version_is_the_installed_packages(tmp_path):
    result = ganghwa("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ganghwa {metadata.version('ganghwa')}"


def test_list_builds_every_env_without_a_word_on_stderr(tmp_path):
    result = ganghwa("list", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""  # gymnasium's "CartPole-v0 is out of date" stays inside
    assert "CartPole-v0" in result.stdout  # ... though the env is still listed


def test_list_config_shows_one_algorithm_or_all(tmp_path):
    result = ganghwa("list", "--config", "ppo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    titles = re.findall(r"(\w+) settings \(--set", result.stdout)
    assert titles == ["ppo"]
    assert "clip" in result.stdout  # one of ppo's own settings

    result = ganghwa("list", "--config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    titles = re.findall(r"(\w+) settings \(--set", result.stdout)
    assert {"dqn", "ppo", "q_learning", "ga"} <= set(titles) and len(titles) > 10

    result = ganghwa("list", "--config", "pp0", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Did you mean 'ppo'" in lines[0], result.stderr


def help_options(text: str) -> dict[str, str]:
    """`--help`'s options section as {"--episodes N": "episodes to play (default 20)"}."""
    section = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    options: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        if line.startswith("  -"):  # "  --flag ARG   help", or the help on the next lines
            name, _, help_text = line.strip().partition("  ")
            options[name] = help_text.strip()
        else:
            options[name] = f"{options[name]} {line.strip()}".strip()
    return options


@pytest.mark.parametrize("command", ["train", "eval", "record", "plot", "resume", "solve",
                                     "list"])
def test_every_option_help_gives_its_default(command, tmp_path):
    result = ganghwa(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    options = help_options(result.stdout)
    options.pop("-h, --help")
    assert options
    missing = {name: text for name, text in options.items() if "(default" not in text
               and "; default" not in text}
    assert not missing, missing
    if command == "train":  # the shortcuts: agreed defaults given, differing ones pointed to
        assert "(a3c, ga; default 2)" in options["--workers WORKERS"]
        assert "(default 0)" in options["--seed SEED"]
        assert "(default on)" in options["--video, --no-video"]
        for name in ("--steps STEPS", "--num-envs NUM_ENVS"):
            assert "the algorithm's, see `ganghwa list --config ALGO`" in options[name]
    if command == "eval":
        assert options["--episodes N"] == "episodes to play (default 20)"


def test_a_key_given_twice_warns_and_the_last_value_wins(tmp_path):
    result = ganghwa("train", "q_learning", "FrozenLake-v1", "--steps", "2000",
                     "--set", "alpha=0.5", "--set", "alpha=0.2", "gamma=0.9",
                     "--env-kw", "is_slippery=true", "--env-kw", "is_slippery=false",
                     "--no-progress", "--no-video", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((only_run(tmp_path / "out") / "config.toml").read_text())
    assert config["alpha"] == 0.2 and config["gamma"] == 0.9
    assert config["env_kwargs"] == {"is_slippery": False}
    assert result.stderr.splitlines() == [
        "ganghwa: warning: --env-kw is_slippery given twice (true, then false); "
        "using is_slippery=false",
        "ganghwa: warning: --set alpha given twice (0.5, then 0.2); using alpha=0.2",
    ]


def test_different_keys_in_separate_set_flags_are_all_kept(tmp_path):
    result = ganghwa("train", "dqn", "CartPole-v1", "--steps", "600",
                     "--set", "batch_size=512", "--set", "buffer_size=1000",
                     "--set", "learning_starts=512", "hidden=16", "eval_every=0",
                     "final_eval_episodes=1", "--no-progress", "--no-video", "--out", "out",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((only_run(tmp_path / "out") / "config.toml").read_text())
    assert (config["batch_size"], config["buffer_size"]) == (512, 1000)
    assert "given" not in result.stderr


def test_parsing_warns_only_when_a_repeated_key_changes_its_value():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert parse_set(["lr=1e-3", "lr=1e-3", "batch-size=32"]) == {"lr": "1e-3",
                                                                       "batch_size": "32"}
        assert caught == []
        assert parse_set(["lr=1", "lr=2", "lr=3"]) == {"lr": "3"}
        assert parse_env_kwargs(["size=4", "size=6"]) == {"size": 6}
    assert [str(w.message) for w in caught] == [
        "--set lr given 3 times (1, 2, then 3); using lr=3",
        "--env-kw size given twice (4, then 6); using size=6",
    ]
    assert all(w.category is GanghwaWarning for w in caught)


def test_help_parser_reads_wrapped_lines():
    text = ("usage: x\n\noptions:\n  -h, --help  show\n  --set KEY=VALUE [KEY=VALUE ...]\n"
            "              override (default:\n              none)\n  --n N       count\n\nend\n")
    assert help_options(text) == {"-h, --help": "show", "--set KEY=VALUE [KEY=VALUE ...]":
                                  "override (default: none)", "--n N": "count"}

