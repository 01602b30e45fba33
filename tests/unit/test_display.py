"""What a run shows of itself: the Logger's progress line (rich's bar on a terminal, plain
lines on a pipe, one updated line in Jupyter, the true totals at the end), the legends of
overlaid curves, the value map of a grid, and the best actions in q_table.txt."""

import io
import re
import sys
import time
import tomllib
import types

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text
from rich.console import Console

import ganghwa.logging as logging_module
from ganghwa import plots, tables
from ganghwa.config import DQNConfig, to_toml
from ganghwa.logging import Logger

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EPISODES, LENGTH, TOTAL = 2383, 20, 50_000
FINAL_STEP = EPISODES * LENGTH
LAST_100 = f"return {np.mean(np.arange(EPISODES - 99, EPISODES + 1)):.1f}"  # 2333.5


class FakeConsole:
    """What _open_display reads of rich's Console: where it is, and the file."""

    def __init__(self, file, terminal=False, jupyter=False):
        self.file, self.is_terminal, self.is_jupyter = file, terminal, jupyter


@pytest.fixture
def stderr(monkeypatch):
    """A stderr that is a pipe (not a terminal), captured."""
    out = io.StringIO()
    monkeypatch.setattr(logging_module, "Console", lambda **_: FakeConsole(out))
    return out


class Tty(io.StringIO):
    """A terminal's stream, captured."""

    def isatty(self):
        return True


def _terminal(monkeypatch, width):
    for name in ("JPY_PARENT_PID", "PAGER"):  # the marks of a notebook's shell command
        monkeypatch.delenv(name, raising=False)
    out = Tty()
    monkeypatch.setattr(logging_module, "Console", lambda **_: Console(
        file=out, force_terminal=True, force_jupyter=False, width=width))
    return out


def _tabular_run(throttle=0.1, pause=0.0):
    """2,383 fast episodes of 20 steps (return = episode number), as tabular runs log them.
    Returns the longest and the shortest time the Logger can have lived (outer, inner)."""
    t_outer = time.perf_counter()
    logger = Logger(None, TOTAL, throttle=throttle, metrics=("epsilon", "td_loss"))
    t_inner = time.perf_counter()
    for i in range(1, EPISODES + 1):
        logger.episode(i * LENGTH, i, float(i), LENGTH, epsilon=0.31, td_loss=0.0123)
    time.sleep(pause)  # the call's steps/s is then steps over mostly known seconds
    t_inner_end = time.perf_counter()
    logger.close(FINAL_STEP)
    return time.perf_counter() - t_outer, t_inner_end - t_inner


def _steps_per_second(text):
    return float(re.search(r"([\d,]+) steps/s", text).group(1).replace(",", ""))


def _assert_call_average(text, outer, inner):
    """steps/s lies between steps over the longest and the shortest span the call can have."""
    assert FINAL_STEP / outer - 1 <= _steps_per_second(text) <= FINAL_STEP / inner + 1


def test_the_terminal_bar_ends_on_the_true_totals(monkeypatch):
    out = _terminal(monkeypatch, width=200)
    outer, inner = _tabular_run(pause=0.3)
    final = ANSI.sub("", out.getvalue()).replace("\r", "\n").strip().splitlines()[-1]
    assert f"ep {EPISODES}  {LAST_100}  eps 0.310  td_loss 0.0123" in final
    assert f"{FINAL_STEP}/{TOTAL}" in final
    _assert_call_average(final, outer, inner)


def test_a_narrow_terminal_puts_the_stats_under_the_bar_uncut(monkeypatch):
    out = _terminal(monkeypatch, width=80)
    _tabular_run()
    lines = ANSI.sub("", out.getvalue()).replace("\r", "\n").strip().splitlines()
    bar, stats = lines[-2], lines[-1]
    assert f"{FINAL_STEP}/{TOTAL}" in bar and "…" not in bar
    assert stats.strip().endswith(f"ep {EPISODES}  {LAST_100}  eps 0.310  td_loss 0.0123")


