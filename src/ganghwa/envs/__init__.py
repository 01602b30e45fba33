"""Environments: construction, vectorisation and state snapshots (see make.py), and our own.

Importing this package registers ganghwa/GridWorld-v0, ganghwa/RoadTrip-v0,
ganghwa/MovingObstacles-v0, ganghwa/Snake-v0 and ganghwa/CarRacing-v0 (CarRacing-v3
preprocessed for a CNN) with Gymnasium.
"""

import gymnasium as gym

from ganghwa.envs.make import (
    env_spaces,
    make_env,
    make_vec_env,
    restore_env_state,
    snapshot_env_state,
)

OUR_ENVS = {
    "ganghwa/GridWorld-v0": ("ganghwa.envs.gridworld:GridWorld", 100),
    "ganghwa/RoadTrip-v0": ("ganghwa.envs.roadtrip:RoadTrip", 20),
    "ganghwa/MovingObstacles-v0": ("ganghwa.envs.moving_obstacles:MovingObstacles", 100),
    "ganghwa/Snake-v0": ("ganghwa.envs.snake:Snake", None),  # ends itself when it starves
    "ganghwa/CarRacing-v0": ("ganghwa.envs.car_racing:make_car_racing", None),  # v3's limit
}
for _id, (_entry, _limit) in OUR_ENVS.items():
    if _id not in gym.registry:
        gym.register(_id, entry_point=_entry, max_episode_steps=_limit)

__all__ = ["OUR_ENVS", "env_spaces", "make_env", "make_vec_env", "restore_env_state",
           "snapshot_env_state"]
