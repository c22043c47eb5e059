#!/usr/bin/env bash
# The checks that need CUDA GPUs, in one short run on a GPU machine (a few minutes):
#   1. the default experiment (pipeline vs concurrent vs batched), regions on the GPUs;
#   2. KV handoff: python -m cortex.bench handoff on a GPU (export, transfer, import against a
#      prefill), and its three-part question with each language replica on a GPU of its own,
#      so the shared article's KV state travels from one GPU to the others;
#   3. the disaggregated experiment, prefill on GPU 1 and decode on GPU 0 (llama.cpp must be
#      built for CUDA: CMAKE_ARGS=-DGGML_CUDA=on pip install llama-cpp-python==0.3.36);
#   4. the speculative experiment: the fp32 target alone on one GPU, against the same target
#      verifying a Q4_1 draft on llama.cpp on another (llama-cpp-python built with
#      CMAKE_ARGS=-DGGML_CUDA=on puts the draft on its GPU; a CPU build drafts on the CPU);
#   5. a turn with the language regions on vLLM, when vLLM is installed
#      (pip install 'cortex-bus[vllm]'), on the embedded SmolLM2 as a transformers folder.
# Usage: bash scripts/gpu_check.sh [OUT_DIR]   (figures and session logs land in OUT_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/gpu-check}"
mkdir -p "$out"
py=.venv/bin/python
[ -x "$py" ] || make setup

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
"$py" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.device_count(), 'GPU(s)')"

echo "== 1. cortex run experiments/pipeline_vs_concurrent.toml (device = gpu when Ray has GPUs)"
.venv/bin/cortex run experiments/pipeline_vs_concurrent.toml --out "$out/experiment" --json \
  > "$out/experiment.json"
"$py" -c "import json,sys; r=json.load(open(sys.argv[1])); print({m: v['tokens_per_s'] for m, v in r['modes'].items()})" "$out/experiment.json"

echo "== 2. KV handoff on the GPUs"
"$py" -m cortex.bench handoff --device cuda --json > "$out/handoff.json"
"$py" -c "import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print({k: r[k] for k in ('bytes_per_token', 'lengths', 'shared_context')})" "$out/handoff.json"

echo "== 3. cortex run experiments/disaggregated.toml (prefill on GPU 1, decode on GPU 0)"
.venv/bin/cortex run experiments/disaggregated.toml --out "$out/disaggregated" --json \
  > "$out/disaggregated.json"
"$py" -c "import json,sys; r=json.load(open(sys.argv[1])); print({m: (v['wall_s'], v['ttft_s']) for m, v in r['modes'].items()}, r['modes']['disaggregated'].get('handoff'))" "$out/disaggregated.json"

echo "== 4. cortex run experiments/speculative.toml (target and draft on GPUs of their own)"
.venv/bin/cortex run experiments/speculative.toml --out "$out/speculative" --json \
  > "$out/speculative.json"
"$py" -c "import json,sys; m=json.load(open(sys.argv[1]))['modes']; s=m['speculative']; print({k: m[k]['tokens_per_s'] for k in m}, {k: s.get(k) for k in ('acceptance_rate', 'speedup', 'identical_text', 'ttft_s')})" "$out/speculative.json"

echo "== 5. a turn on vLLM"
if ! "$py" -c "import vllm" 2>/dev/null; then
  echo "vLLM is not installed here (pip install 'cortex-bus[vllm]'); skipped"
  exit 0
fi
folder=$("$py" -c "from modules.models import resolve; print(resolve('embedded:smollm2-135m-instruct'))")
cat > "$out/vllm.toml" <<TOML
[runtime]
device = "gpu"
[regions.planning]
kind = "planning"
[regions.language]
kind = "language"
model = "$folder"
engine = "vllm"
replicas = 1
max_concurrent = 16
TOML
.venv/bin/cortex ask --json --config "$out/vllm.toml" --session "$out/vllm-session.jsonl" \
  "Name two rivers in Europe and two mountains in Asia." > "$out/vllm-turn.json"
"$py" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['answer']); print('wall', r['wall_s'], 's, first token', r['first_token_s'], 's')" "$out/vllm-turn.json"
