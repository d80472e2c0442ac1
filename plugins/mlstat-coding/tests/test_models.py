import json
import sys
import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_PARAMS, build
from mlstat_coding.routing import (
    REASON_EMPTY,
    REASON_NO_THRESHOLD,
    REASON_SHORT,
    UnreachableTargetWarning,
    choose_threshold,
)

from mlstat_core.components import ColumnRoles, Dataset
from mlstat_core.errors import DataError, ModelError


def test_predictions_carry_the_coding_columns(fitted, parts):
    name, model = fitted
    _, _, test = parts
    preds = model.predict(test.frame)
    assert preds.index.equals(test.frame.index)
    for column in ("prediction", "confidence", "top_codes", "top_scores", "margin", "route",
                   "reason"):
        assert column in preds, column
    assert {f"proba_{c}" for c in model.classes_} <= set(preds.columns)
    top = json.loads(preds["top_codes"].iloc[0])
    scores = json.loads(preds["top_scores"].iloc[0])
    assert len(top) == 5 and top[0] == preds["prediction"].iloc[0]
    assert scores == sorted(scores, reverse=True)
    assert np.allclose(preds[[f"proba_{c}" for c in model.classes_]].sum(axis=1), 1)
    assert ((preds["margin"] >= 0) & (preds["margin"] <= preds["confidence"] + 1e-9)).all()
    assert set(preds["route"]) <= {"auto", "manual"}
    accuracy = (preds["prediction"] == test.y).mean()
    assert accuracy > 0.6, (name, accuracy)


def test_a_model_scored_by_another_version_of_the_cleaning_says_so(fitted, parts, tmp_path,
                                                                     monkeypatch):
    """The cleaning of amounts changed (8,7 g had been read as 8 7g): a model trained before
    scored such texts otherwise under the new rules, without a word. A model now keeps how
    its cleaning treated a set of probe texts and warns where the installed cleaning differs
    (or where it keeps no sample: saved before this)."""
    from mlstat_coding import normalise

    from mlstat_core.cleaning import CleaningChangedWarning

    name, model = fitted
    _, _, test = parts
    model.save(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CleaningChangedWarning)
        type(model).load(tmp_path).predict(test.frame.head(5))  # the same rules: no word
    older = type(model).load(tmp_path)
    del older.extra_state["cleaning"]
    with pytest.warns(CleaningChangedWarning, match="keeps no sample of the text cleaning of "
                      "mlstat-coding .* changed on 2026-11-30"):
        older.predict(test.frame.head(5))
    real = normalise._unit_sub
    monkeypatch.setattr(normalise, "_unit_sub",  # another version: amounts cleaned otherwise
                        lambda m: real(m).replace("_mass_", "_weight_"))
    changed = type(model).load(tmp_path)
    with pytest.warns(CleaningChangedWarning, match="trained with another version of the text "
                      "cleaning of mlstat-coding .*for example 'Wafelki Kinder Bueno White "
                      "2\\*19,5g' became '.*_mass_' in training and becomes '.*_weight_' now"):
        changed.predict(test.frame.head(5))


def test_save_load_round_trip_gives_identical_predictions(fitted, parts, tmp_path):
    name, model = fitted
    _, _, test = parts
    model.save(tmp_path)
    again = type(model).load(tmp_path)
    pd.testing.assert_frame_equal(model.predict(test.frame), again.predict(test.frame))
    assert again.extra_state["threshold"] == model.extra_state["threshold"]


def test_threshold_reaches_target_on_validation(fitted, parts):
    name, model = fitted
    _, validation, _ = parts
    state = model.extra_state
    assert state["threshold_source"] == "validation"
    preds = model.predict(validation.frame)
    auto = preds["route"] == "auto"
    if state["threshold"] is None:
        assert not auto.any()
        return
    assert auto.any()
    accuracy = (preds.loc[auto, "prediction"] == validation.y[auto]).mean()
    assert accuracy >= state["target_accuracy"]
    assert accuracy == pytest.approx(state["validation_auto_accuracy"])
    assert auto.mean() == pytest.approx(state["validation_auto_share"])


def test_empty_text_goes_to_manual_with_a_reason(fitted, parts):
    name, model = fitted
    _, _, test = parts
    frame = test.frame.head(4).copy()
    frame["product"] = ["", None, "   ", "Mleko 2% 1 l"]
    preds = model.predict(frame)
    assert list(preds["route"][:3]) == ["manual"] * 3
    assert list(preds["reason"][:3]) == [REASON_EMPTY] * 3
    assert preds["reason"].iloc[3] != REASON_EMPTY


