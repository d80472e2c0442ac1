import json
import re

import pandas as pd
import pytest
from conftest import build
from mlstat_coding.indicators import AutoCoding, HierarchicalAccuracy
from mlstat_coding.params import AutocodingParams, HierarchyParams
from mlstat_coding.queue import main, write_manual_queue

from mlstat_core.components import AssessContext, Dataset
from mlstat_core.errors import DataError
from mlstat_core.tasks import TEXT_CLASSIFICATION


@pytest.fixture(scope="module")
def coder(parts):
    """A coding model (the linear SVM: these checks hold for any, and it fits in a second)."""
    train, validation, _ = parts
    return build("linear_svm").fit(train, validation)


def context(model, parts, test=None):
    train, validation, default_test = parts
    test = test or default_test
    return AssessContext(task=TEXT_CLASSIFICATION, model=model, train=train, test=test,
                         validation=validation, predictions=model.predict(test.frame))


def by_name(results):
    return {r.name: r for r in results}


def test_hierarchical_accuracy_per_level(coder, parts):
    results = by_name(HierarchicalAccuracy(HierarchyParams()).compute(context(coder, parts)))
    assert "warnings" not in results["unseen_codes"].details  # nothing to warn of
    levels = [results[f"level_accuracy_{k}"].value for k in (1, 2, 3, 4)]
    assert levels[0] == 1.0  # one division
    assert levels == sorted(levels, reverse=True)
    assert results["level_accuracy_1"].details["source"] == "code list"
    assert results["unseen_codes"].value == 0


def test_unknown_code_in_new_data_is_reported(coder, parts):
    _, _, test = parts
    frame = test.frame.copy()
    frame.loc[frame.index[0], "code"] = "01.1.9.8"
    new = Dataset(frame, test.roles, metadata=test.metadata)
    results = by_name(HierarchicalAccuracy(HierarchyParams()).compute(
        context(coder, parts, new)))
    assert results["unseen_codes"].value == 1
    # a status the report knows ("warning" hid the value); the problem is a warning it shows
    assert results["unseen_codes"].status == "ok"
    assert results["unseen_codes"].details["better"] == "lower"
    assert results["unseen_codes"].details["codes"] == ["01.1.9.8"]
    assert results["unseen_codes"].details["not_in_code_list"] == ["01.1.9.8"]
    assert results["unseen_codes"].details["warnings"] == [
        "1 test record with 1 code never seen in training (01.1.9.8): the model cannot "
        "predict them; add training examples of these codes",
        "1 code of the test records not in the code list (01.1.9.8): check the code list and "
        "the data"]
    assert all(r.status == "ok" for r in results.values())


def test_autocoding_indicator_uses_the_stored_threshold(coder, parts):
    ctx = context(coder, parts)
    results = by_name(AutoCoding(AutocodingParams()).compute(ctx))
    share = results["autocoding_share"]
    auto = ctx.predictions["route"] == "auto"
    assert share.value == pytest.approx(auto.mean())
    assert share.details["threshold"] == coder.extra_state["threshold"]
    curve = share.details["curve"]
    assert len(curve["threshold"]) == 101 and curve["share"][0] == 1.0
    assert curve["share"] == sorted(curve["share"], reverse=True)
    assert results["autocoding_accuracy"].value == pytest.approx(
        (ctx.predictions.loc[auto, "prediction"] == ctx.y_true[auto]).mean())
    assert share.plots and share.plots[0].kind == "line"
    # the report draws it (it showed "This plot could not be drawn: TypeError ...")
    from mlstat_core.artifacts import to_jsonable
    from mlstat_core.report.plots import render_plot

    drawn = render_plot(to_jsonable(share.plots[0].__dict__), "t")
    assert "<svg" in drawn and "could not be drawn" not in drawn


