"""A fastText-style classifier in torch: hashed n-grams -> mean embedding -> linear layer.

Word n-grams and character n-grams (of each word, with boundaries) are hashed into one table of
``buckets`` rows (64-bit hashes computed with numpy, :mod:`mlstat_coding.ngrams`, so ids are
stable across processes; ``hashing = "sklearn"``: scikit-learn's ``HashingVectorizer``); a
record is the weighted mean of its n-gram vectors (``EmbeddingBag``), optionally joined with
one small embedding per auxiliary categorical column, then a linear layer gives a score per
code. Trained with sparse SGD in seconds on a CPU; weights are saved with
safetensors, the rest as JSON. torch is imported only here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_coding.base import TEXT, CodingMixin
from mlstat_coding.params import FastTextParams
from mlstat_core.artifacts import load_tensors, save_tensors
from mlstat_core.components import Dataset, Model
from mlstat_core.errors import ModelError
from mlstat_core.torch_devices import seed_torch, training

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised only without the extra
    torch = None  # type: ignore[assignment]
    nn = None  # type: ignore[assignment]

WEIGHTS_FILE = "weights.safetensors"
INSTALL_HINT = "coding.fasttext needs torch: `pip install 'mlstat-coding[torch]'`"


def _require_torch() -> None:
    if torch is None:
        raise ModelError(INSTALL_HINT)


class Hasher:
    """Text -> sparse matrix of hashed word and char n-gram weights (one bucket space).

    Character n-grams are those of each word padded with spaces (``char_wb``), so a text's
    n-grams are the sum of its words' n-grams: they are hashed once per distinct word of a
    batch and summed with one sparse product, several times faster than hashing every text.
    """

    def __init__(self, params: FastTextParams) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.params = params

        common = dict(n_features=params.buckets, alternate_sign=False, norm=None,
                      dtype=np.float32, lowercase=False)
        self.words = HashingVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b",
                                       ngram_range=(1, params.word_ngrams), **common)
        lo, hi = params.char_ngrams
        self.chars = HashingVectorizer(analyzer="char_wb", ngram_range=(lo, hi), **common) \
            if hi > 0 else None

    @staticmethod
    def _through(texts: list[str], rows: list[int], cols: list[int],
                 vocabulary: dict[str, int], vectorizer: Any) -> Any:
        from scipy import sparse

        occurrences = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(texts), len(vocabulary)))
        if not vocabulary:
            return sparse.csr_matrix((len(texts), vectorizer.n_features), dtype=np.float32)
        return occurrences @ vectorizer.transform(list(vocabulary))

    def char_counts(self, texts: list[str]) -> Any:
        """char_wb n-gram counts of each text, through its distinct words."""
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, text in enumerate(texts):
            for word in text.split():
                rows.append(i)
                cols.append(vocabulary.setdefault(word, len(vocabulary)))
        return self._through(texts, rows, cols, vocabulary, self.chars)

    def numpy_parts(self, texts: list[str]) -> list[Any]:
        """Word and char n-gram counts per bucket (two matrices, to be added), hashed with
        numpy (:mod:`.ngrams`). Each record's row holds its entries in an order fixed by its
        own text, so sums over a row do not depend on the rest of the batch."""
        from scipy import sparse

        from mlstat_coding.ngrams import char_ngram_hashes, tokenise, word_ngram_hashes

        p = self.params
        buckets = np.uint64(p.buckets)

        def counts(rows: np.ndarray, hashes: np.ndarray, n_rows: int) -> Any:
            cols = (hashes % buckets).astype(np.int64)
            order = np.argsort(rows, kind="stable")
            indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
            return sparse.csr_matrix((np.ones(len(rows), np.float32), cols[order], indptr),
                                     shape=(n_rows, p.buckets))

        tokens = tokenise(texts)
        parts = [counts(*word_ngram_hashes(texts, p.word_ngrams, tokens=tokens), len(texts))]
        lo, hi = p.char_ngrams
        if hi > 0:
            words, ids, lengths = tokens
            occurrences = sparse.csr_matrix(
                (np.ones(len(ids), np.float32), ids, np.r_[0, np.cumsum(lengths)]),
                shape=(len(texts), len(words)))
            rows, hashes = char_ngram_hashes(words, lo, hi)
            parts.append(occurrences @ counts(rows, hashes ^ np.uint64(0x5851F42D4C957F2D),
                                              len(words)))
        return parts

    def mean_embedding(self, texts: list[str], table: np.ndarray) -> np.ndarray:
        """Each record's mean n-gram vector (rows of ``table``), float64: the sum over the word
        and char parts, divided by the record's number of n-grams."""
        if self.params.hashing != "numpy":
            return np.asarray(self.transform(texts) @ table, dtype=np.float64)
        parts = self.numpy_parts(texts)
        total = np.zeros(len(texts))
        hidden = np.zeros((len(texts), table.shape[1]))
        for part in parts:
            total += np.asarray(part.sum(axis=1), dtype=np.float64).ravel()
            hidden += part @ table
        return hidden / np.where(total > 0, total, 1)[:, None]

    def transform(self, texts: list[str]) -> Any:
        if self.params.hashing == "numpy":
            parts = self.numpy_parts(texts)
            matrix = parts[0] + parts[1] if len(parts) > 1 else parts[0]
        else:
            matrix = self.words.transform(texts)
            if self.chars is not None:
                matrix = matrix + self.char_counts(texts)
        matrix = matrix.tocsr()
        matrix.sum_duplicates()
        # weights: mean over the record's n-grams
        counts = np.diff(matrix.indptr)
        totals = np.add.reduceat(matrix.data, matrix.indptr[:-1]) if len(matrix.data) else \
            np.zeros(0)
        totals = np.where(counts > 0, totals if len(totals) else 0, 1)
        matrix.data = matrix.data / np.repeat(totals, counts).astype(np.float32)
        return matrix


