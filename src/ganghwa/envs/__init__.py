"""Environments: construction, vectorisation and state snapshots (see make.py)."""

from ganghwa.envs.make import (
    env_spaces,
    make_env,
    make_vec_env,
    restore_env_state,
    snapshot_env_state,
)

__all__ = ["env_spaces", "make_env", "make_vec_env", "restore_env_state", "snapshot_env_state"]
