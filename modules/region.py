"""The `Region` base class: a model on one device that turns subtasks into token streams.

A region is a plain class. `setup()` loads its model on the device it was given; `handle()`
yields the pieces of text it decodes for one subtask. Publishing tokens on the bus, timing
and error reporting are the host's work (`modules.host`), so a region is testable alone.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from bus.protocol import Event, Subtask
from bus.tokenbus import Delivery, TokenBus
from modules.engines import Piece, SamplingSettings
from modules.openings import OPENINGS, Opening

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Placement:
    """Where a region instance runs: a GPU if one was granted and CUDA works, else CPU threads."""

    gpu: bool = False
    threads: int = 1
    cores: tuple[int, ...] = ()
    """CPU cores to run on (experiments pin each device to its own); empty: any."""

    @property
    def device_type(self) -> str:
        """``cuda`` on a granted GPU where CUDA works, else ``cpu`` (torch is imported only to
        check a GPU: regions whose engine does not use torch start faster without it)."""
        return "cuda" if self.gpu and _cuda_works() else "cpu"

    def torch_device(self) -> torch.device:
        import torch

        return torch.device("cuda:0" if self.device_type == "cuda" else "cpu")

    def pin(self) -> None:
        """Restricts this process to `cores`, when given (Linux)."""
        if self.cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, self.cores)

    def label(self) -> str:
        """The device itself, for screens and logs: ``cuda:2`` (the GPU Ray granted, by its
        number on the machine) or ``cpu:0-3`` (the cores the process runs on)."""
        gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0] or "0"
        if self.device_type == "cuda":
            return f"cuda:{gpu}"
        cores = f"cpu:{core_list(self.cores or _affinity())}"
        return f"{cores} (cuda:{gpu} granted, CUDA unavailable)" if self.gpu else cores


def _cuda_works() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def core_list(cores: tuple[int, ...] | set[int]) -> str:
    """CPU core numbers as Linux writes a CPU list: ``0-3``, ``0,2-3``."""
    spans: list[list[int]] = []
    for core in sorted(cores):
        if spans and core == spans[-1][1] + 1:
            spans[-1][1] = core
        else:
            spans.append([core, core])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _affinity() -> set[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return os.sched_getaffinity(0)
    return set(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class RegionSettings:
    """What a region instance is told when it is created."""

    name: str
    """Instance name, also its topic segment: ``language-0``, ``planning``."""
    kind: str
    model: str
    replica: int = 0
    """Which of the region's replicas this instance is, from 0."""
    sampling: SamplingSettings = SamplingSettings()
    placement: Placement = Placement()
    engine: str = "auto"
    """The inference engine of a text region: auto, llama.cpp, vllm or transformers."""
    max_concurrent: int = 1
    """Subtasks the region decodes at once (text regions batch them in their engine)."""
    context_length: int = 0
    """Tokens per request a text region's engine reserves; 0 takes the model's own."""
    batch_invariant: bool = True
    """Whether a text region's engine computes each sequence alone (the same greedy tokens
    whatever else it decodes, see `modules.engines.Engine`)."""
    end_at_sentence: bool = True
    """Whether a text region's answers end at a sentence end past half their token budget."""
    openings: tuple[Opening, ...] = OPENINGS
    """The rules by which a language region writes the start of an answer for the model
    (`modules.openings.answer_start`)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Kind-specific settings (the planner's router model and delegate kinds, for example)."""
    weights: str = ""
    """A text region's GGUF in another weight format (``q8_0``...), converted once; "" as is."""
    role: str = "any"
    """What a text region's device is for: any, prefill (for other replicas) or decode."""
    speed_probe: bool = True
    """Whether a text region measures its prefill and decode rates at start (cached)."""
    handoff_wait_s: float = 60.0
    """How long a text region waits for a KV state another replica prefills for it."""
    prompt_cache: bool = True
    """Whether a text region's engine reuses what its cache kept of earlier prompts."""


class Region:
    """Base class of every region. Subclasses set `kind` and implement `setup` and `handle`.

    Attributes:
        description: One sentence saying what the region is for; the planner routes subtasks
            to the region whose description fits best.
        watches: Topic patterns a region also listens to; each delivery goes to `observe()`.
        takes_subtasks: Whether the planner may route subtasks here (a pure observer sets False).
        concurrent: Whether `handle` may run for several subtasks at once, on threads of the
            host (up to `RegionSettings.max_concurrent`); False runs them one at a time.
    """

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""
    watches: ClassVar[tuple[str, ...]] = ()
    takes_subtasks: ClassVar[bool] = True
    concurrent: ClassVar[bool] = False

    def __init__(self, settings: RegionSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.bus: TokenBus | None = None
        """Set by the host before `setup()`; a region may publish on it (the planner does)."""

    @property
    def device(self) -> torch.device:
        return self.settings.placement.torch_device()

    @property
    def slots(self) -> int:
        """How many subtasks the host runs at once."""
        return max(1, self.settings.max_concurrent) if self.concurrent else 1

    def describe(self) -> str:
        """What runs the region's model, for logs and `cortex status` (empty by default)."""
        return ""

    def device_speeds(self) -> dict[str, Any]:
        """The device's measured prefill and decode rates, for placement and `cortex status`
        (empty by default: see `modules.speeds`)."""
        return {}

    def status_fields(self) -> dict[str, Any]:
        """Live figures of the region's own for its status (JSON values; none by default):
        a text region's tokenizer and how its drafts fare."""
        return {}

    def setup(self) -> None:  # noqa: B027 - a region without a model needs no setup
        """Loads the model onto `self.device`. Called once, before any `handle()`."""

    def handle(self, subtask: Subtask) -> Generator[Piece, None, dict[str, Any] | None]:
        """Yields the pieces of one subtask's output as they are produced.

        May return a dict of structured output (JSON values), which travels in the
        `SubtaskResult`'s `data` (a vision region's labels, a speech region's file).
        """
        raise NotImplementedError(f"{type(self).__name__} does not handle subtasks")

    def interrupt(self, stream_id: str) -> None:  # noqa: B027 - nothing to stop by default
        """Stops the work of a running `handle` at once, even one waiting for its engine
        (called from another thread; `handle` then ends as it can)."""

    def observe(self, delivery: Delivery) -> Iterator[str | Event]:
        """Reacts to a message on a watched topic; yields remarks (text, or whole `Event`s) to
        publish on the region's output (none by default)."""
        return iter(())

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Releases what `setup()` acquired."""
