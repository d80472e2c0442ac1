"""Shared fixtures: a stratified sample of the bundled ECOICOP data, split 70/15/15."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SAMPLE = 2400
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="session")
def ecoicop():
    from mlstat_coding.loaders import EcoicopLoader
    from mlstat_coding.params import EcoicopParams

    return EcoicopLoader(EcoicopParams(sample=SAMPLE, seed=0)).load(Path("."))


@pytest.fixture(scope="session")
def parts(ecoicop):
    from mlstat_core.builtins.params import HoldoutParams
    from mlstat_core.builtins.splitters import StratifiedSplitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        split = StratifiedSplitter(HoldoutParams(test_size=0.15, validation_size=0.15)).split(
            ecoicop, 0)[0]
    return (ecoicop.subset(split.train), ecoicop.subset(split.validation),
            ecoicop.subset(split.test))


def build(name: str, **params):
    """A coding model by component name, built the way the engine builds it."""
    from mlstat_coding import params as P

    if name == "tfidf_logreg":
        from mlstat_coding.models import TfidfLogregModel

        return TfidfLogregModel(P.TfidfLogregParams(**params), task="text_classification")
    if name == "linear_svm":
        from mlstat_coding.models import LinearSvmModel

        return LinearSvmModel(P.LinearSvmParams(**params), task="text_classification")
    pytest.importorskip("torch")
    from mlstat_coding.fasttext import FastTextModel

    return FastTextModel(P.FastTextParams(**params), task="text_classification")


MODELS = ["tfidf_logreg", "linear_svm", "fasttext"]
FAST_PARAMS = {"tfidf_logreg": {"max_iter": 200}, "linear_svm": {},
               "fasttext": {"buckets": 1 << 16, "epochs": 15}}


@pytest.fixture(scope="session", params=MODELS)
def fitted(request, parts):
    train, validation, _ = parts
    model = build(request.param, **FAST_PARAMS[request.param])
    model.fit(train, validation)
    return request.param, model


@pytest.fixture(scope="session")
def occupations(tmp_path_factory):
    """A folder holding the occupations example (``pipeline.toml``) and its data, and the
    result of its run."""
    engine = pytest.importorskip("mlstat_core.engine")
    if not (EXAMPLES / "coding-occupations.toml").is_file():
        pytest.skip("the repository's examples are not here")
    folder = tmp_path_factory.mktemp("occupations")
    shutil.copytree(EXAMPLES / "data", folder / "data")
    shutil.copy(EXAMPLES / "coding-occupations.toml", folder / "pipeline.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return folder, engine.run(folder / "pipeline.toml", out=folder / "runs")
