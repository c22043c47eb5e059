"""KV handoff on vLLM, through its KV-connector interface.

vLLM moves a request's KV cache in and out of its paged memory through a KV connector
(``kv_transfer_config``). Its example connector (``ExampleConnector``, called
``SharedStorageConnector`` before vLLM 0.13) writes each prefilled prompt's cache as one
safetensors file per layer in a folder named by a hash of the prompt's tokens, and loads a
prompt's cache from such a folder when the prompt comes again. So a prefill here is a
one-token request whose new folder is read back (`KvState.data` packs its files); an import
writes the folder into this engine's own storage before the request is submitted, and vLLM
loads it. That connector finds a folder only for the very prompt it was saved for: a state
of a shared start (another prompt) is not used, and vLLM prefills the prompt itself.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from bus.codec import pack_record, unpack_record
from bus.errors import BusDecodeError
from bus.handoff import KvIdentity, KvState
from modules.errors import EngineError

CONNECTORS = ("ExampleConnector", "SharedStorageConnector")
"""The example connector's names, newest first."""
LAYOUT = "vllm connector files"


def connector_name() -> str | None:
    """The example connector this vLLM registers, or None (no KV handoff)."""
    try:
        from vllm.distributed.kv_transfer.kv_connector.factory import KVConnectorFactory
    except ImportError:
        return None
    registered = getattr(KVConnectorFactory, "_registry", {})
    return next((name for name in CONNECTORS if name in registered), None)


class ConnectorStorage:
    """The folder vLLM's connector saves this engine's prefilled caches in and loads from."""

    def __init__(self, connector: str) -> None:
        self.connector = connector
        self.path = Path(tempfile.mkdtemp(prefix="cortex-vllm-kv-"))

    def transfer_config(self) -> Any:
        """vLLM's `KVTransferConfig` for this storage (both producer and consumer)."""
        from vllm.config import KVTransferConfig

        return KVTransferConfig(
            kv_connector=self.connector,
            kv_role="kv_both",
            kv_connector_extra_config={"shared_storage_path": str(self.path)},
        )

    def folders(self) -> set[str]:
        return {entry.name for entry in self.path.iterdir() if entry.is_dir()}

    def pack(self, before: set[str]) -> bytes:
        """The files of the folder the connector wrote since `before`.

        Raises:
            EngineError: It wrote none (it already held this prompt's cache) or several.
        """
        new = sorted(self.folders() - before)
        if len(new) != 1:
            raise EngineError(
                f"vLLM's {self.connector} wrote {len(new)} KV folders for one prefill "
                "(none: it held this prompt's cache already)"
            )
        folder = self.path / new[0]
        files = [[f.name, f.read_bytes()] for f in sorted(folder.iterdir()) if f.is_file()]
        return pack_record([new[0], files])

    def unpack(self, state: KvState) -> str:
        """Writes a state's folder into this storage (once); returns the folder's name.

        Raises:
            EngineError: The state is not a packed connector folder.
        """
        try:
            name, files = unpack_record(state.data)
            folder = self.path / Path(str(name)).name  # never a path outside the storage
            folder.mkdir(exist_ok=True)
            for file_name, content in files:
                target = folder / Path(str(file_name)).name
                if not target.exists():
                    target.write_bytes(bytes(content))
        except (BusDecodeError, ValueError, TypeError, OSError) as error:
            raise EngineError(f"the KV state is not a vLLM connector folder: {error}") from None
        return folder.name


def model_identity(source: str) -> KvIdentity:
    """The identity of a vLLM model: its folder's configuration and weight files' sizes
    (a hub id names itself)."""
    folder = Path(source)
    digest = hashlib.sha256(source.encode() if not folder.is_dir() else b"")
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.safetensors")):
            digest.update(path.name.encode() + str(path.stat().st_size).encode())
            if path.suffix == ".json":
                digest.update(path.read_bytes())
    weights = digest.hexdigest()[:16]
    return KvIdentity("vllm", folder.name or source, weights, weights)
