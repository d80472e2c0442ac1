"""Experiment behind docs/twitter.md: does a small neural network on the sentence encoder's
vectors, blended into twitter.sentiment's probabilities, favour the multilingual model?

    python benchmarks/twitter_encoder_mlp.py [--weights 0,0.2,0.4] [--out FILE.json]

5-fold cross-validation of UMSAB train + val (bundled; test unused), the folds of
``benchmarks/twitter.py --cv``. Per fold: the default multilingual model and one default model
per language; an ``MLPClassifier`` (256 units) on the encoder's vector of the text the base
reads, plus the language one-hot (multilingual) or per language; mean macro-F1 over the
languages of ``(1 - w) * model + w * network`` for each weight ``w`` (1: the network alone).
About 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="0,0.2,0.3,0.4,0.5,1")
    parser.add_argument("--out", default="twitter-encoder-mlp.json")
    args = parser.parse_args(argv)
    try:  # checked before the minutes of encoding, not after
        weights = [float(w) for w in args.weights.split(",") if w.strip()]
    except ValueError:
        weights = []
    if not weights or not all(0 <= w <= 1 for w in weights):
        parser.error(f"--weights {args.weights}: comma-separated numbers from 0 to 1")
    warnings.simplefilter("ignore")
    from mlstat_coding.encoders import encode
    from mlstat_twitter.lexicons import default_lexicons
    from mlstat_twitter.loaders import UmsabLoader
    from mlstat_twitter.models import LANG, TEXT, SentimentModel
    from mlstat_twitter.params import SentimentParams, UmsabParams
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neural_network import MLPClassifier

    data = UmsabLoader(UmsabParams(languages=["english", "french", "german"])).load(Path.cwd())
    pool = data.subset(np.flatnonzero(data.frame["split"].isin(["train", "val"]).to_numpy()))
    reader = SentimentModel(SentimentParams())
    reader.state, reader.roles = {"lexicons": default_lexicons()}, pool.roles
    prepared = reader.prepared(pool.frame)
    vectors = encode("use-multilingual", prepared[TEXT].tolist())
    lang = prepared[LANG].to_numpy().astype(str)
    y = pool.y.astype(str).to_numpy()
    langs = sorted(set(lang))
    onehot = (lang[:, None] == np.array(langs)[None, :]).astype(np.float32)
    scores: dict[str, list[float]] = {}

    def network(rows: np.ndarray, x: np.ndarray, held: np.ndarray, classes: list[str]):
        net = MLPClassifier((256,), alpha=1e-3, early_stopping=True, random_state=0,
                            max_iter=300).fit(x[rows], y[rows])
        return net.predict_proba(x[held])[:, [list(net.classes_).index(c) for c in classes]]

    def add(key: str, held: np.ndarray, proba: np.ndarray, classes: list[str]) -> None:
        pred = np.asarray(classes)[proba.argmax(1)]
        scores.setdefault(key, []).append(100 * float(np.mean(
            [f1_score(y[held][lang[held] == g], pred[lang[held] == g], average="macro")
             for g in langs])))

    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)),
                                                                   np.char.add(lang, y))
    for fit, held in folds:
        multi = SentimentModel(SentimentParams()).fit(pool.subset(fit), None)
        classes = list(multi.classes_)
        columns = [f"proba_{c}" for c in classes]
        p_multi = multi.predict(pool.frame.iloc[held])[columns].to_numpy()
        q_multi = network(fit, np.hstack([vectors, onehot]), held, classes)
        p_mono, q_mono = np.zeros_like(p_multi), np.zeros_like(p_multi)
        for g in langs:
            mine = lang[held] == g
            mono = SentimentModel(SentimentParams()).fit(pool.subset(fit[lang[fit] == g]), None)
            p_mono[mine] = mono.predict(pool.frame.iloc[held[mine]])[columns].to_numpy()
            q_mono[mine] = network(fit[lang[fit] == g], vectors, held[mine], classes)
        for w in weights:
            add(f"multilingual w={w:g}", held, (1 - w) * p_multi + w * q_multi, classes)
            add(f"monolingual w={w:g}", held, (1 - w) * p_mono + w * q_mono, classes)
        print(f"fold {len(scores[next(iter(scores))])} of 5 done", flush=True)
    out = {key: {"mean_macro_f1": round(float(np.mean(v)), 2),
                 "by_fold": np.round(v, 2).tolist()} for key, v in scores.items()}
    Path(args.out).write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(json.dumps({k: v["mean_macro_f1"] for k, v in out.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