def test_autocoding_is_skipped_for_a_model_that_does_not_route(coder, parts):
    """A model without routes or a threshold (a sentiment model on a coding base, say) gets
    'skipped', not a share of 0 marked ok."""

    class Unrouted:
        extra_state: dict = {}

    ctx = context(coder, parts)
    ctx.predictions = ctx.predictions.drop(columns=["route"])
    ctx.model = Unrouted()
    results = by_name(AutoCoding(AutocodingParams()).compute(ctx))
    assert {r.status for r in results.values()} == {"skipped"}
    assert results["autocoding_share"].value is None
    assert "does not route" in results["autocoding_share"].explanation


def test_autocoding_is_skipped_without_confidence_and_says_why(coder, parts):
    ctx = context(coder, parts)
    ctx.predictions = ctx.predictions.drop(columns=["confidence", "margin"], errors="ignore")
    results = by_name(AutoCoding(AutocodingParams()).compute(ctx))
    assert set(results) == {"autocoding_share", "autocoding_accuracy"}
    assert {r.status for r in results.values()} == {"skipped"}
    assert all("no confidence column" in r.explanation for r in results.values())


def test_manual_queue_lists_suggestions_with_labels(coder, parts, tmp_path):
    _, _, test = parts
    preds = coder.predict(test.frame)
    n = write_manual_queue(preds, test.frame, tmp_path / "queue.csv", coder.hierarchy,
                           text_columns=["product"])
    queue = pd.read_csv(tmp_path / "queue.csv", dtype=str)
    assert n == (preds["route"] == "manual").sum() == len(queue)
    assert {"record", "text", "reason", "suggestion_1_code", "suggestion_1_label",
            "suggestion_5_score", "final_code"} <= set(queue.columns)
    first = queue.iloc[0]
    assert first["suggestion_1_label"] == coder.hierarchy.label(first["suggestion_1_code"])
    with pytest.raises(DataError, match="coding"):
        write_manual_queue(preds[["prediction"]], test.frame, tmp_path / "x.csv")


def test_queue_csv_has_the_byte_order_mark_excel_needs_for_utf8(coder, parts, tmp_path):
    """Excel opens a CSV without a BOM in the local code page: Џем and żółty garbled."""
    _, _, test = parts
    frame = test.frame.copy()
    frame["product"] = "Џем żółty"
    write_manual_queue(coder.predict(frame), frame, tmp_path / "queue.csv",
                       coder.hierarchy, text_columns=["product"], all_records=True)
    raw = (tmp_path / "queue.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfrecord,")
    queue = pd.read_csv(tmp_path / "queue.csv", dtype=str)  # pandas skips the mark
    assert queue.columns[0] == "record" and set(queue["text"]) == {"Џем żółty"}


def test_manual_queue_names_the_fallback_class_for_the_coder(parts, tmp_path):
    """With fallback_level, the coder sees the higher-level class by its label, not only its
    code."""
    train, validation, test = parts
    model = build("linear_svm", fallback_level=3).fit(train, validation)
    preds = model.predict(test.frame)
    write_manual_queue(preds, test.frame, tmp_path / "queue.csv", model.hierarchy,
                       text_columns=["product"])
    queue = pd.read_csv(tmp_path / "queue.csv", dtype=str, keep_default_na=False)
    assert len(queue) and list(queue.columns).index("fallback_label") == \
        list(queue.columns).index("fallback_code") + 1
    for code, label in zip(queue["fallback_code"], queue["fallback_label"], strict=True):
        assert label == model.hierarchy.label(code) and label != code


