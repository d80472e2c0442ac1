"""Device choice and reproducible GPU training for the components built on torch."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from mlstat_core.errors import ModelError

torch = pytest.importorskip("torch")

from mlstat_core.torch_devices import (  # noqa: E402
    CUBLAS_WORKSPACE,
    pick_device,
    reproducible,
    scoring_device,
    seed_torch,
    training,
)


@pytest.mark.parametrize("gpu", [True, False])
def test_auto_trains_on_the_gpu_when_there_is_one(gpu):
    with mock.patch.object(torch.cuda, "is_available", return_value=gpu):
        assert pick_device("auto") == ("cuda" if gpu else "cpu")
        assert pick_device("cpu") == "cpu"


def test_asking_for_a_missing_gpu_says_what_to_set():
    with mock.patch.object(torch.cuda, "is_available", return_value=False), \
            pytest.raises(ModelError, match='device = "auto" or "cpu"'):
        pick_device("cuda")


@pytest.mark.parametrize(("trained", "gpu", "expected"), [
    ("cuda", False, "cpu"), ("auto", False, "cpu"), ("cuda", True, "cuda"),
    ("auto", True, "cuda"), ("cpu", True, "cpu")])
def test_a_model_trained_for_a_gpu_scores_without_one(trained, gpu, expected):
    with mock.patch.object(torch.cuda, "is_available", return_value=gpu):
        assert scoring_device(trained) == expected


def _settings():
    return (torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)


def test_gpu_training_asks_for_deterministic_kernels_and_restores_the_settings(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = _settings()
    with reproducible("cuda"):
        assert _settings() == (True, True, True, False)
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE
    assert _settings() == before
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_a_users_own_deterministic_settings_survive(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    torch.use_deterministic_algorithms(True)
    try:
        with reproducible("cuda"):
            pass
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    finally:
        torch.use_deterministic_algorithms(False)


def test_cpu_training_changes_nothing():
    before = _settings()
    with reproducible("cpu"):
        assert _settings() == before


def test_training_pins_the_threads_and_gives_them_back():
    previous = torch.get_num_threads()
    with mock.patch.object(torch.cuda, "is_available", return_value=False), \
            training("auto", 1) as device:
        assert device == "cpu" and torch.get_num_threads() == 1
    assert torch.get_num_threads() == previous
    with training("cpu", None):  # None: torch's own number
        assert torch.get_num_threads() == previous


def test_a_model_seeding_torch_while_training_leaves_the_users_draws_alone():
    """The torch models seed torch's global generator to train: a notebook's draws after a
    run were the same fixed sequence whatever the user had seeded."""
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    seeded = []
    with mock.patch.object(torch.cuda, "manual_seed_all", side_effect=seeded.append), \
            mock.patch.object(torch.cuda, "manual_seed", side_effect=seeded.append), \
            training("cpu", None):
        seed_torch(0, "cpu")  # as coding.fasttext and imagery.cnn do
        after_seed = torch.rand(5)
    assert torch.equal(torch.rand(3), expected)
    assert seeded == []  # no GPU's generator seeded for a CPU fit (lazily, where unstarted)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(5), after_seed)  # the same draws as torch.manual_seed's
