"""Placement: which region instances run, and where.

With GPUs in the Ray cluster each instance asks Ray for one (`num_gpus=1`), so Ray gives it
its own device and CUDA_VISIBLE_DEVICES. Without, each instance is a CPU slot: it asks Ray
for no CPU (so instances never queue behind each other) and pins torch to its share of the
machine's cores. Instance names are the region's name, with ``-0``, ``-1``... for replicas.
A region's `node` setting pins its instances to the Ray nodes that declare that custom
resource (replicas take the listed nodes in turn).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from cortex.config import CortexConfig, ManagerConfig, RegionConfig
from cortex.errors import ConfigError, PlacementError
from modules.engines import SamplingSettings
from modules.host import import_region
from modules.region import Placement, RegionSettings

NODE_SHARE = 0.001
"""How much of its node's custom resource an instance asks for."""


@dataclass(frozen=True)
class Instance:
    """One region instance to start as an actor."""

    name: str
    region: str
    """The ``[regions.NAME]`` table it comes from."""
    class_path: str
    settings: RegionSettings
    num_gpus: float
    resources: dict[str, float] = field(default_factory=dict)
    """Ray custom resources the instance asks for: a sliver of its node's, so any number of
    instances fit on the node."""


def instance_names(region: str, replicas: int) -> list[str]:
    """``planning`` for a single instance, ``language-0``, ``language-1``... for replicas."""
    return [region] if replicas == 1 else [f"{region}-{i}" for i in range(replicas)]


def uses_gpus(config: CortexConfig, cluster_gpus: float) -> bool:
    """Whether every instance gets a GPU, by the config's device policy and the cluster.

    Raises:
        PlacementError: The policy is ``gpu`` but the cluster has fewer GPUs than instances.
    """
    wanted = sum(r.replicas for r in config.regions.values())
    if config.runtime.device == "cpu":
        return False
    if cluster_gpus >= wanted:
        return True
    if config.runtime.device == "gpu":
        raise PlacementError(
            f"the configuration places {wanted} region instances on a GPU each, but the Ray "
            f"cluster has {cluster_gpus:g} GPUs; lower the replicas or set device = 'auto'"
        )
    return False