if nn is not None:

    class FastTextNet(nn.Module):
        """EmbeddingBag mean of hashed n-grams (+ auxiliary embeddings) -> linear."""

        def __init__(self, buckets: int, dim: int, n_classes: int,
                     aux_sizes: list[int], aux_dim: int) -> None:
            super().__init__()
            self.bag = nn.EmbeddingBag(buckets, dim, mode="sum", sparse=True)
            nn.init.uniform_(self.bag.weight, -1.0 / dim, 1.0 / dim)
            self.aux = nn.ModuleList(nn.Embedding(n + 1, aux_dim) for n in aux_sizes)
            for emb in self.aux:
                nn.init.uniform_(emb.weight, -1.0 / aux_dim, 1.0 / aux_dim)
            self.out = nn.Linear(dim + aux_dim * len(aux_sizes), n_classes)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, indices: Any, offsets: Any, weights: Any, aux: Any = None) -> Any:
            h = self.bag(indices, offsets, per_sample_weights=weights)
            if len(self.aux):
                h = torch.cat([h, *[emb(aux[:, i]) for i, emb in enumerate(self.aux)]], dim=1)
            return self.out(h)


class FastTextModel(CodingMixin, Model):
    """fastText-style coding model (torch), with the shared auto-coding threshold."""

    params: FastTextParams

    def __init__(self, params: FastTextParams | None = None, task: str = "") -> None:
        _require_torch()
        super().__init__(params if params is not None else FastTextParams(), task)
        self.extra_state: dict[str, Any] = {}
        self.aux_vocab: dict[str, dict[str, int]] = {}
        self.net: Any = None
        self.device = "cpu"
        self.train_seconds: float | None = None

    # -- inputs -----------------------------------------------------------------------------

    @property
    def hasher(self) -> Hasher:
        cached = getattr(self, "_hasher", None)
        if cached is None:
            cached = self._hasher = Hasher(self.params)
        return cached

    def _aux_ids(self, prepared: pd.DataFrame) -> np.ndarray:
        columns = self.roles.auxiliary
        ids = np.zeros((len(prepared), len(columns)), dtype=np.int64)
        for j, column in enumerate(columns):
            vocab = self.aux_vocab[column]
            ids[:, j] = prepared[column].map(vocab).fillna(0).to_numpy(dtype=np.int64)
        return ids

    def _batch(self, matrix: Any, aux: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        part = matrix[rows]
        device = self.device
        indices = torch.from_numpy(part.indices.astype(np.int64)).to(device)
        offsets = torch.from_numpy(part.indptr[:-1].astype(np.int64)).to(device)
        weights = torch.from_numpy(part.data.astype(np.float32)).to(device)
        aux_t = torch.from_numpy(aux[rows]).to(device) if aux.shape[1] else None
        return indices, offsets, weights, aux_t

    # -- fitting ----------------------------------------------------------------------------

    def fit(self, train: Dataset, validation: Dataset | None = None) -> FastTextModel:
        self.fit_coding(train, validation)
        self.extra_state["device"] = self.device  # where it trained; it scores on the CPU
        return self

    def _fit_estimator(self, train: Dataset, prepared: pd.DataFrame) -> None:
        # one thread by default: small steps, where threads cost more than they give
        with training(self.params.device, self.params.threads) as device:
            self.device = device
            self._train(train, prepared)

    def _train(self, train: Dataset, prepared: pd.DataFrame) -> None:
        p = self.params
        seed_torch(self.seed, self.device)
        rng = np.random.default_rng(self.seed)
        y_text = train.y.astype(str).to_numpy()
        self.classes_ = sorted(set(y_text))
        position = {c: i for i, c in enumerate(self.classes_)}
        y = torch.from_numpy(np.array([position[v] for v in y_text], dtype=np.int64))
        self.aux_vocab = {c: {v: i + 1 for i, v in enumerate(sorted(set(prepared[c])))}
                          for c in self.roles.auxiliary}
        matrix = self.hasher.transform(prepared[TEXT].tolist())
        aux = self._aux_ids(prepared)
        weights = train.sample_weight
        sample_w = None if weights is None else torch.tensor(
            weights.to_numpy(dtype=np.float32) / max(float(weights.mean()), 1e-12))
        self.net = FastTextNet(p.buckets, p.dim, len(self.classes_),
                               [len(v) for v in self.aux_vocab.values()], p.aux_dim)
        self.net.to(self.device)
        # plain SGD with a linearly decaying rate, as fastText does: a sparse update touches
        # only the rows of the batch's n-grams. The n-gram vectors take a larger rate: each
        # receives 1/n of the record's gradient (n ~ 100 n-grams per record).
        dense = [q for name, q in self.net.named_parameters() if not name.startswith("bag.")]
        optimisers = [torch.optim.SGD([{"params": [self.net.bag.weight],
                                        "lr": p.lr * p.ngram_lr_scale},
                                       {"params": dense, "lr": p.lr}], lr=p.lr)]
        steps = p.epochs * int(np.ceil(len(y) / p.batch_size))
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: max(0.0, 1 - s / steps))
                      for o in optimisers]
        loss_fn = nn.CrossEntropyLoss(reduction="none")
        y_dev = y.to(self.device)
        sw_dev = sample_w.to(self.device) if sample_w is not None else None
        start = time.perf_counter()
        self.net.train()
        for _ in range(p.epochs):
            order = rng.permutation(len(y))
            for begin in range(0, len(order), p.batch_size):
                rows = order[begin:begin + p.batch_size]
                logits = self.net(*self._batch(matrix, aux, rows))
                losses = loss_fn(logits, y_dev[rows])
                # summed, not averaged: each record takes a full step, as in fastText's SGD
                loss = (losses * sw_dev[rows]).sum() if sw_dev is not None else losses.sum()
                for o in optimisers:
                    o.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(dense, p.batch_size)
                for o in optimisers:
                    o.step()
                for s in schedulers:
                    s.step()
        self.net.eval()
        self._weights = None
        self.train_seconds = time.perf_counter() - start

    def _logits(self, prepared: pd.DataFrame) -> np.ndarray:
        """Scores per code, computed with numpy on the CPU: each record's row is summed on its
        own (sparse row times dense table), so a record scores the same in any batch, which
        partition-wise (Spark) scoring needs; torch's batched kernels do not promise that."""
        weights = self._numpy_weights()
        hidden = [self.hasher.mean_embedding(prepared[TEXT].tolist(), weights["bag.weight"])]
        aux = self._aux_ids(prepared)
        for j in range(aux.shape[1]):
            hidden.append(weights[f"aux.{j}.weight"][aux[:, j]].astype(np.float64))
        h = np.concatenate(hidden, axis=1) if len(hidden) > 1 else hidden[0]
        return h @ weights["out.weight"].astype(np.float64).T + \
            weights["out.bias"].astype(np.float64)

    def _numpy_weights(self) -> dict[str, np.ndarray]:
        cached = getattr(self, "_weights", None)
        if cached is None:
            cached = self._weights = {k: v.detach().float().cpu().numpy()
                                      for k, v in self.net.state_dict().items()}
        return cached

    # -- persistence ------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        if self.net is None:
            raise ModelError("FastTextModel is not fitted; call fit first")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_tensors(self.net.state_dict(), directory / WEIGHTS_FILE)
        self.write_state(directory, aux_vocab=self.aux_vocab, extra=self.extra_state)

    @classmethod
    def load(cls, directory: Path) -> FastTextModel:
        _require_torch()
        directory = Path(directory)
        # models saved before the numpy hashing hashed with scikit-learn's HashingVectorizer
        model, state = cls.read_state(directory, FastTextParams, {"hashing": "sklearn"})
        model.aux_vocab = state.get("aux_vocab") or {}
        model.extra_state = state.get("extra") or {}
        p = model.params
        # scores are computed with numpy on the CPU, so a model trained on a GPU (even with
        # device = "cuda") loads on a scoring machine without one
        model.device = "cpu"
        model.net = FastTextNet(p.buckets, p.dim, len(model.classes_ or []),
                                [len(v) for v in model.aux_vocab.values()], p.aux_dim)
        tensors = load_tensors(directory / WEIGHTS_FILE, device="cpu")
        try:
            model.net.load_state_dict(tensors)
        except RuntimeError as exc:
            raise ModelError(f"{directory / WEIGHTS_FILE} does not fit the saved params: "
                             f"{str(exc).splitlines()[0]}") from None
        model.net.to(model.device).eval()
        return model
