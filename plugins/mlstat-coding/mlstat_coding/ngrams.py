"""Word and character n-grams hashed with numpy, and a TF-IDF transformer on them.

scikit-learn's vectorizers build every n-gram as a Python string and look it up in a dict,
which dominates the prediction time of the coding models. Here a batch's distinct words are
joined into one array of code points, and every n-gram's 64-bit hash is computed at once with
a polynomial rolling hash (wrapping uint64 arithmetic, then a splitmix64 finaliser): the
same n-gram always gets the same hash, in any batch, process or machine.

- Character n-grams are those of each word padded with one space on each side (scikit-learn's
  ``char_wb``), orders ``lo``..``hi``; they are hashed once per distinct word of the batch and
  summed per text through a sparse product.
- Word n-grams are runs of 1..``hi`` whitespace-separated tokens (the text is already
  normalised: lower case, punctuation removed).

:class:`NgramTfidf` keeps the hashes seen in training (a sorted vocabulary; unseen n-grams are
ignored) and their inverse document frequencies, and gives the same matrix as a
``TfidfVectorizer(sublinear_tf=True)`` would (up to n-grams of words shorter than the order).
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

_P = np.uint64(0x100000001B3)  # odd multiplier of the rolling hash (FNV-1a's 64-bit prime)
_SEP = 0  # code point between joined words: never inside a text
# whitespace other than single spaces between tokens, in texts joined by NUL
_IRREGULAR_SPACE = re.compile(r"[^\S ]|  |^ | $|\0 | \0")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits of a polynomial hash (uint64, wrapping)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _codepoints(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Words joined by a separator as uint64 code points, and each word's start position."""
    joined = "\0".join(words) + "\0"
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.uint64)
    lengths = np.fromiter((len(w) + 1 for w in words), dtype=np.int64, count=len(words))
    starts = np.r_[0, np.cumsum(lengths)[:-1]] if len(words) else np.zeros(0, np.int64)
    return points, starts


