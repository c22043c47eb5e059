"""The target's side of a draft pairing: its streams' draft tokens, from a draft region.

A `DraftLink` belongs to a text region with a draft (``[regions.NAME] draft = ...``). For each
stream it hands the engine a `BusProposer`, which asks the draft region to draft
(`DraftRequest` on ``region.<draft>.draft``) and collects the `Proposal`s that come back on
``region.<target>.draft``. The draft decodes ahead on its own device while the target
verifies (the AMUSD and PEARL shape: drafting and verifying at once, not in turns). When the
target's tokens part from the draft's, the proposer sends the next epoch: the draft drops
what it drafted after the target's tokens and goes on from them. A draft that falls silent
(dead, or absent) leaves the stream to decode alone, and its figures say so.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bus.errors import BusError
from bus.protocol import DraftRequest, Event, Proposal
from bus.tokenbus import TokenBus
from bus.topics import Topic, region_drafts, region_out
from modules.engines import SamplingSettings
from modules.engines.speculative import Proposer

SILENCE_S = 5.0
"""A draft that sends nothing for this long while the target waits is taken for dead (or
too slow to help): the stream decodes alone from then on. A draft whose process died says
so sooner: the supervisor's ``region_died`` event ends its streams' drafting at once."""
RETRY_S = 30.0
"""After a draft fell silent, new streams decode alone this long before asking it again."""
WAIT_CAP_S = 0.5
"""The longest a target step waits for its window (a draft of unknown speed)."""
INTERVAL_MEMORY = 0.8
"""How much of the measured draft timings (per token, to start an epoch) each new one keeps."""
TOKENIZER_PROBE = (
    "Hello, world! The quick brown fox jumps over 13 lazy dogs.",
    "  def f(x):\n\treturn [x ** 2, 'ok']  # note",
    "Café, naïve façade — 日本語のテキスト, Ελληνικά, 🚀✨",
    "<|im_start|>user\nhi<|im_end|>",
)
"""Texts two tokenizers must split alike to pair a draft with a target: words, numbers,
code, accents, CJK, emoji and control tokens."""
_POLL_S = 0.2
log = logging.getLogger("cortex.speculation")


def tokenizer_fingerprint(tokenize: Callable[[str, bool], list[int]]) -> str:
    """A digest of how a tokenizer splits `TOKENIZER_PROBE` (control tokens as such): a draft
    and a target with the same digest speak in the same token ids."""
    ids = [tokenize(text, True) for text in TOKENIZER_PROBE]
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]


class DraftChannel:
    """A region's ``region.<name>.draft`` topic, served by a thread that hands each message
    to `take` until `close`: a target's proposals, or a draft region's requests."""

    def __init__(self, bus: TokenBus, name: str, *also: Topic) -> None:
        self.bus = bus
        self._stop = threading.Event()
        self._subscription = bus.subscribe(region_drafts(name), *also)
        self._thread = threading.Thread(target=self._receive, name="drafts", daemon=True)
        self._thread.start()

    def take(self, message: Any) -> None:
        """Handles one message of the topic (on the channel's thread)."""
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._subscription.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self._subscription.recv(timeout=_POLL_S)
            except BusError:
                return
            if delivery is not None:
                self.take(delivery.message)


class DraftLink(DraftChannel):
    """A target region's line to its draft region: a proposer per stream, and the thread that
    hands each stream's proposals to its proposer.

    Args:
        bus: The region's bus connection.
        target: The target region's instance name.
        draft: The draft region's instance name.
        tokenizer: The target's `tokenizer_fingerprint`.
        runs: Whether the draft region was started (else every stream decodes alone).
    """

    def __init__(
        self, bus: TokenBus, target: str, draft: str, tokenizer: str, runs: bool = True
    ) -> None:
        self.target, self.draft, self.tokenizer, self.runs = target, draft, tokenizer, runs
        self._proposers: dict[str, BusProposer] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._silent_until = 0.0
        super().__init__(bus, target, region_out(draft))  # where its death is announced

    def proposer(self) -> BusProposer:
        """A proposer for one new stream."""
        stream_id = f"{self.target}.{next(self._ids)}"
        proposer = BusProposer(self, stream_id)
        if not self.runs:
            proposer.figures.fallback = f"the draft region {self.draft} does not run"
        elif time.monotonic() < self._silent_until:
            proposer.figures.fallback = f"{self.draft} fell silent on an earlier stream"
        with self._lock:
            self._proposers[stream_id] = proposer
        return proposer

    def send(self, message: DraftRequest | Event) -> None:
        """Publishes to the draft region; a closed bus leaves the stream to decode alone."""
        self.bus.publish(region_drafts(self.draft), message)

    def forget(self, stream_id: str) -> None:
        with self._lock:
            self._proposers.pop(stream_id, None)

    def fell_silent(self) -> None:
        """A stream gave up on the draft, or it died: new streams skip it for `RETRY_S` (or
        until it is back)."""
        self._silent_until = time.monotonic() + RETRY_S

    def take(self, message: Any) -> None:
        """Hands a proposal (or a refusal) to the proposer of its stream; the draft's death
        to every stream's."""
        if isinstance(message, Event) and message.code in ("region_died", "region_restarted"):
            if message.source == self.draft:
                self._draft_event(message)
            return
        stream_id = message.stream_id if isinstance(message, Proposal) else ""
        if isinstance(message, Event) and message.code == "draft_refused":
            stream_id = str(message.data.get("stream_id", ""))
        with self._lock:
            proposer = self._proposers.get(stream_id)
        if proposer is None:
            return
        if isinstance(message, Proposal):
            self._silent_until = 0.0
            proposer.take(message)
        elif isinstance(message, Event):
            proposer.give_up(f"{self.draft} refused to draft: {message.detail}")

    def _draft_event(self, event: Event) -> None:
        if event.code == "region_restarted":
            self._silent_until = 0.0
        elif event.code == "region_died":
            self.fell_silent()
            with self._lock:
                proposers = list(self._proposers.values())
            for proposer in proposers:
                proposer.give_up(event.detail)


class BusProposer(Proposer):
    """Draft tokens for one stream from the draft region (see the module's docstring).

    `_drafted` is the draft's version of the output in the current epoch: the target's tokens
    it was told to go on from, then the tokens it proposed since.
    """

    def __init__(self, link: DraftLink, stream_id: str) -> None:
        super().__init__(link.draft)
        self.link, self.stream_id = link, stream_id
        self._changed = threading.Condition()
        self._epoch = -1
        self._drafted: list[int] = []
        self._ended = False
        self._generated: list[int] = []
        self._heard = self._last = self._asked = time.monotonic()
        """When the draft was last asked or heard from; when its last tokens came; when the
        current epoch was asked for."""
        self._interval: float | None = None
        """Seconds per draft token, as they arrive."""
        self._restart: float | None = None
        """Seconds from asking for an epoch to its first tokens."""
        self._arrived = 0
        """Tokens of the current epoch that arrived."""
        self._request: dict[str, Any] = {}
        self._budget = 0
        self._closed = False

    def begin(self, prompt: list[int], sampling: SamplingSettings, history: list[int]) -> None:
        self._request = {
            "stream_id": self.stream_id,
            "prompt": tuple(prompt),
            "history": tuple(history),
            "repetition_penalty": sampling.repetition_penalty,
            "no_repeat_ngram": sampling.no_repeat_ngram,
            "reply_to": region_drafts(self.link.target).name,
            "tokenizer": self.link.tokenizer,
        }
        self._budget = sampling.max_new_tokens
        with self._changed:
            if not self.figures.fallback:
                self._resume([])

    def proposals(self, generated: list[int], count: int, wait_s: float) -> list[int]:
        with self._changed:
            self._generated = list(generated)
            self._check()
            deadline = time.monotonic() + min(wait_s, self._patience())
            while True:
                ahead = self._drafted[len(generated) : len(generated) + count]
                if self.figures.fallback or ahead or self._ended:
                    return ahead  # what is there: the draft drafts on while the target verifies
                now = time.monotonic()
                if now - self._heard > SILENCE_S:
                    self._fall_back(f"{self.link.draft} sent nothing for {now - self._heard:.1f} s")
                    return ahead
                if now >= deadline:
                    return ahead
                self._changed.wait(deadline - now)

    def _patience(self) -> float:
        """How long the draft should need for its next token, as measured (what an epoch
        takes to start, or the time per token), with a fifth more for jitter; at most
        `WAIT_CAP_S`."""
        if self._interval is None or self._restart is None:
            return WAIT_CAP_S
        since = time.monotonic() - self._asked
        next_token = self._interval if self._arrived else max(0.0, self._restart - since)
        return min(WAIT_CAP_S, 1.2 * next_token)

    def settle(self, generated: list[int]) -> None:
        with self._changed:
            self._generated = list(generated)
            self._check()

    def close(self) -> None:
        self.link.forget(self.stream_id)
        with self._changed:
            if self._epoch >= 0 and not self.figures.fallback and not self._closed:
                self._closed = True
                stop = {"stream_id": self.stream_id}
                self._send(Event(code="cancel", source=self.link.target, data=stop))

    def take(self, proposal: Proposal) -> None:
        """Takes the draft's next tokens (called by the link's thread)."""
        with self._changed:
            if proposal.epoch != self._epoch:
                return  # drafted before the last correction
            self._heard = now = time.monotonic()
            if proposal.position != len(self._drafted):  # a message went missing: start over
                self._resume(self._generated)
                return
            if proposal.token_ids:
                if self._arrived:
                    per_token = (now - self._last) / len(proposal.token_ids)
                    self._interval = _averaged(self._interval, per_token)
                else:
                    self._restart = _averaged(self._restart, now - self._asked)
                self._arrived += len(proposal.token_ids)
            self._last = now
            self._drafted += proposal.token_ids
            self._ended = proposal.final
            self._check()
            self._changed.notify_all()

    def give_up(self, reason: str) -> None:
        with self._changed:
            self._fall_back(reason, silent=False)

    def _check(self) -> None:
        """Sends the draft the target's tokens when its own part from them, when it ended
        short of them, or when it fell two or more behind (it would draft the past)."""
        if self.figures.fallback or self._epoch < 0:
            return
        drafted, generated = self._drafted, self._generated
        shared = min(len(drafted), len(generated))
        behind = len(generated) - len(drafted)
        if drafted[:shared] != generated[:shared] or behind >= 2 or (self._ended and behind > 0):
            self._resume(generated)

    def _resume(self, accepted: list[int]) -> None:
        room = self._budget - len(accepted)
        self._epoch += 1
        self._drafted, self._ended, self._arrived = list(accepted), room < 1, 0
        self._heard = self._last = self._asked = time.monotonic()
        if room >= 1:
            request = DraftRequest(
                epoch=self._epoch, accepted=tuple(accepted), max_new_tokens=room, **self._request
            )
            self._send(request)

    def _send(self, message: DraftRequest | Event) -> None:
        try:
            self.link.send(message)
        except BusError as error:
            self._fall_back(f"the bus to {self.link.draft} failed: {error}", silent=False)

    def _fall_back(self, reason: str, silent: bool = True) -> None:
        if not self.figures.fallback:
            self.figures.fallback = reason
            log.warning("%s decodes alone: %s", self.stream_id, reason)
            if silent:
                self.link.fell_silent()
        self._changed.notify_all()


def _averaged(average: float | None, sample: float) -> float:
    """A moving average that keeps `INTERVAL_MEMORY` of itself (the first sample as is)."""
    return sample if average is None else INTERVAL_MEMORY * average + (1 - INTERVAL_MEMORY) * sample
