"""The params of the imagery components: what a hand-edited pipeline file is told."""

from __future__ import annotations

import pytest
from mlstat_imagery.params import ContextForestParams, ImageryForestParams
from pydantic import ValidationError

from mlstat_core.registry import issues_from_validation


def issue_of(model: type, params: dict) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(params)
    (issue,) = issues_from_validation(info.value, "model", "p.toml")
    return str(issue)


@pytest.mark.parametrize("value", ["vc", "argmx", True, 1.5, 0])
def test_a_wrong_threshold_is_one_message_at_the_threshold(value):
    text = issue_of(ContextForestParams, {"threshold": value})
    assert text.startswith("p.toml: [model.threshold] ")
    assert "{" not in text  # not the whole table echoed back


def test_a_misspelt_threshold_rule_gets_the_closest_rule():
    assert "did you mean 'argmax'" in issue_of(ImageryForestParams, {"threshold": "argmx"})


def test_valid_thresholds_are_kept():
    assert ContextForestParams(threshold=0.3).threshold == 0.3
    assert ContextForestParams(threshold="validation").threshold == "validation"


def test_even_context_windows_are_named_at_their_field():
    assert issue_of(ContextForestParams, {"context_windows": [4]}).startswith(
        "p.toml: [model.context_windows] ")
