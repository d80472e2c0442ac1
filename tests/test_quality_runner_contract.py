"""An indicator whose result cannot be written to report.json fails alone: the run, its report
and the other figures survive."""

from __future__ import annotations

import json

from contract_fakes import bad_registry, pipeline, write_data

import mlstat_core
from mlstat_core.components import IndicatorResult
from mlstat_core.quality.runner import run_indicator


class _Odd:
    def compute(self, ctx):
        return IndicatorResult("odd", "accuracy", 1.0, details={"thing": object()})


def test_a_result_that_is_not_json_is_one_failed_indicator():
    results = run_indicator(_Odd(), "bad.odd", "accuracy", ctx=None)
    assert [r.status for r in results] == ["failed"]
    assert "result 'odd' cannot be written to report.json" in results[0].error
    assert "not JSON serializable" in results[0].error


def test_numpy_values_and_nan_are_fine():
    import numpy as np

    class Numpy:
        def compute(self, ctx):
            return IndicatorResult("n", "accuracy", np.float32(0.5),
                                   details={"a": np.arange(3), "nan": float("nan"), "s": {1}})

    assert run_indicator(Numpy(), "p.n", "accuracy", ctx=None)[0].status == "ok"


def test_the_run_succeeds_with_the_other_figures_and_its_report(tmp_path):
    cfg = pipeline(write_data(tmp_path),
                   indicators=["bad.notjson", "core.classification_accuracy"])
    result = mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())
    assert result.status == "succeeded"
    by_name = {r.name: r for r in result.indicators}
    assert by_name["plain"].status == "ok"
    assert by_name["bad.notjson"].status == "failed"
    assert "accuracy" in result.metrics
    report = json.loads((result.run_dir / "report.json").read_text())
    assert {e["name"] for e in report["indicators"]} >= {"plain", "bad.notjson", "accuracy"}


def test_python_warnings_join_the_indicators_own_warnings():
    import warnings

    class Warns:
        def compute(self, ctx):
            warnings.warn("a library's complaint", UserWarning, stacklevel=1)
            return IndicatorResult("w", "accuracy", 0.5, explanation="x",
                                   details={"warnings": ["the indicator's own"]})

    (result,) = run_indicator(Warns(), "p.w", "accuracy", ctx=None)
    assert result.details["warnings"] == ["the indicator's own",
                                          "UserWarning: a library's complaint"]


def test_a_figure_that_is_nan_or_infinite_fails_alone_and_says_what_to_return():
    """A NaN figure was written as an empty value of an `ok` result (counted as computed);
    an infinite one failed with a message about JSON, not about the figure."""
    import numpy as np

    class Ratio:
        def __init__(self, value):
            self.value = value

        def compute(self, ctx):
            return [IndicatorResult("ratio", "cost_effectiveness", self.value),
                    IndicatorResult("count", "cost_effectiveness", 3)]

    for value in (float("nan"), np.float64("inf"), -np.inf):
        ratio, count = run_indicator(Ratio(value), "p.ratio", "cost_effectiveness", ctx=None)
        assert ratio.status == "failed" and "which is no figure" in ratio.error
        assert "status='skipped'" in ratio.error
        assert count.status == "ok"
    assert run_indicator(Ratio(0.5), "p.ratio", "cost_effectiveness", ctx=None)[0].status \
        == "ok"


def test_a_figure_named_like_another_indicators_fails_and_names_both(tmp_path):
    """A plugin's 'accuracy' beside the core's: the report kept the first, RunResult.metric
    the last, with no word. The later one fails, naming the indicator whose figure it is."""
    cfg = pipeline(write_data(tmp_path),
                   indicators=["core.classification_accuracy", "bad.shadows"])
    result = mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())
    [core] = [r for r in result.indicators if r.name == "accuracy"]
    assert core.details["indicator"] == "core.classification_accuracy"
    assert result.metric("accuracy") == core.value
    [clash] = [r for r in result.indicators if r.name == "bad.shadows"]
    assert clash.status == "failed"
    assert "'accuracy' has the name of a figure indicator core.classification_accuracy " \
        "already produced" in clash.error and "'bad_accuracy'" in clash.error
    report = json.loads((result.run_dir / "report.json").read_text())
    assert [e["value"] for e in report["indicators"] if e["name"] == "accuracy"] == [core.value]


def test_a_fit_that_sets_no_roles_still_keeps_the_ids_when_scoring(tmp_path):
    """The ids of mlstat predict's output come from the model's roles: a hand-written fit
    that did not set them gave row numbers (and a missing column a KeyError)."""
    import pandas as pd

    from mlstat_core.predict import predict_file

    data = write_data(tmp_path)
    result = mlstat_core.run(pipeline(data, model="bad.unroled"), out=tmp_path / "runs",
                             registry=bad_registry())
    assert result.model.roles.id == "id" and result.model.classes_ == ["no", "yes"]
    out = tmp_path / "scored.csv"
    predict_file(result.run_dir, data, out, registry=bad_registry())
    assert pd.read_csv(out)["record_id"].tolist() == pd.read_csv(data)["id"].tolist()