def test_a_text_too_short_to_code_goes_to_manual_with_a_reason(fitted, parts):
    # "12" and "0" were auto-coded as dairy products (0.72, 0.74), "1,5 l" as mineral water
    # (0.84) and "kg" as fruit (0.59): a number or a unit alone names no product
    name, model = fitted
    _, _, test = parts
    texts = ["12", "1,5 l", "kg", "a", "-", "7 UP 0,5l", "Mleko 2% 1 l"]
    frame = pd.concat([test.frame.head(1)] * len(texts), ignore_index=True)
    frame["product"] = texts
    preds = model.predict(frame)
    assert list(preds["reason"][:5]) == [REASON_SHORT] * 4 + [REASON_EMPTY]
    assert list(preds["route"][:5]) == ["manual"] * 5
    assert not preds["reason"][5:].isin([REASON_SHORT, REASON_EMPTY]).any()
    assert model.extra_state["min_word_letters"] == 2


def test_the_short_text_rule_is_kept_with_the_model_and_can_be_switched_off(parts, tmp_path):
    train, validation, test = parts
    frame = pd.concat([test.frame.head(1)] * 2, ignore_index=True)
    frame["product"] = ["12", "Mleko 2% 1 l"]
    off = build("linear_svm", min_word_letters="none")  # TOML has no null
    off.fit(train, validation)
    assert off.params.min_word_letters == 0
    assert REASON_SHORT not in set(off.predict(frame)["reason"])
    model = build("linear_svm", min_word_letters=3)
    model.fit(train, validation)
    model.save(tmp_path / "model")
    # predict routes as the model was assessed, with the value stored at fit time
    again = type(model).load(tmp_path / "model")
    frame.loc[1, "product"] = "7 UP"
    assert list(again.predict(frame)["reason"]) == [REASON_SHORT] * 2
    # a model saved before the rule routes as it did
    state = json.loads((tmp_path / "model" / "state.json").read_text("utf-8"))
    del state["extra"]["min_word_letters"]
    (tmp_path / "model" / "state.json").write_text(json.dumps(state), "utf-8")
    assert REASON_SHORT not in set(type(model).load(tmp_path / "model").predict(frame)["reason"])


def test_min_word_letters_true_is_refused_not_read_as_one():
    """``min_word_letters = true`` (meaning "on") would be read as 1 by pydantic, a weaker
    rule than the default 2: refused with the values that work."""
    from mlstat_coding.params import LinearSvmParams
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="number of letters .* not true"):
        LinearSvmParams(min_word_letters=True)
    assert LinearSvmParams(min_word_letters=False).min_word_letters == 0


def test_missing_text_column_at_prediction(fitted, parts):
    _, model = fitted
    _, _, test = parts
    with pytest.raises(DataError, match="product"):
        model.predict(test.frame.drop(columns=["product"]))


def test_empty_frame_predicts_empty(fitted, parts):
    _, model = fitted
    _, _, test = parts
    preds = model.predict(test.frame.head(0))
    assert len(preds) == 0 and "route" in preds


def test_choose_threshold_is_the_lowest_reaching_target():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, False, False])
    assert choose_threshold(scores, correct, 1.0) == 0.7
    assert choose_threshold(scores, correct, 0.75) == 0.6
    assert choose_threshold(scores, correct, 0.5) == 0.5
    assert choose_threshold(np.array([0.9]), np.array([False]), 0.95) is None
    # ties stay together: 0.8 holds one right and one wrong record
    assert choose_threshold(np.array([0.9, 0.8, 0.8]), np.array([True, True, False]), 0.9) == 0.9


