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