def char_ngram_hashes(words: list[str], lo: int, hi: int, names: list[str] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the ``lo``..``hi`` char n-grams of each word padded with spaces.

    Returns (word index, hash) of every n-gram occurrence; with ``names``, the n-grams
    themselves are appended to it in the same order.
    """
    if not words:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    padded = [f" {w} " for w in words]
    joined = "\0".join(padded) + "\0" if names is not None else ""
    with np.errstate(over="ignore"):
        points, starts = _codepoints(padded)
        owner = np.repeat(np.arange(len(words)), np.diff(np.r_[starts, len(points)]))
        rows: list[np.ndarray] = []
        hashes: list[np.ndarray] = []
        size = len(points)
        for n in range(lo, hi + 1):
            if size < n:
                break
            count = size - n + 1
            h = np.full(count, np.uint64(n))
            valid = np.ones(count, bool)
            for k in range(n):
                part = points[k:k + count]
                h = h * _P + part
                valid &= part != _SEP
            rows.append(owner[:count][valid])
            hashes.append(_mix(h[valid]))
            if names is not None:
                names.extend([joined[i:i + n] for i in np.flatnonzero(valid).tolist()])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return np.concatenate(rows), np.concatenate(hashes)


def token_hashes(tokens: list[str]) -> np.ndarray:
    """One hash per token (its whole string)."""
    if not tokens:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        points, starts = _codepoints(tokens)
        lengths = np.diff(np.r_[starts, len(points)])  # with the separator
        # each code point weighted by P ** (distance to its token's separator)
        ends = np.repeat(starts + lengths - 1, lengths)
        distance = ends - np.arange(len(points))
        powers = np.cumprod(np.r_[np.uint64(1), np.full(int(lengths.max()), _P)])
        terms = points * powers[distance]
        return _mix(np.add.reduceat(terms, starts) + lengths.astype(np.uint64))


def tokenise(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct tokens (whitespace-separated) of a batch in order of appearance, the token id of
    every occurrence, and the number of tokens of each text."""
    if _IRREGULAR_SPACE.search("\0".join(texts)) is None:
        # normalised texts (tokens separated by single spaces): one split for the batch, no
        # list per text
        flat = " ".join(texts).split()
        lengths = np.fromiter((t.count(" ") + 1 if t else 0 for t in texts), dtype=np.int64,
                              count=len(texts))
    else:
        splits = [t.split() for t in texts]
        lengths = np.fromiter(map(len, splits), dtype=np.int64, count=len(splits))
        flat = list(chain.from_iterable(splits))
    words = list(dict.fromkeys(flat))
    position = {w: i for i, w in enumerate(words)}
    ids = np.fromiter(map(position.__getitem__, flat), dtype=np.int64, count=len(flat))
    return words, ids, lengths


def word_ngram_hashes(texts: list[str], hi: int, names: list[str] | None = None,
                      tokens: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(text index, hash) of every word 1..``hi``-gram of each (whitespace-tokenised) text;
    with ``names``, the n-grams themselves are appended to it in the same order. ``tokens``:
    ``tokenise(texts)`` when the caller has it already."""
    words, id_array, lengths = tokens if tokens is not None else tokenise(texts)
    ids = id_array.tolist() if names is not None else []
    unigram = token_hashes(words)[id_array] if len(id_array) else np.zeros(0, np.uint64)
    owner = np.repeat(np.arange(len(texts)), lengths)
    rows, hashes = [owner], [unigram]
    if names is not None:
        names.extend([words[i] for i in ids])
    with np.errstate(over="ignore"):
        h = unigram
        for n in range(2, hi + 1):
            count = len(unigram) - n + 1
            if count <= 0:
                break
            h = h[:count] * _P + unigram[n - 1:n - 1 + count]
            same = owner[:count] == owner[n - 1:n - 1 + count]
            rows.append(owner[:count][same])
            hashes.append(_mix(h[same] + np.uint64(n)))
            if names is not None:
                names.extend([" ".join(words[j] for j in ids[i:i + n])
                              for i in np.flatnonzero(same).tolist()])
    return np.concatenate(rows), np.concatenate(hashes)


def pack_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 byte array and their end offsets: two arrays that skops saves and
    loads at once, where a list of strings costs one node each (seconds for 100,000 n-grams)."""
    encoded = [v.encode("utf-8") for v in values]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), ends


def unpack_strings(data: np.ndarray, ends: np.ndarray) -> list[str]:
    """The inverse of :func:`pack_strings`."""
    raw = data.tobytes()
    starts = np.r_[0, ends[:-1]].tolist()
    return [raw[a:b].decode("utf-8") for a, b in zip(starts, ends.tolist(), strict=True)]


def _texts(raw_documents: Any) -> list[str]:
    values = raw_documents.tolist() if hasattr(raw_documents, "tolist") else list(raw_documents)
    return [t if isinstance(t, str) else str(t) for t in values]


class NgramTfidf(TransformerMixin, BaseEstimator):
    """Sublinear TF-IDF of hashed word (``analyzer="word"``) or ``char_wb`` n-grams.

    Reads a list (or Series) of normalised texts; ``fit`` keeps the n-grams found in at least
    ``min_df`` training texts. Rows are L2-normalised; float32.
    """

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df

    def _pairs(self, texts: list[str], names: list[str] | None = None,
               tokens: Any = None) -> tuple[np.ndarray, np.ndarray, Any]:
        """(row, hash) occurrences and, for char n-grams, the texts x words matrix."""
        lo, hi = self.ngram_range
        if self.analyzer == "word":
            if lo > 1:
                raise ValueError("word n-grams start at 1")
            rows, hashes = word_ngram_hashes(texts, hi, names, tokens)
            return rows, hashes, None
        if self.analyzer != "char_wb":
            raise ValueError(f"analyzer must be 'word' or 'char_wb', not {self.analyzer!r}")
        words, ids, lengths = tokens if tokens is not None else tokenise(texts)
        # texts x distinct words (a word twice in a text is two entries, summed by products)
        occurrences = sparse.csr_matrix(
            (np.ones(len(ids), np.float32), ids, np.r_[0, np.cumsum(lengths)]),
            shape=(len(texts), len(words)))
        rows, hashes = char_ngram_hashes(words, lo, hi, names)
        return rows, hashes, occurrences

    def _counts(self, texts: list[str], columns: np.ndarray | None = None,
                names: list[str] | None = None, tokens: Any = None
                ) -> tuple[Any, np.ndarray, np.ndarray]:
        rows, hashes, occurrences = self._pairs(texts, names, tokens)
        first = np.zeros(0, np.int64)
        if columns is None:  # fitting: the vocabulary is every hash seen
            vocab, first, cols = np.unique(hashes, return_index=True, return_inverse=True)
        else:
            vocab = columns
            cols = np.searchsorted(vocab, hashes)
            cols = np.minimum(cols, max(len(vocab) - 1, 0))
            keep = vocab[cols] == hashes if len(vocab) else np.zeros(len(hashes), bool)
            rows, cols = rows[keep], cols[keep]
        n_rows = len(texts) if occurrences is None else occurrences.shape[1]
        # CSR straight from the pairs grouped by row; duplicates are summed below
        order = np.argsort(rows, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
        counts = sparse.csr_matrix((np.ones(len(rows), np.float32), cols[order], indptr),
                                   shape=(n_rows, len(vocab)))
        # A record's row must not depend on the rest of the batch (the float sums downstream
        # follow the order of its entries). Word n-grams: entries come in the text's order;
        # repeated n-grams are summed (which sorts the columns). Char n-grams: the product sums
        # repeats, and orders each row's columns by the text's words and each word's n-grams
        # alone, so no sort is needed.
        if occurrences is not None:
            counts = (occurrences @ counts).tocsr()
        else:
            counts.sum_duplicates()
        return counts, vocab, first

    def fit(self, raw_documents: Any, y: Any = None) -> NgramTfidf:
        texts = _texts(raw_documents)
        names: list[str] = []
        counts, vocab, first = self._counts(texts, names=names)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        keep = df >= self.min_df
        if not keep.any():
            raise ValueError("no n-gram is frequent enough; lower min_df")
        self.vocabulary_hashes_ = vocab[keep]
        kept = [names[i] for i in first[keep].tolist()]
        self.names_utf8_, self.names_ends_ = pack_strings(kept)
        self.idf_ = (np.log((1 + len(texts)) / (1 + df[keep])) + 1).astype(np.float32)
        return self

    def transform(self, raw_documents: Any, tokens: Any = None) -> Any:
        """TF-IDF rows of the texts; ``tokens``: ``tokenise(texts)`` if already computed."""
        texts = _texts(raw_documents)
        counts, _, _ = self._counts(texts, self.vocabulary_hashes_, tokens=tokens)
        counts.data = (1 + np.log(counts.data)) * self.idf_[counts.indices]
        return normalize(counts, copy=False).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The n-grams (as first met in training) in column order."""
        if hasattr(self, "feature_names_"):  # models saved before the packed form
            return np.asarray(self.feature_names_, dtype=object)
        return np.asarray(unpack_strings(self.names_utf8_, self.names_ends_), dtype=object)
