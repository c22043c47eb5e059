"""`cortex serve` honours every request field or refuses it, with the official openai client:
sampling, n, max_tokens, stop, log-probabilities, structured output, tools, system messages and the
conversation, pictures and recordings in, speech out, models by id, CORS. Language replicas
run a tiny random model (its text means nothing; each test checks what a field does to it)."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from cortex.config import parse_config
from cortex.runtime.cortex import Cortex
from cortex.serve.server import running_server
from modules.models import save_tiny_llama
from tests.conftest import tiny_config

pytestmark = [pytest.mark.ray, pytest.mark.model]  # Whisper and EfficientNet load too

KEY = "fields-key"
DATA = Path(__file__).parent.parent / "data"
ASK = [{"role": "user", "content": "Tell me about rivers."}]
MODELS = ["cortex", "language-0"]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 8}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": SCHEMA,
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


@pytest.fixture(scope="module")
def url(ray_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = save_tiny_llama(tmp_path_factory.mktemp("varied"), 512, initializer_range=0.3)
    language = {
        "model": str(model),
        "replicas": 2,
        "context_length": 512,
        "generation": {"max_new_tokens": 12, "end_at_sentence": False},
    }
    data = tiny_config(
        model,
        planning={"kind": "planning", "class": "tests.tui.scripted:ScriptedPlanner"},
        language=language,
        speech={"kind": "speech"},
        vision={"kind": "vision"},
    )
    data["runtime"]["device"] = "cpu"
    with (
        Cortex(parse_config(data)) as brain,
        running_server(brain, api_key=KEY, cors_origins=("https://chat.example.org",)) as base,
    ):
        yield base


@pytest.fixture
def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=300)


def ask(client: openai.OpenAI, stream: bool, **fields: Any) -> tuple[list[str], list[str], Any]:
    """Each choice's text and finish reason, and the usage, streamed or whole."""
    fields = {"model": "language-0", "messages": ASK} | fields
    if not stream:
        answer = client.chat.completions.create(**fields)
        texts = [c.message.content or "" for c in answer.choices]
        return texts, [c.finish_reason for c in answer.choices], answer.usage
    texts, finishes, usage = {}, {}, None
    for chunk in client.chat.completions.create(stream=True, **fields):
        usage = chunk.usage or usage
        for c in chunk.choices:
            texts[c.index] = texts.get(c.index, "") + (c.delta.content or "")
            if c.finish_reason:
                finishes[c.index] = c.finish_reason
    return [texts[i] for i in sorted(texts)], [finishes[i] for i in sorted(finishes)], usage


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("model", MODELS)
def test_seed_and_temperature_are_honoured(client: openai.OpenAI, model: str, stream: bool) -> None:
    sampled = {"model": model, "temperature": 1.0, "top_p": 0.9}
    first, _, _ = ask(client, stream, seed=7, **sampled)
    again, _, _ = ask(client, stream, seed=7, **sampled)
    other, _, _ = ask(client, stream, seed=8, **sampled)
    greedy, _, _ = ask(client, stream, model=model, temperature=0)
    assert first == again and first != other and first != greedy


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("model", MODELS)
def test_max_tokens_counts_every_token_and_says_length(
    client: openai.OpenAI, model: str, stream: bool
) -> None:
    messages = [{"role": "user", "content": "What is the capital of Spain?"}]  # has an opening
    _, finishes, usage = ask(client, stream, model=model, messages=messages, max_tokens=2)
    assert finishes == ["length"] and usage.completion_tokens == 2
    _, finishes, usage = ask(client, stream, model=model, max_completion_tokens=5)
    assert finishes == ["length"] and usage.completion_tokens == 5


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("model", MODELS)
def test_stop_strings_end_the_answer_before_them(
    client: openai.OpenAI, model: str, stream: bool
) -> None:
    (full,), _, _ = ask(client, stream, model=model)
    stop = full.strip()[3:6]
    (cut,), finishes, _ = ask(client, stream, model=model, stop=[stop, "\u2603"])
    assert stop not in cut and full.startswith(cut) and finishes == ["stop"]
    (single,), _, _ = ask(client, stream, model=model, stop=stop)
    assert single == cut


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_logprobs_come_with_every_token_of_a_region_model(
    client: openai.OpenAI, stream: bool
) -> None:
    fields = {"model": "language-0", "messages": ASK, "temperature": 0, "max_tokens": 8}
    if stream:
        chunks = list(
            client.chat.completions.create(
                stream=True, stream_options={"include_usage": True}, logprobs=True,
                top_logprobs=3, **fields,
            )
        )  # fmt: skip
        choices = [c.choices[0] for c in chunks if c.choices]
        entries = [e for c in choices if c.logprobs for e in c.logprobs.content]
        text, tokens = "".join(c.delta.content or "" for c in choices), chunks[-1].usage
    else:
        answer = client.chat.completions.create(logprobs=True, top_logprobs=3, **fields)
        entries, text = answer.choices[0].logprobs.content, answer.choices[0].message.content
        tokens = answer.usage
    assert len(entries) == tokens.completion_tokens == 8
    position = 0
    for entry in entries:  # in order; a token that ends inside a character reads "\ufffd"
        if "\ufffd" not in entry.token:
            position = text.index(entry.token, position) + len(entry.token)
    for entry in entries:
        values = [alternative.logprob for alternative in entry.top_logprobs]
        assert len(values) == 3 and values == sorted(values, reverse=True)
        assert entry.logprob <= values[0] <= 0.0 and entry.bytes == list(entry.token.encode())
    bare = client.chat.completions.create(logprobs=True, **fields).choices[0].logprobs.content
    assert [e.token for e in bare] == [e.token for e in entries] and bare[0].top_logprobs == []
    plain = client.chat.completions.create(**fields).choices[0]
    assert plain.logprobs is None and plain.message.content == text


