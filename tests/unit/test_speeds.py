"""A text replica measures its device's prefill and decode rates once, through its engine,
and reads them from the cache at later starts on the same device."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.engines import create_engine
from modules.speeds import device_key, measured_speeds


@pytest.mark.slow
def test_rates_are_measured_once_per_engine_weights_and_device(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORTEX_CACHE_DIR", str(tmp_path))
    engine = create_engine("transformers", str(tiny_model_dir), context_length=256).start()
    try:
        first = measured_speeds(engine, "cpu:0")
        again = measured_speeds(engine, "cpu:0")
        elsewhere = measured_speeds(engine, "cpu:1")
    finally:
        engine.close()
    assert first.prefill_tokens_per_s > 0 and first.decode_tokens_per_s > 0
    assert first.probe.startswith("pp") and not first.cached
    assert again.cached and again.prefill_tokens_per_s == first.prefill_tokens_per_s
    assert not elsewhere.cached  # another device is measured on its own
    assert "1 threads" in device_key(engine, "cpu:0")
    assert (tmp_path / "speeds.json").is_file()
