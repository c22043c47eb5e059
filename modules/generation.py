"""Streamed `generate` for encoder-decoder models (image captions, speech recognition).

`stream_generate` runs a transformers model's own `generate` on a thread and yields each new
token id as it decodes. Text engines decode step by step instead (`modules.engines`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import torch


class _TokenQueue:
    """A `generate` streamer: token ids from the decoding thread, read by the caller."""

    def __init__(self) -> None:
        self.ids: queue.Queue[int | None] = queue.Queue()
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # the first call carries the decoder prompt
            self._prompt_seen = True
            return
        for token_id in value.reshape(-1).tolist():
            self.ids.put(int(token_id))

    def end(self) -> None:
        self.ids.put(None)


def stream_generate(model: Any, skip_ids: set[int], **inputs: Any) -> Iterator[int]:
    """Runs an encoder-decoder model's `generate` and yields each new token id as it is
    decoded (ids in `skip_ids`, such as special tokens, are left out)."""
    tokens = _TokenQueue()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with torch.inference_mode():
                model.generate(**inputs, streamer=tokens)
        except BaseException as error:  # noqa: BLE001 - re-raised in the reading thread
            failure.append(error)
            tokens.end()

    worker = threading.Thread(target=run, name="generate", daemon=True)
    worker.start()
    while (token_id := tokens.ids.get()) is not None:
        if token_id not in skip_ids:
            yield token_id
    worker.join()
    if failure:
        raise failure[0]