def small_frame(n_per_code=12, aux=False):
    rng = np.random.default_rng(0)
    words = {"01.1.4.1": ["mleko", "milk"], "01.1.4.5": ["ser", "gouda"],
             "01.2.1.1": ["kawa", "arabica"]}
    rows = []
    for code, vocab in words.items():
        for i in range(n_per_code):
            rows.append({"text": f"{vocab[i % 2]} {rng.integers(1, 9)} {i}", "code": code,
                         "shop": "a" if code == "01.1.4.1" else "b"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["tfidf_logreg", "linear_svm", "fasttext"])
def test_without_validation_uses_internal_holdout_and_aux(name, tmp_path):
    frame = small_frame()
    frame.loc[len(frame)] = {"text": "herbata czarna", "code": "01.2.1.2", "shop": "c"}
    roles = ColumnRoles(target="code", text=["text"], auxiliary=["shop"])
    model = build(name, **FAST_PARAMS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Dataset(frame, roles))
    assert "holdout" in model.extra_state["threshold_source"]
    assert "01.2.1.2" in model.classes_  # the code seen once stays in training
    preds = model.predict(frame)
    assert (preds["prediction"] == frame["code"]).mean() > 0.6
    model.save(tmp_path)
    pd.testing.assert_frame_equal(preds, type(model).load(tmp_path).predict(frame))


@pytest.mark.parametrize("name", ["tfidf_logreg", "fasttext"])
def test_single_code_and_missing_columns_are_errors(name):
    frame = small_frame()
    model = build(name, **FAST_PARAMS[name])
    with pytest.raises(DataError, match="at least two"):
        model.fit(Dataset(frame[frame.code == "01.1.4.1"], ColumnRoles(target="code",
                                                                        text=["text"])))
    with pytest.raises(DataError, match="'label'"):
        model.fit(Dataset(frame, ColumnRoles(target="code", text=["label"])))
    with pytest.raises(DataError, match="text column"):
        model.fit(Dataset(frame, ColumnRoles(target="code", features=["text"])))


def test_several_text_columns_are_joined():
    frame = small_frame()
    frame["brand"] = "x"
    model = build("tfidf_logreg")
    model.fit(Dataset(frame, ColumnRoles(target="code", text=["brand", "text"])))
    assert model.prepared(frame.head(1))["__text__"].iloc[0].startswith("x ")


def test_fallback_level_gives_a_higher_level_code(parts):
    train, validation, test = parts
    model = build("linear_svm", fallback_level=3, target_accuracy=0.99)
    model.fit(train, validation)
    preds = model.predict(test.frame)
    manual = preds["route"] == "manual"
    assert manual.any()
    assert preds.loc[manual, "fallback_code"].str.fullmatch(r"01\.\d\.\d").all()
    assert (preds.loc[manual, "fallback_confidence"] >= preds.loc[manual, "confidence"]
            - 1e-9).all()


def test_an_unreachable_target_warns_by_category_and_routes_all_to_manual(parts):
    train, validation, test = parts
    codes = sorted(set(train.y.astype(str)))
    wrong = validation.frame.assign(**{validation.roles.target: validation.y.astype(str).map(
        lambda c: codes[(codes.index(c) + 1) % len(codes)])})  # every validation code wrong
    model = build("linear_svm")
    # a category of its own, so a plugin that reuses the model without routing can silence it
    with pytest.warns(UnreachableTargetWarning, match="routed to manual coding"):
        model.fit(train, Dataset(wrong, validation.roles))
    preds = model.predict(test.frame)
    assert model.threshold is None and (preds["route"] == "manual").all()
    assert (preds["reason"] == REASON_NO_THRESHOLD).all()  # the sample has no empty names


def test_margin_confidence_routes_on_margin(parts):
    train, validation, _ = parts
    model = build("linear_svm", confidence="margin")
    model.fit(train, validation)
    preds = model.predict(validation.frame)
    auto = preds["route"] == "auto"
    if model.threshold is not None:
        assert (preds.loc[auto, "margin"] >= model.threshold).all()
        assert (preds.loc[~auto & (preds.reason == "below threshold"), "margin"]
                < model.threshold).all()


def test_fasttext_without_torch_says_how_to_install(monkeypatch):
    pytest.importorskip("torch")
    import mlstat_coding.fasttext as ft

    monkeypatch.setattr(ft, "torch", None)
    with pytest.raises(ModelError, match=r"pip install 'mlstat-coding\[torch\]'"):
        ft.FastTextModel()


def test_fasttext_trains_in_seconds_and_is_seeded(parts):
    pytest.importorskip("torch")
    train, validation, test = parts
    a = build("fasttext", **FAST_PARAMS["fasttext"])
    b = build("fasttext", **FAST_PARAMS["fasttext"])
    a.fit(train, validation)
    b.fit(train, validation)
    assert a.train_seconds < 30
    pd.testing.assert_frame_equal(a.predict(test.frame), b.predict(test.frame))


def test_plugin_module_is_light():
    import subprocess

    code = ("import sys, mlstat_coding.plugin as p; p.mlstat_models(); p.mlstat_loaders(); "
            "p.mlstat_indicators(); heavy = [m for m in ('pandas', 'sklearn', 'torch', 'numpy') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_specs_honour_the_contract():
    from mlstat_coding import plugin

    specs = plugin.mlstat_loaders() + plugin.mlstat_models() + plugin.mlstat_indicators()
    assert {s.name for s in specs} >= {"text_table", "ecoicop_pl", "tfidf_logreg", "linear_svm",
                                       "fasttext", "hierarchical_accuracy", "autocoding"}
    for spec in specs:
        assert spec.problems() == [], spec.name
        assert spec.load_factory() is not None


@pytest.mark.parametrize("params", [{"method": "sigmoid"}, {"multi_class": "crammer_singer"}])
def test_linear_svm_calibration_options(parts, params, tmp_path):
    train, validation, test = parts
    model = build("linear_svm", **params)
    model.fit(train, validation)
    preds = model.predict(test.frame)
    assert (preds["prediction"] == test.y).mean() > 0.6
    temperature = model.extra_state["temperature"]
    assert (temperature == 1.0) == (params.get("method") == "sigmoid")
    model.save(tmp_path)
    pd.testing.assert_frame_equal(preds, type(model).load(tmp_path).predict(test.frame))


def test_linear_svm_with_two_codes_scores_both():
    frame = small_frame()
    frame = frame[frame.code != "01.2.1.1"].reset_index(drop=True)
    model = build("linear_svm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Dataset(frame, ColumnRoles(target="code", text=["text"])))
    preds = model.predict(frame)
    assert (preds["prediction"] == frame["code"]).mean() > 0.9
    assert np.allclose(preds[[f"proba_{c}" for c in model.classes_]].sum(axis=1), 1)


def test_global_explanation_names_real_ngrams(fitted):
    name, model = fitted
    explanation = model.global_explanation()
    if name == "fasttext":
        return
    terms = [t for rows in explanation["classes"].values() for t, _ in rows]
    assert terms and all(isinstance(t, str) and t for t in terms)
    assert any(" " not in t.strip() and len(t) > 2 for t in terms)
    # a character n-gram is told from a word, and its word boundary shows (no edge spaces)
    names = model.estimator.named_steps["features"].get_feature_names_out()
    chars = [n for n in map(str, names) if n.startswith("‹")]
    assert chars and all(n.endswith("›") and " " not in n for n in chars)
    assert any("␣" in n for n in chars)
    assert all(t == t.strip() for t in terms)


def test_fasttext_model_saved_with_sklearn_hashing_still_loads(parts, tmp_path):
    pytest.importorskip("torch")
    train, validation, test = parts
    model = build("fasttext", hashing="sklearn", **FAST_PARAMS["fasttext"])
    model.fit(train, validation)
    model.save(tmp_path)
    state_file = tmp_path / "state.json"
    state = json.loads(state_file.read_text())
    del state["params"]["hashing"]  # as written before the option existed
    state_file.write_text(json.dumps(state))
    again = type(model).load(tmp_path)
    assert again.params.hashing == "sklearn"
    pd.testing.assert_frame_equal(model.predict(test.frame), again.predict(test.frame))



def test_fasttext_trained_for_a_gpu_scores_where_there_is_none(parts, tmp_path):
    """A model trained with device = "cuda" is scored on servers without a GPU."""
    torch = pytest.importorskip("torch")
    train, validation, test = parts
    model = build("fasttext", **FAST_PARAMS["fasttext"])
    model.fit(train, validation)
    assert model.extra_state["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    model.save(tmp_path)
    state_file = tmp_path / "state.json"
    state = json.loads(state_file.read_text())
    state["params"]["device"] = "cuda"  # as saved by a training on a GPU
    state_file.write_text(json.dumps(state))
    with mock.patch.object(torch.cuda, "is_available", return_value=False):
        again = type(model).load(tmp_path)
        pd.testing.assert_frame_equal(model.predict(test.frame), again.predict(test.frame))


def test_linear_models_explain_each_record_by_its_ngrams(parts):
    train, validation, test = parts
    model = build("linear_svm")
    model.fit(train, validation)
    frame = test.frame.head(5)
    explained = model.explain(frame, top=4)
    assert list(explained.columns) == ["record", "feature", "contribution"]
    assert set(explained["record"]) == set(frame.index)
    assert explained.groupby("record").size().max() <= 4
    # contributions are sorted per record and the strongest one pushes towards the code
    for _record, group in explained.groupby("record", sort=False):
        assert list(group["contribution"]) == sorted(group["contribution"], reverse=True)
        assert group["contribution"].iloc[0] > 0


def test_fallback_sums_do_not_depend_on_the_batch():
    """The higher-level confidence of a record is bit for bit the same whatever records it is
    scored with (``mlstat predict`` promises outputs independent of the chunk size)."""
    from mlstat_coding.hierarchy import Hierarchy
    from mlstat_coding.routing import fallback_codes

    rng = np.random.default_rng(0)
    classes = [f"0{a}.{b}.{c}" for a in range(1, 4) for b in range(1, 5) for c in range(1, 6)]
    proba = rng.dirichlet(np.ones(len(classes)), 2000)
    hierarchy = Hierarchy(separator=".")
    codes, whole = fallback_codes(classes, proba, hierarchy, 2)
    parts = [fallback_codes(classes, proba[i:i + 13], hierarchy, 2)[1]
             for i in range(0, len(proba), 13)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert set(codes) <= {f"0{a}.{b}" for a in range(1, 4) for b in range(1, 5)}


def test_a_fallback_level_no_coarser_than_the_codes_is_said(parts):
    """ECOICOP subclasses have 4 levels: level 4 would repeat every prediction. (The check
    is every coding model's; the linear SVM fits in a second, the logistic regression in 12.)"""
    with pytest.warns(UserWarning, match=r"fallback_level 4 is not coarser.*below 4"):
        build("linear_svm", fallback_level=4).fit(parts[0], parts[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build("linear_svm", fallback_level=3).fit(parts[0], parts[1])
    assert not any("fallback_level" in str(w.message) for w in caught)



@pytest.mark.parametrize("name", ["tfidf_logreg", "linear_svm"])
def test_coding_models_fit_on_one_thread_whatever_the_machine(parts, name, monkeypatch):
    """lbfgs and the calibration sum with BLAS, and a multi-threaded sum depends on the number
    of threads (on the UMSAB tweets 12 of 2,610 predictions changed between 1 and 2): the
    models fit on one, so a machine with more cores gives the same model and figures."""
    from threadpoolctl import threadpool_info, threadpool_limits

    train, validation, _ = parts
    model = build(name)
    seen = []
    real = type(model)._fit_estimator

    def recording(self, *args):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return real(self, *args)

    monkeypatch.setattr(type(model), "_fit_estimator", recording)
    with threadpool_limits(limits=2):  # as a machine with cores (or OMP_NUM_THREADS) sets it
        model.fit(train, validation)
    assert seen and set(seen) == {1}


def test_fasttext_weights_replaced_by_a_torch_pickle_are_refused_unread(parts, tmp_path):
    """A ``torch.save`` file put where the safetensors weights were is never unpickled."""
    torch = pytest.importorskip("torch")
    from mlstat_core.errors import IntegrityError

    train, validation, _test = parts
    model = build("fasttext", **FAST_PARAMS["fasttext"])
    model.fit(train, validation)
    model.save(tmp_path)
    torch.save(model.net.state_dict(), tmp_path / "weights.safetensors")
    with pytest.raises(IntegrityError, match=r"weights.safetensors is a torch.save file, a "
                       r"Python pickle, which mlstat never reads"):
        type(model).load(tmp_path)


@pytest.mark.parametrize("name", ["tfidf_logreg", "linear_svm"])
def test_many_codes_among_few_records_raise_no_regression_guess(name):
    """scikit-learn guesses that a target with more distinct values than half its records
    "could represent a regression problem": codes are classes by declaration, so a coder
    does not see that guess, and the fit's own warnings still come through."""
    codes = [f"{2000 + i}" for i in range(16)] * 2 + [f"{3000 + i}" for i in range(8)]
    frame = pd.DataFrame({"text": [f"zawod {c} praca {i % 3}" for i, c in enumerate(codes)]
                          + [""], "code": codes + ["2000"]})
    roles = ColumnRoles(target="code", text=["text"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(name, **FAST_PARAMS[name]).fit(Dataset(frame, roles))
    messages = [str(w.message) for w in caught]
    assert not any("could represent a regression problem" in m for m in messages), messages
    assert any("have empty text" in m for m in messages)