def test_a_pipe_gets_one_plain_final_line_for_a_short_run(stderr):
    outer, inner = _tabular_run(pause=0.3)
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1  # under ten seconds: no periodic line, and no live-bar fragments
    pattern = (rf"step 47,660/50,000 \(95%\)  ([\d,]+) steps/s  ep 2383  {LAST_100}  "
               r"eps 0\.310  td_loss 0\.0123  0:00:00 elapsed")
    assert re.fullmatch(pattern, lines[0]), lines[0]
    _assert_call_average(lines[0], outer, inner)


def test_a_pipe_gets_a_line_per_interval(stderr, monkeypatch):
    monkeypatch.setattr(logging_module._Lines, "first", 0.0)
    monkeypatch.setattr(logging_module._Lines, "interval", 0.0)  # every episode is due
    logger = Logger(None, 100, metrics=("epsilon",))
    for i, ret in enumerate([3.0, 5.0, 10.0], start=1):
        logger.episode(10 * i, i, ret, 10, epsilon=0.5)
    logger.message("greedy evaluation mean 6.0")
    logger.close()
    lines = stderr.getvalue().splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "step 10/100 (10%)", "step 20/100 (20%)", "step 30/100 (30%)",
        "greedy evaluation mean 6.0", "step 30/100 (30%)"]
    assert [re.search(r"ep \d+  return \S+", line).group() for line in lines[:3]] == [
        "ep 1  return 3.0", "ep 2  return 4.0", "ep 3  return 6.0"]
    assert "\x1b" not in stderr.getvalue()


def test_a_broken_pipe_ends_the_lines_not_the_training(monkeypatch):
    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(logging_module, "Console", lambda **_: FakeConsole(Gone()))
    logger = Logger(None, 100, metrics=())
    logger.episode(10, 1, 1.0, 10)
    logger.message("still running")
    logger.close()  # would raise BrokenPipeError if the write's error escaped


def test_ga_runs_end_on_their_last_generation(stderr):
    logger = Logger(None, 10, start_step=2, generations=True)
    fitness = {3: np.array([1.0, 2.0, 6.0]), 4: np.array([2.0, 4.0, 9.0])}
    for generation, values in fitness.items():
        logger.generation(generation, 250 * generation, values)
    logger.close()
    assert stderr.getvalue().splitlines() == [
        "generation 4/10 (40%)  fitness min 2.0  mean 5.0  max 9.0  1,000 env steps  "
        "0:00:00 elapsed"]


def test_the_bar_builds_its_line_at_most_once_per_interval(monkeypatch):
    """The per-episode cost stays a clock read: the stats string is built only when shown."""
    _terminal(monkeypatch, width=200)
    built = []
    stats = Logger._stats
    monkeypatch.setattr(Logger, "_stats", lambda self, sps: built.append(sps) or stats(self, sps))
    start = time.perf_counter()
    logger = Logger(None, 10**7, metrics=("epsilon", "td_loss"))  # DQN's: throttle 0
    for i in range(1, 20_001):
        logger.episode(10 * i, i, 1.0, 10, epsilon=0.1, td_loss=0.01)
    logger.close()
    seconds = time.perf_counter() - start
    assert len(built) <= 2 + seconds / logging_module._RichBar.interval


class FakeHandle:
    def __init__(self):
        self.shown = []

    def update(self, obj):
        self.shown.append(repr(obj))


def _fake_ipython(monkeypatch):
    """IPython.display.display recording its calls, whether or not IPython is installed."""
    handle, calls = FakeHandle(), []

    def display(obj, display_id=None):
        calls.append((repr(obj), display_id))
        return handle

    module = types.ModuleType("IPython.display")
    module.display = display
    package = types.ModuleType("IPython")
    package.display = module
    monkeypatch.setitem(sys.modules, "IPython", package)
    monkeypatch.setitem(sys.modules, "IPython.display", module)
    return handle, calls


