"""The vLLM adapter's KV handoff without a GPU: a stand-in vLLM whose example connector saves
a prefilled prompt's cache as a folder of files named by the prompt's tokens, and loads a
prompt's cache from such a folder when one is there, as vLLM's ExampleConnector does."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from modules.engines import Assist, SamplingSettings, create_engine
from modules.errors import HandoffError
from tests.unit.test_vllm_engine import FakeCompletion, FakeOutput


@dataclass
class ConnectorLLM:
    """Stands in for AsyncLLM with an example KV connector on `storage`."""

    storage: Path
    loaded: list[str] = field(default_factory=list)
    model_config: types.SimpleNamespace = field(
        default_factory=lambda: types.SimpleNamespace(max_model_len=256)
    )

    async def generate(self, prompt: dict, params: dict, request_id: str) -> AsyncIterator:
        ids = prompt["prompt_token_ids"]
        folder = self.storage / hashlib.sha256(repr(ids).encode()).hexdigest()[:16]
        if folder.is_dir():
            self.loaded.append(folder.name)
        else:  # the connector saves the prefilled cache, one file per layer
            folder.mkdir()
            for layer in range(2):
                (folder / f"layer.{layer}.safetensors").write_bytes(repr((layer, ids)).encode())
        await asyncio.sleep(0)
        yield FakeOutput([FakeCompletion([7], "Tea", "length")])

    async def abort(self, request_id: str) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture()
def connector_vllm(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ConnectorLLM]]:
    made: list[ConnectorLLM] = []

    def from_engine_args(args: dict) -> ConnectorLLM:
        config = args["kv_transfer_config"]
        assert config["kv_connector"] == "ExampleConnector" and config["kv_role"] == "kv_both"
        made.append(ConnectorLLM(Path(config["kv_connector_extra_config"]["shared_storage_path"])))
        return made[-1]

    modules = {
        "vllm": {"AsyncEngineArgs": lambda **o: o, "SamplingParams": lambda **o: o},
        "vllm.config": {"KVTransferConfig": lambda **o: o},
        "vllm.sampling_params": {"StructuredOutputsParams": lambda **o: o},
        "vllm.v1.engine.async_llm": {
            "AsyncLLM": types.SimpleNamespace(from_engine_args=from_engine_args)
        },
        "vllm.distributed.kv_transfer.kv_connector.factory": {
            "KVConnectorFactory": types.SimpleNamespace(_registry={"ExampleConnector": None})
        },
    }
    for name in ("vllm.v1", "vllm.v1.engine", "vllm.distributed", "vllm.distributed.kv_transfer",
                 "vllm.distributed.kv_transfer.kv_connector"):  # fmt: skip
        modules[name] = {}
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        for attribute, value in attributes.items():
            setattr(module, attribute, value)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    yield made


def test_a_prefill_travels_as_the_connectors_folder_and_is_loaded_by_the_other_replica(
    connector_vllm: list[ConnectorLLM], tiny_model_dir: Path
) -> None:
    prefill, decode = (
        create_engine("vllm", str(tiny_model_dir), device="cuda").start() for _ in range(2)
    )
    prompt = prefill.render([{"role": "user", "content": "What is tea?"}])
    state = prefill.prefill(prompt)
    stream = decode.submit_ids(prompt, SamplingSettings(max_new_tokens=4), Assist(kv=state))
    assert "".join(p.text for p in stream) == "Tea"
    source, target = connector_vllm
    folder = next(p for p in source.storage.iterdir() if p.is_dir())
    assert target.loaded == [folder.name]  # vLLM's connector found the folder and loaded it
    copied = target.storage / folder.name
    for original in folder.iterdir():
        assert (copied / original.name).read_bytes() == original.read_bytes()
    assert state.tokens == tuple(prompt) and stream.imported_tokens == len(prompt) - 1
    prefill.close()
    decode.close()


def test_a_state_for_another_prompt_is_prefilled_and_another_models_is_refused(
    connector_vllm: list[ConnectorLLM], tiny_model_dir: Path, tmp_path: Path
) -> None:
    prefill, decode = (
        create_engine("vllm", str(tiny_model_dir), device="cuda").start() for _ in range(2)
    )
    state = prefill.prefill(prefill.render([{"role": "user", "content": "What is tea?"}]))
    other = decode.render([{"role": "user", "content": "What is coffee?"}])
    stream = decode.submit_ids(other, SamplingSettings(max_new_tokens=4), Assist(kv=state))
    list(stream)
    assert "only for its own prompt" in stream.kv_note and not connector_vllm[1].loaded
    stranger = replace(state, identity=replace(state.identity, lineage="another model"))
    with pytest.raises(HandoffError, match="another model"):
        decode.submit_ids(other, SamplingSettings(max_new_tokens=4), Assist(kv=stranger))
    prefill.close()
    decode.close()
