# Every target sets itself up on a fresh machine: it creates .venv and installs ganghwa.
# torch is pinned to 2.13.0, the CPU wheel; a looser spec pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINTED := src tests benchmarks notebooks/src notebooks/build.py notebooks/run.py

.PHONY: demo test test-notebooks notebooks test-browser lint bench clean bytecode

# uv installs the rest in parallel (10 s where pip takes about a minute) and keeps the torch
# that pip has just installed, which satisfies the project's range; plain pip is the fallback.
# The bytecode is written at install time: under PYTHONDONTWRITEBYTECODE=1 nothing else ever
# does, and every Python process would compile numpy, gymnasium and matplotlib from source
# again, about 2 s of CPU each (the test suite starts hundreds). uv compiles what it installs
# when asked; torch and its dependencies (pip's, one file at a time) are compiled after, on
# every core (less torch's one Python 3.12 test file, which 3.11 cannot compile).
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-compile torch==2.13.0
	$(BIN)/python -m pip install -q uv && $(BIN)/python -m uv pip install -q --compile-bytecode \
	  --python $(BIN)/python -e ".[dev]" \
	  || ($(BIN)/python -m pip install -q --upgrade pip && $(BIN)/python -m pip install -q -e ".[dev]")
	$(BIN)/python -m compileall -q -j 0 -x py312_intrinsics $(VENV)/lib > /dev/null
	touch $(STAMP)

# ganghwa's own bytecode, for the same reason (an editable install: refreshed before each use).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 src tests notebooks > /dev/null

## make demo: train DQN on CartPole-v1 (tuned), then evaluate, plot and record a video
demo: $(STAMP) bytecode
	$(BIN)/ganghwa train dqn CartPole-v1 --preset tuned --out runs
	$(BIN)/ganghwa eval last --episodes 20

## make test: lint, type-check and run the test suite (all but the notebooks and the browser,
## which CI runs next); mypy is one of the suite's tests (tests/test_types.py), run beside them
test: $(STAMP) bytecode
	$(BIN)/ruff check $(LINTED)
	$(BIN)/python -m pytest -q -m "not notebook and not browser"

## make test-notebooks: the 12 course notebooks, top to bottom in a Jupyter kernel, at the quick
## budget (GANGHWA_QUICK=1; about 4.5 minutes on 2 cores), and that each is built from its source
test-notebooks: $(STAMP) bytecode
	$(BIN)/python -m pytest -q -m notebook tests/notebooks

## make notebooks: execute the 12 notebooks at the full budget; the executed copies, their HTML
## exports and the wall times go to notebooks/executed/ (about an hour on 2 cores)
notebooks: $(STAMP) bytecode
	$(BIN)/python notebooks/run.py --out notebooks/executed

## make test-browser: install Chromium and a Hangul font (Debian packages, as root), then open
## the generated reports in headless Chromium (CI runs it after make test)
test-browser: $(STAMP) bytecode
	(command -v chromium && command -v chromedriver && fc-list :lang=ko | grep -q .) >/dev/null \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium chromium-driver fonts-noto-cjk)
	GANGHWA_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -n 0 tests/browser

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy src

## make bench: ganghwa vs Stable-Baselines3, side by side (long; not part of the test suite)
bench: $(STAMP)
	$(BIN)/python benchmarks/vs_sb3.py --env CartPole-v1 --seeds 5

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
