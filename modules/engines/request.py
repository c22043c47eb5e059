"""A request inside a step engine: its prompt, how far it got, and where its output goes.

Each request has an id of its own, unique within its engine: the step loop keys its running
requests by it, so finishing one never moves another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bus.handoff import KvState
from bus.protocol import TokenLogprob
from modules.engines.detokenizer import Detokenizer
from modules.engines.sampling import SamplingSettings
from modules.engines.speculative import Proposer
from modules.engines.stopping import StopMatcher
from modules.engines.stream import Stream


@dataclass(frozen=True)
class Assist:
    """What other replicas lend one request: a draft region whose tokens the engine verifies
    instead of decoding one token a step (see `modules.engines.speculative`), and the KV state
    of the prompt's start, prefilled by another replica of the same model (`Engine.prefill`),
    so that only the rest is prefilled here. A request may have both: the imported state is its
    prefill, the draft proposes its continuation."""

    draft: Proposer | None = None
    kv: KvState | None = None


ALONE = Assist()
"""A request that decodes alone and prefills its whole prompt."""


@dataclass(eq=False)
class Request:
    """One submitted prompt while its engine queues, prefills and decodes it."""

    request_id: int
    prompt: list[int]
    sampling: SamplingSettings
    stream: Stream
    detokenizer: Detokenizer
    stops: StopMatcher
    slot: int = -1
    """The engine's batch slot (llama.cpp's sequence id) while running."""
    prefilled: int = 0
    """Prompt tokens already in the KV cache."""
    generated: list[int] = field(default_factory=list)
    state: Any = None
    """Engine-specific state (a sampler chain, a KV cache)."""
    kv: KvState | None = None
    """A KV state another replica prefilled, imported instead of prefilling its tokens."""
    export: bool = False
    """Prefill only, then export the KV state (`Engine.prefill`): no token is decoded."""
    draft: Proposer | None = None
    """Where draft tokens for this request come from, while it speculates."""
    logprob: TokenLogprob | None = None
    """The log-probability of the token the engine just chose, until it is sent on."""

    @property
    def speculating(self) -> bool:
        """Whether its tokens come from verifying drafts: it has a proposer and its prompt
        is in (so its first token came from the prefill)."""
        return self.draft is not None and bool(self.generated)

    @property
    def position(self) -> int:
        """Tokens in the KV cache: the next token's position."""
        return self.prefilled + max(0, len(self.generated) - 1)
