"""`cortex serve` on a local Ray cluster with tiny models: the official openai client, errors,
several clients at once, and a client that goes away mid-answer."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from bus.protocol import SubtaskResult
from bus.topics import region_out
from cortex.config import parse_config
from cortex.runtime.cortex import Cortex
from cortex.serve.server import running_server
from tests.conftest import long_answers_config, tiny_config
from tests.tui.scripted import expected_answer, scripted_answer

pytestmark = pytest.mark.ray

KEY = "test-key"
QUESTION = [{"role": "user", "content": "Compare tea and coffee."}]


@pytest.fixture(scope="module")
def brain(ray_cluster: None, tiny_model_dir: Path) -> Iterator[Cortex]:
    """Scripted language replicas (canned text: the tiny model writes only newlines) and a
    planner on the tiny model, which also answers alone as model "planning"."""
    scripted = {"kind": "language", "class": "tests.tui.scripted:ScriptedLanguage", "replicas": 2}
    data = tiny_config(tiny_model_dir, language=scripted)
    data["runtime"]["device"] = "cpu"
    with Cortex(parse_config(data)) as running:
        yield running


@pytest.fixture(scope="module")
def url(brain: Cortex) -> Iterator[str]:
    with running_server(brain, api_key=KEY) as base:
        yield base


@pytest.fixture
def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=120)


def post(url: str, body: bytes, key: str | None = KEY) -> tuple[int, dict[str, Any]]:
    """POSTs raw bytes to the chat endpoint; the status and the decoded JSON answer."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{url}/v1/chat/completions", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_openai_client_streams_the_same_answer_it_gets_whole(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="cortex", messages=QUESTION, stream=True))
    whole = client.chat.completions.create(model="cortex", messages=QUESTION)

    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert isinstance(whole, ChatCompletion)
    assert (
        streamed == whole.choices[0].message.content == expected_answer("Compare tea and coffee.")
    )
    assert len(chunks) > 4  # the answer streamed in pieces as it decoded
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == len(streamed.split(" "))
    assert whole.usage is not None and whole.usage.total_tokens == (
        whole.usage.prompt_tokens + whole.usage.completion_tokens
    )
    assert len({c.id for c in chunks}) == 1 and chunks[0].id != whole.id


def test_health_says_each_region_state_and_memory(url: str) -> None:
    request = urllib.request.Request(f"{url}/health", headers={"Authorization": f"Bearer {KEY}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok" and health["server"]["rss_mb"] > 0
    assert set(health["regions"]) == {"planning", "language-0", "language-1"}
    assert {r["state"] for r in health["regions"].values()} <= {"idle", "decoding"}
    assert all(r["rss_mb"] > 0 and r["pid"] > 0 for r in health["regions"].values())


def test_models_are_the_brain_and_each_text_region(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["cortex", "planning", "language-0", "language-1"]
    answer = client.chat.completions.create(model="planning", messages=QUESTION, max_tokens=3)
    assert answer.usage is not None and answer.usage.completion_tokens == 3
    alone = client.chat.completions.create(model="language-1", messages=QUESTION)
    assert alone.choices[0].message.content == scripted_answer("Compare tea and coffee.")


def test_cortex_events_carry_the_plan_and_region_streams(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="cortex", messages=QUESTION, stream=True, extra_body={"cortex_events": True}
        )
    )
    events = [e for c in chunks for e in (c.model_extra or {}).get("cortex", [])]
    kinds = {e["type"] for e in events}
    assert {"plan", "token", "result", "summary"} <= kinds
    plan = [e for e in events if e["type"] == "plan"]
    assert plan[0]["region"] == "language" and plan[0]["instruction"]
    assert any(e["type"] == "token" and e["region"].startswith("language") for e in events)


def test_several_clients_at_once(client: openai.OpenAI) -> None:
    def ask(index: int) -> str:
        message = [{"role": "user", "content": f"Name {index + 2} rivers."}]
        answer = client.chat.completions.create(model="cortex", messages=message)
        return answer.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(ask, range(4)))
    assert len(set(ids)) == 4


def test_a_wrong_or_missing_key_is_refused(url: str) -> None:
    stranger = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.chat.completions.create(model="cortex", messages=QUESTION)
    assert refused.value.status_code == 401
    status, body = post(url, json.dumps({"model": "cortex", "messages": QUESTION}).encode(), None)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        (b"{not json", 400, None),
        (b"{}", 400, "model"),
        (json.dumps({"model": "cortex", "messages": []}).encode(), 400, "messages"),
        (json.dumps({"model": "gpt-4", "messages": QUESTION}).encode(), 404, "model"),
        (
            json.dumps({"model": "cortex", "messages": [{"role": "assistant", "content": "x"}]}),
            400,
            "messages",
        ),
        (
            json.dumps(
                {"model": "planning", "messages": [{"role": "user", "content": "tea " * 400}]}
            ),
            400,
            "messages",
        ),
    ],
    ids=["malformed-json", "no-fields", "no-messages", "unknown-model", "no-question", "too-long"],
)
def test_bad_requests_get_error_objects_and_the_server_keeps_serving(
    url: str, client: openai.OpenAI, body: bytes | str, status: int, param: str | None
) -> None:
    got, answer = post(url, body.encode() if isinstance(body, str) else body)
    assert got == status, answer
    error = answer["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["param"] == param
    assert client.chat.completions.create(model="language-0", messages=QUESTION, max_tokens=2)


@pytest.fixture(scope="module")
def long_answers(ray_cluster: None, tiny_long_model_dir: Path) -> Iterator[tuple[Cortex, str]]:
    """A brain whose two language replicas decode 2,000-token answers, and its server."""
    data = long_answers_config(tiny_long_model_dir, max_new_tokens=4000)
    with Cortex(parse_config(data)) as brain, running_server(brain) as base:
        yield brain, base


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_client_that_goes_away_cancels_its_turn(
    long_answers: tuple[Cortex, str], stream: bool
) -> None:
    brain, base = long_answers
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    two_parts = [{"role": "user", "content": "Describe tea. Describe coffee."}]
    body = {"model": "cortex", "messages": two_parts, "stream": stream, "cortex_events": True}
    before = cancelled(brain)
    results = brain.subscribe(region_out("language-0"), region_out("language-1"))
    connection.request("POST", "/v1/chat/completions", json.dumps(body))
    if stream:
        response = connection.getresponse()  # once the plan is out
        assert response.status == 200
    deadline = time.monotonic() + 60
    while decoding(brain) != {"language-0", "language-1"} and time.monotonic() < deadline:
        if stream:
            response.readline()  # both parts decode, streaming their tokens as events
    assert decoding(brain) == {"language-0", "language-1"}
    connection.close()  # the client goes away
    gone = time.monotonic()
    stopped = []
    with results:
        while len(stopped) < 2 and (
            delivery := results.recv(timeout=max(0, gone + 20 - time.monotonic()))
        ):
            if isinstance(delivery.message, SubtaskResult):
                stopped.append(delivery.message.error)
    assert stopped == ["cancelled", "cancelled"] and not decoding(brain)
    assert time.monotonic() - gone < 5  # not the seconds the 2,000-token answers would take
    assert cancelled(brain) == before + 2  # both parts were stopped, not finished


def cancelled(brain: Cortex) -> int:
    """Subtasks the language replicas have cancelled so far."""
    return sum(r["subtasks_cancelled"] for r in brain.regions() if r["kind"] == "language")


def decoding(brain: Cortex) -> set[str]:
    """The language replicas decoding now."""
    return {r["name"] for r in brain.regions() if r["state"] == "decoding"}
