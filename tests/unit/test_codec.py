"""The codec: every bad frame raises BusDecodeError, and says which check failed."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import BusDecodeError, BusEncodeError, Token, UserTurn, decode, encode
from bus.protocol import SCHEMA_VERSION

VALID = encode(Token(stream_id="s", seq=3, token_id=42, text=" tea"))

msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text()
    | st.binary(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


def check_decodes_or_refuses(payload: bytes) -> None:
    try:
        decode(payload)
    except BusDecodeError as error:
        assert error.reason in {
            "too_large",
            "not_msgpack",
            "not_a_message",
            "newer_schema",
            "invalid",
        }


@settings(max_examples=400)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_bus_decode_error(payload: bytes) -> None:
    check_decodes_or_refuses(payload)


@pytest.mark.slow
@settings(max_examples=400)
@given(msgpack_values)
def test_random_msgpack_values_only_raise_bus_decode_error(value) -> None:
    check_decodes_or_refuses(msgpack.packb(value, use_bin_type=True))


@pytest.mark.slow
@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "kind",
                "schema_version",
                "ts",
                "stream_id",
                "seq",
                "token_id",
                "text",
                "final",
                "turn_id",
            ]
        ),
        msgpack_values,
        max_size=9,
    )
)
def test_random_message_shaped_maps_only_raise_bus_decode_error(fields) -> None:
    check_decodes_or_refuses(msgpack.packb(fields, use_bin_type=True))


@given(st.integers(0, len(VALID) - 1))
def test_truncated_frames_are_refused(cut: int) -> None:
    with pytest.raises(BusDecodeError):
        decode(VALID[:cut])


@settings(max_examples=400)
@given(st.integers(0, len(VALID) - 1), st.integers(0, 255))
def test_mutated_frames_decode_or_are_refused(position: int, value: int) -> None:
    mutated = bytearray(VALID)
    mutated[position] = value
    check_decodes_or_refuses(bytes(mutated))


def test_not_msgpack() -> None:
    with pytest.raises(BusDecodeError) as caught:
        decode(b"\xc1")
    assert caught.value.reason == "not_msgpack"


def test_not_a_map() -> None:
    with pytest.raises(BusDecodeError) as caught:
        decode(msgpack.packb([1, 2, 3]))
    assert caught.value.reason == "not_a_message"


def test_unknown_kind_is_invalid() -> None:
    with pytest.raises(BusDecodeError) as caught:
        decode(msgpack.packb({"kind": "pickle", "schema_version": 1, "ts": 1.0}))
    assert caught.value.reason == "invalid"
    assert "kind" in str(caught.value)


def test_newer_schema_version_is_named() -> None:
    fields = dict(Token(stream_id="s", seq=0, token_id=1, text="a").__dict__)
    fields["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(BusDecodeError) as caught:
        decode(msgpack.packb(fields))
    assert caught.value.reason == "newer_schema"
    assert "upgrade" in str(caught.value)


def test_size_limit_is_configurable_both_ways() -> None:
    big = UserTurn(turn_id="t", text="x" * 2000)
    payload = encode(big)
    with pytest.raises(BusDecodeError) as caught:
        decode(payload, max_bytes=1000)
    assert caught.value.reason == "too_large"
    with pytest.raises(BusEncodeError, match="frame limit"):
        encode(big, max_bytes=1000)
    assert decode(payload, max_bytes=4000) == big


def test_default_limit_is_one_mebibyte() -> None:
    with pytest.raises(BusEncodeError):
        encode(UserTurn(turn_id="t", text="x" * (1 << 20)))


def test_msgpack_ext_types_are_not_objects() -> None:
    """An ext-typed payload (the slot a pickle-like codec would use) is just refused."""
    payload = msgpack.packb(msgpack.ExtType(42, b"\x80\x04K\x01."))
    with pytest.raises(BusDecodeError) as caught:
        decode(payload)
    assert caught.value.reason == "not_a_message"
