"""Routing by meaning: sentence embeddings pick the region kind a subtask fits best.

The router embeds each region kind's description (all-MiniLM-L6-v2 by default, mean-pooled
and normalised) and sends an instruction to the kind with the highest cosine similarity. It
also tells whether a request is simple enough to answer directly or worth a plan, by its
similarity to a few examples of each.
"""

from __future__ import annotations

from typing import Any

import torch

from modules.models import load_encoder

SIMPLE_REQUESTS = (
    "What is the capital of France?",
    "Who wrote Hamlet?",
    "How many legs does a spider have?",
    "Translate good morning into Spanish.",
    "What is 12 times 7?",
    "Define photosynthesis.",
    "Tell me a joke.",
    "Hello, how are you?",
    "Why do cats purr?",
    "Explain how rainbows form.",
)
COMPOUND_REQUESTS = (
    "Compare tea and coffee on caffeine, taste and price.",
    "Plan a weekend trip and write a packing list.",
    "Explain photosynthesis and give two examples of plants.",
    "List the pros and cons of electric cars, then summarise them.",
    "Describe this photo and read the description aloud.",
    "Write a short poem about the sea and translate it into French.",
    "Organize my week: work, gym and groceries.",
    "Compare Python and Rust for speed, safety and learning curve.",
)


class Router:
    """Routes instructions to region kinds by description similarity.

    Args:
        encoder: A model spec for a sentence encoder (see `modules.models`).
        descriptions: Each routable kind with one sentence saying what it is for.
        device: Where the encoder runs.
    """

    def __init__(
        self, encoder: str, descriptions: dict[str, str], device: torch.device | str = "cpu"
    ) -> None:
        if not descriptions:
            raise ValueError("a router needs at least one region kind to route to")
        self.encoder = encoder
        self.kinds = list(descriptions)
        self._descriptions = [descriptions[k] for k in self.kinds]
        self._device = torch.device(device)
        self._tokenizer: Any = None
        self._model: Any = None
        self._kind_vectors: torch.Tensor | None = None
        self._simple: torch.Tensor | None = None
        self._compound: torch.Tensor | None = None

    def setup(self) -> None:
        """Loads the encoder and embeds the descriptions and examples."""
        self._tokenizer, model = load_encoder(self.encoder)
        self._model = model.to(self._device)
        self._kind_vectors = self.embed(self._descriptions)
        self._simple = self.embed(list(SIMPLE_REQUESTS))
        self._compound = self.embed(list(COMPOUND_REQUESTS))

    @torch.inference_mode()
    def embed(self, texts: list[str]) -> torch.Tensor:
        """Unit-length sentence vectors, [N, D]."""
        batch = self._tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        batch = {k: v.to(self._device) for k, v in batch.items()}
        hidden = self._model(**batch).last_hidden_state  # [N, T, D]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [N, T, 1]
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).cpu()

    def scores(self, instruction: str) -> dict[str, float]:
        """Cosine similarity of the instruction to each kind's description."""
        assert self._kind_vectors is not None, "Router.setup() was not called"
        similarity = self.embed([instruction])[0] @ self._kind_vectors.T
        return dict(zip(self.kinds, similarity.tolist(), strict=True))

    def route(self, instruction: str, among: set[str] | None = None) -> str:
        """The kind whose description fits the instruction best (of `among`, if given)."""
        scores = {k: v for k, v in self.scores(instruction).items() if among is None or k in among}
        if not scores:
            raise ValueError(f"none of {sorted(among or ())} is a kind this router knows")
        return max(scores, key=scores.__getitem__)

    def is_simple(self, request: str) -> bool:
        """Whether a request reads like one question (answer directly) rather than several."""
        assert self._simple is not None and self._compound is not None, "call setup() first"
        if len(request.split()) < 4:
            return True
        vector = self.embed([request])[0]
        simple = torch.topk(self._simple @ vector, 2).values.mean()
        compound = torch.topk(self._compound @ vector, 2).values.mean()
        return bool(simple > compound)
