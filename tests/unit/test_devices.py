"""A region's device label names the device itself: the GPU by its number on the machine, or
the CPU cores the process runs on; never a thread count."""

from __future__ import annotations

import os

import pytest

from modules.region import Placement, core_list


@pytest.mark.parametrize(
    ("cores", "text"),
    [({0}, "0"), ({0, 1}, "0-1"), ({0, 2, 3}, "0,2-3"), ({5, 6, 7, 1}, "1,5-7"), ({3, 1}, "1,3")],
)
def test_core_lists_read_as_linux_writes_them(cores: set[int], text: str) -> None:
    assert core_list(cores) == text


def test_a_cpu_slot_names_the_cores_it_runs_on() -> None:
    everywhere = f"cpu:{core_list(os.sched_getaffinity(0))}"
    assert Placement(threads=1).label() == everywhere
    assert Placement(threads=4).label() == everywhere  # the threads are not the device
    assert Placement(threads=1, cores=(1,)).label() == "cpu:1"
    assert Placement(threads=1, cores=(0, 1)).label() == "cpu:0-1"


def test_a_granted_gpu_is_named_by_its_number_on_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert Placement(gpu=True).label() == "cuda:2"
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert Placement(gpu=True, cores=(0,)).label() == "cpu:0 (cuda:2 granted, CUDA unavailable)"
