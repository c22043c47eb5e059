"""Cortex's configuration: `cortex.toml`, validated with pydantic.

`load_config()` reads the default file shipped with the package, or a user's file. Each
``[regions.NAME]`` table declares a region: its kind (or any importable `Region` subclass
as ``class = "package.module:Class"``), model, number of replicas and generation settings.
"""

from __future__ import annotations

import difflib
import tomllib
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bus.codec import DEFAULT_MAX_FRAME_BYTES
from bus.tokenbus import DEFAULT_HWM
from bus.topics import Topic
from cortex.errors import ConfigError
from cortex.inputs import read_toml
from modules.engines import EngineName
from modules.engines.formats import WeightFormat
from modules.engines.sampling import DEFAULT_NO_REPEAT_NGRAM, DEFAULT_REPETITION_PENALTY, SEED_LIMIT
from modules.errors import ModelNotFoundError
from modules.models import check_spec, is_gguf
from modules.openings import OPENINGS, Opening

BUILTIN_KINDS = {
    "language": "modules.language:LanguageRegion",
    "planning": "modules.planning:PlanningRegion",
    "vision": "modules.vision:VisionRegion",
    "speech": "modules.speech:SpeechRegion",
}
DEFAULT_MODEL = "embedded:smollm2-135m-instruct"
DEFAULT_MODELS = {"vision": "embedded:efficientnet-lite0", "speech": "embedded:whisper-tiny.en"}
"""Each kind's embedded default, where it is not the language model."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class GenerationConfig(_Strict):
    """How a region decodes."""

    max_new_tokens: int = Field(128, ge=1, le=8192)
    temperature: float = Field(0.0, ge=0.0, le=10.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int = Field(0, ge=0, lt=SEED_LIMIT)
    stop: tuple[str, ...] = ()
    repetition_penalty: float = Field(DEFAULT_REPETITION_PENALTY, ge=1.0, le=2.0)
    """Divides the logits of recently generated tokens; 1.0 turns it off (no loops by default)."""
    no_repeat_ngram: int = Field(DEFAULT_NO_REPEAT_NGRAM, ge=0, le=64)
    """Longest run of generated tokens that may appear twice; 0 turns it off."""
    end_at_sentence: bool = True
    """Past half of `max_new_tokens`, an answer ends at the next sentence or paragraph end,
    and a sentence the budget cuts is not shown; false decodes until the model stops or the
    budget is spent (benchmarks that compare fixed token counts)."""
    openings: tuple[Opening, ...] = OPENINGS
    """Which answers a language region starts for its model: ``one_thing`` ("What is the
    capital of Spain?" starts "The capital of Spain is"), ``list`` ("Give three tips for
    X." starts "Three tips for X:\n1."); [] starts none (a capable model needs none)."""


class ManagerConfig(_Strict):
    """How the planning region finds the work in a request (``[regions.planning.manager]``)."""

    splitter: Literal["rules", "model", "auto"] = "rules"
    """Who finds a request's parts: the rules (structure and word rules, deterministic), the
    planner's model (under a JSON schema), or auto (the rules first; the model when trusted
    or when the rules find one part in a long request)."""
    trust_model: bool = False
    """Under ``auto``, let the planner's model split every request (a capable model)."""
    skeleton: bool = False
    """Answer a single open-ended request as a skeleton of 3-5 points, each expanded by its
    own delegate at once (Skeleton-of-Thought)."""


class RegionConfig(_Strict):
    """One ``[regions.NAME]`` table."""

    kind: str = ""
    """A built-in kind (language, planning, vision, speech); defaults to the table's name."""
    region_class: str | None = Field(None, alias="class")
    """``package.module:Class`` of a custom `Region` subclass."""
    model: str = DEFAULT_MODEL
    replicas: int = Field(1, ge=1, le=64)
    engine: EngineName = "auto"
    """Text regions' inference engine: auto (by model format and hardware), llama.cpp, vllm or
    transformers."""
    max_concurrent: int = Field(4, ge=1, le=256)
    """Subtasks a text region instance decodes at once (batched); more wait for a slot."""
    context_length: int = Field(2048, ge=0, le=1_048_576)
    """Tokens a text region reserves per subtask (prompt and answer); 0 takes the model's."""
    batch_invariant: bool = True
    """Text regions: a greedy request gives the same tokens whatever the prompt cache held and
    whatever else decodes at once (each sequence is computed alone, prompts in fixed chunks);
    false batches sequences together, faster on GPUs (docs/configuration.md)."""
    voice: str = "espeak:en-us"
    """Speech regions' voice: ``espeak:VOICE`` (eSpeak NG), or a transformers text-to-speech
    model id or folder (VITS, e.g. facebook/mms-tts-eng)."""
    generation: GenerationConfig = GenerationConfig()
    draft: str | None = None
    """A language region's draft: the name of another language region, or a model (which
    becomes a region ``<name>-draft`` of its own). The draft decodes ahead on its own device
    and this region verifies its tokens several at a time: the same text, sooner."""
    manager: ManagerConfig | None = None
    """The planning region's ``[regions.NAME.manager]`` table (planning regions only)."""
    node: tuple[str, ...] = ()
    """Which Ray nodes the region's instances run on: a custom resource that those nodes
    declare (``ray start --resources '{"gpu-box-2": 1}'``), or a list of them that the
    replicas take in turn; empty: wherever Ray places them."""
    weights: WeightFormat | Literal[""] = ""
    """A GGUF model in another weight format, converted once into the cache (llama.cpp's
    quantize): a CPU prefills faster from q8_0, decodes faster from smaller weights."""
    threads: int = Field(0, ge=0, le=1024)
    """CPU threads of each instance; 0 shares the machine's cores among all instances."""
    role: Literal["any", "prefill", "decode"] = "any"
    """What the instances' devices are for (text regions): any (placement decides by their
    measured speeds), prefill (prompts for other replicas, no answers) or decode."""
    speed_probe: bool = True
    """Measure each text instance's prefill and decode rates at start (cached per device)."""
    prompt_cache: bool = True
    """Let a prompt reuse what an instance's cache kept of an earlier one (llama.cpp);
    false prefills every prompt whole, for benchmarks of prefill."""

    @field_validator("node", mode="before")
    @classmethod
    def _node_list(cls, node: Any) -> Any:
        return (node,) if isinstance(node, str) else node

    @field_validator("node")
    @classmethod
    def _node_names(cls, node: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in node):
            raise ValueError("a node is named by a custom resource of the Ray cluster, not ''")
        return node

    @model_validator(mode="before")
    @classmethod
    def _kind_default_model(cls, table: Any) -> Any:
        if isinstance(table, dict) and "model" not in table:
            return {**table, "model": DEFAULT_MODELS.get(table.get("kind", ""), DEFAULT_MODEL)}
        return table

    @model_validator(mode="after")
    def _weights_fit(self) -> RegionConfig:
        if self.weights and not (is_gguf(self.model) and self.engine in ("auto", "llama.cpp")):
            raise ValueError(
                f"weights = {self.weights!r} converts a GGUF model for llama.cpp; "
                f"{self.model!r} on engine {self.engine!r} is not one"
            )
        return self

    @field_validator("voice")
    @classmethod
    def _voice_exists(cls, spec: str) -> str:
        return spec if spec.startswith("espeak:") else cls._model_exists(spec)

    @field_validator("model")
    @classmethod
    def _model_exists(cls, spec: str) -> str:
        return checked_model(spec)

    def class_path(self) -> str:
        return self.region_class or BUILTIN_KINDS[self.kind]


class RuntimeConfig(_Strict):
    device: Literal["auto", "gpu", "cpu"] = "auto"
    namespace: str = Field("cortex", min_length=1)
    turn_timeout_s: float = Field(600.0, gt=0)
    max_plan_steps: int = Field(8, ge=1, le=16)
    dashboard: bool = False
    dashboard_host: str = Field("127.0.0.1", min_length=1)


class HandoffConfig(_Strict):
    """When text replicas hand each other their prefill (``[handoff]``)."""

    shared_prefill: bool = True
    """Parts of one request that share a long start (a pasted text, the history) import it
    from one replica's prefill instead of each prefilling it."""
    min_shared_tokens: int = Field(256, ge=1)
    """How long (in tokens, estimated at 4 characters each) that start must be."""
    disaggregate: Literal["auto", "always", "off"] = "auto"
    """auto: prefill a long prompt on the replica fastest at prefill, idle, and hand it to
    the one decoding it, when their measured speeds and the transfer say it is faster;
    always: whenever another replica is idle (a device kept for prefill); off: never."""
    min_prompt_tokens: int = Field(512, ge=1)
    """The shortest prompt (estimated tokens) worth prefilling on another replica."""
    bandwidth_mb_s: float = Field(500.0, gt=0)
    """What the bus carries between replicas, for the transfer's predicted cost (MB/s)."""
    wait_s: float = Field(60.0, gt=0)
    """How long a replica waits for a KV state before it prefills the prompt itself."""


class BusConfig(_Strict):
    max_frame_bytes: int = Field(DEFAULT_MAX_FRAME_BYTES, ge=1024)
    hwm: int = Field(DEFAULT_HWM, ge=1)


class CortexConfig(_Strict):
    """The whole configuration."""

    runtime: RuntimeConfig = RuntimeConfig()
    bus: BusConfig = BusConfig()
    handoff: HandoffConfig = HandoffConfig()
    regions: dict[str, RegionConfig]

    @field_validator("regions", mode="before")
    @classmethod
    def _default_kinds(cls, regions: Any) -> Any:
        if isinstance(regions, dict):
            for name, table in regions.items():
                if isinstance(table, dict) and not table.get("kind"):
                    table["kind"] = name
            regions = _draft_regions(regions)
        return regions

    @model_validator(mode="after")
    def _check_regions(self) -> CortexConfig:
        for name, region in self.regions.items():
            try:
                Topic(f"region.{name}")
            except ValueError:
                raise ValueError(
                    f"region name {name!r} must be lower-case letters, digits, '-' or '_'"
                ) from None
            if region.manager is not None and region.kind != "planning":
                raise ValueError(
                    f"regions.{name}.manager: only the planning region finds parts; move the "
                    "table to the planning region"
                )
            if region.region_class is None and region.kind not in BUILTIN_KINDS:
                raise ValueError(
                    f"region {name!r} has unknown kind {region.kind!r}; known kinds: "
                    f"{', '.join(BUILTIN_KINDS)}, or name a Region subclass with "
                    "class = 'package.module:Class'"
                )
        roles = [r.role for r in self.regions.values() if r.kind == "language"]
        if any(r.role != "any" and r.kind != "language" for r in self.regions.values()):
            raise ValueError("role is for language regions: it says what their devices are for")
        if roles and all(role == "prefill" for role in roles):
            raise ValueError("every language region has role = 'prefill': none decodes answers")
        for name, region in self.regions.items():
            if region.draft is not None:
                _check_draft(name, region, self.regions)
        planners = [n for n, r in self.regions.items() if r.kind == "planning"]
        if len(planners) != 1 or self.regions[planners[0]].replicas != 1:
            raise ValueError("the configuration needs exactly one planning region, with 1 replica")
        if not any(r.kind != "planning" for r in self.regions.values()):
            raise ValueError("the configuration needs at least one region besides planning")
        return self

    @property
    def planner(self) -> str:
        return next(n for n, r in self.regions.items() if r.kind == "planning")


def _draft_regions(regions: dict[str, Any]) -> dict[str, Any]:
    """The region tables with one added for each draft named by its model: ``<name>-draft``,
    a language region with its target's replicas, batch and context, not batch-invariant."""
    added = {}
    for name, table in regions.items():
        draft = table.get("draft") if isinstance(table, dict) else None
        if not isinstance(draft, str) or draft in regions:
            continue
        implied = f"{name}-draft"
        if implied in regions:
            raise ValueError(
                f"regions.{name}.draft: {draft!r} is a model, and a region {implied!r} exists "
                f"already; name that region (draft = {implied!r}) or rename it"
            )
        try:
            checked_model(draft)
        except ValueError as error:
            raise ValueError(
                f"regions.{name}.draft: {draft!r} is neither a region of this configuration "
                f"nor a model ({error})"
            ) from None
        keep = ("replicas", "max_concurrent", "context_length", "node")
        shared = {key: table[key] for key in keep if key in table}
        # a draft's own text is never shown: it resumes from its cached prefix to the token
        added[implied] = {"kind": "language", "model": draft, "batch_invariant": False, **shared}
        table["draft"] = implied
    return {**regions, **added}


def _check_draft(name: str, region: RegionConfig, regions: dict[str, RegionConfig]) -> None:
    """Raises a ValueError unless `region`'s draft is another language region without a draft."""
    draft = str(region.draft)
    where = f"regions.{name}.draft"
    if region.kind != "language" or region.region_class is not None:
        raise ValueError(f"{where}: only language regions take a draft ({name} is {region.kind})")
    if draft == name:
        raise ValueError(f"{where}: a region cannot draft for itself; name another region")
    paired = regions[draft]
    if paired.kind != "language" or paired.region_class is not None:
        raise ValueError(f"{where}: the draft {draft!r} must be a language region")
    if paired.draft is not None:
        raise ValueError(f"{where}: the draft {draft!r} has a draft of its own; remove one")


def checked_model(spec: str) -> str:
    """`spec` itself if it names a model that can be loaded; else a ValueError saying why."""
    try:
        check_spec(spec)
    except ModelNotFoundError as error:
        raise ValueError(str(error)) from None
    return spec


def default_config_text() -> str:
    """The text of the configuration file shipped with Cortex."""
    return resources.files("cortex").joinpath("default.toml").read_text()


def load_config(path: str | Path | None = None) -> CortexConfig:
    """Reads and validates a configuration file (the shipped default when `path` is None).

    Raises:
        ConfigError: The file is missing, not TOML, or a field is invalid; the message names
            the file and the field.
    """
    if path is None:
        return parse_config(tomllib.loads(default_config_text()), "the default configuration")
    return parse_config(read_toml(path, "configuration file"), str(path))


def parse_config(data: dict[str, Any], source: str = "configuration") -> CortexConfig:
    """Validates configuration data already parsed from TOML (or built in code)."""
    try:
        return CortexConfig.model_validate(data)
    except ValidationError as error:
        said = describe_problems(error, CortexConfig)
        if any(e["loc"] == ("regions",) and e["type"] == "missing" for e in error.errors()):
            said += (
                " (a configuration file replaces the default one: copy cortex/default.toml, "
                "whose [regions.*] tables it needs, and change what you want)"
            )
        raise ConfigError(f"{source}: {said}") from None


def describe_problems(error: ValidationError, model: type[BaseModel]) -> str:
    """Every problem pydantic found in data for `model`, each after the dotted path of its
    field; an unknown setting with the known one its name is closest to, if any."""
    problems = []
    for e in error.errors():
        said = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            known = _settings_at(model, e["loc"][:-1])
            close = difflib.get_close_matches(str(e["loc"][-1]), known, n=1)
            said = "unknown setting" + (f"; did you mean {close[0]!r}?" if close else "")
        problems.append(f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {said}")
    return "; ".join(problems)


def _settings_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The setting names (aliases where set) of the table at `path` under `model`: a field
    that is a model, or a table of them (``regions.<name>``), leads on."""
    at: Any = model
    keyed = False  # the next part of the path is a table's key, not a field
    for part in path:
        if keyed:
            keyed = False
            continue
        if not (isinstance(at, type) and issubclass(at, BaseModel)) or part not in at.model_fields:
            return []
        annotation = at.model_fields[str(part)].annotation
        keyed = typing.get_origin(annotation) is dict
        candidates = (
            typing.get_args(annotation)[-1:]
            if keyed
            else (annotation, *typing.get_args(annotation))
        )
        at = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    if not (isinstance(at, type) and issubclass(at, BaseModel)):
        return []
    return [info.alias or name for name, info in at.model_fields.items()]
