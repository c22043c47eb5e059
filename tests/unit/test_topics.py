"""Topic names and patterns: validation, and matching by whole segments."""

from __future__ import annotations

import pytest

from bus import InProcessBus, Pattern, Token, Topic, TopicError
from bus.topics import region_inbox, region_out, turn_in, turn_out


@pytest.mark.parametrize("name", ["region.language.out", "turn.4f2a.in", "a", "x_1.y-2.z"])
def test_valid_topics(name: str) -> None:
    assert Topic(name).name == name


@pytest.mark.parametrize(
    "name",
    ["", "Region.out", "region..out", ".region", "region.", "a b", "region.*", "x" * 201, "é"],
)
def test_malformed_topics_are_refused(name: str) -> None:
    with pytest.raises(TopicError, match="topic"):
        Topic(name)


def test_helpers_build_the_documented_names() -> None:
    assert region_out("language-0").name == "region.language-0.out"
    assert region_inbox("planning").name == "region.planning.in"
    assert turn_in("abc").name == "turn.abc.in"
    assert turn_out("abc").name == "turn.abc.out"


def test_prefix_pattern_matches_whole_segments() -> None:
    pattern = Pattern("region.*")
    assert pattern.matches("region.language.out")
    assert not pattern.matches("regional.x")
    assert pattern.wire_prefix == b"region."


def test_exact_pattern_matches_only_its_topic() -> None:
    pattern = Pattern("region.language.out")
    assert pattern.matches("region.language.out")
    assert not pattern.matches("region.language.output")


def test_star_matches_everything() -> None:
    assert Pattern("*").matches("anything.at.all")
    assert Pattern("*").wire_prefix == b""


@pytest.mark.parametrize("text", ["region.**", "*.out", "region*", "re gion.*"])
def test_malformed_patterns_are_refused(text: str) -> None:
    with pytest.raises(TopicError):
        Pattern(text)


def test_reserved_topics_cannot_be_published() -> None:
    with InProcessBus() as bus, pytest.raises(TopicError, match="reserved"):
        bus.publish("bus.probe.x", Token(stream_id="s", seq=0, token_id=0, text=""))


def test_bus_refuses_bad_topic_and_empty_subscription() -> None:
    with InProcessBus() as bus:
        with pytest.raises(TopicError):
            bus.publish("Bad Topic", Token(stream_id="s", seq=0, token_id=0, text=""))
        with pytest.raises(TopicError, match="at least one pattern"):
            bus.subscribe()


@pytest.mark.parametrize(
    ("name", "region", "turn", "channel"),
    [
        ("region.language-0.out", "language-0", None, "out"),
        ("region.planning.in", "planning", None, "in"),
        ("turn.4f2a.plan", None, "4f2a", "plan"),
        ("turn.4f2a.out", None, "4f2a", "out"),
        ("region.language-0", None, None, ""),
        ("fuzz.tokens.x", None, None, ""),
        ("a", None, None, ""),
        ("region.a.out.more", None, None, ""),
    ],
)
def test_a_topic_names_the_parts_of_cortexs_layout(
    name: str, region: str | None, turn: str | None, channel: str
) -> None:
    topic = Topic(name)
    assert (topic.region, topic.turn, topic.channel) == (region, turn, channel)


def test_the_builders_and_the_parts_agree() -> None:
    assert region_out("vision").region == "vision" and region_out("vision").channel == "out"
    assert turn_in("abc").turn == "abc" and turn_in("abc").channel == "in"