def test_jupyter_gets_one_output_line_updated_a_few_times_a_second(monkeypatch, capsys):
    handle, calls = _fake_ipython(monkeypatch)
    monkeypatch.setattr(logging_module, "Console",
                        lambda **_: FakeConsole(io.StringIO(), jupyter=True))
    start = time.perf_counter()
    logger = Logger(None, 1000, start_step=100, metrics=("epsilon",))
    for i in range(1, 61):
        logger.episode(100 + 10 * i, i, float(i), 10, epsilon=0.2)
        time.sleep(0.01)
    logger.message("a message")
    logger.close()
    seconds = time.perf_counter() - start
    assert calls == [("step 100/1,000", True)]  # one output, made updatable
    assert 2 <= len(handle.shown) <= 2 + seconds / 0.25
    assert re.fullmatch(r"step 700/1,000 \(70%\)  [\d,]+ steps/s  ep 60  return 30\.5  "
                        r"eps 0\.200  0:00:00 elapsed", handle.shown[-1]), handle.shown[-1]
    assert capsys.readouterr().out == "a message\n"


def test_jupyter_line_is_plain_text_to_ipython(monkeypatch):
    formatters = pytest.importorskip(
        "IPython.core.formatters", reason="IPython is not installed here; the fake display "
        "above covers the Logger's side")
    import IPython.display

    handle = FakeHandle()
    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, display_id=None: shown.append(obj) or handle)
    monkeypatch.setattr(logging_module, "Console",
                        lambda **_: FakeConsole(io.StringIO(), jupyter=True))
    logger = Logger(None, 100, metrics=())
    logger.close(40)
    assert formatters.PlainTextFormatter()(shown[0]) == "step 0/100"  # no quotes around it
    assert handle.shown[-1].startswith("step 40/100 (40%)")