def test_missing_predictions_and_labels_never_trained_on_are_warned_of(tmp_path):
    """Let through by the contract check (a record a model cannot score), they made a run
    whose figures looked complete, with no word."""
    import pandas as pd

    result = mlstat_core.run(pipeline(write_data(tmp_path), model="bad.strange"),
                             out=tmp_path / "runs", registry=bad_registry())
    predictions = pd.read_parquet(result.run_dir / "predictions.parquet")
    test = predictions[predictions["split"] == "test"]
    missing, odd = int(test["prediction"].isna().sum()), int((test["prediction"] == "maybe").sum())
    assert missing and odd
    (warning,) = [w for w in result.warnings if "test records of model" in w]
    assert f"of the {len(test)} test records of model bad.strange" in warning
    assert f"{missing} got no prediction (the model could not score them); {odd} got labels " \
        "it was never trained on (maybe): check its predict()" in warning
    clean = mlstat_core.run(pipeline(write_data(tmp_path)), out=tmp_path / "runs",
                            registry=bad_registry())
    assert not [w for w in clean.warnings if "test records of model" in w]


def test_whole_number_labels_read_as_floats_are_the_classes_they_are():
    """An int column that got a missing value is float: 1.0 is the class 1, as the accuracy
    figures read it, not a label never trained on."""
    import types

    import numpy as np
    import pandas as pd

    from mlstat_core.engine import unusable_labels
    from mlstat_core.tasks import TABULAR_CLASSIFICATION

    model = types.SimpleNamespace(classes_=[1, 2])
    predicted = pd.DataFrame({"prediction": [np.nan, 2.0, 2.0, 1.0]})
    warning = unusable_labels(predicted, model, TABULAR_CLASSIFICATION, "m")
    assert "1 got no prediction" in warning and "never trained on" not in warning
    predicted = pd.DataFrame({"prediction": [1.0, 3.0]})
    assert "got labels it was never trained on (3)" in \
        unusable_labels(predicted, model, TABULAR_CLASSIFICATION, "m")
    assert unusable_labels(pd.DataFrame({"prediction": [1, 2]}), model,
                           TABULAR_CLASSIFICATION, "m") is None


def test_a_loader_that_lists_no_sources_is_warned_of(tmp_path):
    """The run recorded no fingerprint of its input, and nothing said so."""
    data = write_data(tmp_path)
    cfg = pipeline(data, loader={"component": "bad.sourcelessloader", "path": str(data)})
    result = mlstat_core.run(cfg, out=tmp_path / "runs", registry=bad_registry())
    assert result.manifest["inputs"] == {}
    (warning,) = [w for w in result.warnings if "sources" in w]
    assert f"loader bad.sourcelessloader (distribution mlstat-bad) read {data} but listed no " \
        "file" in warning
    assert not [w for w in mlstat_core.run(pipeline(data), out=tmp_path / "runs",
                                           registry=bad_registry()).warnings if "sources" in w]


def test_a_predict_that_changes_its_input_fails_the_run_saying_so(tmp_path):
    """It was taken for a model whose predictions change from call to call (a warning), and
    the check of the saved model was skipped."""
    import pytest

    from mlstat_core.errors import ModelError

    with pytest.raises(ModelError, match=r"bad.mutates.*predict\(\) changed the frame it was "
                                         r"given .*frame = frame.copy\(\)"):
        mlstat_core.run(pipeline(write_data(tmp_path), model="bad.mutates"),
                        out=tmp_path / "runs", registry=bad_registry())


def test_load_model_holds_predict_to_one_row_per_record(write_pipeline, budget_csv,
                                                       monkeypatch):
    """The Python API's model let a predict() that dropped records through (mlstat predict
    refuses such a model); it now holds predict() to the contract as mlstat predict does."""
    import pandas as pd
    import pytest

    from mlstat_core.builtins.models import LogisticRegressionModel
    from mlstat_core.errors import ModelError

    result = mlstat_core.run(write_pipeline(model={"component": "core.logistic_regression"}))
    frame = pd.read_csv(budget_csv).head(5)
    model = mlstat_core.load_model(result.run_dir)
    assert model.predict(frame).index.tolist() == frame.index.tolist()
    own = LogisticRegressionModel.predict
    monkeypatch.setattr(LogisticRegressionModel, "predict",
                        lambda self, f: own(self, f).iloc[:-1])  # one record dropped
    with pytest.raises(ModelError, match="core.logistic_regression: predict"):
        mlstat_core.load_model(result.run_dir).predict(frame)
    with pytest.raises(Exception, match="lacks column"):  # a trained input named, as in predict
        mlstat_core.load_model(result.run_dir).predict(frame.drop(columns="income"))


def test_a_model_from_load_model_still_pickles_and_copies(write_pipeline, budget_csv):
    """Its checked predict is a partial of a module function (a closure did not pickle,
    which multiprocessing and joblib need), and a deep copy predicts with itself."""
    import copy
    import pickle

    import pandas as pd

    result = mlstat_core.run(write_pipeline(model={"component": "core.logistic_regression"}))
    model = mlstat_core.load_model(result.run_dir)
    frame = pd.read_csv(budget_csv).head(5)
    restored = pickle.loads(pickle.dumps(model))
    copied = copy.deepcopy(model)
    assert copied.predict.args[0] is copied and restored.predict.args[0] is restored
    assert restored.predict(frame).equals(model.predict(frame))
