"""Where components built on torch train and score, and reproducible training on a GPU.

torch is imported inside the functions: the core does not depend on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from mlstat_core.errors import ModelError

#: cuBLAS is deterministic only with a fixed workspace, set before its first use
CUBLAS_WORKSPACE = ":4096:8"


def pick_device(choice: str) -> str:
    """The training device: ``auto`` is cuda when a GPU is present, else cpu."""
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ModelError('device = "cuda" was asked for but no CUDA GPU is available; use '
                         'device = "auto" or "cpu"')
    return choice


def scoring_device(choice: str) -> str:
    """Where a saved model scores: the GPU when there is one (unless it was trained with
    ``device = "cpu"``), else the CPU, so that a model trained on a GPU, even with
    ``device = "cuda"``, still scores on a machine without one."""
    import torch

    return "cuda" if choice != "cpu" and torch.cuda.is_available() else "cpu"


@contextmanager
def reproducible(device: str) -> Iterator[None]:
    """Deterministic kernels while training on a GPU, so that training again with the same
    seed gives the same model there too (the CPU kernels already are); the previous settings
    come back afterwards (``CUBLAS_WORKSPACE_CONFIG`` too). An operation without a
    deterministic kernel warns rather than fails. On the CPU this does nothing."""
    if device != "cuda":
        yield
        return
    import torch

    ours = "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    if ours:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2:]
        if ours:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)


@contextmanager
def training(choice: str, threads: int | None) -> Iterator[str]:
    """Around a torch model's training: ``threads`` CPU threads (None: torch's default; the
    sums of a multi-threaded kernel depend on their number, so a fixed number gives the same
    model on any machine) and :func:`reproducible` on the device ``choice`` gives, which it
    yields. The previous thread count comes back afterwards, and so does the state of torch's
    global random generators (the CPU's, and the GPU's trained on), which the model seeds
    with :func:`seed_torch`: a notebook's own draws after a run are not reseeded by it."""
    import torch

    device = pick_device(choice)
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    gpus = [torch.cuda.current_device()] if device == "cuda" else []
    try:
        with torch.random.fork_rng(devices=gpus), reproducible(device):
            yield device
    finally:
        torch.set_num_threads(previous)


def seed_torch(seed: int, device: str) -> None:
    """Seed the generators a model trained within :func:`training` draws from: the CPU's,
    and the current GPU's when it trains on one. ``torch.manual_seed`` would seed every
    GPU (and MPS) too, lazily where CUDA has not started yet, which :func:`training` cannot
    put back: a notebook's later draws there would follow the model's seed."""
    import torch

    torch.default_generator.manual_seed(seed)
    if device == "cuda":
        torch.cuda.manual_seed(seed)
