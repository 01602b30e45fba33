"""Videos of a policy through gymnasium's RecordVideo (mp4 by moviepy), or a GIF from it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gymnasium.wrappers import RecordVideo

from ganghwa.envs import make_env
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import Policy, capped, play


def record(policy: Policy, env_id: str, out_dir: Path, episodes: int = 1, fmt: str = "mp4",
           seed: int = 0, prefix: str = "agent", env_kwargs: dict[str, Any] | None = None
           ) -> list[Path]:
    """Record `episodes` greedy episodes into out_dir; returns the files written."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    problem = video_problem(env_id, env_kwargs)
    if problem:
        raise GanghwaError(f"cannot record: {problem}")
    try:
        env = capped(make_env(env_id, render_mode="rgb_array", env_kwargs=env_kwargs))
    except GanghwaError:
        raise
    except Exception as e:
        raise GanghwaError(f"{env_id} cannot render rgb_array frames ({e})") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".recording-") as tmp:
        frames_dir = Path(tmp) / "frames"  # RecordVideo warns when its folder exists already
        env = RecordVideo(env, str(frames_dir), episode_trigger=lambda _: True,
                          name_prefix=prefix, disable_logger=True)
        play(env, policy, episodes, seed)  # RecordVideo writes one file per episode
        written = []
        for mp4 in sorted(frames_dir.glob("*.mp4")):
            target = out_dir / (mp4.stem + (".gif" if fmt == "gif" else ".mp4"))
            if fmt == "gif":
                from moviepy import VideoFileClip

                gif_tmp = Path(tmp) / (mp4.stem + ".gif")
                with VideoFileClip(str(mp4)) as clip:
                    clip.write_gif(str(gif_tmp), fps=min(clip.fps or 30, 30), logger=None)
                shutil.move(str(gif_tmp), target)  # same folder: an atomic rename
            else:
                shutil.move(str(mp4), target)
            written.append(target)
    return written


def video_problem(env_id: str, env_kwargs: dict[str, Any] | None = None) -> str | None:
    """Why the env cannot be recorded (no rgb_array render mode), or None."""
    env = make_env(env_id, env_kwargs=env_kwargs)
    try:
        modes = list(env.metadata.get("render_modes") or [])
    finally:
        env.close()
    if "rgb_array" in modes:
        return None
    return (f"{env_id} has no rgb_array render mode (metadata['render_modes'] = {modes}); "
            "add 'rgb_array' there and return frames from render() to record videos")
