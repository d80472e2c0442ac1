"""`mlstat validate` names a missing microdata or metadata file of editimpute.survey."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "editimpute-budget-uk.toml"
SURVEY = "loader.component=editimpute.survey"


def issues(*overrides: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(EXAMPLE, list(overrides), cli=True)
    return {i.field: i.message for i in info.value.issues}


def test_the_example_read_as_a_survey_file_validates():
    load_config(EXAMPLE, [SURVEY, "loader.path=data/budget_uk.csv"])


def test_a_wrong_path_fails_validation_naming_the_field():
    found = issues(SURVEY, "loader.path=data/budget.csv")
    assert list(found) == ["loader.path"]
    assert str(EXAMPLE.parent / "data" / "budget.csv") in found["loader.path"]


def test_a_wrong_metadata_file_fails_validation_naming_the_field():
    found = issues(SURVEY, "loader.path=data/budget_uk.csv", "loader.metadata=meta.csv")
    assert str(EXAMPLE.parent / "meta.csv") in found["loader.metadata"]
