"""The same greedy prompt, the same answer: 20 prompts (12 over 300 tokens, several prefill
chunks, in groups that share an article) answered fresh, right after a prompt sharing their
prefix, and among three others at once, on llama.cpp (the embedded model) and transformers
(a tiny model). `python -m cortex.bench determinism` runs the suite with 1,500-token prompts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex.bench.determinism import MODEL, run_suite, suite_prompts
from modules.engines import create_engine
from modules.models import save_tiny_llama

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tiny_4k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-4k"), 4096, initializer_range=0.3)


@pytest.mark.parametrize("engine", ["llama.cpp", "transformers"])
def test_greedy_answers_do_not_depend_on_the_cache_or_the_batch(engine: str, tiny_4k: Path) -> None:
    model = MODEL if engine == "llama.cpp" else str(tiny_4k)
    running = create_engine(engine, model, threads=2, context_length=4096).start()
    try:
        suite = run_suite(running, suite_prompts(article_words=300), long_tokens=300)
    finally:
        running.close()
    assert suite["prompts"] == 20 and suite["long_prompts"] == 12
    assert suite["differ"] == []
    assert all(answer.strip() for answer in suite["answers"])
