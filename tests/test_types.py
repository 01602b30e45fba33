"""mypy over src, as one test of the suite: it runs beside the others (about 30 s of one core on
a fresh clone) instead of before them all. `make lint` runs the same check on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_errors_in_src():
    mypy = Path(sys.executable).with_name("mypy")
    if not mypy.is_file() and shutil.which("mypy") is None:
        pytest.skip("needs mypy (the dev extra)")
    done = subprocess.run([str(mypy) if mypy.is_file() else "mypy", "src"], cwd=ROOT,
                          text=True, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
