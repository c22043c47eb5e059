"""An experiment file: which model on how many devices, the requests, and the modes to compare.

    name = "pipeline_vs_concurrent"
    model = "embedded:smollm2-135m-instruct"
    devices = 2
    modes = ["pipeline", "concurrent", "sequential", "batched"]
    max_new_tokens = 48

    [[requests]]
    text = "Compare tea and coffee."
    subtasks = ["Describe tea.", "Describe coffee."]

A request's work is its `subtasks` when given (a fixed plan), else one language subtask
with its text; with ``planning`` among the `regions` the planning region makes the plan,
as `cortex ask` does. An ``image`` adds a vision subtask and an ``audio`` a speech one.
`device_weights` gives each device's language model a weight format of its own (a GGUF
converted once with llama.cpp's quantize), so two devices of one CPU differ: a device
prefills faster from q8_0 weights and decodes faster from the shipped q4_1.
Any error names the field: ``modes.1``, ``regions.0``, ``requests.0.image``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cortex.config import BUILTIN_KINDS, checked_model, describe_problems
from cortex.errors import ConfigError
from cortex.inputs import read_toml
from modules.engines import EngineName
from modules.engines.formats import WeightFormat

Mode = Literal["sequential", "pipeline", "concurrent", "batched", "disaggregated", "speculative"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Request(_Strict):
    """One request of the workload."""

    text: str = Field(min_length=1)
    subtasks: list[str] = Field(default_factory=list)
    """A fixed plan: language subtasks decoded for this request (else the text is one)."""
    image: Path | None = None
    audio: Path | None = None

    @field_validator("image", "audio")
    @classmethod
    def _media_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"no file at {path}")
        return path

    @field_validator("subtasks")
    @classmethod
    def _subtasks_say_something(cls, subtasks: list[str]) -> list[str]:
        if any(not text.strip() for text in subtasks):
            raise ValueError("a subtask is empty")
        return subtasks


class ExperimentSpec(_Strict):
    """What `cortex run` measures."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    model: str = "embedded:smollm2-135m-instruct"
    """The language model every mode decodes with (and the planner's)."""
    engine: EngineName = "auto"
    """The region modes' inference engine (see `modules.engines`); the pipeline mode always
    runs transformers, which gives it the hidden states to pass between stages."""
    draft_model: str | None = None
    """The draft region's model in ``speculative`` mode (the target is `model`)."""
    draft_engine: EngineName = "auto"
    """The draft region's engine in ``speculative`` mode."""
    vision_model: str = "embedded:efficientnet-lite0"
    speech_model: str = "embedded:whisper-tiny.en"
    devices: int = Field(2, ge=1, le=64)
    """Devices to spread over: GPUs when the cluster has as many, else CPU cores."""
    modes: list[Mode] = Field(min_length=1)
    regions: list[str] = Field(default_factory=lambda: ["language"], min_length=1)
    """The region kinds to run. With ``planning``, each request is a whole turn (the planner
    plans, as `cortex ask` does); ``vision`` and ``speech`` take the requests' media."""
    device_weights: list[WeightFormat | Literal[""]] = Field(default_factory=list)
    """Each device's weight format for the language model, by device number ("" or none:
    as shipped); GGUF models on llama.cpp only."""
    prompt_cache: bool = True
    """Whether a repetition may reuse what the engines' caches kept of the one before (false
    measures every prefill whole)."""
    max_new_tokens: int = Field(48, ge=1, le=4096)
    repetitions: int = Field(1, ge=1, le=100)
    seed: int = 0
    requests: list[Request] = Field(min_length=1)

    @field_validator("model", "vision_model", "speech_model", "draft_model")
    @classmethod
    def _model_exists(cls, spec: str | None) -> str | None:
        return None if spec is None else checked_model(spec)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        for index, kind in enumerate(regions):
            if kind not in BUILTIN_KINDS:
                known = ", ".join(sorted(BUILTIN_KINDS))
                raise ValueError(f"regions.{index}: unknown region {kind!r} (known: {known})")
        if "language" not in regions:
            raise ValueError("every mode decodes with a language region; add 'language'")
        return regions

    @property
    def planner(self) -> bool:
        """Whether a planning region makes each request's plan."""
        return "planning" in self.regions

    @model_validator(mode="after")
    def _modes_fit(self) -> ExperimentSpec:
        if len(set(self.modes)) != len(self.modes):
            raise ValueError("modes: a mode is listed twice")
        for index, request in enumerate(self.requests):
            for field, kind in (("image", "vision"), ("audio", "speech")):
                if getattr(request, field) is not None and kind not in self.regions:
                    raise ValueError(
                        f"requests.{index}.{field}: needs a {kind} region; add '{kind}' to regions"
                    )
        self._check_devices()
        if "pipeline" in self.modes and set(self.regions) != {"language"}:
            raise ValueError(
                "modes: pipeline mode splits the language model only; "
                "run it with regions = ['language']"
            )
        if "speculative" in self.modes:
            self._check_speculative()
        return self

    def _check_devices(self) -> None:
        if len(self.device_weights) > self.devices:
            raise ValueError(
                f"device_weights: {self.devices} devices, not {len(self.device_weights)}"
            )
        if any(self.device_weights) and (
            self.engine not in ("auto", "llama.cpp") or "pipeline" in self.modes
        ):
            raise ValueError(
                "device_weights: weight formats are GGUF files for llama.cpp; set engine = "
                "'llama.cpp' and leave out the pipeline mode"
            )
        if "concurrent" in self.modes and len(set(self.device_weights or [""])) > 1:
            raise ValueError(
                "device_weights: the concurrent mode runs one weight format on every device"
            )
        if "disaggregated" in self.modes and (self.devices < 2 or self.regions != ["language"]):
            raise ValueError(
                "modes: disaggregated prefills on device 1 and decodes on device 0: it needs "
                "devices >= 2 and regions = ['language']"
            )

    def weights(self, device: int) -> str:
        """The weight format of a device's language model ("" as shipped)."""
        return self.device_weights[device] if device < len(self.device_weights) else ""

    def _check_speculative(self) -> None:
        if self.draft_model is None:
            raise ValueError("modes: speculative mode needs a draft_model (the draft region's)")
        if self.devices < 2:
            raise ValueError(
                "modes: speculative mode puts the draft on a device of its own; set devices = 2"
            )
        if set(self.regions) != {"language"}:
            raise ValueError(
                "modes: speculative mode pairs a language region with its draft; "
                "run it with regions = ['language']"
            )


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Reads and checks an experiment file; media paths are relative to the file.

    Raises:
        ConfigError: The file is missing, not TOML, or a field is wrong (it is named).
    """
    path = Path(path).expanduser()
    data = read_toml(path, "experiment file")
    for request in data.get("requests", []):
        for field in ("image", "audio"):
            if isinstance(request, dict) and isinstance(request.get(field), str):
                request[field] = str((path.parent / request[field]).resolve())
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {describe_problems(error, ExperimentSpec)}") from None
