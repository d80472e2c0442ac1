"""`mlstat validate` names a missing data file or code list of the coding loaders, with the
path resolved from the pipeline file's folder, before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstat_core.config import load_config
from mlstat_core.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def issues(path: Path, *overrides: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, list(overrides), cli=True)
    return {i.field: i.message for i in info.value.issues}


def test_the_examples_validate():
    for name in ("coding-occupations.toml", "coding-ecoicop.toml"):
        load_config(EXAMPLES / name)


def test_a_wrong_data_path_fails_validation_naming_the_field():
    found = issues(EXAMPLES / "coding-occupations.toml", "loader.path=data/occupation.csv")
    assert list(found) == ["loader.path"]
    assert str(EXAMPLES / "data" / "occupation.csv") in found["loader.path"]


def test_a_wrong_code_list_fails_validation_naming_the_field():
    found = issues(EXAMPLES / "coding-ecoicop.toml", "loader.code_list=codes.csv")
    assert str(EXAMPLES / "codes.csv") in found["loader.code_list"]


def test_the_hierarchy_indicators_code_list_is_checked(tmp_path):
    text = (EXAMPLES / "coding-ecoicop.toml").read_text(encoding="utf-8").replace(
        'component = "coding.hierarchical_accuracy"',
        'component = "coding.hierarchical_accuracy"\ncode_list = "codes.csv"')
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    found = issues(path)
    [field] = [f for f in found if f.endswith(".code_list")]
    assert field.startswith("indicators[") and str(tmp_path / "codes.csv") in found[field]