def test_logprobs_are_refused_where_they_would_not_be_the_models(client: openai.OpenAI) -> None:
    for fields in (
        {"model": "cortex", "logprobs": True},
        {"model": "language-0", "logprobs": True, "tools": [WEATHER]},
        {"model": "language-0", "top_logprobs": 2},
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(messages=ASK, **fields)
        assert "logprobs" in refused.value.body["param"]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("model", MODELS)
def test_response_format_gives_json_that_parses(
    client: openai.OpenAI, model: str, stream: bool
) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "trip", "schema": SCHEMA}}
    (text,), _, _ = ask(client, stream, model=model, max_tokens=60, response_format=schema)
    trip = json.loads(text)
    assert set(trip) == {"city", "days"} and isinstance(trip["days"], int)
    (text,), _, _ = ask(client, stream, model=model, response_format={"type": "json_object"})
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_n_choices_each_with_its_own_seed(client: openai.OpenAI, stream: bool) -> None:
    texts, finishes, _ = ask(client, stream, model="cortex", n=3, temperature=1.0, seed=3)
    assert len(texts) == 3 and len(set(texts)) == 3 and len(finishes) == 3
    again, _, _ = ask(client, stream, model="cortex", n=3, temperature=1.0, seed=3)
    assert again == texts


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_tools_give_calls_whose_arguments_follow_the_schema(
    client: openai.OpenAI, model: str, choice: Any
) -> None:
    answer = client.chat.completions.create(
        model=model, messages=ASK, tools=[WEATHER, TIME], tool_choice=choice, max_tokens=80
    )
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls" and call.id.startswith("call_")
    if isinstance(choice, dict):
        assert call.function.name == "get_weather"
    if call.function.name == "get_weather":
        assert set(json.loads(call.function.arguments)) == {"city", "days"}
    stream = client.chat.completions.create(
        model=model, messages=ASK, tools=[WEATHER], tool_choice=choice, stream=True, max_tokens=80
    )
    deltas = [d for c in stream for d in (c.choices[0].delta.tool_calls or []) if c.choices]
    assert deltas and deltas[0].function.name == "get_weather"


