"""Configuration: the shipped default, and clear errors naming the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cortex.config import load_config, parse_config
from cortex.errors import ConfigError, PlacementError
from cortex.runtime.placement import (
    instance_names,
    pin_to_devices,
    plan_instances,
    replicas_by_kind,
)


def regions(**tables) -> dict:
    return {"regions": {"planning": {}, **tables}}


def test_default_config_has_a_planner_three_language_replicas_and_vision() -> None:
    config = load_config()
    assert config.planner == "planning"
    assert config.regions["language"].replicas == 3
    assert config.regions["language"].model == "embedded:smollm2-135m-instruct"
    assert config.regions["vision"].model == "embedded:efficientnet-lite0"


def test_each_kind_has_its_own_default_model() -> None:
    config = parse_config(regions(language={}, vision={}, speech={}))
    assert config.regions["vision"].model == "embedded:efficientnet-lite0"
    assert config.regions["speech"].model == "embedded:whisper-tiny.en"
    assert config.regions["planning"].model == "embedded:smollm2-135m-instruct"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (regions(language={"replicas": 0}), "regions.language.replicas"),
        (regions(poet={"kind": "poetry"}), "unknown kind 'poetry'"),
        (
            regions(language={"model": "/no/such/folder"}),
            "model folder '/no/such/folder' does not exist",
        ),
        (regions(language={"model": "embedded:gpt-9"}), "unknown embedded model"),
        (regions(language={"temperature": 1}), "regions.language.temperature: unknown setting"),
        (
            regions(language={"generation": {"max_new_token": 3}}),
            "generation.max_new_token: unknown setting; did you mean 'max_new_tokens'?",
        ),
        (regions(planning={"manager": {"spliter": "rules"}}), "did you mean 'splitter'?"),
        ({**regions(language={}), "runtime": {"devce": "cpu"}}, "did you mean 'device'?"),
        ({"runtime": {"device": "cpu"}}, "regions: Field required (a configuration file replaces"),
        (regions(language={"generation": {"top_p": 0}}), "regions.language.generation.top_p"),
        (regions(language={"generation": {"seed": 2**64}}), "regions.language.generation.seed"),
        ({"regions": {"language": {}}}, "exactly one planning region"),
        (regions(), "at least one region besides planning"),
        (regions(**{"Lang Uage": {"kind": "language"}}), "must be lower-case"),
        ({**regions(language={}), "runtime": {"device": "tpu"}}, "runtime.device"),
    ],
)
def test_bad_fields_are_named(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(data, "cortex.toml")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no configuration file at"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[regions\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_custom_region_class_is_checked_when_placed() -> None:
    config = parse_config(regions(language={}, critic={"class": "examples.critic:Critic"}))
    assert config.regions["critic"].kind == "critic"
    names = [i.name for i in plan_instances(config, cluster_gpus=0, cpu_count=4)]
    assert names == ["planning", "language", "critic"]


def test_instance_names() -> None:
    assert instance_names("planning", 1) == ["planning"]
    assert instance_names("language", 3) == ["language-0", "language-1", "language-2"]


def test_placement_without_gpus_shares_the_cores() -> None:
    instances = plan_instances(load_config(), cluster_gpus=0, cpu_count=12)
    assert [i.num_gpus for i in instances] == [0] * 6
    assert {i.settings.placement.threads for i in instances} == {2}
    assert replicas_by_kind(instances) == {
        "planning": {"planning": 4},
        "language": {"language-0": 4, "language-1": 4, "language-2": 4},
        "vision": {"vision": 1},
        "speech": {"speech": 1},
    }
    planner = instances[0].settings
    assert set(planner.options["delegates"]) == {"language", "vision", "speech"}


def test_only_some_regions_can_be_started() -> None:
    instances = plan_instances(load_config(), cluster_gpus=0, cpu_count=2, only={"vision"})
    assert [(i.name, i.settings.placement.threads) for i in instances] == [("vision", 2)]


def test_placement_with_enough_gpus_gives_one_each() -> None:
    instances = plan_instances(load_config(), cluster_gpus=6)
    assert [i.num_gpus for i in instances] == [1] * 6


def test_gpu_policy_without_enough_gpus_is_an_error() -> None:
    config = parse_config({**regions(language={"replicas": 2}), "runtime": {"device": "gpu"}})
    with pytest.raises(PlacementError, match="3 region instances on a GPU each"):
        plan_instances(config, cluster_gpus=2)
    auto = parse_config(regions(language={"replicas": 2}))
    assert [i.num_gpus for i in plan_instances(auto, cluster_gpus=2)] == [0, 0, 0]


def test_experiments_pin_instances_to_numbered_devices() -> None:
    instances = plan_instances(load_config(), cluster_gpus=0, cpu_count=2)
    devices = {i.name: (0 if i.name in ("planning", "language-0") else 1) for i in instances}
    on_cores = {i.name: i for i in pin_to_devices(instances, devices, False, cpu_count=2)}
    assert on_cores["language-0"].settings.placement.cores == (0,)
    assert on_cores["language-1"].settings.placement.cores == (1,)
    assert on_cores["vision"].settings.placement.label() == "cpu:1"
    assert all(i.num_gpus == 0 and i.settings.placement.threads == 1 for i in on_cores.values())
    on_gpus = {i.name: i for i in pin_to_devices(instances, devices, True, cpu_count=2)}
    assert on_gpus["planning"].num_gpus == 0.5  # two instances share device 0
    assert on_gpus["vision"].num_gpus == pytest.approx(1 / 4)  # four share device 1
    assert all(i.settings.placement.gpu for i in on_gpus.values())