# ---------------------------------------------------------------- legend labels


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_runs would have saved."""
    captured = []
    monkeypatch.setattr(plots, "save_png", lambda fig, out: captured.append(fig) or out)
    return captured


def _run_folder(parent, name, config, rows="10,1,5,10\n20,2,7,10\n", header="step,episode,"
                "return,length"):
    """A run folder by hand: config.toml as the pipeline writes it, and a tiny progress.csv."""
    folder = parent / name
    folder.mkdir()
    if config is not None:
        (folder / "config.toml").write_text(config)
    (folder / "progress.csv").write_text(f"{header}\n{rows}")
    return folder


def _dqn_toml(**settings):
    config = DQNConfig(env_id="CartPole-v1", preset="tuned", seed=0)
    for key, value in settings.items():
        setattr(config, key, value)
    return to_toml(config)


def _legend(fig, panel=0):
    return [text.get_text() for text in fig.axes[panel].get_legend().get_texts()]


def test_overlaid_runs_are_labelled_by_the_settings_that_differ(tmp_path, figures):
    runs = [_run_folder(tmp_path, "dqn-CartPole-v1-s0-20260101-120000", _dqn_toml()),
            _run_folder(tmp_path, "dqn-CartPole-v1-s0-20260101-130000",
                        _dqn_toml(lr=0.0005, double=False)),
            _run_folder(tmp_path, "dqn-CartPole-v1-s3-20260101-140000", _dqn_toml(seed=3))]
    default = tomllib.loads(_dqn_toml())
    plots.plot_runs(runs, tmp_path / "curves.png")
    double = str(default["double"]).lower()  # settings in config.toml's order: double, lr
    assert _legend(figures[0]) == [f"double={double}, lr={default['lr']}, seed 0 (100-ep mean)",
                                   "double=false, lr=0.0005, seed 0 (100-ep mean)",
                                   f"double={double}, lr={default['lr']}, seed 3 (100-ep mean)"]
    assert not any("2026" in label for label in _legend(figures[0]))


def test_runs_of_other_algos_envs_and_presets_name_those(tmp_path, figures):
    ppo = "\n".join(['algo = "ppo"', 'env_id = "Acrobot-v1"', 'preset = "none"', "seed = 0",
                     "total_steps = 100000", "clip_range = 0.2"])
    runs = [_run_folder(tmp_path, "a", _dqn_toml()),
            _run_folder(tmp_path, "b", ppo + "\n[env_kwargs]\n")]
    plots.plot_runs(runs, tmp_path / "curves.png")
    assert _legend(figures[0]) == ["dqn on CartPole-v1, preset=tuned (100-ep mean)",
                                   "ppo on Acrobot-v1, preset=none (100-ep mean)"]


def test_env_keywords_that_differ_go_by_their_own_names(tmp_path):
    lake = 'algo = "sarsa"\nenv_id = "FrozenLake-v1"\nseed = 0\n[env_kwargs]\n'
    runs = [_run_folder(tmp_path, "a", lake + 'map_name = "4x4"\n'),
            _run_folder(tmp_path, "b", lake + 'map_name = "8x8"\nis_slippery = false\n')]
    assert plots.run_labels(runs) == ["map_name=4x4", "map_name=8x8, is_slippery=false"]


def test_identical_configs_are_numbered(tmp_path, figures):
    runs = [_run_folder(tmp_path, f"dqn-CartPole-v1-s0-20260101-12000{k}", _dqn_toml())
            for k in range(3)]
    plots.plot_runs(runs, tmp_path / "curves.png")
    assert _legend(figures[0]) == [f"dqn on CartPole-v1, seed 0 #{k} (100-ep mean)"
                                   for k in (1, 2, 3)]


def test_a_single_run_is_labelled_by_algo_env_and_seed(tmp_path, figures):
    run = _run_folder(tmp_path, "dqn-CartPole-v1-s7-20260101-120000", _dqn_toml(seed=7))
    (run / "evaluations.csv").write_text("step,mean\n20,9.5\n")
    plots.plot_runs([run], tmp_path / "curve.png")
    assert _legend(figures[0]) == ["dqn on CartPole-v1, seed 7 (100-ep mean)",
                                   "dqn on CartPole-v1, seed 7 (greedy eval)"]


def test_a_folder_without_config_is_its_name_less_the_timestamp(tmp_path):
    runs = [_run_folder(tmp_path, "dqn-CartPole-v1-s0-20260101-120000-2", None),
            _run_folder(tmp_path, "old-dqn", None)]
    assert plots.run_labels(runs) == ["dqn-CartPole-v1-s0", "old-dqn"]


def test_ga_fitness_plot_uses_the_same_labels(tmp_path, figures):
    ga = 'algo = "ga"\nenv_id = "CartPole-v1"\nseed = 0\npopulation = {}\n'
    header = "step,generation,fitness_min,fitness_mean,fitness_max,time"
    rows = "500,1,1,3,6,0.1\n1000,2,2,4,8,0.2\n"
    runs = [_run_folder(tmp_path, "a", ga.format(50), rows, header),
            _run_folder(tmp_path, "b", ga.format(20), rows, header)]
    plots.plot_runs(runs, tmp_path / "fitness.png")
    assert _legend(figures[0]) == [f"population={n} {stat}" for n in (50, 20)
                                   for stat in ("max", "mean", "min")]


# ---------------------------------------------------------------- the value map


def test_text_on_each_cell_is_the_colour_that_contrasts_more():
    def luminance(rgb):  # WCAG 2 relative luminance, written out
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    viridis = matplotlib.colormaps["viridis"]
    shades = np.linspace(0, 1, 41)
    rgba = viridis(shades)
    chosen = plots.text_colors(rgba)
    for color, shade in zip(chosen, shades, strict=True):
        lum = luminance(viridis(shade)[:3])
        on_black, on_white = (lum + 0.05) / 0.05, 1.05 / (lum + 0.05)
        assert color == ("black" if on_black > on_white else "white"), shade
    assert chosen[-1] == "black" and chosen[0] == "white"  # yellow top, purple bottom
    assert chosen[20] == "black"  # viridis' mid teal: white on it was the unreadable case


def _value_map(tmp_path, rows, cols, title):
    cells = np.full((rows, cols), ".")
    cells[0, 0], cells[-1, -1], cells[rows // 2, : cols // 2] = "S", "G", "#"
    values = np.linspace(-1.0, 1.0, rows * cols)
    return plots.plot_value_map(values, cells, ["→"] * (rows * cols), tmp_path / "v.png", title)


def test_value_map_title_is_inside_the_picture(tmp_path, monkeypatch):
    kept = []
    save = plots.save_png
    monkeypatch.setattr(plots, "save_png", lambda fig, out: kept.append(fig) or save(fig, out))
    title = "policy_iteration on FrozenLake-v1, γ=0.99 (123 sweeps): V(s) and the greedy action"
    _value_map(tmp_path, 4, 4, title)
    fig = kept[0]
    fig.canvas.draw()
    shown = [t for t in fig.findobj(Text) if t.get_text().replace("\n", " ") == title]
    assert len(shown) == 1  # the whole title, wrapped where it must be
    box = shown[0].get_window_extent()
    width, height = fig.canvas.get_width_height()
    assert box.x0 >= 0 and box.x1 <= width and box.y1 <= height
    assert box.y0 >= fig.axes[0].get_window_extent().y1  # above the grid, not over it


def test_a_small_value_map_labels_every_cell(tmp_path, monkeypatch):
    kept = []
    monkeypatch.setattr(plots, "save_png", lambda fig, out: kept.append(fig) or out)
    _value_map(tmp_path, 3, 5, "t")
    texts = [t.get_text() for t in kept[0].axes[0].texts]
    decisions = 3 * 5 - 3  # S is a decision cell; the 2 walls and G are not
    assert texts.count("→") == decisions and texts.count("#") == 2 and texts.count("G") == 1
    values = np.linspace(-1.0, 1.0, 15)
    shown = [f"{values[k]:.2f}" for k in range(15) if k not in (5, 6, 14)]  # walls (1,0-1), G
    assert [t for t in texts if t not in ("→", "#", "G")] == shown


def test_a_350_by_350_value_map_is_bounded_in_pixels_time_and_memory(tmp_path, monkeypatch):
    import tracemalloc

    from PIL import Image

    kept = []
    save = plots.save_png
    monkeypatch.setattr(plots, "save_png", lambda fig, out: kept.append(fig) or save(fig, out))
    tracemalloc.start()
    start = time.perf_counter()
    out = _value_map(tmp_path, 350, 350, "q_learning on ganghwa/GridWorld-v0")
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"350x350 value map: {seconds:.2f} s, traced peak {peak / 2**20:.0f} MiB")
    with Image.open(out) as image:
        assert max(image.size) <= 2000
    assert seconds < 10 and peak < 200 * 2**20
    assert len(kept[0].axes[0].texts) == 0  # colours alone: 122,500 cells cannot be read
    titles = " ".join(t.get_text().replace("\n", " ") for t in kept[0].findobj(Text))
    assert "350×350 cells, too many to label" in titles


# ---------------------------------------------------------------- q_table.txt


def _text(table):
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(table)
    return console.export_text()


def _cells(text, state):
    row = next(line for line in text.splitlines() if line.startswith(f"│ {state} "))
    return [cell.strip() for cell in row.strip("│").split("│")][1:]


def test_the_text_of_the_q_table_marks_each_best_action():
    q = np.array([[0.1, 0.5, 0.2],
                  [1.0, 1.0 + 1e-9, 0.3],  # a tie, within np.isclose
                  [0.0, 0.0, 0.0],  # all tie: no best action
                  [-2.0, -1.0, -3.0]])
    text = _text(tables.q_table(q, ["a", "b", "c", "d"], ["L", "D", "R"], "Q"))
    assert _cells(text, "a") == ["0.1", "0.5*", "0.2"]
    assert _cells(text, "b") == ["1*", "1*", "0.3"]
    assert _cells(text, "c") == ["0", "0", "0"]
    assert _cells(text, "d") == ["-2", "-1*", "-3"]
    assert "* = best action" in " ".join(text.split())  # the caption says what * means


def test_q_table_txt_of_a_tabular_run_keeps_the_marks(tmp_path):
    from ganghwa.algos.tabular import TabularAgent
    from ganghwa.run import Run

    agent = TabularAgent("FrozenLake-v1", algo="q_learning", seed=0)
    best = [(s * 7) % 4 for s in range(16)]  # an arbitrary best action per state
    agent.q = [[1.0 if a == best[s] else 0.25 * a for a in range(4)] for s in range(16)]
    agent.pictures(Run(tmp_path))
    text = (tmp_path / "q_table.txt").read_text()
    for s in range(16):
        cells = _cells(text, f"{s} ({s // 4},{s % 4})")
        assert [k for k, cell in enumerate(cells) if cell.endswith("*")] == [best[s]], s