@pytest.mark.parametrize("model", MODELS)
def test_a_conversation_that_ends_in_a_tool_result_continues(
    client: openai.OpenAI, model: str
) -> None:
    arguments = '{"city": "Oslo", "days": 1}'
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    messages = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C."},
    ]
    answer = client.chat.completions.create(
        model=model, messages=messages, tools=[WEATHER], tool_choice="none"
    )
    assert answer.choices[0].message.content and not answer.choices[0].message.tool_calls


def test_system_message_and_history_reach_a_region_model(client: openai.OpenAI) -> None:
    bare = client.chat.completions.create(model="language-0", messages=ASK, max_tokens=1)
    system = [{"role": "system", "content": "Answer as a pirate would, in one line. " * 4}]
    told = client.chat.completions.create(model="language-0", messages=system + ASK, max_tokens=1)
    history = [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello!"}]
    longer = client.chat.completions.create(
        model="language-0", messages=history + ASK, max_tokens=1
    )
    assert told.usage.prompt_tokens > bare.usage.prompt_tokens + 8
    assert longer.usage.prompt_tokens > bare.usage.prompt_tokens + 4
    huge = [{"role": "user", "content": "tea " * 150}, {"role": "assistant", "content": "ok"}] * 3
    cut = client.chat.completions.create(model="language-0", messages=huge + ASK, max_tokens=1)
    assert "oldest exchanges were left out" in cut.model_extra["cortex_notes"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("logprobs", True),
        ("logit_bias", {"42": 5}),
        ("functions", [{"name": "f"}]),
        ("no_such_field", 1),
        ("n", 99),
        ("seed", -1),
        ("stream_options", {"include_usage": True}),
    ],
)
def test_fields_cortex_does_not_honour_are_refused_by_name(
    client: openai.OpenAI, field: str, value: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="cortex", messages=ASK, extra_body={field: value})
    assert refused.value.body["param"].startswith(field)


def test_models_by_id_and_stream_usage(client: openai.OpenAI) -> None:
    assert client.models.retrieve("language-1").id == "language-1"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")
    chunks = list(
        client.chat.completions.create(
            model="language-0", messages=ASK, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_cors_preflight_needs_no_key(url: str) -> None:
    preflight = urllib.request.Request(
        f"{url}/v1/chat/completions",
        method="OPTIONS",
        headers={"Origin": "https://chat.example.org", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(preflight, timeout=30) as response:
        allowed = response.headers["Access-Control-Allow-Origin"]
    assert response.status == 200 and allowed == "https://chat.example.org"


def test_a_picture_and_a_recording_go_to_their_regions(client: openai.OpenAI) -> None:
    picture = base64.b64encode((DATA / "coffee.jpg").read_bytes()).decode()
    parts = [
        {"type": "text", "text": "What is in the picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{picture}"}},
    ]
    answer = client.chat.completions.create(
        model="cortex", messages=[{"role": "user", "content": parts}],
        extra_body={"cortex_events": True},
    )  # fmt: skip
    regions = {s["region"] for s in answer.model_extra["cortex"]["streams"]}
    assert "vision" in regions
    sound = base64.b64encode((DATA / "question.wav").read_bytes()).decode()
    heard = [{"type": "input_audio", "input_audio": {"data": sound, "format": "wav"}}]
    answer = client.chat.completions.create(
        model="cortex", messages=[{"role": "user", "content": heard}],
        extra_body={"cortex_events": True},
    )  # fmt: skip
    assert "speech" in {s["region"] for s in answer.model_extra["cortex"]["streams"]}
    fetched = [{"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg"}}]
    with pytest.raises(openai.BadRequestError, match="--allow-fetch"):
        client.chat.completions.create(
            model="cortex", messages=[{"role": "user", "content": fetched}]
        )


def test_the_audio_endpoints_hear_and_speak(client: openai.OpenAI) -> None:
    with (DATA / "question.wav").open("rb") as recording:
        heard = client.audio.transcriptions.create(model="whisper-1", file=recording)
    assert len(heard.text.split()) >= 3
    spoken = client.audio.speech.create(model="tts-1", voice="default", input="Hello there.")
    assert spoken.content[:4] == b"RIFF"
    with pytest.raises(openai.BadRequestError) as refused:
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hello.")
    assert refused.value.body["param"] == "voice"
