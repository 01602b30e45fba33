"""The one exception type that reaches users as a one-line message and exit code 2."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable


class GanghwaError(Exception):
    """Bad input or a broken file: the CLI prints the message on one line and exits with 2."""

    exit_code = 2


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' suffix with the closest choices, or ''."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=3)]
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class GanghwaWarning(UserWarning):
    """Something the user should know, that does not stop the run: the CLI prints it as one
    line, `ganghwa: warning: ...`; from Python it is an ordinary warning."""


def warn(message: str) -> None:
    """One warning line for the user (a budget shorter than learning_starts, more workers than
    cores, a video skipped), shown once per message."""
    warnings.warn(message, GanghwaWarning, stacklevel=2)


class Diverged(GanghwaError):
    """The loss became NaN or inf: the run stops, and the last good checkpoints stay."""

    exit_code = 1


def check_finite(loss: float, step: int, hint: str = "Lower --set lr") -> None:
    """A NaN or infinite loss stops the run (Diverged) before anything is saved from it; the
    pipeline adds which checkpoint, if any, is kept."""
    import math

    if not math.isfinite(loss):
        raise Diverged(f"the loss became {loss} at step {step}. {hint}")
