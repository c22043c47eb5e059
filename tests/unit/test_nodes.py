"""Placement by node: a region's `node` setting becomes a Ray custom resource per instance,
replicas take the listed nodes in turn, and a node no one declares is refused up front."""

from __future__ import annotations

import pytest

from cortex.config import parse_config
from cortex.errors import ConfigError, PlacementError
from cortex.runtime.placement import NODE_SHARE, check_nodes, plan_instances

PLANNER = {"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"}
LANGUAGE = {"kind": "language", "class": "tests.tui.scripted:ScriptedLanguage"}


def test_replicas_take_the_listed_nodes_in_turn() -> None:
    config = parse_config(
        {
            "regions": {
                "planning": PLANNER | {"node": "head"},
                "language": LANGUAGE | {"replicas": 3, "node": ["a", "b"]},
            }
        }
    )
    placed = {i.name: i.resources for i in plan_instances(config, cluster_gpus=0)}
    assert placed == {
        "planning": {"head": NODE_SHARE},
        "language-0": {"a": NODE_SHARE},
        "language-1": {"b": NODE_SHARE},
        "language-2": {"a": NODE_SHARE},
    }


def test_without_a_node_ray_places_the_instance_anywhere() -> None:
    config = parse_config({"regions": {"planning": PLANNER, "language": LANGUAGE}})
    assert all(i.resources == {} for i in plan_instances(config, cluster_gpus=0))


def test_a_node_no_one_declares_is_refused_with_the_fix() -> None:
    config = parse_config(
        {"regions": {"planning": PLANNER, "language": LANGUAGE | {"node": "gpu-box-2"}}}
    )
    instances = plan_instances(config, cluster_gpus=0)
    with pytest.raises(PlacementError, match=r"language must run on node 'gpu-box-2'.*ray start"):
        check_nodes(instances, {"CPU": 2.0, "head": 1.0})
    check_nodes(instances, {"CPU": 2.0, "gpu-box-2": 1.0})


def test_an_empty_node_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="regions.language.node"):
        parse_config({"regions": {"planning": PLANNER, "language": LANGUAGE | {"node": [""]}}})
