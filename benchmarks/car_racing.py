"""CarRacing frames per second: the bare env, and the preprocessing chain of ganghwa/CarRacing-v0.

    OMP_NUM_THREADS=1 python benchmarks/car_racing.py --frames 4000

Random discrete actions, whole episodes. "bare" is gymnasium's CarRacing-v3 (continuous=False),
whose physics and rendering of each 96×96 frame dominate; "chain" adds frame skip 4, the HUD
crop, grayscale, resize to 84×84 and the 4-frame stack (the frames/s counts env frames: 4 per
agent step). The difference is what the preprocessing costs.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np


def frames_per_second(env: gym.Env, frames: int, frames_per_step: int) -> float:
    env.action_space.seed(0)
    env.reset(seed=0)
    done_frames = 0
    start = time.perf_counter()
    while done_frames < frames:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        done_frames += frames_per_step
        if terminated or truncated:
            env.reset()
    return done_frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import ganghwa.envs  # noqa: F401  (registers ganghwa/CarRacing-v0)

    bare, chain = [], []
    for _ in range(args.rounds):  # alternating, so both see the same machine load
        bare.append(frames_per_second(gym.make("CarRacing-v3", continuous=False),
                                      args.frames, 1))
        chain.append(frames_per_second(gym.make("ganghwa/CarRacing-v0"), args.frames, 4))
        print(f"bare {bare[-1]:.0f} frames/s, chain {chain[-1]:.0f} frames/s", flush=True)
    b, c = float(np.median(bare)), float(np.median(chain))
    print(f"median: bare CarRacing-v3 {b:.0f} frames/s; ganghwa/CarRacing-v0 {c:.0f} frames/s "
          f"({c / 4:.0f} agent steps/s); preprocessing costs {1e3 / c - 1e3 / b:.2f} ms a frame")


if __name__ == "__main__":
    main()
