"""Shared fixtures: small real samples of the bundled UMSAB data (kept small for 2 CPUs)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

FAST_BASE = {"C": 3.0, "class_weight": "balanced", "char_ngrams": [2, 4], "max_iter": 200,
             "sentence_encoder": "none"}


@pytest.fixture(scope="session")
def umsab():
    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.params import UmsabParams

    return UmsabLoader(UmsabParams(languages=["english", "french"])).load(Path("."))


@pytest.fixture(scope="session")
def small_parts(umsab):
    """~600 training, 200 validation and 200 test tweets in English and French."""
    frame = umsab.frame
    rng = np.random.default_rng(0)

    def take(part: str, n: int):
        positions = np.flatnonzero(frame["split"].to_numpy() == part)
        return umsab.subset(np.sort(rng.choice(positions, size=n, replace=False)))

    return take("train", 600), take("val", 200), take("test", 200)


@pytest.fixture(scope="session")
def fitted(small_parts):
    from mlstat_twitter.models import SentimentModel
    from mlstat_twitter.params import SentimentParams

    train, val, _ = small_parts
    model = SentimentModel(SentimentParams(base_params=FAST_BASE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train, val)
    return model


@pytest.fixture()
def loaded(fitted, tmp_path: Path, monkeypatch):
    """mlstat-twitter-index with the session's fitted model as the run's (no run folder)."""
    from types import SimpleNamespace

    from mlstat_twitter import cli

    import mlstat_core.predict

    monkeypatch.setattr(mlstat_core.predict, "load_model", lambda run_dir: (
        SimpleNamespace(path=tmp_path / "run"), fitted, None, None))
    monkeypatch.setattr(cli, "run_stream_policy", lambda run_dir: {})
    return fitted
