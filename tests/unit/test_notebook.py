"""A run shown in a notebook: every image and the video embedded as data, never as a path, the
same for a run just trained and for its folder loaded from disk."""

import base64
import json
import os
import re

import pytest

import ganghwa
from ganghwa.errors import GanghwaError
from ganghwa.notebook import MAX_VIDEO_BYTES, show

SOURCES = re.compile(r'<(img|video)[^>]*\bsrc="([^"]+)"')


def embedded(markup: str) -> list[tuple[str, str, bytes]]:
    """(tag, media type, decoded bytes) of every img and video source in the markup."""
    found = []
    for tag, src in SOURCES.findall(markup):
        match = re.fullmatch(r"data:([\w/]+);base64,([A-Za-z0-9+/=]+)", src)
        assert match, f"{tag} source is not embedded data: {src[:80]}"
        found.append((tag, match.group(1), base64.b64decode(match.group(2))))
    return found


def test_a_trained_tabular_run_embeds_its_pictures_and_video_as_data(tmp_path):
    outcome = ganghwa.train("q_learning", "FrozenLake-v1", steps=3000, out=tmp_path,
                            final_eval_episodes=5)
    markup = outcome.show()._repr_html_()
    media = embedded(markup)
    files = {p.name: p.read_bytes() for p in outcome.path.rglob("*")
             if p.suffix in (".png", ".mp4")}
    assert {"curve.png", "values.png"} <= set(files)
    assert any(name.endswith(".mp4") for name in files), "the run recorded no video"
    # each picture and the video, byte for byte, and nothing else
    assert sorted(data for _, _, data in media) == sorted(files.values())
    assert ("video", "video/mp4") in {(tag, kind) for tag, kind, _ in media}
    assert str(outcome.path) not in re.sub(r"<code>.*?</code>", "", markup)
    # the Q-table, and eval.json's mean, as written
    assert (outcome.path / "q_table.txt").read_text().splitlines()[1] in \
        markup.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    mean = json.loads((outcome.path / "eval.json").read_text())["mean"]
    assert f"<td>{mean:.2f}</td>" in markup
    # the same folder, loaded from disk later, shows the same
    assert ganghwa.show(str(outcome.path))._repr_html_() == markup


def fake_run(path, **files):
    (path / "videos").mkdir(parents=True)
    (path / "config.toml").write_text('algo = "dqn"\nenv_id = "CartPole-v1"\nseed = 3\n')
    for name, data in files.items():
        (path / name.replace("__", "/")).write_bytes(data)
    return path


def test_each_view_alone_and_what_a_folder_lacks(tmp_path):
    png = b"\x89PNG\r\n\x1a\n fake but bytes"
    evaluation = {"checkpoint": "best", "checkpoint_step": 2000, "step": 3000, "mean": 487.25,
                  "std": 3.5, "episodes": 20, "final_policy": {"step": 3000, "mean": 412.0}}
    run = fake_run(tmp_path / "r", **{"curve.png": png, "eval.json":
                                      json.dumps(evaluation).encode()})
    view = show(run)
    assert view.title() == "dqn on CartPole-v1, seed 3"
    assert embedded(view.curve()._repr_html_()) == [("img", "image/png", png)]
    table = view.evaluation()._repr_html_()
    assert "<th>best.pt</th><th>final policy</th>" in table
    assert "<td>487.25</td><td>412.00</td>" in table and "<td>2000</td><td></td>" in table
    with pytest.raises(GanghwaError, match="ganghwa record"):
        view.video()
    with pytest.raises(GanghwaError, match="value map"):
        view.values()
    assert [type(p).__name__ for p in view.parts()] == ["Html", "Html"]  # eval, curve
    assert "mean return: 487.25 | 412.00" in repr(view)

    unfinished = show(fake_run(tmp_path / "u"))
    with pytest.raises(GanghwaError, match="resume"):
        unfinished.evaluation()
    assert unfinished.parts() == []
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanghwaError, match="no finished run"):
        show(tmp_path / "empty")  # neither a run folder nor an experiment


def test_a_video_too_large_to_embed_is_linked(tmp_path):
    run = fake_run(tmp_path / "r", **{"videos__a.mp4": b"small"})
    with (run / "videos" / "b.mp4").open("wb") as f:
        f.truncate(MAX_VIDEO_BYTES + 1)  # sparse: no real 50 MB written
    os.utime(run / "videos" / "b.mp4", ns=(2**62, 2**62))  # the newest, whatever the clock
    markup = show(run).video()._repr_html_()
    assert "too large to embed" in markup and 'href="' in markup and "base64" not in markup


@pytest.mark.parametrize(("algo", "env", "preset", "flags", "sets"), [
    ("ppo", "CartPole-v1", "tuned", {}, {"lr": "lin_0.0005", "clip_range": "0.1"}),
    ("q_learning", "FrozenLake-v1", "none",
     {"env_kwargs": {"desc": ["SFF", "FHF", "FFG"], "is_slippery": False}}, {"alpha": "0.3"}),
])
def test_reports_train_line_rebuilds_the_config(algo, env, preset, flags, sets):
    """config -> the report's `ganghwa train` line -> the CLI's own parsing -> the same config:
    a linear schedule and list- or string-valued env keywords included."""
    import dataclasses
    import shlex
    from pathlib import Path

    from ganghwa.config import parse_env_kwargs, parse_set
    from ganghwa.experiments.compare import RunData
    from ganghwa.pipeline import configure
    from ganghwa.report import command

    cfg = dataclasses.asdict(configure(algo, env, preset, {"seed": 3, **flags}, sets)[0])
    words = shlex.split(command(RunData(Path("."), cfg, 0.0, [], {})))
    assert words[:4] == ["ganghwa", "train", algo, env]
    given = words[words.index("--set") + 1:]
    kwargs = parse_env_kwargs([words[i + 1] for i, w in enumerate(words) if w == "--env-kw"])
    again = configure(algo, env, words[words.index("--preset") + 1],
                      {"seed": int(words[words.index("--seed") + 1]),
                       "env_kwargs": kwargs or None}, parse_set(given))[0]
    assert dataclasses.asdict(again) == cfg


def test_an_experiment_shows_its_groups_and_curves_with_the_plot_as_data(tmp_path, monkeypatch):
    """A sweep in a notebook: compare's table (checked against the eval.json files) and its
    curves embedded; the same from the folder, and from run folders given one by one."""
    monkeypatch.chdir(tmp_path)
    sweep = ganghwa.sweep("q_learning", "FrozenLake-v1", seeds="0-1", steps=2000,
                          variants=["a:alpha=0.1", "b:alpha=0.5"], name="s")
    view = sweep.show()
    markup = view._repr_html_()
    assert embedded(markup) == [("img", "image/png", (sweep.root / "compare.png").read_bytes())]
    for variant in ("a", "b"):
        finals = [json.loads((sweep.root / "runs" / f"{variant}-s{seed}" / "eval.json")
                             .read_text())["mean"] for seed in (0, 1)]
        mean = sum(finals) / 2
        std = (sum((f - mean) ** 2 for f in finals) / 2) ** 0.5
        # two seeds: the interquartile mean is the mean
        assert f"<td>{variant}</td><td>2</td>" in markup
        assert f"<td>{mean:.2f} ± {std:.2f}</td><td>{mean:.2f} [" in markup
    assert ganghwa.show(sweep.root)._repr_html_() == markup
    runs = sorted((sweep.root / "runs").iterdir())
    assert "<td>a</td><td>2</td>" in ganghwa.show(*runs)._repr_html_()
