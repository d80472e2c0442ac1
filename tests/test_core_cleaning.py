"""A saved model's text cleaning checked against the installed one (mlstat_core.cleaning)."""

from __future__ import annotations

import warnings

import pytest

from mlstat_core.cleaning import CleaningChangedWarning, check_cleaning, cleaning_sample


def upper(texts: list[str]) -> list[str]:
    return [t.upper() for t in texts]


def test_the_same_cleaning_passes_and_another_names_the_first_text_it_treats_otherwise():
    saved = cleaning_sample(upper, ["8,7 g", "ok"])
    assert saved == {"8,7 g": "8,7 G", "ok": "OK"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_cleaning(saved, upper, "the cleaning")
    with pytest.warns(CleaningChangedWarning) as caught:
        check_cleaning(saved, lambda ts: [t.upper().replace(",", ".") for t in ts],
                       "the cleaning of X")
    assert str(caught[0].message).startswith(
        "this model was trained with another version of the cleaning of X than the installed "
        "one: 1 of 2 sample texts are cleaned otherwise (for example '8,7 g' became '8,7 G' "
        "in training and becomes '8.7 G' now)")


def test_a_model_without_a_sample_says_what_changed_before_and_to_retrain():
    with pytest.warns(CleaningChangedWarning, match="keeps no sample of the cleaning of X "
                      r"\(it was trained before 2026-12-02\).*; amounts changed: retrain"):
        check_cleaning(None, upper, "the cleaning of X", "amounts changed")


def test_a_model_is_checked_once_however_many_chunks_it_scores():
    from types import SimpleNamespace

    from mlstat_core.cleaning import check_cleaning_once, mark_cleaning_checked

    model, inner = SimpleNamespace(), SimpleNamespace()
    with pytest.warns(CleaningChangedWarning):
        check_cleaning_once(model, None, upper, "the cleaning")
    mark_cleaning_checked(inner)  # its owner has warned for both
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_cleaning_once(model, None, upper, "the cleaning")  # the next chunk
        check_cleaning_once(inner, None, upper, "the cleaning")