def plan_instances(
    config: CortexConfig,
    cluster_gpus: float,
    cpu_count: int | None = None,
    only: set[str] | None = None,
) -> list[Instance]:
    """Every region instance of the configuration (or of the regions in `only`), placed."""
    full = config
    if only is not None:
        config = config.model_copy(
            update={"regions": {n: r for n, r in config.regions.items() if n in only}}
        )
    gpu = uses_gpus(config, cluster_gpus)
    total = sum(r.replicas for r in config.regions.values())
    share = max(1, (cpu_count or os.cpu_count() or 1) // total)
    delegates = _delegate_descriptions(config)
    instances = []
    for region_name, region in config.regions.items():
        options = _options(config, region, delegates)
        for replica, name in enumerate(instance_names(region_name, region.replicas)):
            options = {**options, **_pairing(full, region_name, replica, set(config.regions))}
            settings = RegionSettings(
                name=name,
                kind=region.kind,
                model=region.model,
                replica=replica,
                sampling=_sampling(region),
                placement=Placement(gpu=gpu, threads=region.threads or share),
                engine=region.engine,
                max_concurrent=region.max_concurrent,
                context_length=region.context_length,
                batch_invariant=region.batch_invariant,
                end_at_sentence=region.generation.end_at_sentence,
                openings=region.generation.openings,
                options=options,
                weights=region.weights,
                role=region.role,
                speed_probe=region.speed_probe,
                handoff_wait_s=config.handoff.wait_s,
                prompt_cache=region.prompt_cache,
            )
            resources = {region.node[replica % len(region.node)]: NODE_SHARE} if region.node else {}
            instances.append(
                Instance(name, region_name, region.class_path(), settings, int(gpu), resources)
            )
    return instances


def check_nodes(instances: list[Instance], cluster: dict[str, float]) -> None:
    """Checks that some node of the cluster declares each resource an instance is pinned to.

    Raises:
        PlacementError: No node has one of them (it names the regions that ask for it).
    """
    for resource in sorted({r for i in instances for r in i.resources}):
        if resource not in cluster:
            asking = ", ".join(i.name for i in instances if resource in i.resources)
            raise PlacementError(
                f"{asking} must run on node {resource!r}, but no node of the Ray cluster "
                f"declares that resource; start one with `ray start --resources "
                f"'{{\"{resource}\": 1}}'`, or change the regions' node setting"
            )


def pin_to_devices(
    instances: list[Instance], devices: dict[str, int], use_gpus: bool, cpu_count: int
) -> list[Instance]:
    """Places each instance on the numbered device `devices` gives it (experiments do this).

    On GPUs the instances that share a device each ask Ray for an equal share of one GPU, so
    Ray packs them together; on CPU, device ``d`` is core ``d % cpu_count``, one thread.
    """
    sharing = Counter(devices[i.name] for i in instances)
    placed = []
    for instance in instances:
        device = devices[instance.name]
        placement = (
            Placement(gpu=True) if use_gpus else Placement(threads=1, cores=(device % cpu_count,))
        )
        settings = replace(instance.settings, placement=placement)
        share = 1 / sharing[device] if use_gpus else 0
        placed.append(replace(instance, settings=settings, num_gpus=share))
    return placed


def replicas_by_kind(instances: list[Instance]) -> dict[str, dict[str, int]]:
    """Instance names grouped by region kind, each with the subtasks it takes at once, for
    the scheduler (draft regions draft for their targets and take no subtasks)."""
    groups: dict[str, dict[str, int]] = {}
    for instance in instances:
        if instance.settings.options.get("drafts"):
            continue
        region_class = import_region(instance.class_path)
        slots = instance.settings.max_concurrent if region_class.concurrent else 1
        groups.setdefault(instance.settings.kind, {})[instance.name] = max(1, slots)
    return groups


def _pairing(config: CortexConfig, region: str, replica: int, running: set[str]) -> dict[str, Any]:
    """A target instance's draft (replica i pairs with the draft's replica i, wrapping
    round), and whether it runs; or a draft instance's targets."""
    table = config.regions[region]
    if table.draft is not None:
        drafts = instance_names(table.draft, config.regions[table.draft].replicas)
        return {"draft": drafts[replica % len(drafts)], "draft_runs": table.draft in running}
    targets = [name for name, other in config.regions.items() if other.draft == region]
    if not targets:
        return {}
    names = instance_names(region, table.replicas)
    served = [
        target
        for name in targets
        for index, target in enumerate(instance_names(name, config.regions[name].replicas))
        if names[index % len(names)] == names[replica]
    ]
    return {"drafts": True, "drafts_for": served}


def check_drafts(instances: list[Instance], infos: dict[str, dict[str, Any]]) -> None:
    """Checks that every target and its draft split text into the same token ids.

    Raises:
        ConfigError: A pair's tokenizers differ (it names the regions and the field).
    """
    regions = {instance.name: instance.region for instance in instances}
    for instance in instances:
        draft = instance.settings.options.get("draft")
        if draft not in infos or instance.name not in infos:
            continue
        mine, theirs = infos[instance.name].get("tokenizer"), infos[draft].get("tokenizer")
        if mine != theirs:
            raise ConfigError(
                f"regions.{instance.region}.draft: {draft} ({regions[draft]}) splits text into "
                f"other token ids than {instance.name} (tokenizer {theirs} against {mine}), so "
                "its drafts would mean nothing there; pair a draft of the same model family"
            )


def _sampling(region: RegionConfig) -> SamplingSettings:
    g = region.generation
    return SamplingSettings(
        g.max_new_tokens,
        g.temperature,
        g.top_p,
        g.seed,
        tuple(g.stop),
        g.repetition_penalty,
        g.no_repeat_ngram,
    )


def _options(config: CortexConfig, region: RegionConfig, delegates: dict[str, str]) -> dict:
    if region.kind == "speech":
        return {"voice": region.voice}
    if region.kind != "planning":
        return {}
    manager = region.manager or ManagerConfig()
    return {
        "delegates": delegates,
        "max_steps": config.runtime.max_plan_steps,
        **manager.model_dump(),
    }


def _delegate_descriptions(config: CortexConfig) -> dict[str, str]:
    """Each kind that can take subtasks, with its class's description for routing."""
    descriptions = {}
    for region in config.regions.values():
        region_class = import_region(region.class_path())
        if region.kind != "planning" and region_class.takes_subtasks:
            descriptions[region.kind] = region_class.description or f"{region.kind} tasks"
    return descriptions
