"""Benchmark of tweet sentiment models on UMSAB (or a folder of the same layout).

    python benchmarks/twitter.py [--data-dir DIR] [--languages english,french,german]
                                 [--out twitter.json] [--cv]

For each language and model: ``macro_f1`` on the test part (models fit on train, with val as
the validation set: no tuning on test), ``train_seconds`` and ``tweets_per_s`` (prediction).
mlstat models are keyed by component name (``twitter.sentiment`` is ONE model trained on all
the languages at once with its defaults: the language a one-hot feature, n-gram features
augmented by language, ``language_augment = 1``; ``twitter.sentiment:shared`` the same with
one set of weights for all languages, ``language_augment = 0``;
``twitter.sentiment:no_encoder`` the default without its sentence encoder;
``twitter.sentiment:monolingual`` the component trained on one language; ``twitter.vader``
English only); peers by ``peer_`` (plain scikit-learn TF-IDF + logistic regression, its C
chosen per language on val from PEER_C_GRID, and plain VADER with the usual +/-0.05 rule).
``multilingual_minus_monolingual``: paired bootstrap of the mean test macro-F1 difference.

``--cv`` adds ``cross_validation``: 5-fold cross-validation on train + val (never test) of the
multilingual model with ``language_augment`` 0, 0.5 and 1 against monolingual models, the
evidence for the default.

Published UMSAB test macro-F1 (XLM-T paper), fastText monolingual: en 50.9, fr 54.8, de 59.6.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

PUBLISHED_FASTTEXT = {"english": 50.9, "french": 54.8, "german": 59.6}
PEER_C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
NO_ENCODER = {"C": 3.0, "char_ngrams": [2, 5], "word_ngrams": [1, 2], "class_weight": "balanced",
              "sentence_encoder": "none"}


def _f1(y_true, y_pred) -> float:
    from sklearn.metrics import f1_score

    return round(100 * float(f1_score(np.asarray(y_true, str), np.asarray(y_pred, str),
                                      average="macro")), 2)


def _timed_predict(predict, texts) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = predict(texts)
    return np.asarray(out), len(texts) / max(time.perf_counter() - start, 1e-9)


def paired_bootstrap(kept: dict[str, dict[str, np.ndarray]], a: str, b: str,
                     replicates: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean (over languages) test macro-F1 of ``a`` minus ``b``, with a 95% interval from
    resampling each language's test tweets (the same resample for both models)."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)

    def diff(index_by_lang: dict[str, np.ndarray]) -> float:
        gaps = []
        for lang, preds in kept.items():
            i = index_by_lang[lang]
            truth = preds["truth"][i]
            gaps.append(f1_score(truth, np.asarray(preds[a], str)[i], average="macro")
                        - f1_score(truth, np.asarray(preds[b], str)[i], average="macro"))
        return 100 * float(np.mean(gaps))

    point = diff({lang: np.arange(len(p["truth"])) for lang, p in kept.items()})
    draws = [diff({lang: rng.integers(0, len(p["truth"]), len(p["truth"]))
                   for lang, p in kept.items()}) for _ in range(replicates)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": round(point, 2), "ci95": [round(float(low), 2), round(float(high), 2)],
            "share_of_replicates_at_least_0": round(float(np.mean(np.asarray(draws) >= 0)), 3)}


def cross_validate(data, model_cls, params_cls, folds: int = 5, seed: int = 0) -> dict:
    """Mean macro-F1 over languages in k-fold cross-validation of train + val (test unused):
    the multilingual model per ``language_augment``, and one model per language."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    frame = data.frame
    pool = data.subset(np.flatnonzero(frame["split"].isin(["train", "val"]).to_numpy()))
    lang = pool.frame["language"].to_numpy().astype(str)
    y = pool.y.astype(str).to_numpy()
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(
        np.zeros(len(y)), np.char.add(lang, y))
    scores: dict[str, list[float]] = {}

    def add(key: str, held: np.ndarray, pred: np.ndarray) -> None:
        per_lang = [f1_score(y[held][lang[held] == g], pred[lang[held] == g], average="macro")
                    for g in sorted(set(lang))]
        scores.setdefault(key, []).append(100 * float(np.mean(per_lang)))

    for fit, held in splits:
        for augment in (0.0, 0.5, 1.0):
            model = model_cls(params_cls(language_augment=augment)).fit(pool.subset(fit), None)
            add(f"language_augment={augment:g}", held,
                model.predict(pool.frame.iloc[held])["prediction"].astype(str).to_numpy())
        pred = np.empty(len(held), dtype=object)
        for g in sorted(set(lang)):
            mine = lang[held] == g
            model = model_cls(params_cls()).fit(pool.subset(fit[lang[fit] == g]), None)
            pred[mine] = model.predict(pool.frame.iloc[held[mine]])["prediction"].astype(str)
        add("monolingual", held, pred.astype(str))
    mono = np.asarray(scores["monolingual"])
    return {key: {"mean_macro_f1": round(float(np.mean(v)), 2),
                  "minus_monolingual_by_fold": np.round(np.asarray(v) - mono, 2).tolist()}
            for key, v in scores.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="UMSAB layout (default: bundled copy)")
    parser.add_argument("--languages", default="english,french,german")
    parser.add_argument("--out", default="twitter-benchmark.json")
    parser.add_argument("--cv", action="store_true", help="also cross-validate the choice of "
                                                          "language_augment on train + val")
    args = parser.parse_args(argv)
    languages = list(dict.fromkeys(x.strip() for x in args.languages.split(",") if x.strip()))
    if not languages:
        parser.error("--languages: name at least one language folder, e.g. english,french")
    if args.data_dir and not Path(args.data_dir).is_dir():
        parser.error(f"--data-dir {args.data_dir}: no such folder (it holds one folder per "
                     "language, each with {train,val,test}_{text,labels}.txt)")
    warnings.simplefilter("ignore")

    from mlstat_twitter.lexicons import vader_scores
    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.models import SentimentModel, VaderModel
    from mlstat_twitter.params import SentimentParams, UmsabParams, VaderParams
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mlstat_core.errors import MlstatError

    params = UmsabParams(languages=languages,
                         data_dir=str(Path(args.data_dir).resolve()) if args.data_dir else None)
    try:
        data = UmsabLoader(params).load(Path.cwd())
    except MlstatError as exc:
        print(f"twitter.py: error: {exc}", file=sys.stderr)
        return 2
    frame = data.frame
    part = {k: data.subset(np.flatnonzero(frame["split"].to_numpy() == k))
            for k in ("train", "val", "test")}
    results: dict[str, dict[str, dict[str, float]]] = {lang: {} for lang in languages}
    kept: dict[str, dict[str, np.ndarray]] = {lang: {} for lang in languages}
    folder = frame["id"].str.rsplit("-", n=2).str[0]  # ids are LANGUAGE-PART-NUMBER
    empty = [f"{lang}/{k}_text.txt" for lang in languages for k in ("train", "val", "test")
             if not ((folder == lang) & (frame["split"] == k)).any()]
    if empty:
        print(f"twitter.py: error: no tweets in {', '.join(empty)}; each language needs "
              "train, val and test tweets", file=sys.stderr)
        return 2
    train_classes = {lang: set(data.y[(folder == lang) & (frame["split"] == "train")].astype(str))
                     for lang in languages}
    one_class = [f"{lang}/train_labels.txt (only {', '.join(c)})"
                 for lang, c in train_classes.items() if len(c) < 2]
    if one_class:
        print(f"twitter.py: error: one class in {', '.join(one_class)}; each language needs "
              "training tweets of at least two classes", file=sys.stderr)
        return 2
    codes = {lang: frame.loc[folder == lang, "language"].iloc[0] for lang in languages}
    if len(set(codes.values())) < len(codes):
        print(f"twitter.py: error: --languages {','.join(languages)} names one language twice "
              f"(codes {', '.join(codes.values())})", file=sys.stderr)
        return 2

    def by_language(ds, lang):
        return ds.subset(np.flatnonzero(ds.frame["language"].to_numpy() == codes[lang]))

    # one model on every language: augmented by language (default), and shared weights only
    for key, extra, note in (
            ("twitter.sentiment", {}, "one model trained on all languages, features augmented "
                                      "by language (the default, language_augment = 1)"),
            ("twitter.sentiment:shared", {"language_augment": 0.0},
             "one model trained on all languages, one set of weights (language_augment = 0)"),
            ("twitter.sentiment:no_encoder", {"base_params": NO_ENCODER},
             "the default without the sentence encoder (n-grams and lexicon tokens only)")):
        start = time.perf_counter()
        multi = SentimentModel(SentimentParams(**extra)).fit(part["train"], part["val"])
        multi_seconds = time.perf_counter() - start
        for lang in languages:
            test = by_language(part["test"], lang)
            pred, speed = _timed_predict(lambda f, m=multi: m.predict(f)["prediction"],
                                         test.frame)
            kept[lang][key] = pred
            results[lang][key] = {
                "macro_f1": _f1(test.y, pred), "train_seconds": round(multi_seconds, 2),
                "tweets_per_s": round(speed, 1), "note": note}
            print(lang, key, results[lang][key], flush=True)

    for lang in languages:
        train, val, test = (by_language(part[k], lang) for k in ("train", "val", "test"))
        start = time.perf_counter()
        mono = SentimentModel(SentimentParams()).fit(train, val)
        seconds = time.perf_counter() - start
        pred, speed = _timed_predict(lambda f, m=mono: m.predict(f)["prediction"], test.frame)
        kept[lang]["twitter.sentiment:monolingual"] = pred
        kept[lang]["truth"] = np.asarray(test.y, str)
        results[lang]["twitter.sentiment:monolingual"] = {
            "macro_f1": _f1(test.y, pred), "train_seconds": round(seconds, 2),
            "tweets_per_s": round(speed, 1)}

        # plain TF-IDF + LR, its C chosen on val (the time counts the search and the refit)
        start = time.perf_counter()
        val_f1 = {}
        for c in PEER_C_GRID:
            peer = make_pipeline(TfidfVectorizer(), LogisticRegression(C=c, max_iter=1000))
            peer.fit(train.frame["text"], train.y.astype(str))
            val_f1[c] = _f1(val.y, peer.predict(val.frame["text"]))
        best_c = max(PEER_C_GRID, key=lambda c: (val_f1[c], -c))
        peer = make_pipeline(TfidfVectorizer(), LogisticRegression(C=best_c, max_iter=1000))
        peer.fit(train.frame["text"], train.y.astype(str))
        seconds = time.perf_counter() - start
        pred, speed = _timed_predict(peer.predict, test.frame["text"])
        results[lang]["peer_tfidf_logreg"] = {"macro_f1": _f1(test.y, pred),
                                              "train_seconds": round(seconds, 2),
                                              "tweets_per_s": round(speed, 1), "C": best_c,
                                              "val_macro_f1_by_C": val_f1}
        if codes[lang] == "en":
            start = time.perf_counter()
            vmodel = VaderModel(VaderParams()).fit(train, val)
            seconds = time.perf_counter() - start
            pred, speed = _timed_predict(lambda f, m=vmodel: m.predict(f)["prediction"],
                                         test.frame)
            results[lang]["twitter.vader"] = {"macro_f1": _f1(test.y, pred),
                                              "train_seconds": round(seconds, 2),
                                              "tweets_per_s": round(speed, 1)}

            def plain_vader(texts):
                c = vader_scores(list(texts))[:, 3]
                return np.where(c >= 0.05, "positive", np.where(c <= -0.05, "negative",
                                                                "neutral"))

            pred, speed = _timed_predict(plain_vader, test.frame["text"])
            results[lang]["peer_vader"] = {"macro_f1": _f1(test.y, pred),
                                           "train_seconds": 0.0,
                                           "tweets_per_s": round(speed, 1)}
        for key in results[lang]:
            if not key.startswith("twitter.sentiment") or key.endswith(":monolingual"):
                print(lang, key, results[lang][key], flush=True)

    summary = {}
    for key in ("twitter.sentiment", "twitter.sentiment:shared",
                "twitter.sentiment:monolingual", "peer_tfidf_logreg"):
        values = [results[lang][key]["macro_f1"] for lang in languages if key in results[lang]]
        summary[key] = round(float(np.mean(values)), 2)
    out = {"data": str(params.data_dir or "bundled UMSAB"), "languages": languages,
           "results": results, "mean_macro_f1": summary,
           "multilingual_minus_monolingual": {
               key: paired_bootstrap(kept, key, "twitter.sentiment:monolingual")
               for key in ("twitter.sentiment", "twitter.sentiment:shared")},
           "published_fasttext_macro_f1": {k: v for k, v in PUBLISHED_FASTTEXT.items()
                                           if k in languages},
           "machine": {"python": sys.version.split()[0], "platform": platform.platform()}}
    if args.cv:
        out["cross_validation"] = cross_validate(data, SentimentModel, SentimentParams)
    Path(args.out).write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps(summary), "->", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
