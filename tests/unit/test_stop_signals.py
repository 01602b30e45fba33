"""The stop-signal flag in-process: what is handled, what escalates, what stays ignored."""

from __future__ import annotations

import os
import signal

import gymnasium as gym
import pytest

from ganghwa.envs.make import _layers, make_env
from ganghwa.runtime import InterruptFlag


def test_a_second_sigterm_or_sighup_does_not_abort_but_a_second_ctrl_c_does():
    # what was there before (SIG_DFL, or the SIGTERM handler an earlier ray.init in this
    # worker process installed) is what must be back afterwards
    before = signal.getsignal(signal.SIGTERM)
    flag = InterruptFlag(enabled=True)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGHUP)  # a dropped SSH session sends two
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag.flag and flag.signal == "SIGHUP"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        flag.restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_the_process_was_told_to_ignore_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under `nohup`
    try:
        flag = InterruptFlag(enabled=True)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGHUP)
        assert not flag.flag
        flag.restore()
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_env_snapshots_skip_the_guard_so_older_checkpoints_still_line_up():
    guarded = make_env("CartPole-v1")
    plain = gym.make("CartPole-v1")
    assert [type(x).__name__ for x in _layers(guarded)] == \
        [type(x).__name__ for x in _layers(plain)]