def test_queue_command_from_a_run_folder(coder, parts, tmp_path, capsys):
    from mlstat_core.artifacts import RunFolder

    _, _, test = parts
    run = RunFolder.create(tmp_path, "coding")
    coder.save(run.model_dir)
    run.record_tree("model")
    run.finish("succeeded", model={"component": "coding.linear_svm"})  # as the engine does
    records = test.frame.drop(columns=["code", "category"]).head(200).copy()
    records.loc[records.index[0], "product"] = ""
    records.insert(0, "rid", [f"r{i}" for i in range(len(records))])
    records.to_csv(tmp_path / "new.csv", index=False)
    code = main([str(run.path), "--input", str(tmp_path / "new.csv"), "--output",
                 str(tmp_path / "queue.csv"), "--id", "rid"])
    assert code == 0, capsys.readouterr().err
    queue = pd.read_csv(tmp_path / "queue.csv", dtype=str, keep_default_na=False)
    assert "r0" in set(queue["record"])
    assert queue.set_index("record").loc["r0", "reason"] == "empty text"
    assert "to manual coding" in capsys.readouterr().out
    # a tampered model file is refused, with a message and exit code 2
    (run.model_dir / "state.json").write_text(json.dumps({"class": "x:y"}))
    assert main([str(run.path), "--input", str(tmp_path / "new.csv"), "--output",
                 str(tmp_path / "q2.csv")]) == 2
    assert "SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "q2.csv").exists()


def test_queue_command_never_overwrites_the_input_or_a_run_folder(tmp_path, capsys):
    """Checked before the model is loaded: the run folder need not even exist."""
    records = tmp_path / "new.csv"
    records.write_text("rid,product\nr0,apples\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"run_id": "r", "status": "succeeded"}))
    cases = [(["--output", str(records)], "--output .* is the input file"),
             (["--output", str(tmp_path / "q.csv"), "--predictions", str(records)],
              "--predictions .* is the input file"),
             (["--output", str(run / "q.csv")], "inside the run folder"),
             (["--output", str(tmp_path / "q.csv"), "--predictions", str(run / "p.csv")],
              "--predictions .* inside the run folder"),
             (["--output", str(tmp_path / "q.csv"), "--predictions", str(tmp_path / "q.csv")],
              "also the --output file")]
    for options, message in cases:
        assert main([str(tmp_path / "no-run"), "--input", str(records), *options]) == 2
        assert re.search(message, capsys.readouterr().err), options
    assert records.read_text() == "rid,product\nr0,apples\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv", "run"]
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json"]


def test_auto_coding_accuracy_below_target_is_ok_with_a_warning_the_report_shows():
    """It was status "warning": the report hid its value (0.462 against a 90% target)."""
    from mlstat_coding.indicators import accuracy_details

    from mlstat_core.components import IndicatorResult
    from mlstat_core.report import build_report
    from mlstat_core.report.html import render_report_html

    short = accuracy_details(0.462, 0.9, 13)
    assert short["better"] == "higher" and short["target_accuracy"] == 0.9
    [warning] = short["warnings"]
    assert warning.startswith("46.2% of the 13 automatically coded test records are right, "
                              "well below the target accuracy 90%")
    assert "warnings" not in accuracy_details(0.89, 0.9, 13)  # near the target: no warning
    assert "warnings" not in accuracy_details(None, 0.9, 0)
    page = render_report_html(build_report([IndicatorResult(
        "autocoding_accuracy", "accuracy", 0.462, explanation="...", details=short)], {}, {}))
    assert "<strong>0.462</strong>" in page and "46.2% of the 13" in page
    assert "1</strong> with warnings" in page


def test_autocoding_results_have_a_known_status_and_direction(coder, parts):
    results = by_name(AutoCoding(AutocodingParams()).compute(context(coder, parts)))
    assert {r.status for r in results.values()} == {"ok"}
    assert results["autocoding_accuracy"].details["better"] == "higher"
    assert results["autocoding_share"].details["better"] == "higher"


def test_levels_from_prefixes_without_a_separator_are_described():
    """The explanation said "code prefixes split on ''"."""
    from mlstat_coding.indicators import level_source

    assert level_source("") == "code prefixes, one character a level: 2512 is 2, 25, 251, 2512"
    assert "split on ''" not in level_source("")
    assert level_source(".") == "code prefixes split on '.': 01.1.5 is 01, 01.1, 01.1.5"
